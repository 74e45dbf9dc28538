/*
 * accounts.c: a new user's and a new API token's records, made the same
 * way by the program and the admin tool. Pure: the caller stores them.
 */
#ifndef MH_ACCOUNTS_H
#define MH_ACCOUNTS_H

#include "db/store.h"

/* A new user of that name and role into *u: created now, of a random
 * first generation; no password yet. */
void mh_user_init(struct mh_user *u, const char *name, enum mh_role role);
/* A new token of that name and scopes: its text into token (shown once),
 * its record, which keeps only the text's SHA-256, into *t. 0, or -1 when
 * no random bytes could be had. */
int mh_token_new(const char *name, unsigned scopes,
    char token[MH_TOKEN_LEN + 1], struct mh_token *t);

#endif

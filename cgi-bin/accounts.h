/*
 * accounts.c: what the program and the admin tool both do to the
 * accounts. Needs storage: only programs that link it include this.
 */
#ifndef MH_ACCOUNTS_H
#define MH_ACCOUNTS_H

#include "../db/store.h"

/* Where the first admin's generated password is written, in the data
 * directory. */
#define MH_ADMIN_PASSWORD_FILE "initial-admin-password"
#define MH_FIRST_ADMIN_FILE 1	/* made, its password in the file */
#define MH_FIRST_ADMIN_GIVEN 2	/* made, with the password given */

/* A new user of that name and role into *u: created now, of a random
 * first generation; no password yet. */
void mh_user_init(struct mh_user *u, const char *name, enum mh_role role);
/* Makes the user admin (role admin) when the site has no user at all:
 * with password when given (MAILHOOKS_ADMIN_PASSWORD), else with a random
 * one written to home/initial-admin-password (mode 0600). 0 when there
 * were users, MH_FIRST_ADMIN_*, or -1. */
int mh_first_admin(struct mh_store *st, const char *home,
    const char *password);
/* Issues a token of that name and scopes: its text into token (shown
 * once: only its SHA-256 is kept). MH_STORE_EXISTS when the name is
 * taken. */
enum mh_store_err mh_token_issue(struct mh_store *st, const char *name,
    unsigned scopes, char token[MH_TOKEN_LEN + 1]);

#endif

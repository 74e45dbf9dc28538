/*
 * A new user's and a new API token's records: what the program and the
 * admin tool both make before they store them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "accounts.h"

void
mh_user_init(struct mh_user *u, const char *name, enum mh_role role)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->role = role;
	u->created = (int64_t)time(NULL);
	/* A user deleted and made again in the same second is another: a
	 * session of the first does not match the second's generation. */
	if (mh_random(&u->generation, sizeof(u->generation)) != 0)
		u->generation = (uint32_t)getpid() ^ (uint32_t)u->created;
}

int
mh_token_new(const char *name, unsigned scopes,
    char token[MH_TOKEN_LEN + 1], struct mh_token *t)
{
	memset(t, 0, sizeof(*t));
	if (mh_secret_new(MH_TOKEN_PREFIX, token, MH_TOKEN_LEN + 1) != 0)
		return -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->scopes = scopes;
	t->created = (int64_t)time(NULL);
	mh_sha256(token, strlen(token), t->hash);
	return 0;
}

/*
 * mailhooks-db token: API tokens for programs. add NAME --scope LIST
 * prints the token once (only its SHA-256 is kept), list shows them
 * (name, scopes, created, last used), revoke NAME ends one at once.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "core/core.h"
#include "core/accounts.h"

static int
mh_token_print(void *ctx, const struct mh_token *t)
{
	char scopes[160], created[32], used[32];

	(void)ctx;
	mh_scopes_format(t->scopes, scopes, sizeof(scopes));
	mh_iso_from_ms(t->created * 1000, created);
	mh_iso_from_ms(t->last_used * 1000, used);
	/* Names are letters, digits and ._@-: nothing to escape. */
	printf("{\"name\":\"%s\",\"scopes\":\"%s\",\"created\":\"%s\","
	    "\"last_used\":%s%s%s}\n", t->name, scopes, created,
	    t->last_used ? "\"" : "", t->last_used ? used : "null",
	    t->last_used ? "\"" : "");
	return 0;
}

static int
mh_token_usage(void)
{
	fputs("mailhooks-db: token add NAME --scope LIST, token list, or "
	    "token revoke NAME (--help says more)\n", stderr);
	return 2;
}

static int
mh_token_add(struct mh_cmd_ctx *c)
{
	char token[MH_TOKEN_LEN + 1];
	const char *name = c->argc > 1 ? c->argv[1] : NULL;
	struct mh_token t;
	enum mh_store_err err;
	unsigned scopes;

	if (c->argc != 4 || strcmp(c->argv[2], "--scope") != 0 ||
	    !mh_user_name_ok(name))
		return mh_token_usage();
	if (mh_scopes_parse(c->argv[3], &scopes) != 0) {
		fputs("mailhooks-db: scopes are events:read, "
		    "notifications:write, mail:send, campaigns:write and "
		    "metrics:read, comma separated\n", stderr);
		return 2;
	}
	err = mh_token_new(name, scopes, token, &t) != 0 ? MH_STORE_FAILED :
	    mh_store_token_add(c->st, &t);
	if (err != MH_STORE_OK) {
		explicit_bzero(token, sizeof(token));
		if (err == MH_STORE_EXISTS)
			fprintf(stderr, "mailhooks-db: a token named %s "
			    "exists\n", name);
		else
			fprintf(stderr, "mailhooks-db: storage failed (%d)\n",
			    (int)err);
		return 1;
	}
	printf("%s\n", token);
	explicit_bzero(token, sizeof(token));
	fprintf(stderr, "mailhooks-db: token %s added; it is shown this once "
	    "(send it as Authorization: Bearer TOKEN)\n", name);
	return 0;
}

int
cmd_token(struct mh_cmd_ctx *c)
{
	const char *sub = c->argv[0];
	enum mh_store_err err;

	if (strcmp(sub, "add") == 0)
		return mh_token_add(c);
	if (strcmp(sub, "list") == 0 && c->argc == 1)
		return mh_store_tokens(c->st, mh_token_print, NULL) ==
		    MH_STORE_OK ? 0 : 1;
	if (strcmp(sub, "revoke") != 0 || c->argc != 2)
		return mh_token_usage();
	if ((err = mh_store_token_revoke(c->st, c->argv[1])) != MH_STORE_OK) {
		if (err == MH_STORE_NOTFOUND)
			fprintf(stderr, "mailhooks-db: no token %s\n",
			    c->argv[1]);
		else
			fprintf(stderr, "mailhooks-db: storage failed (%d)\n",
			    (int)err);
		return 1;
	}
	fprintf(stderr, "mailhooks-db: token %s revoked\n", c->argv[1]);
	return 0;
}

/*
 * The storage layer's accounts: users, their sessions, API tokens and
 * failed sign-ins (included by store.h). Each table keeps what the
 * application hands it; what a session id, a token or a password is,
 * and whether one is still good, the application decides.
 */
#ifndef MH_STORE_ACCOUNTS_H
#define MH_STORE_ACCOUNTS_H

#include <stdint.h>

/* --- users.c: the accounts. */
#define MH_USER_NAME_MAX 64
#define MH_PASSWORD_HASH_MAX 255
enum mh_role { MH_ROLE_VIEWER = 0, MH_ROLE_ADMIN = 1 };
struct mh_user {
	char name[MH_USER_NAME_MAX + 1];
	enum mh_role role;
	int disabled;
	int64_t created;	/* Unix seconds */
	/* Grows with each change that ends the user's sessions (a new
	 * password or role, disabling); a session keeps the one it began
	 * under. */
	uint32_t generation;
	char hash[MH_PASSWORD_HASH_MAX + 1];	/* crypt(3)'s, yescrypt */
};
/* Adds u (generation as given); MH_STORE_EXISTS when the name is taken
 * or, with first, when there is any user at all. */
enum mh_store_err mh_store_user_add(struct mh_store *st,
    const struct mh_user *u, int first);
/* The user of that name into *u; MH_STORE_NOTFOUND when none. */
enum mh_store_err mh_store_user_get(struct mh_store *st, const char *name,
    struct mh_user *u);
enum mh_user_change {
	MH_USER_PASSWORD,	/* to u->hash */
	MH_USER_ROLE,		/* to u->role */
	MH_USER_DISABLE,
	MH_USER_ENABLE,
	MH_USER_DELETE,
};
/* Changes the user of that name as change says (the new hash or role
 * given in *u), growing its generation; *u is then the user as stored.
 * MH_STORE_NOTFOUND when none. */
enum mh_store_err mh_store_user_change(struct mh_store *st, const char *name,
    enum mh_user_change change, struct mh_user *u);
/* Called for each user, by name; non-zero stops. */
typedef int (*mh_user_fn)(void *ctx, const struct mh_user *u);
enum mh_store_err mh_store_users(struct mh_store *st, mh_user_fn fn,
    void *ctx);

/* --- sessions.c: who is signed in, by the SHA-256 of the session id
 * (the id itself is only in the browser's cookie). */
#define MH_KEY_HASH_LEN 32
struct mh_session {
	unsigned char key[MH_KEY_HASH_LEN];
	char user[MH_USER_NAME_MAX + 1];
	uint32_t generation;	/* the user's when it began */
	int64_t user_created;	/* and the user's creation: a user deleted
				 * and made again is another */
	int64_t created, seen;	/* Unix seconds: begun, last used */
};
/* A user's sessions at once, at most: a sign-in past them ends the oldest
 * (one viewer signing in in a loop made 13 500 in three minutes). */
#define MH_SESSIONS_PER_USER 20
/* Adds s, flushed, ending its user's oldest past MH_SESSIONS_PER_USER. */
enum mh_store_err mh_store_session_add(struct mh_store *st,
    const struct mh_session *s);
/* The session of that key into *s; MH_STORE_NOTFOUND. */
enum mh_store_err mh_store_session_get(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN], struct mh_session *s);
/* Notes that the session was used at now, unflushed (losing the note in
 * a crash only shortens the session); MH_STORE_NOTFOUND when it ended. */
enum mh_store_err mh_store_session_seen(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN], int64_t now);
/* Ends it, flushed; MH_STORE_NOTFOUND when there was none. */
enum mh_store_err mh_store_session_end(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN]);
/* Ends the sessions last used before idle_before or begun before
 * created_before (at most a thousand a call). */
enum mh_store_err mh_store_sessions_prune(struct mh_store *st,
    int64_t idle_before, int64_t created_before);

/* --- tokens.c: API tokens, by the SHA-256 of the token. */
struct mh_token {
	unsigned char hash[MH_KEY_HASH_LEN];
	char name[MH_USER_NAME_MAX + 1];
	unsigned scopes;	/* the application's scope bits */
	int64_t created, last_used;	/* Unix seconds; 0: never used */
};
/* Adds t; MH_STORE_EXISTS when a token has its name. */
enum mh_store_err mh_store_token_add(struct mh_store *st,
    const struct mh_token *t);
/* The token of that hash into *t; MH_STORE_NOTFOUND. */
enum mh_store_err mh_store_token_get(struct mh_store *st,
    const unsigned char hash[MH_KEY_HASH_LEN], struct mh_token *t);
/* Notes its use at now, unflushed. */
enum mh_store_err mh_store_token_used(struct mh_store *st,
    const unsigned char hash[MH_KEY_HASH_LEN], int64_t now);
/* Revokes the token of that name; MH_STORE_NOTFOUND when none. */
enum mh_store_err mh_store_token_revoke(struct mh_store *st,
    const char *name);
/* Called for each token (by hash: in no order a reader would want);
 * non-zero stops. */
typedef int (*mh_token_fn)(void *ctx, const struct mh_token *t);
enum mh_store_err mh_store_tokens(struct mh_store *st, mh_token_fn fn,
    void *ctx);

/* --- signin.c: failed sign-ins, counted by a key the application makes
 * (a user's name, an address). */
#define MH_SIGNIN_KEY_MAX 128
struct mh_signin {
	uint32_t failures;	/* in a row */
	int64_t last;		/* the last one, in the caller's clock (the
				 * program's: Unix milliseconds) */
};
/* The count of that key into *s (zero when none). */
enum mh_store_err mh_store_signin_get(struct mh_store *st, const char *key,
    struct mh_signin *s);
/* Counts one more failure at now, starting again from one when the last
 * was before forget_before; *s is then the count as stored. */
enum mh_store_err mh_store_signin_failed(struct mh_store *st,
    const char *key, int64_t now, int64_t forget_before, struct mh_signin *s);
/* Forgets the key's failures. */
enum mh_store_err mh_store_signin_clear(struct mh_store *st, const char *key);

#endif

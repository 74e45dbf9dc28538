/*
 * /api/session: signing in (POST {"user","password"}: a session in an
 * HttpOnly, SameSite=Strict cookie), who is signed in (GET), signing out
 * (DELETE). Every sign-in, failure and sign-out is logged with the user
 * and the address. The answer to a failure never tells whether the user
 * exists: an unknown name costs the same hash as a wrong password.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* Seconds between two walks of the sessions for those that ended. */
#define MH_SESSIONS_PRUNE_EVERY 60

/* A sign-in's body is small; anything larger is not one. */
#define MH_SIGNIN_BODY_MAX 4096
/* What an unknown user's password is checked against: a yescrypt hash of
 * nothing anybody knows, so that it costs what a real check does. */
static const char mh_nobody_hash[] =
    "$y$j9T$7RZDPv7e0/cD3rALi9Oit.$rn5krl9WnX1pAxITOjd4Hf7vGCpxqB52BQxpW0OJ4S1";

static const char *
mh_role_name(const struct mh_identity *who)
{
	return who->kind == MH_WHO_TOKEN ? "token" :
	    who->admin ? "admin" : "viewer";
}

static void
mh_session_cookie(struct mh_app *app, struct mh_request *r, const char *value,
    int64_t max_age)
{
	mh_respond_header(r, "Set-Cookie: %s=%s; Max-Age=%lld; Path=/; "
	    "HttpOnly; SameSite=Strict%s", MH_SESSION_COOKIE, value,
	    (long long)max_age, mh_site_https(app->cfg, r) ? "; Secure" : "");
}

static void
mh_answer_who(struct mh_request *r, int status, const struct mh_identity *who)
{
	struct json_object *o = json_object_new_object();
	static const char *const via[] = { "nobody", "session", "token",
	    "remote_user" };

	json_object_object_add(o, "user", json_object_new_string(who->name));
	json_object_object_add(o, "role",
	    json_object_new_string(mh_role_name(who)));
	json_object_object_add(o, "via",
	    json_object_new_string(via[who->kind]));
	mh_respond_json(r, status, mh_json_text(o));
	json_object_put(o);
}

/* Begins a session for u and answers it. */
static void
mh_session_begin(struct mh_app *app, struct mh_request *r,
    const struct mh_user *u)
{
	char id[MH_SECRET_B64 + 1];
	int64_t now = (int64_t)time(NULL);
	struct mh_session s;
	struct mh_identity who = { 0 };
	enum mh_store_err err;

	memset(&s, 0, sizeof(s));
	if (mh_secret_new("", id, sizeof(id)) != 0) {
		mh_respond_error(r, MH_ERR_UNAVAILABLE, "no random bytes");
		return;
	}
	mh_sha256(id, strlen(id), s.key);
	snprintf(s.user, sizeof(s.user), "%s", u->name);
	s.generation = u->generation;
	s.user_created = u->created;
	s.created = s.seen = now;
	/* The sessions that ended by themselves go as new ones begin: a walk
	 * of them all, so once a minute at most (one a sign-in was a walk of
	 * 13 500 in a write transaction for each of a viewer's loop). */
	if (now - app->sessions_pruned >= MH_SESSIONS_PRUNE_EVERY) {
		app->sessions_pruned = now;
		mh_store_sessions_prune(app->store, now -
		    app->cfg->session_idle, now - MH_SESSION_MAX);
	}
	if ((err = mh_store_session_add(app->store, &s)) != MH_STORE_OK) {
		explicit_bzero(id, sizeof(id));
		mh_respond_store_error(r, err);
		return;
	}
	mh_session_cookie(app, r, id, MH_SESSION_MAX);
	explicit_bzero(id, sizeof(id));
	who.kind = MH_WHO_SESSION;
	snprintf(who.name, sizeof(who.name), "%s", u->name);
	who.admin = u->role == MH_ROLE_ADMIN;
	mh_log(r, "sign-in user=%s addr=%s", u->name,
	    mh_param(r, "REMOTE_ADDR") ? mh_param(r, "REMOTE_ADDR") : "-");
	mh_answer_who(r, 200, &who);
}

/* Whether the password is the user's, an enabled one; *u is read. */
static int
mh_password_good(struct mh_app *app, struct mh_request *r, const char *user,
    const char *password, struct mh_user *u)
{
	enum mh_store_err err = mh_store_user_get(app->store, user, u);

	if (err != MH_STORE_OK && err != MH_STORE_NOTFOUND) {
		mh_respond_store_error(r, err);
		return -1;
	}
	if (err == MH_STORE_NOTFOUND) {
		mh_password_check(password, mh_nobody_hash);
		return 0;
	}
	return mh_password_check(password, u->hash) && !u->disabled;
}

void
mh_api_sign_in(struct mh_app *app, struct mh_request *r)
{
	const char *user, *password, *addr = mh_param(r, "REMOTE_ADDR");
	struct json_object *body = NULL;
	struct mh_user u;
	int good;

	/* A browser sends its Origin with every POST: another site's page
	 * may not sign its visitor in to this one. */
	if ((mh_param(r, "HTTP_ORIGIN") != NULL ||
	    mh_param(r, "HTTP_REFERER") != NULL) && !mh_same_site(app, r))
		return;
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return;
	}
	if (mh_json_body(r, MH_SIGNIN_BODY_MAX, &body) != 0)
		return;
	if ((user = mh_json_field(r, body, "user", MH_USER_NAME_MAX)) == NULL ||
	    (password = mh_json_field(r, body, "password",
	    MH_PASSWORD_MAX)) == NULL)
		goto out;
	if (!mh_user_name_ok(user)) {
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "a user name is 1 to "
		    "64 letters, digits and ._@-");
		goto out;
	}
	if (mh_throttle_check(app, r, user) != 0)
		goto out;
	if ((good = mh_password_good(app, r, user, password, &u)) < 0)
		goto out;
	if (!good) {
		mh_throttle_failed(app, r, user);
		mh_log(r, "sign-in failed user=%s addr=%s", user,
		    addr ? addr : "-");
		mh_respond_error(r, MH_ERR_UNAUTHORIZED,
		    "the user name or the password is wrong");
		goto out;
	}
	mh_throttle_passed(app, r, user);
	mh_session_begin(app, r, &u);
out:
	json_object_put(body);
}

void
mh_api_sign_out(struct mh_app *app, struct mh_request *r)
{
	const char *addr = mh_param(r, "REMOTE_ADDR");
	enum mh_store_err err;

	if (mh_identify(app, r) != 0)
		return;
	if (r->who.kind != MH_WHO_SESSION) {
		mh_session_cookie(app, r, "", 0);
		mh_respond_error(r, MH_ERR_UNAUTHORIZED, "no session to end "
		    "(sign-out ends a session begun with POST /api/session)");
		return;
	}
	if (!mh_same_site(app, r))
		return;
	err = mh_store_session_end(app->store, r->who.key);
	if (err != MH_STORE_OK && err != MH_STORE_NOTFOUND) {
		mh_respond_store_error(r, err);
		return;
	}
	mh_log(r, "sign-out user=%s addr=%s", r->who.name, addr ? addr : "-");
	mh_session_cookie(app, r, "", 0);
	mh_answer_who(r, 200, &r->who);
}

void
mh_api_session(struct mh_app *app, struct mh_request *r)
{
	if (mh_identify(app, r) != 0)
		return;
	if (r->who.kind == MH_WHO_NOBODY) {
		mh_respond_error(r, MH_ERR_UNAUTHORIZED, "nobody is signed in");
		return;
	}
	mh_answer_who(r, 200, &r->who);
}

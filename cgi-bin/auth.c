/*
 * Who is asking, and whether they may: an API token (Authorization:
 * Bearer), else the session cookie, else, where the web server
 * authenticated the user and the settings say to trust it, REMOTE_USER.
 * The route table says what each route needs (route.c); a request that
 * changes state with a session cookie must come from a page of the site.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mailhooks.h"
#include "core/accounts.h"

/* A session's last use is written down at most this often. */
#define MH_SEEN_EVERY 60

static unsigned
mh_role_scopes(enum mh_role role)
{
	/* A viewer's own notifications are theirs without a scope (the
	 * handlers check whose they are). */
	return role == MH_ROLE_ADMIN ? MH_SCOPES_ALL : MH_SCOPE_EVENTS_READ;
}

static void
mh_identity_user(struct mh_identity *who, enum mh_who kind,
    const struct mh_user *u)
{
	who->kind = kind;
	snprintf(who->name, sizeof(who->name), "%s", u->name);
	who->admin = u->role == MH_ROLE_ADMIN;
	who->scopes = mh_role_scopes(u->role);
}

/* The session of the cookie's value into r->who, when it is one that is
 * still good; one that ended is deleted. -1 on a storage error. */
static int
mh_session_identify(struct mh_app *app, struct mh_request *r,
    const char *value)
{
	int64_t now = (int64_t)time(NULL);
	struct mh_session s;
	struct mh_user u;
	enum mh_store_err err;

	if (!mh_secret_shaped(value, ""))
		return 0;
	mh_sha256(value, strlen(value), s.key);
	if ((err = mh_store_session_get(app->store, s.key, &s)) != MH_STORE_OK)
		return err == MH_STORE_NOTFOUND ? 0 : -1;
	err = mh_store_user_get(app->store, s.user, &u);
	if (err != MH_STORE_OK && err != MH_STORE_NOTFOUND)
		return -1;
	if (err == MH_STORE_NOTFOUND || u.disabled ||
	    u.generation != s.generation || u.created != s.user_created ||
	    now - s.seen >= app->cfg->session_idle ||
	    now - s.created >= MH_SESSION_MAX) {
		mh_store_session_end(app->store, s.key);
		return 0;
	}
	if (now - s.seen >= MH_SEEN_EVERY)
		mh_store_session_seen(app->store, s.key, now);
	mh_identity_user(&r->who, MH_WHO_SESSION, &u);
	memcpy(r->who.key, s.key, MH_HASH_LEN);
	return 0;
}

/* The API token into r->who; 1 when it is none this site issued (or it
 * was revoked), -1 on a storage error. */
static int
mh_token_identify(struct mh_app *app, struct mh_request *r,
    const char *token)
{
	int64_t now = (int64_t)time(NULL);
	unsigned char hash[MH_HASH_LEN];
	struct mh_token t;
	enum mh_store_err err;

	if (!mh_secret_shaped(token, MH_TOKEN_PREFIX))
		return 1;
	mh_sha256(token, strlen(token), hash);
	if ((err = mh_store_token_get(app->store, hash, &t)) != MH_STORE_OK)
		return err == MH_STORE_NOTFOUND ? 1 : -1;
	if (now - t.last_used >= MH_SEEN_EVERY)
		mh_store_token_used(app->store, hash, now);
	r->who.kind = MH_WHO_TOKEN;
	snprintf(r->who.name, sizeof(r->who.name), "%s", t.name);
	r->who.scopes = t.scopes;
	return 0;
}

/* Whether ct is a type the request's route takes besides JSON: an
 * import's CSV or NDJSON. */
static int
mh_import_type(const struct mh_request *r, const char *ct)
{
	return r->route >= 0 && mh_routes[r->route].body == MH_IMPORT_BODY &&
	    (mh_media_type_is(ct, "text/csv") ||
	    mh_media_type_is(ct, "application/x-ndjson") ||
	    mh_media_type_is(ct, "application/ndjson"));
}

/* The user the web server authenticated, made a viewer on first sight
 * when the settings say so. -1 on a storage error. */
static int
mh_remote_identify(struct mh_app *app, struct mh_request *r,
    const char *name)
{
	struct mh_user u;
	enum mh_store_err err;

	if (!mh_user_name_ok(name))
		return 0;
	err = mh_store_user_get(app->store, name, &u);
	if (err == MH_STORE_NOTFOUND && app->cfg->remote_user_create) {
		mh_user_init(&u, name, MH_ROLE_VIEWER);
		/* No password: the web server signs this user in. */
		snprintf(u.hash, sizeof(u.hash), "!");
		err = mh_store_user_add(app->store, &u, 0);
		if (err == MH_STORE_EXISTS)
			err = mh_store_user_get(app->store, name, &u);
		if (err == MH_STORE_OK)
			mh_log(r, "user %s created, as viewer, for the web "
			    "server's REMOTE_USER", name);
	}
	if (err != MH_STORE_OK)
		return err == MH_STORE_NOTFOUND ? 0 : -1;
	if (!u.disabled)
		mh_identity_user(&r->who, MH_WHO_REMOTE, &u);
	return 0;
}

int
mh_identify(struct mh_app *app, struct mh_request *r)
{
	const char *bearer = mh_bearer(mh_param(r, "HTTP_AUTHORIZATION"));
	const char *remote = mh_param(r, "REMOTE_USER");
	char cookie[MH_SECRET_B64 + 8];
	int ret = 0;

	if (r->identified)
		return 0;
	r->identified = 1;
	memset(&r->who, 0, sizeof(r->who));
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return -1;
	}
	if (bearer != NULL) {
		if ((ret = mh_token_identify(app, r, bearer)) > 0) {
			r->auth_challenge = "Bearer realm=\"mailhooks\", "
			    "error=\"invalid_token\"";
			mh_respond_error(r, MH_ERR_UNAUTHORIZED, "the bearer "
			    "token is not one this site issued, or it was "
			    "revoked");
			return -1;
		}
	} else if (mh_cookie_get(mh_param(r, "HTTP_COOKIE"), MH_SESSION_COOKIE,
	    cookie, sizeof(cookie)) == 0)
		ret = mh_session_identify(app, r, cookie);
	if (ret == 0 && r->who.kind == MH_WHO_NOBODY &&
	    app->cfg->trust_remote_user && remote != NULL && *remote != '\0')
		ret = mh_remote_identify(app, r, remote);
	if (ret < 0) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return -1;
	}
	return 0;
}

int
mh_site_origin(const struct mh_config *cfg, const struct mh_request *r,
    char *out, size_t outlen)
{
	char *url;
	const char *host;
	size_t n;

	/* Behind a proxy that ends TLS the request says http:// while the
	 * browser is on https://: the URL people use says which. */
	if (cfg->public_url != NULL) {
		n = mh_url_origin_len(cfg->public_url);
		if (n == 0 || n >= outlen)
			return -1;
		memcpy(out, cfg->public_url, n);
		out[n] = '\0';
		return 0;
	}
	if ((url = mh_request_url(r)) == NULL)
		return -1;
	host = strstr(url, "://") + 3;
	n = (size_t)(host - url) + strcspn(host, "/?#");
	if (n >= outlen) {
		free(url);
		return -1;
	}
	memcpy(out, url, n);
	out[n] = '\0';
	free(url);
	return 0;
}

int
mh_site_https(const struct mh_config *cfg, const struct mh_request *r)
{
	const char *https = mh_param(r, "HTTPS");
	const char *scheme = mh_param(r, "REQUEST_SCHEME");

	if (cfg->public_url != NULL)
		return strncmp(cfg->public_url, "https://", 8) == 0;
	return (https != NULL && (strcmp(https, "on") == 0 ||
	    strcmp(https, "1") == 0)) ||
	    (scheme != NULL && strcmp(scheme, "https") == 0);
}

int
mh_same_site(struct mh_app *app, struct mh_request *r)
{
	char own[600];

	if (mh_site_origin(app->cfg, r, own, sizeof(own)) == 0 &&
	    mh_origin_allowed(mh_param(r, "HTTP_ORIGIN"),
	    mh_param(r, "HTTP_REFERER"), own, app->cfg->allowed_origins))
		return 1;
	mh_respond_error(r, MH_ERR_FORBIDDEN, "a request that changes "
	    "something must come from a page of this site (its Origin "
	    "or Referer); add other sites to MAILHOOKS_ALLOWED_ORIGINS");
	return 0;
}

int
mh_authorize(struct mh_app *app, struct mh_request *r, unsigned access)
{
	unsigned scopes = access & MH_SCOPES_ALL;
	const char *ct = mh_param(r, "CONTENT_TYPE");
	const char *cl = mh_param(r, "CONTENT_LENGTH");

	if (access == MH_PUBLIC || (access == MH_SCOPE_METRICS_READ &&
	    app->cfg->metrics_public))
		return 0;
	if (mh_identify(app, r) != 0)
		return -1;
	if (r->who.kind == MH_WHO_NOBODY) {
		r->auth_challenge = "Bearer realm=\"mailhooks\"";
		mh_respond_error(r, MH_ERR_UNAUTHORIZED, "sign in first "
		    "(POST /api/session), or send an API token "
		    "(Authorization: Bearer)");
		return -1;
	}
	if (((access & MH_ADMIN) != 0 && !r->who.admin) || ((access &
	    MH_ANY_SCOPE) != 0 ? (r->who.scopes & scopes) == 0 :
	    (r->who.scopes & scopes) != scopes)) {
		mh_respond_error(r, MH_ERR_FORBIDDEN, "%s %s may not do this: "
		    "it needs %s", r->who.kind == MH_WHO_TOKEN ? "the token" :
		    "the user", r->who.name, (access & MH_ADMIN) != 0 ?
		    "the admin role" : "another scope");
		return -1;
	}
	if ((r->verb & (MH_GET | MH_HEAD)) != 0)
		return 0;
	/* A browser sends a cookie and the web server's credentials (basic
	 * auth, a single sign-on's session) with whatever page asks: a change
	 * made with either must come from this site. */
	if (r->who.kind != MH_WHO_TOKEN && !mh_same_site(app, r))
		return -1;
	/* Another site's form can post x-www-form-urlencoded, multipart or
	 * text/plain (an empty form too) without asking first, never
	 * application/json: a change comes with a JSON body or with none,
	 * and no other type named, but an import's CSV or NDJSON (neither a
	 * form's type: a browser asks first, and is refused). */
	if (!mh_media_type_is(ct, "application/json") && !mh_import_type(r,
	    ct) && ((ct != NULL &&
	    *ct != '\0') || (cl != NULL && *cl != '\0' &&
	    strcmp(cl, "0") != 0))) {
		mh_respond_error(r, MH_ERR_UNSUPPORTED_MEDIA_TYPE, "a change "
		    "takes a JSON body (Content-Type: application/json) or "
		    "none%s", r->route >= 0 && mh_routes[r->route].body ==
		    MH_IMPORT_BODY ? ", an import text/csv or "
		    "application/x-ndjson" : "");
		return -1;
	}
	return 0;
}

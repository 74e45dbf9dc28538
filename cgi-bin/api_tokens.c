/*
 * /api/tokens: an admin's API tokens, as the admin tool's token commands
 * make them. GET lists them (never their text: only a hash is kept),
 * POST {"name","scopes"} issues one and answers its text once, DELETE
 * /api/tokens/{name} revokes one.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"
#include "core/accounts.h"

#define MH_TOKEN_BODY_MAX 4096

static struct json_object *
mh_scopes_json(unsigned bits)
{
	struct json_object *a = json_object_new_array();

	for (const struct mh_scope *s = mh_scopes; s->name != NULL; s++)
		if ((bits & s->bit) != 0)
			json_object_array_add(a, json_object_new_string(s->name));
	return a;
}

static struct json_object *
mh_time_json(int64_t t)
{
	char iso[32];

	if (t == 0)
		return NULL;
	mh_iso_from_ms(t * 1000, iso);
	return json_object_new_string(iso);
}

static int
mh_token_listed(void *ctx, const struct mh_token *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(t->name));
	json_object_object_add(o, "scopes", mh_scopes_json(t->scopes));
	json_object_object_add(o, "created", mh_time_json(t->created));
	json_object_object_add(o, "last_used", mh_time_json(t->last_used));
	json_object_array_add(ctx, o);
	return 0;
}

/* The scopes of a POST: an array of names, or one comma-separated
 * string. 0, or -1 (answered). */
static int
mh_scopes_arg(struct mh_request *r, struct json_object *v, unsigned *bits)
{
	unsigned one;
	size_t n;

	*bits = 0;
	if (json_object_is_type(v, json_type_string)) {
		if (mh_scopes_parse(json_object_get_string(v), bits) != 0)
			goto bad;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) == 0)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) ||
		    strchr(json_object_get_string(e), ',') != NULL ||
		    mh_scopes_parse(json_object_get_string(e), &one) != 0)
			goto bad;
		*bits |= one;
	}
	return 0;
bad:
	mh_respond_error(r, MH_ERR_BAD_REQUEST, "scopes must be a list of "
	    "events:read, notifications:write, mail:send, campaigns:write "
	    "and metrics:read");
	return -1;
}

void
mh_api_token_create(struct mh_app *app, struct mh_request *r)
{
	char token[MH_TOKEN_LEN + 1];
	struct json_object *body = NULL, *o;
	struct mh_token t;
	const char *name;
	enum mh_store_err err;
	unsigned scopes;

	if (mh_json_body(r, MH_TOKEN_BODY_MAX, &body) != 0)
		return;
	if ((name = mh_json_field(r, body, "name", MH_USER_NAME_MAX)) == NULL ||
	    mh_scopes_arg(r, mh_json_get(body, "scopes"), &scopes) != 0)
		goto out;
	if (!mh_user_name_ok(name)) {
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "a token's name is 1 "
		    "to 64 letters, digits and ._@-");
		goto out;
	}
	err = mh_token_new(name, scopes, token, &t) != 0 ? MH_STORE_FAILED :
	    mh_store_token_add(app->store, &t);
	if (err != MH_STORE_OK) {
		explicit_bzero(token, sizeof(token));
		if (err == MH_STORE_EXISTS)
			mh_respond_error(r, MH_ERR_EXISTS, "a token named %s "
			    "exists: revoke it first, or choose another name",
			    name);
		else
			mh_respond_store_error(r, err);
		goto out;
	}
	mh_log(r, "token %s issued by %s", name, r->who.name);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "scopes", mh_scopes_json(scopes));
	json_object_object_add(o, "token", json_object_new_string(token));
	explicit_bzero(token, sizeof(token));
	mh_respond_json(r, 201, mh_json_text(o));
	json_object_put(o);
out:
	json_object_put(body);
}

void
mh_api_tokens(struct mh_app *app, struct mh_request *r)
{
	struct json_object *list, *o;
	enum mh_store_err err;

	list = json_object_new_array();
	if ((err = mh_store_tokens(app->store, mh_token_listed, list)) !=
	    MH_STORE_OK) {
		json_object_put(list);
		mh_respond_store_error(r, err);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "tokens", list);
	mh_respond_json(r, 200, mh_json_text(o));
	json_object_put(o);
}

void
mh_api_token(struct mh_app *app, struct mh_request *r)
{
	enum mh_store_err err = mh_store_token_revoke(app->store, r->param);
	char answer[160];

	if (err == MH_STORE_NOTFOUND) {
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no token is named "
		    "%.64s", r->param);
		return;
	}
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	mh_log(r, "token %s revoked by %s", r->param, r->who.name);
	snprintf(answer, sizeof(answer), "{\"revoked\":\"%s\"}", r->param);
	mh_respond_json(r, 200, answer);
}

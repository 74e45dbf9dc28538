/*
 * /api/clients: the campaigns' clients. POST adds one (201; a phone
 * another client has is a 409), GET lists them (newest first, the cursors
 * of /api/events, filters tag, operator_code and phone through indexes);
 * /api/clients/{id}: GET one, PATCH some of its fields, DELETE it. Changes
 * need campaigns:write (an admin has it), reading events:read; each
 * change is logged with client=ID.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* Whether r's asker may change clients and campaigns; else answers 403. */
int
mh_campaigns_writer(struct mh_request *r)
{
	if ((r->who.scopes & MH_SCOPE_CAMPAIGNS_WRITE) != 0)
		return 1;
	mh_respond_error(r, 403, "forbidden", "changing clients and campaigns "
	    "needs the admin role or a token with campaigns:write");
	return 0;
}

/* Whether r's asker may read clients and campaigns: events:read (every
 * signed-in user), or campaigns:write; else answers 403. */
int
mh_campaigns_reader(struct mh_request *r)
{
	if ((r->who.scopes & (MH_SCOPE_EVENTS_READ |
	    MH_SCOPE_CAMPAIGNS_WRITE)) != 0)
		return 1;
	mh_respond_error(r, 403, "forbidden", "reading clients and campaigns "
	    "needs events:read or campaigns:write");
	return 0;
}

/* Answers a storage error of a change to a client. */
static void
mh_client_store_error(struct mh_request *r, enum mh_store_err err)
{
	if (err == MH_STORE_EXISTS)
		mh_respond_error(r, 409, "exists", "another client has this "
		    "phone");
	else if (err == MH_STORE_NOTFOUND)
		mh_respond_error(r, 404, "not_found", "no client %.64s",
		    r->param != NULL ? r->param : "");
	else
		mh_respond_store_error(r, err);
}

static void
mh_client_create(struct mh_app *app, struct mh_request *r)
{
	struct json_object *body = NULL;
	struct mh_record rec;
	enum mh_store_err err;
	char why[300], *text = NULL;
	unsigned long long id;

	memset(&rec, 0, sizeof(rec));
	if (mh_json_body(r, app->cfg->max_body, &body) != 0)
		return;
	if (mh_client_make(body, mh_now_ms(), &rec, why, sizeof(why)) != 0)
		mh_respond_error(r, 400, "bad_client", "%s", why);
	else if ((err = mh_store_client_add(app->store, &rec, mh_record_answer,
	    &rec, &text)) != MH_STORE_OK)
		mh_client_store_error(r, err);
	else {
		if (sscanf(text, "{\"id\":%llu", &id) == 1) {
			r->about = "client";
			r->about_id = id;
		}
		mh_log(r, "client=%llu created", id);
		mh_respond_json(r, 201, text);
	}
	mh_record_free(&rec);
	free(text);
	json_object_put(body);
}

static void
mh_client_list(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_CLIENTS,
	    .limit = MH_API_LIMIT_DEFAULT };
	static const struct mh_filter_spec spec[] = {
		{ "tag", NULL, NULL },
		{ "operator_code", mh_client_operator_ok, "three digits" },
		{ "phone", mh_client_phone_ok, "7 and ten digits (7XXXXXXXXXX)" },
	};
	struct mh_page pg = { .buf = { 0 } };
	char *f[3];

	if (mh_filter_args(r, spec, 3, f) != 0 || mh_cursor_args(r, &q) != 0)
		goto out;
	q.type = f[0];
	q.email = f[1];
	q.message_id = f[2];
	mh_page_query(r, app->store, "clients", &q, mh_page_emit, &pg, &pg);
out:
	for (int i = 0; i < 3; i++)
		free(f[i]);
}

void
mh_api_clients(struct mh_app *app, struct mh_request *r)
{
	if (strcmp(r->method, "POST") != 0) {
		if (mh_campaigns_reader(r))
			mh_client_list(app, r);
	} else if (mh_campaigns_writer(r))
		mh_client_create(app, r);
}

/* A PATCH's or DELETE's change to the stored client. */
struct mh_client_op {
	struct json_object *patch;	/* NULL: delete */
	int64_t now;
	char why[300];
	int refused;
};

static int
mh_client_op_change(void *ctx, const char *field[3], const char *json,
    struct mh_record *out)
{
	struct mh_client_op *op = ctx;

	(void)field;
	op->refused = 0;
	if (op->patch == NULL)
		return MH_CHANGE_DELETE;
	if (mh_client_patch(json, op->patch, op->now, out, op->why,
	    sizeof(op->why)) != 0) {
		op->refused = 1;
		return MH_CHANGE_KEEP;
	}
	return MH_CHANGE_WRITE;
}

/* PATCH or DELETE of client id. */
static void
mh_client_alter(struct mh_app *app, struct mh_request *r, uint64_t id)
{
	struct mh_client_op op = { .now = mh_now_ms() };
	enum mh_store_err err;
	char *json = NULL;
	int del = strcmp(r->method, "DELETE") == 0;

	if (!mh_campaigns_writer(r) || (!del && mh_json_body(r,
	    app->cfg->max_body, &op.patch) != 0))
		return;
	err = mh_store_client_change(app->store, id, mh_client_op_change, &op,
	    &json);
	if (err != MH_STORE_OK)
		mh_client_store_error(r, err);
	else if (op.refused)
		mh_respond_error(r, 400, "bad_client", "%s", op.why);
	else if (del) {
		mh_log(r, "client=%" PRIu64 " deleted", id);
		mh_respond_json(r, 200, "{\"deleted\":true}");
	} else {
		mh_log(r, "client=%" PRIu64 " changed", id);
		mh_respond_json(r, 200, json);
	}
	free(json);
	json_object_put(op.patch);
}

void
mh_api_client(struct mh_app *app, struct mh_request *r)
{
	uint64_t id;
	enum mh_store_err err;
	char *json = NULL;

	if (mh_path_id(r, "client", &id) != 0)
		return;
	r->about = "client";
	r->about_id = id;
	if (strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "DELETE") == 0) {
		mh_client_alter(app, r, id);
		return;
	}
	if (!mh_campaigns_reader(r))
		return;
	if ((err = mh_store_record_get(app->store,
	    MH_TABLE_CLIENTS, id, &json)) != MH_STORE_OK)
		mh_client_store_error(r, err);
	else
		mh_respond_json(r, 200, json);
	free(json);
}

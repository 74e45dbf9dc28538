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

void
mh_api_client_create(struct mh_app *app, struct mh_request *r)
{
	struct json_object *body = NULL;
	struct mh_record rec;
	enum mh_store_err err;
	char why[300], *text = NULL;
	struct mh_added added = { &rec, 0 };

	memset(&rec, 0, sizeof(rec));
	if (mh_json_body(r, app->cfg->max_body, &body) != 0)
		return;
	if (mh_client_make(body, mh_now_ms(), &rec, why, sizeof(why)) != 0)
		mh_respond_error(r, 400, "bad_client", "%s", why);
	else if ((err = mh_store_client_add(app->store, &rec, mh_record_answer,
	    &added, &text)) != MH_STORE_OK)
		mh_client_store_error(r, err);
	else {
		r->about = "client";
		r->about_id = added.id;
		mh_log(r, "client=%" PRIu64 " created", added.id);
		mh_respond_json(r, 201, text);
	}
	mh_record_free(&rec);
	free(text);
	json_object_put(body);
}

void
mh_api_clients(struct mh_app *app, struct mh_request *r)
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
	q.where.client.tag = f[0];
	q.where.client.operator_code = f[1];
	q.where.client.phone = f[2];
	mh_page_query(r, app->store, "clients", &q, mh_page_emit, &pg, &pg);
out:
	for (int i = 0; i < 3; i++)
		free(f[i]);
}

/* A PATCH's or DELETE's change to the stored client. */
struct mh_client_op {
	struct json_object *patch;	/* NULL: delete */
	int64_t now;
	char why[300];
	int refused;
};

static int
mh_client_op_change(void *ctx, const union mh_fields_ref *f,
    const char *json, struct mh_record *out)
{
	struct mh_client_op *op = ctx;

	(void)f;
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

/* The client of the path: its id, noted on r; -1 answered. */
static int
mh_client_of(struct mh_request *r, uint64_t *id)
{
	if (mh_path_id(r, "client", id) != 0)
		return -1;
	r->about = "client";
	r->about_id = *id;
	return 0;
}

/* PATCH (del 0) or DELETE of the client of the path. */
static void
mh_client_alter(struct mh_app *app, struct mh_request *r, int del)
{
	struct mh_client_op op = { .now = mh_now_ms() };
	enum mh_store_err err;
	char *json = NULL;
	uint64_t id;

	if (mh_client_of(r, &id) != 0 || (!del && mh_json_body(r,
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
mh_api_client_patch(struct mh_app *app, struct mh_request *r)
{
	mh_client_alter(app, r, 0);
}

void
mh_api_client_delete(struct mh_app *app, struct mh_request *r)
{
	mh_client_alter(app, r, 1);
}

void
mh_api_client(struct mh_app *app, struct mh_request *r)
{
	uint64_t id;
	enum mh_store_err err;
	char *json = NULL;

	if (mh_client_of(r, &id) != 0)
		return;
	if ((err = mh_store_record_get(app->store,
	    MH_TABLE_CLIENTS, id, &json)) != MH_STORE_OK)
		mh_client_store_error(r, err);
	else
		mh_respond_json(r, 200, json);
	free(json);
}

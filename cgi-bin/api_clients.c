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
		mh_respond_error(r, MH_ERR_EXISTS, "another client has this "
		    "phone");
	else
		mh_record_error(r, err, "client", r->about_id);
}

static void
mh_client_respond(struct mh_app *app, struct mh_request *r, int status,
    uint64_t id, const char *json)
{
	(void)app;
	(void)id;
	mh_respond_json(r, status, json);
}

static const struct mh_resource mh_clients = {
	"client", MH_TABLE_CLIENTS, MH_ERR_BAD_CLIENT, mh_client_make,
	mh_client_respond, mh_client_store_error,
};

void
mh_api_client_create(struct mh_app *app, struct mh_request *r)
{
	mh_resource_create(app, r, &mh_clients);
}

void
mh_api_clients(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_CLIENTS,
	    .limit = MH_API_LIMIT_DEFAULT };
	static const struct mh_filter_spec spec[] = {
		{ "tag", NULL, NULL },
		{ "operator_code", mh_client_operator_ok, "one to eight digits" },
		{ "phone", mh_client_phone_ok, "a number's E.164 digits, without "
		    "its + (79001234567)" },
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
	struct mh_making mk;
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
	if (mh_client_patch(json, op->patch, &op->mk, out, op->why,
	    sizeof(op->why)) != 0) {
		op->refused = 1;
		return MH_CHANGE_KEEP;
	}
	return MH_CHANGE_WRITE;
}

/* PATCH (del 0) or DELETE of the client of the path. */
static void
mh_client_alter(struct mh_app *app, struct mh_request *r, int del)
{
	struct mh_client_op op = { .mk = { mh_now_ms(),
	    app->cfg->default_region } };
	enum mh_store_err err;
	char *json = NULL;
	uint64_t id;

	if (mh_path_id(r, "client", &id) != 0 || (!del && mh_json_body(r,
	    app->cfg->max_body, &op.patch) != 0))
		return;
	err = mh_store_record_change(app->store, MH_TABLE_CLIENTS, id,
	    mh_client_op_change, &op, &json);
	if (err != MH_STORE_OK)
		mh_client_store_error(r, err);
	else if (op.refused)
		mh_respond_error(r, MH_ERR_BAD_CLIENT, "%s", op.why);
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
	char *json;

	if (mh_path_record(app, r, MH_TABLE_CLIENTS, "client", &id, &json) ==
	    0)
		mh_respond_json(r, 200, json);
	free(json);
}

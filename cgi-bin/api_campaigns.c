/*
 * /api/campaigns: POST makes one (201), GET lists them newest first (the
 * cursors of /api/events; filter channel); /api/campaigns/{id}: GET one,
 * PATCH some of its fields (checked whole again), DELETE it (kept, marked
 * deleted: it sends no more, its messages and statistics stay). Each
 * answer carries the campaign's status now (scheduled, running, finished,
 * deleted). Changes need campaigns:write, reading events:read; each
 * change is logged with campaign=ID.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* A stored campaign's text with its status now into b (with app, its
 * warnings too); -1 when it is unreadable (then as /api/events shows
 * one). */
static int
mh_campaign_text(struct mh_app *app, struct mh_buf *b, uint64_t id,
    const char *json)
{
	struct json_object *c = json_tokener_parse(json);
	char stand_in[64];
	size_t len = strlen(json);

	if (c == NULL) {
		json = mh_json_stored(json, &len, id, stand_in);
		mh_buf_add(b, json, len);
		return -1;
	}
	mh_json_set_str(c, "status", mh_campaign_status(c, mh_now_ms()));
	if (app != NULL)
		json_object_object_add(c, "warnings", mh_campaign_warnings(app,
		    json, mh_now_ms()));
	mh_buf_str(b, mh_json_text(c));
	json_object_put(c);
	return 0;
}

static int
mh_campaign_row(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_page *pg = ctx;

	(void)len;
	if (pg->count++ > 0)
		mh_buf_str(&pg->buf, ",");
	mh_campaign_text(NULL, &pg->buf, id, json);
	pg->last = id;
	return pg->buf.failed ? -1 : 0;
}

static void
mh_campaign_respond(struct mh_app *app, struct mh_request *r, int status,
    uint64_t id, const char *json)
{
	struct mh_buf b = { 0 };

	mh_campaign_text(app, &b, id, json);
	if (b.failed || b.p == NULL)
		mh_respond_nomem(r);
	else
		mh_respond_json(r, status, b.p);
	free(b.p);
}

static const struct mh_resource mh_campaigns = {
	"campaign", MH_TABLE_CAMPAIGNS, MH_ERR_BAD_CAMPAIGN, mh_campaign_make,
	mh_campaign_respond, mh_respond_store_error,
};

void
mh_api_campaign_create(struct mh_app *app, struct mh_request *r)
{
	mh_resource_create(app, r, &mh_campaigns);
}

void
mh_api_campaigns(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_CAMPAIGNS,
	    .limit = MH_API_LIMIT_DEFAULT };
	static const struct mh_filter_spec spec[] = {
		{ "channel", mh_campaign_channel_ok, "api or mail" },
	};
	struct mh_page pg = { .buf = { 0 } };
	char *channel = NULL;

	if (mh_filter_args(r, spec, 1, &channel) != 0 ||
	    mh_cursor_args(r, &q) != 0)
		goto out;
	q.where.campaign.channel = channel;
	mh_page_query(r, app->store, "campaigns", &q, mh_campaign_row, &pg,
	    &pg);
out:
	free(channel);
}

/* A PATCH's or DELETE's change to the stored campaign. */
struct mh_campaign_op {
	struct json_object *patch;	/* NULL: delete */
	int64_t now;
	char why[300];
	int refused;		/* 0, or an MH_PATCH_* refusal */
};

static int
mh_campaign_op_change(void *ctx, const union mh_fields_ref *f,
    const char *json, struct mh_record *out)
{
	struct mh_campaign_op *op = ctx;

	(void)f;
	op->refused = op->patch != NULL ? mh_campaign_patch(json, op->patch,
	    op->now, out, op->why, sizeof(op->why)) :
	    mh_campaign_delete(json, op->now, out) != 0 ? MH_PATCH_INVALID : 0;
	return op->refused ? MH_CHANGE_KEEP : MH_CHANGE_WRITE;
}

/* PATCH (del 0) or DELETE of the campaign of the path. */
static void
mh_campaign_alter(struct mh_app *app, struct mh_request *r, int del)
{
	struct mh_campaign_op op = { .now = mh_now_ms() };
	enum mh_store_err err;
	char *json = NULL;
	uint64_t id;

	if (mh_path_id(r, "campaign", &id) != 0 || (!del && mh_json_body(r,
	    app->cfg->max_body, &op.patch) != 0))
		return;
	err = mh_store_record_change(app->store, MH_TABLE_CAMPAIGNS, id,
	    mh_campaign_op_change, &op, &json);
	if (err != MH_STORE_OK)
		mh_record_error(r, err, "campaign", id);
	else if (op.refused && del)
		mh_respond_error(r, MH_ERR_CORRUPT_RECORD, "campaign %" PRIu64
		    " is unreadable", id);
	else if (op.refused == MH_PATCH_ENDED)
		mh_respond_error(r, MH_ERR_ALREADY_ENDED, "%s", op.why);
	else if (op.refused == MH_PATCH_GONE)
		mh_respond_error(r, MH_ERR_DELETED, "campaign %" PRIu64 " is "
		    "deleted: it changes no more", id);
	else if (op.refused)
		mh_respond_error(r, MH_ERR_BAD_CAMPAIGN, "%s", op.why);
	else {
		mh_log(r, "campaign=%" PRIu64 " %s", id, del ? "deleted" :
		    "changed");
		mh_campaign_respond(app, r, 200, id, json);
	}
	free(json);
	json_object_put(op.patch);
}

void
mh_api_campaign(struct mh_app *app, struct mh_request *r)
{
	uint64_t id;
	char *json;

	if (mh_path_record(app, r, MH_TABLE_CAMPAIGNS, "campaign", &id,
	    &json) == 0)
		mh_campaign_respond(app, r, 200, id, json);
	free(json);
}

void
mh_api_campaign_patch(struct mh_app *app, struct mh_request *r)
{
	mh_campaign_alter(app, r, 0);
}

void
mh_api_campaign_delete(struct mh_app *app, struct mh_request *r)
{
	mh_campaign_alter(app, r, 1);
}

/*
 * A campaign's statistics: GET /api/campaigns/stats lists the campaigns
 * (newest first, the cursors of /api/events) each with its messages
 * counted by status; GET /api/campaigns/{id}/stats is one campaign's;
 * GET /api/campaigns/{id}/messages lists its messages newest first
 * (filter status), each with its attempts; POST /api/campaigns/audience
 * counts the clients a filter reaches. Reading needs events:read. One
 * mail campaign's statistics also say how its mail was met ("mail": the
 * report by tag of its tag, people's opens and clicks): a walk of every
 * message's summary, which the list does not make for each campaign.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

static void
mh_count_into(void *ctx, uint64_t campaign, const char *status, uint64_t n)
{
	struct json_object *counts = ctx;

	(void)campaign;
	if (mh_in_list(status, mh_cmessage_statuses) != NULL)
		json_object_object_add(counts, status,
		    json_object_new_int64((int64_t)n));
}

/* Campaign c's statistics: its status, its messages by status (each
 * status, 0 when none) and in all; the storage's error when it fails. */
static enum mh_store_err
mh_campaign_stats(struct mh_app *app, struct json_object *c, uint64_t id,
    struct json_object **out)
{
	struct json_object *o = json_object_new_object();
	struct json_object *counts = json_object_new_object();
	enum mh_store_err err;
	int64_t total = 0;

	for (size_t i = 0; mh_cmessage_statuses[i] != NULL; i++)
		json_object_object_add(counts, mh_cmessage_statuses[i],
		    json_object_new_int64(0));
	if ((err = mh_store_cmessages_count(app->store, id, mh_count_into,
	    counts)) != MH_STORE_OK) {
		json_object_put(counts);
		json_object_put(o);
		return err;
	}
	json_object_object_foreach(counts, k, v) {
		(void)k;
		total += json_object_get_int64(v);
	}
	json_object_object_add(o, "id", json_object_new_int64((int64_t)id));
	mh_json_set_str(o, "status", mh_campaign_status(c, mh_now_ms()));
	mh_json_copy(o, "start_at", c, "start_at", 1);
	mh_json_copy(o, "end_at", c, "end_at", 1);
	mh_json_copy(o, "channel", c, "channel", 1);
	json_object_object_add(o, "messages", json_object_new_int64(total));
	json_object_object_add(o, "counts", counts);
	*out = o;
	return MH_STORE_OK;
}

struct mh_stats_page {
	struct mh_page pg;
	struct mh_app *app;
	enum mh_store_err err;	/* of a campaign's count */
};

static int
mh_stats_row(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_stats_page *sp = ctx;
	struct json_object *c = json_tokener_parse(json), *o;

	(void)len;
	sp->pg.last = id;
	if (c == NULL)
		return 0;	/* unreadable: not counted */
	if ((sp->err = mh_campaign_stats(sp->app, c, id, &o)) != MH_STORE_OK) {
		json_object_put(c);
		return -1;
	}
	if (sp->pg.count++ > 0)
		mh_buf_str(&sp->pg.buf, ",");
	mh_buf_str(&sp->pg.buf, mh_json_text(o));
	json_object_put(o);
	json_object_put(c);
	return sp->pg.buf.failed ? -1 : 0;
}

void
mh_api_campaigns_stats(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_CAMPAIGNS,
	    .limit = MH_API_LIMIT_DEFAULT };
	struct mh_stats_page sp = { .pg = { .buf = { 0 } }, .app = app };
	enum mh_store_err err;
	int more = 0;

	if (mh_cursor_args(r, &q) != 0)
		return;
	mh_buf_str(&sp.pg.buf, "{\"campaigns\":[");
	err = mh_store_query(app->store, &q, mh_stats_row, &sp, &more);
	if (err != MH_STORE_OK || sp.err != MH_STORE_OK) {
		free(sp.pg.buf.p);
		/* The count's own error, not the page's stop it caused. */
		mh_respond_store_error(r, sp.err != MH_STORE_OK ? sp.err :
		    err);
		return;
	}
	mh_page_respond(r, &sp.pg, &q, more);
}

/* The campaign of the route's {id} (its object, the caller's), or NULL
 * when there is none (answered). */
static struct json_object *
mh_campaign_of(struct mh_app *app, struct mh_request *r, uint64_t *id)
{
	struct json_object *c = NULL;
	char *json;

	if (mh_path_record(app, r, MH_TABLE_CAMPAIGNS, "campaign", id,
	    &json) == 0 && (c = json_tokener_parse(json)) == NULL)
		mh_respond_error(r, MH_ERR_CORRUPT_RECORD, "campaign %" PRIu64
		    " is unreadable", *id);
	free(json);
	return c;
}

/* A mail campaign's mail as its recipients met it: the report by tag's
 * row of the campaign's tag (its mail is tagged so), counting people:
 * unique_opens, open_rate... added to o as "mail". */
static enum mh_store_err
mh_campaign_mail_stats(struct mh_app *app, uint64_t id, struct json_object *o)
{
	struct json_object *row;
	enum mh_store_err err;
	char tag[40];

	snprintf(tag, sizeof(tag), MH_CAMPAIGN_TAG "%" PRIu64, id);
	if ((err = mh_report_tag(app, tag, &row)) == MH_STORE_OK)
		json_object_object_add(o, "mail", row);
	return err;
}

void
mh_api_campaign_stats(struct mh_app *app, struct mh_request *r)
{
	struct json_object *c, *o;
	enum mh_store_err err;
	uint64_t id;
	const char *channel;

	if ((c = mh_campaign_of(app, r, &id)) ==
	    NULL)
		return;
	channel = mh_json_str(c, "channel");
	if ((err = mh_campaign_stats(app, c, id, &o)) == MH_STORE_OK &&
	    channel != NULL && strcmp(channel, "mail") == 0 &&
	    (err = mh_campaign_mail_stats(app, id, o)) != MH_STORE_OK)
		json_object_put(o);
	if (err != MH_STORE_OK)
		mh_respond_store_error(r, err);
	else {
		mh_respond_json(r, 200, mh_json_text(o));
		json_object_put(o);
	}
	json_object_put(c);
}

/* A page of a campaign's messages: each with its client's phone now
 * (null once the client is deleted), whom the page says it went to. */
struct mh_cm_rows {
	struct mh_page pg;
	struct mh_store *st;
};

static int
mh_cmessage_row(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_cm_rows *w = ctx;
	struct json_object *m = json_tokener_parse(json), *client = NULL;
	char *cjson = NULL;
	const char *text;
	int ret;

	if (m == NULL)	/* unreadable: as the store has it */
		return mh_page_emit(&w->pg, id, json, len);
	if (mh_store_record_get(w->st, MH_TABLE_CLIENTS,
	    (uint64_t)mh_json_int(m, "client_id"), &cjson) == MH_STORE_OK)
		client = json_tokener_parse(cjson);
	mh_json_set_str(m, "phone", mh_json_str(client, "phone"));
	text = mh_json_text(m);
	ret = mh_page_emit(&w->pg, id, text, strlen(text));
	json_object_put(client);
	json_object_put(m);
	free(cjson);
	return ret;
}

void
mh_api_campaign_messages(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_CMESSAGES,
	    .limit = MH_API_LIMIT_DEFAULT };
	struct mh_cm_rows rows = { .pg = { .buf = { 0 } }, .st = app->store };
	struct json_object *c;
	char *status = NULL, key[24], state[64];
	uint64_t id;

	if ((c = mh_campaign_of(app, r, &id)) == NULL)
		return;
	json_object_put(c);
	if (mh_cursor_args(r, &q) != 0 || mh_arg(r, "status", &status) != 0)
		goto out;
	if (status != NULL && mh_in_list(status, mh_cmessage_statuses) ==
	    NULL) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "status is pending, "
		    "sending, sent, retrying, failed, expired, deferred or "
		    "cancelled");
		goto out;
	}
	snprintf(key, sizeof(key), "%" PRIu64, id);
	snprintf(state, sizeof(state), "%" PRIu64 "/%s", id,
	    status != NULL ? status : "");
	if (status != NULL)
		q.where.cmessage.campaign_status = state;
	else
		q.where.cmessage.campaign = key;
	mh_page_query(r, app->store, "messages", &q, mh_cmessage_row, &rows,
	    &rows.pg);
out:
	free(status);
}

struct mh_audience {
	struct json_object *filter;
	int mail;
	uint64_t clients;
};

static int
mh_audience_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_audience *a = ctx;
	struct json_object *client = json_tokener_parse(json);

	(void)len;
	(void)id;
	a->clients += mh_filter_matches(a->filter, a->mail, client);
	json_object_put(client);
	return 0;
}

/* POST /api/campaigns/audience {filter, channel}: how many clients a
 * campaign of that filter would send to now, read from every client. */
void
mh_api_campaign_audience(struct mh_app *app, struct mh_request *r)
{
	struct json_object *body = NULL, *f;
	struct mh_audience a = { NULL, 0, 0 };
	struct mh_query q = { .table = MH_TABLE_CLIENTS, .limit = 1000 };
	const char *channel;
	enum mh_store_err err;
	char why[300], text[64];

	if (mh_json_body(r, app->cfg->max_body,
	    &body) != 0)
		return;
	channel = mh_json_str(body, "channel");
	json_object_object_foreach(body, key, val) {
		(void)val;
		if (strcmp(key, "filter") != 0 && strcmp(key, "channel") != 0) {
			mh_respond_error(r, MH_ERR_BAD_CAMPAIGN,
			    "%.64s is not a "
			    "field of an audience: filter and channel", key);
			goto out;
		}
	}
	if ((f = mh_json_get(body, "filter")) != NULL &&
	    (!json_object_is_type(f, json_type_object) ||
	    mh_check_filter(f, why, sizeof(why)) != 0)) {
		mh_respond_error(r, MH_ERR_BAD_CAMPAIGN, "filter %s",
		    json_object_is_type(f, json_type_object) ? why :
		    "is an object");
		goto out;
	}
	if (channel != NULL && strcmp(channel, "api") != 0 &&
	    strcmp(channel, "mail") != 0) {
		mh_respond_error(r, MH_ERR_BAD_CAMPAIGN,
		    "channel is api or mail");
		goto out;
	}
	a.filter = f;
	a.mail = channel != NULL && strcmp(channel, "mail") == 0;
	if ((err = mh_store_query_all(app->store, &q, mh_audience_one, &a)) !=
	    MH_STORE_OK)
		mh_respond_store_error(r, err);
	else {
		snprintf(text, sizeof(text), "{\"clients\":%" PRIu64 "}",
		    a.clients);
		mh_respond_json(r, 200, text);
	}
out:
	json_object_put(body);
}

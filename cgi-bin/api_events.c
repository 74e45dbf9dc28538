/*
 * GET /api/events and GET /api/email-callbacks: pages of a table, newest
 * first or (after=SEQ) oldest first, filtered by the table's three indexed
 * fields and, for events, a time window. Stored records are compact JSON
 * already, so answers are spliced from them, not rebuilt. And the events
 * exported whole, as CSV or NDJSON, with the same filters.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* What a listing route takes and answers. */
struct mh_list_spec {
	enum mh_table table;
	const char *name;		/* the array's key in the answer */
	const char *param[3];		/* query names of the three filters */
	int (*valid0)(const char *);	/* the values the first may take */
	int timed;			/* since and until apply */
};

static int
mh_is_event_type(const char *s)
{
	return mh_event_type_index(s, strlen(s)) >= 0;
}

static int
mh_is_infobip_status(const char *s)
{
	return mh_in_list(s, mh_infobip_statuses) != NULL;
}

static const struct mh_list_spec mh_events_spec = {
	MH_TABLE_EVENTS, "events", { "type", "email", "message_id" },
	mh_is_event_type, 1,
};

static const struct mh_list_spec mh_callbacks_spec = {
	MH_TABLE_CALLBACKS, "email_callbacks", { "status", "email",
	"external_id" }, mh_is_infobip_status, 0,
};

/* Reads the order (seq, the default: newest stored first; time: newest
 * event time first, its cursor before_time with before) into q; answers
 * 400 and returns -1. */
static int
mh_order_args(struct mh_request *r, struct mh_query *q)
{
	char *order = NULL, *bt = NULL;
	unsigned long long v = 0;
	int ret = -1;

	if (mh_arg(r, "order", &order) != 0 || mh_arg(r, "before_time",
	    &bt) != 0)
		goto out;
	if (order != NULL && strcmp(order, "time") != 0 &&
	    strcmp(order, "seq") != 0)
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "order is seq or time, "
		    "not \"%.20s\"", order);
	else if ((q->by_time = order != NULL && strcmp(order, "time") == 0) &&
	    q->has_after)
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "order=time pages "
		    "with before_time and before, not after");
	else if (bt != NULL && (!q->by_time || q->before == 0))
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "before_time goes with "
		    "order=time and before (the last page's next_before_time "
		    "and next_before)");
	else if (bt != NULL && mh_parse_uint(bt + (*bt == '-'), INT64_MAX,
	    &v) != 0)
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "before_time is Unix "
		    "seconds");
	else {
		q->has_before_ts = bt != NULL;
		q->before_ts = bt != NULL && *bt == '-' ? -(int64_t)v :
		    (int64_t)v;
		ret = 0;
	}
out:
	free(order);
	free(bt);
	return ret;
}

/* A query's keep of machine=1 (ctx non-NULL): the events a machine
 * made; of machine=0: the others (a person's opens and clicks, and every
 * other type). */
static int
mh_keep_machine(void *ctx, const char *json)
{
	struct json_object *ev = json_tokener_parse(json);
	int machine = mh_json_str(ev, "machine") != NULL;

	json_object_put(ev);
	return machine == (ctx != NULL);
}

/* Reads machine (0 or 1) into q's keep; answers 400 and returns -1. */
static int
mh_machine_arg(struct mh_request *r, struct mh_query *q)
{
	static int yes = 1;
	char *v = NULL;

	if (mh_arg(r, "machine", &v) != 0)
		return -1;
	if (v != NULL && strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "machine is 0 (people) "
		    "or 1 (machines), not \"%.20s\"", v);
		free(v);
		return -1;
	}
	if (v != NULL) {
		q->keep = mh_keep_machine;
		q->keep_ctx = v[0] == '1' ? &yes : NULL;
	}
	free(v);
	return 0;
}

/* Reads the filters into f (f[3]: the search) and q; answers 400 and
 * returns -1. */
static int
mh_list_args(struct mh_request *r, const struct mh_list_spec *spec,
    char *f[4], struct mh_query *q)
{
	for (int i = 0; i < 3; i++)
		if (mh_arg(r, spec->param[i], &f[i]) != 0)
			return -1;
	if (mh_cursor_args(r, q) != 0)
		return -1;
	if (f[0] != NULL && !spec->valid0(f[0])) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "unknown %s \"%.40s\"",
		    spec->param[0], f[0]);
		return -1;
	}
	if (spec->timed && (mh_window_args(r, q) != 0 ||
	    mh_search_arg(r, &f[3]) != 0 || mh_order_args(r, q) != 0 ||
	    mh_machine_arg(r, q) != 0))
		return -1;
	if (spec->table == MH_TABLE_EVENTS) {
		q->where.event.type = f[0];
		q->where.event.email = f[1];
		q->where.event.message_id = f[2];
	} else {
		q->where.callback.status = f[0];
		q->where.callback.email = f[1];
		q->where.callback.external_id = f[2];
	}
	q->text = f[3];
	return 0;
}

static void
mh_api_list(struct mh_app *app, struct mh_request *r,
    const struct mh_list_spec *spec)
{
	char *f[4] = { 0 };
	struct mh_query q = { .table = spec->table,
	    .limit = MH_API_LIMIT_DEFAULT };
	struct mh_page pg = { 0 };
	enum mh_store_err err;
	int more;

	if (mh_list_args(r, spec, f, &q) != 0)
		goto out;
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		goto out;
	}
	mh_buf_printf(&pg.buf, "{\"%s\":[", spec->name);
	pg.timed = q.by_time;
	err = mh_store_query(app->store, &q, mh_page_emit, &pg, &more);
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		goto out;
	}
	mh_page_respond(r, &pg, &q, more);
out:
	free(pg.buf.p);
	for (int i = 0; i < 4; i++)
		free(f[i]);
}

void
mh_api_events(struct mh_app *app, struct mh_request *r)
{
	mh_api_list(app, r, &mh_events_spec);
}

void
mh_api_callbacks(struct mh_app *app, struct mh_request *r)
{
	mh_api_list(app, r, &mh_callbacks_spec);
}

/* The CSV's columns: its header, and each event's values. */
static const char *const mh_csv_cols[] = { "seq", "received_at", "time",
	"provider", "type", "email", "subject", "message_id", "url", "tags",
	"city", "country", NULL };

/* An event's row. */
static int
mh_csv_row(struct mh_buf *b, uint64_t seq, const char *json, size_t len)
{
	struct json_object *ev = json_tokener_parse(json), *loc, *tags;
	char num[24], at[32];
	struct mh_buf list = { 0 };
	int64_t ts;

	(void)len;
	if (ev == NULL)
		return 0;	/* not one of ours: left out */
	loc = mh_json_get(ev, "location");
	ts = mh_json_int(ev, "ts");
	snprintf(num, sizeof(num), "%" PRIu64, seq);
	mh_csv_field(b, num, 1);
	mh_csv_field(b, mh_json_str(ev, "received_at"), 0);
	if (ts > 0)
		mh_iso_from_ms(ts * 1000, at);
	mh_csv_field(b, ts > 0 ? at : NULL, 0);
	mh_csv_field(b, mh_json_str(ev, "provider"), 0);
	mh_csv_field(b, mh_json_str(ev, "type"), 0);
	mh_csv_field(b, mh_json_str(ev, "email"), 0);
	mh_csv_field(b, mh_json_str(ev, "subject"), 0);
	mh_csv_field(b, mh_json_str(ev, "message_id"), 0);
	mh_csv_field(b, mh_json_str(ev, "url"), 0);
	tags = mh_json_get(ev, "tags");
	for (size_t i = 0; tags != NULL && json_object_is_type(tags,
	    json_type_array) && i < json_object_array_length(tags); i++) {
		const char *t = json_object_get_string(
		    json_object_array_get_idx(tags, i));

		if (t != NULL)
			mh_buf_printf(&list, "%s%s", list.len ? " " : "", t);
	}
	mh_csv_field(b, list.p, 0);
	free(list.p);
	mh_csv_field(b, mh_json_str(loc, "city"), 0);
	mh_csv_field(b, mh_json_str(loc, "country"), 0);
	mh_buf_str(b, "\r\n");
	json_object_put(ev);
	return 0;
}

static const struct mh_export_spec mh_events_csv = { "events", "csv",
	"text/csv; charset=utf-8", mh_csv_cols, mh_csv_row };
static const struct mh_export_spec mh_events_ndjson = { "events", "ndjson",
	"application/x-ndjson", NULL, mh_export_ndjson_row };

/* Every event the filters of /api/events keep (the cursors left out),
 * oldest first. */
static void
mh_api_export(struct mh_app *app, struct mh_request *r,
    const struct mh_export_spec *spec)
{
	char *f[4] = { 0 };
	struct mh_query q = { .table = MH_TABLE_EVENTS };

	if (mh_list_args(r, &mh_events_spec, f, &q) == 0) {
		q.by_time = 0;	/* a file is in the order stored */
		mh_export(app, r, &q, spec);
	}
	for (int i = 0; i < 4; i++)
		free(f[i]);
}

void
mh_api_events_csv(struct mh_app *app, struct mh_request *r)
{
	mh_api_export(app, r, &mh_events_csv);
}

void
mh_api_events_ndjson(struct mh_app *app, struct mh_request *r)
{
	mh_api_export(app, r, &mh_events_ndjson);
}

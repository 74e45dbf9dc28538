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

/* The search's bounds, in characters. */
#define MH_Q_MIN 2
#define MH_Q_MAX 200

/* Reads q, part of an address or a subject, into *text; answers 400 and
 * returns -1 when it is too short or too long. */
static int
mh_search_arg(struct mh_request *r, char **text)
{
	size_t chars = 0;

	if (mh_arg(r, "q", text) != 0)
		return -1;
	if (*text == NULL)
		return 0;
	for (const unsigned char *p = (unsigned char *)*text; *p != '\0'; p++)
		chars += (*p & 0xC0) != 0x80;	/* UTF-8 lead bytes */
	if (chars >= MH_Q_MIN && chars <= MH_Q_MAX)
		return 0;
	mh_respond_error(r, MH_ERR_BAD_PARAMETER, "q must be %d to %d "
	    "characters, not %zu", MH_Q_MIN, MH_Q_MAX, chars);
	return -1;
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
	    mh_search_arg(r, &f[3]) != 0))
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

/*
 * The export: every event the filters of /api/events keep (the cursors
 * left out), oldest first, read a page at a time and written as it is
 * read, so that a million rows take the memory of one page. A failure
 * after the first byte can no longer change the status: the file then
 * ends short, without its last line's newline.
 */
#define MH_EXPORT_PAGE 1000

/* The CSV's columns: its header, and each event's values. */
static const char *const mh_csv_cols[] = { "seq", "received_at", "time",
	"provider", "type", "email", "subject", "message_id", "url", "tags",
	"city", "country", NULL };

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line break; a value a spreadsheet would run as a formula (=, +, -, @
 * first) is led by a quote mark, so that it reads as text. */
static void
mh_csv_field(struct mh_buf *b, const char *v, int first)
{
	if (!first)
		mh_buf_str(b, ",");
	if (v == NULL)
		return;
	if (v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL) {
		mh_buf_str(b, "\"'");
	} else if (strpbrk(v, ",\"\r\n") != NULL) {
		mh_buf_str(b, "\"");
	} else {
		mh_buf_str(b, v);
		return;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"')
			mh_buf_str(b, "\"");	/* a quote doubled */
		mh_buf_add(b, p, 1);
	}
	mh_buf_str(b, "\"");
}

/* An event's row. */
static void
mh_csv_row(struct mh_buf *b, uint64_t seq, struct json_object *ev)
{
	struct json_object *loc = mh_json_get(ev, "location"), *tags;
	char num[24], at[32];
	struct mh_buf list = { 0 };
	int64_t ts = mh_json_int(ev, "ts");

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
}

struct mh_export {
	int csv;
	struct mh_buf buf;	/* the page being written */
	uint64_t last;
	size_t rows;
};

static int
mh_export_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_export *x = ctx;
	struct json_object *ev;
	char stand_in[64];

	x->last = seq;
	x->rows++;
	if (!x->csv) {
		json = mh_json_stored(json, &len, seq, stand_in);
		mh_buf_add(&x->buf, json, len);
		mh_buf_str(&x->buf, "\n");
	} else if ((ev = json_tokener_parse(json)) != NULL) {
		mh_csv_row(&x->buf, seq, ev);
		json_object_put(ev);
	}
	return x->buf.failed ? -1 : 0;
}

static void
mh_api_export(struct mh_app *app, struct mh_request *r, int csv)
{
	char *f[4] = { 0 };
	struct mh_query q = { .table = MH_TABLE_EVENTS };
	struct mh_export x = { .csv = csv };
	enum mh_store_err err = MH_STORE_OK;
	int more = 1, started = 0;

	if (mh_list_args(r, &mh_events_spec, f, &q) != 0)
		goto out;
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		goto out;
	}
	q.has_after = 1;	/* oldest first, from the first */
	q.limit = MH_EXPORT_PAGE;
	for (int i = 0; csv && mh_csv_cols[i] != NULL; i++)
		mh_csv_field(&x.buf, mh_csv_cols[i], i == 0);
	if (csv)
		mh_buf_str(&x.buf, "\r\n");
	while (more && err == MH_STORE_OK && !x.buf.failed) {
		q.after = x.last;
		err = mh_store_query(app->store, &q, mh_export_one, &x, &more);
		if (err != MH_STORE_OK || x.buf.failed)
			break;
		if (!started) {
			mh_respond_header(r, "Content-Disposition: attachment; "
			    "filename=\"events.%s\"", csv ? "csv" : "ndjson");
			if (mh_respond_start(r, 200, csv ? "text/csv; "
			    "charset=utf-8" : "application/x-ndjson") != 0 ||
			    r->verb == MH_HEAD)
				goto out;
			started = 1;
		}
		if (x.buf.len > 0 && mh_write(r, x.buf.p, x.buf.len) != 0)
			goto out;	/* the client is gone */
		x.buf.len = 0;
	}
	if (!started)
		mh_respond_store_error(r, err != MH_STORE_OK ? err :
		    MH_STORE_NOMEM);
	else if (err != MH_STORE_OK || x.buf.failed)
		mh_log(r, "export cut short after %zu events: %s", x.rows,
		    err != MH_STORE_OK ? "storage error" : "out of memory");
out:
	free(x.buf.p);
	for (int i = 0; i < 4; i++)
		free(f[i]);
}

void
mh_api_events_csv(struct mh_app *app, struct mh_request *r)
{
	mh_api_export(app, r, 1);
}

void
mh_api_events_ndjson(struct mh_app *app, struct mh_request *r)
{
	mh_api_export(app, r, 0);
}

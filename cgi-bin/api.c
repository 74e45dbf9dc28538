/*
 * The read API: /api/events, /api/email-callbacks, /api/messages/{id},
 * /api/stats, /api/health. Stored events
 * are already compact JSON, so answers are spliced from them, not rebuilt.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* The types a filter may name: the shared model's. */
static const char *const mh_event_types[] = {
	"send", "delivered", "deferral", "hard_bounce", "soft_bounce", "open",
	"click", "spam", "unsub", "reject", "sync", "inbound", NULL
};

/* Providers whose messages /api/messages/{id} looks through. */
static const char *const mh_providers[] = { "mandrill", "infobip", NULL };

struct mh_buf {
	char *p;
	size_t len, cap;
	int failed;
};

static void
mh_buf_add(struct mh_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = mh_realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
mh_buf_str(struct mh_buf *b, const char *s)
{
	mh_buf_add(b, s, strlen(s));
}

struct mh_page {
	struct mh_buf buf;
	size_t count;
	uint64_t last;
};

static int
mh_page_emit(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_page *pg = ctx;

	if (pg->count++ > 0)
		mh_buf_add(&pg->buf, ",", 1);
	mh_buf_add(&pg->buf, json, len);
	pg->last = seq;
	return pg->buf.failed ? -1 : 0;
}

/* A message's events, to be told in the order they happened. */
struct mh_timeline {
	struct mh_moment {
		int64_t ts;
		uint64_t seq;
		char *json;
	} *v;
	size_t n;
	int failed;
};

static int
mh_timeline_emit(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_timeline *tl = ctx;
	struct json_object *o, *ts;
	struct mh_moment *nv;

	if ((nv = mh_realloc(tl->v, (tl->n + 1) * sizeof(*nv))) == NULL ||
	    (nv[tl->n].json = mh_strndup(json, len)) == NULL) {
		if (nv != NULL)
			tl->v = nv;
		tl->failed = 1;
		return -1;
	}
	tl->v = nv;
	nv[tl->n].seq = seq;
	nv[tl->n].ts = 0;
	if ((o = json_tokener_parse(json)) != NULL) {
		if (json_object_object_get_ex(o, "ts", &ts))
			nv[tl->n].ts = json_object_get_int64(ts);
		json_object_put(o);
	}
	tl->n++;
	return 0;
}

static int
mh_moment_cmp(const void *a, const void *b)
{
	const struct mh_moment *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Parses a decimal unsigned 64-bit value, all of the string. */
static int
mh_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Reads one query parameter; answers 400 and returns -1 when malformed or
 * present but empty. */
static int
mh_arg(struct mh_request *r, const char *name, char **out)
{
	int bad;

	*out = mh_query_get(r->query, name, &bad);
	if (bad || (*out != NULL && **out == '\0')) {
		mh_respond_error(r, 400, "bad_parameter",
		    "%s is %s", name, bad ? "badly percent-encoded" : "empty");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* What a listing route takes and answers. */
struct mh_list_spec {
	enum mh_table table;
	const char *name;		/* the array's key in the answer */
	const char *param[3];		/* query names of the three filters */
	const char *const *values0;	/* the values the first may take */
	int timed;			/* since and until apply */
};

static const struct mh_list_spec mh_events_spec = {
	MH_TABLE_EVENTS, "events", { "type", "email", "message_id" },
	mh_event_types, 1,
};

static const struct mh_list_spec mh_callbacks_spec = {
	MH_TABLE_CALLBACKS, "email_callbacks", { "status", "email",
	"external_id" }, mh_infobip_statuses, 0,
};

/* A time as Unix seconds or ISO 8601 ("2026-11-22T10:00:00Z"). */
static int
mh_parse_time(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (mh_iso_time(s, out) == 0)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Reads since and until into q; answers 400 and returns -1 when either is
 * malformed or the window is empty. */
static int
mh_time_window(struct mh_request *r, struct mh_query *q)
{
	char *since = NULL, *until = NULL;
	int ret = -1;

	if (mh_arg(r, "since", &since) || mh_arg(r, "until", &until))
		goto out;
	if (since != NULL && mh_parse_time(since, &q->since) != 0) {
		mh_respond_error(r, 400, "bad_parameter", "since must be Unix "
		    "seconds or an ISO 8601 time");
		goto out;
	}
	if (until != NULL && mh_parse_time(until, &q->until) != 0) {
		mh_respond_error(r, 400, "bad_parameter", "until must be Unix "
		    "seconds or an ISO 8601 time");
		goto out;
	}
	q->has_since = since != NULL;
	q->has_until = until != NULL;
	if (q->has_since && q->has_until && q->until <= q->since) {
		mh_respond_error(r, 400, "bad_parameter",
		    "until must be later than since");
		goto out;
	}
	ret = 0;
out:
	free(since);
	free(until);
	return ret;
}

static void
mh_api_list(struct mh_app *app, struct mh_request *r,
    const struct mh_list_spec *spec)
{
	char *limit = NULL, *before = NULL, *after = NULL, *f[3] = { 0 };
	char tail[128];
	struct mh_query q = { .table = spec->table,
	    .limit = MH_API_LIMIT_DEFAULT };
	struct mh_page pg = { 0 };
	enum mh_store_err err;
	uint64_t v;
	int more;

	if (mh_arg(r, "limit", &limit) || mh_arg(r, "before", &before) ||
	    mh_arg(r, "after", &after) || mh_arg(r, spec->param[0], &f[0]) ||
	    mh_arg(r, spec->param[1], &f[1]) || mh_arg(r, spec->param[2], &f[2]))
		goto out;
	if (limit != NULL) {
		if (mh_parse_u64(limit, &v) != 0 || v < 1 ||
		    v > MH_API_LIMIT_MAX) {
			mh_respond_error(r, 400, "bad_parameter",
			    "limit must be a whole number from 1 to %d",
			    MH_API_LIMIT_MAX);
			goto out;
		}
		q.limit = (unsigned)v;
	}
	if (before != NULL && after != NULL) {
		mh_respond_error(r, 400, "bad_parameter",
		    "before and after cannot be used together");
		goto out;
	}
	if (before != NULL && (mh_parse_u64(before, &q.before) != 0 ||
	    q.before == 0)) {
		mh_respond_error(r, 400, "bad_parameter",
		    "before must be a positive seq");
		goto out;
	}
	if (after != NULL) {
		if (mh_parse_u64(after, &q.after) != 0) {
			mh_respond_error(r, 400, "bad_parameter",
			    "after must be a seq (0 or more)");
			goto out;
		}
		q.has_after = 1;
	}
	if (f[0] != NULL && mh_in_list(f[0], spec->values0) == NULL) {
		mh_respond_error(r, 400, "bad_parameter", "unknown %s \"%.40s\"",
		    spec->param[0], f[0]);
		goto out;
	}
	if (spec->timed && mh_time_window(r, &q) != 0)
		goto out;
	q.type = f[0];
	q.email = f[1];
	q.message_id = f[2];
	if (app->store == NULL) {
		mh_respond_store_error(app, r, MH_STORE_FAILED);
		goto out;
	}
	snprintf(tail, sizeof(tail), "{\"%s\":[", spec->name);
	mh_buf_str(&pg.buf, tail);
	err = mh_store_query(app->store, &q, mh_page_emit, &pg, &more);
	if (err != MH_STORE_OK) {
		mh_respond_store_error(app, r, err);
		goto out;
	}
	if (q.has_after)
		snprintf(tail, sizeof(tail),
		    "],\"more\":%s,\"next_after\":%" PRIu64 "}",
		    more ? "true" : "false", pg.count ? pg.last : q.after);
	else if (more)
		snprintf(tail, sizeof(tail),
		    "],\"more\":true,\"next_before\":%" PRIu64 "}", pg.last);
	else
		snprintf(tail, sizeof(tail), "],\"more\":false,\"next_before\":null}");
	mh_buf_str(&pg.buf, tail);
	if (pg.buf.failed)
		mh_respond_error(r, 503, "out_of_memory", "try again");
	else
		mh_respond_json(r, 200, pg.buf.p);
out:
	free(pg.buf.p);
	free(limit);
	free(before);
	free(after);
	for (int i = 0; i < 3; i++)
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

struct mh_tally {
	uint64_t n[sizeof(mh_event_types) / sizeof(mh_event_types[0])];
	uint64_t total;
};

static void
mh_tally(void *ctx, const char *type)
{
	struct mh_tally *t = ctx;

	if (type == NULL) {
		memset(t, 0, sizeof(*t));
		return;
	}
	t->total++;
	for (size_t i = 0; mh_event_types[i] != NULL; i++)
		if (strcmp(type, mh_event_types[i]) == 0)
			t->n[i]++;
}

void
mh_api_stats(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS };
	struct mh_tally t = { 0 };
	struct mh_buf b = { 0 };
	enum mh_store_err err;
	char num[96];

	if (mh_time_window(r, &q) != 0)
		return;
	if (!q.has_since && !q.has_until) {
		/* The last day, unless asked otherwise. */
		q.since = (int64_t)time(NULL) - 86400;
		q.has_since = 1;
	}
	if (app->store == NULL) {
		mh_respond_store_error(app, r, MH_STORE_FAILED);
		return;
	}
	if ((err = mh_store_count(app->store, &q, mh_tally, &t)) != MH_STORE_OK) {
		mh_respond_store_error(app, r, err);
		return;
	}
	mh_buf_str(&b, "{\"since\":");
	snprintf(num, sizeof(num), q.has_since ? "%" PRId64 : "null", q.since);
	mh_buf_str(&b, num);
	snprintf(num, sizeof(num), q.has_until ? ",\"until\":%" PRId64 :
	    ",\"until\":null", q.until);
	mh_buf_str(&b, num);
	snprintf(num, sizeof(num), ",\"total\":%" PRIu64 ",\"counts\":{",
	    t.total);
	mh_buf_str(&b, num);
	for (size_t i = 0; mh_event_types[i] != NULL; i++) {
		snprintf(num, sizeof(num), "%s\"%s\":%" PRIu64, i ? "," : "",
		    mh_event_types[i], t.n[i]);
		mh_buf_str(&b, num);
	}
	mh_buf_str(&b, "}}");
	if (b.failed)
		mh_respond_error(r, 503, "out_of_memory", "try again");
	else
		mh_respond_json(r, 200, b.p);
	free(b.p);
}

void
mh_api_message(struct mh_app *app, struct mh_request *r, const char *id)
{
	struct mh_query q = { .message_id = id, .has_after = 1,
	    .limit = MH_API_LIMIT_MAX };
	struct mh_timeline tl = { 0 };
	struct mh_page pg = { 0 };
	enum mh_store_err err = MH_STORE_NOTFOUND;
	char *summary = NULL;
	size_t slen;
	int more;

	if (app->store == NULL) {
		mh_respond_store_error(app, r, MH_STORE_FAILED);
		return;
	}
	for (size_t i = 0; mh_providers[i] != NULL; i++) {
		err = mh_store_message(app->store, mh_providers[i], id, &summary);
		if (err != MH_STORE_NOTFOUND)
			break;
	}
	if (err == MH_STORE_NOTFOUND) {
		mh_respond_error(r, 404, "not_found", "no message with id %.128s",
		    id);
		return;
	}
	if (err != MH_STORE_OK) {
		mh_respond_store_error(app, r, err);
		return;
	}
	err = mh_store_query(app->store, &q, mh_timeline_emit, &tl, &more);
	if (err != MH_STORE_OK && !tl.failed) {
		mh_respond_store_error(app, r, err);
		goto out;
	}
	/* Events arrive in any order (a late send, an early open): the
	 * timeline tells them by when they happened. */
	qsort(tl.v, tl.n, sizeof(*tl.v), mh_moment_cmp);
	/* The summary is a JSON object: open it up and add the timeline. */
	slen = strlen(summary);
	while (slen > 0 && summary[slen - 1] != '}')
		slen--;
	if (slen == 0) {
		mh_respond_error(r, 500, "corrupt_record", "message summary");
		goto out;
	}
	mh_buf_add(&pg.buf, summary, slen - 1);
	mh_buf_str(&pg.buf, ",\"timeline\":[");
	for (size_t i = 0; i < tl.n; i++)
		mh_page_emit(&pg, tl.v[i].seq, tl.v[i].json,
		    strlen(tl.v[i].json));
	mh_buf_str(&pg.buf, more ? "],\"timeline_truncated\":true}" :
	    "],\"timeline_truncated\":false}");
	if (pg.buf.failed || tl.failed)
		mh_respond_error(r, 503, "out_of_memory", "try again");
	else
		mh_respond_json(r, 200, pg.buf.p);
out:
	for (size_t i = 0; i < tl.n; i++)
		free(tl.v[i].json);
	free(tl.v);
	free(pg.buf.p);
	free(summary);
}

void
mh_api_health(struct mh_app *app, struct mh_request *r)
{
	struct mh_store_stats st;
	enum mh_store_err err = MH_STORE_FAILED;
	int relay = mh_relay_up(app->cfg->home);
	char out[256];

	if (app->store != NULL)
		err = mh_store_stats(app->store, &st);
	if (err != MH_STORE_OK) {
		if (err == MH_STORE_RECOVER)
			app->store_broken = 1;
		snprintf(out, sizeof(out), "{\"error\":\"storage_unavailable\","
		    "\"detail\":\"the database cannot be read\","
		    "\"status\":\"degraded\",\"storage\":\"unavailable\","
		    "\"relay\":\"%s\"}",
		    relay ? "up" : "down");
		mh_respond_json(r, 503, out);
		return;
	}
	snprintf(out, sizeof(out), "{\"status\":\"ok\",\"storage\":\"ok\","
	    "\"relay\":\"%s\",\"last_seq\":%" PRIu64 ",\"inbox_pending\":%"
	    PRIu64 ",\"set_aside\":%" PRIu64 ",\"test_events\":%s}",
	    relay ? "up" : "down", st.last_seq, st.inbox_pending, st.set_aside,
	    app->cfg->test_events ? "true" : "false");
	mh_respond_json(r, 200, out);
}

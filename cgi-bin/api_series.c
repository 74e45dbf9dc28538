/*
 * GET /api/stats/series?since&until&bucket=hour|day: how many events of
 * each type happened in each hour or UTC day of a window, read from the
 * storage's counts per hour (a read per hour and type, whatever the
 * number of events). Columnar, as charts draw it: the buckets' starts,
 * then for each type its counts in the same order. Opens and clicks are
 * people's, as /api/stats counts them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* The longest window of each bucket, in its buckets. */
#define MH_SERIES_MAX_HOURS (366 * 24)
#define MH_SERIES_MAX_DAYS (10 * 366)
#define MH_SERIES_TYPES 32

struct mh_series {
	int64_t since, step;	/* the first bucket's start, its length */
	size_t n;		/* buckets */
	uint64_t *count;	/* [type * n + bucket] */
	int type;		/* the type asked (-1: each) */
	char *q;		/* the search asked, or NULL */
};

static void
mh_series_add(void *ctx, int64_t hour, const char *type, uint64_t count)
{
	struct mh_series *s = ctx;
	int i;
	int64_t b;

	if (type == NULL) {
		memset(s->count, 0, MH_SERIES_TYPES * s->n * sizeof(*s->count));
		return;
	}
	i = mh_event_type_index(type, strlen(type));
	b = (hour * 3600 - s->since) / s->step;
	if (i >= 0 && i < MH_SERIES_TYPES && b >= 0 && (size_t)b < s->n &&
	    (s->type < 0 || s->type == i))
		s->count[(size_t)i * s->n + (size_t)b] += count;
}

static int64_t
mh_floor_to(int64_t t, int64_t step)
{
	return t >= 0 ? t - t % step : t - (step + t % step) % step;
}

/* Reads the page's filters a series follows (type; q, 2 to 200
 * characters) into s; answers 400 and returns -1. */
static int
mh_series_filters(struct mh_request *r, struct mh_series *s)
{
	return mh_type_arg(r, &s->type) != 0 || mh_search_arg(r, &s->q) != 0 ?
	    -1 : 0;
}

/* Counts an event the search found in its bucket (ctx, the series). */
static int
mh_series_event(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_series *s = ctx;
	struct json_object *ev = json_tokener_parse(json);
	const char *type = mh_json_str(ev, "type");

	(void)seq;
	(void)len;
	/* As the counts per hour count it: a machine's open is not one. */
	if (type != NULL && mh_json_str(ev, "machine") == NULL)
		mh_series_add(s, mh_floor_to(mh_json_int(ev, "ts"), 3600) / 3600,
		    type, 1);
	json_object_put(ev);
	return 0;
}

/* Reads the window and the bucket into s; answers 400 and returns -1. */
static int
mh_series_args(struct mh_request *r, struct mh_series *s, const char **name)
{
	struct mh_query w = { 0 };
	char *bucket = NULL;
	int64_t until, max;
	int ret = -1;

	if (mh_window_args(r, &w) != 0 || mh_arg(r, "bucket", &bucket) != 0 ||
	    mh_series_filters(r, s) != 0)
		goto out;
	*name = bucket == NULL || strcmp(bucket, "day") == 0 ? "day" :
	    strcmp(bucket, "hour") == 0 ? "hour" : NULL;
	if (*name == NULL) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "bucket must be hour "
		    "or day, not \"%.20s\"", bucket);
		goto out;
	}
	s->step = **name == 'h' ? 3600 : 86400;
	max = **name == 'h' ? MH_SERIES_MAX_HOURS : MH_SERIES_MAX_DAYS;
	until = w.has_until ? w.until : (int64_t)time(NULL);
	if (!w.has_since)	/* 48 hours or 30 days, up to until */
		w.since = until - (**name == 'h' ? 48 : 30) * s->step;
	s->since = mh_floor_to(w.since, s->step);
	until = mh_floor_to(until + s->step - 1, s->step);
	if (until <= s->since)
		until = s->since + s->step;
	if ((until - s->since) / s->step > max) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "a series by %s "
		    "covers at most %" PRId64 " days", *name, max * s->step /
		    86400);
		goto out;
	}
	s->n = (size_t)((until - s->since) / s->step);
	ret = 0;
out:
	free(bucket);
	return ret;
}

static void
mh_series_write(struct mh_buf *b, const struct mh_series *s,
    const char *bucket)
{
	mh_buf_printf(b, "{\"bucket\":\"%s\",\"since\":%" PRId64 ",\"until\":%"
	    PRId64 ",\"start\":[", bucket, s->since, s->since +
	    (int64_t)s->n * s->step);
	for (size_t k = 0; k < s->n; k++)
		mh_buf_printf(b, "%s%" PRId64, k ? "," : "", s->since +
		    (int64_t)k * s->step);
	mh_buf_str(b, "],\"counts\":{");
	for (size_t i = 0; mh_event_types[i].name != NULL &&
	    i < MH_SERIES_TYPES; i++) {
		mh_buf_printf(b, "%s\"%s\":[", i ? "," : "",
		    mh_event_types[i].name);
		for (size_t k = 0; k < s->n; k++)
			mh_buf_printf(b, "%s%" PRIu64, k ? "," : "",
			    s->count[i * s->n + k]);
		mh_buf_str(b, "]");
	}
	mh_buf_str(b, "}}");
}

void
mh_api_stats_series(struct mh_app *app, struct mh_request *r)
{
	struct mh_series s = { 0 };
	struct mh_buf b = { 0 };
	const char *bucket;
	enum mh_store_err err;

	if (mh_series_args(r, &s, &bucket) != 0) {
		free(s.q);
		return;
	}
	if (app->store == NULL || (s.count = mh_malloc(MH_SERIES_TYPES *
	    s.n * sizeof(*s.count))) == NULL) {
		mh_respond_store_error(r, app->store == NULL ? MH_STORE_FAILED :
		    MH_STORE_NOMEM);
		free(s.q);
		return;
	}
	memset(s.count, 0, MH_SERIES_TYPES * s.n * sizeof(*s.count));
	if (s.q != NULL) {
		/* The search has no counts kept: its events are walked. */
		struct mh_query q = { .table = MH_TABLE_EVENTS, .limit = 1000,
		    .text = s.q, .since = s.since, .has_since = 1,
		    .until = s.since + (int64_t)s.n * s.step, .has_until = 1 };

		q.where.event.type = s.type >= 0 ?
		    mh_event_types[s.type].name : NULL;
		err = mh_store_query_all(app->store, &q, mh_series_event, &s);
	} else
		err = mh_store_series(app->store, s.since / 3600,
		    (s.since + (int64_t)s.n * s.step) / 3600, mh_series_add, &s);
	if (err != MH_STORE_OK)
		mh_respond_store_error(r, err);
	else {
		mh_series_write(&b, &s, bucket);
		mh_buf_respond(r, &b);
	}
	free(s.count);
	free(s.q);
}

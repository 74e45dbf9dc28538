/*
 * GET /api/stats: how many events of each type happened in a time window
 * (the last day unless since or until say otherwise), every type listed
 * in the event types' order. Opens and clicks count people's: a
 * machine's (counted per hour as "machine:TYPE") are machine_opens and
 * machine_clicks.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mailhooks.h"

struct mh_tally {
	uint64_t n[64];
	uint64_t total;
	uint64_t machine_opens, machine_clicks;
};

static void
mh_tally_add(struct mh_tally *t, const char *type, uint64_t count)
{
	size_t plen = sizeof(MH_MACHINE_COUNTED) - 1;
	unsigned flags;
	int i;

	t->total += count;
	if (strncmp(type, MH_MACHINE_COUNTED, plen) == 0) {
		flags = mh_event_type_flags(type + plen);
		if (flags & MH_TYPE_OPEN)
			t->machine_opens += count;
		else if (flags & MH_TYPE_CLICK)
			t->machine_clicks += count;
		return;
	}
	if ((i = mh_event_type_index(type, strlen(type))) >= 0 &&
	    (size_t)i < sizeof(t->n) / sizeof(t->n[0]))
		t->n[i] += count;
}

/* mh_count_fn: one event of the window's edges. */
static void
mh_tally_event(void *ctx, const char *type)
{
	if (type == NULL)
		memset(ctx, 0, sizeof(struct mh_tally));
	else
		mh_tally_add(ctx, type, 1);
}

/* mh_series_fn: the count of a type in one whole hour of the window. */
static void
mh_tally_hour(void *ctx, int64_t hour, const char *type, uint64_t count)
{
	(void)hour;
	if (type == NULL)
		memset(ctx, 0, sizeof(struct mh_tally));
	else
		mh_tally_add(ctx, type, count);
}

/* The furthest time from 1970, either way, counted by the hour. */
#define MH_STATS_TIME_MAX (INT64_MAX / 7200 * 3600)

/* A time past the hours' range (billions of years, no event) at its end. */
static int64_t
mh_stats_clamp(int64_t t)
{
	return t < -MH_STATS_TIME_MAX ? -MH_STATS_TIME_MAX :
	    t > MH_STATS_TIME_MAX ? MH_STATS_TIME_MAX : t;
}

static int64_t
mh_hour_floor(int64_t t)
{
	return t >= 0 ? t / 3600 : -((-t + 3599) / 3600);
}

/* Counts the events of q's window into *t. The whole hours inside it are
 * read from the counts per hour (a key per hour and type, whatever the
 * number of events: an all-time count of a large store is one walk of
 * them, not of every event); only the part hours at its two ends are
 * counted event by event. */
static enum mh_store_err
mh_stats_count(struct mh_store *st, const struct mh_query *asked,
    struct mh_tally *t)
{
	struct mh_query window = *asked, edge, *q = &window;
	int64_t first, end;
	struct mh_tally part[3];
	enum mh_store_err err;

	q->since = mh_stats_clamp(q->since);
	q->until = mh_stats_clamp(q->until);
	/* The whole hours: [first, end). */
	first = q->has_since ? -mh_hour_floor(-q->since) :
	    -MH_STATS_TIME_MAX / 3600;
	end = q->has_until ? mh_hour_floor(q->until) : MH_STATS_TIME_MAX / 3600;
	edge = *q;

	memset(part, 0, sizeof(part));
	if (first >= end)	/* within an hour or two: event by event */
		return mh_store_count(st, q, mh_tally_event, t);
	if ((err = mh_store_series(st, first, end, mh_tally_hour,
	    &part[0])) != MH_STORE_OK)
		return err;
	if (q->has_since && q->since < first * 3600) {
		edge.until = first * 3600;
		edge.has_until = 1;
		if ((err = mh_store_count(st, &edge, mh_tally_event,
		    &part[1])) != MH_STORE_OK)
			return err;
	}
	if (q->has_until && end * 3600 < q->until) {
		edge = *q;
		edge.since = end * 3600;
		edge.has_since = 1;
		if ((err = mh_store_count(st, &edge, mh_tally_event,
		    &part[2])) != MH_STORE_OK)
			return err;
	}
	for (size_t p = 0; p < 3; p++) {
		t->total += part[p].total;
		t->machine_opens += part[p].machine_opens;
		t->machine_clicks += part[p].machine_clicks;
		for (size_t i = 0; i < sizeof(t->n) / sizeof(t->n[0]); i++)
			t->n[i] += part[p].n[i];
	}
	return MH_STORE_OK;
}

void
mh_api_stats(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS };
	struct mh_tally t = { { 0 }, 0, 0, 0 };
	struct mh_buf b = { 0 };
	enum mh_store_err err;

	if (mh_window_args(r, &q) != 0)
		return;
	if (!q.has_since && !q.has_until) {
		/* The last day, unless asked otherwise. */
		q.since = (int64_t)time(NULL) - 86400;
		q.has_since = 1;
	}
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return;
	}
	if ((err = mh_stats_count(app->store, &q, &t)) != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	mh_buf_printf(&b, q.has_since ? "{\"since\":%" PRId64 : "{\"since\":null",
	    q.since);
	mh_buf_printf(&b, q.has_until ? ",\"until\":%" PRId64 : ",\"until\":null",
	    q.until);
	mh_buf_printf(&b, ",\"total\":%" PRIu64 ",\"machine_opens\":%" PRIu64
	    ",\"machine_clicks\":%" PRIu64 ",\"counts\":{", t.total,
	    t.machine_opens, t.machine_clicks);
	for (size_t i = 0; mh_event_types[i].name != NULL; i++)
		mh_buf_printf(&b, "%s\"%s\":%" PRIu64, i ? "," : "",
		    mh_event_types[i].name, t.n[i]);
	mh_buf_str(&b, "}}");
	mh_buf_respond(r, &b);
}

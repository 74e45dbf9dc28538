/*
 * GET /api/stats: how many events of each type happened in a time window
 * (the last day unless since or until say otherwise), every type listed
 * in the event types' order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mailhooks.h"

struct mh_tally {
	uint64_t n[64];
	uint64_t total;
};

static void
mh_tally(void *ctx, const char *type)
{
	struct mh_tally *t = ctx;
	int i;

	if (type == NULL) {
		memset(t, 0, sizeof(*t));
		return;
	}
	t->total++;
	if ((i = mh_event_type_index(type, strlen(type))) >= 0 &&
	    (size_t)i < sizeof(t->n) / sizeof(t->n[0]))
		t->n[i]++;
}

void
mh_api_stats(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS };
	struct mh_tally t = { { 0 }, 0 };
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
	if ((err = mh_store_count(app->store, &q, mh_tally, &t)) != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	mh_buf_printf(&b, q.has_since ? "{\"since\":%" PRId64 : "{\"since\":null",
	    q.since);
	mh_buf_printf(&b, q.has_until ? ",\"until\":%" PRId64 : ",\"until\":null",
	    q.until);
	mh_buf_printf(&b, ",\"total\":%" PRIu64 ",\"counts\":{", t.total);
	for (size_t i = 0; mh_event_types[i].name != NULL; i++)
		mh_buf_printf(&b, "%s\"%s\":%" PRIu64, i ? "," : "",
		    mh_event_types[i].name, t.n[i]);
	mh_buf_str(&b, "}}");
	mh_buf_respond(r, &b);
}

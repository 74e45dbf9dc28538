/*
 * The events' counts per hour and type (events-per-hour.db, kept by
 * event_index.c in each event's transaction): a series reads one key per
 * hour and type, whatever the number of events.
 */
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

struct mh_series_walk {
	unsigned char from[8];
	uint64_t end;		/* the key of the first hour not wanted */
	mh_series_fn fn;
	void *ctx;
};

static int
mh_series_one(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_series_walk *w = ctx;
	const unsigned char *k = key->data;
	char type[MH_TYPE_MAX + 1];
	size_t tlen = key->size - 8;

	if (key->size <= 8 || mh_be64_get(k) >= w->end)
		return 1;
	if (data->size != 8 || tlen > MH_TYPE_MAX)
		return 0;
	memcpy(type, k + 8, tlen);
	type[tlen] = '\0';
	w->fn(w->ctx, mh_ts_unkey(mh_be64_get(k)), type,
	    mh_be64_get(data->data));
	return 0;
}

static int
mh_series_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_series_walk *w = ctx;

	w->fn(w->ctx, 0, NULL, 0);	/* a retry counts from nothing */
	return mh_db_walk(st->db[MH_DB_EV_PER_HOUR], txn, w->from, 8,
	    mh_series_one, w);
}

enum mh_store_err
mh_store_series(struct mh_store *st, int64_t from_hour, int64_t to_hour,
    mh_series_fn fn, void *ctx)
{
	struct mh_series_walk w = { .end = mh_ts_key(to_hour), .fn = fn,
	    .ctx = ctx };

	mh_be64_put(w.from, mh_ts_key(from_hour));
	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_series_txn, &w));
}

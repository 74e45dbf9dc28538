/*
 * Events stored before event_index.c existed get their indexes: the
 * application describes each (its time, provider and subject, from its
 * JSON), a page to a transaction. meta.db's "indexed_to" keeps the last
 * seq looked at, so that the walk goes on where it stopped; once it has
 * reached the last event, "indexed_all" says so and every later call
 * costs one read: events stored since are indexed as they are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

#define MH_REINDEX_PAGE 500
#define MH_INDEXED_TO "indexed_to"
#define MH_INDEXED_ALL "indexed_all"

struct mh_reindex {
	mh_describe_fn describe;
	void *ctx;
	uint64_t to;		/* the last seq looked at */
	size_t page, made;	/* this transaction's */
};

static int
mh_reindex_one(struct mh_store *st, DB_TXN *txn, struct mh_reindex *r,
    uint64_t seq, const DBT *data)
{
	struct mh_event ev;
	struct mh_event_keys k;
	union mh_fields_ref f;
	const char *json;
	int ret;

	if ((ret = mh_event_keys_get(st, txn, seq, &k, 0)) != DB_NOTFOUND)
		return ret == EINVAL ? 0 : ret;
	if (mh_indexed_parse(data, &f, &json) != 0)
		return 0;
	memset(&ev, 0, sizeof(ev));
	if (r->describe(r->ctx, json, &ev) != 0) {
		mh_event_clear(&ev);
		return ENOMEM;
	}
	ev.rec.event.email = (char *)f.event.email;
	mh_event_keys_of(&k, &ev, ev.receipt);
	ev.rec.event.email = NULL;
	mh_event_clear(&ev);
	r->made++;
	return mh_event_index_put(st, txn, seq, &k, f.event.type, NULL);
}

static int
mh_reindex_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_reindex *r = ctx;
	DB *events = st->db[MH_DB_EVENTS];
	unsigned char kb[8];
	DBC *cur = NULL;
	DBT key, data;
	uint64_t to, all;
	int ret;

	r->page = r->made = 0;
	if ((ret = mh_counter(st->db[MH_DB_META], txn, MH_INDEXED_ALL, 0, 0,
	    &all)) != 0 || all != 0)
		return ret;
	if ((ret = mh_counter(st->db[MH_DB_META], txn, MH_INDEXED_TO, 0,
	    DB_RMW, &to)) != 0 || (ret = events->cursor(events, txn, &cur,
	    0)) != 0)
		return ret;
	r->to = to;
	mh_key64(&key, kb, to + 1);
	key.ulen = sizeof(kb);
	key.flags = DB_DBT_USERMEM;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_REALLOC;
	for (ret = cur->get(cur, &key, &data, DB_SET_RANGE); ret == 0 &&
	    r->page < MH_REINDEX_PAGE; ret = cur->get(cur, &key, &data,
	    DB_NEXT)) {
		r->to = mh_be64_get(kb);
		r->page++;
		if ((ret = mh_reindex_one(st, txn, r, r->to, &data)) != 0)
			break;
	}
	cur->close(cur);
	free(data.data);
	if (ret != 0 && ret != DB_NOTFOUND)
		return ret;
	/* Past the last event: every event is indexed, for good. */
	if (ret == DB_NOTFOUND && (ret = mh_counter(st->db[MH_DB_META], txn,
	    MH_INDEXED_ALL, 1, DB_RMW, NULL)) != 0)
		return ret;
	return r->to == to ? 0 : mh_counter(st->db[MH_DB_META], txn,
	    MH_INDEXED_TO, (int64_t)(r->to - to), DB_RMW, NULL);
}

enum mh_store_err
mh_store_events_reindex(struct mh_store *st, mh_describe_fn describe,
    void *ctx, size_t *made)
{
	struct mh_reindex r = { describe, ctx, 0, 0, 0 };
	int ret;

	*made = 0;
	do {
		if ((ret = mh_txn_run(st, 0, DB_TXN_NOSYNC, mh_reindex_txn,
		    &r)) != 0)
			break;
		*made += r.made;
	} while (r.page == MH_REINDEX_PAGE);
	return mh_store_error(ret);
}

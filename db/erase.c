/*
 * Events removed for good: by age (retention) or by address (erasure).
 * An event goes with its indexes (the record's, by the secondaries, and
 * event_index.c's), the provider's record stored beside it and, once no
 * event of it is left, its message's summary. Erasure also takes the raw
 * bodies the events came from (a body of several recipients goes whole)
 * and the notifications the application says name the address
 * (notifications.c walks them). A batch of events to a transaction, so
 * that none holds the tables for long.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

#define MH_ERASE_BATCH 200

/* Deletes the raw body of receipt, keeping the bodies' total right. */
static int
mh_raw_del(struct mh_store *st, DB_TXN *txn, uint64_t receipt, int *deleted)
{
	DB *raw = st->db[MH_DB_RAW];
	char head[MH_ENTRY_HEAD_MAX];
	unsigned char kb[8];
	struct mh_entry e;
	DBT key, data;
	int ret;

	*deleted = 0;
	mh_key64(&key, kb, receipt);
	memset(&data, 0, sizeof(data));
	data.data = head;
	data.ulen = data.dlen = sizeof(head);
	data.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	if ((ret = raw->get(raw, txn, &key, &data, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	if (mh_entry_decode(head, data.size, &e) != 0)
		e.meta.bytes = 0;
	if ((ret = raw->del(raw, txn, &key, 0)) != 0)
		return ret;
	*deleted = 1;
	return mh_counter(raw, txn, MH_RAW_TOTAL, -(int64_t)e.meta.bytes,
	    DB_RMW, NULL);
}

/* Removes the event seq, as the file's comment says. */
static int
mh_event_remove(struct mh_store *st, DB_TXN *txn, uint64_t seq, int erase,
    struct mh_erased *n)
{
	DB *events = st->db[MH_DB_EVENTS], *cbs = st->db[MH_DB_CALLBACKS];
	struct mh_event_keys k;
	unsigned char kb[8];
	union mh_fields_ref f;
	const char *json;
	DBT key, data;
	int ret, gone = 0;

	memset(&k, 0, sizeof(k));
	mh_key64(&key, kb, seq);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = events->get(events, txn, &key, &data, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	if (mh_indexed_parse(&data, &f, &json) != 0)
		f.event.type = f.event.email = f.event.message_id = "";
	if ((ret = mh_event_index_del(st, txn, seq, &k, f.event.email,
	    f.event.type)) != 0 ||
	    (ret = events->del(events, txn, &key, 0)) != 0)
		goto out;
	n->events++;
	if ((ret = cbs->del(cbs, txn, &key, 0)) == 0)
		n->callbacks++;
	else if (ret != DB_NOTFOUND)
		goto out;
	if ((ret = mh_message_del(st, txn, k.provider, f.event.message_id,
	    !erase, &gone)) != 0)
		goto out;
	n->summaries += (uint64_t)gone;
	if (erase && k.receipt != 0 &&
	    (ret = mh_raw_del(st, txn, k.receipt, &gone)) == 0)
		n->raw_bodies += (uint64_t)gone;
out:
	free(data.data);
	return ret;
}

/* Up to MH_ERASE_BATCH ids of db's keys that start with prefix (plen
 * bytes) and end in a be64 id; with time, the keys below prefix's ts
 * (the time index). */
struct mh_batch {
	uint64_t id[MH_ERASE_BATCH];
	size_t n;
};

static int
mh_batch_take(DB *db, DB_TXN *txn, const unsigned char *prefix, size_t plen,
    int time, struct mh_batch *b)
{
	unsigned char k[MH_SEARCH_TEXT_MAX + 16];
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	b->n = 0;
	memcpy(k, prefix, time ? 0 : plen);
	mh_keys_only(&key, &data, k, time ? 0 : plen, sizeof(k));
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	for (ret = cur->get(cur, &key, &data, time ? DB_FIRST : DB_SET_RANGE);
	    ret == 0 && b->n < MH_ERASE_BATCH;
	    ret = cur->get(cur, &key, &data, DB_NEXT)) {
		if (time ? key.size != 16 || memcmp(k, prefix, 8) >= 0 :
		    key.size != plen + 8 || memcmp(k, prefix, plen) != 0)
			break;
		b->id[b->n++] = mh_be64_get(k + key.size - 8);
	}
	cur->close(cur);
	return ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL ? 0 : ret;
}

struct mh_erasing {
	int dbi;		/* the index walked */
	unsigned char prefix[MH_SEARCH_TEXT_MAX + 8];
	size_t plen;
	int time, erase;
	struct mh_erased done, batch;
	size_t taken;
};

static int
mh_erase_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_erasing *e = ctx;
	struct mh_batch b;
	int ret;

	memset(&e->batch, 0, sizeof(e->batch));
	if ((ret = mh_batch_take(st->db[e->dbi], txn, e->prefix, e->plen,
	    e->time, &b)) != 0)
		return ret;
	e->taken = b.n;
	for (size_t i = 0; i < b.n && ret == 0; i++)
		ret = mh_event_remove(st, txn, b.id[i], e->erase, &e->batch);
	return ret;
}

/* Runs e's batches until one finds nothing. */
static int
mh_erase_run(struct mh_store *st, struct mh_erasing *e)
{
	int ret;

	do {
		if ((ret = mh_txn_run(st, 0, 0, mh_erase_txn, e)) != 0)
			return ret;
		e->done.events += e->batch.events;
		e->done.callbacks += e->batch.callbacks;
		e->done.summaries += e->batch.summaries;
		e->done.raw_bodies += e->batch.raw_bodies;
	} while (e->taken == MH_ERASE_BATCH && e->batch.events > 0);
	return 0;
}

enum mh_store_err
mh_store_events_expire(struct mh_store *st, int64_t before,
    struct mh_erased *n)
{
	struct mh_erasing e = { .dbi = MH_DB_EV_BY_TIME, .time = 1 };
	int ret;

	mh_be64_put(e.prefix, mh_ts_key(before));
	e.plen = 8;
	ret = mh_erase_run(st, &e);
	*n = e.done;
	return mh_store_error(ret);
}

/* The recipient's note (the addresses it opened from) goes with it. */
static int
mh_erase_note_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_note_erase(st, txn, MH_NOTE_RECIPIENT, ctx);
}

enum mh_store_err
mh_store_erase(struct mh_store *st, const char *email,
    int (*names)(void *ctx, const char *json), void *ctx, struct mh_erased *n)
{
	struct mh_erasing e = { .dbi = MH_DB_BY_EMAIL, .erase = 1 };
	int ret;

	memset(n, 0, sizeof(*n));
	if (strlen(email) >= MH_SEARCH_TEXT_MAX)
		return MH_STORE_NOTFOUND;
	mh_lower_copy((char *)e.prefix, email, MH_SEARCH_TEXT_MAX - 1);
	e.plen = strlen((char *)e.prefix) + 1;
	if ((ret = mh_erase_run(st, &e)) == 0)
		ret = mh_notices_erase(st, names, ctx, &e.done.notifications);
	if (ret == 0)
		ret = mh_txn_run(st, 0, 0, mh_erase_note_txn, (void *)email);
	*n = e.done;
	return mh_store_error(ret);
}

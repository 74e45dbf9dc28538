/*
 * The send queues (tables.c's mh_sendqs: the outbox, outbox.db, and the
 * campaigns' queue): a record's id -> when it is due and the lease a
 * sender holds on it, indexed by due time (outbox-due.db...). A
 * lease is an inbox claim (inbox.c) by another name: the holder's pid and
 * since when, honoured while that process lives and for at most
 * MH_LEASE_SECONDS, so that two senders never take the same mail and a
 * dead one's are taken over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"

#define MH_LEASE_SIZE 16	/* due (8), pid (4), at (4) */

static void
mh_lease_decode(const DBT *data, struct mh_lease *l)
{
	const unsigned char *v = data->data;

	memset(l, 0, sizeof(*l));
	if (data->size != MH_LEASE_SIZE)
		return;		/* not one of ours: due at once, held by none */
	l->due_ms = (int64_t)mh_be64_get(v);
	l->pid = mh_be32_get(v + 8);
	l->at = mh_be32_get(v + 12);
}

int
mh_lease_get(struct mh_store *st, enum mh_sendq q, DB_TXN *txn, uint64_t id,
    struct mh_lease *l, u_int32_t flags)
{
	DB *db = st->db[mh_sendqs[q].queue];
	unsigned char kbuf[8], vbuf[MH_LEASE_SIZE];
	DBT key, data;
	int ret;

	mh_key64(&key, kbuf, id);
	memset(&data, 0, sizeof(data));
	data.data = vbuf;
	data.ulen = sizeof(vbuf);
	data.flags = DB_DBT_USERMEM;
	if ((ret = db->get(db, txn, &key, &data, flags)) == 0)
		mh_lease_decode(&data, l);
	return ret;
}

int
mh_lease_put(struct mh_store *st, enum mh_sendq q, DB_TXN *txn, uint64_t id,
    const struct mh_lease *l)
{
	DB *db = st->db[mh_sendqs[q].queue];
	unsigned char kbuf[8], vbuf[MH_LEASE_SIZE];
	DBT key, data;

	mh_be64_put(vbuf, (uint64_t)(l->due_ms < 0 ? 0 : l->due_ms));
	mh_be32_put(vbuf + 8, l->pid);
	mh_be32_put(vbuf + 12, l->at);
	mh_key64(&key, kbuf, id);
	memset(&data, 0, sizeof(data));
	data.data = vbuf;
	data.size = sizeof(vbuf);
	return db->put(db, txn, &key, &data, 0);
}

int
mh_lease_del(struct mh_store *st, enum mh_sendq q, DB_TXN *txn, uint64_t id)
{
	DB *db = st->db[mh_sendqs[q].queue];
	unsigned char kbuf[8];
	DBT key;
	int ret;

	mh_key64(&key, kbuf, id);
	ret = db->del(db, txn, &key, 0);
	return ret == DB_NOTFOUND ? 0 : ret;
}

/* Whether a live sender holds l now: another, or this one (a mail it
 * sends is not taken again while the request is out). */
static int
mh_lease_held(const struct mh_store *st, const struct mh_lease *l,
    struct mh_alive_seen *seen)
{
	struct mh_claim c = { .pid = l->pid, .at = l->at };

	if (l->pid == st->pid)
		return (uint32_t)time(NULL) - l->at <= MH_LEASE_SECONDS;
	return mh_claimed_by_other(st, &c, seen);
}

struct mh_take {
	enum mh_sendq q;
	int64_t now_ms;
	size_t max, n;
	uint64_t *ids;
	int64_t *due;
};

/* Collects what is due and free, walking the due index first due first;
 * the leases are written once the cursor is closed. */
static int
mh_take_walk(struct mh_store *st, DB_TXN *txn, struct mh_take *t)
{
	DB *due = st->db[mh_sendqs[t->q].due];
	unsigned char kbuf[16], pbuf[8], vbuf[MH_LEASE_SIZE];
	struct mh_alive_seen seen = { .n = 0 };
	struct mh_lease l;
	DBC *cur = NULL;
	DBT key, pkey, data;
	int ret, cret;

	memset(&key, 0, sizeof(key));
	memset(&pkey, 0, sizeof(pkey));
	memset(&data, 0, sizeof(data));
	key.data = kbuf;
	key.ulen = sizeof(kbuf);
	pkey.data = pbuf;
	pkey.ulen = sizeof(pbuf);
	data.data = vbuf;
	data.ulen = sizeof(vbuf);
	key.flags = pkey.flags = data.flags = DB_DBT_USERMEM;
	if ((ret = due->cursor(due, txn, &cur, 0)) != 0)
		return ret;
	while (t->n < t->max &&
	    (ret = cur->pget(cur, &key, &pkey, &data, DB_NEXT | DB_RMW)) == 0) {
		mh_lease_decode(&data, &l);
		if (l.due_ms > t->now_ms)
			break;
		if (pkey.size != 8 || mh_lease_held(st, &l, &seen))
			continue;
		t->ids[t->n] = mh_be64_get(pbuf);
		t->due[t->n++] = l.due_ms;
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	if ((cret = cur->close(cur)) != 0 && ret == 0)
		ret = cret;
	return ret;
}

static int
mh_take_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_take *t = ctx;
	int ret;

	t->n = 0;
	if ((ret = mh_take_walk(st, txn, t)) != 0)
		return ret;
	for (size_t i = 0; i < t->n; i++)
		if ((ret = mh_lease_put(st, t->q, txn, t->ids[i], &(struct mh_lease){
		    t->due[i], st->pid, (uint32_t)time(NULL) })) != 0)
			return ret;
	return t->n == 0 ? MH_TXN_DISCARD : 0;
}

enum mh_store_err
mh_store_queue_take(struct mh_store *st, enum mh_sendq q, int64_t now_ms,
    size_t max, uint64_t *ids, size_t *n)
{
	struct mh_take t = { q, now_ms, max, 0, ids, NULL };
	int ret = ENOMEM;

	*n = 0;
	if (max == 0)
		return MH_STORE_OK;
	/* Not flushed: a lease a crash loses leaves the mail due, as no
	 * request goes out before its attempt is written, and flushed, after
	 * the lease in the log. */
	if ((t.due = calloc(max, sizeof(*t.due))) != NULL)
		ret = mh_txn_run(st, 0, DB_TXN_WRITE_NOSYNC, mh_take_txn, &t);
	free(t.due);
	if (ret == 0)
		*n = t.n;
	return mh_store_error(ret);
}

/* A lease of this process's (ctx: its pid) is let go: held by none. */
static int
mh_release_one(void *ctx, const DBT *key, DBT *data)
{
	struct mh_lease l;

	(void)key;
	mh_lease_decode(data, &l);
	if (l.pid != *(const uint32_t *)ctx || data->size != MH_LEASE_SIZE)
		return 0;
	mh_be32_put((unsigned char *)data->data + 8, 0);
	return MH_WALK_WRITE;
}

static int
mh_release_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	const enum mh_sendq *q = ctx;

	return mh_db_rewrite(st->db[mh_sendqs[*q].queue], txn, mh_release_one,
	    &st->pid);
}

void
mh_store_queue_release(struct mh_store *st)
{
	static const enum mh_sendq all[] = { MH_SENDQ_MAIL, MH_SENDQ_CAMPAIGN };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (st->env != NULL && st->db[mh_sendqs[all[i]].queue] != NULL)
			mh_txn_once(st, 0, 0, mh_release_txn, (void *)&all[i]);
}

struct mh_queue_count {
	enum mh_sendq q;
	int64_t now_ms;
	uint64_t queued, due;
};

static int
mh_count_due(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_queue_count *c = ctx;

	(void)data;
	if (key->size != 16 || (int64_t)mh_be64_get(key->data) > c->now_ms)
		return 1;
	c->due++;
	return 0;
}

static int
mh_queue_count_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_queue_count *c = ctx;
	int ret;

	c->due = 0;
	if ((ret = mh_db_count(st->db[mh_sendqs[c->q].queue], txn,
	    &c->queued)) != 0)
		return ret;
	return mh_db_walk(st->db[mh_sendqs[c->q].due], txn, NULL, 0,
	    mh_count_due, c);
}

enum mh_store_err
mh_store_queue_count(struct mh_store *st, enum mh_sendq q, int64_t now_ms,
    uint64_t *queued, uint64_t *due)
{
	struct mh_queue_count c = { q, now_ms, 0, 0 };
	int ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_queue_count_txn, &c);

	*queued = c.queued;
	*due = c.due;
	return mh_store_error(ret);
}

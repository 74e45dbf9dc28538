/*
 * Retention of the raw bodies the inbox keeps after processing: bounded by
 * age and by total size. raw.db holds, beside the bodies, their running
 * total under the key "total"; it sorts after every receipt, so it lives on
 * the page new bodies are appended to and costs no extra lock.
 */
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* Bodies looked at per transaction while pruning. */
#define MH_PRUNE_BATCH 256

struct mh_prune {
	int64_t now, max_age;
	uint64_t max_bytes;
	size_t pruned;		/* in the transactions committed */
	size_t batch;		/* in this one */
	int done;		/* nothing more is due */
};

/* What becomes of a body: it goes, it waits in the inbox (and is passed
 * over), or it stays and so do the newer ones. Else a Berkeley DB code. */
#define MH_PRUNE_IT 1
#define MH_PRUNE_PASS 2
#define MH_PRUNE_STOP 3

static int
mh_prune_due(struct mh_store *st, DB_TXN *txn, const struct mh_prune *p,
    const DBT *key, const DBT *head, uint64_t total, uint64_t *bytes)
{
	struct mh_entry e;
	DBT pkey;
	int ret;

	memset(&pkey, 0, sizeof(pkey));
	pkey.data = key->data;
	pkey.size = 8;
	/* Still waiting to be processed: kept, whatever its age. */
	if ((ret = st->db[MH_DB_INBOX]->exists(st->db[MH_DB_INBOX], txn, &pkey,
	    0)) == 0)
		return MH_PRUNE_PASS;
	if (ret != DB_NOTFOUND)
		return ret;
	if (mh_entry_decode(head->data, head->size, &e) != 0)
		memset(&e.meta, 0, sizeof(e.meta));
	*bytes = e.meta.bytes;
	if (e.meta.received_ms > 0 &&
	    p->now - e.meta.received_ms / 1000 > p->max_age)
		return MH_PRUNE_IT;
	return total > p->max_bytes ? MH_PRUNE_IT : MH_PRUNE_STOP;
}

/* One transaction's worth of pruning. */
static int
mh_prune_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_prune *p = ctx;
	DB *raw = st->db[MH_DB_RAW];
	DBC *cur = NULL;
	DBT key, head;
	char buf[MH_ENTRY_HEAD_MAX];
	uint64_t total, start, bytes = 0;
	int ret, n = 0, due;

	p->done = 1;
	p->batch = 0;
	if ((ret = mh_counter(raw, txn, MH_RAW_TOTAL, 0, DB_RMW, &total)) != 0 ||
	    (ret = raw->cursor(raw, txn, &cur, 0)) != 0)
		return ret;
	start = total;
	memset(&key, 0, sizeof(key));
	memset(&head, 0, sizeof(head));
	key.flags = DB_DBT_REALLOC;
	/* The metadata only, however large the body. */
	head.data = buf;
	head.ulen = sizeof(buf);
	head.dlen = sizeof(buf);
	head.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	while ((ret = cur->get(cur, &key, &head, DB_NEXT | DB_RMW)) == 0) {
		if (key.size != 8)
			continue;
		if (++n > MH_PRUNE_BATCH) {
			p->done = 0;
			break;
		}
		due = mh_prune_due(st, txn, p, &key, &head, total, &bytes);
		if (due == MH_PRUNE_PASS)
			continue;
		if (due == MH_PRUNE_STOP)
			break;		/* the rest are newer, and fit */
		if (due != MH_PRUNE_IT || (ret = cur->del(cur, 0)) != 0) {
			ret = due != MH_PRUNE_IT ? due : ret;
			break;
		}
		total = bytes > total ? 0 : total - bytes;
		p->batch++;
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	free(key.data);
	cur->close(cur);
	if (ret == 0 && total != start)
		ret = mh_counter(raw, txn, MH_RAW_TOTAL, (int64_t)total -
		    (int64_t)start, DB_RMW, NULL);
	return ret;
}

enum mh_store_err
mh_store_prune(struct mh_store *st, int64_t now, int64_t max_age,
    uint64_t max_bytes, size_t *pruned)
{
	struct mh_prune p = { .now = now, .max_age = max_age,
	    .max_bytes = max_bytes };
	int ret;

	do {
		ret = mh_txn_run(st, 0, DB_TXN_NOSYNC, mh_prune_txn, &p);
		if (ret == 0)
			p.pruned += p.batch;
	} while (ret == 0 && !p.done);
	*pruned = p.pruned;
	return mh_store_error(ret);
}

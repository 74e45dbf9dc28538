/*
 * Idempotency keys (idempotency.db): a request sent again with the same
 * key gets the first answer, and nothing is stored twice. Keyed by what
 * the caller makes of who asked and the key; the record is when (8), the
 * SHA-256 of the first request's body (32), and the first answer's text
 * with its NUL. Read and written inside the transaction that does the
 * work, so that the answer kept is the work's; mh_idem_add is that
 * transaction for the records a request adds under new ids.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

#define MH_IDEM_HEAD (8 + MH_IDEM_HASH_LEN)

static void
mh_idem_key(DBT *key, const struct mh_idem *idem)
{
	memset(key, 0, sizeof(*key));
	key->data = (void *)idem->key;
	key->size = (u_int32_t)idem->klen;
}

int
mh_idem_find(DB_TXN *txn, DB *db, const struct mh_idem *idem,
    enum mh_idem_result *res, char **answer)
{
	const unsigned char *p;
	DBT key, data;
	int ret;

	*res = MH_IDEM_NEW;
	*answer = NULL;
	mh_idem_key(&key, idem);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = db->get(db, txn, &key, &data, DB_RMW)) == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return ret;
	p = data.data;
	/* A key older than its time is new again. */
	if (data.size > MH_IDEM_HEAD && p[data.size - 1] == '\0' &&
	    (int64_t)mh_be64_get(p) >= idem->now - idem->ttl) {
		if (memcmp(p + 8, idem->hash, MH_IDEM_HASH_LEN) != 0)
			*res = MH_IDEM_CONFLICT;
		else if ((*answer = strdup((const char *)p + MH_IDEM_HEAD)) ==
		    NULL)
			ret = ENOMEM;
		else
			*res = MH_IDEM_REPLAY;
	}
	free(data.data);
	return ret;
}

int
mh_idem_keep(DB_TXN *txn, DB *db, const struct mh_idem *idem,
    const char *answer)
{
	size_t n = strlen(answer) + 1;
	unsigned char *rec = malloc(MH_IDEM_HEAD + n);
	DBT key, data;
	int ret;

	if (rec == NULL)
		return ENOMEM;
	mh_be64_put(rec, (uint64_t)idem->now);
	memcpy(rec + 8, idem->hash, MH_IDEM_HASH_LEN);
	memcpy(rec + MH_IDEM_HEAD, answer, n);
	mh_idem_key(&key, idem);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.size = (u_int32_t)(MH_IDEM_HEAD + n);
	ret = db->put(db, txn, &key, &data, 0);
	free(rec);
	return ret;
}

struct mh_idem_add_ctx {
	const char *counter;
	size_t n;
	mh_idem_work_fn work;
	void *wctx;
	const struct mh_idem *idem;
	mh_answer_fn answer;
	void *actx;
	char *text;
	enum mh_idem_result res;
};

static int
mh_idem_add_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_idem_add_ctx *a = ctx;
	uint64_t before;
	int ret;

	free(a->text);
	a->text = NULL;
	if (a->idem != NULL && ((ret = mh_idem_find(txn,
	    st->db[MH_DB_IDEMPOTENCY], a->idem, &a->res, &a->text)) != 0 ||
	    a->res != MH_IDEM_NEW))
		return ret != 0 ? ret : MH_TXN_DISCARD;
	if ((ret = mh_counter(st->db[MH_DB_META], txn, a->counter,
	    (int64_t)a->n, DB_RMW, &before)) != 0 ||
	    (ret = a->work(st, txn, a->wctx, before + 1)) != 0)
		return ret;
	if ((a->text = a->answer(a->actx, before + 1, a->n)) == NULL)
		return ENOMEM;
	if (a->idem != NULL)
		return mh_idem_keep(txn, st->db[MH_DB_IDEMPOTENCY], a->idem,
		    a->text);
	return 0;
}

enum mh_store_err
mh_idem_add(struct mh_store *st, const char *counter, size_t n,
    mh_idem_work_fn work, void *wctx, const struct mh_idem *idem,
    mh_answer_fn answer, void *actx, char **text, enum mh_idem_result *res)
{
	struct mh_idem_add_ctx a = { counter, n, work, wctx, idem, answer, actx,
	    NULL, MH_IDEM_NEW };
	int ret = mh_txn_run(st, 0, 0, mh_idem_add_txn, &a);

	*res = a.res;
	*text = NULL;
	if (ret == 0)
		*text = a.text;
	else
		free(a.text);
	return mh_store_error(ret);
}

/* Keys looked at per transaction while expiring. */
#define MH_IDEM_EXPIRE_BATCH 256
/* meta.db: when the keys were last expired (Unix seconds), so that the
 * processes share one walk of them every so often. */
#define MH_IDEM_EXPIRED_AT "idem_expired_at"

struct mh_idem_expire {
	int64_t now, before, every;
	int claim, due;
	DBT from;		/* the key to go on from (size 0: the first) */
	DBT next;		/* where this transaction stopped */
	size_t removed;		/* in the transactions committed */
	size_t batch;		/* in this one */
};

/* One transaction's worth: up to MH_IDEM_EXPIRE_BATCH keys from x->from
 * on, each deleted when older than x->before (or not a record of ours);
 * x->next gets the key it stopped at, size 0 when the table is done. */
static int
mh_idem_expire_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_idem_expire *x = ctx;
	DB *db = st->db[MH_DB_IDEMPOTENCY];
	unsigned char head[MH_IDEM_HEAD];
	u_int32_t op = x->from.size > 0 ? DB_SET_RANGE : DB_FIRST;
	DBC *cur = NULL;
	DBT data;
	int ret, n = 0;

	x->batch = 0;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	/* From where the last transaction stopped, in a buffer of its own. */
	x->next.flags = DB_DBT_REALLOC;
	if ((x->next.data = realloc(x->next.data, x->from.size + 1)) == NULL) {
		cur->close(cur);
		return ENOMEM;
	}
	if (x->from.size > 0)
		memcpy(x->next.data, x->from.data, x->from.size);
	x->next.size = x->from.size;
	memset(&data, 0, sizeof(data));
	data.data = head;
	data.ulen = data.dlen = sizeof(head);
	data.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	while ((ret = cur->get(cur, &x->next, &data, op | DB_RMW)) == 0) {
		op = DB_NEXT;
		if (++n > MH_IDEM_EXPIRE_BATCH)
			break;
		if (data.size < 8 || (int64_t)mh_be64_get(head) < x->before) {
			if ((ret = cur->del(cur, 0)) != 0)
				break;
			x->batch++;
		}
	}
	cur->close(cur);
	if (ret == DB_NOTFOUND) {
		x->next.size = 0;
		ret = 0;
	}
	return ret;
}

/* Whether the walk is due (x->due); with x->claim, under a write lock,
 * noting that it is done now. Most times it is not due, so the look
 * comes first, under a read lock only, in a transaction of its own
 * (upgrading that lock in the same one could deadlock two processes). */
static int
mh_idem_expire_due(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_idem_expire *x = ctx;
	DB *meta = st->db[MH_DB_META];
	uint64_t last;
	int ret;

	if ((ret = mh_counter(meta, txn, MH_IDEM_EXPIRED_AT, 0,
	    x->claim ? DB_RMW : 0, &last)) != 0)
		return ret;
	x->due = x->every <= 0 || x->now - (int64_t)last >= x->every;
	if (!x->due || !x->claim)
		return MH_TXN_DISCARD;
	return mh_counter(meta, txn, MH_IDEM_EXPIRED_AT, x->now -
	    (int64_t)last, DB_RMW, NULL);
}

enum mh_store_err
mh_store_idem_expire(struct mh_store *st, int64_t now, int64_t ttl,
    int64_t every, size_t *removed)
{
	struct mh_idem_expire x = { .now = now, .before = now - ttl,
	    .every = every };
	void *swap;
	int ret;

	*removed = 0;
	if ((ret = mh_txn_run(st, 0, 0, mh_idem_expire_due, &x)) != 0 ||
	    !x.due)
		return mh_store_error(ret);
	x.claim = 1;
	if ((ret = mh_txn_run(st, 0, DB_TXN_NOSYNC, mh_idem_expire_due,
	    &x)) != 0 || !x.due)
		return mh_store_error(ret);
	do {
		ret = mh_txn_run(st, 0, DB_TXN_NOSYNC, mh_idem_expire_txn, &x);
		if (ret != 0)
			break;
		x.removed += x.batch;
		swap = x.from.data;
		x.from = x.next;
		x.next.data = swap;
		x.next.size = 0;
	} while (x.from.size > 0);
	free(x.from.data);
	free(x.next.data);
	*removed = x.removed;
	return mh_store_error(ret);
}

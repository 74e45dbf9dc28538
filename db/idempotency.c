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

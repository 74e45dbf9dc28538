/*
 * Deriving events again from every raw body kept (after a parser fix):
 * each body's events not stored yet are stored, the rest found by their
 * identity as duplicates.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

struct mh_receipts {
	uint64_t *v;
	size_t n, cap;
};

/* The receipts of every raw body kept, in order. */
static int
mh_receipts_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_receipts *r = ctx;
	DB *raw = st->db[MH_DB_RAW];
	DBC *cur = NULL;
	DBT key, data;
	uint64_t *nv;
	int ret;

	r->n = 0;
	if ((ret = raw->cursor(raw, txn, &cur, 0)) != 0)
		return ret;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = DB_DBT_REALLOC;
	/* Keys only: a zero-length partial read of the data. */
	data.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
	while ((ret = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
		if (key.size != 8)
			continue;
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 256;

			if ((nv = realloc(r->v, cap * sizeof(*nv))) == NULL) {
				ret = ENOMEM;
				break;
			}
			r->v = nv;
			r->cap = cap;
		}
		r->v[r->n++] = mh_be64_get(key.data);
	}
	free(key.data);
	cur->close(cur);
	return ret == DB_NOTFOUND ? 0 : ret;
}

enum mh_store_err
mh_store_reprocess(struct mh_store *st, const struct mh_deriver *d,
    size_t *nstored)
{
	struct mh_receipts r = { 0 };
	int ret;

	*nstored = 0;
	ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_receipts_txn, &r);
	for (size_t i = 0; i < r.n && ret == 0; i++) {
		size_t got = 0;

		ret = mh_drain_receipt(st, d, r.v[i], &got);
		*nstored += got;
	}
	free(r.v);
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_raw_get(struct mh_store *st, uint64_t receipt, struct mh_entry *e,
    void **rec)
{
	DB *raw = st->db[MH_DB_RAW];
	unsigned char kbuf[8];
	DBT key, data;
	int ret;

	*rec = NULL;
	mh_key64(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	/* A raw body never changes once written: no lock need be held. */
	if ((ret = raw->get(raw, NULL, &key, &data, 0)) != 0)
		return ret == DB_NOTFOUND ? MH_STORE_NOTFOUND :
		    mh_store_error(ret);
	e->receipt = receipt;
	if (mh_entry_decode(data.data, data.size, e) != 0) {
		free(data.data);
		return MH_STORE_NOTFOUND;	/* not one of ours */
	}
	*rec = data.data;
	return MH_STORE_OK;
}

enum mh_store_err
mh_store_reprocess_one(struct mh_store *st, const struct mh_deriver *d,
    uint64_t receipt, size_t *nstored)
{
	struct mh_entry e;
	void *rec;
	enum mh_store_err err = mh_store_raw_get(st, receipt, &e, &rec);

	*nstored = 0;
	free(rec);
	if (err != MH_STORE_OK)
		return err;
	return mh_store_error(mh_drain_receipt(st, d, receipt, nstored));
}

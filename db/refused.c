/*
 * The log of refused webhook requests (bad signature, malformed, too large),
 * so an operator can see what a provider sent that was turned away. It is
 * a ring of MH_REFUSED_MAX slots: the newest refusal replaces the oldest.
 */
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* The key of the number the next refusal gets. */
#define MH_NEXT "next"

static void
mh_slot_key(unsigned char slot[4], uint64_t n)
{
	uint32_t v = (uint32_t)(n % MH_REFUSED_MAX);

	slot[0] = (unsigned char)(v >> 24);
	slot[1] = (unsigned char)(v >> 16);
	slot[2] = (unsigned char)(v >> 8);
	slot[3] = (unsigned char)v;
}

static int
mh_refused_put_txn(struct mh_store *st, DB_TXN *txn, const char *json)
{
	unsigned char slot[4];
	uint64_t next;
	DBT key, data;
	int ret;

	if ((ret = mh_counter(st->refused, txn, MH_NEXT, 1, DB_RMW, &next)) != 0)
		return ret;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	mh_slot_key(slot, next);
	key.data = slot;
	key.size = 4;
	data.data = (void *)json;
	data.size = (u_int32_t)strlen(json) + 1;
	return st->refused->put(st->refused, txn, &key, &data, 0);
}

enum mh_store_err
mh_store_refused_put(struct mh_store *st, const char *json)
{
	int ret;

	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			break;
		/* A diagnostic: it may be lost in a crash, so no flush. */
		if ((ret = mh_refused_put_txn(st, txn, json)) == 0)
			ret = txn->commit(txn, DB_TXN_NOSYNC);
		else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_refused_list(struct mh_store *st, mh_emit_fn emit, void *ctx)
{
	unsigned char slot[4];
	DB_TXN *txn = NULL;
	uint64_t next, first;
	DBT key, data;
	int ret;

	if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
		return mh_store_error(ret);
	if ((ret = mh_counter(st->refused, txn, MH_NEXT, 0, 0, &next)) != 0)
		goto out;
	memset(&key, 0, sizeof(key));
	/* Oldest first: the slot the next refusal will take, onwards. */
	first = next > MH_REFUSED_MAX ? next - MH_REFUSED_MAX : 0;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_REALLOC;
	ret = 0;
	for (uint64_t n = first; n < next && ret == 0; n++) {
		mh_slot_key(slot, n);
		key.data = slot;
		key.size = 4;
		ret = st->refused->get(st->refused, txn, &key, &data, 0);
		if (ret == DB_NOTFOUND) {
			ret = 0;
			continue;
		}
		if (ret == 0 && data.size > 0 &&
		    emit(ctx, n + 1, data.data, data.size - 1))
			break;
	}
	free(data.data);
out:
	if (ret == 0 || ret == DB_NOTFOUND)
		ret = txn->commit(txn, 0);
	else
		txn->abort(txn);
	return mh_store_error(ret);
}

/*
 * The log of refused webhook requests (bad signature, malformed, too large),
 * so an operator can see what a provider sent that was turned away. It is
 * a ring of MH_REFUSED_MAX slots: the newest refusal replaces the oldest.
 * A refusal is the application's text, kept as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* The key of the number the next refusal gets. */
#define MH_NEXT "next"

static void
mh_slot_key(DBT *key, unsigned char slot[4], uint64_t n)
{
	mh_be32_put(slot, (uint32_t)(n % MH_REFUSED_MAX));
	memset(key, 0, sizeof(*key));
	key->data = slot;
	key->size = 4;
}

static int
mh_refused_put_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	const char *json = ctx;
	DB *db = st->db[MH_DB_REFUSED];
	unsigned char slot[4];
	uint64_t next;
	DBT key, data;
	int ret;

	if ((ret = mh_counter(db, txn, MH_NEXT, 1, DB_RMW, &next)) != 0)
		return ret;
	mh_slot_key(&key, slot, next);
	memset(&data, 0, sizeof(data));
	data.data = (void *)json;
	data.size = (u_int32_t)strlen(json) + 1;
	return db->put(db, txn, &key, &data, 0);
}

enum mh_store_err
mh_store_refused_put(struct mh_store *st, const char *json)
{
	/* A diagnostic: it may be lost in a crash, so no flush. */
	return mh_store_error(mh_txn_run(st, 0, DB_TXN_NOSYNC,
	    mh_refused_put_txn, (void *)json));
}

struct mh_refused_walk {
	mh_emit_fn emit;
	void *ctx;
};

static int
mh_refused_list_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_refused_walk *w = ctx;
	DB *db = st->db[MH_DB_REFUSED];
	unsigned char slot[4];
	uint64_t next, first;
	DBT key, data;
	int ret;

	if ((ret = mh_counter(db, txn, MH_NEXT, 0, 0, &next)) != 0)
		return ret;
	/* Oldest first: the slot the next refusal will take, onwards. */
	first = next > MH_REFUSED_MAX ? next - MH_REFUSED_MAX : 0;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_REALLOC;
	for (uint64_t n = first; n < next && ret == 0; n++) {
		mh_slot_key(&key, slot, n);
		ret = db->get(db, txn, &key, &data, 0);
		if (ret == DB_NOTFOUND) {
			ret = 0;
			continue;
		}
		if (ret == 0 && data.size > 0 &&
		    w->emit(w->ctx, n + 1, data.data, data.size - 1))
			break;
	}
	free(data.data);
	return ret;
}

enum mh_store_err
mh_store_refused_list(struct mh_store *st, mh_emit_fn emit, void *ctx)
{
	struct mh_refused_walk w = { emit, ctx };

	/* Once: what was handed out cannot be taken back. */
	return mh_store_error(mh_txn_once(st, DB_READ_COMMITTED, 0,
	    mh_refused_list_txn, &w));
}

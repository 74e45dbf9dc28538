/*
 * Keys and counters: the big-endian numbers that keep btrees in numeric
 * order, and the 64-bit counters kept as records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

void
mh_be64_put(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

uint64_t
mh_be64_get(const unsigned char in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

void
mh_be32_put(unsigned char out[4], uint32_t v)
{
	out[0] = (unsigned char)(v >> 24);
	out[1] = (unsigned char)(v >> 16);
	out[2] = (unsigned char)(v >> 8);
	out[3] = (unsigned char)v;
}

uint32_t
mh_be32_get(const unsigned char in[4])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
	    (uint32_t)in[2] << 8 | in[3];
}

void
mh_key64(DBT *key, unsigned char buf[8], uint64_t id)
{
	mh_be64_put(buf, id);
	memset(key, 0, sizeof(*key));
	key->data = buf;
	key->size = 8;
}

void
mh_keys_only(DBT *key, DBT *data, void *buf, size_t len, size_t cap)
{
	memset(key, 0, sizeof(*key));
	memset(data, 0, sizeof(*data));
	key->data = buf;
	key->size = (u_int32_t)len;
	key->ulen = (u_int32_t)cap;
	key->flags = DB_DBT_USERMEM;
	data->flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
}

int
mh_counter(DB *db, DB_TXN *txn, const char *name, int64_t delta,
    u_int32_t flags, uint64_t *before)
{
	return mh_counter_key(db, txn, name, strlen(name), delta, flags,
	    before);
}

int
mh_counter_key(DB *db, DB_TXN *txn, const void *name, size_t len,
    int64_t delta, u_int32_t flags, uint64_t *before)
{
	unsigned char buf[8];
	uint64_t v = 0;
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)name;
	key.size = (u_int32_t)len;
	data.data = buf;
	data.ulen = sizeof(buf);
	data.flags = DB_DBT_USERMEM;
	ret = db->get(db, txn, &key, &data, flags);
	if (ret == 0 && data.size == 8)
		v = mh_be64_get(buf);
	else if (ret != 0 && ret != DB_NOTFOUND)
		return ret;
	if (before != NULL)
		*before = v;
	if (delta == 0)
		return 0;
	mh_be64_put(buf, delta < 0 && (uint64_t)-delta > v ? 0 :
	    v + (uint64_t)delta);
	data.size = 8;
	data.flags = 0;
	return db->put(db, txn, &key, &data, 0);
}

/* The walk both make: from (or from the first record), each record read
 * (for update with DB_RMW in flags) and handed to fn, which says what to
 * do (mh_rewrite_fn). */
static int
mh_walk(DB *db, DB_TXN *txn, const void *from, size_t fromlen,
    u_int32_t flags, mh_rewrite_fn fn, void *ctx)
{
	DBC *cur = NULL;
	DBT key, data;
	int ret, what;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = data.flags = DB_DBT_REALLOC;
	if (from != NULL) {
		if ((key.data = malloc(fromlen ? fromlen : 1)) == NULL)
			return ENOMEM;
		memcpy(key.data, from, fromlen);
		key.size = (u_int32_t)fromlen;
	}
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0) {
		free(key.data);
		return ret;
	}
	for (ret = cur->get(cur, &key, &data, (from != NULL ? DB_SET_RANGE :
	    DB_FIRST) | flags); ret == 0;
	    ret = cur->get(cur, &key, &data, DB_NEXT | flags)) {
		if ((what = fn(ctx, &key, &data)) == MH_WALK_WRITE)
			ret = cur->put(cur, &key, &data, DB_CURRENT);
		else if (what != 0)
			break;
		if (ret != 0)
			break;
	}
	cur->close(cur);
	free(key.data);
	free(data.data);
	return ret == DB_NOTFOUND ? 0 : ret;
}

struct mh_walk_read {
	mh_walk_fn fn;
	void *ctx;
};

/* A read-only walk's step: anything but 0 stops it. */
static int
mh_walk_read_one(void *ctx, const DBT *key, DBT *data)
{
	const struct mh_walk_read *w = ctx;

	return w->fn(w->ctx, key, data) != 0;
}

int
mh_db_walk(DB *db, DB_TXN *txn, const void *from, size_t fromlen,
    mh_walk_fn fn, void *ctx)
{
	struct mh_walk_read w = { fn, ctx };

	return mh_walk(db, txn, from, fromlen, 0, mh_walk_read_one, &w);
}

int
mh_db_rewrite(DB *db, DB_TXN *txn, mh_rewrite_fn fn, void *ctx)
{
	return mh_walk(db, txn, NULL, 0, DB_RMW, fn, ctx);
}

int
mh_db_count(DB *db, DB_TXN *txn, uint64_t *n)
{
	DB_BTREE_STAT *bs;
	int ret;

	if ((ret = db->stat(db, txn, &bs, DB_READ_COMMITTED)) != 0)
		return ret;
	*n = bs->bt_nkeys;
	free(bs);
	return 0;
}

int
mh_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One small record by its key, in any table: read, written, deleted, or
 * read and changed in one transaction. The accounts' tables (sessions,
 * tokens, sign-in failures) are each a handful of these.
 */
#include <errno.h>
#include <string.h>

#include "store-private.h"

struct mh_keyed_op {
	int dbi;
	const void *key;
	size_t klen;
	unsigned char *buf;
	size_t cap, len;
	mh_keyed_fn change;
	void *ctx;
	u_int32_t put_flags;
	int found, wrote;
};

static void
mh_keyed_dbts(struct mh_keyed_op *op, DBT *key, DBT *data)
{
	memset(key, 0, sizeof(*key));
	memset(data, 0, sizeof(*data));
	key->data = (void *)op->key;
	key->size = (u_int32_t)op->klen;
	data->data = op->buf;
	data->ulen = (u_int32_t)op->cap;
	data->size = (u_int32_t)op->len;
	data->flags = DB_DBT_USERMEM;
}

/* Reads the record into op (op->found, op->len); flags as DB->get's. */
static int
mh_keyed_read(struct mh_keyed_op *op, DB *db, DB_TXN *txn, u_int32_t flags)
{
	DBT key, data;
	int ret;

	mh_keyed_dbts(op, &key, &data);
	op->found = 0;
	ret = db->get(db, txn, &key, &data, flags);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret == DB_BUFFER_SMALL)
		return EINVAL;	/* no record of ours is that large */
	if (ret == 0) {
		op->found = 1;
		op->len = data.size;
	}
	return ret;
}

static int
mh_keyed_get_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_keyed_op *op = ctx;

	return mh_keyed_read(op, st->db[op->dbi], txn, 0);
}

static int
mh_keyed_put_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_keyed_op *op = ctx;
	DB *db = st->db[op->dbi];
	DBT key, data;
	int ret;

	mh_keyed_dbts(op, &key, &data);
	ret = db->put(db, txn, &key, &data, op->put_flags);
	op->found = ret == DB_KEYEXIST;
	return op->found ? MH_TXN_DISCARD : ret;
}

static int
mh_keyed_del_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_keyed_op *op = ctx;
	DB *db = st->db[op->dbi];
	DBT key, data;
	int ret;

	mh_keyed_dbts(op, &key, &data);
	ret = db->del(db, txn, &key, 0);
	op->found = ret != DB_NOTFOUND;
	return ret == DB_NOTFOUND ? 0 : ret;
}

static int
mh_keyed_update_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_keyed_op *op = ctx;
	DB *db = st->db[op->dbi];
	DBT key, data;
	int ret, what;

	op->len = 0;
	op->wrote = 0;
	if ((ret = mh_keyed_read(op, db, txn, DB_RMW)) != 0)
		return ret;
	what = op->change(op->ctx, op->buf, &op->len, op->cap, op->found);
	if (what == MH_KEYED_KEEP)
		return MH_TXN_DISCARD;
	mh_keyed_dbts(op, &key, &data);
	op->wrote = 1;
	if (what == MH_KEYED_DELETE)
		return op->found ? db->del(db, txn, &key, 0) : MH_TXN_DISCARD;
	return db->put(db, txn, &key, &data, 0);
}

enum mh_store_err
mh_keyed_get(struct mh_store *st, int dbi, const void *key, size_t klen,
    void *buf, size_t cap, size_t *len)
{
	struct mh_keyed_op op = { .dbi = dbi, .key = key, .klen = klen,
	    .buf = buf, .cap = cap };
	int ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_keyed_get_txn, &op);

	*len = op.len;
	if (ret == 0 && !op.found)
		return MH_STORE_NOTFOUND;
	return mh_store_error(ret);
}

enum mh_store_err
mh_keyed_put(struct mh_store *st, int dbi, const void *key, size_t klen,
    const void *data, size_t len, int unique)
{
	struct mh_keyed_op op = { .dbi = dbi, .key = key, .klen = klen,
	    .buf = (void *)data, .cap = len, .len = len,
	    .put_flags = unique ? DB_NOOVERWRITE : 0 };
	int ret = mh_txn_run(st, 0, 0, mh_keyed_put_txn, &op);

	if (ret == 0 && op.found)
		return MH_STORE_EXISTS;
	return mh_store_error(ret);
}

enum mh_store_err
mh_keyed_del(struct mh_store *st, int dbi, const void *key, size_t klen)
{
	struct mh_keyed_op op = { .dbi = dbi, .key = key, .klen = klen };
	int ret = mh_txn_run(st, 0, 0, mh_keyed_del_txn, &op);

	if (ret == 0 && !op.found)
		return MH_STORE_NOTFOUND;
	return mh_store_error(ret);
}

enum mh_store_err
mh_keyed_update(struct mh_store *st, int dbi, const void *key, size_t klen,
    size_t cap, mh_keyed_fn change, void *ctx, u_int32_t commit)
{
	unsigned char buf[MH_KEYED_MAX];
	struct mh_keyed_op op = { .dbi = dbi, .key = key, .klen = klen,
	    .buf = buf, .cap = cap < sizeof(buf) ? cap : sizeof(buf),
	    .change = change, .ctx = ctx };
	int ret = mh_txn_run(st, 0, commit, mh_keyed_update_txn, &op);

	if (ret == 0 && !op.found && !op.wrote)
		return MH_STORE_NOTFOUND;
	return mh_store_error(ret);
}

struct mh_keyed_set {
	size_t offset;
	uint64_t value;
};

static int
mh_keyed_set_fn(void *ctx, unsigned char *rec, size_t *len, size_t cap,
    int found)
{
	const struct mh_keyed_set *set = ctx;

	(void)cap;
	if (!found || *len < set->offset + 8)
		return MH_KEYED_KEEP;
	mh_be64_put(rec + set->offset, set->value);
	return MH_KEYED_WRITE;
}

enum mh_store_err
mh_keyed_set64(struct mh_store *st, int dbi, const void *key, size_t klen,
    size_t cap, size_t offset, uint64_t value)
{
	struct mh_keyed_set set = { offset, value };

	return mh_keyed_update(st, dbi, key, klen, cap, mh_keyed_set_fn, &set,
	    DB_TXN_WRITE_NOSYNC);
}

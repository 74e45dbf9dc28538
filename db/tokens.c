/*
 * The API tokens (tokens.db), by the SHA-256 of the token: scopes (4),
 * created (8), last used (8), then the token's name and its NUL. A name
 * is unique; tokens are few, so that is checked by walking them.
 */
#include <stddef.h>
#include <string.h>

#include "store-private.h"

/* A token's record: its scopes, creation and last use, then its name. */
static const struct mh_slot mh_token_slots[] = {
	{ MH_SLOT_U32, offsetof(struct mh_token, scopes), 0 },
	{ MH_SLOT_I64, offsetof(struct mh_token, created), 0 },
	{ MH_SLOT_I64, offsetof(struct mh_token, last_used), 0 },
	{ MH_SLOT_TEXT, offsetof(struct mh_token, name),
	    sizeof(((struct mh_token *)0)->name) },
};
#define MH_TOKEN_USED_SLOT 2
static const struct mh_layout mh_token_layout = { mh_token_slots,
    sizeof(mh_token_slots) / sizeof(mh_token_slots[0]), 1 };
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "scopes fit 32 bits");
/* A record is never larger than its struct. */
#define MH_TOKEN_REC sizeof(struct mh_token)

static int
mh_token_decode(const DBT *key, const DBT *data, struct mh_token *t)
{
	if (key->size != MH_KEY_HASH_LEN)
		return -1;
	memcpy(t->hash, key->data, MH_KEY_HASH_LEN);
	return mh_layout_decode(&mh_token_layout, data->data, data->size, t);
}

/* A walk looking for the token of a name. */
struct mh_token_find {
	const char *name;
	struct mh_token found;
	int has;
};

static int
mh_token_named(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_token_find *f = ctx;

	f->has = mh_token_decode(key, data, &f->found) == 0 &&
	    strcmp(f->found.name, f->name) == 0;
	return f->has;
}

struct mh_token_op {
	const struct mh_token *token;
	struct mh_token_find find;
};

static int
mh_token_add_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_token_op *op = ctx;
	unsigned char buf[MH_TOKEN_REC];
	DB *db = st->db[MH_DB_TOKENS];
	DBT key, data;
	int ret;

	op->find.has = 0;
	if ((ret = mh_db_walk(db, txn, NULL, 0, mh_token_named,
	    &op->find)) != 0 || op->find.has)
		return ret != 0 ? ret : MH_TXN_DISCARD;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)op->token->hash;
	key.size = MH_KEY_HASH_LEN;
	data.data = buf;
	data.size = (u_int32_t)mh_layout_encode(&mh_token_layout, op->token,
	    buf);
	ret = db->put(db, txn, &key, &data, DB_NOOVERWRITE);
	op->find.has = ret == DB_KEYEXIST;
	return op->find.has ? MH_TXN_DISCARD : ret;
}

enum mh_store_err
mh_store_token_add(struct mh_store *st, const struct mh_token *t)
{
	struct mh_token_op op = { .token = t, .find = { .name = t->name } };
	int ret = mh_txn_run(st, 0, 0, mh_token_add_txn, &op);

	if (ret == 0 && op.find.has)
		return MH_STORE_EXISTS;
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_token_get(struct mh_store *st,
    const unsigned char hash[MH_KEY_HASH_LEN], struct mh_token *t)
{
	unsigned char buf[MH_TOKEN_REC];
	enum mh_store_err err;
	DBT key, data;
	size_t len;

	err = mh_keyed_get(st, MH_DB_TOKENS, hash, MH_KEY_HASH_LEN, buf,
	    sizeof(buf), &len);
	if (err != MH_STORE_OK)
		return err;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)hash;
	key.size = MH_KEY_HASH_LEN;
	data.data = buf;
	data.size = (u_int32_t)len;
	return mh_token_decode(&key, &data, t) == 0 ? MH_STORE_OK :
	    MH_STORE_NOTFOUND;
}

enum mh_store_err
mh_store_token_used(struct mh_store *st,
    const unsigned char hash[MH_KEY_HASH_LEN], int64_t now)
{
	return mh_keyed_set64(st, MH_DB_TOKENS, hash, MH_KEY_HASH_LEN,
	    MH_TOKEN_REC, mh_layout_offset(&mh_token_layout, MH_TOKEN_USED_SLOT),
	    (uint64_t)now);
}

static int
mh_token_revoke_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_token_find *f = ctx;
	DB *db = st->db[MH_DB_TOKENS];
	DBT key;
	int ret;

	f->has = 0;
	if ((ret = mh_db_walk(db, txn, NULL, 0, mh_token_named, f)) != 0 ||
	    !f->has)
		return ret != 0 ? ret : MH_TXN_DISCARD;
	memset(&key, 0, sizeof(key));
	key.data = f->found.hash;
	key.size = MH_KEY_HASH_LEN;
	return db->del(db, txn, &key, 0);
}

enum mh_store_err
mh_store_token_revoke(struct mh_store *st, const char *name)
{
	struct mh_token_find f = { .name = name };
	int ret = mh_txn_run(st, 0, 0, mh_token_revoke_txn, &f);

	if (ret == 0 && !f.has)
		return MH_STORE_NOTFOUND;
	return mh_store_error(ret);
}

struct mh_token_walk {
	mh_token_fn fn;
	void *ctx;
};

static int
mh_token_one(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_token_walk *w = ctx;
	struct mh_token t;

	return mh_token_decode(key, data, &t) == 0 && w->fn(w->ctx, &t) != 0;
}

static int
mh_tokens_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_db_walk(st->db[MH_DB_TOKENS], txn, NULL, 0, mh_token_one,
	    ctx);
}

enum mh_store_err
mh_store_tokens(struct mh_store *st, mh_token_fn fn, void *ctx)
{
	struct mh_token_walk w = { fn, ctx };

	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_tokens_txn, &w));
}

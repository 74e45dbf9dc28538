/*
 * The accounts (users.db): a user's name is the key; the record is its
 * role, disabled flag, creation time, generation and password hash, in a
 * fixed binary form. The generation grows with every change that must end
 * the user's sessions (a new password, disabling): a session remembers
 * the generation it began under.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "store-private.h"

/* A user's record: role, disabled, created, generation, then the hash. */
static const struct mh_slot mh_user_slots[] = {
	{ MH_SLOT_BYTE, offsetof(struct mh_user, role), MH_ROLE_ADMIN },
	{ MH_SLOT_FLAG, offsetof(struct mh_user, disabled), 0 },
	{ MH_SLOT_I64, offsetof(struct mh_user, created), 0 },
	{ MH_SLOT_U32, offsetof(struct mh_user, generation), 0 },
	{ MH_SLOT_TEXT, offsetof(struct mh_user, hash),
	    sizeof(((struct mh_user *)0)->hash) },
};
static const struct mh_layout mh_user_layout = { mh_user_slots,
    sizeof(mh_user_slots) / sizeof(mh_user_slots[0]), 0 };
_Static_assert(sizeof(enum mh_role) == sizeof(int), "a role is an int");
/* A record is never larger than its struct. */
#define MH_USER_REC sizeof(struct mh_user)

static void
mh_user_key(DBT *key, const char *name)
{
	memset(key, 0, sizeof(*key));
	key->data = (void *)name;
	key->size = (u_int32_t)strlen(name);
}

/* The user of name and record; EINVAL when the record is not one. */
static int
mh_user_decode(const DBT *key, const DBT *data, struct mh_user *u)
{
	if (key->size == 0 || key->size > MH_USER_NAME_MAX)
		return EINVAL;
	memset(u, 0, sizeof(*u));
	memcpy(u->name, key->data, key->size);
	return mh_layout_decode(&mh_user_layout, data->data, data->size, u) ==
	    0 ? 0 : EINVAL;
}

struct mh_user_op {
	struct mh_user *user;
	const char *name;
	enum mh_user_change change;
	int found;
};

static int
mh_user_put(DB *db, DB_TXN *txn, const struct mh_user *u, u_int32_t flags)
{
	unsigned char buf[MH_USER_REC];
	DBT key, data;

	mh_user_key(&key, u->name);
	memset(&data, 0, sizeof(data));
	data.data = buf;
	data.size = (u_int32_t)mh_layout_encode(&mh_user_layout, u, buf);
	return db->put(db, txn, &key, &data, flags);
}

static int
mh_user_add_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_user_op *op = ctx;
	int ret = mh_user_put(st->db[MH_DB_USERS], txn, op->user,
	    DB_NOOVERWRITE);

	op->found = ret == DB_KEYEXIST;
	return op->found ? MH_TXN_DISCARD : ret;
}

/* Reads op->name into op->user (op->found), with a write lock when the
 * change that follows will write it. */
static int
mh_user_read(struct mh_store *st, DB_TXN *txn, struct mh_user_op *op,
    u_int32_t flags)
{
	unsigned char buf[MH_USER_REC];
	DB *db = st->db[MH_DB_USERS];
	DBT key, data;
	int ret;

	mh_user_key(&key, op->name);
	memset(&data, 0, sizeof(data));
	data.data = buf;
	data.ulen = sizeof(buf);
	data.flags = DB_DBT_USERMEM;
	ret = db->get(db, txn, &key, &data, flags);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0 || (ret = mh_user_decode(&key, &data, op->user)) != 0)
		return ret;
	op->found = 1;
	return 0;
}

static int
mh_user_get_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_user_read(st, txn, ctx, 0);
}

/* Applies op->change to the user: a new hash or role (taken from
 * op->user as the caller filled it), disabled or enabled, or gone. */
static int
mh_user_change_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_user_op *op = ctx;
	struct mh_user wanted = *op->user, *u = op->user;
	DB *db = st->db[MH_DB_USERS];
	DBT key;
	int ret;

	op->found = 0;
	if ((ret = mh_user_read(st, txn, op, DB_RMW)) != 0 || !op->found)
		return ret != 0 ? ret : MH_TXN_DISCARD;
	switch (op->change) {
	case MH_USER_PASSWORD:
		memcpy(u->hash, wanted.hash, sizeof(u->hash));
		u->generation++;
		break;
	case MH_USER_ROLE:
		u->role = wanted.role;
		u->generation++;
		break;
	case MH_USER_DISABLE:
	case MH_USER_ENABLE:
		u->disabled = op->change == MH_USER_DISABLE;
		u->generation++;
		break;
	case MH_USER_DELETE:
		mh_user_key(&key, op->name);
		return db->del(db, txn, &key, 0);
	}
	return mh_user_put(db, txn, u, 0);
}

static int
mh_user_any(void *ctx, const DBT *key, const DBT *data)
{
	(void)key;
	(void)data;
	*(int *)ctx = 1;
	return 1;
}

/* Adds the user only when there is none at all. */
static int
mh_user_add_first_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_user_op *op = ctx;
	int ret;

	op->found = 0;
	if ((ret = mh_db_walk(st->db[MH_DB_USERS], txn, NULL, 0, mh_user_any,
	    &op->found)) != 0 || op->found)
		return ret != 0 ? ret : MH_TXN_DISCARD;
	return mh_user_add_txn(st, txn, ctx);
}

enum mh_store_err
mh_store_user_add(struct mh_store *st, const struct mh_user *u, int first)
{
	struct mh_user copy = *u;
	struct mh_user_op op = { .user = &copy, .name = u->name };
	int ret = mh_txn_run(st, 0, 0, first ? mh_user_add_first_txn :
	    mh_user_add_txn, &op);

	if (ret == 0 && op.found)
		return MH_STORE_EXISTS;
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_user_get(struct mh_store *st, const char *name, struct mh_user *u)
{
	struct mh_user_op op = { .user = u, .name = name };
	int ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_user_get_txn, &op);

	if (ret == 0 && !op.found)
		return MH_STORE_NOTFOUND;
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_user_change(struct mh_store *st, const char *name,
    enum mh_user_change change, struct mh_user *u)
{
	struct mh_user_op op = { .user = u, .name = name, .change = change };
	int ret = mh_txn_run(st, 0, 0, mh_user_change_txn, &op);

	if (ret == 0 && !op.found)
		return MH_STORE_NOTFOUND;
	return mh_store_error(ret);
}

struct mh_user_walk {
	mh_user_fn fn;
	void *ctx;
};

static int
mh_user_one(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_user_walk *w = ctx;
	struct mh_user u;

	return mh_user_decode(key, data, &u) == 0 && w->fn(w->ctx, &u) != 0;
}

static int
mh_users_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_db_walk(st->db[MH_DB_USERS], txn, NULL, 0, mh_user_one, ctx);
}

enum mh_store_err
mh_store_users(struct mh_store *st, mh_user_fn fn, void *ctx)
{
	struct mh_user_walk w = { fn, ctx };

	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_users_txn, &w));
}

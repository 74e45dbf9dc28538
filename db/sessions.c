/*
 * The signed-in sessions (sessions.db), by the SHA-256 of the session id:
 * generation (4), user_created (8), created (8), seen (8), then the
 * user's name and its NUL. Each is also in sessions-by-user.db, under its
 * user, oldest first (user \0 created hash), written and removed in the
 * same transaction: a user's count is one short range of keys.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "store-private.h"

/* A session's record: the user's generation and creation, its own
 * creation and last use, then the user's name. */
static const struct mh_slot mh_session_slots[] = {
	{ MH_SLOT_U32, offsetof(struct mh_session, generation), 0 },
	{ MH_SLOT_I64, offsetof(struct mh_session, user_created), 0 },
	{ MH_SLOT_I64, offsetof(struct mh_session, created), 0 },
	{ MH_SLOT_I64, offsetof(struct mh_session, seen), 0 },
	{ MH_SLOT_TEXT, offsetof(struct mh_session, user),
	    sizeof(((struct mh_session *)0)->user) },
};
#define MH_SESSION_SEEN_SLOT 3
static const struct mh_layout mh_session_layout = { mh_session_slots,
    sizeof(mh_session_slots) / sizeof(mh_session_slots[0]), 1 };
/* A record is never larger than its struct. */
#define MH_SESSION_REC sizeof(struct mh_session)

/* -1 when the record is not a session's. */
static int
mh_session_decode(const unsigned char *buf, size_t len, struct mh_session *s)
{
	return mh_layout_decode(&mh_session_layout, buf, len, s);
}

/* The by-user key of s into k; its length. */
static size_t
mh_session_user_key(const struct mh_session *s, unsigned char *k)
{
	size_t n = strnlen(s->user, MH_USER_NAME_MAX);

	memcpy(k, s->user, n);
	k[n] = '\0';
	mh_be64_put(k + n + 1, (uint64_t)s->created);
	memcpy(k + n + 9, s->key, MH_KEY_HASH_LEN);
	return n + 9 + MH_KEY_HASH_LEN;
}

#define MH_SESSION_UKEY_MAX (MH_USER_NAME_MAX + 9 + MH_KEY_HASH_LEN)

/* Removes the session s (its record and its by-user key), inside txn. */
static int
mh_session_del(struct mh_store *st, DB_TXN *txn, const struct mh_session *s)
{
	unsigned char k[MH_SESSION_UKEY_MAX];
	DBT key;
	int ret;

	memset(&key, 0, sizeof(key));
	key.data = (void *)s->key;
	key.size = MH_KEY_HASH_LEN;
	ret = st->db[MH_DB_SESSIONS]->del(st->db[MH_DB_SESSIONS], txn, &key, 0);
	if (ret != 0 && ret != DB_NOTFOUND)
		return ret;
	key.data = k;
	key.size = (u_int32_t)mh_session_user_key(s, k);
	ret = st->db[MH_DB_SESSIONS_BY_USER]->del(st->db[MH_DB_SESSIONS_BY_USER],
	    txn, &key, 0);
	return ret == DB_NOTFOUND ? 0 : ret;
}

/* Ends the oldest sessions of user past MH_SESSIONS_PER_USER, inside txn:
 * its by-user keys are walked newest first, and those past the count go
 * (with their records). */
static int
mh_sessions_cap(struct mh_store *st, DB_TXN *txn, const char *user)
{
	DB *db = st->db[MH_DB_SESSIONS_BY_USER];
	unsigned char kbuf[MH_SESSION_UKEY_MAX + 1];
	size_t ulen = strnlen(user, MH_USER_NAME_MAX), seen = 0;
	struct mh_session old;
	DBC *cur;
	DBT key, data;
	int ret;

	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	/* Past the user's last key: its name, then a byte above NUL. */
	memcpy(kbuf, user, ulen);
	kbuf[ulen] = 1;
	mh_keys_only(&key, &data, kbuf, ulen + 1, sizeof(kbuf));
	ret = cur->get(cur, &key, &data, DB_SET_RANGE);
	ret = ret == 0 ? cur->get(cur, &key, &data, DB_PREV) :
	    ret == DB_NOTFOUND ? cur->get(cur, &key, &data, DB_LAST) : ret;
	for (; ret == 0; ret = cur->get(cur, &key, &data, DB_PREV)) {
		if (key.size != ulen + 9 + MH_KEY_HASH_LEN ||
		    memcmp(kbuf, user, ulen) != 0 || kbuf[ulen] != '\0')
			break;
		if (++seen <= MH_SESSIONS_PER_USER)
			continue;
		memcpy(old.key, kbuf + ulen + 9, MH_KEY_HASH_LEN);
		memcpy(old.user, user, ulen);
		old.user[ulen] = '\0';
		old.created = (int64_t)mh_be64_get(kbuf + ulen + 1);
		if ((ret = mh_session_del(st, txn, &old)) != 0)
			break;
	}
	cur->close(cur);
	return ret == DB_NOTFOUND ? 0 : ret;
}

static int
mh_session_add_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	const struct mh_session *s = ctx;
	unsigned char buf[MH_SESSION_REC], k[MH_SESSION_UKEY_MAX];
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)s->key;
	key.size = MH_KEY_HASH_LEN;
	data.data = buf;
	data.size = (u_int32_t)mh_layout_encode(&mh_session_layout, s,
	    buf);
	if ((ret = st->db[MH_DB_SESSIONS]->put(st->db[MH_DB_SESSIONS], txn,
	    &key, &data, DB_NOOVERWRITE)) != 0)
		return ret;
	key.data = k;
	key.size = (u_int32_t)mh_session_user_key(s, k);
	data.data = NULL;
	data.size = 0;
	if ((ret = st->db[MH_DB_SESSIONS_BY_USER]->put(
	    st->db[MH_DB_SESSIONS_BY_USER], txn, &key, &data, 0)) != 0)
		return ret;
	return mh_sessions_cap(st, txn, s->user);
}

enum mh_store_err
mh_store_session_add(struct mh_store *st, const struct mh_session *s)
{
	/* Committed with its flush: the cookie is answered after. */
	return mh_store_error(mh_txn_run(st, 0, 0, mh_session_add_txn,
	    (void *)s));
}

enum mh_store_err
mh_store_session_get(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN], struct mh_session *s)
{
	unsigned char buf[MH_SESSION_REC];
	enum mh_store_err err;
	size_t len;

	err = mh_keyed_get(st, MH_DB_SESSIONS, key, MH_KEY_HASH_LEN, buf,
	    sizeof(buf), &len);
	if (err != MH_STORE_OK)
		return err;
	memcpy(s->key, key, MH_KEY_HASH_LEN);
	return mh_session_decode(buf, len, s) == 0 ? MH_STORE_OK :
	    MH_STORE_NOTFOUND;
}

enum mh_store_err
mh_store_session_seen(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN], int64_t now)
{
	return mh_keyed_set64(st, MH_DB_SESSIONS, key, MH_KEY_HASH_LEN,
	    MH_SESSION_REC, mh_layout_offset(&mh_session_layout,
	    MH_SESSION_SEEN_SLOT), (uint64_t)now);
}

static int
mh_session_end_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_session *s = ctx;
	unsigned char buf[MH_SESSION_REC];
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = s->key;
	key.size = MH_KEY_HASH_LEN;
	data.data = buf;
	data.ulen = sizeof(buf);
	data.flags = DB_DBT_USERMEM;
	ret = st->db[MH_DB_SESSIONS]->get(st->db[MH_DB_SESSIONS], txn, &key,
	    &data, DB_RMW);
	if (ret != 0)
		return ret;
	/* A record that is not a session's goes alone. */
	if (mh_session_decode(buf, data.size, s) != 0)
		return st->db[MH_DB_SESSIONS]->del(st->db[MH_DB_SESSIONS], txn,
		    &key, 0);
	return mh_session_del(st, txn, s);
}

enum mh_store_err
mh_store_session_end(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN])
{
	struct mh_session s;

	memcpy(s.key, key, MH_KEY_HASH_LEN);
	return mh_store_error(mh_txn_run(st, 0, 0, mh_session_end_txn, &s));
}

#define MH_PRUNE_MAX 1000

struct mh_session_prune {
	int64_t idle_before, created_before;
	struct mh_session gone[MH_PRUNE_MAX];
	size_t n;
};

static int
mh_session_stale(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_session_prune *p = ctx;
	struct mh_session *s = &p->gone[p->n];

	if (key->size != MH_KEY_HASH_LEN)
		return 0;
	memset(s, 0, sizeof(*s));
	if (mh_session_decode(data->data, data->size, s) != 0 ||
	    s->seen < p->idle_before || s->created < p->created_before) {
		memcpy(s->key, key->data, MH_KEY_HASH_LEN);
		p->n++;
	}
	return p->n == MH_PRUNE_MAX;
}

static int
mh_sessions_prune_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_session_prune *p = ctx;
	int ret;

	p->n = 0;
	if ((ret = mh_db_walk(st->db[MH_DB_SESSIONS], txn, NULL, 0,
	    mh_session_stale, p)) != 0)
		return ret;
	for (size_t i = 0; i < p->n; i++)
		if ((ret = mh_session_del(st, txn, &p->gone[i])) != 0)
			return ret;
	return p->n == 0 ? MH_TXN_DISCARD : 0;
}

enum mh_store_err
mh_store_sessions_prune(struct mh_store *st, int64_t idle_before,
    int64_t created_before)
{
	struct mh_session_prune *p = malloc(sizeof(*p));
	int ret;

	if (p == NULL)
		return MH_STORE_NOMEM;
	p->idle_before = idle_before;
	p->created_before = created_before;
	ret = mh_txn_run(st, 0, DB_TXN_WRITE_NOSYNC, mh_sessions_prune_txn, p);
	free(p);
	return mh_store_error(ret);
}

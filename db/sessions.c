/*
 * The signed-in sessions (sessions.db), by the SHA-256 of the session id:
 * generation (4), user_created (8), created (8), seen (8), then the
 * user's name and its NUL. Each is also in sessions-by-user.db, under its
 * user, oldest first (user \0 created hash), written and removed in the
 * same transaction: a user's count is one short range of keys.
 */
#include <errno.h>
#include <string.h>

#include "store-private.h"

#define MH_SESSION_HEAD 28
#define MH_SESSION_SEEN 20	/* where seen is */
#define MH_SESSION_REC (MH_SESSION_HEAD + MH_USER_NAME_MAX + 1)

static size_t
mh_session_encode(const struct mh_session *s, unsigned char *buf)
{
	size_t n = strnlen(s->user, MH_USER_NAME_MAX);

	mh_be32_put(buf, s->generation);
	mh_be64_put(buf + 4, (uint64_t)s->user_created);
	mh_be64_put(buf + 12, (uint64_t)s->created);
	mh_be64_put(buf + MH_SESSION_SEEN, (uint64_t)s->seen);
	memcpy(buf + MH_SESSION_HEAD, s->user, n);
	buf[MH_SESSION_HEAD + n] = '\0';
	return MH_SESSION_HEAD + n + 1;
}

/* -1 when the record is not a session's. */
static int
mh_session_decode(const unsigned char *buf, size_t len, struct mh_session *s)
{
	size_t n;

	if (len <= MH_SESSION_HEAD + 1 || len > MH_SESSION_REC ||
	    buf[len - 1] != '\0' ||
	    (n = strlen((const char *)buf + MH_SESSION_HEAD)) !=
	    len - MH_SESSION_HEAD - 1)
		return -1;
	s->generation = mh_be32_get(buf);
	s->user_created = (int64_t)mh_be64_get(buf + 4);
	s->created = (int64_t)mh_be64_get(buf + 12);
	s->seen = (int64_t)mh_be64_get(buf + MH_SESSION_SEEN);
	memcpy(s->user, buf + MH_SESSION_HEAD, n + 1);
	return 0;
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
	data.size = (u_int32_t)mh_session_encode(s, buf);
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
	    MH_SESSION_REC, MH_SESSION_SEEN, (uint64_t)now);
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

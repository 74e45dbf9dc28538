/*
 * The signed-in sessions (sessions.db), by the SHA-256 of the session id:
 * generation (4), user_created (8), created (8), seen (8), then the
 * user's name and its NUL.
 */
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

enum mh_store_err
mh_store_session_add(struct mh_store *st, const struct mh_session *s)
{
	unsigned char buf[MH_SESSION_REC];
	size_t len = mh_session_encode(s, buf);

	return mh_keyed_put(st, MH_DB_SESSIONS, s->key, MH_KEY_HASH_LEN, buf,
	    len, 1);
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

enum mh_store_err
mh_store_session_end(struct mh_store *st,
    const unsigned char key[MH_KEY_HASH_LEN])
{
	return mh_keyed_del(st, MH_DB_SESSIONS, key, MH_KEY_HASH_LEN);
}

#define MH_PRUNE_MAX 1000

struct mh_session_prune {
	int64_t idle_before, created_before;
	unsigned char keys[MH_PRUNE_MAX][MH_KEY_HASH_LEN];
	size_t n;
};

static int
mh_session_stale(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_session_prune *p = ctx;
	struct mh_session s;

	if (key->size != MH_KEY_HASH_LEN)
		return 0;
	if (mh_session_decode(data->data, data->size, &s) != 0 ||
	    s.seen < p->idle_before || s.created < p->created_before)
		memcpy(p->keys[p->n++], key->data, MH_KEY_HASH_LEN);
	return p->n == MH_PRUNE_MAX;
}

static int
mh_sessions_prune_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_session_prune *p = ctx;
	DB *db = st->db[MH_DB_SESSIONS];
	DBT key;
	int ret;

	p->n = 0;
	if ((ret = mh_db_walk(db, txn, NULL, 0, mh_session_stale, p)) != 0)
		return ret;
	for (size_t i = 0; i < p->n; i++) {
		memset(&key, 0, sizeof(key));
		key.data = p->keys[i];
		key.size = MH_KEY_HASH_LEN;
		if ((ret = db->del(db, txn, &key, 0)) != 0 &&
		    ret != DB_NOTFOUND)
			return ret;
	}
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

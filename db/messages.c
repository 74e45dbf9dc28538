/*
 * Message summaries: one record per provider's message, keyed
 * "provider\0message_id", holding the text the application's fold made of
 * the message's events so far (its state, counts...). The rules are the
 * application's; this file keeps the record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* Sets key to "provider \0 message_id", the key of messages.db; key->data
 * is allocated and owned by the caller. Returns 0 or ENOMEM. */
static int
mh_message_key(DBT *key, const char *provider, const char *message_id)
{
	size_t plen = strlen(provider), mlen = strlen(message_id);
	char *k;

	memset(key, 0, sizeof(*key));
	if ((k = malloc(plen + mlen + 1)) == NULL)
		return ENOMEM;
	memcpy(k, provider, plen + 1);
	memcpy(k + plen + 1, message_id, mlen);
	key->data = k;
	key->size = (u_int32_t)(plen + 1 + mlen);
	return 0;
}

int
mh_message_fold(struct mh_store *st, DB_TXN *txn, const struct mh_deriver *d,
    struct mh_fold *f)
{
	DB *db = st->db[MH_DB_MESSAGES];
	const struct mh_event *ev = f->ev;
	const char *msgid = ev->rec.event.message_id;
	DBT key, data;
	int ret;

	if (msgid == NULL || *msgid == '\0' || d->fold == NULL)
		return 0;
	if ((ret = mh_message_key(&key, ev->provider ? ev->provider : "",
	    msgid)) != 0)
		return ret;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = db->get(db, txn, &key, &data, DB_RMW);
	if (ret != 0 && ret != DB_NOTFOUND)
		goto out;
	f->summary = ret == 0 ? data.data : NULL;
	ret = d->fold(d, f);
	f->summary = NULL;
	if (((struct mh_notes_txn *)f->notes)->ret != 0) {
		ret = ((struct mh_notes_txn *)f->notes)->ret;
		goto out;
	}
	if (ret != 0 || f->folded == NULL) {
		ret = ENOMEM;
		goto out;
	}
	free(data.data);
	memset(&data, 0, sizeof(data));
	data.data = f->folded;
	data.size = (u_int32_t)strlen(f->folded) + 1;
	ret = db->put(db, txn, &key, &data, 0);
	data.data = NULL;
out:
	free(data.data);
	free(key.data);
	return ret;
}

struct mh_message_get {
	DBT key, data;
};

static int
mh_message_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_message_get *g = ctx;

	return st->db[MH_DB_MESSAGES]->get(st->db[MH_DB_MESSAGES], txn, &g->key,
	    &g->data, 0);
}

enum mh_store_err
mh_store_message(struct mh_store *st, const char *provider,
    const char *message_id, char **json)
{
	struct mh_message_get g;
	int ret;

	*json = NULL;
	memset(&g, 0, sizeof(g));
	if (mh_message_key(&g.key, provider, message_id) != 0)
		return MH_STORE_NOMEM;
	g.data.flags = DB_DBT_REALLOC;
	ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_message_txn, &g);
	free(g.key.data);
	if (ret == 0)
		*json = g.data.data;
	else
		free(g.data.data);
	return mh_store_error(ret);
}

/* Whether any event of message_id is left (its index has a key). */
static int
mh_message_has_events(struct mh_store *st, DB_TXN *txn,
    const char *message_id, int *has)
{
	DB *idx = st->db[MH_DB_BY_MESSAGE];
	size_t len = strlen(message_id) + 1;
	unsigned char *buf;
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	*has = 0;
	if ((buf = malloc(len + 8)) == NULL)
		return ENOMEM;
	memcpy(buf, message_id, len);
	mh_keys_only(&key, &data, buf, len, len + 8);
	if ((ret = idx->cursor(idx, txn, &cur, 0)) == 0) {
		ret = cur->get(cur, &key, &data, DB_SET_RANGE);
		*has = ret == 0 && key.size == len + 8 &&
		    memcmp(buf, message_id, len) == 0;
		cur->close(cur);
	}
	free(buf);
	return ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL ? 0 : ret;
}

int
mh_message_del(struct mh_store *st, DB_TXN *txn, const char *provider,
    const char *message_id, int when_empty, int *deleted)
{
	DB *db = st->db[MH_DB_MESSAGES];
	DBT key;
	int ret, has = 0;

	*deleted = 0;
	if (when_empty && ((ret = mh_message_has_events(st, txn, message_id,
	    &has)) != 0 || has))
		return ret;
	if ((ret = mh_message_key(&key, provider, message_id)) != 0)
		return ret;
	ret = db->del(db, txn, &key, 0);
	free(key.data);
	*deleted = ret == 0;
	return ret == DB_NOTFOUND ? 0 : ret;
}

struct mh_messages_walk {
	mh_emit_fn emit;
	void *ctx;
	int stopped;
};

static int
mh_messages_one(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_messages_walk *w = ctx;
	const char *text = data->data;

	(void)key;
	if (data->size == 0 || text[data->size - 1] != '\0')
		return 0;
	return (w->stopped = w->emit(w->ctx, 0, data->data, data->size - 1));
}

static int
mh_messages_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_messages_walk *w = ctx;

	w->emit(w->ctx, 0, NULL, 0);	/* a retry starts again */
	return mh_db_walk(st->db[MH_DB_MESSAGES], txn, NULL, 0,
	    mh_messages_one, w);
}

enum mh_store_err
mh_store_messages_walk(struct mh_store *st, mh_emit_fn emit, void *ctx)
{
	struct mh_messages_walk w = { emit, ctx, 0 };

	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_messages_txn, &w));
}

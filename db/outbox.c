/*
 * Outgoing mail (mail.db), an indexed table (indexed.c's record: status,
 * the recipients, the tags, then the JSON text led by its id), with its
 * place in the outbox (lease.c) changed in the same transaction, and the
 * provider's message ids joined to it (mail-by-remote-id.db). Ids come
 * from the counter "mail" in meta.db. The application makes the records
 * and their changes; the storage never reads their JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"

struct mh_mail_add {
	const struct mh_record *rec;
	int64_t due_ms;
};

static int
mh_mail_add_work(struct mh_store *st, DB_TXN *txn, void *ctx, uint64_t id)
{
	struct mh_mail_add *a = ctx;
	int ret;

	if ((ret = mh_indexed_put(st->db[MH_DB_MAIL], txn, a->rec, "id", id,
	    NULL)) != 0)
		return ret;
	return a->due_ms < 0 ? 0 : mh_lease_put(st, txn, id,
	    &(struct mh_lease){ a->due_ms, 0, 0 });
}

enum mh_store_err
mh_store_mail_add(struct mh_store *st, const struct mh_record *rec,
    int64_t due_ms, const struct mh_idem *idem, mh_answer_fn answer,
    void *ctx, char **text, enum mh_idem_result *res)
{
	struct mh_mail_add a = { rec, due_ms };

	return mh_idem_add(st, "mail", 1, mh_mail_add_work, &a, idem, answer,
	    ctx, text, res);
}

/* Reads the mail of id into *data (DB_DBT_MALLOC: the caller frees
 * data->data) and splits it; DB_NOTFOUND also for a record that is not
 * one of ours. */
static int
mh_mail_read(struct mh_store *st, DB_TXN *txn, uint64_t id, DBT *data,
    const char **json, u_int32_t flags)
{
	DB *db = st->db[MH_DB_MAIL];
	const char *field[3];
	unsigned char k[8];
	DBT key;
	int ret;

	mh_key64(&key, k, id);
	memset(data, 0, sizeof(*data));
	data->flags = DB_DBT_MALLOC;
	if ((ret = db->get(db, txn, &key, data, flags)) != 0)
		return ret;
	if (mh_indexed_parse(data, field, json) != 0) {
		free(data->data);
		data->data = NULL;
		return DB_NOTFOUND;
	}
	return 0;
}

/* Joins each of the provider's ids to mail id. */
static int
mh_mail_join(struct mh_store *st, DB_TXN *txn, uint64_t id, char **remote)
{
	DB *db = st->db[MH_DB_MAIL_BY_REMOTE];
	unsigned char v[8];
	DBT key, data;
	int ret;

	mh_be64_put(v, id);
	for (size_t i = 0; remote != NULL && remote[i] != NULL; i++) {
		memset(&key, 0, sizeof(key));
		memset(&data, 0, sizeof(data));
		key.data = remote[i];
		key.size = (u_int32_t)strlen(remote[i]);
		data.data = v;
		data.size = sizeof(v);
		if (key.size > 0 && (ret = db->put(db, txn, &key, &data, 0)) != 0)
			return ret;
	}
	return 0;
}

/* Does to the outbox entry of id what next asks. */
static int
mh_mail_queue(struct mh_store *st, DB_TXN *txn, uint64_t id,
    const struct mh_mail_next *next, const struct mh_lease *was)
{
	struct mh_lease l = { next->due_ms, 0, 0 };

	if (next->queue == MH_QUEUE_OFF)
		return mh_lease_del(st, txn, id);
	if (next->queue != MH_QUEUE_AT)
		return 0;
	if (next->hold) {
		l.pid = st->pid;
		l.at = (uint32_t)time(NULL);
	} else if (was != NULL && was->pid != st->pid) {
		l.pid = was->pid;	/* another's lease is not ours to end */
		l.at = was->at;
	}
	return mh_lease_put(st, txn, id, &l);
}

struct mh_mail_change {
	const uint64_t *ids;
	size_t n;
	mh_mail_fn change;
	void *ctx;
	char **json;		/* each as stored after, NULL when none */
	size_t found;
};

/* Applies c->change to the i-th mail, inside txn. */
static int
mh_mail_change_one(struct mh_store *st, DB_TXN *txn, struct mh_mail_change *c,
    size_t i)
{
	uint64_t id = c->ids[i];
	struct mh_mail_next next;
	struct mh_lease lease;
	const char *json;
	DBT data;
	int ret, queued;

	memset(&next, 0, sizeof(next));
	if ((ret = mh_mail_read(st, txn, id, &data, &json, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	c->found++;
	if ((ret = mh_lease_get(st, txn, id, &lease, DB_RMW)) != 0 &&
	    ret != DB_NOTFOUND)
		goto out;
	queued = ret == 0;
	if ((ret = c->change(c->ctx, i, json, queued ? &lease : NULL,
	    &next)) != 0)
		goto out;
	if (next.rec.json != NULL)
		ret = mh_indexed_put(st->db[MH_DB_MAIL], txn, &next.rec, NULL,
		    id, &c->json[i]);
	else if ((c->json[i] = strdup(json)) == NULL)
		ret = ENOMEM;
	if (ret == 0)
		ret = mh_mail_queue(st, txn, id, &next, queued ? &lease : NULL);
	if (ret == 0)
		ret = mh_mail_join(st, txn, id, next.remote);
out:
	mh_record_free(&next.rec);
	free(data.data);
	return ret;
}

static void
mh_mail_change_clear(struct mh_mail_change *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->json[i]);
		c->json[i] = NULL;
	}
	c->found = 0;
}

static int
mh_mail_change_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_mail_change *c = ctx;
	int ret = 0;

	mh_mail_change_clear(c);	/* a retry changes afresh */
	for (size_t i = 0; i < c->n && ret == 0; i++)
		ret = mh_mail_change_one(st, txn, c, i);
	return ret == 0 && c->found == 0 ? MH_TXN_DISCARD : ret;
}

enum mh_store_err
mh_store_mail_change(struct mh_store *st, const uint64_t *ids, size_t n,
    mh_mail_fn change, void *ctx, char **json)
{
	struct mh_mail_change c = { ids, n, change, ctx, NULL, 0 };
	int ret = ENOMEM;

	if (json != NULL)
		memset(json, 0, n * sizeof(*json));
	if ((c.json = calloc(n ? n : 1, sizeof(*c.json))) != NULL)
		ret = mh_txn_run(st, 0, 0, mh_mail_change_txn, &c);
	if (ret != 0 || c.found == 0) {
		if (c.json != NULL)
			mh_mail_change_clear(&c);
		free(c.json);
		return ret == 0 ? MH_STORE_NOTFOUND : mh_store_error(ret);
	}
	for (size_t i = 0; i < n; i++) {
		if (json != NULL)
			json[i] = c.json[i];
		else
			free(c.json[i]);
	}
	free(c.json);
	return MH_STORE_OK;
}

struct mh_mail_get {
	uint64_t id;
	char *json;
	struct mh_lease lease;
	int queued;
};

static int
mh_mail_get_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_mail_get *g = ctx;
	const char *json;
	DBT data;
	int ret;

	free(g->json);
	g->json = NULL;
	if ((ret = mh_mail_read(st, txn, g->id, &data, &json, 0)) != 0)
		return ret;
	g->json = strdup(json);
	free(data.data);
	if (g->json == NULL)
		return ENOMEM;
	ret = mh_lease_get(st, txn, g->id, &g->lease, 0);
	g->queued = ret == 0;
	return ret == DB_NOTFOUND ? 0 : ret;
}

enum mh_store_err
mh_store_mail_get(struct mh_store *st, uint64_t id, char **json,
    struct mh_lease *lease, int *queued)
{
	struct mh_mail_get g = { .id = id };
	int ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_mail_get_txn, &g);

	*json = NULL;
	if (ret != 0) {
		free(g.json);
		return mh_store_error(ret);
	}
	*json = g.json;
	if (lease != NULL)
		*lease = g.lease;
	if (queued != NULL)
		*queued = g.queued;
	return MH_STORE_OK;
}

enum mh_store_err
mh_store_mail_of(struct mh_store *st, const char *remote, uint64_t *id)
{
	unsigned char v[8];
	size_t len;
	enum mh_store_err err = mh_keyed_get(st, MH_DB_MAIL_BY_REMOTE, remote,
	    strlen(remote), v, sizeof(v), &len);

	if (err == MH_STORE_OK && len != sizeof(v))
		err = MH_STORE_NOTFOUND;
	if (err == MH_STORE_OK)
		*id = mh_be64_get(v);
	return err;
}

/* The sender's note in meta.db: seen (8), pid (4), key state (4), the
 * refused key's hash (8), since (8). */
#define MH_SENDER_NOTE "sender"
#define MH_SENDER_NOTE_SIZE 32

enum mh_store_err
mh_store_sender_note_put(struct mh_store *st, const struct mh_sender_note *n)
{
	unsigned char v[MH_SENDER_NOTE_SIZE];

	mh_be64_put(v, (uint64_t)n->seen_ms);
	mh_be32_put(v + 8, n->pid);
	mh_be32_put(v + 12, n->key_state);
	memcpy(v + 16, n->key_hash, 8);
	mh_be64_put(v + 24, (uint64_t)n->since_ms);
	return mh_keyed_put(st, MH_DB_META, MH_SENDER_NOTE,
	    strlen(MH_SENDER_NOTE), v, sizeof(v), 0);
}

enum mh_store_err
mh_store_sender_note_get(struct mh_store *st, struct mh_sender_note *n)
{
	unsigned char v[MH_SENDER_NOTE_SIZE];
	size_t len;
	enum mh_store_err err = mh_keyed_get(st, MH_DB_META, MH_SENDER_NOTE,
	    strlen(MH_SENDER_NOTE), v, sizeof(v), &len);

	memset(n, 0, sizeof(*n));
	if (err != MH_STORE_OK)
		return err;
	if (len != sizeof(v))
		return MH_STORE_NOTFOUND;
	n->seen_ms = (int64_t)mh_be64_get(v);
	n->pid = mh_be32_get(v + 8);
	n->key_state = mh_be32_get(v + 12);
	memcpy(n->key_hash, v + 16, 8);
	n->since_ms = (int64_t)mh_be64_get(v + 24);
	return MH_STORE_OK;
}

/*
 * A queued record (mail, a campaign's message) and its place in its send
 * queue (lease.c), read and changed together in one transaction, as the
 * application's function says; with a mail, the provider's message ids
 * the change names are joined to it (mail-by-remote-id.db).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"

/* Reads the record of id in q into *data (DB_DBT_MALLOC: the caller frees
 * data->data) and splits it; DB_NOTFOUND also for a record that is not
 * one of ours. */
static int
mh_queued_read(struct mh_store *st, enum mh_sendq q, DB_TXN *txn, uint64_t id,
    DBT *data, union mh_fields_ref *f, const char **json, u_int32_t flags)
{
	DB *db = st->db[mh_sendqs[q].records];
	unsigned char k[8];
	DBT key;
	int ret;

	mh_key64(&key, k, id);
	memset(data, 0, sizeof(*data));
	data->flags = DB_DBT_MALLOC;
	if ((ret = db->get(db, txn, &key, data, flags)) != 0)
		return ret;
	if (mh_indexed_parse(data, f, json) != 0) {
		free(data->data);
		data->data = NULL;
		return DB_NOTFOUND;
	}
	return 0;
}

/* Joins each of the provider's ids to mail id. */
static int
mh_queued_join(struct mh_store *st, DB_TXN *txn, uint64_t id, char **remote)
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

/* Does to the queue entry of id what next asks. */
static int
mh_queued_queue(struct mh_store *st, enum mh_sendq q, DB_TXN *txn,
    uint64_t id, const struct mh_queued_next *next, const struct mh_lease *was)
{
	struct mh_lease l = { next->due_ms, 0, 0 };

	if (next->queue == MH_QUEUE_OFF)
		return mh_lease_del(st, q, txn, id);
	if (next->queue != MH_QUEUE_AT)
		return 0;
	if (next->hold) {
		l.pid = st->pid;
		l.at = (uint32_t)time(NULL);
	} else if (was != NULL && was->pid != st->pid) {
		l.pid = was->pid;	/* another's lease is not ours to end */
		l.at = was->at;
	}
	return mh_lease_put(st, q, txn, id, &l);
}

struct mh_queued_change {
	enum mh_sendq q;
	const uint64_t *ids;
	size_t n;
	mh_queued_fn change;
	void *ctx;
	char **json;		/* each as stored after, NULL when none */
	size_t found;
};

/* Applies c->change to the i-th mail, inside txn. */
static int
mh_queued_change_one(struct mh_store *st, DB_TXN *txn,
    struct mh_queued_change *c, size_t i)
{
	uint64_t id = c->ids[i];
	struct mh_queued_next next;
	struct mh_lease lease;
	union mh_fields_ref f;
	const char *json;
	DBT data;
	int ret, queued;

	memset(&next, 0, sizeof(next));
	if ((ret = mh_queued_read(st, c->q, txn, id, &data, &f, &json,
	    DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	c->found++;
	if ((ret = mh_lease_get(st, c->q, txn, id, &lease, DB_RMW)) != 0 &&
	    ret != DB_NOTFOUND)
		goto out;
	queued = ret == 0;
	if ((ret = c->change(c->ctx, i, json, queued ? &lease : NULL,
	    &next)) != 0)
		goto out;
	if (next.rec.json != NULL)
		ret = mh_indexed_put(st, txn, mh_sendqs[c->q].table,
		    &next.rec, &f, id, &c->json[i]);
	else if ((c->json[i] = strdup(json)) == NULL)
		ret = ENOMEM;
	if (ret == 0)
		ret = mh_queued_queue(st, c->q, txn, id, &next,
		    queued ? &lease : NULL);
	if (ret == 0)
		ret = mh_queued_join(st, txn, id, next.remote);
out:
	mh_record_free(&next.rec);
	free(data.data);
	return ret;
}

static void
mh_queued_change_clear(struct mh_queued_change *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->json[i]);
		c->json[i] = NULL;
	}
	c->found = 0;
}

static int
mh_queued_change_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_queued_change *c = ctx;
	int ret = 0;

	mh_queued_change_clear(c);	/* a retry changes afresh */
	for (size_t i = 0; i < c->n && ret == 0; i++)
		ret = mh_queued_change_one(st, txn, c, i);
	return ret == 0 && c->found == 0 ? MH_TXN_DISCARD : ret;
}

enum mh_store_err
mh_store_queued_change(struct mh_store *st, enum mh_sendq q,
    const uint64_t *ids, size_t n, mh_queued_fn change, void *ctx,
    char **json)
{
	struct mh_queued_change c = { q, ids, n, change, ctx, NULL, 0 };
	int ret = ENOMEM;

	if (json != NULL)
		memset(json, 0, n * sizeof(*json));
	if ((c.json = calloc(n ? n : 1, sizeof(*c.json))) != NULL)
		ret = mh_txn_run(st, 0, 0, mh_queued_change_txn, &c);
	if (ret != 0 || c.found == 0) {
		if (c.json != NULL)
			mh_queued_change_clear(&c);
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

struct mh_queued_get {
	enum mh_sendq q;
	uint64_t id;
	char *json;
	struct mh_lease lease;
	int queued;
};

static int
mh_queued_get_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_queued_get *g = ctx;
	union mh_fields_ref f;
	const char *json;
	DBT data;
	int ret;

	free(g->json);
	g->json = NULL;
	if ((ret = mh_queued_read(st, g->q, txn, g->id, &data, &f, &json,
	    0)) != 0)
		return ret;
	g->json = strdup(json);
	free(data.data);
	if (g->json == NULL)
		return ENOMEM;
	ret = mh_lease_get(st, g->q, txn, g->id, &g->lease, 0);
	g->queued = ret == 0;
	return ret == DB_NOTFOUND ? 0 : ret;
}

enum mh_store_err
mh_store_queued_get(struct mh_store *st, enum mh_sendq q, uint64_t id,
    char **json, struct mh_lease *lease, int *queued)
{
	struct mh_queued_get g = { .q = q, .id = id };
	int ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_queued_get_txn, &g);

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


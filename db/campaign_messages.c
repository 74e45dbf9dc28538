/*
 * Campaigns' messages (campaign-messages.db), an indexed table (indexed.c's
 * record: campaign "/" status, campaign, client, then the JSON text led by
 * its id), made once for each pair of campaign and client (the pair is
 * kept in campaign-messages-made.db) and queued in the campaigns' send
 * queue (lease.c) in the same transaction; changed with their place by
 * queued.c. Ids come from the counter "campaign_message" in meta.db.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

struct mh_cm_make {
	uint64_t campaign;
	const uint64_t *clients;
	const struct mh_record *recs;
	size_t n;
	int64_t due_ms;
	uint64_t *made;
};

/* Makes the message of the i-th client unless the pair has one. */
static int
mh_cm_make_one(struct mh_store *st, DB_TXN *txn, struct mh_cm_make *m,
    size_t i)
{
	DB *pairs = st->db[MH_DB_CM_MADE];
	unsigned char kbuf[16], vbuf[8];
	uint64_t before;
	DBT key, data;
	int ret;

	mh_be64_put(kbuf, m->campaign);
	mh_be64_put(kbuf + 8, m->clients[i]);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = kbuf;
	key.size = sizeof(kbuf);
	data.data = vbuf;
	data.size = sizeof(vbuf);
	if ((ret = mh_counter(st->db[MH_DB_META], txn,
	    mh_tables[MH_TABLE_CMESSAGES].counter, 0, DB_RMW, &before)) != 0)
		return ret;
	mh_be64_put(vbuf, before + 1);
	ret = pairs->put(pairs, txn, &key, &data, DB_NOOVERWRITE);
	if (ret == DB_KEYEXIST)
		return 0;	/* made before: never a second message */
	if (ret != 0 ||
	    (ret = mh_counter(st->db[MH_DB_META], txn,
	    mh_tables[MH_TABLE_CMESSAGES].counter, 1, 0, &before)) != 0 ||
	    (ret = mh_indexed_put(st, txn, MH_TABLE_CMESSAGES, &m->recs[i],
	    NULL, before + 1, NULL)) != 0)
		return ret;
	m->made[i] = before + 1;
	return mh_lease_put(st, MH_SENDQ_CAMPAIGN, txn, before + 1,
	    &(struct mh_lease){ m->due_ms, 0, 0 });
}

static int
mh_cm_make_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_cm_make *m = ctx;
	int ret = 0;

	memset(m->made, 0, m->n * sizeof(*m->made));
	for (size_t i = 0; i < m->n && ret == 0; i++)
		ret = mh_cm_make_one(st, txn, m, i);
	return ret;
}

enum mh_store_err
mh_store_cmessages_make(struct mh_store *st, uint64_t campaign,
    const uint64_t *clients, const struct mh_record *recs, size_t n,
    int64_t due_ms, uint64_t *made)
{
	struct mh_cm_make m = { campaign, clients, recs, n, due_ms, made };

	if (n == 0)
		return MH_STORE_OK;
	return mh_store_error(mh_txn_run(st, 0, 0, mh_cm_make_txn, &m));
}

/* The state index's key: campaign "/" status NUL id. The counts are
 * kept until the walk's transaction ends well, then said: a walk that met
 * a lock held by a writer (a campaign sending) is tried again from the
 * start, and would otherwise say its counts twice. */
struct mh_cm_tally {
	char key[96];		/* campaign "/" status */
	uint64_t n;
};
struct mh_cm_count {
	const char *prefix;	/* "campaign/", or "" for every campaign */
	size_t plen;
	char last[96];		/* the campaign/status being counted */
	uint64_t n;
	struct mh_cm_tally *tally;
	size_t ntally, cap;
};

/* Keeps the count of the state just passed, if any. */
static int
mh_cm_count_flush(struct mh_cm_count *c)
{
	if (c->n > 0 && strchr(c->last, '/') != NULL) {
		if (c->ntally == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 16;
			struct mh_cm_tally *t = realloc(c->tally,
			    cap * sizeof(*t));

			if (t == NULL)
				return ENOMEM;
			c->tally = t;
			c->cap = cap;
		}
		memcpy(c->tally[c->ntally].key, c->last, sizeof(c->last));
		c->tally[c->ntally++].n = c->n;
	}
	c->n = 0;
	c->last[0] = '\0';
	return 0;
}

static int
mh_cm_count_walk(struct mh_store *st, DB_TXN *txn, struct mh_cm_count *c)
{
	DB *db = st->db[MH_DB_CM_BY_STATE];
	DBC *cur = NULL;
	DBT key, pkey, data;
	int ret;

	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	memset(&key, 0, sizeof(key));
	memset(&pkey, 0, sizeof(pkey));
	memset(&data, 0, sizeof(data));
	key.flags = DB_DBT_REALLOC;
	pkey.flags = DB_DBT_REALLOC;
	/* The record itself is not read: only its keys are counted. */
	data.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
	if ((key.data = strdup(c->prefix)) == NULL) {
		cur->close(cur);
		return ENOMEM;
	}
	key.size = (u_int32_t)c->plen;
	for (ret = cur->pget(cur, &key, &pkey, &data, DB_SET_RANGE); ret == 0;
	    ret = cur->pget(cur, &key, &pkey, &data, DB_NEXT)) {
		const char *k = key.data;
		size_t klen = strnlen(k, key.size);

		if (klen < c->plen || memcmp(k, c->prefix, c->plen) != 0)
			break;
		if (klen >= sizeof(c->last))
			continue;	/* not one of ours */
		if (strncmp(c->last, k, sizeof(c->last)) != 0) {
			if ((ret = mh_cm_count_flush(c)) != 0)
				break;
			memcpy(c->last, k, klen);
			c->last[klen] = '\0';
		}
		c->n++;
	}
	/* The walk ends past the prefix (0) or at the index's end. */
	if ((ret == 0 || ret == DB_NOTFOUND) && mh_cm_count_flush(c) != 0)
		ret = ENOMEM;
	cur->close(cur);
	free(key.data);
	free(pkey.data);
	return ret == DB_NOTFOUND ? 0 : ret;
}

static int
mh_cm_count_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_cm_count *c = ctx;

	c->n = 0;
	c->ntally = 0;
	c->last[0] = '\0';
	return mh_cm_count_walk(st, txn, c);
}

enum mh_store_err
mh_store_cmessages_count(struct mh_store *st, uint64_t campaign,
    mh_cm_count_fn fn, void *ctx)
{
	char prefix[24];
	struct mh_cm_count c = { .prefix = prefix };
	int ret;

	if (campaign == 0)
		prefix[0] = '\0';
	else
		snprintf(prefix, sizeof(prefix), "%" PRIu64 "/", campaign);
	c.plen = strlen(prefix);
	/* Reads under writes never fail: a lock held is waited out. */
	ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_cm_count_txn, &c);
	for (size_t i = 0; ret == 0 && i < c.ntally; i++)
		fn(ctx, strtoull(c.tally[i].key, NULL, 10),
		    strchr(c.tally[i].key, '/') + 1, c.tally[i].n);
	free(c.tally);
	return mh_store_error(ret);
}

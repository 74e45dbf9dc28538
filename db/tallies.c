/*
 * Tallies: what the drains stored and dropped, ever, counted in the very
 * transactions that stored them (meta.db, beside last_seq), so that they
 * are exact whichever process is killed when, and survive restarts: events
 * stored by provider and type, duplicates dropped by provider. A tally's
 * key is "tally", its kind, provider and type, each ended by a NUL.
 */
#include <errno.h>
#include <string.h>

#include "store-private.h"

#define MH_TALLY_PREFIX "tally"

/* The key of a tally into buf; its length, or 0 when it does not fit. */
static size_t
mh_tally_key(char *buf, size_t size, const char *kind, const char *provider,
    const char *type)
{
	const char *part[4] = { MH_TALLY_PREFIX, kind, provider, type };
	size_t len = 0, n;

	for (int i = 0; i < 4; i++) {
		n = strlen(part[i]) + 1;
		if (len + n > size)
			return 0;
		memcpy(buf + len, part[i], n);
		len += n;
	}
	return len;
}

int
mh_tally_note(struct mh_tally_batch *b, const char *kind,
    const char *provider, const char *type)
{
	char key[MH_TALLY_KEY_MAX];
	size_t len = mh_tally_key(key, sizeof(key), kind,
	    provider != NULL ? provider : "", type != NULL ? type : "");

	if (len == 0)
		return EINVAL;
	for (size_t i = 0; i < b->n; i++)
		if (b->item[i].len == len && memcmp(b->item[i].key, key, len) == 0) {
			b->item[i].count++;
			return 0;
		}
	if (b->n == MH_TALLY_BATCH)
		return ENOSPC;
	memcpy(b->item[b->n].key, key, len);
	b->item[b->n].len = len;
	b->item[b->n++].count = 1;
	return 0;
}

int
mh_tally_write(struct mh_store *st, DB_TXN *txn,
    const struct mh_tally_batch *b)
{
	int ret;

	for (size_t i = 0; i < b->n; i++)
		if ((ret = mh_counter_key(st->db[MH_DB_META], txn,
		    b->item[i].key, b->item[i].len,
		    (int64_t)b->item[i].count, DB_RMW, NULL)) != 0)
			return ret;
	return 0;
}

struct mh_tally_read {
	mh_tally_fn fn;
	void *ctx;
};

/* Hands a tally's parts to the callback; a key not of three parts after
 * the prefix is not a tally, and the first key past the prefix ends the
 * walk. */
static int
mh_tally_one(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_tally_read *rd = ctx;
	const char *k = key->data, *end = k + key->size, *p;
	struct mh_store_tally t;

	if (key->size < sizeof(MH_TALLY_PREFIX) ||
	    memcmp(k, MH_TALLY_PREFIX, sizeof(MH_TALLY_PREFIX)) != 0)
		return 1;
	p = k + sizeof(MH_TALLY_PREFIX);
	t.kind = p;
	if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
		return 0;
	t.provider = ++p;
	if (p >= end || (p = memchr(p, '\0', (size_t)(end - p))) == NULL)
		return 0;
	t.type = ++p;
	if (p >= end || memchr(p, '\0', (size_t)(end - p)) != end - 1 ||
	    data->size != 8)
		return 0;
	t.count = mh_be64_get(data->data);
	return rd->fn(rd->ctx, &t);
}

static int
mh_tallies_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_db_walk(st->db[MH_DB_META], txn, MH_TALLY_PREFIX,
	    sizeof(MH_TALLY_PREFIX), mh_tally_one, ctx);
}

enum mh_store_err
mh_store_tallies(struct mh_store *st, mh_tally_fn fn, void *ctx)
{
	struct mh_tally_read rd = { fn, ctx };

	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_tallies_txn, &rd));
}

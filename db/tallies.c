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

/* Hands each tally's parts to the callback; a key not of three parts after
 * the prefix is not a tally. */
static int
mh_tallies_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_tally_read *rd = ctx;
	DB *meta = st->db[MH_DB_META];
	char kbuf[MH_TALLY_KEY_MAX];
	unsigned char vbuf[8];
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	memcpy(kbuf, MH_TALLY_PREFIX, sizeof(MH_TALLY_PREFIX));
	key.data = kbuf;
	key.size = sizeof(MH_TALLY_PREFIX);
	key.ulen = sizeof(kbuf);
	key.flags = DB_DBT_USERMEM;
	data.data = vbuf;
	data.ulen = sizeof(vbuf);
	data.flags = DB_DBT_USERMEM;
	if ((ret = meta->cursor(meta, txn, &cur, 0)) != 0)
		return ret;
	for (ret = cur->get(cur, &key, &data, DB_SET_RANGE); ret == 0;
	    ret = cur->get(cur, &key, &data, DB_NEXT)) {
		struct mh_store_tally t;
		const char *p = kbuf + sizeof(MH_TALLY_PREFIX), *end;

		if (key.size < sizeof(MH_TALLY_PREFIX) ||
		    memcmp(kbuf, MH_TALLY_PREFIX, sizeof(MH_TALLY_PREFIX)) != 0)
			break;
		end = kbuf + key.size;
		t.kind = p;
		if ((p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			continue;
		t.provider = ++p;
		if (p >= end || (p = memchr(p, '\0', (size_t)(end - p))) == NULL)
			continue;
		t.type = ++p;
		if (p >= end || memchr(p, '\0', (size_t)(end - p)) != end - 1 ||
		    data.size != 8)
			continue;
		t.count = mh_be64_get(vbuf);
		if (rd->fn(rd->ctx, &t) != 0)
			break;
	}
	cur->close(cur);
	return ret == DB_NOTFOUND || ret == 0 ? 0 : ret;
}

enum mh_store_err
mh_store_tallies(struct mh_store *st, mh_tally_fn fn, void *ctx)
{
	struct mh_tally_read rd = { fn, ctx };

	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_tallies_txn, &rd));
}

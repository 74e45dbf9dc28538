/*
 * The events' own indexes, written beside each event in its transaction
 * and removed with it: its keys (when it happened, the raw body it came
 * from, its provider and subject: what removing it needs), its place in
 * time, the trigrams of its address and subject (the search), and the
 * count of its type in its hour (the series). The application never
 * reads them; it hands the values over in struct mh_event.
 *
 *   events-keys.db     seq -> ts (biased be64) receipt (be64)
 *                      provider \0 lower(subject) \0 [counted \0]
 *   events-by-time.db  ts (biased be64) seq (be64) -> ""
 *   events-by-gram.db  3 bytes block (be64) -> its seqs (grams.c)
 *   events-per-hour.db hour (biased be64) type -> count (be64)
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

uint64_t
mh_ts_key(int64_t ts)
{
	return (uint64_t)ts ^ ((uint64_t)1 << 63);
}

int64_t
mh_ts_unkey(uint64_t k)
{
	return (int64_t)(k ^ ((uint64_t)1 << 63));
}

int64_t
mh_hour_of(int64_t ts)
{
	return ts >= 0 ? ts / 3600 : -((-ts + 3599) / 3600);
}

void
mh_lower_copy(char *out, const char *in, size_t max)
{
	size_t i;

	for (i = 0; i < max && in[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int
mh_gram_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds the trigrams of s (lower-cased already) to g. A string of two
 * bytes has none: it is given its bytes and a NUL, which no text looked
 * up has, so that a search for two bytes finds it (mh_gram_pair). */
static size_t
mh_grams_add(const char *s, uint32_t *g, size_t n)
{
	size_t len = strlen(s);

	if (len == 2)
		g[n++] = (uint32_t)(unsigned char)s[0] << 16 |
		    (uint32_t)(unsigned char)s[1] << 8;
	for (size_t i = 0; i + 3 <= len; i++)
		g[n++] = (uint32_t)(unsigned char)s[i] << 16 |
		    (uint32_t)(unsigned char)s[i + 1] << 8 |
		    (unsigned char)s[i + 2];
	return n;
}

size_t
mh_grams(const char *a, const char *b, uint32_t *g)
{
	size_t n = mh_grams_add(b, g, mh_grams_add(a, g, 0)), u = 0;

	qsort(g, n, sizeof(*g), mh_gram_cmp);
	for (size_t i = 0; i < n; i++)
		if (u == 0 || g[u - 1] != g[i])
			g[u++] = g[i];
	return u;
}

/* Puts (or, del, deletes) one key with empty data. */
static int
mh_mark(DB *db, DB_TXN *txn, const void *k, size_t len, int del)
{
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)k;
	key.size = (u_int32_t)len;
	if (!del)
		return db->put(db, txn, &key, &data, 0);
	ret = db->del(db, txn, &key, 0);
	return ret == DB_NOTFOUND ? 0 : ret;
}

/* Adds the event's trigrams to the batch. */
static int
mh_gram_batch_add(struct mh_gram_batch *b, const uint32_t *g, size_t n,
    uint64_t seq)
{
	if (b->n + n > b->cap) {
		size_t cap = (b->cap + n) * 2;
		uint64_t *p = realloc(b->pair, cap * sizeof(*p));

		if (p == NULL)
			return ENOMEM;
		b->pair = p;
		b->cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		b->pair[b->n++] = (uint64_t)g[i] << 40 | seq;
	return 0;
}

int
mh_gram_batch_write(struct mh_store *st, DB_TXN *txn, struct mh_gram_batch *b)
{
	const uint64_t mask = ((uint64_t)1 << 40) - 1;
	uint64_t seqs[MH_GRAM_BLOCK];
	int ret = 0;

	qsort(b->pair, b->n, sizeof(*b->pair), mh_u64_cmp);
	for (size_t i = 0, j; i < b->n && ret == 0; i = j) {
		uint32_t gram = (uint32_t)(b->pair[i] >> 40);
		uint64_t block = (b->pair[i] & mask) / MH_GRAM_BLOCK;
		size_t n = 0;

		for (j = i; j < b->n && b->pair[j] >> 40 == gram &&
		    (b->pair[j] & mask) / MH_GRAM_BLOCK == block; j++)
			seqs[n++] = b->pair[j] & mask;
		ret = mh_gram_append(st->db[MH_DB_EV_BY_GRAM], txn, gram, seqs,
		    n);
	}
	b->n = 0;
	return ret;
}

/* Counts one event more (del 0) or less in its hour, under name. */
static int
mh_hour_count(struct mh_store *st, DB_TXN *txn, int64_t ts, const char *name,
    int del)
{
	unsigned char key[8 + MH_TYPE_MAX];
	size_t len = strlen(name);

	if (len > MH_TYPE_MAX)
		len = MH_TYPE_MAX;
	mh_be64_put(key, mh_ts_key(mh_hour_of(ts)));
	memcpy(key + 8, name, len);
	return mh_counter_key(st->db[MH_DB_EV_PER_HOUR], txn, key, 8 + len,
	    del ? -1 : 1, 0, NULL);
}

/* Writes (or removes) the time, trigram and hour entries of one event
 * (counted per hour under k->counted, or type); the trigrams into batch
 * when there is one. */
static int
mh_event_marks(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const struct mh_event_keys *k, const char *type, int del,
    struct mh_gram_batch *batch)
{
	uint32_t g[2 * MH_SEARCH_TEXT_MAX];
	unsigned char key[16];
	size_t n = mh_grams(k->email, k->subject, g);
	int ret;

	mh_be64_put(key, mh_ts_key(k->ts));
	mh_be64_put(key + 8, seq);
	if ((ret = mh_mark(st->db[MH_DB_EV_BY_TIME], txn, key, 16, del)) != 0)
		return ret;
	if (batch != NULL && !del)
		ret = mh_gram_batch_add(batch, g, n, seq);
	for (size_t i = 0; ret == 0 && batch == NULL && i < n; i++)
		ret = mh_gram_change(st->db[MH_DB_EV_BY_GRAM], txn, g[i], seq,
		    !del);
	if (ret != 0)
		return ret;
	return mh_hour_count(st, txn, k->ts, k->counted[0] != '\0' ?
	    k->counted : type, del);
}

int
mh_event_index_put(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const struct mh_event_keys *k, const char *type,
    struct mh_gram_batch *batch)
{
	int ret;

	if ((ret = mh_event_keys_put(st, txn, seq, k)) != 0)
		return ret;
	return mh_event_marks(st, txn, seq, k, type, 0, batch);
}

int
mh_event_keys_put(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const struct mh_event_keys *k)
{
	unsigned char rec[16 + MH_PROVIDER_MAX + MH_SEARCH_TEXT_MAX +
	    MH_COUNTED_MAX + 3];
	size_t plen = strnlen(k->provider, MH_PROVIDER_MAX - 1);
	size_t slen = strlen(k->subject), clen = strlen(k->counted);
	unsigned char kbuf[8];
	DBT key, data;

	mh_be64_put(rec, mh_ts_key(k->ts));
	mh_be64_put(rec + 8, k->receipt);
	memcpy(rec + 16, k->provider, plen);
	rec[16 + plen] = '\0';
	memcpy(rec + 17 + plen, k->subject, slen + 1);
	mh_key64(&key, kbuf, seq);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.size = (u_int32_t)(18 + plen + slen);
	if (clen > 0) {
		memcpy(rec + data.size, k->counted, clen + 1);
		data.size += (u_int32_t)clen + 1;
	}
	return st->db[MH_DB_EV_KEYS]->put(st->db[MH_DB_EV_KEYS], txn, &key,
	    &data, 0);
}

int
mh_event_recount(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const char *type, const char *counted)
{
	struct mh_event_keys k;
	int ret;

	if ((ret = mh_event_keys_get(st, txn, seq, &k, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	if (strcmp(k.counted, counted) == 0)
		return 0;
	if ((ret = mh_hour_count(st, txn, k.ts, k.counted[0] != '\0' ?
	    k.counted : type, 1)) != 0 ||
	    (ret = mh_hour_count(st, txn, k.ts, counted[0] != '\0' ?
	    counted : type, 0)) != 0)
		return ret;
	snprintf(k.counted, sizeof(k.counted), "%s", counted);
	return mh_event_keys_put(st, txn, seq, &k);
}

void
mh_event_keys_of(struct mh_event_keys *k, const struct mh_event *ev,
    uint64_t receipt)
{
	k->ts = ev->ts;
	k->receipt = receipt;
	snprintf(k->provider, sizeof(k->provider), "%s",
	    ev->provider != NULL ? ev->provider : "");
	mh_lower_copy(k->email, ev->rec.event.email != NULL ?
	    ev->rec.event.email : "", MH_SEARCH_TEXT_MAX - 1);
	mh_lower_copy(k->subject, ev->subject != NULL ? ev->subject : "",
	    MH_SEARCH_TEXT_MAX - 1);
	k->counted[0] = '\0';
}

int
mh_event_keys_get(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    struct mh_event_keys *k, u_int32_t flags)
{
	unsigned char rec[16 + MH_PROVIDER_MAX + MH_SEARCH_TEXT_MAX +
	    MH_COUNTED_MAX + 3];
	unsigned char kbuf[8];
	DBT key, data;
	const char *p, *end, *stop;
	int ret;

	mh_key64(&key, kbuf, seq);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.ulen = sizeof(rec);
	data.flags = DB_DBT_USERMEM;
	if ((ret = st->db[MH_DB_EV_KEYS]->get(st->db[MH_DB_EV_KEYS], txn, &key,
	    &data, flags)) != 0)
		return ret;
	if (data.size < 18 || rec[data.size - 1] != '\0')
		return EINVAL;
	k->ts = mh_ts_unkey(mh_be64_get(rec));
	k->receipt = mh_be64_get(rec + 8);
	p = (const char *)rec + 16;
	if ((end = memchr(p, '\0', data.size - 16)) == NULL ||
	    (size_t)(end - p) >= sizeof(k->provider))
		return EINVAL;
	memcpy(k->provider, p, (size_t)(end - p) + 1);
	snprintf(k->subject, sizeof(k->subject), "%s", end + 1);
	/* What follows the subject's NUL, if anything: its counted name. */
	stop = (const char *)rec + data.size;
	end = memchr(end + 1, '\0', (size_t)(stop - end - 1));
	k->counted[0] = '\0';
	if (end != NULL && end + 1 < stop)
		snprintf(k->counted, sizeof(k->counted), "%s", end + 1);
	k->email[0] = '\0';
	return 0;
}

int
mh_event_index_del(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    struct mh_event_keys *k, const char *email, const char *type)
{
	unsigned char kbuf[8];
	DBT key;
	int ret;

	if ((ret = mh_event_keys_get(st, txn, seq, k, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	mh_lower_copy(k->email, email, MH_SEARCH_TEXT_MAX - 1);
	if ((ret = mh_event_marks(st, txn, seq, k, type, 1, NULL)) != 0)
		return ret;
	mh_key64(&key, kbuf, seq);
	return st->db[MH_DB_EV_KEYS]->del(st->db[MH_DB_EV_KEYS], txn, &key, 0);
}

/*
 * The trigram index's posting lists (events-by-gram.db): for each trigram
 * and each block of MH_GRAM_BLOCK seqs, the seqs of the events whose
 * address or subject holds it, as one record: the last seq (be64), then
 * each seq's distance from the one before (the block's first seq before
 * the first) as a LEB128 number. A trigram every event has costs about a
 * byte an event; a rare one a key in a block. (A key for each event and
 * trigram, tried first, cost 2.2 KB an event.) Appending, the common
 * case, adds one number; an older seq (the reindex) or a removal rewrites
 * the block's record.
 *
 *   key: trigram (3 bytes) block (be64, seq / MH_GRAM_BLOCK)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

#define MH_GRAM_REC_MAX (8 + MH_GRAM_BLOCK * 2)

static void
mh_gram_block_key(unsigned char k[11], uint32_t gram, uint64_t block)
{
	k[0] = (unsigned char)(gram >> 16);
	k[1] = (unsigned char)(gram >> 8);
	k[2] = (unsigned char)gram;
	mh_be64_put(k + 3, block);
}

/* Appends v as LEB128 at p; the bytes written. */
static size_t
mh_leb_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			p[n] |= 0x80;
		n++;
	} while (v != 0);
	return n;
}

static int
mh_gram_decode(const unsigned char *rec, size_t len, uint64_t block,
    uint64_t *seqs, size_t *n)
{
	uint64_t s = block * MH_GRAM_BLOCK, v;
	size_t i = 8;
	int shift;

	*n = 0;
	if (len < 8)
		return -1;
	while (i < len && *n < MH_GRAM_BLOCK) {
		for (v = 0, shift = 0; i < len && shift < 64; shift += 7) {
			v |= (uint64_t)(rec[i] & 0x7f) << shift;
			if (!(rec[i++] & 0x80))
				break;
		}
		s += v;
		seqs[(*n)++] = s;
	}
	return 0;
}

/* Encodes the sorted seqs of block into rec; its length. */
static size_t
mh_gram_encode(unsigned char *rec, uint64_t block, const uint64_t *seqs,
    size_t n)
{
	uint64_t prev = block * MH_GRAM_BLOCK;
	size_t len = 8;

	mh_be64_put(rec, n ? seqs[n - 1] : 0);
	for (size_t i = 0; i < n; i++) {
		len += mh_leb_put(rec + len, seqs[i] - prev);
		prev = seqs[i];
	}
	return len;
}

/* Adds (add) or removes seq in the decoded list; whether it changed. */
static int
mh_gram_edit(uint64_t *seqs, size_t *n, uint64_t seq, int add)
{
	size_t i = 0;

	while (i < *n && seqs[i] < seq)
		i++;
	if (add) {
		if (i < *n && seqs[i] == seq)
			return 0;
		memmove(seqs + i + 1, seqs + i, (*n - i) * sizeof(*seqs));
		seqs[i] = seq;
		(*n)++;
		return 1;
	}
	if (i == *n || seqs[i] != seq)
		return 0;
	memmove(seqs + i, seqs + i + 1, (*n - i - 1) * sizeof(*seqs));
	(*n)--;
	return 1;
}

/* Reads gram's record of block with a write lock into rec (key and data
 * set up for the put to come); a Berkeley DB code, DB_NOTFOUND too. */
static int
mh_gram_get(DB *db, DB_TXN *txn, uint32_t gram, uint64_t block,
    unsigned char k[11], unsigned char *rec, DBT *key, DBT *data)
{
	mh_gram_block_key(k, gram, block);
	memset(key, 0, sizeof(*key));
	memset(data, 0, sizeof(*data));
	key->data = k;
	key->size = 11;
	data->data = rec;
	data->ulen = MH_GRAM_REC_MAX;
	data->flags = DB_DBT_USERMEM;
	return db->get(db, txn, key, data, DB_RMW);
}

/* Appends seqs (after every seq the record holds; data->size 0 for a
 * new record) and writes it. */
static int
mh_gram_put_after(DB *db, DB_TXN *txn, uint64_t block, const uint64_t *seqs,
    size_t n, DBT *key, DBT *data)
{
	unsigned char *rec = data->data;
	uint64_t last = data->size >= 8 ? mh_be64_get(rec) :
	    block * MH_GRAM_BLOCK;

	if (data->size < 8)
		data->size = 8;
	for (size_t i = 0; i < n; i++) {
		data->size += (u_int32_t)mh_leb_put(rec + data->size,
		    seqs[i] - last);
		last = seqs[i];
	}
	mh_be64_put(rec, last);
	return db->put(db, txn, key, data, 0);
}

int
mh_gram_append(DB *db, DB_TXN *txn, uint32_t gram, const uint64_t *seqs,
    size_t n)
{
	unsigned char k[11], rec[MH_GRAM_REC_MAX];
	uint64_t block = seqs[0] / MH_GRAM_BLOCK;
	DBT key, data;
	int ret = mh_gram_get(db, txn, gram, block, k, rec, &key, &data);

	if (ret == DB_NOTFOUND)
		data.size = 0;
	else if (ret != 0)
		return ret;
	if (data.size < 8 || mh_be64_get(rec) < seqs[0])
		return mh_gram_put_after(db, txn, block, seqs, n, &key, &data);
	/* Not after the last (the reindex): one at a time, in order. */
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = mh_gram_change(db, txn, gram, seqs[i], 1);
	return ret;
}

int
mh_gram_change(DB *db, DB_TXN *txn, uint32_t gram, uint64_t seq, int add)
{
	unsigned char k[11], rec[MH_GRAM_REC_MAX];
	uint64_t block = seq / MH_GRAM_BLOCK, seqs[MH_GRAM_BLOCK];
	size_t n = 0;
	DBT key, data;
	int ret = mh_gram_get(db, txn, gram, block, k, rec, &key, &data);

	if (ret == DB_NOTFOUND && !add)
		return 0;
	if (ret != 0 && ret != DB_NOTFOUND)
		return ret;
	if (ret == DB_NOTFOUND)
		data.size = 0;
	/* The common case: a newer seq than any, one number appended. */
	if (add && (data.size < 8 || seq > mh_be64_get(rec)))
		return mh_gram_put_after(db, txn, block, &seq, 1, &key, &data);
	if (mh_gram_decode(rec, data.size, block, seqs, &n) != 0)
		n = 0;
	if (!mh_gram_edit(seqs, &n, seq, add))
		return 0;
	if (n == 0)
		return db->del(db, txn, &key, 0);
	data.size = (u_int32_t)mh_gram_encode(rec, block, seqs, n);
	return db->put(db, txn, &key, &data, 0);
}

int
mh_gram_near(struct mh_gram_cursor *c, uint64_t block, int newest)
{
	unsigned char want[11], got[11], rec[MH_GRAM_REC_MAX];
	DBT key, data;
	int ret;

	c->n = 0;
	mh_gram_block_key(want, c->gram, block);
	memcpy(got, want, sizeof(got));
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = got;
	key.size = key.ulen = sizeof(got);
	key.flags = DB_DBT_USERMEM;
	data.data = rec;
	data.ulen = sizeof(rec);
	data.flags = DB_DBT_USERMEM;
	ret = c->cur->get(c->cur, &key, &data, DB_SET_RANGE);
	if (newest && (ret == DB_NOTFOUND || (ret == 0 && memcmp(got, want,
	    sizeof(got)) != 0)))
		ret = c->cur->get(c->cur, &key, &data, ret == 0 ? DB_PREV :
		    DB_LAST);
	if (ret == DB_NOTFOUND)
		return 0;
	if (ret != 0)
		return ret;
	if (key.size != 11 || memcmp(got, want, 3) != 0)
		return 0;
	c->block = mh_be64_get(got + 3);
	return mh_gram_decode(rec, data.size, c->block, c->seqs, &c->n) != 0 ?
	    EINVAL : 0;
}

int
mh_gram_seek(struct mh_gram_cursor *c, uint64_t x, int newest, uint64_t *out)
{
	uint64_t block = x / MH_GRAM_BLOCK;
	int ret;

	*out = 0;
	for (;;) {
		if (!c->loaded || c->block != block) {
			if ((ret = mh_gram_near(c, block, newest)) != 0)
				return ret;
			c->loaded = c->n > 0;
			if (c->n == 0)
				return 0;
		}
		if (newest) {
			for (size_t i = c->n; i-- > 0;)
				if (c->seqs[i] <= x)
					return (*out = c->seqs[i]), 0;
			if (c->block == 0)
				return 0;
			block = c->block - 1;
			x = block * MH_GRAM_BLOCK + MH_GRAM_BLOCK - 1;
		} else {
			for (size_t i = 0; i < c->n; i++)
				if (c->seqs[i] >= x)
					return (*out = c->seqs[i]), 0;
			block = c->block + 1;
			x = block * MH_GRAM_BLOCK;
		}
	}
}

/* The first trigram in the index at or after from into *found; UINT32_MAX
 * when there is none. */
static int
mh_gram_first_at(DBC *cur, uint32_t from, uint32_t *found)
{
	unsigned char k[11];
	DBT key, data;
	int ret;

	*found = UINT32_MAX;
	mh_gram_block_key(k, from, 0);
	mh_keys_only(&key, &data, k, sizeof(k), sizeof(k));
	if ((ret = cur->get(cur, &key, &data, DB_SET_RANGE)) == DB_NOTFOUND)
		return 0;
	if (ret == 0 && key.size == sizeof(k))
		*found = (uint32_t)k[0] << 16 | (uint32_t)k[1] << 8 | k[2];
	return ret;
}

int
mh_gram_pair(DB *db, DB_TXN *txn, const char pair[2], uint32_t *g,
    size_t *n)
{
	uint32_t ab = (uint32_t)(unsigned char)pair[0] << 8 |
	    (unsigned char)pair[1], f, from;
	DBC *cur;
	int ret;

	*n = 0;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	/* "ab?": a range of keys, walked a trigram at a time. */
	for (from = ab << 8; (ret = mh_gram_first_at(cur, from, &f)) == 0 &&
	    f != UINT32_MAX && f >> 8 == ab; from = f + 1) {
		g[(*n)++] = f;
		if ((f & 0xff) == 0xff)
			break;
	}
	/* "?ab": a seek for each first byte, skipping those no key has. */
	for (uint32_t c = 1; ret == 0 && c <= 0xff; c++) {
		from = c << 16 | ab;
		if ((ret = mh_gram_first_at(cur, from, &f)) != 0 ||
		    f == UINT32_MAX)
			break;
		if (f == from && f >> 8 != ab)	/* "aab" is listed already */
			g[(*n)++] = f;
		else if (f >> 16 > c)
			c = (f >> 16) - 1;
	}
	cur->close(cur);
	return ret;
}

/*
 * The events' text and time filters (event_index.c writes their indexes).
 *
 * Text of 3 bytes or more is looked up in the trigram index: a cursor on
 * each of its trigrams' lists (kept in seq order) and a zig-zag between
 * them, each cursor jumping to the next seq all lists agree on, so that a
 * page costs a few seeks per candidate whatever the store's size; each
 * candidate is then checked against its keys, as trigrams in common are
 * not the text. A time window is read from the time index: its seqs,
 * sorted into the answer's order. A window holding more than
 * MH_RANGE_MAX events is walked in the table instead (the newest first:
 * a recent window is found at once); with text, one of more than
 * MH_RANGE_WITH_TEXT_MAX leaves the text's trigrams to find them. Text
 * of 2 bytes takes the union of the trigrams that hold them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "store-private.h"

#define MH_RANGE_MAX 262144
/* A window with text is read from the time index when it holds at most
 * this many events (each then checked for the text), else the text's
 * trigrams are followed (each match then checked for the time). */
#define MH_RANGE_WITH_TEXT_MAX 20000
/* Trigrams of a text looked up: enough to be selective, spread over it. */
#define MH_GRAMS_USED 8

int
mh_search_wanted(const struct mh_query *q)
{
	return q->table == MH_TABLE_EVENTS && (q->text != NULL ||
	    q->has_since || q->has_until);
}

/* Whether hay (lower-cased) holds needle in any case. */
static int
mh_has_text(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		size_t i = 0;

		while (i < n && hay[i] != '\0' && hay[i] ==
		    (char)tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return n == 0;
}

int
mh_search_match(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t seq, const char *email_lower, int *ok)
{
	struct mh_event_keys k;
	char email[MH_SEARCH_TEXT_MAX];
	int ret;

	*ok = 0;
	if ((ret = mh_event_keys_get(st, txn, seq, &k, 0)) != 0)
		return ret == DB_NOTFOUND || ret == EINVAL ? 0 : ret;
	if ((q->has_since && k.ts < q->since) ||
	    (q->has_until && k.ts >= q->until))
		return 0;
	mh_lower_copy(email, email_lower, MH_SEARCH_TEXT_MAX - 1);
	*ok = q->text == NULL || mh_has_text(email, q->text) ||
	    mh_has_text(k.subject, q->text);
	return 0;
}

/* Reads the event seq and hands it to visit when it passes every filter;
 * an event gone (erased) is passed over. */
static int
mh_search_visit(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t seq, mh_visit_fn visit, void *vctx)
{
	DB *events = st->db[MH_DB_EVENTS];
	unsigned char kbuf[8];
	union mh_fields_ref f;
	const char *json;
	DBT key, data;
	int ret, ok = 0;

	mh_key64(&key, kbuf, seq);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = events->get(events, txn, &key, &data, 0)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	/* Searched only without an address or a message id: the filters
	 * left are none folded, and as the query gives them. */
	if (mh_indexed_parse(&data, &f, &json) == 0 &&
	    mh_query_match(q, &q->where, &f, json) &&
	    (ret = mh_search_match(st, txn, q, seq, f.event.email, &ok)) ==
	    0 && ok)
		ret = visit(vctx, seq, &f, json);
	free(data.data);
	return ret;
}

/* The trigrams looked up for text: up to MH_GRAMS_USED, spread over it. */
static size_t
mh_text_grams(const char *text, uint32_t *use)
{
	char lower[MH_SEARCH_TEXT_MAX];
	uint32_t all[MH_SEARCH_TEXT_MAX];
	size_t n, m = 0;

	mh_lower_copy(lower, text, MH_SEARCH_TEXT_MAX - 1);
	n = mh_grams(lower, "", all);
	for (size_t i = 0; i < n && m < MH_GRAMS_USED; i++)
		if (n <= MH_GRAMS_USED || i * MH_GRAMS_USED / n >= m)
			use[m++] = all[i];
	return m;
}

static int
mh_search_grams(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t start, mh_visit_fn visit, void *vctx)
{
	DB *db = st->db[MH_DB_EV_BY_GRAM];
	struct mh_gram_cursor *cur;
	uint32_t gram[MH_GRAMS_USED];
	size_t n = mh_text_grams(q->text, gram), agreed, i;
	int newest = !q->has_after, ret = 0;
	uint64_t x = newest ? start - 1 : start, cand, s;

	if ((cur = calloc(n, sizeof(*cur))) == NULL)
		return ENOMEM;
	for (i = 0; i < n && ret == 0; i++) {
		cur[i].gram = gram[i];
		ret = db->cursor(db, txn, &cur[i].cur, 0);
	}
	while (ret == 0 && x != 0 && x != UINT64_MAX) {
		cand = x;
		for (agreed = 0, i = 0; agreed < n && cand != 0;
		    i = (i + 1) % n) {
			if ((ret = mh_gram_seek(&cur[i], cand, newest,
			    &s)) != 0)
				break;
			agreed = s == cand ? agreed + 1 : 1;
			cand = s;
		}
		if (ret != 0 || cand == 0)
			break;
		if ((ret = mh_search_visit(st, txn, q, cand, visit, vctx)) != 0)
			break;
		x = newest ? cand - 1 : cand + 1;
	}
	for (i = 0; i < n; i++)
		if (cur[i].cur != NULL)
			cur[i].cur->close(cur[i].cur);
	free(cur);
	return ret == 1 ? 0 : ret;
}

/* The union of the pair's trigrams' lists, a block at a time: each
 * cursor holds its nearest block on the answer's side of the one looked
 * for, the union's next block is the nearest of those, and its seqs are
 * gathered in a bitmap, so that they come out in order, each once. */
struct mh_pair_union {
	struct mh_gram_cursor *cur;
	size_t n;
	uint64_t bits[MH_GRAM_BLOCK / 64];
};

/* The union's nearest block at or on the answer's side of block into
 * *top, its seqs marked in u->bits; 0 with *found 0 when none is left. */
static int
mh_pair_block(struct mh_pair_union *u, uint64_t block, int newest,
    uint64_t *top, int *found)
{
	struct mh_gram_cursor *c;
	int ret;

	*found = 0;
	for (size_t i = 0; i < u->n; i++) {
		c = &u->cur[i];
		if (c->loaded && c->n == 0)
			continue;	/* its list is done */
		if (!c->loaded || (newest ? c->block > block :
		    c->block < block)) {
			if ((ret = mh_gram_near(c, block, newest)) != 0)
				return ret;
			c->loaded = 1;
			if (c->n == 0)
				continue;
		}
		if (!*found || (newest ? c->block > *top : c->block < *top))
			*top = c->block;
		*found = 1;
	}
	memset(u->bits, 0, sizeof(u->bits));
	for (size_t i = 0; *found && i < u->n; i++)
		for (size_t j = 0; u->cur[i].n > 0 && u->cur[i].block == *top &&
		    j < u->cur[i].n; j++) {
			uint64_t b = u->cur[i].seqs[j] % MH_GRAM_BLOCK;

			u->bits[b / 64] |= (uint64_t)1 << (b % 64);
		}
	return 0;
}

/* Text of two bytes: the events of every trigram holding them. */
static int
mh_search_pairs(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t start, mh_visit_fn visit, void *vctx)
{
	DB *db = st->db[MH_DB_EV_BY_GRAM];
	struct mh_pair_union u = { NULL, 0, { 0 } };
	uint32_t gram[MH_PAIR_GRAMS_MAX];
	char pair[3];
	int newest = !q->has_after, found = 1, ret;
	uint64_t block = (newest ? start - 1 : start) / MH_GRAM_BLOCK, top = 0;

	mh_lower_copy(pair, q->text, 2);
	if ((ret = mh_gram_pair(db, txn, pair, gram, &u.n)) != 0)
		return ret;
	if (u.n > 0 && (u.cur = calloc(u.n, sizeof(*u.cur))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < u.n && ret == 0; i++) {
		u.cur[i].gram = gram[i];
		ret = db->cursor(db, txn, &u.cur[i].cur, 0);
	}
	while (ret == 0 && found && (newest ? start > 1 : start > 0) &&
	    (ret = mh_pair_block(&u, block, newest, &top, &found)) == 0 &&
	    found) {
		for (size_t k = 0; ret == 0 && k < MH_GRAM_BLOCK; k++) {
			size_t b = newest ? MH_GRAM_BLOCK - 1 - k : k;
			uint64_t seq = top * MH_GRAM_BLOCK + b;

			if ((u.bits[b / 64] >> (b % 64) & 1) &&
			    (newest ? seq < start : seq >= start))
				ret = mh_search_visit(st, txn, q, seq, visit,
				    vctx);
		}
		if (newest && top == 0)
			break;
		block = newest ? top - 1 : top + 1;
	}
	for (size_t i = 0; i < u.n; i++)
		if (u.cur[i].cur != NULL)
			u.cur[i].cur->close(u.cur[i].cur);
	free(u.cur);
	return ret == 1 ? 0 : ret;
}

/* The seqs of the window's events into *seqs (caller frees), sorted;
 * MH_SEARCH_SCAN when they are more than max. */
static int
mh_range_seqs(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    size_t max, uint64_t **seqs, size_t *n)
{
	DB *db = st->db[MH_DB_EV_BY_TIME];
	unsigned char k[16];
	uint64_t end = q->has_until ? mh_ts_key(q->until) : UINT64_MAX, *v;
	size_t cap = 1024;
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	*n = 0;
	if ((*seqs = malloc(cap * sizeof(**seqs))) == NULL)
		return ENOMEM;
	mh_be64_put(k, q->has_since ? mh_ts_key(q->since) : 0);
	memset(k + 8, 0, 8);
	mh_keys_only(&key, &data, k, sizeof(k), sizeof(k));
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	for (ret = cur->get(cur, &key, &data, DB_SET_RANGE); ret == 0 &&
	    key.size == 16 && mh_be64_get(k) < end;
	    ret = cur->get(cur, &key, &data, DB_NEXT)) {
		if (*n == max) {
			ret = MH_SEARCH_SCAN;
			break;
		}
		if (*n == cap) {
			v = realloc(*seqs, 2 * cap * sizeof(*v));
			if (v == NULL) {
				ret = ENOMEM;
				break;
			}
			*seqs = v;
			cap *= 2;
		}
		(*seqs)[(*n)++] = mh_be64_get(k + 8);
	}
	cur->close(cur);
	if (ret == DB_NOTFOUND || ret == 0) {
		qsort(*seqs, *n, sizeof(**seqs), mh_u64_cmp);
		return 0;
	}
	return ret;
}

static int
mh_search_range(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    size_t max, uint64_t start, mh_visit_fn visit, void *vctx)
{
	uint64_t *seqs = NULL;
	size_t n;
	int newest = !q->has_after;
	int ret = mh_range_seqs(st, txn, q, max, &seqs, &n);

	for (size_t i = 0; ret == 0 && i < n; i++) {
		uint64_t seq = seqs[newest ? n - 1 - i : i];

		if (newest ? seq >= start : seq < start)
			continue;
		ret = mh_search_visit(st, txn, q, seq, visit, vctx);
	}
	free(seqs);
	return ret == 1 ? 0 : ret;
}

int
mh_search_pass(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t start, mh_visit_fn visit, void *vctx)
{
	size_t len = q->text != NULL ? strlen(q->text) : 0;
	int ret;

	if ((q->has_since || q->has_until) &&
	    (ret = mh_search_range(st, txn, q, len >= 2 ?
	    MH_RANGE_WITH_TEXT_MAX : MH_RANGE_MAX, start, visit, vctx)) !=
	    MH_SEARCH_SCAN)
		return ret;
	if (len == 2)
		return mh_search_pairs(st, txn, q, start, visit, vctx);
	return len >= 3 ? mh_search_grams(st, txn, q, start, visit, vctx) :
	    MH_SEARCH_SCAN;
}

/* Where a pass by time starts: just below the cursor (q->before_ts,
 * q->before) or until, whichever is lower, into k; 0 when neither is
 * set (from the newest). */
static int
mh_time_start(const struct mh_query *q, unsigned char k[16])
{
	uint64_t ts = UINT64_MAX, seq = 0;

	if (q->has_before_ts) {
		ts = mh_ts_key(q->before_ts);
		seq = q->before;
	}
	if (q->has_until && mh_ts_key(q->until) <= ts) {
		ts = mh_ts_key(q->until);
		seq = 0;
	}
	if (ts == UINT64_MAX)
		return 0;
	mh_be64_put(k, ts);
	mh_be64_put(k + 8, seq);
	return 1;
}

int
mh_time_pass(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    const union mh_fields_ref *filters, mh_visit_fn visit, void *vctx)
{
	DB *db = st->db[MH_DB_EV_BY_TIME], *events = st->db[MH_DB_EVENTS];
	uint64_t lo = q->has_since ? mh_ts_key(q->since) : 0, seq;
	unsigned char k[16], kbuf[8];
	union mh_fields_ref f;
	const char *json;
	DBC *cur = NULL;
	DBT key, data, ek, ed;
	int ret, ok;

	mh_keys_only(&key, &data, k, sizeof(k), sizeof(k));
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	if (!mh_time_start(q, k))
		ret = cur->get(cur, &key, &data, DB_LAST);
	else if ((ret = cur->get(cur, &key, &data, DB_SET_RANGE)) == 0)
		ret = cur->get(cur, &key, &data, DB_PREV);
	else if (ret == DB_NOTFOUND)
		ret = cur->get(cur, &key, &data, DB_LAST);
	memset(&ed, 0, sizeof(ed));
	ed.flags = DB_DBT_REALLOC;
	for (; ret == 0 && key.size == 16 && mh_be64_get(k) >= lo;
	    ret = cur->get(cur, &key, &data, DB_PREV)) {
		seq = mh_be64_get(k + 8);
		mh_key64(&ek, kbuf, seq);
		if ((ret = events->get(events, txn, &ek, &ed, 0)) == DB_NOTFOUND)
			continue;	/* erased since */
		if (ret != 0)
			break;
		if (mh_indexed_parse(&ed, &f, &json) != 0 ||
		    !mh_query_match(q, filters, &f, json))
			continue;
		if ((ret = mh_search_match(st, txn, q, seq, f.event.email,
		    &ok)) != 0)
			break;
		if (ok && (ret = visit(vctx, seq, &f, json)) != 0)
			break;
	}
	free(ed.data);
	cur->close(cur);
	return ret == DB_NOTFOUND || ret == 1 ? 0 : ret;
}

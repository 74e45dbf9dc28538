/*
 * The trigram index's posting lists (db/grams.c) against a plain model:
 * seqs added in order and out of it (as the reindex does), appended in
 * batches, removed, across many blocks; every seek, newest and oldest
 * first, from every point, answers what the model does. Then the search
 * through the store (search.c): a text matched across blocks, newest
 * first and oldest first, paged, equals a scan of what was stored.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "core/core.h"
#include "db/store-private.h"

#define SPAN 5000	/* seqs 1 .. SPAN: five blocks */

struct run {
	uint32_t gram;
	uint64_t seq[SPAN];
	size_t n;
	int add;
	int batch;
};

static int
change_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct run *r = ctx;
	DB *db = st->db[MH_DB_EV_BY_GRAM];
	int ret = 0;

	if (r->batch)
		return mh_gram_append(db, txn, r->gram, r->seq, r->n);
	for (size_t i = 0; i < r->n && ret == 0; i++)
		ret = mh_gram_change(db, txn, r->gram, r->seq[i], r->add);
	return ret;
}

struct seek {
	uint32_t gram;
	const unsigned char *model;
	int bad;
	uint64_t checked;
};

/* The model's answer: the nearest seq at or below (newest) or at or
 * above x; 0 when none. */
static uint64_t
model_seek(const unsigned char *model, uint64_t x, int newest)
{
	if (newest) {
		for (uint64_t s = x > SPAN ? SPAN : x; s >= 1; s--)
			if (model[s])
				return s;
		return 0;
	}
	for (uint64_t s = x < 1 ? 1 : x; s <= SPAN; s++)
		if (model[s])
			return s;
	return 0;
}

static int
seek_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct seek *k = ctx;
	struct mh_gram_cursor *c = calloc(1, sizeof(*c));
	DB *db = st->db[MH_DB_EV_BY_GRAM];
	uint64_t got;
	int ret;

	if (c == NULL)
		return ENOMEM;
	c->gram = k->gram;
	if ((ret = db->cursor(db, txn, &c->cur, 0)) != 0) {
		free(c);
		return ret;
	}
	k->bad = 0;
	k->checked = 0;
	for (int newest = 0; newest < 2; newest++)
		for (uint64_t x = 1; x <= SPAN + 1 && ret == 0; x += 7) {
			ret = mh_gram_seek(c, x, newest, &got);
			k->checked++;
			if (ret == 0 && got != model_seek(k->model, x, newest) &&
			    k->bad++ == 0)
				printf("# gram %x %s from %" PRIu64 ": %" PRIu64
				    ", want %" PRIu64, k->gram, newest ? "newest" :
				    "oldest", x, got, model_seek(k->model, x,
				    newest)), printf("\n");
		}
	c->cur->close(c->cur);
	free(c);
	return ret;
}

static void
grams(struct mh_store *st)
{
	static unsigned char model[SPAN + 2];
	static struct run r;
	struct seek k = { .gram = 0x616263, .model = model };
	int failed = 0;

	srand(7);
	/* Every third seq, in order, appended in batches of a block's part. */
	r.gram = k.gram;
	r.batch = 1;
	for (uint64_t s = 3; s <= 2000; s += 3) {
		r.seq[r.n++] = s;
		model[s] = 1;
		if (s % 300 == 0 || (s + 3) / MH_GRAM_BLOCK != s / MH_GRAM_BLOCK) {
			failed += mh_txn_run(st, 0, 0, change_txn, &r) != 0;
			r.n = 0;
		}
	}
	if (r.n > 0)
		failed += mh_txn_run(st, 0, 0, change_txn, &r) != 0;
	ok(!failed, "every third seq to 2000 appended, a batch within a block");
	/* Then random seqs across all five blocks, out of order. */
	r.batch = 0;
	r.add = 1;
	r.n = 0;
	for (int i = 0; i < 700; i++) {
		uint64_t s = 1 + (uint64_t)rand() % SPAN;

		r.seq[r.n++] = s;
		model[s] = 1;
	}
	ok(mh_txn_run(st, 0, 0, change_txn, &r) == 0, "700 seqs added out of order");
	failed = mh_txn_run(st, DB_READ_COMMITTED, 0, seek_txn, &k) != 0;
	ok(!failed && k.bad == 0 && k.checked > 1400,
	    "every seek answers as the model, %" PRIu64 " of them", k.checked);
	/* Removals: every fifth seq the model holds, and some it does not. */
	r.add = 0;
	r.n = 0;
	for (uint64_t s = 1, m = 0; s <= SPAN; s++)
		if ((model[s] && ++m % 5 == 0) || s % 997 == 0) {
			r.seq[r.n++] = s;
			model[s] = 0;
		}
	ok(mh_txn_run(st, 0, 0, change_txn, &r) == 0, "%zu removed", r.n);
	failed = mh_txn_run(st, DB_READ_COMMITTED, 0, seek_txn, &k) != 0;
	ok(!failed && k.bad == 0 && k.checked > 1400,
	    "after them, every seek still answers as the model");
	/* A block emptied goes. */
	r.n = 0;
	for (uint64_t s = 4 * MH_GRAM_BLOCK; s < 5 * MH_GRAM_BLOCK && s <= SPAN; s++)
		if (model[s]) {
			r.seq[r.n++] = s;
			model[s] = 0;
		}
	ok(mh_txn_run(st, 0, 0, change_txn, &r) == 0 &&
	    mh_txn_run(st, DB_READ_COMMITTED, 0, seek_txn, &k) == 0 && k.bad == 0,
	    "a block emptied: seeks step over it");
}

struct collected {
	uint64_t seq[4096];
	size_t n;
};

static int
collect(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct collected *c = ctx;

	(void)json;
	(void)len;
	if (c->n < 4096)
		c->seq[c->n++] = seq;
	return 0;
}

static int
derive_none(const struct mh_deriver *d, const struct mh_entry *e,
    struct mh_event **events, size_t *count, char *why, size_t whylen)
{
	(void)d;
	(void)e;
	(void)events;
	(void)count;
	snprintf(why, whylen, "unused");
	return -1;
}

/* The address and subject put_txn gave event i: every 500th's subject
 * is "Hi", too short for a trigram. */
static void
event_text(int i, char email[64], char subject[64])
{
	snprintf(email, 64, "%s%d@example.com", i % 11 ? "u" : "zebra", i);
	if (i % 500 == 0)
		snprintf(subject, 64, "Hi");
	else
		snprintf(subject, 64, "News %d%s", i, i % 7 ? "" :
		    " about a Zebra");
}

/* Events straight into the store: every 7th has "Zebra" in its subject,
 * every 11th "zebra" in its address. */
static int
put_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	static const struct mh_deriver d = { .derive = derive_none };
	struct mh_events_batch *b = ctx;
	uint64_t seq = 0;

	mh_events_batch_reset(b);
	for (int i = 1; i <= 3000; i++) {
		char email[64], subject[64], ident[32], json[16];
		struct mh_event ev = { 0 };
		struct mh_noticed nt = { 0 };
		char *text = NULL;
		int ret;

		event_text(i, email, subject);
		snprintf(ident, sizeof(ident), "id-%d", i);
		snprintf(json, sizeof(json), "{}");
		ev.rec.event.type = (char *)"open";
		ev.rec.event.email = email;
		ev.rec.event.message_id = (char *)"";
		ev.rec.json = json;
		ev.identity = ident;
		ev.provider = (char *)"t";
		ev.subject = subject;
		ev.ts = 1700000000 + i;
		if ((ret = mh_events_put(st, txn, &ev, 1, &b->grams, &d, &seq,
		    &text, &nt)) != 0)
			return ret;
		free(text);
	}
	return mh_events_batch_write(st, txn, b);
}

/* "ZEBRA"'s matches, newest first, all pages. */
static size_t
zebras(struct mh_store *st)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS, .text = "ZEBRA",
	    .limit = 500 };
	struct collected page;
	size_t n = 0;
	int more = 1;

	while (more) {
		memset(&page, 0, sizeof(page));
		if (mh_store_query(st, &q, collect, &page, &more) != MH_STORE_OK)
			return (size_t)-1;
		n += page.n;
		q.before = page.n ? page.seq[page.n - 1] : 0;
	}
	return n;
}

/* Whether event i's address or subject holds text, in any case. */
static int
model_has(int i, const char *text)
{
	char email[64], subject[64];

	event_text(i, email, subject);
	return strcasestr(email, text) != NULL ||
	    strcasestr(subject, text) != NULL;
}

/* Every match of a two-byte text, pages of 97, in q's order, against the
 * model: each once, in order, and no other. */
static void
pair_check(struct mh_store *st, const char *text, int oldest)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS, .text = text,
	    .limit = 97, .has_after = oldest };
	struct collected page;
	size_t want = 0, got = 0, bad = 0;
	uint64_t last = 0;
	int more = 1, i;

	for (i = 1; i <= 3000; i++)
		want += model_has(i, text);
	while (more && bad == 0) {
		memset(&page, 0, sizeof(page));
		if (mh_store_query(st, &q, collect, &page, &more) != MH_STORE_OK)
			bad++;
		for (size_t k = 0; k < page.n; k++, got++)
			if ((got > 0 && (oldest ? page.seq[k] <= last :
			    page.seq[k] >= last)) ||
			    !model_has((int)page.seq[k], text))
				bad++;
			else
				last = page.seq[k];
		if (oldest)
			q.after = last;
		else
			q.before = last;
		if (page.n == 0)
			break;
	}
	ok(bad == 0 && got == want, "\"%s\" %s: each of the %zu matches once, "
	    "in order (%zu)", text, oldest ? "oldest first" : "newest first",
	    want, got);
}

struct pass_count {
	const char *text;
	int ret;
	size_t n;
};

static int
count_visit(void *ctx, uint64_t seq, const union mh_fields_ref *f,
    const char *json)
{
	(void)seq;
	(void)f;
	(void)json;
	((struct pass_count *)ctx)->n++;
	return 0;
}

/* Text's pass through the index, newest first, counted. */
static int
pass_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct pass_count *c = ctx;
	struct mh_query q = { .table = MH_TABLE_EVENTS, .text = c->text };

	c->ret = mh_search_pass(st, txn, &q, UINT64_MAX, count_visit, c);
	return c->ret == MH_SEARCH_SCAN ? 0 : c->ret;
}

/* Text of two bytes: at a string's start, middle and end, a string of
 * two bytes, the pair in no event; both orders. */
static void
pairs(struct mh_store *st)
{
	static const char *const text[] = { "ZE", "ra", "om", "hI", "7@",
	    "s ", "qx" };

	struct pass_count none = { "qx", 0, 0 }, his = { "HI", 0, 0 };

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		pair_check(st, text[i], 0);
		pair_check(st, text[i], 1);
	}
	int ret = mh_txn_run(st, 0, 0, pass_txn, &none) != 0 ||
	    mh_txn_run(st, 0, 0, pass_txn, &his) != 0;

	ok(ret == 0 && none.ret == 0 && none.n == 0 && his.ret == 0 &&
	    his.n == 6, "two bytes are served by the index, not a walk of the "
	    "table (%zu, %zu)", none.n, his.n);
}

/* As an older version left them: events 1..1000 without their indexes,
 * the reindex never run. */
static int
forget_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_event_keys k;
	DBT key;
	int ret = 0;

	(void)ctx;
	for (int i = 1; i <= 1000 && ret == 0; i++) {
		char email[64], subject[64];

		event_text(i, email, subject);
		ret = mh_event_index_del(st, txn, (uint64_t)i, &k, email, "open");
	}
	for (int i = 0; i < 2 && ret == 0; i++) {
		memset(&key, 0, sizeof(key));
		key.data = (void *)(i ? "indexed_to" : "indexed_all");
		key.size = (u_int32_t)strlen(key.data);
		if ((ret = st->db[MH_DB_META]->del(st->db[MH_DB_META], txn, &key,
		    0)) == DB_NOTFOUND)
			ret = 0;
	}
	return ret;
}

/* The application's describe: the stored JSON is {"seq":N}. */
static int
describe(void *ctx, const char *json, struct mh_event *ev)
{
	char email[64], subject[64];
	int i = atoi(strchr(json, ':') + 1);

	(void)ctx;
	event_text(i, email, subject);
	ev->ts = 1700000000 + i;
	ev->receipt = 1;
	ev->provider = strdup("t");
	ev->subject = strdup(subject);
	return ev->provider == NULL || ev->subject == NULL ? -1 : 0;
}

static void
reindex(struct mh_store *st, size_t want)
{
	size_t made = 0, again = 0;
	enum mh_store_err err;

	ok(mh_store_events_reindex(st, describe, NULL, &made) == MH_STORE_OK &&
	    made == 0, "a store this version filled: nothing to reindex");
	ok(mh_txn_run(st, 0, 0, forget_txn, NULL) == 0 && zebras(st) < want,
	    "events 1-1000 as an older version left them: not found");
	err = mh_store_events_reindex(st, describe, NULL, &made);
	ok(err == MH_STORE_OK && made == 1000, "the reindex indexes those "
	    "1000 (%zu)", made);
	ok(zebras(st) == want, "and they are found again");
	ok(mh_store_events_reindex(st, describe, NULL, &again) == MH_STORE_OK &&
	    again == 0, "once done, it is done");
}

static void
search(struct mh_store *st)
{
	struct mh_events_batch b = { 0 };
	struct collected all = { { 0 }, 0 }, page;
	struct mh_query q = { .table = MH_TABLE_EVENTS, .text = "ZEBRA",
	    .limit = 50 };
	size_t want = 0;
	int more = 1, ordered = 1;

	ok(mh_txn_run(st, 0, 0, put_txn, &b) == 0, "3000 events stored");
	mh_events_batch_free(&b);
	for (int i = 1; i <= 3000; i++)
		want += i % 7 == 0 || i % 11 == 0;
	/* Newest first, page by page. */
	while (more) {
		memset(&page, 0, sizeof(page));
		if (mh_store_query(st, &q, collect, &page, &more) != MH_STORE_OK)
			break;
		for (size_t i = 0; i < page.n; i++) {
			if (all.n > 0 && page.seq[i] >= all.seq[all.n - 1])
				ordered = 0;
			all.seq[all.n++] = page.seq[i];
		}
		q.before = page.n ? page.seq[page.n - 1] : 0;
	}
	ok(all.n == want && ordered, "\"ZEBRA\": each of the %zu matches once, "
	    "newest first, across three blocks (%zu)", want, all.n);
	for (size_t i = 0; i < all.n; i++)
		if (all.seq[i] % 7 != 0 && all.seq[i] % 11 != 0)
			ordered = 0;
	ok(ordered, "and only those");
	memset(&page, 0, sizeof(page));
	q.before = 0;
	q.has_after = 1;
	q.after = 1500;
	q.limit = 3;
	mh_store_query(st, &q, collect, &page, &more);
	ok(page.n == 3 && page.seq[0] == 1505 && page.seq[1] == 1507 &&
	    page.seq[2] == 1512 && more, "oldest first after 1500: 1505, 1507, "
	    "1512");
	/* Event 77 has each trigram of "ws 77@" ("News 77", "zebra77@"),
	 * but not the text. */
	q.text = "ws 77@";
	q.has_after = 0;
	q.limit = 500;
	memset(&page, 0, sizeof(page));
	mh_store_query(st, &q, collect, &page, &more);
	ok(page.n == 0, "trigrams of the text in other places are no match");
	pairs(st);
	reindex(st, want);
}

int
main(void)
{
	char home[] = "/tmp/mh-grams-XXXXXX", cmd[256];
	struct mh_store *st;

	if (mkdtemp(home) == NULL)
		return 1;
	alarm(60);
	ok(mh_store_open(home, &st) == MH_STORE_OK, "environment opens");
	grams(st);
	search(st);
	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		printf("# %s failed\n", cmd);
	return done_testing();
}

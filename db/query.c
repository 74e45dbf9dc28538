/*
 * Reading the indexed tables: a page of records newest or oldest first,
 * through the index of the most selective filter given, and counting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "store-private.h"

/* Where a pass starts and how it steps: the index and the key prefix it
 * reads under, or the table itself. */
struct mh_cursor_plan {
	DB *db;
	int indexed;
	const char *prefix;	/* NULL: the whole table */
	size_t plen;		/* with its NUL */
	uint64_t start;
	int newest_first;
};

/* Reads the index of the last filter given that has one (a table
 * declares its most selective field last), else the table itself. */
static void
mh_plan(struct mh_store *st, const struct mh_query *q,
    const union mh_fields_ref *filters, struct mh_cursor_plan *p)
{
	const struct mh_table_def *def = &mh_tables[q->table];

	memset(p, 0, sizeof(*p));
	p->db = st->db[def->records];
	for (int i = MH_FIELDS - 1; i >= 0; i--)
		if (filters->at[i] != NULL && def->field[i].index >= 0) {
			p->db = st->db[def->field[i].index];
			p->indexed = 1;
			p->prefix = filters->at[i];
			p->plen = strlen(filters->at[i]) + 1;
			break;
		}
	p->newest_first = !q->has_after;
	if (p->newest_first)
		p->start = q->before ? q->before : UINT64_MAX;
	else
		p->start = q->after == UINT64_MAX ? UINT64_MAX : q->after + 1;
}

static int
mh_cursor_get(DBC *cur, const struct mh_cursor_plan *p, DBT *key, DBT *pkey,
    DBT *data, u_int32_t flags)
{
	return p->indexed ? cur->pget(cur, key, pkey, data, flags) :
	    cur->get(cur, key, data, flags);
}

/* Positions cur at the first record of the page: SET_RANGE lands on the
 * first key >= start, and newest first wants what lies strictly below. */
static int
mh_cursor_first(DBC *cur, const struct mh_cursor_plan *p, DBT *key,
    DBT *pkey, DBT *data)
{
	int ret = mh_cursor_get(cur, p, key, pkey, data, DB_SET_RANGE);

	if (!p->newest_first)
		return ret;
	if (ret == DB_NOTFOUND)
		return mh_cursor_get(cur, p, key, pkey, data, DB_LAST);
	if (ret == 0)
		return mh_cursor_get(cur, p, key, pkey, data, DB_PREV);
	return ret;
}

/*
 * One pass over the chosen index (or the table itself), in the query's
 * order, handing each matching record to visit. Returns a Berkeley DB
 * code.
 */
static int
mh_query_pass(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    const union mh_fields_ref *filters, mh_visit_fn visit, void *vctx)
{
	union mh_fields_ref f;
	struct mh_cursor_plan p;
	unsigned char *kbuf;
	DBC *cur = NULL;
	DBT key, pkey, data;
	const char *json;
	int ret, cret, ok;

	if (q->by_time && q->table == MH_TABLE_EVENTS)
		return mh_time_pass(st, txn, q, filters, visit, vctx);
	mh_plan(st, q, filters, &p);
	/* An address or a message id is more selective than text or time. */
	if (mh_search_wanted(q) && filters->event.email == NULL &&
	    filters->event.message_id == NULL && (ret = mh_search_pass(st,
	    txn, q, p.start, visit, vctx)) != MH_SEARCH_SCAN)
		return ret;
	if ((kbuf = malloc(p.plen + 8)) == NULL)
		return ENOMEM;
	if (p.prefix != NULL)
		memcpy(kbuf, p.prefix, p.plen);
	mh_be64_put(kbuf + p.plen, p.start);
	memset(&key, 0, sizeof(key));
	memset(&pkey, 0, sizeof(pkey));
	memset(&data, 0, sizeof(data));
	key.data = kbuf;
	key.size = (u_int32_t)(p.plen + 8);
	key.flags = pkey.flags = data.flags = DB_DBT_REALLOC;
	if ((ret = p.db->cursor(p.db, txn, &cur, 0)) != 0)
		goto out;
	for (ret = mh_cursor_first(cur, &p, &key, &pkey, &data); ret == 0;
	    ret = mh_cursor_get(cur, &p, &key, &pkey, &data,
	    p.newest_first ? DB_PREV : DB_NEXT)) {
		const unsigned char *k = key.data;

		if (p.prefix != NULL && (key.size != p.plen + 8 ||
		    memcmp(k, p.prefix, p.plen) != 0))
			break;
		if (mh_indexed_parse(&data, &f, &json) != 0 ||
		    !mh_query_match(q, filters, &f, json))
			continue;
		if (mh_search_wanted(q) && ((ret = mh_search_match(st, txn, q,
		    mh_be64_get(k + p.plen), f.event.email, &ok)) != 0 ||
		    !ok)) {
			if (ret != 0)
				break;
			continue;
		}
		if ((ret = visit(vctx, mh_be64_get(k + p.plen), &f, json)) != 0)
			break;
	}
	if (ret == DB_NOTFOUND || ret == 1)
		ret = 0;
	if ((cret = cur->close(cur)) != 0 && ret == 0)
		ret = cret;
out:
	free(key.data);
	free(pkey.data);
	free(data.data);
	return ret;
}

struct mh_hit {
	uint64_t seq;
	char *json;
};

/* A page being collected: up to limit + 1 hits, the one past the page
 * telling that another page exists. */
struct mh_collect {
	const struct mh_query *q;
	union mh_fields_ref filters;
	struct mh_hit *v;
	size_t n;
};

static void
mh_collect_clear(struct mh_collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].json);
	c->n = 0;
}

static int
mh_collect_hit(void *ctx, uint64_t seq, const union mh_fields_ref *f,
    const char *json)
{
	struct mh_collect *c = ctx;

	(void)f;
	if ((c->v[c->n].json = strdup(json)) == NULL)
		return ENOMEM;
	c->v[c->n++].seq = seq;
	return c->n > c->q->limit;
}

static int
mh_collect_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_collect *c = ctx;

	mh_collect_clear(c);	/* a retry collects afresh */
	return mh_query_pass(st, txn, c->q, &c->filters, mh_collect_hit, c);
}

enum mh_store_err
mh_store_query(struct mh_store *st, const struct mh_query *q, mh_emit_fn emit,
    void *ctx, int *more)
{
	struct mh_collect c = { .q = q };
	union mh_fields filters;
	int ret = ENOMEM;
	size_t n;

	*more = 0;
	if (mh_filters_of(q, &filters, &c.filters) != 0)
		return MH_STORE_NOMEM;
	if ((c.v = calloc((size_t)q->limit + 1, sizeof(*c.v))) != NULL)
		ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_collect_txn, &c);
	if (ret == 0) {
		n = c.n > q->limit ? q->limit : c.n;
		*more = c.n > q->limit;
		for (size_t i = 0; i < n; i++)
			if (emit(ctx, c.v[i].seq, c.v[i].json,
			    strlen(c.v[i].json)) != 0) {
				ret = ENOMEM;
				break;
			}
	}
	mh_collect_clear(&c);
	free(c.v);
	mh_filters_free(&filters);
	return mh_store_error(ret);
}

/* mh_store_query_all's walk: the last record handed out, to go on from. */
struct mh_query_walk {
	mh_emit_fn emit;
	void *ctx;
	uint64_t last;
	int stopped;
};

static int
mh_query_walk_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_query_walk *w = ctx;

	w->last = seq;
	return (w->stopped = w->emit(w->ctx, seq, json, len) != 0);
}

enum mh_store_err
mh_store_query_all(struct mh_store *st, const struct mh_query *q,
    mh_emit_fn emit, void *ctx)
{
	struct mh_query page = *q;
	struct mh_query_walk w = { emit, ctx, 0, 0 };
	enum mh_store_err err = MH_STORE_OK;
	int more = 1;

	page.has_after = 1;
	while (more && !w.stopped && err == MH_STORE_OK) {
		page.after = w.last;
		err = mh_store_query(st, &page, mh_query_walk_one, &w, &more);
	}
	return err;
}

struct mh_counting {
	struct mh_store *st;
	DB_TXN *txn;
	const struct mh_query *q;
	union mh_fields_ref filters;
	mh_count_fn count;
	void *ctx;
};

static int
mh_count_hit(void *ctx, uint64_t seq, const union mh_fields_ref *f,
    const char *json)
{
	struct mh_counting *c = ctx;
	struct mh_event_keys k;
	int ret;

	(void)json;
	/* An event is counted as its hour counts it. */
	if (c->q->table == MH_TABLE_EVENTS && (ret = mh_event_keys_get(c->st,
	    c->txn, seq, &k, 0)) != DB_NOTFOUND) {
		if (ret != 0)
			return ret;
		if (k.counted[0] != '\0') {
			c->count(c->ctx, k.counted);
			return 0;
		}
	}
	c->count(c->ctx, f->at[0]);
	return 0;
}

static int
mh_count_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_counting *c = ctx;

	c->st = st;
	c->txn = txn;
	c->count(c->ctx, NULL);	/* a retried pass counts from nothing */
	return mh_query_pass(st, txn, c->q, &c->filters, mh_count_hit, c);
}

enum mh_store_err
mh_store_count(struct mh_store *st, const struct mh_query *q,
    mh_count_fn count, void *ctx)
{
	struct mh_counting c = { .q = q, .count = count, .ctx = ctx };
	union mh_fields filters;
	int ret;

	if (mh_filters_of(q, &filters, &c.filters) != 0)
		return MH_STORE_NOMEM;
	ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_count_txn, &c);
	mh_filters_free(&filters);
	return mh_store_error(ret);
}

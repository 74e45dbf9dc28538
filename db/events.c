/*
 * Events, their indexes and the per-message summaries.
 *
 * An event record is "type\0lower(email)\0message_id\0" followed by the
 * event's JSON text: the three leading fields feed the secondary indexes
 * (see env.c) and let a query filter without parsing JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store-private.h"

#define MH_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Types that move a message's state; opens and clicks are counted apart. */
static const char *const mh_state_types[] = {
	"send", "delivered", "deferral", "soft_bounce", "hard_bounce",
	"reject", "spam", "unsub", NULL
};

static const char *
mh_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t
mh_json_int(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	return json_object_get_int64(v);
}

static int
mh_is_state_type(const char *type)
{
	for (size_t i = 0; mh_state_types[i] != NULL; i++)
		if (strcmp(type, mh_state_types[i]) == 0)
			return 1;
	return 0;
}

static void
mh_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Sets key to "provider \0 message_id", the key of messages.db; key->data
 * is allocated and owned by the caller. Returns 0 or ENOMEM. */
static int
mh_message_key(DBT *key, const char *provider, const char *message_id)
{
	size_t plen = strlen(provider), mlen = strlen(message_id);
	char *k;

	memset(key, 0, sizeof(*key));
	if ((k = malloc(plen + mlen + 1)) == NULL)
		return ENOMEM;
	memcpy(k, provider, plen + 1);
	memcpy(k + plen + 1, message_id, mlen);
	key->data = k;
	key->size = (u_int32_t)(plen + 1 + mlen);
	return 0;
}

/* Folds one stored event into its message's summary. */
static int
mh_message_update(struct mh_store *st, DB_TXN *txn, struct json_object *ev,
    uint64_t seq)
{
	const char *provider = mh_json_str(ev, "provider");
	const char *msgid = mh_json_str(ev, "message_id");
	const char *type = mh_json_str(ev, "type");
	int64_t ts = mh_json_int(ev, "ts");
	struct json_object *sum = NULL;
	const char *text;
	DBT key, data;
	int ret;

	if (*msgid == '\0')
		return 0;
	if ((ret = mh_message_key(&key, provider, msgid)) != 0)
		return ret;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = st->messages->get(st->messages, txn, &key, &data, DB_RMW);
	if (ret == 0) {
		sum = json_tokener_parse(data.data);
		free(data.data);
	} else if (ret != DB_NOTFOUND)
		goto out;
	if (sum == NULL) {
		sum = json_object_new_object();
		json_object_object_add(sum, "message_id",
		    json_object_new_string(msgid));
		json_object_object_add(sum, "provider",
		    json_object_new_string(provider));
		json_object_object_add(sum, "email", json_object_new_string(""));
		json_object_object_add(sum, "subject",
		    json_object_new_string(""));
		json_object_object_add(sum, "state", json_object_new_string(""));
		json_object_object_add(sum, "state_ts", json_object_new_int64(0));
		json_object_object_add(sum, "opens", json_object_new_int(0));
		json_object_object_add(sum, "clicks", json_object_new_int(0));
		json_object_object_add(sum, "events", json_object_new_int(0));
		json_object_object_add(sum, "first_seq",
		    json_object_new_int64((int64_t)seq));
	}
	if (*mh_json_str(ev, "email") != '\0')
		json_object_object_add(sum, "email",
		    json_object_new_string(mh_json_str(ev, "email")));
	if (*mh_json_str(ev, "subject") != '\0')
		json_object_object_add(sum, "subject",
		    json_object_new_string(mh_json_str(ev, "subject")));
	if (strcmp(type, "open") == 0)
		json_object_object_add(sum, "opens",
		    json_object_new_int64(mh_json_int(sum, "opens") + 1));
	if (strcmp(type, "click") == 0)
		json_object_object_add(sum, "clicks",
		    json_object_new_int64(mh_json_int(sum, "clicks") + 1));
	if (mh_is_state_type(type) && ts >= mh_json_int(sum, "state_ts")) {
		json_object_object_add(sum, "state", json_object_new_string(type));
		json_object_object_add(sum, "state_ts", json_object_new_int64(ts));
	}
	json_object_object_add(sum, "events",
	    json_object_new_int64(mh_json_int(sum, "events") + 1));
	json_object_object_add(sum, "last_seq", json_object_new_int64((int64_t)seq));
	if (ts >= mh_json_int(sum, "last_ts"))
		json_object_object_add(sum, "last_ts", json_object_new_int64(ts));
	text = json_object_to_json_string_ext(sum, MH_JSON_FLAGS);
	memset(&data, 0, sizeof(data));
	data.data = (void *)text;
	data.size = (u_int32_t)strlen(text) + 1;
	ret = st->messages->put(st->messages, txn, &key, &data, 0);
out:
	json_object_put(sum);
	free(key.data);
	return ret;
}

/*
 * Writes obj under seq to a table whose records are "f0\0lower(email)\0f2\0"
 * followed by the JSON text, with the seq (named id_key) leading the
 * object. The index fields are obj's f0_key, "email" and f2_key. When text
 * is not NULL it receives a copy of the JSON text (caller frees).
 */
static int
mh_record_put(DB *db, DB_TXN *txn, struct json_object *obj, uint64_t seq,
    const char *id_key, const char *f0_key, const char *f2_key, char **text)
{
	unsigned char seqkey[8];
	struct json_object *out = json_object_new_object();
	const char *json, *f0, *f2;
	char *rec = NULL, *email = NULL;
	size_t l0, le, l2, lj;
	DBT key, data;
	int ret = ENOMEM;

	json_object_object_add(out, id_key, json_object_new_int64((int64_t)seq));
	json_object_object_foreach(obj, k, v) {
		if (strcmp(k, id_key) != 0)
			json_object_object_add(out, k, json_object_get(v));
	}
	json = json_object_to_json_string_ext(out, MH_JSON_FLAGS);
	f0 = mh_json_str(out, f0_key);
	f2 = mh_json_str(out, f2_key);
	if ((email = strdup(mh_json_str(out, "email"))) == NULL)
		goto out;
	mh_lower(email);
	l0 = strlen(f0);
	le = strlen(email);
	l2 = strlen(f2);
	lj = strlen(json);
	if ((rec = malloc(l0 + le + l2 + 3 + lj + 1)) == NULL)
		goto out;
	memcpy(rec, f0, l0 + 1);
	memcpy(rec + l0 + 1, email, le + 1);
	memcpy(rec + l0 + le + 2, f2, l2 + 1);
	memcpy(rec + l0 + le + l2 + 3, json, lj + 1);
	mh_be64_put(seqkey, seq);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = seqkey;
	key.size = 8;
	data.data = rec;
	data.size = (u_int32_t)(l0 + le + l2 + 3 + lj + 1);
	if ((ret = db->put(db, txn, &key, &data, 0)) != 0)
		goto out;
	if (text != NULL && (*text = strdup(json)) == NULL)
		ret = ENOMEM;
out:
	free(rec);
	free(email);
	json_object_put(out);
	return ret;
}

int
mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    uint64_t *seq, char **json)
{
	unsigned char seqkey[8];
	uint64_t next = *seq + 1;
	DBT key, data;
	int ret;

	*json = NULL;
	mh_be64_put(seqkey, next);
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = ev->identity;
	key.size = (u_int32_t)strlen(ev->identity);
	data.data = seqkey;
	data.size = 8;
	ret = st->dedupe->put(st->dedupe, txn, &key, &data, DB_NOOVERWRITE);
	if (ret == DB_KEYEXIST)
		return 0;
	if (ret != 0)
		return ret;
	if ((ret = mh_record_put(st->events, txn, ev->json, next, "seq", "type",
	    "message_id", json)) != 0)
		goto err;
	/* A provider's own record of the event shares its seq as its id. */
	if (ev->entity != NULL && (ret = mh_record_put(st->callbacks, txn,
	    ev->entity, next, "id", "status", "external_id", NULL)) != 0)
		goto err;
	if ((ret = mh_message_update(st, txn, ev->json, next)) != 0)
		goto err;
	*seq = next;
	return 0;
err:
	free(*json);
	*json = NULL;
	return ret;
}

/* Splits a stored record into its header fields and JSON text. */
static int
mh_record_parse(const DBT *d, const char *field[3], const char **json)
{
	const char *p = d->data, *end;
	size_t n = d->size;

	for (int i = 0; i < 3; i++) {
		if ((end = memchr(p, '\0', n)) == NULL)
			return -1;
		field[i] = p;
		n -= (size_t)(end - p) + 1;
		p = end + 1;
	}
	if (n == 0 || p[n - 1] != '\0')
		return -1;
	*json = p;
	return 0;
}

struct mh_hit {
	uint64_t seq;
	char *json;
};

struct mh_hits {
	struct mh_hit *v;
	size_t n, cap;
};

static void
mh_hits_clear(struct mh_hits *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].json);
	h->n = 0;
}

static int
mh_hits_add(struct mh_hits *h, uint64_t seq, const char *json)
{
	struct mh_hit *nv;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		if ((nv = realloc(h->v, cap * sizeof(*nv))) == NULL)
			return ENOMEM;
		h->v = nv;
		h->cap = cap;
	}
	if ((h->v[h->n].json = strdup(json)) == NULL)
		return ENOMEM;
	h->v[h->n++].seq = seq;
	return 0;
}

/* Does a record pass the filters the chosen index did not apply? The time
 * window needs the event's ts, read from its JSON only then. */
static int
mh_query_match(const struct mh_query *q, const char *field[3],
    const char *email_lower, const char *json)
{
	if (q->type != NULL && strcmp(q->type, field[0]) != 0)
		return 0;
	if (email_lower != NULL && strcmp(email_lower, field[1]) != 0)
		return 0;
	if (q->message_id != NULL && strcmp(q->message_id, field[2]) != 0)
		return 0;
	if (q->has_since || q->has_until) {
		struct json_object *o = json_tokener_parse(json);
		int64_t ts = mh_json_int(o, "ts");

		json_object_put(o);
		if ((q->has_since && ts < q->since) ||
		    (q->has_until && ts >= q->until))
			return 0;
	}
	return 1;
}

/* What a pass does with each matching record: 0 goes on, 1 stops, any
 * other value is an error that ends the pass. */
typedef int (*mh_visit_fn)(void *ctx, uint64_t seq, const char *field[3],
    const char *json);

struct mh_collect {
	struct mh_hits *hits;
	unsigned limit;
};

/* Collects hits up to limit + 1, the one past the page telling that
 * another page exists. */
static int
mh_collect_hit(void *ctx, uint64_t seq, const char *field[3], const char *json)
{
	struct mh_collect *c = ctx;
	int ret;

	(void)field;
	if ((ret = mh_hits_add(c->hits, seq, json)) != 0)
		return ret;
	return c->hits->n > c->limit;
}

/*
 * One pass over the chosen index (or the table itself), in the query's
 * order, handing each matching record to visit. Returns a Berkeley DB
 * code; deadlocks are retried by the caller.
 */
static int
mh_query_pass(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    const char *email_lower, mh_visit_fn visit, void *vctx)
{
	DB *index = NULL;
	const char *prefix = NULL;
	size_t plen = 0;
	unsigned char *kbuf = NULL;
	DBC *cur = NULL;
	DBT key, pkey, data;
	const char *field[3], *json;
	uint64_t start;
	int ret, newest_first = !q->has_after;
	u_int32_t step = newest_first ? DB_PREV : DB_NEXT;
	DB *primary = q->table == MH_TABLE_CALLBACKS ? st->callbacks : st->events;
	DB *by[3] = { st->by_type, st->by_email, st->by_message };

	if (q->table == MH_TABLE_CALLBACKS) {
		by[0] = st->cb_by_status;
		by[1] = st->cb_by_email;
		by[2] = st->cb_by_external;
	}
	if (q->message_id != NULL) {
		index = by[2];
		prefix = q->message_id;
	} else if (email_lower != NULL) {
		index = by[1];
		prefix = email_lower;
	} else if (q->type != NULL) {
		index = by[0];
		prefix = q->type;
	}
	if (prefix != NULL)
		plen = strlen(prefix) + 1;
	if (newest_first)
		start = q->before ? q->before : UINT64_MAX;
	else
		start = q->after == UINT64_MAX ? UINT64_MAX : q->after + 1;

	if ((kbuf = malloc(plen + 8)) == NULL)
		return ENOMEM;
	if (prefix != NULL)
		memcpy(kbuf, prefix, plen);
	mh_be64_put(kbuf + plen, start);
	memset(&key, 0, sizeof(key));
	memset(&pkey, 0, sizeof(pkey));
	memset(&data, 0, sizeof(data));
	key.data = kbuf;
	key.size = (u_int32_t)(plen + 8);
	key.flags = DB_DBT_REALLOC;
	pkey.flags = DB_DBT_REALLOC;
	data.flags = DB_DBT_REALLOC;

	if (index != NULL)
		ret = index->cursor(index, txn, &cur, 0);
	else
		ret = primary->cursor(primary, txn, &cur, 0);
	if (ret != 0)
		goto out;
#define MH_CGET(flags) (index != NULL ? \
	cur->pget(cur, &key, &pkey, &data, (flags)) : \
	cur->get(cur, &key, &data, (flags)))
	ret = MH_CGET(DB_SET_RANGE);
	if (newest_first) {
		/* SET_RANGE lands on the first key >= start: the page wants
		 * what lies strictly below it. */
		if (ret == DB_NOTFOUND)
			ret = MH_CGET(DB_LAST);
		else if (ret == 0)
			ret = MH_CGET(DB_PREV);
	}
	while (ret == 0) {
		const unsigned char *k = key.data;
		uint64_t seq;

		if (prefix != NULL && (key.size != plen + 8 ||
		    memcmp(k, prefix, plen) != 0))
			break;
		seq = mh_be64_get(k + plen);
		if (mh_record_parse(&data, field, &json) == 0 &&
		    mh_query_match(q, field, email_lower, json)) {
			if ((ret = visit(vctx, seq, field, json)) == 1) {
				ret = 0;
				break;
			}
			if (ret != 0)
				goto out;
		}
		ret = MH_CGET(step);
	}
#undef MH_CGET
	if (ret == DB_NOTFOUND)
		ret = 0;
out:
	if (cur != NULL) {
		int cret = cur->close(cur);
		if (ret == 0)
			ret = cret;
	}
	free(key.data);
	free(pkey.data);
	free(data.data);
	return ret;
}

enum mh_store_err
mh_store_query(struct mh_store *st, const struct mh_query *q, mh_emit_fn emit,
    void *ctx, int *more)
{
	struct mh_hits hits = { 0 };
	char *email_lower = NULL;
	int ret = 0;
	size_t n;

	*more = 0;
	if (q->email != NULL) {
		if ((email_lower = strdup(q->email)) == NULL)
			return MH_STORE_NOMEM;
		mh_lower(email_lower);
	}
	for (int tries = 0;;) {
		struct mh_collect c = { &hits, q->limit };
		DB_TXN *txn;

		mh_hits_clear(&hits);
		if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
			break;
		if ((ret = mh_query_pass(st, txn, q, email_lower, mh_collect_hit,
		    &c)) == 0)
			ret = txn->commit(txn, 0);
		else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	if (ret == 0) {
		n = hits.n > q->limit ? q->limit : hits.n;
		*more = hits.n > q->limit;
		for (size_t i = 0; i < n; i++)
			if (emit(ctx, hits.v[i].seq, hits.v[i].json,
			    strlen(hits.v[i].json)) != 0) {
				ret = ENOMEM;
				break;
			}
	}
	mh_hits_clear(&hits);
	free(hits.v);
	free(email_lower);
	return mh_store_error(ret);
}

struct mh_counting {
	mh_count_fn count;
	void *ctx;
};

static int
mh_count_hit(void *ctx, uint64_t seq, const char *field[3], const char *json)
{
	struct mh_counting *c = ctx;

	(void)seq;
	(void)json;
	c->count(c->ctx, field[0]);
	return 0;
}

enum mh_store_err
mh_store_count(struct mh_store *st, const struct mh_query *q,
    mh_count_fn count, void *ctx)
{
	struct mh_counting c = { count, ctx };
	int ret;

	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
			break;
		if ((ret = mh_query_pass(st, txn, q, NULL, mh_count_hit, &c)) == 0)
			ret = txn->commit(txn, 0);
		else
			txn->abort(txn);
		/* A retried pass counts again from nothing. */
		if (!mh_store_retry(st, &ret, &tries))
			break;
		count(ctx, NULL);
	}
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_message(struct mh_store *st, const char *provider,
    const char *message_id, char **json)
{
	DBT key, data;
	int ret;

	*json = NULL;
	if (mh_message_key(&key, provider, message_id) != 0)
		return MH_STORE_NOMEM;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
			break;
		ret = st->messages->get(st->messages, txn, &key, &data, 0);
		if (ret == 0 || ret == DB_NOTFOUND) {
			int cret = txn->commit(txn, 0);

			if (cret != 0)
				ret = cret;
		} else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	free(key.data);
	if (ret == 0)
		*json = data.data;
	return mh_store_error(ret);
}

static int
mh_count(DB *db, DB_TXN *txn, uint64_t *n)
{
	DB_BTREE_STAT *bs;
	int ret;

	if ((ret = db->stat(db, txn, &bs, DB_READ_COMMITTED)) != 0)
		return ret;
	*n = bs->bt_nkeys;
	free(bs);
	return 0;
}

enum mh_store_err
mh_store_stats(struct mh_store *st, struct mh_store_stats *s)
{
	int ret;

	for (int tries = 0;;) {
		DB_TXN *txn;

		memset(s, 0, sizeof(*s));
		if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
			break;
		if ((ret = mh_counter(st->meta, txn, MH_LAST_SEQ, 0, 0,
		    &s->last_seq)) == 0 &&
		    (ret = mh_count(st->inbox, txn, &s->inbox_pending)) == 0 &&
		    (ret = mh_count(st->set_aside, txn, &s->set_aside)) == 0)
			ret = txn->commit(txn, 0);
		else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	return mh_store_error(ret);
}

/*
 * The records of the indexed tables (events, email callbacks,
 * notifications...): written, split, and matched against a query's
 * filters on their header fields. Their layout: "f0\0f1\0f2\0" (a field
 * the table declares folded, lower-cased) followed by the JSON text with
 * the record's number put first, NUL-terminated. The leading fields feed
 * the secondary indexes (tables.c) and let a query filter without reading
 * the JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* The stored JSON text of r under number n named id_key: {"id_key":n,
 * then the rest of r's object (id_key NULL: r's text as it is). Caller
 * frees; NULL when out of memory or r->json is not an object's text. */
static char *
mh_record_text(const struct mh_record *r, const char *id_key, uint64_t n)
{
	size_t jlen = strlen(r->json), need;
	char *text;
	int head;

	if (jlen < 2 || r->json[0] != '{')
		return NULL;
	if (id_key == NULL)
		return strdup(r->json);
	need = strlen(id_key) + 32 + jlen;
	if ((text = malloc(need)) == NULL)
		return NULL;
	head = snprintf(text, need, "{\"%s\":%" PRIu64 "%s", id_key, n,
	    strcmp(r->json, "{}") == 0 ? "" : ",");
	memcpy(text + head, r->json + 1, jlen);	/* with its NUL */
	return text;
}

/* Copies v (len bytes, its NUL included) to out, lower-cased when the
 * field is folded. */
static void
mh_field_copy(char *out, const char *v, size_t len, unsigned flags)
{
	memcpy(out, v, len);
	if (flags & MH_FIELD_FOLDED)
		for (size_t k = 0; k < len; k++)
			out[k] = (char)tolower((unsigned char)out[k]);
}

/* Claims value for record id in the unique map dbi (DB_KEYEXIST when it
 * is another's), or gives it back (id 0). */
static int
mh_unique_put(struct mh_store *st, DB_TXN *txn, int dbi, const char *value,
    uint64_t id)
{
	DB *db = st->db[dbi];
	unsigned char v[8];
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	key.data = (void *)value;
	key.size = (u_int32_t)strlen(value);
	if (id == 0) {
		ret = db->del(db, txn, &key, 0);
		return ret == DB_NOTFOUND ? 0 : ret;
	}
	mh_key64(&data, v, id);
	return db->put(db, txn, &key, &data, DB_NOOVERWRITE);
}

int
mh_unique_holder(struct mh_store *st, DB_TXN *txn, int dbi, const char *value,
    uint64_t *id)
{
	DB *db = st->db[dbi];
	unsigned char v[8];
	DBT key, data;
	int ret;

	*id = 0;
	memset(&key, 0, sizeof(key));
	key.data = (void *)value;
	key.size = (u_int32_t)strlen(value);
	memset(&data, 0, sizeof(data));
	data.data = v;
	data.ulen = sizeof(v);
	data.flags = DB_DBT_USERMEM;
	if ((ret = db->get(db, txn, &key, &data, DB_RMW)) == DB_NOTFOUND)
		return 0;
	if (ret == 0 && data.size == 8)
		*id = mh_be64_get(v);
	return ret;
}

/* Moves record n's unique values from was (NULL: a new record) to now
 * (NULL: deleted), and counts the write when the table asks. */
static int
mh_indexed_moved(struct mh_store *st, DB_TXN *txn, const struct mh_table_def
    *def, const union mh_fields_ref *was, const union mh_fields_ref *now,
    uint64_t n)
{
	uint64_t before;
	int ret = 0;

	for (int i = 0; i < MH_FIELDS && ret == 0; i++) {
		const char *from = was != NULL ? was->at[i] : NULL;
		const char *to = now != NULL ? now->at[i] : NULL;

		if (def->field[i].unique < 0)
			continue;
		if (now != NULL && (to == NULL || *to == '\0'))
			return EINVAL;
		if (from != NULL && to != NULL && strcmp(from, to) == 0)
			continue;
		if (from != NULL)
			ret = mh_unique_put(st, txn, def->field[i].unique, from, 0);
		if (ret == 0 && to != NULL)
			ret = mh_unique_put(st, txn, def->field[i].unique, to, n);
	}
	if (ret == 0 && def->changes != NULL)
		ret = mh_counter(st->db[MH_DB_META], txn, def->changes, 1, 0,
		    &before);
	return ret;
}

int
mh_indexed_put(struct mh_store *st, DB_TXN *txn, enum mh_table t,
    const struct mh_record *r, const union mh_fields_ref *was, uint64_t n,
    char **text)
{
	const struct mh_table_def *def = &mh_tables[t];
	DB *db = st->db[def->records];
	union mh_fields_ref now;
	unsigned char nkey[8];
	size_t len[MH_FIELDS], lj, off = 0, all = 0;
	char *json, *rec;
	DBT key, data;
	int ret;

	for (int i = 0; i < MH_FIELDS; i++) {
		now.at[i] = r->at[i] != NULL ? r->at[i] : "";
		all += len[i] = strlen(now.at[i]) + 1;
	}
	if ((ret = mh_indexed_moved(st, txn, def, was, &now, n)) != 0)
		return ret;
	if ((json = mh_record_text(r, was == NULL ? def->key : NULL, n)) ==
	    NULL)
		return ENOMEM;
	lj = strlen(json) + 1;
	if ((rec = malloc(all + lj)) == NULL) {
		free(json);
		return ENOMEM;
	}
	for (int i = 0; i < MH_FIELDS; i++) {
		mh_field_copy(rec + off, now.at[i], len[i],
		    def->field[i].flags);
		off += len[i];
	}
	memcpy(rec + off, json, lj);
	mh_key64(&key, nkey, n);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.size = (u_int32_t)(off + lj);
	ret = db->put(db, txn, &key, &data, 0);
	free(rec);
	if (ret == 0 && text != NULL)
		*text = json;
	else
		free(json);
	return ret;
}

int
mh_indexed_del(struct mh_store *st, DB_TXN *txn, enum mh_table t,
    uint64_t n, const union mh_fields_ref *was)
{
	const struct mh_table_def *def = &mh_tables[t];
	unsigned char nkey[8];
	DBT key;
	int ret;

	if ((ret = mh_indexed_moved(st, txn, def, was, NULL, n)) != 0)
		return ret;
	mh_key64(&key, nkey, n);
	return st->db[def->records]->del(st->db[def->records], txn, &key, 0);
}

int
mh_indexed_parse(const DBT *d, union mh_fields_ref *f, const char **json)
{
	const char *p = d->data, *end;
	size_t n = d->size;

	for (int i = 0; i < MH_FIELDS; i++) {
		if ((end = memchr(p, '\0', n)) == NULL)
			return -1;
		f->at[i] = p;
		n -= (size_t)(end - p) + 1;
		p = end + 1;
	}
	if (n == 0 || p[n - 1] != '\0')
		return -1;
	*json = p;
	return 0;
}

/* Whether a header field is v or, holding several, has v among them. */
static int
mh_field_has(const char *field, const char *v)
{
	size_t len = strlen(v);

	for (const char *s = field;;) {
		const char *e = strchr(s, MH_VALUE_SEP);
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if (n == len && memcmp(s, v, len) == 0)
			return 1;
		if (e == NULL)
			return 0;
		s = e + 1;
	}
}

int
mh_filters_of(const struct mh_query *q, union mh_fields *out,
    union mh_fields_ref *view)
{
	const struct mh_table_def *def = &mh_tables[q->table];

	memset(out, 0, sizeof(*out));
	memset(view, 0, sizeof(*view));
	for (int i = 0; i < MH_FIELDS; i++) {
		const char *v = q->where.at[i];

		if (v == NULL || !(def->field[i].flags & MH_FIELD_FOLDED)) {
			view->at[i] = v;	/* as given: stored so */
			continue;
		}
		if ((out->at[i] = malloc(strlen(v) + 1)) == NULL) {
			mh_filters_free(out);
			return -1;
		}
		mh_field_copy(out->at[i], v, strlen(v) + 1,
		    def->field[i].flags);
		view->at[i] = out->at[i];
	}
	return 0;
}

void
mh_filters_free(union mh_fields *f)
{
	for (int i = 0; i < MH_FIELDS; i++) {
		free(f->at[i]);
		f->at[i] = NULL;
	}
}

int
mh_query_match(const struct mh_query *q,
    const union mh_fields_ref *filters, const union mh_fields_ref *f,
    const char *json)
{
	for (int i = 0; i < MH_FIELDS; i++)
		if (filters->at[i] != NULL &&
		    !mh_field_has(f->at[i], filters->at[i]))
			return 0;
	return q->keep == NULL || q->keep(q->keep_ctx, json);
}

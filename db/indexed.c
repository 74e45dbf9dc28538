/*
 * The records of the indexed tables (events, email callbacks,
 * notifications...): written, split, and matched against a query's
 * filters on their header fields. Their layout: "f0\0lower(f1)\0f2\0"
 * followed by the JSON text with the record's number put first,
 * NUL-terminated. The three leading fields feed the secondary indexes
 * (tables.c) and let a query filter without reading the JSON.
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

int
mh_indexed_put(DB *db, DB_TXN *txn, const struct mh_record *r,
    const char *id_key, uint64_t n, char **text)
{
	unsigned char nkey[8];
	const char *f[3];
	size_t len[3], lj, off = 0;
	char *json, *rec;
	DBT key, data;
	int ret;

	if ((json = mh_record_text(r, id_key, n)) == NULL)
		return ENOMEM;
	lj = strlen(json) + 1;
	for (int i = 0; i < 3; i++) {
		f[i] = r->field[i] != NULL ? r->field[i] : "";
		len[i] = strlen(f[i]) + 1;
	}
	if ((rec = malloc(len[0] + len[1] + len[2] + lj)) == NULL) {
		free(json);
		return ENOMEM;
	}
	for (int i = 0; i < 3; i++) {
		memcpy(rec + off, f[i], len[i]);
		if (i == 1)	/* the email, indexed without case */
			for (size_t k = 0; k < len[i]; k++)
				rec[off + k] = (char)tolower(
				    (unsigned char)rec[off + k]);
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
mh_indexed_parse(const DBT *d, const char *field[3], const char **json)
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
mh_query_match(const struct mh_query *q, const char *field[3],
    const char *email_lower, const char *json)
{
	if (q->type != NULL && !mh_field_has(field[0], q->type))
		return 0;
	if (email_lower != NULL && !mh_field_has(field[1], email_lower))
		return 0;
	if (q->message_id != NULL && !mh_field_has(field[2], q->message_id))
		return 0;
	return q->keep == NULL || q->keep(q->keep_ctx, json);
}

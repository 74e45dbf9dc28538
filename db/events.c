/*
 * Writing events: the duplicate check, the event record with its indexes,
 * the provider's own record beside it, and the fold into its message's
 * summary (messages.c).
 *
 * A record of an indexed table is "f0\0lower(f1)\0f2\0" followed by the
 * JSON text with the record's number put first, NUL-terminated: the three
 * leading fields feed the secondary indexes (tables.c) and let a query
 * filter without reading the JSON.
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
mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    const struct mh_deriver *d, uint64_t *seq, char **json,
    struct mh_noticed *nt)
{
	DB *dedupe = st->db[MH_DB_DEDUPE];
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
	ret = dedupe->put(dedupe, txn, &key, &data, DB_NOOVERWRITE);
	if (ret == DB_KEYEXIST)
		return 0;
	if (ret != 0)
		return ret;
	if ((ret = mh_indexed_put(st->db[MH_DB_EVENTS], txn, &ev->event, "seq",
	    next, json)) != 0)
		goto err;
	/* A provider's own record of the event shares its seq as its id. */
	if (ev->entity.json != NULL && (ret = mh_indexed_put(
	    st->db[MH_DB_CALLBACKS], txn, &ev->entity, "id", next, NULL)) != 0)
		goto err;
	if ((ret = mh_message_fold(st, txn, ev, d, next)) != 0)
		goto err;
	/* Made with the event, in its transaction: never twice, never lost. */
	if (ev->notice.json != NULL &&
	    (ret = mh_notice_put(st, txn, &ev->notice, nt)) != 0)
		goto err;
	*seq = next;
	return 0;
err:
	free(*json);
	*json = NULL;
	free(nt->json);
	nt->json = NULL;
	return ret;
}

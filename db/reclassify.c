/*
 * Judging stored events again (mailhooks-db reclassify, after the rules
 * changed): each message's events, in their order, are judged anew by the
 * application (its rules, then its fold, from an empty summary, as the
 * drain did when they came), a message to a transaction; an event whose
 * text changes is rewritten and counted per hour as it now says, and the
 * message's summary is the one the fold made. A drain storing an event
 * of the same message meanwhile waits for the summary's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* A message with more events than this is left as it is (its
 * transaction would hold a lock for each). */
#define MH_RECLASSIFY_EVENTS_MAX 5000

struct mh_reclassify {
	const struct mh_deriver *d;
	mh_rejudge_fn rejudge;
	unsigned char *key;	/* the last message done (NULL: none yet) */
	size_t klen;
	unsigned char *next;	/* the message this transaction does */
	size_t nlen;
	int done;
	size_t changed, skipped;	/* this transaction's */
	uint64_t *seq;
	char **was;		/* each event's text before, to count changes */
	size_t nseq, cap;
};

/* The next message's key after r->key into r->next; r->done past the
 * last. */
static int
mh_next_message(struct mh_store *st, DB_TXN *txn, struct mh_reclassify *r)
{
	DB *db = st->db[MH_DB_MESSAGES];
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = DB_DBT_REALLOC;
	data.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
	if (r->key != NULL && (key.data = malloc(r->klen)) == NULL)
		return ENOMEM;
	if (r->key != NULL)
		memcpy(key.data, r->key, key.size = (u_int32_t)r->klen);
	if ((ret = db->cursor(db, txn, &cur, 0)) == 0) {
		ret = cur->get(cur, &key, &data, r->key ? DB_SET_RANGE :
		    DB_FIRST);
		if (ret == 0 && r->key != NULL && key.size == r->klen &&
		    memcmp(key.data, r->key, r->klen) == 0)
			ret = cur->get(cur, &key, &data, DB_NEXT);
		cur->close(cur);
	}
	free(r->next);
	r->next = NULL;
	r->done = ret == DB_NOTFOUND;
	if (ret == 0) {
		r->next = key.data;
		r->nlen = key.size;
		return 0;
	}
	free(key.data);
	return ret == DB_NOTFOUND ? 0 : ret;
}

/* The seqs of message_id's events, in order, into r->seq. */
static int
mh_message_seqs(struct mh_store *st, DB_TXN *txn, const char *message_id,
    struct mh_reclassify *r)
{
	DB *idx = st->db[MH_DB_BY_MESSAGE];
	size_t len = strlen(message_id) + 1;
	unsigned char *buf;
	uint64_t *grown;
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	r->nseq = 0;
	if ((buf = malloc(len + 8)) == NULL)
		return ENOMEM;
	memcpy(buf, message_id, len);
	mh_keys_only(&key, &data, buf, len, len + 8);
	if ((ret = idx->cursor(idx, txn, &cur, 0)) != 0)
		goto out;
	for (ret = cur->get(cur, &key, &data, DB_SET_RANGE); ret == 0;
	    ret = cur->get(cur, &key, &data, DB_NEXT)) {
		if (key.size != len + 8 || memcmp(buf, message_id, len) != 0)
			break;
		if (r->nseq == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 64;
			char **was;

			if ((grown = realloc(r->seq, cap * sizeof(*grown))) !=
			    NULL)
				r->seq = grown;
			if ((was = realloc(r->was, cap * sizeof(*was))) != NULL)
				r->was = was;
			if (grown == NULL || was == NULL) {
				ret = ENOMEM;
				break;
			}
			r->cap = cap;
		}
		r->was[r->nseq] = NULL;
		r->seq[r->nseq++] = mh_be64_get(buf + len);
	}
	cur->close(cur);
out:
	free(buf);
	return ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL ? 0 : ret;
}

/* Judges the event seq of provider's message anew, folding it into
 * *summary (the one made so far, replaced). */
static int
mh_rejudge_one(struct mh_store *st, DB_TXN *txn, struct mh_reclassify *r,
    const char *provider, size_t i, char **summary)
{
	uint64_t seq = r->seq[i];
	DB *events = st->db[MH_DB_EVENTS];
	struct mh_notes_txn notes;
	struct mh_fold f = { .seq = seq, .notes = &notes.ops };
	struct mh_record next = { .json = NULL };
	struct mh_event ev;
	union mh_fields_ref was;
	const char *stored, *text;
	unsigned char kb[8];
	DBT key, data;
	int ret;

	memset(&ev, 0, sizeof(ev));
	mh_notes_open(&notes, st, txn);
	mh_key64(&key, kb, seq);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = events->get(events, txn, &key, &data, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	if (mh_indexed_parse(&data, &was, &stored) != 0)
		goto out;	/* not one of ours */
	if ((r->was[i] = strdup(stored)) == NULL ||
	    r->rejudge(r->d, stored, &ev) != 0) {
		ret = ENOMEM;
		goto out;
	}
	if (ev.provider == NULL || strcmp(ev.provider, provider) != 0)
		goto out;	/* another provider's message of that id */
	f.ev = &ev;
	f.summary = *summary;
	ret = r->d->fold(r->d, &f);
	if (notes.ret != 0 || ret != 0 || f.folded == NULL) {
		ret = notes.ret != 0 ? notes.ret : ENOMEM;
		goto out;
	}
	free(*summary);
	*summary = f.folded;
	f.folded = NULL;
	text = f.json != NULL ? f.json : ev.rec.json;
	if (strcmp(text, stored) != 0) {
		next = ev.rec;
		next.json = (char *)text;
		if ((ret = mh_indexed_put(st, txn, MH_TABLE_EVENTS, &next, &was,
		    seq, NULL)) != 0)
			goto out;
	}
	if ((ret = mh_event_recount(st, txn, seq, was.event.type,
	    f.counted)) == 0)
		ret = mh_events_amend(st, txn, r->d, &f, *summary);
out:
	free(f.folded);
	free(f.json);
	mh_event_clear(&ev);
	free(data.data);
	return ret;
}

/* Counts the message's events whose text is not what it was (an event
 * may change and change back as later ones amend it), and lets the texts
 * kept go. */
static int
mh_count_changed(struct mh_store *st, DB_TXN *txn, struct mh_reclassify *r)
{
	DB *events = st->db[MH_DB_EVENTS];
	union mh_fields_ref f;
	const char *now;
	unsigned char kb[8];
	DBT key, data;
	int ret = 0;

	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_REALLOC;
	for (size_t i = 0; i < r->nseq; i++) {
		if (r->was[i] != NULL && ret == 0) {
			mh_key64(&key, kb, r->seq[i]);
			ret = events->get(events, txn, &key, &data, 0);
			if (ret == 0 && mh_indexed_parse(&data, &f, &now) == 0 &&
			    strcmp(now, r->was[i]) != 0)
				r->changed++;
		}
		free(r->was[i]);
		r->was[i] = NULL;
	}
	free(data.data);
	return ret == DB_NOTFOUND ? 0 : ret;
}

static int
mh_reclassify_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_reclassify *r = ctx;
	DB *messages = st->db[MH_DB_MESSAGES];
	char *summary = NULL;
	const char *provider, *message_id;
	DBT key, data;
	int ret, ret2;

	r->changed = r->skipped = 0;
	if ((ret = mh_next_message(st, txn, r)) != 0 || r->done)
		return ret;
	provider = (const char *)r->next;
	if (memchr(r->next, '\0', r->nlen) == NULL)
		return 0;	/* not one of ours */
	if ((message_id = strndup(provider + strlen(provider) + 1,
	    r->nlen - strlen(provider) - 1)) == NULL)
		return ENOMEM;
	memset(&key, 0, sizeof(key));
	key.data = r->next;
	key.size = (u_int32_t)r->nlen;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	/* The summary's lock first: a drain folding into it waits. */
	if ((ret = messages->get(messages, txn, &key, &data, DB_RMW)) != 0 ||
	    (ret = mh_message_seqs(st, txn, message_id, r)) != 0)
		goto out;
	if (r->nseq > MH_RECLASSIFY_EVENTS_MAX) {
		r->skipped = 1;
		goto out;
	}
	for (size_t i = 0; i < r->nseq && ret == 0; i++)
		ret = mh_rejudge_one(st, txn, r, provider, i, &summary);
	if ((ret2 = mh_count_changed(st, txn, r)) != 0 && ret == 0)
		ret = ret2;
	if (ret == 0 && summary != NULL) {
		free(data.data);
		data.data = summary;
		data.size = (u_int32_t)strlen(summary) + 1;
		data.flags = 0;
		ret = messages->put(messages, txn, &key, &data, 0);
		data.data = NULL;
	}
out:
	free(data.data);
	free(summary);
	free((char *)message_id);
	return ret == DB_NOTFOUND ? 0 : ret;
}

enum mh_store_err
mh_store_reclassify(struct mh_store *st, const struct mh_deriver *d,
    mh_rejudge_fn rejudge, struct mh_reclassified *n)
{
	struct mh_reclassify r = { .d = d, .rejudge = rejudge };
	int ret;

	memset(n, 0, sizeof(*n));
	for (;;) {
		if ((ret = mh_txn_run(st, 0, DB_TXN_WRITE_NOSYNC,
		    mh_reclassify_txn, &r)) != 0 || r.done)
			break;
		n->messages++;
		n->events_changed += r.changed;
		n->messages_skipped += r.skipped;
		free(r.key);
		r.key = r.next;
		r.klen = r.nlen;
		r.next = NULL;
	}
	if (ret == 0)
		ret = st->env->log_flush(st->env, NULL);
	free(r.key);
	free(r.next);
	free(r.seq);
	free(r.was);
	return mh_store_error(ret);
}

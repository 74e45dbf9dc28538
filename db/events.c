/*
 * Writing events: the duplicate check, the event record with its indexes
 * (indexed.c, event_index.c), the provider's own record beside it, the
 * fold into its message's summary (messages.c), and the notification it
 * makes (notifications.c); and what a transaction of them writes at its
 * end.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* What amending one earlier event needs: the deriver, the message's new
 * summary, and what the change found (the event's type, the name it is
 * now counted under). */
struct mh_amending {
	const struct mh_deriver *d;
	const char *summary;
	char type[MH_TYPE_MAX + 1];
	char counted[MH_COUNTED_MAX + 1];
	int failed;
};

/* mh_change_fn: the event as the application amends it. */
static int
mh_amend_change(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	struct mh_amending *a = ctx;
	char *amended = NULL;

	a->counted[0] = '\0';
	snprintf(a->type, sizeof(a->type), "%s", f->event.type);
	if (a->d->amend(a->d, a->summary, json, &amended, a->counted) != 0) {
		a->failed = 1;
		return MH_CHANGE_KEEP;
	}
	if (amended == NULL)
		return MH_CHANGE_KEEP;
	out->json = amended;
	for (int i = 0; i < MH_FIELDS; i++)
		if (f->at[i] != NULL && (out->at[i] = strdup(f->at[i])) == NULL)
			a->failed = 1;
	return a->failed ? MH_CHANGE_KEEP : MH_CHANGE_WRITE;
}

int
mh_events_amend(struct mh_store *st, DB_TXN *txn, const struct mh_deriver *d,
    const struct mh_fold *f, const char *summary)
{
	struct mh_amending a = { .d = d, .summary = summary };
	int what, ret;

	for (size_t i = 0; i < f->namend && d->amend != NULL; i++) {
		ret = mh_record_alter(st, txn, MH_TABLE_EVENTS, f->amend[i],
		    mh_amend_change, &a, &what, NULL);
		if (ret == DB_NOTFOUND)
			continue;	/* erased since */
		if (ret == 0 && a.failed)
			ret = ENOMEM;
		if (ret == 0 && what == MH_CHANGE_WRITE)
			ret = mh_event_recount(st, txn, f->amend[i], a.type,
			    a.counted);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int
mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    uint64_t receipt, struct mh_gram_batch *grams, const struct mh_deriver *d, uint64_t *seq, char **json,
    struct mh_noticed *nt)
{
	DB *dedupe = st->db[MH_DB_DEDUPE];
	struct mh_notes_txn notes;
	struct mh_fold f = { .ev = ev, .seq = *seq + 1, .notes = &notes.ops };
	struct mh_record rec = ev->rec;
	struct mh_event_keys k;
	unsigned char seqkey[8];
	DBT key, data;
	int ret;

	*json = NULL;
	mh_notes_open(&notes, st, txn);
	mh_be64_put(seqkey, f.seq);
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
	/* Folded first: the fold's verdict may amend what is stored. */
	if ((ret = mh_message_fold(st, txn, d, &f)) != 0)
		goto err;
	if (f.json != NULL)
		rec.json = f.json;
	if ((ret = mh_indexed_put(st, txn, MH_TABLE_EVENTS, &rec, NULL,
	    f.seq, json)) != 0)
		goto err;
	mh_event_keys_of(&k, ev, receipt);
	snprintf(k.counted, sizeof(k.counted), "%s", f.counted);
	if ((ret = mh_event_index_put(st, txn, f.seq, &k,
	    ev->rec.event.type != NULL ? ev->rec.event.type : "", grams)) != 0)
		goto err;
	/* A provider's own record of the event shares its seq as its id. */
	if (ev->entity.json != NULL && (ret = mh_indexed_put(st,
	    txn, MH_TABLE_CALLBACKS, &ev->entity, NULL, f.seq, NULL)) != 0)
		goto err;
	if ((ret = mh_events_amend(st, txn, d, &f, f.folded)) != 0)
		goto err;
	/* Made with the event, in its transaction: never twice, never lost. */
	if (ev->notice.json != NULL && !f.silence &&
	    (ret = mh_notice_put(st, txn, &ev->notice, nt)) != 0)
		goto err;
	*seq = f.seq;
	free(f.folded);
	free(f.json);
	return 0;
err:
	free(f.folded);
	free(f.json);
	free(*json);
	*json = NULL;
	free(nt->json);
	nt->json = NULL;
	return ret;
}

void
mh_events_batch_reset(struct mh_events_batch *b)
{
	b->tallies.n = 0;
	b->grams.n = 0;
}

int
mh_events_batch_write(struct mh_store *st, DB_TXN *txn,
    struct mh_events_batch *b)
{
	int ret = mh_gram_batch_write(st, txn, &b->grams);

	return ret != 0 ? ret : mh_tally_write(st, txn, &b->tallies);
}

void
mh_events_batch_free(struct mh_events_batch *b)
{
	free(b->grams.pair);
	memset(&b->grams, 0, sizeof(b->grams));
	b->tallies.n = 0;
}

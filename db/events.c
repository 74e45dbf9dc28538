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

int
mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    uint64_t receipt, struct mh_gram_batch *grams, const struct mh_deriver *d, uint64_t *seq, char **json,
    struct mh_noticed *nt)
{
	DB *dedupe = st->db[MH_DB_DEDUPE];
	struct mh_event_keys k;
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
	if ((ret = mh_indexed_put(st, txn, MH_TABLE_EVENTS, &ev->rec, NULL,
	    next, json)) != 0)
		goto err;
	mh_event_keys_of(&k, ev, receipt);
	if ((ret = mh_event_index_put(st, txn, next, &k,
	    ev->rec.event.type != NULL ? ev->rec.event.type : "", grams)) != 0)
		goto err;
	/* A provider's own record of the event shares its seq as its id. */
	if (ev->entity.json != NULL && (ret = mh_indexed_put(st,
	    txn, MH_TABLE_CALLBACKS, &ev->entity, NULL, next, NULL)) != 0)
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

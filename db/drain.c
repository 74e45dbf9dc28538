/*
 * The drain: turning inbox entries into events. Each entry is claimed
 * (claim.c: its attempt counted before it is tried, so an entry that kills
 * its process cannot loop), derived with no lock held, then stored a run
 * of events a transaction, the last run with the entry's removal from the
 * inbox. Those transactions may commit without their own fsync because the
 * raw body they came from is already durable. Each is still written to
 * the system at its commit: a process that opens the
 * environment after another was killed runs recovery from the log files,
 * and a commit left in the shared log buffer would be lost to it (its
 * events, already shown, would go from the database and come back with the
 * next drain). The claim's commit is written the same way: what it guards
 * against is this process dying in what follows.
 *
 * An entry's events are stored a run at a time (chunk.c), each run in a
 * transaction that also counts it done in the entry's claim, so that a
 * full batch of varied content never holds more locks than the region
 * has, and a drain taken over after a kill goes on from the last run.
 * Should a run still not fit (the region shared with a busy reader), it is
 * halved and tried again: running out of room is never a reason to set
 * an acknowledged entry aside.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"
#include "drain.h"

static void
mh_drain_forget(struct mh_drain *d)
{
	for (size_t i = 0; i < d->nfresh; i++)
		free(d->fresh[i].json);
	free(d->fresh);
	d->fresh = NULL;
	d->nfresh = 0;
}

static void
mh_drain_drop_derived(struct mh_drain *d)
{
	mh_events_free(d->events, d->nevents);
	d->events = NULL;
	d->nevents = 0;
	d->underivable = 0;
	d->why[0] = '\0';
	mh_events_batch_free(&d->batch);
}

/* Tells the callbacks about what the last commit stored. */
static void
mh_drain_announce(struct mh_drain *d, size_t *nstored)
{
	for (size_t i = 0; i < d->nfresh; i++) {
		const struct mh_new *f = &d->fresh[i];

		*nstored += !f->notice;
		if (f->notice && d->d->noticed != NULL)
			d->d->noticed(d->d->ctx, f->seq, f->json,
			    strlen(f->json), f->unread);
		else if (!f->notice && d->d->stored != NULL)
			d->d->stored(d->d->ctx, f->seq, f->json,
			    strlen(f->json));
	}
	mh_drain_forget(d);
}

/* An entry's sent_as: the outgoing mail a provider's message id was sent
 * as (ctx, the store), read outside the drain's transaction: the sender
 * keeps the id before the provider's webhooks about it come. */
static char *
mh_drain_sent_as(void *ctx, const char *message_id)
{
	struct mh_store *st = ctx;
	uint64_t id;
	char *json = NULL;

	if (message_id == NULL || *message_id == '\0' ||
	    mh_store_mail_of(st, message_id, &id) != MH_STORE_OK ||
	    mh_store_record_get(st, MH_TABLE_MAIL, id, &json) != MH_STORE_OK)
		return NULL;
	return json;
}

/*
 * Derives the events of the raw body of receipt into d (d->underivable and
 * d->why when it cannot be). Read with no transaction: a raw body never
 * changes once written, so no lock need be held past the read. Returns a
 * Berkeley DB code.
 */
static int
mh_derive_raw(struct mh_drain *d, uint64_t receipt)
{
	DB *raw = d->st->db[MH_DB_RAW];
	unsigned char kbuf[8];
	struct mh_entry e;
	DBT key, data;
	int ret;

	mh_drain_drop_derived(d);
	mh_key64(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = raw->get(raw, NULL, &key, &data, 0);
	if (ret == DB_NOTFOUND) {
		snprintf(d->why, sizeof(d->why), "raw body missing");
		d->underivable = 1;
		return 0;
	}
	if (ret != 0)
		return ret;
	e.receipt = receipt;
	if (mh_entry_decode(data.data, data.size, &e) != 0) {
		snprintf(d->why, sizeof(d->why), "raw entry corrupt");
		d->underivable = 1;
	} else if ((e.sent_as = mh_drain_sent_as, e.sent_ctx = d->st,
	    d->d->derive(d->d, &e, &d->events, &d->nevents,
	    d->why, sizeof(d->why))) != 0) {
		mh_events_free(d->events, d->nevents);
		d->events = NULL;
		d->nevents = 0;
		d->underivable = 1;
	}
	free(data.data);
	return 0;
}

/* Stores those of d's derived events from..to not seen yet, inside txn,
 * keeping the new ones in d->fresh. */
static int
mh_store_derived(struct mh_drain *d, DB_TXN *txn, size_t from, size_t to)
{
	DB *meta = d->st->db[MH_DB_META];
	uint64_t seq, first;
	int ret;

	mh_drain_forget(d);	/* a retry stores afresh */
	mh_events_batch_reset(&d->batch);
	/* last_seq first: its lock orders the drains, the tallies' too. */
	if ((ret = mh_counter(meta, txn, MH_LAST_SEQ, 0, DB_RMW, &seq)) != 0)
		return ret;
	first = seq;
	/* Each event, and a notification it may make. */
	if ((d->fresh = calloc(to > from ? 2 * (to - from) : 1,
	    sizeof(*d->fresh))) == NULL)
		return ENOMEM;
	for (size_t i = from; i < to; i++) {
		const struct mh_event *ev = &d->events[i];
		struct mh_noticed nt = { 0 };
		char *json;

		if ((ret = mh_events_put(d->st, txn, ev, d->receipt,
		    &d->batch.grams, d->d, &seq, &json, &nt)) != 0)
			return ret;
		if (json != NULL)
			d->fresh[d->nfresh++] = (struct mh_new){ seq, 0, json, 0 };
		if (nt.json != NULL)
			d->fresh[d->nfresh++] = (struct mh_new){ nt.id,
			    nt.unread, nt.json, 1 };
		/* An event not stored (json NULL) was a duplicate. */
		if ((ret = mh_tally_note(&d->batch.tallies, json != NULL ?
		    "events" : "duplicates", ev->provider, json != NULL ?
		    ev->rec.event.type : NULL)) != 0)
			return ret;
	}
	if (seq != first && (ret = mh_counter(meta, txn, MH_LAST_SEQ,
	    (int64_t)(seq - first), DB_RMW, NULL)) != 0)
		return ret;
	return mh_events_batch_write(d->st, txn, &d->batch);
}

/* Stores the next run of the derived events alone (the inbox is left
 * alone). */
static int
mh_store_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_drain *d = ctx;

	(void)st;
	d->run_end = mh_chunk_end(d->events, d->nevents, d->done, d->budget,
	    &d->run_work);
	d->last = d->run_end == d->nevents;
	return mh_store_derived(d, txn, d->done, d->run_end);
}

/*
 * Runs fn, a transaction storing the next run of d's derived events, until
 * the last is stored, telling the callbacks about each run once it is
 * committed. A run that runs out of room (ENOMEM: Berkeley DB's lock or
 * transaction region, or memory) is halved and tried again; a run of one
 * event that does not fit is the error returned.
 */
static int
mh_store_runs(struct mh_drain *d, mh_txn_fn fn, size_t *nstored)
{
	int ret;

	d->budget = MH_CHUNK_WORK;
	d->last = 0;
	do {
		ret = mh_txn_run(d->st, 0, DB_TXN_WRITE_NOSYNC, fn, d);
		mh_events_batch_reset(&d->batch);
		if (ret == ENOMEM && d->run_end > d->done + 1) {
			d->budget = d->run_work / 2;
			fprintf(stderr, "mailhooks: receipt=%llu: a run of %zu "
			    "events did not fit the storage's region; runs of "
			    "half as much\n", (unsigned long long)d->receipt,
			    d->run_end - d->done);
			mh_drain_forget(d);
			d->last = 0;	/* the run that failed is still to do */
			continue;
		}
		if (ret != 0)
			return ret;
		d->done = d->run_end;
		mh_drain_announce(d, nstored);
	} while (!d->last);
	return 0;
}

/*
 * Stores the next run of the derived events, from the count done in the
 * entry's claim, and counts it done there; the last run takes the entry out
 * of the inbox. The claim is read without keeping its lock (its page is
 * where acknowledgements add entries), and written just before the commit;
 * should another process have finished the entry or stored the run
 * meanwhile, the transaction is dropped. An entry that cannot be derived
 * is set aside.
 */
static int
mh_finish_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_drain *d = ctx;
	DB *inbox = st->db[MH_DB_INBOX];
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	struct mh_claim c;
	DBT key, data;
	int ret;

	mh_claim_dbts(&key, kbuf, &data, vbuf);
	mh_key64(&key, kbuf, d->receipt);
	d->last = 1;
	d->run_end = d->done;
	if (d->underivable) {
		ret = inbox->get(inbox, txn, &key, &data, DB_RMW);
		if (ret == 0)
			ret = mh_set_aside(st, txn, d->receipt,
			    d->claim.attempts, d->why);
		return ret == DB_NOTFOUND ? MH_TXN_DISCARD : ret;
	}
	if ((ret = inbox->get(inbox, txn, &key, &data, DB_READ_COMMITTED)) != 0)
		return ret == DB_NOTFOUND ? MH_TXN_DISCARD : ret;
	d->done = mh_claim_get(&data).done;
	if (d->done > d->nevents)
		d->done = d->nevents;
	if ((ret = mh_store_txn(st, txn, d)) != 0)
		return ret;
	ret = inbox->get(inbox, txn, &key, &data, DB_RMW);
	if (ret == 0 && (c = mh_claim_get(&data)).done != d->done)
		ret = DB_NOTFOUND;
	if (ret == DB_NOTFOUND) {
		mh_drain_forget(d);
		d->last = 1;
		return MH_TXN_DISCARD;
	}
	if (ret != 0)
		return ret;
	if (d->last)
		return inbox->del(inbox, txn, &key, 0);
	c.done = (uint32_t)d->run_end;
	if (c.pid == st->pid)
		c.at = (uint32_t)time(NULL);
	return mh_claim_put(st, txn, d->receipt, &c);
}

/* Takes the next inbox entry for this process through to the end; *empty
 * is set when the inbox had nothing for it; *nstored counts the events
 * stored. */
static int
mh_drain_one(struct mh_drain *d, int *empty, size_t *nstored)
{
	int ret;

	*empty = 0;
	/*
	 * Derive with no lock held: a batch of a thousand events takes tens
	 * of milliseconds to derive and store, and a lock on the inbox
	 * entry's page held all that time would hold up the
	 * acknowledgements that add to that page.
	 */
	if ((ret = mh_txn_run(d->st, 0, DB_TXN_WRITE_NOSYNC, mh_drain_claim_txn,
	    d)) != 0)
		return ret;
	*empty = d->none;
	if (!d->found)
		return 0;
	d->counted_receipt = d->receipt;
	d->counted_attempts = d->claim.attempts;
	if ((ret = mh_derive_raw(d, d->receipt)) != 0)
		return ret;
	if ((ret = mh_store_runs(d, mh_finish_txn, nstored)) == ENOMEM) {
		fprintf(stderr, "mailhooks: receipt=%llu: one event did not fit "
		    "the storage's region; the entry waits for the next "
		    "drain\n", (unsigned long long)d->receipt);
		(void)mh_txn_run(d->st, 0, DB_TXN_WRITE_NOSYNC,
		    mh_drain_uncount_txn, d);
	}
	return ret;
}

int
mh_drain_receipt(struct mh_store *st, const struct mh_deriver *der,
    uint64_t receipt, size_t *nstored)
{
	struct mh_drain d = { .st = st, .d = der, .receipt = receipt };
	int ret;

	*nstored = 0;
	if ((ret = mh_derive_raw(&d, receipt)) == 0 && d.underivable)
		fprintf(stderr, "mailhooks: receipt=%llu not derived: %s\n",
		    (unsigned long long)receipt, d.why);
	else if (ret == 0)
		ret = mh_store_runs(&d, mh_store_txn, nstored);
	mh_drain_forget(&d);
	mh_drain_drop_derived(&d);
	return ret;
}

enum mh_store_err
mh_store_drain(struct mh_store *st, const uint64_t *own, size_t nown,
    int walk, const struct mh_deriver *der, size_t *nstored)
{
	struct mh_drain d = {
		.st = st, .d = der, .own = own, .nown = nown, .walk = walk,
	};
	int ret = 0, empty = 0;

	*nstored = 0;
	while (!empty && (ret = mh_drain_one(&d, &empty, nstored)) == 0)
		;
	mh_drain_forget(&d);
	mh_drain_drop_derived(&d);
	return mh_store_error(ret);
}

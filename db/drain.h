/*
 * What the drain's two files share (drain.c: deriving and storing an
 * entry's events a run at a time; claim.c: taking the entry). Internal to
 * them.
 */
#ifndef MH_DRAIN_H
#define MH_DRAIN_H

/* A record the last commit stored: an event, or a notification one made
 * (with its user's unread count). */
struct mh_new {
	uint64_t seq, unread;
	char *json;
	int notice;
};

struct mh_drain {
	struct mh_store *st;
	const struct mh_deriver *d;
	/* The receipts this process put, taken first and by key; next is
	 * the first that may still wait. */
	const uint64_t *own;
	size_t nown, own_next;
	int walk;		/* then the rest of the inbox */
	/* The entry in hand, its claim, and whether its current attempt
	 * is already counted (at the count held). */
	uint64_t receipt;
	struct mh_claim claim;
	int found;		/* an entry to derive */
	int counted_here;	/* this claim counted an attempt */
	int none;		/* nothing is left for this process */
	uint64_t counted_receipt;
	uint32_t counted_attempts;
	/* The events derived from the entry's raw body, kept while the
	 * transaction storing them is retried; or why it cannot be. */
	struct mh_event *events;
	size_t nevents;
	int underivable;
	char why[256];
	/* The run in hand: its events from done, what its transaction
	 * counted them to, and whether it was the entry's last (or another
	 * process had finished the entry); the work a run may count. */
	size_t done, run_end, run_work, budget;
	int last;
	/* What the last commit stored, to announce. */
	struct mh_new *fresh;
	size_t nfresh;
	/* Tallies and trigrams, written at the transaction's end. */
	struct mh_events_batch batch;
};

/* The claim (a transaction, ctx the drain): finds the next entry for this
 * process and takes it, counting the attempt; d->found when there is one
 * to derive, d->none when nothing is left for this process. */
int mh_drain_claim_txn(struct mh_store *st, DB_TXN *txn, void *ctx);
/* Gives back the attempt counted at the entry in hand (a transaction, ctx
 * the drain). */
int mh_drain_uncount_txn(struct mh_store *st, DB_TXN *txn, void *ctx);

#endif

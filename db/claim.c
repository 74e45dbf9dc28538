/*
 * The drain's claim on an inbox entry (inbox.c keeps the claims): which
 * entry is next for this process, counting the attempt about to be made
 * before it is made (so that an entry that kills its process cannot loop),
 * setting aside one out of attempts, and giving an attempt back when it
 * ended in no failure of the entry's own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"
#include "drain.h"

/* How many entries other live processes are at a drain steps over before
 * it leaves the rest to them. */
#define MH_CLAIMED_SKIP_MAX 256

/* Positions cur at the next of the receipts this process put that still
 * waits; DB_NOTFOUND when none. */
static int
mh_next_own(struct mh_drain *d, DBC *cur, DBT *key, DBT *data)
{
	int ret;

	for (; d->own_next < d->nown; d->own_next++) {
		mh_be64_put(key->data, d->own[d->own_next]);
		key->size = 8;
		ret = cur->get(cur, key, data, DB_SET | DB_RMW);
		if (ret == DB_NOTFOUND)
			continue;
		if (ret == 0) {
			d->claim = mh_claim_get(data);
			/* Its first attempt was counted when it was put. */
			if (d->claim.pid == d->st->pid &&
			    d->claim.attempts == 1) {
				d->counted_receipt = d->own[d->own_next];
				d->counted_attempts = 1;
			}
		}
		return ret;
	}
	return DB_NOTFOUND;
}

/*
 * Positions cur (whose key and data point at the caller's buffers) at the
 * next entry for this process, and reads its claim: the receipts it put
 * first, straight to each; then, when the drain walks, the first entry no
 * other live process is at, though past a few of theirs the rest is left
 * to them (each drain would otherwise walk every entry another busy
 * process has waiting, which that process's own drain finds by key).
 * DB_NOTFOUND when none.
 */
static int
mh_drain_next(struct mh_drain *d, DBC *cur, DBT *key, DBT *data)
{
	struct mh_alive_seen seen = { .n = 0 };
	size_t skipped = 0;
	int ret;

	if ((ret = mh_next_own(d, cur, key, data)) != DB_NOTFOUND || !d->walk)
		return ret;
	for (ret = cur->get(cur, key, data, DB_FIRST | DB_RMW); ret == 0;
	    ret = cur->get(cur, key, data, DB_NEXT | DB_RMW)) {
		d->claim = mh_claim_get(data);
		if (key->size != 8 ||
		    !mh_claimed_by_other(d->st, &d->claim, &seen))
			return 0;
		if (++skipped == MH_CLAIMED_SKIP_MAX)
			return DB_NOTFOUND;
	}
	return ret;
}

/* What to do with the entry found, inside txn: a stray key is deleted, an
 * entry out of attempts set aside, and the attempt about to be made
 * counted. d->found is set when there is an entry to derive. */
static int
mh_take_entry(struct mh_drain *d, DB_TXN *txn, DBC *cur, const DBT *key)
{
	struct mh_store *st = d->st;
	char why[96];

	if (key->size != 8)
		return cur->del(cur, 0);
	d->receipt = mh_be64_get(key->data);
	if (d->claim.attempts >= MH_INBOX_MAX_ATTEMPTS) {
		snprintf(why, sizeof(why), "gave up after %u attempts",
		    (unsigned)d->claim.attempts);
		return mh_set_aside(st, txn, d->receipt, d->claim.attempts, why);
	}
	d->found = 1;
	/* This process's own, counted when it was put. */
	d->counted_here = 1;
	if (d->receipt == d->counted_receipt &&
	    d->claim.attempts == d->counted_attempts)
		return 0;
	/* An attempt is counted against an entry that may have killed its
	 * process; a claim taken from a live process whose work stalled
	 * (MH_CLAIM_SECONDS) is no such sign, and its attempt is still
	 * counted. */
	d->counted_here = d->claim.pid == 0 || d->claim.pid == st->pid ||
	    !mh_process_alive((pid_t)d->claim.pid);
	d->claim.attempts += (uint32_t)d->counted_here;
	d->claim.pid = st->pid;
	d->claim.at = (uint32_t)time(NULL);
	return mh_claim_put(st, txn, d->receipt, &d->claim);
}

/* The claim: finds the next entry for this process and takes it. */
int
mh_drain_claim_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_drain *d = ctx;
	DB *inbox = st->db[MH_DB_INBOX];
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	DBC *cur;
	DBT key, data;
	int ret;

	d->found = d->none = 0;
	if ((ret = inbox->cursor(inbox, txn, &cur, 0)) != 0)
		return ret;
	mh_claim_dbts(&key, kbuf, &data, vbuf);
	if ((ret = mh_drain_next(d, cur, &key, &data)) == 0)
		ret = mh_take_entry(d, txn, cur, &key);
	else if (ret == DB_NOTFOUND) {
		d->none = 1;
		ret = 0;
	}
	cur->close(cur);
	return ret;
}

/* Gives back the attempt counted at the entry in hand, which ended in no
 * failure of the entry's own (a single event did not fit the storage's
 * region), and leaves it to the next drain. */
int
mh_drain_uncount_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_drain *d = ctx;
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	DB *inbox = st->db[MH_DB_INBOX];
	struct mh_claim c;
	DBT key, data;
	int ret;

	mh_claim_dbts(&key, kbuf, &data, vbuf);
	mh_key64(&key, kbuf, d->receipt);
	if ((ret = inbox->get(inbox, txn, &key, &data, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? MH_TXN_DISCARD : ret;
	c = mh_claim_get(&data);
	if (!d->counted_here || c.pid != st->pid ||
	    c.attempts != d->counted_attempts || c.attempts == 0)
		return MH_TXN_DISCARD;
	c.attempts--;
	c.pid = 0;
	return mh_claim_put(st, txn, d->receipt, &c);
}

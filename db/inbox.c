/*
 * The inbox: the durable queue between acknowledging a request and deriving
 * its events. A request is acknowledged once its raw body is committed here
 * (synchronously); the drain then turns each entry into events in one
 * transaction, which may commit without its own fsync because the raw body
 * it came from is already durable. It is still written to the system at
 * its commit: a process that opens the environment after another was
 * killed runs recovery from the log files, and a commit left in the
 * shared log buffer would be lost to it. Its events, already shown, would
 * go from the database and come back with the next drain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "store-private.h"

/* Log written since the last checkpoint before the drain takes another. */
#define MH_CHECKPOINT_KBYTES 1024

void
mh_events_free(struct mh_event *events, size_t count)
{
	if (events == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		json_object_put(events[i].json);
		json_object_put(events[i].entity);
		free(events[i].identity);
	}
	free(events);
}

static void
mh_key(DBT *key, unsigned char buf[8], uint64_t id)
{
	mh_be64_put(buf, id);
	memset(key, 0, sizeof(*key));
	key->data = buf;
	key->size = 8;
}

/*
 * An inbox entry's value: the attempts made at it, and who made the last
 * one and when (pid 0: nobody yet), each 32 bits, big-endian. Entries
 * written before the claim was kept hold the attempts alone.
 */
struct mh_claim {
	uint32_t attempts;
	uint32_t pid;
	uint32_t at;
};

#define MH_CLAIM_SIZE 12
/* A claim older than this is not honoured, even by a live pid (which may
 * be another process's by now). */
#define MH_CLAIM_SECONDS 60
/* How many entries other live processes are at a drain steps over before
 * it leaves the rest to them. */
#define MH_CLAIMED_SKIP_MAX 256

static void
mh_be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
mh_be32_get(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
mh_inbox_write(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    const struct mh_claim *c)
{
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	DBT key, data;

	mh_be32_put(vbuf, c->attempts);
	mh_be32_put(vbuf + 4, c->pid);
	mh_be32_put(vbuf + 8, c->at);
	mh_key(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.data = vbuf;
	data.size = sizeof(vbuf);
	return st->inbox->put(st->inbox, txn, &key, &data, 0);
}

static struct mh_claim
mh_claim_get(const DBT *data)
{
	const unsigned char *v = data->data;
	struct mh_claim c = { MH_INBOX_MAX_ATTEMPTS, 0, 0 };

	if (data->size == 4 || data->size == MH_CLAIM_SIZE)
		c.attempts = mh_be32_get(v);
	if (data->size == MH_CLAIM_SIZE) {
		c.pid = mh_be32_get(v + 4);
		c.at = mh_be32_get(v + 8);
	}
	return c;
}

/* Points key and data at the caller's buffers, for reading inbox entries
 * (a receipt and its claim) through a cursor. */
static void
mh_inbox_dbts(DBT *key, unsigned char kbuf[8], DBT *data,
    unsigned char vbuf[MH_CLAIM_SIZE])
{
	memset(key, 0, sizeof(*key));
	memset(data, 0, sizeof(*data));
	key->data = kbuf;
	key->ulen = 8;
	key->flags = DB_DBT_USERMEM;
	data->data = vbuf;
	data->ulen = MH_CLAIM_SIZE;
	data->flags = DB_DBT_USERMEM;
}

/* The processes a walk of the inbox found alive or not: the entries of one
 * process mostly come in runs, and each look is a system call. */
struct mh_alive_seen {
	uint32_t pid[8];
	int alive[8];
	size_t n;
};

/* 1 when another process than self that is alive is at the entry right
 * now. */
static int
mh_claimed_by_other(const struct mh_claim *c, uint32_t self,
    struct mh_alive_seen *seen)
{
	uint32_t now = (uint32_t)time(NULL);
	int alive;

	if (c->pid == 0 || c->pid == self ||
	    now - c->at > MH_CLAIM_SECONDS)
		return 0;
	for (size_t i = 0; i < seen->n; i++)
		if (seen->pid[i] == c->pid)
			return seen->alive[i];
	alive = mh_process_alive((pid_t)c->pid);
	if (seen->n < sizeof(seen->pid) / sizeof(seen->pid[0])) {
		seen->pid[seen->n] = c->pid;
		seen->alive[seen->n++] = alive;
	}
	return alive;
}

void
mh_inbox_release_claims(struct mh_store *st)
{
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	uint32_t self = st->pid;
	DB_TXN *txn = NULL;
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	if (st->env == NULL || st->inbox == NULL ||
	    mh_txn_begin(st, &txn, 0) != 0)
		return;
	if ((ret = st->inbox->cursor(st->inbox, txn, &cur, 0)) != 0)
		goto out;
	mh_inbox_dbts(&key, kbuf, &data, vbuf);
	while ((ret = cur->get(cur, &key, &data, DB_NEXT | DB_RMW)) == 0) {
		struct mh_claim c = mh_claim_get(&data);

		if (c.pid != self)
			continue;
		mh_be32_put(vbuf + 4, 0);
		if ((ret = cur->put(cur, &key, &data, DB_CURRENT)) != 0)
			break;
	}
out:
	if (cur != NULL)
		cur->close(cur);
	if (ret == DB_NOTFOUND)
		txn->commit(txn, DB_TXN_WRITE_NOSYNC);
	else
		txn->abort(txn);
}

/*
 * Takes the next receipt id in a transaction of its own: taken inside the
 * acknowledgement's, the sequence's record stayed locked through the raw
 * body's write, and under load a third of the acknowledgements met
 * another's lock on it and paused. The id of an acknowledgement that then
 * fails is not used again (ids are unique, not dense); and as this step
 * is in the log before any entry under the id, recovery cannot keep the
 * entry while undoing the step, which would hand the id out again.
 */
static int
mh_receipt_next(struct mh_store *st, db_seq_t *id)
{
	DB_TXN *txn;
	int ret;

	if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
		return ret;
	if ((ret = st->receipts->get(st->receipts, txn, 1, id, 0)) != 0) {
		txn->abort(txn);
		return ret;
	}
	return txn->commit(txn, DB_TXN_NOSYNC);
}

/* Stores the raw record (of which body_len bytes are the body) and the
 * inbox entry of receipt id, inside txn. */
static int
mh_inbox_add(struct mh_store *st, DB_TXN *txn, void *rec, size_t len,
    size_t body_len, db_seq_t id)
{
	unsigned char kbuf[8];
	DBT key, data;
	int ret;

	mh_key(&key, kbuf, (uint64_t)id);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.size = (u_int32_t)len;
	if ((ret = st->raw->put(st->raw, txn, &key, &data, 0)) != 0 ||
	    (ret = mh_counter(st->raw, txn, MH_RAW_TOTAL, (int64_t)body_len,
	    DB_RMW, NULL)) != 0)
		return ret;
	/* Claimed by this process, whose drain takes it next. */
	return mh_inbox_write(st, txn, (uint64_t)id, &(struct mh_claim){
	    1, st->pid, (uint32_t)time(NULL) });
}

enum mh_store_err
mh_store_inbox_put(struct mh_store *st, const char *meta, const void *body,
    size_t len, uint64_t *receipt)
{
	size_t mlen = strlen(meta);
	DB_TXN *txn;
	db_seq_t id = 0;
	char *rec;
	int ret;

	if (len > UINT32_MAX - mlen - 1)
		return MH_STORE_FAILED;
	if ((rec = malloc(mlen + 1 + len)) == NULL)
		return MH_STORE_NOMEM;
	memcpy(rec, meta, mlen);
	rec[mlen] = '\n';
	if (len > 0)
		memcpy(rec + mlen + 1, body, len);
	/*
	 * The commit goes to the log buffer and its locks let go at once;
	 * the flush to disk comes after, outside the transaction. Holding
	 * the locks through the flush (a synchronous commit), or even
	 * through the write to the system, would make every other
	 * acknowledgement and the drain wait for the same few pages and
	 * counters. This is safe because the log is written in order:
	 * whatever another transaction builds on this entry commits after
	 * it, so is never on disk without it, and the answer is sent only
	 * when the flush has returned. Without the flush (MAILHOOKS_FSYNC=0)
	 * the commit itself is written to the system before the answer.
	 */
	for (int tries = 0;;) {
		if (id == 0 && (ret = mh_receipt_next(st, &id)) != 0) {
			if (!mh_store_retry(st, &ret, &tries))
				break;
			continue;
		}
		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			break;
		if ((ret = mh_inbox_add(st, txn, rec, mlen + 1 + len, len,
		    id)) == 0)
			ret = txn->commit(txn, st->ack_fsync ?
			    DB_TXN_NOSYNC : DB_TXN_WRITE_NOSYNC);
		else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	/* A failed flush fails the request: the provider sends it again,
	 * and the events of both copies are stored once (by identity). */
	if (ret == 0 && st->ack_fsync)
		ret = st->env->log_flush(st->env, NULL);
	free(rec);
	if (ret == 0)
		*receipt = (uint64_t)id;
	return mh_store_error(ret);
}

/* Moves an entry out of the inbox into the set-aside store, with why. */
static int
mh_set_aside(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    uint32_t attempts, const char *reason)
{
	unsigned char kbuf[8];
	struct json_object *o = json_object_new_object();
	const char *text;
	DBT key, data;
	int ret;

	json_object_object_add(o, "receipt", json_object_new_uint64(receipt));
	json_object_object_add(o, "attempts", json_object_new_int((int)attempts));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "at", json_object_new_int64((int64_t)time(NULL)));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	mh_key(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.data = (void *)text;
	data.size = (u_int32_t)strlen(text) + 1;
	fprintf(stderr, "mailhooks: inbox entry %llu set aside: %s\n",
	    (unsigned long long)receipt, reason);
	ret = st->set_aside->put(st->set_aside, txn, &key, &data, 0);
	if (ret == 0)
		ret = st->inbox->del(st->inbox, txn, &key, 0);
	json_object_put(o);
	return ret;
}

struct mh_new {
	uint64_t seq;
	char *json;
};

struct mh_drain {
	struct mh_store *st;
	/* The entry whose current attempt is already counted, and at what. */
	uint64_t counted_receipt;
	uint32_t counted_attempts;
	/* The receipts this process put, taken first and by key; next is
	 * the first that may still wait. */
	const uint64_t *own;
	size_t nown, own_next;
	int walk;		/* then the rest of the inbox */
	mh_derive_fn derive;
	void *dctx;
	struct mh_new *fresh;
	size_t nfresh;
	/* The events derived from one receipt's raw body, kept while its
	 * transaction is retried; or why it cannot be derived. */
	int derived;
	uint64_t derived_receipt;
	struct mh_event *events;
	size_t nevents;
	int underivable;
	char why[256];
};

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
	d->derived = 0;
	d->underivable = 0;
	d->why[0] = '\0';
}

/* mh_store_raw's answer for a body that cannot be turned into events. */
#define MH_UNDERIVABLE (-1)

/*
 * Derives the events of the raw body of receipt into d (d->underivable and
 * d->why when it cannot be), unless d holds them already (a transaction
 * being retried). txn may be NULL: a raw body never changes
 * once written, so it can be read without holding a lock past the read.
 * Returns a Berkeley DB code.
 */
static int
mh_derive_raw(struct mh_drain *d, DB_TXN *txn, uint64_t receipt)
{
	struct mh_store *st = d->st;
	unsigned char kbuf[8];
	struct mh_raw raw;
	size_t mlen;
	char *meta = NULL;
	const char *nl;
	DBT key, data;
	int ret;

	if (d->derived && d->derived_receipt == receipt)
		return 0;
	mh_drain_drop_derived(d);
	mh_key(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = st->raw->get(st->raw, txn, &key, &data, 0);
	if (ret == DB_NOTFOUND) {
		snprintf(d->why, sizeof(d->why), "raw body missing");
		d->underivable = 1;
		ret = 0;
		goto done;
	}
	if (ret != 0)
		return ret;
	if ((nl = memchr(data.data, '\n', data.size)) == NULL) {
		snprintf(d->why, sizeof(d->why), "raw entry corrupt");
		d->underivable = 1;
		goto done;
	}
	mlen = (size_t)(nl - (const char *)data.data);
	if ((meta = strndup(data.data, mlen)) == NULL) {
		ret = ENOMEM;
		goto out;
	}
	raw.receipt = receipt;
	raw.meta = meta;
	raw.body = nl + 1;
	raw.body_len = data.size - mlen - 1;
	if (d->derive(d->dctx, &raw, &d->events, &d->nevents, d->why,
	    sizeof(d->why)) != 0) {
		mh_events_free(d->events, d->nevents);
		d->events = NULL;
		d->nevents = 0;
		d->underivable = 1;
	}
done:
	d->derived = 1;
	d->derived_receipt = receipt;
out:
	free(meta);
	free(data.data);
	return ret;
}

/* Stores those of d's derived events not seen yet, inside txn, appending
 * the new ones to d->fresh. */
static int
mh_store_derived(struct mh_drain *d, DB_TXN *txn)
{
	struct mh_store *st = d->st;
	uint64_t seq, first;
	int ret;

	if ((ret = mh_counter(st->meta, txn, MH_LAST_SEQ, 0, DB_RMW, &seq)) != 0)
		return ret;
	first = seq;
	if ((d->fresh = calloc(d->nevents ? d->nevents : 1,
	    sizeof(*d->fresh))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < d->nevents; i++) {
		char *json;

		if ((ret = mh_events_put(st, txn, &d->events[i], &seq, &json)) != 0)
			return ret;
		if (json != NULL) {
			d->fresh[d->nfresh].seq = seq;
			d->fresh[d->nfresh++].json = json;
		}
	}
	if (seq != first)
		ret = mh_counter(st->meta, txn, MH_LAST_SEQ, (int64_t)(seq - first),
		    DB_RMW, NULL);
	return ret;
}

/*
 * Derives the events of the raw body of receipt and stores those not seen
 * yet, inside txn. Returns a Berkeley
 * DB code, or MH_UNDERIVABLE with the reason in d->why.
 */
static int
mh_store_raw(struct mh_drain *d, DB_TXN *txn, uint64_t receipt)
{
	int ret;

	if ((ret = mh_derive_raw(d, txn, receipt)) != 0)
		return ret;
	if (d->underivable)
		return MH_UNDERIVABLE;
	return mh_store_derived(d, txn);
}

/* Tells the stored callback about the events the last commit stored. */
static void
mh_drain_announce(struct mh_drain *d, mh_stored_fn stored, void *sctx,
    size_t *nstored)
{
	for (size_t i = 0; i < d->nfresh; i++)
		if (stored != NULL)
			stored(sctx, d->fresh[i].seq, d->fresh[i].json,
			    strlen(d->fresh[i].json));
	*nstored += d->nfresh;
	mh_drain_forget(d);
}

int
mh_derive_receipt(struct mh_store *st, uint64_t receipt, mh_derive_fn derive,
    void *dctx, mh_stored_fn stored, void *sctx, size_t *nstored)
{
	struct mh_drain d = { .st = st, .derive = derive, .dctx = dctx };
	int ret;

	*nstored = 0;
	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			break;
		ret = mh_store_raw(&d, txn, receipt);
		if (ret == 0)
			ret = txn->commit(txn, DB_TXN_WRITE_NOSYNC);
		else
			txn->abort(txn);
		if (ret == 0)
			mh_drain_announce(&d, stored, sctx, nstored);
		mh_drain_forget(&d);
		if (ret == MH_UNDERIVABLE) {
			fprintf(stderr, "mailhooks: receipt %llu: %s\n",
			    (unsigned long long)receipt, d.why);
			ret = 0;
		}
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	mh_drain_drop_derived(&d);
	return ret;
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
mh_drain_next(struct mh_drain *d, DBC *cur, DBT *key, DBT *data,
    struct mh_claim *claim)
{
	struct mh_alive_seen seen = { .n = 0 };
	size_t skipped = 0;
	int ret;

	for (; d->own_next < d->nown; d->own_next++) {
		mh_be64_put(key->data, d->own[d->own_next]);
		key->size = 8;
		ret = cur->get(cur, key, data, DB_SET | DB_RMW);
		if (ret == DB_NOTFOUND)
			continue;
		if (ret == 0) {
			*claim = mh_claim_get(data);
			/* Its first attempt was counted when it was put. */
			if (claim->pid == d->st->pid &&
			    claim->attempts == 1) {
				d->counted_receipt = d->own[d->own_next];
				d->counted_attempts = 1;
			}
		}
		return ret;
	}
	if (!d->walk)
		return DB_NOTFOUND;
	for (ret = cur->get(cur, key, data, DB_FIRST | DB_RMW); ret == 0;
	    ret = cur->get(cur, key, data, DB_NEXT | DB_RMW)) {
		*claim = mh_claim_get(data);
		if (key->size != 8 ||
		    !mh_claimed_by_other(claim, d->st->pid, &seen))
			return 0;
		if (++skipped == MH_CLAIMED_SKIP_MAX)
			return DB_NOTFOUND;
	}
	return ret;
}

/*
 * Takes the next inbox entry for this process (mh_drain_next) through to
 * the end: claims it, counting the attempt before trying (so an entry that
 * kills its process cannot loop), then derives and stores it. *empty is
 * set when the inbox had nothing for this process.
 */
static int
mh_drain_one(struct mh_drain *d, int *empty)
{
	struct mh_store *st = d->st;
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	DB_TXN *txn = NULL;
	DBC *cur = NULL;
	DBT key, data;
	struct mh_claim claim;
	uint64_t receipt;
	int ret;

	*empty = 0;
	if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
		return ret;
	if ((ret = st->inbox->cursor(st->inbox, txn, &cur, 0)) != 0)
		goto err;
	mh_inbox_dbts(&key, kbuf, &data, vbuf);
	ret = mh_drain_next(d, cur, &key, &data, &claim);
	if (ret == DB_NOTFOUND) {
		cur->close(cur);
		*empty = 1;
		return txn->commit(txn, 0);
	}
	if (ret == 0 && key.size != 8)
		ret = cur->del(cur, 0);
	cur->close(cur);
	cur = NULL;
	if (ret != 0)
		goto err;
	if (key.size != 8)
		goto commit;
	receipt = mh_be64_get(kbuf);
	if (claim.attempts >= MH_INBOX_MAX_ATTEMPTS) {
		char why[96];

		snprintf(why, sizeof(why), "gave up after %u attempts",
		    (unsigned)claim.attempts);
		ret = mh_set_aside(st, txn, receipt, claim.attempts, why);
		goto commit;
	}
	if (receipt != d->counted_receipt ||
	    claim.attempts != d->counted_attempts) {
		claim.attempts++;
		claim.pid = st->pid;
		claim.at = (uint32_t)time(NULL);
		if ((ret = mh_inbox_write(st, txn, receipt, &claim)) != 0)
			goto err;
		/* Written to the system, not flushed: what the count guards
		 * against is this process dying in what follows. */
		ret = txn->commit(txn, DB_TXN_WRITE_NOSYNC);
		txn = NULL;
		if (ret != 0)
			return ret;
		d->counted_receipt = receipt;
		d->counted_attempts = claim.attempts;
	} else {
		txn->abort(txn);	/* it only read: let the entry go */
		txn = NULL;
	}
	/*
	 * Derive with no lock held: a batch of a thousand events takes tens
	 * of milliseconds to derive and store, and a lock on the inbox entry's
	 * page held all that time would hold up the acknowledgements that
	 * add to that page. The entry is taken out last, just before the
	 * commit; should another process have finished it meanwhile, this
	 * transaction is dropped.
	 */
	if ((ret = mh_derive_raw(d, NULL, receipt)) != 0)
		return ret;
	if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
		return ret;
	mh_key(&key, kbuf, receipt);
	if (d->underivable) {
		ret = st->inbox->get(st->inbox, txn, &key, &data, DB_RMW);
		if (ret == DB_NOTFOUND)
			return txn->commit(txn, 0);
		if (ret == 0)
			ret = mh_set_aside(st, txn, receipt, claim.attempts,
			    d->why);
		goto commit;
	}
	if ((ret = mh_store_derived(d, txn)) != 0)
		goto err;
	ret = st->inbox->del(st->inbox, txn, &key, 0);
	if (ret == DB_NOTFOUND) {
		txn->abort(txn);
		mh_drain_forget(d);
		return 0;
	}
	if (ret != 0)
		goto err;
	return txn->commit(txn, DB_TXN_WRITE_NOSYNC);
commit:
	if (ret != 0)
		goto err;
	return txn->commit(txn, 0);
err:
	if (cur != NULL)
		cur->close(cur);
	if (txn != NULL)
		txn->abort(txn);
	return ret;
}

enum mh_store_err
mh_store_drain(struct mh_store *st, const uint64_t *own, size_t nown,
    int walk, mh_derive_fn derive, void *dctx, mh_stored_fn stored,
    void *sctx, size_t *nstored)
{
	struct mh_drain d = {
		.st = st, .own = own, .nown = nown, .walk = walk,
		.derive = derive, .dctx = dctx,
	};
	int ret = 0, empty = 0, tries = 0;

	*nstored = 0;
	while (!empty) {
		ret = mh_drain_one(&d, &empty);
		if (ret != 0 && mh_store_retry(st, &ret, &tries)) {
			mh_drain_forget(&d);
			continue;
		}
		if (ret != 0)
			break;
		tries = 0;
		mh_drain_announce(&d, stored, sctx, nstored);
	}
	mh_drain_forget(&d);
	mh_drain_drop_derived(&d);
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_checkpoint(struct mh_store *st, int any)
{
	return mh_store_error(st->env->txn_checkpoint(st->env,
	    any ? 0 : MH_CHECKPOINT_KBYTES, 0, 0));
}

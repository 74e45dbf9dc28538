/*
 * The inbox: the durable queue between acknowledging a request and deriving
 * its events (drain.c). A request is acknowledged once its raw record
 * (entry.c) and its inbox entry are committed and flushed. An entry's
 * value is its claim: how many attempts were made at it, and which
 * process made the last one and when, so that live processes leave each
 * other's entries alone and a dead one's are taken over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"

/* Entries written before the claim was kept hold the attempts alone;
 * before batches were stored in runs, no count of events done. */
struct mh_claim
mh_claim_get(const DBT *data)
{
	const unsigned char *v = data->data;
	struct mh_claim c = { MH_INBOX_MAX_ATTEMPTS, 0, 0, 0 };

	if (data->size == 4 || data->size == 12 || data->size == MH_CLAIM_SIZE)
		c.attempts = mh_be32_get(v);
	if (data->size == 12 || data->size == MH_CLAIM_SIZE) {
		c.pid = mh_be32_get(v + 4);
		c.at = mh_be32_get(v + 8);
	}
	if (data->size == MH_CLAIM_SIZE)
		c.done = mh_be32_get(v + 12);
	return c;
}

int
mh_claim_put(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    const struct mh_claim *c)
{
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	DBT key, data;

	mh_be32_put(vbuf, c->attempts);
	mh_be32_put(vbuf + 4, c->pid);
	mh_be32_put(vbuf + 8, c->at);
	mh_be32_put(vbuf + 12, c->done);
	mh_key64(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.data = vbuf;
	data.size = sizeof(vbuf);
	return st->db[MH_DB_INBOX]->put(st->db[MH_DB_INBOX], txn, &key, &data,
	    0);
}

void
mh_claim_dbts(DBT *key, unsigned char kbuf[8], DBT *data,
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

int
mh_claimed_by_other(const struct mh_store *st, const struct mh_claim *c,
    struct mh_alive_seen *seen)
{
	uint32_t now = (uint32_t)time(NULL);
	int alive;

	if (c->pid == 0 || c->pid == st->pid ||
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

/* Releases this process's claims, or (ctx non-NULL) everyone's. */
static int
mh_release_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	unsigned char kbuf[8], vbuf[MH_CLAIM_SIZE];
	DB *inbox = st->db[MH_DB_INBOX];
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	if ((ret = inbox->cursor(inbox, txn, &cur, 0)) != 0)
		return ret;
	mh_claim_dbts(&key, kbuf, &data, vbuf);
	while ((ret = cur->get(cur, &key, &data, DB_NEXT | DB_RMW)) == 0) {
		struct mh_claim c = mh_claim_get(&data);

		if (c.pid == 0 || (ctx == NULL && c.pid != st->pid))
			continue;
		mh_be32_put(vbuf + 4, 0);
		if ((ret = cur->put(cur, &key, &data, DB_CURRENT)) != 0)
			break;
	}
	cur->close(cur);
	return ret == DB_NOTFOUND ? 0 : ret;
}

void
mh_inbox_release_claims(struct mh_store *st)
{
	if (st->env != NULL && st->db[MH_DB_INBOX] != NULL)
		mh_txn_once(st, 0, DB_TXN_WRITE_NOSYNC, mh_release_txn, NULL);
}

void
mh_inbox_release_all_claims(struct mh_store *st)
{
	if (st->env != NULL && st->db[MH_DB_INBOX] != NULL)
		mh_txn_once(st, 0, DB_TXN_WRITE_NOSYNC, mh_release_txn, st);
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
mh_receipt_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return st->receipts->get(st->receipts, txn, 1, ctx, 0);
}

struct mh_ack {
	void *rec;
	size_t len;
	uint64_t body_len;
	db_seq_t id;
};

/* Stores the raw record and the inbox entry of the receipt, claimed by
 * this process, whose drain takes it next. */
static int
mh_ack_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_ack *a = ctx;
	DB *raw = st->db[MH_DB_RAW];
	unsigned char kbuf[8];
	DBT key, data;
	int ret;

	mh_key64(&key, kbuf, (uint64_t)a->id);
	memset(&data, 0, sizeof(data));
	data.data = a->rec;
	data.size = (u_int32_t)a->len;
	if ((ret = raw->put(raw, txn, &key, &data, 0)) != 0 ||
	    (ret = mh_counter(raw, txn, MH_RAW_TOTAL, (int64_t)a->body_len,
	    DB_RMW, NULL)) != 0)
		return ret;
	return mh_claim_put(st, txn, (uint64_t)a->id, &(struct mh_claim){
	    .attempts = 1, .pid = st->pid, .at = (uint32_t)time(NULL) });
}

enum mh_store_err
mh_store_inbox_put(struct mh_store *st, const struct mh_entry_meta *meta,
    const void *body, size_t len, uint64_t *receipt)
{
	struct mh_ack a = { .body_len = len };
	int ret;

	if ((ret = mh_entry_encode(meta, body, len, &a.rec, &a.len)) != 0)
		return ret == ENOMEM ? MH_STORE_NOMEM : MH_STORE_FAILED;
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
	if ((ret = mh_txn_run(st, 0, DB_TXN_NOSYNC, mh_receipt_txn,
	    &a.id)) == 0)
		ret = mh_txn_run(st, 0, st->ack_fsync ? DB_TXN_NOSYNC :
		    DB_TXN_WRITE_NOSYNC, mh_ack_txn, &a);
	/* A failed flush fails the request: the provider sends it again,
	 * and the events of both copies are stored once (by identity). */
	if (ret == 0 && st->ack_fsync)
		ret = st->env->log_flush(st->env, NULL);
	free(a.rec);
	if (ret == 0)
		*receipt = (uint64_t)a.id;
	return mh_store_error(ret);
}

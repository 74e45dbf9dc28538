/*
 * The inbox: the durable queue between acknowledging a request and deriving
 * its events. A request is acknowledged once its raw body is committed here
 * (synchronously); the drain then turns each entry into events in one
 * transaction, which may commit without its own fsync because the raw body
 * it came from is already durable.
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

static int
mh_inbox_write(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    uint32_t attempts)
{
	unsigned char kbuf[8], abuf[4] = {
		(unsigned char)(attempts >> 24), (unsigned char)(attempts >> 16),
		(unsigned char)(attempts >> 8), (unsigned char)attempts };
	DBT key, data;

	mh_key(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.data = abuf;
	data.size = 4;
	return st->inbox->put(st->inbox, txn, &key, &data, 0);
}

static uint32_t
mh_attempts_get(const DBT *data)
{
	const unsigned char *a = data->data;

	if (data->size != 4)
		return MH_INBOX_MAX_ATTEMPTS;
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
}

/* Takes the next receipt id and stores the raw record (of which body_len
 * bytes are the body) and its inbox entry, inside txn. */
static int
mh_inbox_add(struct mh_store *st, DB_TXN *txn, void *rec, size_t len,
    size_t body_len, db_seq_t *id)
{
	unsigned char kbuf[8];
	DBT key, data;
	int ret;

	if ((ret = st->receipts->get(st->receipts, txn, 1, id, 0)) != 0)
		return ret;
	mh_key(&key, kbuf, (uint64_t)*id);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.size = (u_int32_t)len;
	if ((ret = st->raw->put(st->raw, txn, &key, &data, 0)) != 0 ||
	    (ret = mh_counter(st->raw, txn, MH_RAW_TOTAL, (int64_t)body_len,
	    DB_RMW, NULL)) != 0)
		return ret;
	return mh_inbox_write(st, txn, (uint64_t)*id, 1);
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
	for (int tries = 0;;) {
		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			break;
		/* The acknowledgement: a synchronous commit, unless relaxed. */
		if ((ret = mh_inbox_add(st, txn, rec, mlen + 1 + len, len,
		    &id)) == 0)
			ret = txn->commit(txn, st->ack_commit);
		else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
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
	mh_derive_fn derive;
	void *dctx;
	struct mh_new *fresh;
	size_t nfresh;
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

/* mh_store_raw's answer for a body that cannot be turned into events. */
#define MH_UNDERIVABLE (-1)

/*
 * Derives the events of the raw body of receipt and stores those not seen
 * yet, inside txn, appending the new ones to d->fresh. Returns a Berkeley
 * DB code, or MH_UNDERIVABLE with the reason in why.
 */
static int
mh_store_raw(struct mh_drain *d, DB_TXN *txn, uint64_t receipt, char *why,
    size_t whylen)
{
	struct mh_store *st = d->st;
	struct mh_event *events = NULL;
	unsigned char kbuf[8];
	struct mh_raw raw;
	size_t count = 0, mlen;
	char *meta = NULL;
	const char *nl;
	uint64_t seq, first;
	DBT key, data;
	int ret;

	mh_key(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	ret = st->raw->get(st->raw, txn, &key, &data, 0);
	if (ret == DB_NOTFOUND) {
		snprintf(why, whylen, "raw body missing");
		return MH_UNDERIVABLE;
	}
	if (ret != 0)
		return ret;
	if ((nl = memchr(data.data, '\n', data.size)) == NULL) {
		snprintf(why, whylen, "raw entry corrupt");
		ret = MH_UNDERIVABLE;
		goto out;
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
	if (d->derive(d->dctx, &raw, &events, &count, why, whylen) != 0) {
		ret = MH_UNDERIVABLE;
		goto out;
	}
	if ((ret = mh_counter(st->meta, txn, MH_LAST_SEQ, 0, DB_RMW, &seq)) != 0)
		goto out;
	first = seq;
	if ((d->fresh = calloc(count ? count : 1, sizeof(*d->fresh))) == NULL) {
		ret = ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		char *json;

		if ((ret = mh_events_put(st, txn, &events[i], &seq, &json)) != 0)
			goto out;
		if (json != NULL) {
			d->fresh[d->nfresh].seq = seq;
			d->fresh[d->nfresh++].json = json;
		}
	}
	if (seq != first)
		ret = mh_counter(st->meta, txn, MH_LAST_SEQ, (int64_t)(seq - first),
		    DB_RMW, NULL);
out:
	mh_events_free(events, count);
	free(meta);
	free(data.data);
	return ret;
}

/* Stores the events of one inbox entry and takes it out of the inbox,
 * inside txn; an entry that cannot be derived is set aside. */
static int
mh_drain_entry(struct mh_drain *d, DB_TXN *txn, uint64_t receipt,
    uint32_t attempts)
{
	unsigned char kbuf[8];
	char why[256];
	DBT key;
	int ret = mh_store_raw(d, txn, receipt, why, sizeof(why));

	if (ret == MH_UNDERIVABLE)
		return mh_set_aside(d->st, txn, receipt, attempts, why);
	if (ret != 0)
		return ret;
	mh_key(&key, kbuf, receipt);
	return d->st->inbox->del(d->st->inbox, txn, &key, 0);
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
	char why[256];
	int ret;

	*nstored = 0;
	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			break;
		ret = mh_store_raw(&d, txn, receipt, why, sizeof(why));
		if (ret == 0)
			ret = txn->commit(txn, DB_TXN_NOSYNC);
		else
			txn->abort(txn);
		if (ret == 0)
			mh_drain_announce(&d, stored, sctx, nstored);
		mh_drain_forget(&d);
		if (ret == MH_UNDERIVABLE) {
			fprintf(stderr, "mailhooks: receipt %llu: %s\n",
			    (unsigned long long)receipt, why);
			ret = 0;
		}
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	return ret;
}

/*
 * Takes the first inbox entry through to the end: counts the attempt
 * durably before trying (so an entry that kills its process cannot loop),
 * then derives and stores it. *empty is set when the inbox had nothing.
 */
static int
mh_drain_one(struct mh_drain *d, int *empty)
{
	struct mh_store *st = d->st;
	unsigned char kbuf[8], abuf[4];
	DB_TXN *txn = NULL;
	DBC *cur = NULL;
	DBT key, data;
	uint64_t receipt;
	uint32_t attempts;
	int ret;

	*empty = 0;
	if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
		return ret;
	if ((ret = st->inbox->cursor(st->inbox, txn, &cur, 0)) != 0)
		goto err;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = kbuf;
	key.ulen = sizeof(kbuf);
	key.flags = DB_DBT_USERMEM;
	data.data = abuf;
	data.ulen = sizeof(abuf);
	data.flags = DB_DBT_USERMEM;
	ret = cur->get(cur, &key, &data, DB_FIRST | DB_RMW);
	cur->close(cur);
	cur = NULL;
	if (ret == DB_NOTFOUND) {
		*empty = 1;
		return txn->commit(txn, 0);
	}
	if (ret != 0)
		goto err;
	if (key.size != 8) {
		ret = st->inbox->del(st->inbox, txn, &key, 0);
		goto commit;
	}
	receipt = mh_be64_get(kbuf);
	attempts = mh_attempts_get(&data);
	if (attempts >= MH_INBOX_MAX_ATTEMPTS) {
		char why[96];

		snprintf(why, sizeof(why), "gave up after %u attempts",
		    (unsigned)attempts);
		ret = mh_set_aside(st, txn, receipt, attempts, why);
		goto commit;
	}
	if (receipt != d->counted_receipt || attempts != d->counted_attempts) {
		attempts++;
		if ((ret = mh_inbox_write(st, txn, receipt, attempts)) != 0)
			goto err;
		ret = txn->commit(txn, 0);
		txn = NULL;
		if (ret != 0)
			return ret;
		d->counted_receipt = receipt;
		d->counted_attempts = attempts;
		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			return ret;
		mh_key(&key, kbuf, receipt);
		data.data = abuf;
		data.ulen = sizeof(abuf);
		data.flags = DB_DBT_USERMEM;
		ret = st->inbox->get(st->inbox, txn, &key, &data, DB_RMW);
		if (ret == DB_NOTFOUND)	/* another process finished it */
			return txn->commit(txn, 0);
		if (ret != 0)
			goto err;
	}
	if ((ret = mh_drain_entry(d, txn, receipt, attempts)) != 0)
		goto err;
	return txn->commit(txn, DB_TXN_NOSYNC);
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
mh_store_drain(struct mh_store *st, uint64_t own, mh_derive_fn derive,
    void *dctx, mh_stored_fn stored, void *sctx, size_t *nstored)
{
	struct mh_drain d = {
		.st = st, .counted_receipt = own, .counted_attempts = 1,
		.derive = derive, .dctx = dctx,
	};
	int ret = 0, empty = 0, tries = 0, worked = 0;

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
		worked |= !empty;
		mh_drain_announce(&d, stored, sctx, nstored);
	}
	mh_drain_forget(&d);
	if (worked && ret == 0)
		st->env->txn_checkpoint(st->env, MH_CHECKPOINT_KBYTES, 0, 0);
	return mh_store_error(ret);
}

/*
 * Outgoing mail (mail.db), an indexed table (indexed.c's record: status,
 * the recipients, the tags, then the JSON text led by its id), added with
 * its place in the outbox (lease.c; changed with it by queued.c), and
 * found by the provider's message ids joined to it (mail-by-remote-id.db).
 * Ids come from the counter "mail" in meta.db. The application makes the
 * records and their changes; the storage never reads their JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"

struct mh_mail_add {
	const struct mh_record *rec;
	int64_t due_ms;
};

static int
mh_mail_add_work(struct mh_store *st, DB_TXN *txn, void *ctx, uint64_t id)
{
	struct mh_mail_add *a = ctx;
	int ret;

	if ((ret = mh_indexed_put(st, txn, MH_TABLE_MAIL, a->rec, NULL, id,
	    NULL)) != 0)
		return ret;
	return a->due_ms < 0 ? 0 : mh_lease_put(st, MH_SENDQ_MAIL, txn,
	    id, &(struct mh_lease){ a->due_ms, 0, 0 });
}

enum mh_store_err
mh_store_mail_add(struct mh_store *st, const struct mh_record *rec,
    int64_t due_ms, const struct mh_idem *idem, mh_answer_fn answer,
    void *ctx, char **text, enum mh_idem_result *res)
{
	struct mh_mail_add a = { rec, due_ms };

	return mh_idem_add(st, mh_tables[MH_TABLE_MAIL].counter, 1,
	    mh_mail_add_work, &a, idem, answer,
	    ctx, text, res);
}

enum mh_store_err
mh_store_mail_of(struct mh_store *st, const char *remote, uint64_t *id)
{
	unsigned char v[8];
	size_t len;
	enum mh_store_err err = mh_keyed_get(st, MH_DB_MAIL_BY_REMOTE, remote,
	    strlen(remote), v, sizeof(v), &len);

	if (err == MH_STORE_OK && len != sizeof(v))
		err = MH_STORE_NOTFOUND;
	if (err == MH_STORE_OK)
		*id = mh_be64_get(v);
	return err;
}

/* The sender's note in meta.db: seen (8), pid (4), key state (4), the
 * refused key's hash (8), since (8). */
#define MH_SENDER_NOTE "sender"
#define MH_SENDER_NOTE_SIZE 32

enum mh_store_err
mh_store_sender_note_put(struct mh_store *st, const struct mh_sender_note *n)
{
	unsigned char v[MH_SENDER_NOTE_SIZE];

	mh_be64_put(v, (uint64_t)n->seen_ms);
	mh_be32_put(v + 8, n->pid);
	mh_be32_put(v + 12, n->key_state);
	memcpy(v + 16, n->key_hash, 8);
	mh_be64_put(v + 24, (uint64_t)n->since_ms);
	return mh_keyed_put(st, MH_DB_META, MH_SENDER_NOTE,
	    strlen(MH_SENDER_NOTE), v, sizeof(v), 0);
}

enum mh_store_err
mh_store_sender_note_get(struct mh_store *st, struct mh_sender_note *n)
{
	unsigned char v[MH_SENDER_NOTE_SIZE];
	size_t len;
	enum mh_store_err err = mh_keyed_get(st, MH_DB_META, MH_SENDER_NOTE,
	    strlen(MH_SENDER_NOTE), v, sizeof(v), &len);

	memset(n, 0, sizeof(*n));
	if (err != MH_STORE_OK)
		return err;
	if (len != sizeof(v))
		return MH_STORE_NOTFOUND;
	n->seen_ms = (int64_t)mh_be64_get(v);
	n->pid = mh_be32_get(v + 8);
	n->key_state = mh_be32_get(v + 12);
	memcpy(n->key_hash, v + 16, 8);
	n->since_ms = (int64_t)mh_be64_get(v + 24);
	return MH_STORE_OK;
}

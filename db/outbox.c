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
#include <stddef.h>
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

/* The sender's note in meta.db: seen, pid, key state, the refused key's
 * hash, since. */
#define MH_SENDER_NOTE "sender"
static const struct mh_slot mh_note_slots[] = {
	{ MH_SLOT_I64, offsetof(struct mh_sender_note, seen_ms), 0 },
	{ MH_SLOT_U32, offsetof(struct mh_sender_note, pid), 0 },
	{ MH_SLOT_U32, offsetof(struct mh_sender_note, key_state), 0 },
	{ MH_SLOT_BYTES, offsetof(struct mh_sender_note, key_hash),
	    sizeof(((struct mh_sender_note *)0)->key_hash) },
	{ MH_SLOT_I64, offsetof(struct mh_sender_note, since_ms), 0 },
};
static const struct mh_layout mh_note_layout = { mh_note_slots,
    sizeof(mh_note_slots) / sizeof(mh_note_slots[0]), 0 };

enum mh_store_err
mh_store_sender_note_put(struct mh_store *st, const struct mh_sender_note *n)
{
	unsigned char v[sizeof(struct mh_sender_note)];
	size_t len = mh_layout_encode(&mh_note_layout, n, v);

	return mh_keyed_put(st, MH_DB_META, MH_SENDER_NOTE,
	    strlen(MH_SENDER_NOTE), v, len, 0);
}

enum mh_store_err
mh_store_sender_note_get(struct mh_store *st, struct mh_sender_note *n)
{
	unsigned char v[sizeof(struct mh_sender_note)];
	size_t len;
	enum mh_store_err err = mh_keyed_get(st, MH_DB_META, MH_SENDER_NOTE,
	    strlen(MH_SENDER_NOTE), v, sizeof(v), &len);

	memset(n, 0, sizeof(*n));
	if (err != MH_STORE_OK)
		return err;
	return mh_layout_decode(&mh_note_layout, v, len, n) == 0 ?
	    MH_STORE_OK : MH_STORE_NOTFOUND;
}

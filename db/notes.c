/*
 * The application's notes (notes.db): a short text by kind and value,
 * kind byte then value (a recipient's lower-cased), read and written in
 * the transaction of the fold that asks. What they say is the
 * application's; this file keeps the records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* The longest value a note is kept by (a recipient's address: 254). */
#define MH_NOTE_VALUE_MAX 320

/* key (in buf) and data (empty) of a note: 0, or -1 when value is too
 * long for any note to be kept by it. */
static int
mh_note_dbts(DBT *key, unsigned char *buf, DBT *data, enum mh_note_kind kind,
    const char *value)
{
	size_t len = strlen(value);

	memset(key, 0, sizeof(*key));
	memset(data, 0, sizeof(*data));
	if (len > MH_NOTE_VALUE_MAX)
		return -1;
	buf[0] = (unsigned char)kind;
	if (kind == MH_NOTE_RECIPIENT)
		mh_lower_copy((char *)buf + 1, value, len);
	else
		memcpy(buf + 1, value, len);
	key->data = buf;
	key->size = (u_int32_t)len + 1;
	return 0;
}

static int
mh_notes_get(struct mh_notes *ops, enum mh_note_kind kind, const char *value,
    char **text)
{
	struct mh_notes_txn *n = (struct mh_notes_txn *)ops;
	DB *db = n->st->db[MH_DB_NOTES];
	unsigned char kbuf[MH_NOTE_VALUE_MAX + 2];
	DBT key, data;
	int ret;

	*text = NULL;
	if (mh_note_dbts(&key, kbuf, &data, kind, value) != 0)
		return 0;	/* none can be kept by it */
	data.flags = DB_DBT_MALLOC;
	ret = db->get(db, n->txn, &key, &data, DB_RMW);
	if (ret == 0 && (data.size == 0 ||
	    ((char *)data.data)[data.size - 1] != '\0')) {
		free(data.data);	/* not one of ours: as good as none */
		return 0;
	}
	if (ret == 0)
		*text = data.data;
	else if (ret != DB_NOTFOUND)
		n->ret = ret;
	return ret == 0 || ret == DB_NOTFOUND ? 0 : -1;
}

static int
mh_notes_put(struct mh_notes *ops, enum mh_note_kind kind, const char *value,
    const char *text)
{
	struct mh_notes_txn *n = (struct mh_notes_txn *)ops;
	DB *db = n->st->db[MH_DB_NOTES];
	unsigned char kbuf[MH_NOTE_VALUE_MAX + 2];
	DBT key, data;
	int ret;

	if (mh_note_dbts(&key, kbuf, &data, kind, value) != 0)
		return 0;
	if (text == NULL) {
		ret = db->del(db, n->txn, &key, 0);
		ret = ret == DB_NOTFOUND ? 0 : ret;
	} else {
		data.data = (void *)text;
		data.size = (u_int32_t)strlen(text) + 1;
		ret = db->put(db, n->txn, &key, &data, 0);
	}
	if (ret != 0)
		n->ret = ret;
	return ret == 0 ? 0 : -1;
}

void
mh_notes_open(struct mh_notes_txn *n, struct mh_store *st, DB_TXN *txn)
{
	n->ops.get = mh_notes_get;
	n->ops.put = mh_notes_put;
	n->st = st;
	n->txn = txn;
	n->ret = 0;
}

int
mh_note_erase(struct mh_store *st, DB_TXN *txn, enum mh_note_kind kind,
    const char *value)
{
	struct mh_notes_txn n;

	mh_notes_open(&n, st, txn);
	return mh_notes_put(&n.ops, kind, value, NULL) == 0 ? 0 : n.ret;
}

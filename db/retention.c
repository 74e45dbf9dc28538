/*
 * Retention of the raw bodies the inbox keeps after processing: bounded by
 * age and by total size. raw.db holds, beside the bodies, their running
 * total under the key "total"; it sorts after every receipt, so it lives on
 * the page new bodies are appended to and costs no extra lock.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store-private.h"

/* Bodies looked at per transaction while pruning. */
#define MH_PRUNE_BATCH 256

int
mh_raw_total_exists(struct mh_store *st, DB_TXN *txn)
{
	DBT key;

	memset(&key, 0, sizeof(key));
	key.data = MH_RAW_TOTAL;
	key.size = sizeof(MH_RAW_TOTAL) - 1;
	return st->raw->exists(st->raw, txn, &key, 0);
}

/* The receive time and size an entry's metadata records (0 when it does
 * not say). */
static void
mh_raw_meta(const DBT *head, int64_t *received, uint64_t *bytes)
{
	const char *nl = memchr(head->data, '\n', head->size);
	struct json_object *meta, *v;
	char *text;

	*received = 0;
	*bytes = 0;
	if (nl == NULL || (text = strndup(head->data,
	    (size_t)(nl - (const char *)head->data))) == NULL)
		return;
	if ((meta = json_tokener_parse(text)) != NULL) {
		if (json_object_object_get_ex(meta, "received_ts", &v))
			*received = json_object_get_int64(v);
		if (json_object_object_get_ex(meta, "bytes", &v))
			*bytes = (uint64_t)json_object_get_int64(v);
		json_object_put(meta);
	}
	free(text);
}

/* One transaction's worth of pruning; *done when nothing more is due. */
static int
mh_prune_batch(struct mh_store *st, int64_t now, int64_t max_age,
    uint64_t max_bytes, size_t *pruned, int *done)
{
	DB_TXN *txn;
	DBC *cur = NULL;
	DBT key, head, pkey;
	char buf[512];
	uint64_t total, start;
	int ret, n = 0;

	*done = 1;
	if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
		return ret;
	if ((ret = mh_counter(st->raw, txn, MH_RAW_TOTAL, 0, DB_RMW,
	    &total)) != 0 ||
	    (ret = st->raw->cursor(st->raw, txn, &cur, 0)) != 0)
		goto out;
	start = total;
	memset(&key, 0, sizeof(key));
	memset(&head, 0, sizeof(head));
	key.flags = DB_DBT_REALLOC;
	/* The metadata line only, however large the body. */
	head.data = buf;
	head.ulen = sizeof(buf);
	head.dlen = sizeof(buf);
	head.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
	while ((ret = cur->get(cur, &key, &head, DB_NEXT | DB_RMW)) == 0) {
		int64_t received;
		uint64_t bytes;

		if (key.size != 8)
			continue;
		if (++n > MH_PRUNE_BATCH) {
			*done = 0;
			break;
		}
		memset(&pkey, 0, sizeof(pkey));
		pkey.data = key.data;
		pkey.size = 8;
		/* Still waiting to be processed: kept, whatever its age. */
		if ((ret = st->inbox->exists(st->inbox, txn, &pkey, 0)) == 0)
			continue;
		if (ret != DB_NOTFOUND)
			break;
		mh_raw_meta(&head, &received, &bytes);
		if (!(received > 0 && now - received > max_age) &&
		    total <= max_bytes)
			break;		/* the rest are newer, and fit */
		if ((ret = cur->del(cur, 0)) != 0)
			break;
		total = bytes > total ? 0 : total - bytes;
		(*pruned)++;
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	free(key.data);
	if (ret == 0 && total != start)
		ret = mh_counter(st->raw, txn, MH_RAW_TOTAL, (int64_t)total -
		    (int64_t)start, DB_RMW, NULL);
out:
	if (cur != NULL)
		cur->close(cur);
	if (ret == 0)
		ret = txn->commit(txn, DB_TXN_NOSYNC);
	else
		txn->abort(txn);
	return ret;
}

enum mh_store_err
mh_store_prune(struct mh_store *st, int64_t now, int64_t max_age,
    uint64_t max_bytes, size_t *pruned)
{
	int ret = 0, done = 0;

	*pruned = 0;
	for (int tries = 0; !done;) {
		ret = mh_prune_batch(st, now, max_age, max_bytes, pruned, &done);
		if (ret != 0 && !mh_store_retry(st, &ret, &tries))
			break;
		if (ret != 0)
			done = 0;
	}
	return mh_store_error(ret);
}

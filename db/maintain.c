/*
 * Maintenance of the environment, for the admin tool: sizes, the set-aside
 * entries, re-deriving events from the raw bodies, hot backup, verify.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store-private.h"

static int
mh_table_count(struct mh_store *st, DB *db, uint64_t *n)
{
	DB_BTREE_STAT *bs;
	int ret;

	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
			return ret;
		if ((ret = db->stat(db, txn, &bs, DB_READ_COMMITTED)) == 0) {
			*n = bs->bt_nkeys;
			free(bs);
			ret = txn->commit(txn, 0);
		} else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			return ret;
	}
}

enum mh_store_err
mh_store_sizes(struct mh_store *st, struct mh_store_sizes *z)
{
	struct { DB *db; uint64_t *n; } t[] = {
		{ st->events, &z->events }, { st->messages, &z->messages },
		{ st->callbacks, &z->callbacks }, { st->raw, &z->raw },
		{ st->set_aside, &z->set_aside }, { st->dedupe, &z->dedupe },
	};
	char dir[4096], path[4352];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int ret;

	memset(z, 0, sizeof(*z));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((ret = mh_table_count(st, t[i].db, t[i].n)) != 0)
			return mh_store_error(ret);
	/* raw.db also holds the running total of the bodies' bytes, under a
	 * key of its own that is not a body. */
	for (int tries = 0;;) {
		DB_TXN *txn;

		if ((ret = mh_txn_begin(st, &txn, 0)) != 0)
			return mh_store_error(ret);
		ret = mh_counter(st->raw, txn, MH_RAW_TOTAL, 0, 0, &z->raw_bytes);
		if (ret == 0 && (ret = mh_raw_total_exists(st, txn)) == 0 &&
		    z->raw > 0)
			z->raw--;
		if (ret == DB_NOTFOUND)
			ret = 0;
		if (ret == 0)
			ret = txn->commit(txn, 0);
		else
			txn->abort(txn);
		if (!mh_store_retry(st, &ret, &tries))
			break;
	}
	if (ret != 0)
		return mh_store_error(ret);
	snprintf(dir, sizeof(dir), "%s/db", st->home);
	if ((d = opendir(dir)) == NULL)
		return MH_STORE_FAILED;
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			z->db_bytes += (uint64_t)sb.st_size;
			if (strncmp(de->d_name, "log.", 4) == 0) {
				unsigned long n = strtoul(de->d_name + 4, NULL, 10);

				z->log_files++;
				if (n > z->log_newest)
					z->log_newest = (unsigned)n;
			}
		}
	}
	closedir(d);
	return MH_STORE_OK;
}

enum mh_store_err
mh_store_set_aside_list(struct mh_store *st, mh_emit_fn emit, void *ctx)
{
	DBC *cur = NULL;
	DB_TXN *txn = NULL;
	DBT key, data;
	int ret;

	if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
		return mh_store_error(ret);
	if ((ret = st->set_aside->cursor(st->set_aside, txn, &cur, 0)) != 0)
		goto out;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = data.flags = DB_DBT_REALLOC;
	while ((ret = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
		if (key.size == 8 && data.size > 0 &&
		    emit(ctx, mh_be64_get(key.data), data.data, data.size - 1))
			break;
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	free(key.data);
	free(data.data);
out:
	if (cur != NULL)
		cur->close(cur);
	if (ret == 0)
		ret = txn->commit(txn, 0);
	else
		txn->abort(txn);
	return mh_store_error(ret);
}

/* The receipts of every raw body kept, in order; *ids is the caller's. */
static int
mh_raw_receipts(struct mh_store *st, uint64_t **ids, size_t *n)
{
	DBC *cur = NULL;
	DB_TXN *txn = NULL;
	DBT key, data;
	size_t cap = 0;
	uint64_t *v = NULL, *nv;
	int ret;

	*ids = NULL;
	*n = 0;
	if ((ret = mh_txn_begin(st, &txn, DB_READ_COMMITTED)) != 0)
		return ret;
	if ((ret = st->raw->cursor(st->raw, txn, &cur, 0)) != 0)
		goto out;
	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.flags = DB_DBT_REALLOC;
	/* Keys only: a zero-length partial read of the data. */
	data.flags = DB_DBT_PARTIAL | DB_DBT_USERMEM;
	while ((ret = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
		if (key.size != 8)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				ret = ENOMEM;
				break;
			}
			v = nv;
		}
		v[(*n)++] = mh_be64_get(key.data);
	}
	if (ret == DB_NOTFOUND)
		ret = 0;
	free(key.data);
out:
	if (cur != NULL)
		cur->close(cur);
	if (ret == 0)
		ret = txn->commit(txn, 0);
	else
		txn->abort(txn);
	if (ret != 0) {
		free(v);
		*n = 0;
	} else
		*ids = v;
	return ret;
}

enum mh_store_err
mh_store_reprocess(struct mh_store *st, mh_derive_fn derive, void *dctx,
    mh_stored_fn stored, void *sctx, size_t *nstored)
{
	uint64_t *ids;
	size_t n;
	int ret;

	*nstored = 0;
	if ((ret = mh_raw_receipts(st, &ids, &n)) != 0)
		return mh_store_error(ret);
	for (size_t i = 0; i < n && ret == 0; i++) {
		size_t got = 0;

		ret = mh_derive_receipt(st, ids[i], derive, dctx, stored, sctx,
		    &got);
		*nstored += got;
	}
	free(ids);
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_backup(struct mh_store *st, const char *dir)
{
	DB_ENV *env = NULL;
	int ret;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		return MH_STORE_FAILED;
	/* Databases first, then the logs that make them consistent. */
	if ((ret = st->env->backup(st->env, dir, DB_CREATE | DB_EXCL)) != 0)
		goto out;
	/* Recovery on the copy replays those logs: it opens as it is. */
	if ((ret = db_env_create(&env, 0)) != 0)
		goto out;
	ret = env->open(env, dir, DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_INIT_TXN | DB_RECOVER | DB_PRIVATE, 0640);
	env->close(env, 0);
out:
	if (ret != 0)
		fprintf(stderr, "mailhooks: backup to %s: %s\n", dir,
		    db_strerror(ret));
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_verify(struct mh_store *st)
{
	static const char *const files[] = { "events.db", "events-by-type.db",
	    "events-by-email.db", "events-by-message.db", "callbacks.db",
	    "callbacks-by-status.db", "callbacks-by-email.db",
	    "callbacks-by-external-id.db", "dedupe.db", "messages.db",
	    "meta.db", "inbox.db", "raw.db", "set-aside.db", "refused.db",
	    "receipts.db",
	    NULL };
	char path[4352];
	int ret, bad = 0;

	/* What sits in the cache is written out first. */
	st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
	for (size_t i = 0; files[i] != NULL; i++) {
		DB *db;

		snprintf(path, sizeof(path), "%s/db/%s", st->home, files[i]);
		if ((ret = db_create(&db, NULL, 0)) != 0)
			return mh_store_error(ret);
		/* verify consumes the handle, success or not. */
		if ((ret = db->verify(db, path, NULL, NULL, 0)) != 0) {
			fprintf(stderr, "mailhooks: %s: %s\n", files[i],
			    db_strerror(ret));
			bad = 1;
		}
	}
	return bad ? MH_STORE_FAILED : MH_STORE_OK;
}

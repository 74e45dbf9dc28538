/*
 * How much the environment holds: the health answer's few numbers, and the
 * admin tool's counts of every table and use of the disk.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store-private.h"

static int
mh_stats_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_store_stats *s = ctx;
	int ret;

	memset(s, 0, sizeof(*s));
	if ((ret = mh_counter(st->db[MH_DB_META], txn, MH_LAST_SEQ, 0, 0,
	    &s->last_seq)) != 0 ||
	    (ret = mh_counter(st->db[MH_DB_META], txn,
	    mh_tables[MH_TABLE_NOTIFICATIONS].counter, 0, 0,
	    &s->notifications_made)) != 0 ||
	    (ret = mh_counter(st->db[MH_DB_META], txn,
	    mh_tables[MH_TABLE_MAIL].counter, 0, 0, &s->mail_made)) != 0 ||
	    (ret = mh_db_count(st->db[MH_DB_INBOX], txn,
	    &s->inbox_pending)) != 0)
		return ret;
	return mh_db_count(st->db[MH_DB_SET_ASIDE], txn, &s->set_aside);
}

enum mh_store_err
mh_store_stats(struct mh_store *st, struct mh_store_stats *s)
{
	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_stats_txn, s));
}

static int
mh_sizes_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_store_sizes *z = ctx;
	struct { enum mh_db db; uint64_t *n; } t[] = {
		{ MH_DB_EVENTS, &z->events }, { MH_DB_MESSAGES, &z->messages },
		{ MH_DB_CALLBACKS, &z->callbacks }, { MH_DB_RAW, &z->raw },
		{ MH_DB_SET_ASIDE, &z->set_aside }, { MH_DB_DEDUPE, &z->dedupe },
		{ MH_DB_NOTIFICATIONS, &z->notifications },
		{ MH_DB_NT_UNREAD, &z->unread },
	};
	DB *raw = st->db[MH_DB_RAW];
	DBT key;
	int ret;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if ((ret = mh_db_count(st->db[t[i].db], txn, t[i].n)) != 0)
			return ret;
	/* raw.db also holds the running total of the bodies' bytes, under a
	 * key of its own that is not a body. */
	if ((ret = mh_counter(raw, txn, MH_RAW_TOTAL, 0, 0, &z->raw_bytes)) != 0)
		return ret;
	memset(&key, 0, sizeof(key));
	key.data = MH_RAW_TOTAL;
	key.size = sizeof(MH_RAW_TOTAL) - 1;
	if ((ret = raw->exists(raw, txn, &key, 0)) == 0 && z->raw > 0)
		z->raw--;
	return ret == DB_NOTFOUND ? 0 : ret;
}

/* The files of the environment: their total size, and the log files. */
static int
mh_sizes_files(const char *home, struct mh_store_sizes *z)
{
	char dir[4096], path[4352];
	struct dirent *de;
	struct stat sb;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/db", home);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		z->db_bytes += (uint64_t)sb.st_size;
		if (strncmp(de->d_name, "log.", 4) == 0) {
			unsigned long n = strtoul(de->d_name + 4, NULL, 10);

			z->log_files++;
			if (n > z->log_newest)
				z->log_newest = (unsigned)n;
		}
	}
	closedir(d);
	return 0;
}

enum mh_store_err
mh_store_files(struct mh_store *st, struct mh_store_sizes *z)
{
	memset(z, 0, sizeof(*z));
	return mh_sizes_files(st->home, z) == 0 ? MH_STORE_OK : MH_STORE_FAILED;
}

enum mh_store_err
mh_store_sizes(struct mh_store *st, struct mh_store_sizes *z)
{
	int ret;

	memset(z, 0, sizeof(*z));
	if ((ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_sizes_txn, z)) != 0)
		return mh_store_error(ret);
	return mh_sizes_files(st->home, z) == 0 ? MH_STORE_OK : MH_STORE_FAILED;
}

/*
 * Copies and checks of the environment, for the admin tool: a hot backup
 * made ready to open (and holding every database of the table), and the
 * structure of every database file.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "store-private.h"

/* Whether the copy in dir holds every database of the table. */
static int
mh_backup_complete(const char *dir)
{
	char path[4352];
	struct stat sb;

	for (int i = 0; i < MH_DB_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, mh_dbs[i].file);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			fprintf(stderr, "mailhooks: backup to %s: %s is "
			    "missing\n", dir, mh_dbs[i].file);
			return 0;
		}
	}
	return 1;
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
	else if (!mh_backup_complete(dir))
		return MH_STORE_FAILED;
	return mh_store_error(ret);
}

enum mh_store_err
mh_store_verify(struct mh_store *st)
{
	char path[4352];
	int ret, bad = 0;

	/* What sits in the cache is written out first. */
	st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
	for (int i = 0; i < MH_DB_COUNT; i++) {
		DB *db;

		snprintf(path, sizeof(path), "%s/db/%s", st->home,
		    mh_dbs[i].file);
		if ((ret = db_create(&db, NULL, 0)) != 0)
			return mh_store_error(ret);
		/* verify consumes the handle, success or not. */
		if ((ret = db->verify(db, path, NULL, NULL, 0)) != 0) {
			fprintf(stderr, "mailhooks: %s: %s\n", mh_dbs[i].file,
			    db_strerror(ret));
			bad = 1;
		}
	}
	return bad ? MH_STORE_FAILED : MH_STORE_OK;
}

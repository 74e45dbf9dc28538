/*
 * Copies and checks of the environment, for the admin tool: a hot backup
 * made ready to open (and holding every database of the table), and the
 * structure of every database file, checked on such a copy.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Removes a copy (made for verifying, or a backup that failed): its
 * files, then the folder unless keep (it was there, empty, before). */
static void
mh_remove_copy(const char *dir, int keep)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((d = opendir(dir)) != NULL) {
		fd = dirfd(d);
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				unlinkat(fd, de->d_name, 0);
		closedir(d);
	}
	if (!keep)
		rmdir(dir);
}

/* Whether dir holds nothing but . and .. (-1, said, when it cannot be
 * read, or is no directory). */
static int
mh_dir_empty(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int empty = 1;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "mailhooks: backup to %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

enum mh_store_err
mh_store_backup(struct mh_store *st, const char *dir)
{
	DB_ENV *env = NULL;
	int ret, existed = 0, empty;

	if (mkdir(dir, 0750) != 0) {
		if (errno != EEXIST) {
			fprintf(stderr, "mailhooks: backup to %s: %s\n", dir,
			    strerror(errno));
			return MH_STORE_FAILED;
		}
		/* Nothing is written into a folder that holds anything: the
		 * copy would mix with it, or stop half-way on a file there. */
		if ((empty = mh_dir_empty(dir)) <= 0) {
			if (empty == 0)
				fprintf(stderr, "mailhooks: backup to %s: it is "
				    "not empty; a backup goes into a new or "
				    "empty folder\n", dir);
			return MH_STORE_FAILED;
		}
		existed = 1;
	}
	/* Databases first, then the logs that make them consistent. No log
	 * may go meanwhile: a checkpoint in a busy server removed the one a
	 * copied page needed, and recovery on the copy failed (14 backups of
	 * 34 under load). The setting is the environment's, shared by every
	 * process; a backup that dies here leaves it off until the server's
	 * next open, and logs then pile up till that. */
	st->env->log_set_config(st->env, DB_LOG_AUTO_REMOVE, 0);
	ret = st->env->backup(st->env, dir, DB_CREATE | DB_EXCL);
	st->env->log_set_config(st->env, DB_LOG_AUTO_REMOVE, 1);
	if (ret != 0)
		goto out;
	/* Recovery on the copy replays those logs: it opens as it is. All of
	 * them, catastrophic recovery as db_hotbackup runs it: a page copied
	 * before the last checkpoint misses changes logged before it, which
	 * a normal recovery, starting at that checkpoint, never replays. */
	if ((ret = db_env_create(&env, 0)) != 0)
		goto out;
	ret = env->open(env, dir, DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG |
	    DB_INIT_MPOOL | DB_INIT_TXN | DB_RECOVER_FATAL | DB_PRIVATE, 0640);
	env->close(env, 0);
out:
	if (ret != 0)
		fprintf(stderr, "mailhooks: backup to %s: %s\n", dir,
		    db_strerror(ret));
	if (ret != 0 || !mh_backup_complete(dir)) {
		/* A half copy is no backup: what this run wrote goes. */
		mh_remove_copy(dir, existed);
		return ret != 0 ? mh_store_error(ret) : MH_STORE_FAILED;
	}
	return MH_STORE_OK;
}


/* Checks every database file of dir; problems go to stderr. */
static int
mh_verify_files(const char *dir)
{
	char path[4352];
	int ret, bad = 0;

	for (int i = 0; i < MH_DB_COUNT; i++) {
		DB *db;

		snprintf(path, sizeof(path), "%s/%s", dir, mh_dbs[i].file);
		if ((ret = db_create(&db, NULL, 0)) != 0)
			return -1;
		/* verify consumes the handle, success or not. */
		if ((ret = db->verify(db, path, NULL, NULL, 0)) != 0) {
			fprintf(stderr, "mailhooks: %s: %s\n", mh_dbs[i].file,
			    db_strerror(ret));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/*
 * Berkeley DB's verify takes no locks and must not read files being
 * written, so it checks a hot backup of them, made beside them (the same
 * disk, and the same owner) and removed after.
 */
enum mh_store_err
mh_store_verify(struct mh_store *st)
{
	char dir[4096];
	enum mh_store_err err;

	if (snprintf(dir, sizeof(dir), "%s/verify-XXXXXX", st->home) >=
	    (int)sizeof(dir))
		return MH_STORE_FAILED;
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mailhooks: verify: %s: %s\n", dir,
		    strerror(errno));
		return MH_STORE_FAILED;
	}
	if ((err = mh_store_backup(st, dir)) == MH_STORE_OK &&
	    mh_verify_files(dir) != 0)
		err = MH_STORE_FAILED;
	mh_remove_copy(dir, 0);
	return err;
}

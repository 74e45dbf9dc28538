/*
 * The Berkeley DB environment: opening it so that a process killed at any
 * moment costs nothing but its own transaction, every database of
 * tables.c opened the same way in every process, and reopening after
 * recovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

/* Processes and threads the environment tracks for failchk at once. */
#define MH_THREAD_COUNT 256
#define MH_CACHE_BYTES (32u * 1024 * 1024)
/* What the cache's region file grows to, at most: the cache and a little
 * (it was 31.3 MiB after a heavy load). */
#define MH_CACHE_REGION_BYTES (MH_CACHE_BYTES + 2u * 1024 * 1024)
/* The main region (__db.001) holds the locks, lockers, transactions and
 * threads of every process. Left to Berkeley DB's defaults it was about a
 * megabyte, and one transaction of a full batch of varied content ran it
 * out; runs (chunk.c) bound each transaction to MH_CHUNK_WORK pages, and
 * the region is made for many of those at once, with readers beside. */
#define MH_MAIN_REGION_BYTES (16u * 1024 * 1024)
#define MH_LOCKS_INIT 8192
#define MH_LOCKERS_INIT 1024
#define MH_TXNS_INIT 256
#define MH_FILE_MODE 0640

/* failchk asks whether a process that holds a slot in the environment is
 * still there; a dead one had its locks and transactions cleaned up. */
static int
mh_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	(void)env;
	(void)tid;
	(void)flags;
	return mh_process_alive(pid);
}

static void
mh_errcall(const DB_ENV *env, const char *prefix, const char *msg)
{
	(void)env;
	/* Said by the loser of two processes creating the receipt sequence
	 * at once, which mh_sequence_txn tries again: not an error of ours
	 * (a real failure to open it is said where it is met). */
	if (strncmp(msg, "BDB4004 ", 8) == 0)
		return;
	fprintf(stderr, "%s: berkeley db: %s\n", prefix ? prefix : "mailhooks",
	    msg);
}

/* The open that runs recovery hears of each process still attached: their
 * handles are void from now on (each reopens at its next use). */
static void
mh_env_event(DB_ENV *env, u_int32_t event, void *info)
{
	struct mh_store *st = env->app_private;

	(void)info;
	if (event == DB_EVENT_REG_ALIVE && st != NULL)
		st->recovered_others = 1;
}

/* Informational messages (failchk reports what it cleaned up) go to the
 * log, never to standard output, which a CGI or a test may be reading. */
static void
mh_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	fprintf(stderr, "mailhooks: berkeley db: %s\n", msg);
}

/* Opens the receipt sequence, creating its record when absent. */
static int
mh_sequence_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	DBT *key = ctx;
	int ret;

	if (st->receipts != NULL)
		st->receipts->close(st->receipts, 0);
	st->receipts = NULL;
	if ((ret = db_sequence_create(&st->receipts, st->db[MH_DB_RECEIPTS],
	    0)) != 0)
		return ret;
	st->receipts->initial_value(st->receipts, 1);
	ret = st->receipts->open(st->receipts, txn, key,
	    DB_CREATE | DB_THREAD);
	/* Two processes starting together may both try to create the
	 * record; the loser finds it there on the next try. */
	return ret == DB_KEYEXIST ? DB_LOCK_NOTGRANTED : ret;
}

static int
mh_sequence_open(struct mh_store *st)
{
	DBT key;
	int ret;

	memset(&key, 0, sizeof(key));
	key.data = "receipt";
	key.size = (u_int32_t)strlen("receipt");
	ret = mh_txn_run(st, 0, 0, mh_sequence_txn, &key);
	if (ret != 0 && st->receipts != NULL) {
		st->receipts->close(st->receipts, 0);
		st->receipts = NULL;
	}
	return ret;
}

/*
 * Gives every region file its blocks. DB_REGION_INIT writes a region
 * when it is made, but the cache's region (the last file, __db.003 here)
 * starts at half a megabyte and grows with use up to the cache's size,
 * its new pages left as holes: one first touched on a full disk killed
 * the process (SIGBUS in __env_alloc) where the disk's error should have
 * been a 503. So each region gets blocks for what it holds, and the last
 * for the whole cache besides, beyond its end (FALLOC_FL_KEEP_SIZE:
 * Berkeley DB still sees the size it wrote). Best effort: blocks that
 * cannot be had now are the disk's error later, as before.
 */
static void
mh_env_fill_regions(const char *dir)
{
	char path[4200];
	struct stat sb;
	off_t want;
	int fd, last = 0;

	for (int i = 1; i <= 9; i++) {
		snprintf(path, sizeof(path), "%s/__db.%03d", dir, i);
		if (access(path, F_OK) == 0)
			last = i;
	}
	for (int i = 1; i <= last; i++) {
		snprintf(path, sizeof(path), "%s/__db.%03d", dir, i);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		want = fstat(fd, &sb) == 0 ? sb.st_size : 0;
		if (i == last && i > 1 && want < (off_t)MH_CACHE_REGION_BYTES)
			want = (off_t)MH_CACHE_REGION_BYTES;
		if (i == 1 && want < (off_t)MH_MAIN_REGION_BYTES)
			want = (off_t)MH_MAIN_REGION_BYTES;
		if (want > 0 && (off_t)sb.st_blocks * 512 < want)
			(void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, want);
		close(fd);
	}
}

/* Sizes the main region (read when the environment is made: an
 * environment made by an older version keeps its sizes until the next
 * recovery makes it anew). */
static void
mh_env_size_main(DB_ENV *env)
{
	env->set_memory_max(env, 0, MH_MAIN_REGION_BYTES);
	env->set_memory_init(env, DB_MEM_LOCK, MH_LOCKS_INIT);
	env->set_memory_init(env, DB_MEM_LOCKOBJECT, MH_LOCKS_INIT);
	env->set_memory_init(env, DB_MEM_LOCKER, MH_LOCKERS_INIT);
	env->set_memory_init(env, DB_MEM_TRANSACTION, MH_TXNS_INIT);
	env->set_memory_init(env, DB_MEM_THREAD, MH_THREAD_COUNT);
}

/* Opens the environment; a guest creates nothing and runs no recovery
 * (it gets DB_RUNRECOVERY when one is needed: the server's next open runs
 * it). */
static int
mh_env_open(struct mh_store *st, int guest)
{
	char dir[4096];
	DB_ENV *env;
	int ret;

	if (snprintf(dir, sizeof(dir), "%s/db", st->home) >= (int)sizeof(dir))
		return ENAMETOOLONG;
	if (!guest && ((mkdir(st->home, 0750) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0750) != 0 && errno != EEXIST)))
		return errno;
	if ((ret = db_env_create(&env, 0)) != 0)
		return ret;
	st->env = env;
	env->app_private = st;
	env->set_event_notify(env, mh_env_event);
	env->set_errpfx(env, "mailhooks");
	env->set_errcall(env, mh_errcall);
	env->set_msgcall(env, mh_msgcall);
	env->set_cachesize(env, 0, MH_CACHE_BYTES, 1);
	mh_env_size_main(env);
	/* The region files written whole when made, and faulted in when
	 * joined: left sparse, a page first touched on a full disk kills the
	 * process (SIGBUS, and the web server answers 500) where the disk's
	 * error should be a 503. */
	env->set_flags(env, DB_REGION_INIT, 1);
	/* Transactions never wait for a lock (see mh_txn_begin), but the
	 * auto-commit opens at start-up do: keep deadlocks among those from
	 * lasting. */
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_thread_count(env, MH_THREAD_COUNT);
	env->set_isalive(env, mh_isalive);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	ret = env->open(env, dir, (guest ? 0 : DB_CREATE | DB_RECOVER) |
	    DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_INIT_TXN |
	    DB_REGISTER | DB_THREAD, MH_FILE_MODE);
	if (ret != 0)
		return ret;
	if (!guest)
		mh_env_fill_regions(dir);
	/* Release what processes that died without closing still hold. */
	return env->failchk(env, 0);
}

static void
mh_store_close_handles(struct mh_store *st)
{
	if (st->receipts != NULL)
		st->receipts->close(st->receipts, 0);
	st->receipts = NULL;
	mh_tables_close(st->db);
	if (st->env != NULL)
		st->env->close(st->env, 0);
	st->env = NULL;
}

static int
mh_store_open_handles(struct mh_store *st, int guest)
{
	int ret;

	if ((ret = mh_env_open(st, guest)) != 0)
		return ret;
	st->region = mh_store_region(st->home);
	if ((ret = mh_tables_open(st->env, st->db, guest ? 0 : DB_CREATE)) != 0)
		return ret;
	/* A guest acknowledges nothing: no receipt is taken. */
	if (guest)
		return 0;
	if ((ret = mh_sequence_open(st)) != 0)
		return ret;
	/* What the processes whose handles this recovery voided had
	 * claimed is anyone's now, not in a minute: one of them idle would
	 * reopen only at its next request. */
	if (st->recovered_others) {
		fprintf(stderr, "mailhooks: recovered the environment while "
		    "other processes were attached: their inbox claims are "
		    "released\n");
		mh_inbox_release_all_claims(st);
		st->recovered_others = 0;
	}
	return 0;
}

static enum mh_store_err
mh_store_open_as(const char *home, int guest, struct mh_store **out)
{
	struct mh_store *st;
	int ret;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MH_STORE_NOMEM;
	if ((st->home = strdup(home)) == NULL) {
		free(st);
		return MH_STORE_NOMEM;
	}
	/* getpid() is a system call each time; an open store is never
	 * carried across a fork. */
	st->pid = (uint32_t)getpid();
	umask(027);
	if ((ret = mh_store_open_handles(st, guest)) != 0) {
		fprintf(stderr, "mailhooks: cannot open storage in %s/db: %s\n",
		    home, db_strerror(ret));
		mh_store_close(st);
		return guest && ret == ENOENT ? MH_STORE_NOTFOUND :
		    mh_store_error(ret);
	}
	*out = st;
	return MH_STORE_OK;
}

enum mh_store_err
mh_store_open(const char *home, struct mh_store **out)
{
	return mh_store_open_as(home, 0, out);
}

enum mh_store_err
mh_store_attach(const char *home, struct mh_store **out)
{
	return mh_store_open_as(home, 1, out);
}

void
mh_store_close(struct mh_store *st)
{
	if (st == NULL)
		return;
	mh_inbox_release_claims(st);
	mh_store_close_handles(st);
	free(st->home);
	free(st);
}

void
mh_store_set_fsync(struct mh_store *st, int fsync)
{
	st->ack_fsync = fsync;
}

enum mh_store_err
mh_store_reopen(struct mh_store **st)
{
	int ack_fsync = (*st)->ack_fsync;
	char *home;
	enum mh_store_err err;

	if ((home = strdup((*st)->home)) == NULL)
		return MH_STORE_NOMEM;
	mh_store_close(*st);
	err = mh_store_open(home, st);
	free(home);
	if (err == MH_STORE_OK) {
		(*st)->ack_fsync = ack_fsync;
		mh_inbox_release_claims(*st);
	}
	return err;
}

uint64_t
mh_store_region(const char *home)
{
	char path[4200];
	struct stat sb;

	if (snprintf(path, sizeof(path), "%s/db/__db.001", home) >=
	    (int)sizeof(path) || stat(path, &sb) != 0)
		return 0;
	/* The old file stays while anyone maps it, so a new one never gets
	 * its inode number. */
	return ((uint64_t)sb.st_dev << 40) ^ (uint64_t)sb.st_ino;
}

uint64_t
mh_store_joined(const struct mh_store *st)
{
	return st != NULL ? st->region : 0;
}

/* Log written since the last checkpoint before the drain takes another. */
#define MH_CHECKPOINT_KBYTES 1024

enum mh_store_err
mh_store_checkpoint(struct mh_store *st, int any)
{
	return mh_store_error(st->env->txn_checkpoint(st->env,
	    any ? 0 : MH_CHECKPOINT_KBYTES, 0, 0));
}

/*
 * The Berkeley DB environment: opening it so that a process killed at any
 * moment costs nothing but its own transaction, and the databases and
 * secondary indexes every process must open the same way.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "store-private.h"

/* Processes and threads the environment tracks for failchk at once. */
#define MH_THREAD_COUNT 256
#define MH_CACHE_BYTES (32u * 1024 * 1024)
#define MH_FILE_MODE 0640

void
mh_be64_put(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

uint64_t
mh_be64_get(const unsigned char in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | in[i];
	return v;
}

int
mh_counter(DB *db, DB_TXN *txn, const char *name, int64_t delta,
    u_int32_t flags, uint64_t *before)
{
	unsigned char buf[8];
	uint64_t v = 0;
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	memset(&data, 0, sizeof(data));
	key.data = (void *)name;
	key.size = (u_int32_t)strlen(name);
	data.data = buf;
	data.ulen = sizeof(buf);
	data.flags = DB_DBT_USERMEM;
	ret = db->get(db, txn, &key, &data, flags);
	if (ret == 0 && data.size == 8)
		v = mh_be64_get(buf);
	else if (ret != 0 && ret != DB_NOTFOUND)
		return ret;
	if (before != NULL)
		*before = v;
	if (delta == 0)
		return 0;
	mh_be64_put(buf, delta < 0 && (uint64_t)-delta > v ? 0 :
	    v + (uint64_t)delta);
	data.size = 8;
	data.flags = 0;
	return db->put(db, txn, &key, &data, 0);
}

enum mh_store_err
mh_store_error(int dbret)
{
	switch (dbret) {
	case 0:
		return MH_STORE_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return MH_STORE_NOTFOUND;
	case DB_RUNRECOVERY:
		return MH_STORE_RECOVER;
	case ENOMEM:
		return MH_STORE_NOMEM;
	default:
		return MH_STORE_FAILED;
	}
}

int
mh_txn_begin(struct mh_store *st, DB_TXN **txn, u_int32_t flags)
{
	return st->env->txn_begin(st->env, NULL, txn, DB_TXN_NOWAIT | flags);
}

int
mh_store_retry(struct mh_store *st, int *dbret, int *tries)
{
	struct timespec pause;
	long us;

	if (*dbret != DB_LOCK_DEADLOCK && *dbret != DB_LOCK_NOTGRANTED)
		return 0;
	if (++*tries >= MH_LOCK_TRIES)
		return 0;
	/* The holder may be a process that died in a transaction: every so
	 * often, let failchk abort what dead processes left, or say that
	 * the environment needs recovery. */
	if (*tries % MH_FAILCHK_EVERY == 0 && st->env->failchk(st->env, 0) != 0) {
		*dbret = DB_RUNRECOVERY;
		return 0;
	}
	us = *tries < 10 ? MH_LOCK_PAUSE_MIN_US << (*tries - 1) :
	    MH_LOCK_PAUSE_MAX_US;
	if (us > MH_LOCK_PAUSE_MAX_US)
		us = MH_LOCK_PAUSE_MAX_US;
	pause.tv_sec = 0;
	pause.tv_nsec = us * 1000;
	nanosleep(&pause, NULL);
	return 1;
}

int
mh_process_alive(pid_t pid)
{
	/* EPERM: there, under another user. */
	return kill(pid, 0) == 0 || errno == EPERM;
}

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
	fprintf(stderr, "%s: berkeley db: %s\n", prefix ? prefix : "mailhooks",
	    msg);
}

/* Informational messages (failchk reports what it cleaned up) go to the
 * log, never to standard output, which a CGI or a test may be reading. */
static void
mh_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	fprintf(stderr, "mailhooks: berkeley db: %s\n", msg);
}

/* Index callbacks: a record starts with three NUL-terminated fields (for
 * events type, lower-cased email, message id; for callbacks status, email,
 * external id); the secondary key is the field, a NUL, and the 8-byte seq,
 * so that each index is ordered by seq. */
static int
mh_index_field(const DBT *pkey, const DBT *pdata, DBT *skey, int field)
{
	const char *p = pdata->data, *end;
	size_t n = pdata->size, len;
	unsigned char *k;

	for (int i = 0; i < field; i++) {
		end = memchr(p, '\0', n);
		if (end == NULL)
			return DB_DONOTINDEX;
		n -= (size_t)(end - p) + 1;
		p = end + 1;
	}
	end = memchr(p, '\0', n);
	if (end == NULL || end == p || pkey->size != 8)
		return DB_DONOTINDEX;
	len = (size_t)(end - p);
	if ((k = malloc(len + 9)) == NULL)
		return ENOMEM;
	memcpy(k, p, len + 1);
	memcpy(k + len + 1, pkey->data, 8);
	memset(skey, 0, sizeof(*skey));
	skey->data = k;
	skey->size = (u_int32_t)(len + 9);
	skey->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int
mh_index_field0(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	(void)db;
	return mh_index_field(pkey, pdata, skey, 0);
}

static int
mh_index_field1(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	(void)db;
	return mh_index_field(pkey, pdata, skey, 1);
}

static int
mh_index_field2(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	(void)db;
	return mh_index_field(pkey, pdata, skey, 2);
}

/* Associates the three indexes of a table laid out as events.c writes. */
static int
mh_associate(DB *primary, DB *by0, DB *by1, DB *by2)
{
	int ret;

	if ((ret = primary->associate(primary, NULL, by0, mh_index_field0,
	    DB_CREATE | DB_AUTO_COMMIT)) != 0 ||
	    (ret = primary->associate(primary, NULL, by1, mh_index_field1,
	    DB_CREATE | DB_AUTO_COMMIT)) != 0)
		return ret;
	return primary->associate(primary, NULL, by2, mh_index_field2,
	    DB_CREATE | DB_AUTO_COMMIT);
}

static int
mh_db_open(DB_ENV *env, DB **out, const char *file)
{
	DB *db;
	int ret;

	*out = NULL;
	if ((ret = db_create(&db, env, 0)) != 0)
		return ret;
	ret = db->open(db, NULL, file, NULL, DB_BTREE,
	    DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, MH_FILE_MODE);
	if (ret != 0) {
		db->close(db, 0);
		return ret;
	}
	*out = db;
	return 0;
}

static int
mh_sequence_open(struct mh_store *st)
{
	DB_TXN *txn = NULL;
	DBT key;
	int ret;

	memset(&key, 0, sizeof(key));
	key.data = "receipt";
	key.size = (u_int32_t)strlen("receipt");
	/* Two processes starting together may both try to create the
	 * record; the loser finds it there on the next try. */
	for (int tries = 0;;) {
		if ((ret = db_sequence_create(&st->receipts, st->receipt_db,
		    0)) != 0)
			return ret;
		st->receipts->initial_value(st->receipts, 1);
		if ((ret = mh_txn_begin(st, &txn, 0)) == 0) {
			ret = st->receipts->open(st->receipts, txn, &key,
			    DB_CREATE | DB_THREAD);
			if (ret == 0)
				return txn->commit(txn, 0);
			txn->abort(txn);
		}
		st->receipts->close(st->receipts, 0);
		st->receipts = NULL;
		if (ret == DB_KEYEXIST)
			ret = DB_LOCK_NOTGRANTED;	/* the other one won */
		if (!mh_store_retry(st, &ret, &tries))
			return ret;
	}
}

static int
mh_env_open(struct mh_store *st)
{
	char dir[4096];
	DB_ENV *env;
	int ret;

	if (snprintf(dir, sizeof(dir), "%s/db", st->home) >= (int)sizeof(dir))
		return ENAMETOOLONG;
	if ((mkdir(st->home, 0750) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0750) != 0 && errno != EEXIST))
		return errno;
	if ((ret = db_env_create(&env, 0)) != 0)
		return ret;
	st->env = env;
	env->set_errpfx(env, "mailhooks");
	env->set_errcall(env, mh_errcall);
	env->set_msgcall(env, mh_msgcall);
	env->set_cachesize(env, 0, MH_CACHE_BYTES, 1);
	/* Transactions never wait for a lock (see mh_txn_begin), but the
	 * auto-commit opens at start-up do: keep deadlocks among those from
	 * lasting. */
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_thread_count(env, MH_THREAD_COUNT);
	env->set_isalive(env, mh_isalive);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	ret = env->open(env, dir,
	    DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_REGISTER | DB_RECOVER | DB_THREAD, MH_FILE_MODE);
	if (ret != 0)
		return ret;
	/* Release what processes that died without closing still hold. */
	return env->failchk(env, 0);
}

static void
mh_store_close_handles(struct mh_store *st)
{
	DB **dbs[] = { &st->by_type, &st->by_email, &st->by_message,
	    &st->events, &st->cb_by_status, &st->cb_by_email,
	    &st->cb_by_external, &st->callbacks, &st->dedupe, &st->messages, &st->meta, &st->inbox,
	    &st->raw, &st->set_aside, &st->refused, &st->receipt_db };

	if (st->receipts != NULL)
		st->receipts->close(st->receipts, 0);
	st->receipts = NULL;
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		if (*dbs[i] != NULL)
			(*dbs[i])->close(*dbs[i], 0);
		*dbs[i] = NULL;
	}
	if (st->env != NULL)
		st->env->close(st->env, 0);
	st->env = NULL;
}

static int
mh_store_open_handles(struct mh_store *st)
{
	struct {
		DB **db;
		const char *file;
	} files[] = {
		{ &st->events, "events.db" },
		{ &st->by_type, "events-by-type.db" },
		{ &st->by_email, "events-by-email.db" },
		{ &st->by_message, "events-by-message.db" },
		{ &st->callbacks, "callbacks.db" },
		{ &st->cb_by_status, "callbacks-by-status.db" },
		{ &st->cb_by_email, "callbacks-by-email.db" },
		{ &st->cb_by_external, "callbacks-by-external-id.db" },
		{ &st->dedupe, "dedupe.db" },
		{ &st->messages, "messages.db" },
		{ &st->meta, "meta.db" },
		{ &st->inbox, "inbox.db" },
		{ &st->raw, "raw.db" },
		{ &st->set_aside, "set-aside.db" },
		{ &st->refused, "refused.db" },
		{ &st->receipt_db, "receipts.db" },
	};
	int ret;

	if ((ret = mh_env_open(st)) != 0)
		return ret;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if ((ret = mh_db_open(st->env, files[i].db, files[i].file)) != 0)
			return ret;
	/* Indexes live on open handles only: associate in every process,
	 * or writes made here would leave them stale. */
	if ((ret = mh_associate(st->events, st->by_type, st->by_email,
	    st->by_message)) != 0 ||
	    (ret = mh_associate(st->callbacks, st->cb_by_status, st->cb_by_email,
	    st->cb_by_external)) != 0)
		return ret;
	return mh_sequence_open(st);
}

enum mh_store_err
mh_store_open(const char *home, struct mh_store **out)
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
	if ((ret = mh_store_open_handles(st)) != 0) {
		fprintf(stderr, "mailhooks: cannot open storage in %s/db: %s\n",
		    home, db_strerror(ret));
		mh_store_close(st);
		return mh_store_error(ret);
	}
	*out = st;
	return MH_STORE_OK;
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

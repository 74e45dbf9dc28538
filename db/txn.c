/*
 * The one transaction runner: every transaction of the layer is begun,
 * retried on a held lock, and committed or aborted here, under one policy
 * (see store-private.h).
 */
#include <errno.h>
#include <time.h>

#include "store-private.h"

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
	case DB_KEYEXIST:
		return MH_STORE_EXISTS;
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
mh_txn_retry(struct mh_store *st, int *dbret, int *tries)
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

/* One attempt: begin, work, commit or abort. */
static int
mh_txn_attempt(struct mh_store *st, u_int32_t begin, u_int32_t commit,
    mh_txn_fn fn, void *ctx)
{
	DB_TXN *txn;
	int ret;

	if ((ret = mh_txn_begin(st, &txn, begin)) != 0)
		return ret;
	if ((ret = fn(st, txn, ctx)) == 0)
		return txn->commit(txn, commit);
	txn->abort(txn);
	return ret == MH_TXN_DISCARD ? 0 : ret;
}

int
mh_txn_run(struct mh_store *st, u_int32_t begin, u_int32_t commit,
    mh_txn_fn fn, void *ctx)
{
	int ret, tries = 0;

	do
		ret = mh_txn_attempt(st, begin, commit, fn, ctx);
	while (ret != 0 && mh_txn_retry(st, &ret, &tries));
	return ret;
}

int
mh_txn_once(struct mh_store *st, u_int32_t begin, u_int32_t commit,
    mh_txn_fn fn, void *ctx)
{
	return mh_txn_attempt(st, begin, commit, fn, ctx);
}

/*
 * Internals shared by the files of the storage layer; nothing outside db/
 * includes this.
 */
#ifndef MH_STORE_PRIVATE_H
#define MH_STORE_PRIVATE_H

#include <db.h>

#include "store.h"

struct mh_store {
	char *home;
	DB_ENV *env;
	DB *events;		/* seq (be64) -> record, see events.c */
	DB *by_type;		/* type \0 seq -> seq */
	DB *by_email;		/* lower(email) \0 seq -> seq */
	DB *by_message;		/* message_id \0 seq -> seq */
	DB *callbacks;		/* seq (be64) -> email_callback record */
	DB *cb_by_status;	/* status \0 seq -> seq */
	DB *cb_by_email;	/* lower(email) \0 seq -> seq */
	DB *cb_by_external;	/* external_id \0 seq -> seq */
	DB *dedupe;		/* identity -> seq */
	DB *messages;		/* provider \0 message_id -> summary JSON */
	DB *meta;		/* "last_seq" -> be64 */
	DB *inbox;		/* receipt (be64) -> attempts (u32) */
	DB *raw;		/* receipt (be64) -> meta JSON \n body */
	DB *set_aside;		/* receipt (be64) -> reason JSON */
	DB *refused;		/* slot (be32) -> refusal JSON; "next" */
	DB *receipt_db;		/* holds the receipt sequence */
	DB_SEQUENCE *receipts;
	int ack_fsync;		/* an acknowledgement waits for the disk */
	uint32_t pid;		/* the process that opened it: claims name it */
};

/*
 * Transactions never block on a lock: a process killed inside one leaves
 * its locks behind until failchk clears them, and a blocked waiter would
 * never get to run failchk. A transaction that meets a held lock is run
 * again after a pause (MH_LOCK_PAUSE_MIN_US doubling up to
 * MH_LOCK_PAUSE_MAX_US; the first is short, as a lock is mostly held
 * for one commit's flush to disk, a fraction of a millisecond), with
 * failchk every MH_FAILCHK_EVERY tries, for MH_LOCK_TRIES tries (about ten
 * seconds) before it gives up.
 */
#define MH_LOCK_TRIES 420
#define MH_LOCK_PAUSE_MIN_US 50
#define MH_LOCK_PAUSE_MAX_US 25000
#define MH_FAILCHK_EVERY 40

/* 1 when process pid exists (whoever it runs as). */
int mh_process_alive(pid_t pid);

/* Gives up the inbox entries this process claimed (its handle closes, or
 * was reopened after a failure), so that others take them at once rather
 * than after the claim runs out. Best effort. */
void mh_inbox_release_claims(struct mh_store *st);

/* A 64-bit counter stored under name in db (0 when absent): *before gets
 * its value (read with flags: DB_RMW to lock it for the write to come),
 * then delta is added to it unless 0. Inside txn. */
int mh_counter(DB *db, DB_TXN *txn, const char *name, int64_t delta,
    u_int32_t flags, uint64_t *before);

/* Maps a Berkeley DB return code to the layer's error. */
enum mh_store_err mh_store_error(int dbret);

/* Begins a transaction that fails with DB_LOCK_NOTGRANTED rather than
 * wait for a lock. */
int mh_txn_begin(struct mh_store *st, DB_TXN **txn, u_int32_t flags);

/* Whether a transaction that failed with *dbret is run again, after a
 * pause: yes when it met a held lock, until it has tried long enough.
 * *dbret becomes DB_RUNRECOVERY when failchk finds the environment needs
 * recovery. *tries counts the attempts; start it at 0. */
int mh_store_retry(struct mh_store *st, int *dbret, int *tries);

/* Stores one event inside txn unless its identity was seen; *seq is the
 * last seq in use and is advanced when the event is stored. On success
 * *json is the stored text (caller frees) or NULL for a duplicate. */
int mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    uint64_t *seq, char **json);

/* Derives the events of one raw body kept under receipt and stores those
 * not stored yet, in a transaction of its own (the inbox is left alone);
 * *nstored counts them. A body that cannot be derived is reported on
 * stderr and skipped. Returns a Berkeley DB code. */
int mh_derive_receipt(struct mh_store *st, uint64_t receipt,
    mh_derive_fn derive, void *dctx, mh_stored_fn stored, void *sctx,
    size_t *nstored);

/* The key of the raw bodies' running total in raw.db. */
#define MH_RAW_TOTAL "total"

/* 0 when raw.db holds the running total, DB_NOTFOUND when not. */
int mh_raw_total_exists(struct mh_store *st, DB_TXN *txn);

/* The key of the last seq in use in meta.db. */
#define MH_LAST_SEQ "last_seq"

#endif

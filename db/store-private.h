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
	DB *dedupe;		/* identity -> seq */
	DB *messages;		/* provider \0 message_id -> summary JSON */
	DB *meta;		/* "last_seq" -> be64 */
	DB *inbox;		/* receipt (be64) -> attempts (u32) */
	DB *raw;		/* receipt (be64) -> meta JSON \n body */
	DB *set_aside;		/* receipt (be64) -> reason JSON */
	DB *receipt_db;		/* holds the receipt sequence */
	DB_SEQUENCE *receipts;
};

/* How often a transaction is retried after a deadlock. */
#define MH_DEADLOCK_RETRIES 50

/* Maps a Berkeley DB return code to the layer's error. */
enum mh_store_err mh_store_error(int dbret);

/* True for the codes after which a transaction is simply run again. */
int mh_store_retryable(int dbret);

/* Stores one event inside txn unless its identity was seen; *seq is the
 * last seq in use and is advanced when the event is stored. On success
 * *json is the stored text (caller frees) or NULL for a duplicate. */
int mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    uint64_t *seq, char **json);

/* Reads and writes the last seq in use, inside txn (read locks for write). */
int mh_meta_last_seq(struct mh_store *st, DB_TXN *txn, uint64_t *seq, int rmw);
int mh_meta_set_last_seq(struct mh_store *st, DB_TXN *txn, uint64_t seq);

#endif

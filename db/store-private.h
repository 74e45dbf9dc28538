/*
 * Internals shared by the files of the storage layer; nothing outside db/
 * includes this (but tests that set up states by hand).
 *
 * Who calls whom, so that no two files call each other: env.c opens the
 * databases of tables.c and, closing, lets inbox.c release claims;
 * drain.c uses inbox.c, entry.c, events.c; events.c uses messages.c;
 * everything uses txn.c and codec.c, which use nothing of the layer.
 */
#ifndef MH_STORE_PRIVATE_H
#define MH_STORE_PRIVATE_H

#include <sys/types.h>
#include <db.h>

#include "store.h"

/* --- tables.c: the one table of the databases of the environment. */
enum mh_db {
	MH_DB_EVENTS,		/* seq (be64) -> record, see events.c */
	MH_DB_BY_TYPE,		/* type \0 seq -> seq */
	MH_DB_BY_EMAIL,		/* lower(email) \0 seq -> seq */
	MH_DB_BY_MESSAGE,	/* message_id \0 seq -> seq */
	MH_DB_CALLBACKS,	/* seq (be64) -> email_callback record */
	MH_DB_CB_BY_STATUS,	/* status \0 seq -> seq */
	MH_DB_CB_BY_EMAIL,	/* lower(email) \0 seq -> seq */
	MH_DB_CB_BY_EXTERNAL,	/* external_id \0 seq -> seq */
	MH_DB_DEDUPE,		/* identity -> seq */
	MH_DB_MESSAGES,		/* provider \0 message_id -> summary text */
	MH_DB_META,		/* "last_seq" -> be64 */
	MH_DB_INBOX,		/* receipt (be64) -> claim, see inbox.c */
	MH_DB_RAW,		/* receipt (be64) -> entry, see entry.c */
	MH_DB_SET_ASIDE,	/* receipt (be64) -> see set_aside.c */
	MH_DB_REFUSED,		/* slot (be32) -> refusal text; "next" */
	MH_DB_RECEIPTS,		/* holds the receipt sequence */
	MH_DB_USERS,		/* the accounts, by name */
	MH_DB_SESSIONS,		/* signed-in sessions, by their id's hash */
	MH_DB_SESSIONS_BY_USER,	/* user \0 created (be64) hash -> "" */
	MH_DB_TOKENS,		/* API tokens, by their hash */
	MH_DB_SIGNIN,		/* failed sign-ins, by user and address */
	MH_DB_NOTIFICATIONS,	/* id (be64) -> notification record */
	MH_DB_NT_BY_USER,	/* user_id \0 id -> id */
	MH_DB_NT_BY_IDENTIFIER,	/* lower(identifier) \0 id -> id */
	MH_DB_NT_UNREAD,	/* user_id \0 id -> id, of the unread only */
	MH_DB_IDEMPOTENCY,	/* who \0 key -> the first answer, see idempotency.c */
	MH_DB_MAIL,		/* id (be64) -> outgoing mail record, see outbox.c */
	MH_DB_MAIL_BY_STATUS,	/* status \0 id -> id */
	MH_DB_MAIL_BY_TO,	/* lower(each recipient) \0 id -> id */
	MH_DB_MAIL_BY_TAG,	/* each tag \0 id -> id */
	MH_DB_MAIL_BY_REMOTE,	/* the provider's message id -> mail id (be64) */
	MH_DB_OUTBOX,		/* mail id (be64) -> due time and lease, see lease.c */
	MH_DB_OUTBOX_DUE,	/* due (be64 ms) id (be64) -> id: what is due first */
	MH_DB_CLIENTS,		/* id (be64) -> client record, see clients.c */
	MH_DB_CLIENTS_BY_TAG,	/* tag \0 id -> id */
	MH_DB_CLIENTS_BY_OPERATOR,	/* operator code \0 id -> id */
	MH_DB_CLIENTS_BY_PHONE,	/* phone \0 id -> id */
	MH_DB_CLIENT_PHONES,	/* phone -> id (be64): one client a phone */
	MH_DB_CAMPAIGNS,	/* id (be64) -> campaign record */
	MH_DB_CAMPAIGNS_BY_STATE,	/* "deleted" or "" \0 id -> id */
	MH_DB_CAMPAIGNS_BY_CHANNEL,	/* channel \0 id -> id */
	MH_DB_CMESSAGES,	/* id (be64) -> campaign message record */
	MH_DB_CM_BY_STATE,	/* campaign "/" status \0 id -> id */
	MH_DB_CM_BY_CAMPAIGN,	/* campaign \0 id -> id */
	MH_DB_CM_BY_CLIENT,	/* client \0 id -> id */
	MH_DB_CM_MADE,	/* campaign (be64) client (be64) -> message id */
	MH_DB_CQUEUE,		/* message id (be64) -> due time and lease */
	MH_DB_CQUEUE_DUE,	/* due (be64 ms) id (be64) -> id */
	MH_DB_EV_KEYS,		/* seq (be64) -> see event_index.c */
	MH_DB_EV_BY_TIME,	/* ts seq -> "" */
	MH_DB_EV_BY_GRAM,	/* trigram seq -> "" */
	MH_DB_EV_PER_HOUR,	/* hour type -> count */
	MH_DB_NOTES,		/* kind value -> the application's text */
	MH_DB_COUNT
};

struct mh_db_def {
	const char *file;
	/* For a secondary index: the database it indexes (which field, the
	 * table's descriptor says, or a send queue's due times); -1 for a
	 * primary. Closed before what it indexes. */
	int indexes;
};

extern const struct mh_db_def mh_dbs[MH_DB_COUNT];
/* Each send queue: its records' table and database, the queue, its due
 * index. */
struct mh_sendq_def {
	enum mh_table table;
	int records, queue, due;
};

/* Each indexed table, declared once: its name, its records' database,
 * the name their number has in the stored JSON and the counter in meta.db
 * it comes from, the counter each write to it moves (NULL: none), and its
 * header fields (union mh_fields' names), each with the database indexing
 * it and, for a field one record at most may hold a value of, the map
 * from value to record that keeps it so. The writer (mh_indexed_put,
 * mh_indexed_del), the query's plan and its filters read it. */
#define MH_FIELD_FOLDED 1	/* stored and matched lower-cased */
struct mh_field_def {
	const char *name;
	int index;		/* the database indexing it; -1: none (a
				 * filter on it reads the table) */
	unsigned flags;
	int unique;		/* value -> id, one record a value (the field
				 * may not be empty); -1: none */
};
struct mh_table_def {
	const char *name;
	int records;
	const char *key;
	const char *counter;
	const char *changes;
	struct mh_field_def field[MH_FIELDS];
};
extern const struct mh_table_def mh_tables[];
extern const size_t mh_table_count;
extern const struct mh_sendq_def mh_sendqs[];

/* Opens every database of the table in env (create: DB_CREATE, or 0 for
 * those that must exist) and associates the indexes (they live on open
 * handles only: every process must associate, or its writes leave them
 * stale). */
int mh_tables_open(DB_ENV *env, DB *db[MH_DB_COUNT], u_int32_t create);
/* Closes what is open, indexes before what they index. */
void mh_tables_close(DB *db[MH_DB_COUNT]);

struct mh_store {
	char *home;
	DB_ENV *env;
	DB *db[MH_DB_COUNT];
	DB_SEQUENCE *receipts;
	int ack_fsync;		/* an acknowledgement waits for the disk */
	uint32_t pid;		/* the process that opened it: claims name it */
	int recovered_others;	/* its open recovered under others (env.c) */
	uint64_t region;	/* mh_store_region's answer at the open */
};

/* --- txn.c: the one transaction runner and its retry policy. */

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

/* The work of one transaction: returns 0 to commit, or a Berkeley DB
 * code to abort with (MH_TXN_DISCARD: abort, and the run succeeds). It
 * runs again from its start when it meets a held lock, so it keeps in ctx
 * only what it sets up afresh each time. */
typedef int (*mh_txn_fn)(struct mh_store *st, DB_TXN *txn, void *ctx);
#define MH_TXN_DISCARD (-29000)	/* outside Berkeley DB's codes */

/* Runs fn in a transaction begun with begin (0, DB_READ_COMMITTED...) and
 * committed with commit (0: flushed, DB_TXN_NOSYNC...), again after a
 * pause while it meets held locks. Returns a Berkeley DB code;
 * DB_RUNRECOVERY when failchk finds the environment needs recovery. */
int mh_txn_run(struct mh_store *st, u_int32_t begin, u_int32_t commit,
    mh_txn_fn fn, void *ctx);
/* The same, tried once: for work whose effects outside the transaction
 * (what it hands out as it reads) cannot be repeated. */
int mh_txn_once(struct mh_store *st, u_int32_t begin, u_int32_t commit,
    mh_txn_fn fn, void *ctx);
/* The policy alone, for a loop of several transactions: whether the
 * work that failed with *dbret is tried again, after the pause. *tries
 * counts the attempts; start it at 0. */
int mh_txn_retry(struct mh_store *st, int *dbret, int *tries);
/* Begins a transaction that fails with DB_LOCK_NOTGRANTED rather than
 * wait for a lock. */
int mh_txn_begin(struct mh_store *st, DB_TXN **txn, u_int32_t flags);
/* Maps a Berkeley DB return code to the layer's error. */
enum mh_store_err mh_store_error(int dbret);

/* --- codec.c: keys and counters. */
/* Big-endian, so that btrees keep numeric order. */
void mh_be64_put(unsigned char out[8], uint64_t v);
uint64_t mh_be64_get(const unsigned char in[8]);
void mh_be32_put(unsigned char out[4], uint32_t v);
uint32_t mh_be32_get(const unsigned char in[4]);
/* Points key at buf holding id, big-endian. */
void mh_key64(DBT *key, unsigned char buf[8], uint64_t id);
/* Sets key and data up for a walk of keys only: each key read into buf
 * (its first len bytes set, room for cap), no data read. */
void mh_keys_only(DBT *key, DBT *data, void *buf, size_t len, size_t cap);
/* A 64-bit counter stored under name in db (0 when absent): *before gets
 * its value (read with flags: DB_RMW to lock it for the write to come),
 * then delta is added to it unless 0. Inside txn. */
int mh_counter(DB *db, DB_TXN *txn, const char *name, int64_t delta,
    u_int32_t flags, uint64_t *before);
/* The same under a key of len bytes, which may hold NULs. */
int mh_counter_key(DB *db, DB_TXN *txn, const void *key, size_t len,
    int64_t delta, u_int32_t flags, uint64_t *before);
/* Called for each record a walk passes, its key and data valid during
 * the call; non-zero stops the walk. */
typedef int (*mh_walk_fn)(void *ctx, const DBT *key, const DBT *data);
/* Walks db in key order inside txn, from the first key at or after from
 * (fromlen bytes; the whole table when from is NULL). */
int mh_db_walk(DB *db, DB_TXN *txn, const void *from, size_t fromlen,
    mh_walk_fn fn, void *ctx);
/* Walks db from its first record, each read for update: fn may change
 * data in place (its size kept) and return MH_WALK_WRITE to have it
 * written back, 0 to go on, or another value to stop. 0, or a Berkeley
 * DB code. */
typedef int (*mh_rewrite_fn)(void *ctx, const DBT *key, DBT *data);
#define MH_WALK_WRITE 2
int mh_db_rewrite(DB *db, DB_TXN *txn, mh_rewrite_fn fn, void *ctx);
/* qsort's comparison of two uint64_t. */
int mh_u64_cmp(const void *a, const void *b);
/* The number of keys in db, as its statistics count them. */
int mh_db_count(DB *db, DB_TXN *txn, uint64_t *n);
/* The key of the last seq in use in meta.db. */
#define MH_LAST_SEQ "last_seq"
/* The key of the raw bodies' running total in raw.db. */
#define MH_RAW_TOTAL "total"

/* --- tallies.c: what the drains stored and dropped, in meta.db. */
#define MH_TALLY_KEY_MAX 128
#define MH_TALLY_BATCH 64	/* 2 providers x 12 types, and room */
/* A transaction's tallies, written at its end. */
struct mh_tally_batch {
	size_t n;
	struct {
		char key[MH_TALLY_KEY_MAX];
		size_t len;
		uint64_t count;
	} item[MH_TALLY_BATCH];
};
/* Counts one of kind ("events", "duplicates") for provider and type (NULL
 * for none); EINVAL when the names are too long, ENOSPC when the batch is
 * full. */
int mh_tally_note(struct mh_tally_batch *b, const char *kind,
    const char *provider, const char *type);
/* Adds the batch's counts to the tallies, inside txn. */
int mh_tally_write(struct mh_store *st, DB_TXN *txn,
    const struct mh_tally_batch *b);

/* --- process.c */
/* 1 when process pid exists (whoever it runs as). */
int mh_process_alive(pid_t pid);

/* --- entry.c: the raw record of an inbox entry. */
/* The record of meta and body: *rec is malloc'd, *len its size. 0 or
 * ENOMEM (or EINVAL when it cannot be encoded). */
int mh_entry_encode(const struct mh_entry_meta *meta, const void *body,
    size_t body_len, void **rec, size_t *len);
/* Decodes a record (or its head: body_len then counts what was read) into
 * e (e->receipt is left alone). -1 when it is not one. */
int mh_entry_decode(const void *rec, size_t len, struct mh_entry *e);
/* Bytes of a record enough to decode its metadata. */
#define MH_ENTRY_HEAD_MAX 512

/* --- inbox.c: acknowledgement and claims. */

/* An inbox entry's value: the attempts made at it, who made the last one
 * and when (pid 0: nobody yet), and how many of its events are stored. */
struct mh_claim {
	uint32_t attempts, pid, at, done;
};
#define MH_CLAIM_SIZE 16
/* The claim of an entry's value. */
struct mh_claim mh_claim_get(const DBT *data);
/* Points key and data at the caller's buffers, for reading entries (a
 * receipt and its claim). */
void mh_claim_dbts(DBT *key, unsigned char kbuf[8], DBT *data,
    unsigned char vbuf[MH_CLAIM_SIZE]);
/* Writes receipt's entry with claim c, inside txn. */
int mh_claim_put(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    const struct mh_claim *c);
/* The processes a walk of the inbox found alive or not: the entries of
 * one process mostly come in runs, and each look is a system call. */
struct mh_alive_seen {
	uint32_t pid[8];
	int alive[8];
	size_t n;
};
/* A claim lasts while its process lives, and this long after its last
 * sign of work (the claim, each run stored): a stuck drain held its
 * entries out of sight for a minute. Taken over early, an entry is still
 * stored once (the runs' count done, the duplicate check). */
#define MH_CLAIM_SECONDS 5
/* 1 when another live process than this one is at the entry now. */
int mh_claimed_by_other(const struct mh_store *st, const struct mh_claim *c,
    struct mh_alive_seen *seen);
/* Gives up the inbox entries this process claimed (its handle closes, or
 * was reopened after a failure), so that others take them at once rather
 * than after the claim runs out. Best effort. */
void mh_inbox_release_claims(struct mh_store *st);
/* Gives up every process's claims: after a recovery, which voided the
 * handles that made them. Best effort. */
void mh_inbox_release_all_claims(struct mh_store *st);

/* --- drain.c */
/* Derives the events of one raw body kept under receipt and stores those
 * not stored yet, in a transaction of its own (the inbox is left alone);
 * *nstored counts them. A body that cannot be derived is reported on
 * stderr and skipped. Returns a Berkeley DB code. */
int mh_drain_receipt(struct mh_store *st, const struct mh_deriver *d,
    uint64_t receipt, size_t *nstored);

/* --- set_aside.c */
/* Moves an entry out of the inbox into the set-aside store, with why. */
int mh_set_aside(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    uint32_t attempts, const char *reason);

/* --- events.c */
/* A notification stored with an event: its id, stored text (the caller
 * frees) and its user's unread count; json NULL when none. */
struct mh_noticed {
	uint64_t id;
	char *json;
	uint64_t unread;
};
struct mh_gram_batch;
/* Stores one event inside txn unless its identity was seen; *seq is the
 * last seq in use and is advanced when the event is stored, with its
 * indexes (its trigrams into grams, event_index.c), and its message's
 * summary folded by d, and the notification it makes stored (*nt); its
 * raw body was receipt. On success *json is the stored text (caller
 * frees) or NULL for a duplicate. */
int mh_events_put(struct mh_store *st, DB_TXN *txn, const struct mh_event *ev,
    uint64_t receipt, struct mh_gram_batch *grams, const struct mh_deriver *d,
    uint64_t *seq, char **json, struct mh_noticed *nt);

/* Rewrites the earlier events of its message fold f named, each as d's
 * amend makes it of the message's summary, its count per hour moved as
 * it says. */
int mh_events_amend(struct mh_store *st, DB_TXN *txn,
    const struct mh_deriver *d, const struct mh_fold *f, const char *summary);

/* --- notifications.c, inside a transaction. */
/* Stores r as the next notification; *nt as mh_events_put's. */
int mh_notice_put(struct mh_store *st, DB_TXN *txn, const struct mh_record *r,
    struct mh_noticed *nt);

/* Deletes every notification names says to (shown its JSON text), a
 * batch a transaction; *n counts them. A Berkeley DB code. */
int mh_notices_erase(struct mh_store *st,
    int (*names)(void *ctx, const char *json), void *ctx, uint64_t *n);

/* --- notes.c */
/* The notes handed to a fold: its transaction's (ops first, what the
 * fold is given). ret keeps the Berkeley DB code of the first failure,
 * for the transaction to return. */
struct mh_notes_txn {
	struct mh_notes ops;
	struct mh_store *st;
	DB_TXN *txn;
	int ret;
};
void mh_notes_open(struct mh_notes_txn *n, struct mh_store *st, DB_TXN *txn);
/* Removes one note (none there is no failure). A Berkeley DB code. */
int mh_note_erase(struct mh_store *st, DB_TXN *txn, enum mh_note_kind kind,
    const char *value);

/* --- messages.c */
/* Folds f->ev, to be stored under f->seq, into its message's summary
 * with d's fold, which fills f's out part (the caller frees it, whatever
 * the outcome); an event of no message is not folded. */
int mh_message_fold(struct mh_store *st, DB_TXN *txn,
    const struct mh_deriver *d, struct mh_fold *f);
/* Deletes the summary of provider's message_id (with when_empty, only
 * when no event of it is left); *deleted says whether one went. */
int mh_message_del(struct mh_store *st, DB_TXN *txn, const char *provider,
    const char *message_id, int when_empty, int *deleted);

/* --- indexed.c, query.c: records of the indexed tables. */
/* Writes r as record n of table t, inside txn. was NULL: a new record,
 * its JSON led by {"key":n, its unique values claimed (DB_KEYEXIST when
 * one is another's, EINVAL when one is empty); else the record as changed
 * from the one whose fields were *was, its JSON whole, its unique values
 * moved as they changed. A write moves the table's changes counter.
 * *text gets the stored JSON text when not NULL (caller frees). */
int mh_indexed_put(struct mh_store *st, DB_TXN *txn, enum mh_table t,
    const struct mh_record *r, const union mh_fields_ref *was, uint64_t n,
    char **text);
/* Deletes record n of table t, whose fields were *was (its unique values
 * given back). */
int mh_indexed_del(struct mh_store *st, DB_TXN *txn, enum mh_table t,
    uint64_t n, const union mh_fields_ref *was);
/* Splits a stored record into its header fields and JSON text, pointing
 * into d; -1 when it is not one. */
int mh_indexed_parse(const DBT *d, union mh_fields_ref *f, const char **json);
/* indexed.c: the record holding value in the unique map dbi, read under
 * a write lock (for the write to come): *id, 0 when none. A Berkeley DB
 * code. */
int mh_unique_holder(struct mh_store *st, DB_TXN *txn, int dbi,
    const char *value, uint64_t *id);
/* --- records.c */
/* Record id of table t read inside txn (locked when change is given) and
 * changed as change says (*what: its MH_CHANGE_*; none given, KEEP); its
 * JSON after into *json when not NULL (malloc'd; NULL once deleted).
 * DB_NOTFOUND when there is none, or it is not a record of ours. */
int mh_record_alter(struct mh_store *st, DB_TXN *txn, enum mh_table t,
    uint64_t id, mh_change_fn change, void *ctx, int *what, char **json);
/* What a pass does with each matching record: 0 goes on, 1 stops, any
 * other value is an error that ends the pass. */
typedef int (*mh_visit_fn)(void *ctx, uint64_t seq,
    const union mh_fields_ref *f, const char *json);
/* A query's filters as stored into *view: the folded fields lower-cased
 * copies in *own (malloc'd: mh_filters_free), the others the query's
 * own. -1 out of memory. */
int mh_filters_of(const struct mh_query *q, union mh_fields *own,
    union mh_fields_ref *view);
void mh_filters_free(union mh_fields *f);
/* Does a record pass the filters (as stored) on its header fields, and
 * the application's own? */
int mh_query_match(const struct mh_query *q,
    const union mh_fields_ref *filters, const union mh_fields_ref *f,
    const char *json);

/* --- layout.c: a small record's binary layout, declared as a table of
 * its fields: big-endian numbers in order, then at most one
 * NUL-terminated text, last. */
enum mh_slot_kind {
	MH_SLOT_BYTE,		/* an int from 0 to max, in one byte */
	MH_SLOT_FLAG,		/* an int, stored as 0 or 1 */
	MH_SLOT_U32,		/* a uint32_t (or unsigned) */
	MH_SLOT_I64,		/* an int64_t */
	MH_SLOT_BYTES,		/* an unsigned char[max], as it is */
	MH_SLOT_TEXT,		/* a char[max], its NUL included */
};
struct mh_slot {
	enum mh_slot_kind kind;
	size_t at;		/* offsetof the field in the record's struct */
	size_t max;		/* a byte's largest value; a text's size */
};
struct mh_layout {
	const struct mh_slot *slot;
	size_t n;
	int text_required;	/* an empty text is no record */
};
/* Where slot is stored; and the largest record. */
size_t mh_layout_offset(const struct mh_layout *l, size_t slot);
size_t mh_layout_size(const struct mh_layout *l);
/* The record rec (the layout's struct) into buf, of mh_layout_size bytes
 * at least; its length. */
size_t mh_layout_encode(const struct mh_layout *l, const void *rec,
    unsigned char *buf);
/* The stored record (len bytes) into rec's fields (the others are left
 * as they are); -1 when it is not one of the layout's. */
int mh_layout_decode(const struct mh_layout *l, const unsigned char *buf,
    size_t len, void *rec);

/* --- idempotency.c, inside the transaction doing the work. */
/* Looks idem's key up in db: *res says whether it is new, done before
 * (*answer: the first answer, caller frees) or used for another body. */
int mh_idem_find(DB_TXN *txn, DB *db, const struct mh_idem *idem,
    enum mh_idem_result *res, char **answer);
/* Keeps answer for idem's key. */
int mh_idem_keep(DB_TXN *txn, DB *db, const struct mh_idem *idem,
    const char *answer);
/* What a request adds, inside its transaction: its records under the ids
 * from first on. */
typedef int (*mh_idem_work_fn)(struct mh_store *st, DB_TXN *txn, void *ctx,
    uint64_t first);
/* One flushed transaction: with idem (or NULL), the first answer when the
 * key was used (*res); else n ids from the counter named counter in
 * meta.db, work, and answer's text for them (*text, caller frees), kept
 * for idem's key. */
enum mh_store_err mh_idem_add(struct mh_store *st, const char *counter,
    size_t n, mh_idem_work_fn work, void *wctx, const struct mh_idem *idem,
    mh_answer_fn answer, void *actx, char **text, enum mh_idem_result *res);

/* --- lease.c: a record's place in its send queue, inside a transaction. */
/* Reads it (flags: DB_RMW to change it); DB_NOTFOUND when there is none. */
int mh_lease_get(struct mh_store *st, enum mh_sendq q, DB_TXN *txn,
    uint64_t id, struct mh_lease *l, u_int32_t flags);
int mh_lease_put(struct mh_store *st, enum mh_sendq q, DB_TXN *txn,
    uint64_t id, const struct mh_lease *l);
/* Takes it out of the queue (there or not). */
int mh_lease_del(struct mh_store *st, enum mh_sendq q, DB_TXN *txn,
    uint64_t id);

/* --- keyed.c: one small record by its key, in table dbi. */
#define MH_KEYED_MAX 512
/* Reads it into buf (cap bytes), *len its length; MH_STORE_NOTFOUND. */
enum mh_store_err mh_keyed_get(struct mh_store *st, int dbi, const void *key,
    size_t klen, void *buf, size_t cap, size_t *len);
/* Writes it, flushed; with unique, MH_STORE_EXISTS when there is one. */
enum mh_store_err mh_keyed_put(struct mh_store *st, int dbi, const void *key,
    size_t klen, const void *data, size_t len, int unique);
/* Deletes it; MH_STORE_NOTFOUND when there was none. */
enum mh_store_err mh_keyed_del(struct mh_store *st, int dbi, const void *key,
    size_t klen);
/* What an mh_keyed_fn wants done with the record it was shown. */
#define MH_KEYED_KEEP 0
#define MH_KEYED_WRITE 1
#define MH_KEYED_DELETE 2
/* Shown the record (rec, *len bytes; found 0 when there is none), may
 * change it in place up to cap bytes; says what to do with it. */
typedef int (*mh_keyed_fn)(void *ctx, unsigned char *rec, size_t *len,
    size_t cap, int found);
/* Reads the record with a write lock, has change decide, and does it, in
 * one transaction committed with commit (0: flushed). MH_STORE_NOTFOUND
 * when there was none and none was written. */
enum mh_store_err mh_keyed_update(struct mh_store *st, int dbi,
    const void *key, size_t klen, size_t cap, mh_keyed_fn change, void *ctx,
    u_int32_t commit);
/* Sets the big-endian 64-bit field at offset of the record (cap bytes at
 * most) when there is one, unflushed (a note a crash may lose: a time
 * seen); MH_STORE_NOTFOUND when there is none. */
enum mh_store_err mh_keyed_set64(struct mh_store *st, int dbi,
    const void *key, size_t klen, size_t cap, size_t offset, uint64_t value);

#include "store-index.h"

#endif

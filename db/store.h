/*
 * mailhooks storage layer: one transactional Berkeley DB environment under
 * $MAILHOOKS_HOME/db holding the inbox (raw requests), the events with their
 * indexes, the per-message summaries and the duplicate check.
 *
 * Every function returns an enum mh_store_err; MH_STORE_OK is 0.
 */
#ifndef MH_STORE_H
#define MH_STORE_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

enum mh_store_err {
	MH_STORE_OK = 0,
	MH_STORE_NOTFOUND,	/* no such record */
	MH_STORE_FAILED,	/* storage cannot take it now: answer 503 */
	MH_STORE_RECOVER,	/* environment needs recovery: reopen it */
	MH_STORE_NOMEM,
};

struct mh_store;

/* One event ready to be stored: a normalised JSON object, its identity
 * (provider, message id, type, timestamp...) for the duplicate check, and
 * optionally the provider's own record of it (an Infobip email_callback),
 * stored beside it under the same seq. */
struct mh_event {
	struct json_object *json;
	char *identity;
	struct json_object *entity;	/* or NULL */
};

/* A raw inbox entry as handed to a deriver. */
struct mh_raw {
	uint64_t receipt;
	const char *meta;	/* JSON object: provider, received_at, remote_addr */
	const char *body;
	size_t body_len;
};

/*
 * Turns a raw entry into events. On success fills *events (an array the
 * caller frees with mh_events_free) and returns 0; on a permanent failure
 * returns -1 with a reason in why.
 */
typedef int (*mh_derive_fn)(void *ctx, const struct mh_raw *raw,
    struct mh_event **events, size_t *count, char *why, size_t whylen);

/* Called after commit with each newly stored event, in seq order. */
typedef void (*mh_stored_fn)(void *ctx, uint64_t seq, const char *json,
    size_t len);

/* Called by mh_store_query for each matching event, in answer order. */
typedef int (*mh_emit_fn)(void *ctx, uint64_t seq, const char *json,
    size_t len);

enum mh_table {
	MH_TABLE_EVENTS,	/* the events, by seq */
	MH_TABLE_CALLBACKS,	/* providers' records (email_callback), by id */
};

/* A page of a table. The three filters name each table's indexed fields:
 * for events type, email and message_id; for callbacks status, email and
 * external_id. */
struct mh_query {
	enum mh_table table;
	const char *type;
	const char *email;
	const char *message_id;
	uint64_t before;	/* 0: none */
	uint64_t after;		/* used when has_after */
	int has_after;
	int64_t since, until;	/* the event's ts: since <= ts < until */
	int has_since, has_until;
	unsigned limit;
};

/* Called by mh_store_count with each matching record's first indexed field
 * (an event's type); with NULL to start counting again from nothing. */
typedef void (*mh_count_fn)(void *ctx, const char *type);

/* Attempts an inbox entry gets before it is set aside as poison. */
#define MH_INBOX_MAX_ATTEMPTS 5

/* Opens (creating and recovering as needed) the environment under
 * home/db. *out is owned by the caller: close it with mh_store_close. */
enum mh_store_err mh_store_open(const char *home, struct mh_store **out);
void mh_store_close(struct mh_store *st);

/* How an acknowledgement is committed: flushed to disk (fsync, the
 * default), or only written to the operating system, which survives a
 * crash of any process but not of the machine. */
void mh_store_set_fsync(struct mh_store *st, int fsync);

/* Closes and reopens the environment after MH_STORE_RECOVER. */
enum mh_store_err mh_store_reopen(struct mh_store **st);

/* Appends a raw request to the inbox, committed synchronously; the new
 * receipt id is written to *receipt. */
enum mh_store_err mh_store_inbox_put(struct mh_store *st, const char *meta,
    const void *body, size_t len, uint64_t *receipt);

/*
 * Processes inbox entries, one transaction each: derive, drop duplicates,
 * store events and indexes, remove from the inbox. own holds nown receipts
 * this process put (their first attempt is already counted), taken first
 * and by key. With walk, then every other entry waiting, but those other
 * live processes are at, which are left to them; the walk reads the inbox
 * from its start, taking a lock on each entry it passes, so a busy process
 * does it now and then rather than each time (it is how entries left
 * behind by a dead process are found). Poison entries are retried
 * MH_INBOX_MAX_ATTEMPTS times, then set aside. *stored counts the new
 * events.
 */
enum mh_store_err mh_store_drain(struct mh_store *st, const uint64_t *own,
    size_t nown, int walk, mh_derive_fn derive, void *dctx,
    mh_stored_fn stored, void *sctx, size_t *nstored);

/*
 * Writes what the cache holds changed to the database files, so that
 * recovery replays little and old log files can go: once enough log was
 * written since the last checkpoint of any process, or, with any, once
 * anything was (else it returns at once). Under load it can take a second
 * (Berkeley DB waits that long for pages others hold), so a process does
 * it where no drain waits on it.
 */
enum mh_store_err mh_store_checkpoint(struct mh_store *st, int any);

/* Answers an event query; *more tells whether another page exists. */
enum mh_store_err mh_store_query(struct mh_store *st, const struct mh_query *q,
    mh_emit_fn emit, void *ctx, int *more);

/* Counts the records matching q (the whole table, in q's time window;
 * limit and cursors are not used): count is called once for each. */
enum mh_store_err mh_store_count(struct mh_store *st, const struct mh_query *q,
    mh_count_fn count, void *ctx);

/* The summary of one message as a JSON text; *json is owned by the caller
 * (free()). */
enum mh_store_err mh_store_message(struct mh_store *st, const char *provider,
    const char *message_id, char **json);

struct mh_store_stats {
	uint64_t last_seq;
	uint64_t inbox_pending;
	uint64_t set_aside;
};
enum mh_store_err mh_store_stats(struct mh_store *st, struct mh_store_stats *s);

/* --- retention.c: raw bodies kept within an age and a total size. */
/* Deletes processed raw bodies received more than max_age seconds before
 * now, then the oldest until they total at most max_bytes; the events keep
 * their receipt. *pruned counts the bodies deleted. */
enum mh_store_err mh_store_prune(struct mh_store *st, int64_t now,
    int64_t max_age, uint64_t max_bytes, size_t *pruned);

/* --- refused.c: the log of refused requests, the newest MH_REFUSED_MAX. */
#define MH_REFUSED_MAX 1000
/* Records one refusal (a JSON object's text). */
enum mh_store_err mh_store_refused_put(struct mh_store *st, const char *json);
/* Calls emit for each refusal kept, oldest first (seq numbers them). */
enum mh_store_err mh_store_refused_list(struct mh_store *st, mh_emit_fn emit,
    void *ctx);

/* --- maintain.c: what the admin tool (db/mailhooks-db) does. */

struct mh_store_sizes {
	uint64_t events, messages, callbacks, raw, set_aside, dedupe;
	uint64_t raw_bytes;	/* the raw bodies' total size */
	uint64_t db_bytes;	/* all files of the environment */
	unsigned log_files;	/* log files still needed or not yet removed */
	unsigned log_newest;	/* the newest log file's number: how many were written */
};
/* Record counts (by reading every table) and disk use. */
enum mh_store_err mh_store_sizes(struct mh_store *st, struct mh_store_sizes *z);

/* Calls emit for each set-aside inbox entry (its reason JSON). */
enum mh_store_err mh_store_set_aside_list(struct mh_store *st, mh_emit_fn emit,
    void *ctx);

/* Derives events again from every raw body kept, storing those not stored
 * yet (after a parser fix); *nstored counts them. */
enum mh_store_err mh_store_reprocess(struct mh_store *st, mh_derive_fn derive,
    void *dctx, mh_stored_fn stored, void *sctx, size_t *nstored);

/* A consistent copy of the environment, taken while it is in use, into
 * dir (created; it must be empty), made ready to open. */
enum mh_store_err mh_store_backup(struct mh_store *st, const char *dir);

/* Checks every database file's structure; problems go to stderr. Returns
 * MH_STORE_OK when all are sound. */
enum mh_store_err mh_store_verify(struct mh_store *st);

/* Frees an array of events returned by a deriver. */
void mh_events_free(struct mh_event *events, size_t count);

/* Encodes and decodes the big-endian keys that keep seq order in btrees. */
void mh_be64_put(unsigned char out[8], uint64_t v);
uint64_t mh_be64_get(const unsigned char in[8]);

#endif

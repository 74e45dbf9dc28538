/*
 * mailhooks storage layer: one transactional Berkeley DB environment under
 * $MAILHOOKS_HOME/db holding the inbox (raw requests), the events with their
 * indexes, the per-message summaries and the duplicate check.
 *
 * The layer stores what the application hands it in the types declared
 * here and never reads the application's JSON: an event comes with its
 * indexed fields apart, a message summary is folded by a function the
 * application gives, and a time window is a filter the application gives.
 *
 * Every function returns an enum mh_store_err; MH_STORE_OK is 0.
 */
#ifndef MH_STORE_H
#define MH_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum mh_store_err {
	MH_STORE_OK = 0,
	MH_STORE_NOTFOUND,	/* no such record */
	MH_STORE_FAILED,	/* storage cannot take it now: answer 503 */
	MH_STORE_RECOVER,	/* environment needs recovery: reopen it */
	MH_STORE_NOMEM,
	MH_STORE_EXISTS,	/* a record of that key is there already */
};

struct mh_store;

/* --- the inbox entry (entry.c) */

#define MH_PROVIDER_MAX 16
#define MH_ADDR_MAX 64

/* What the web side knew of a request when it acknowledged it. */
struct mh_entry_meta {
	char provider[MH_PROVIDER_MAX];	/* "mandrill", "infobip" */
	int64_t received_ms;		/* when, in Unix milliseconds */
	char remote_addr[MH_ADDR_MAX];	/* the client's address, or "" */
	uint64_t bytes;			/* the body's size */
};

/* An inbox entry as handed to a deriver; body points into storage's
 * buffer, valid during the call. */
struct mh_entry {
	uint64_t receipt;
	struct mh_entry_meta meta;
	const char *body;
	size_t body_len;
	/* The JSON of the outgoing mail a provider's message id was sent as
	 * (the outbox's record, malloc'd), or NULL: so that an event that
	 * came without the mail's metadata is joined to it. Set by the drain
	 * (ctx, sent_ctx); NULL where nothing can be asked. */
	char *(*sent_as)(void *ctx, const char *message_id);
	void *sent_ctx;
};

/* --- records of the indexed tables (indexed.c; tables.c's mh_tables
 * declares each table) */

/* The header fields of an indexed table's record, each feeding one of
 * its indexes, named as its table names them: a client's phone is
 * rec.client.phone, an event's address rec.event.email. The storage's
 * own code reads them as a row (at[], as many as the table declares); the
 * application only by name. */
#define MH_FIELDS 3
#define MH_FIELD_NAMES(T)						\
	T *at[MH_FIELDS];						\
	struct { T *type, *email, *message_id; } event;			\
	struct { T *status, *email, *external_id; } callback;		\
	struct { T *user, *identifier, *unread_user; } notification;	\
	struct { T *status, *recipients, *tags; } mail;			\
	struct { T *tag, *operator_code, *phone; } client;		\
	struct { T *deleted, *channel; } campaign;			\
	struct { T *campaign_status, *campaign, *client; } cmessage

/* A record to store: its header fields (each malloc'd, or NULL for ""),
 * and the text of a JSON object, stored with the record's number put
 * first ({"seq":N,... or {"id":N,...). */
struct mh_record {
	union { MH_FIELD_NAMES(char); };
	char *json;
};
/* Fields the caller owns, each malloc'd or NULL. */
union mh_fields { MH_FIELD_NAMES(char); };
/* A record's fields as read (pointing into storage's buffer, valid during
 * the call), or a query's filters (NULL: any). */
union mh_fields_ref { MH_FIELD_NAMES(const char); };
/* Between the values of a header field that holds several (a mail's
 * recipients, its tags): each value is indexed, and matches a filter. */
#define MH_VALUE_SEP '\x1f'

/* One event ready to be stored: the event; optionally the provider's own
 * record of it (an Infobip email_callback, entity.json NULL when none),
 * stored beside it under the same seq; its identity for the duplicate
 * check; and what its message's summary folds in. Every pointer is owned
 * by the event (mh_event_clear frees them). */
struct mh_event {
	struct mh_record rec;
	struct mh_record entity;
	char *identity;		/* NUL-terminated */
	char *provider;		/* with rec.event.message_id, its message's
				 * key */
	char *subject;
	int64_t ts;		/* when it happened, Unix seconds */
	uint64_t receipt;	/* mh_describe_fn's only: its raw body */
	/* A notification the event makes (a user's mail opened), stored
	 * with it when the event is new (notice.json NULL: none). */
	struct mh_record notice;
};

static inline void
mh_event_clear(struct mh_event *ev)
{
	for (int i = 0; i < MH_FIELDS; i++) {
		free(ev->rec.at[i]);
		free(ev->entity.at[i]);
		free(ev->notice.at[i]);
	}
	free(ev->rec.json);
	free(ev->entity.json);
	free(ev->notice.json);
	free(ev->identity);
	free(ev->provider);
	free(ev->subject);
}

/* Frees an array of count events. */
static inline void
mh_events_free(struct mh_event *events, size_t count)
{
	for (size_t i = 0; events != NULL && i < count; i++)
		mh_event_clear(&events[i]);
	free(events);
}

/* The application's notes: short texts by kind and value, read and
 * written by its fold in the transaction that stores an event (what a
 * verdict on an event needs beyond its message). A recipient's note goes
 * with the recipient's erasure. */
enum mh_note_kind {
	MH_NOTE_RECIPIENT,	/* by lower(email) */
	MH_NOTE_ADDRESS,	/* by a network address */
};
/* The notes as a fold is handed them: get makes *text the note
 * (malloc'd, the caller frees), NULL when there is none; put sets it, or
 * removes it (text NULL). Each 0, or -1: the transaction fails (and is
 * retried if it can be). */
struct mh_notes {
	int (*get)(struct mh_notes *n, enum mh_note_kind kind,
	    const char *value, char **text);
	int (*put)(struct mh_notes *n, enum mh_note_kind kind,
	    const char *value, const char *text);
};

/* A name an event is counted under per hour instead of its type. */
#define MH_COUNTED_MAX 32
/* Earlier events of its message one fold may change (as many as the
 * application's summary keeps clicks of). */
#define MH_FOLD_AMEND 20

/* One event folded into its message's summary, in its transaction, before
 * it is stored. The fold may amend the event (a verdict that needs the
 * message's history), and earlier events of the message with it. */
struct mh_fold {
	const struct mh_event *ev;	/* in: the event, its seq, */
	uint64_t seq;
	const char *summary;	/* its message's summary so far (NULL: none), */
	struct mh_notes *notes;	/* the notes, in the same transaction
				 * (NULL: none, a fold outside a store) */
	char *folded;		/* out, malloc'd: the new summary; */
	char *json;		/* the event's text as amended (NULL: as is); */
	int silence;		/* its notification is not due after all; */
	char counted[MH_COUNTED_MAX + 1];	/* "": counted as its type; */
	uint64_t amend[MH_FOLD_AMEND];	/* earlier events to amend */
	size_t namend;
};

/*
 * What the application does for the drain:
 *  - derive turns an entry into events. On success fills *events (an
 *    array the caller frees with mh_events_free) and returns 0; on a
 *    permanent failure returns -1 with a reason in why.
 *  - fold fills f's out part from its in part: 0, or -1 out of memory
 *    (what it made is freed by the caller either way).
 *  - amend rewrites an earlier event a fold named (its stored text) as
 *    the message's new summary says: *amended malloc'd, or NULL to keep
 *    it; counted as struct mh_fold's. 0, or -1 out of memory.
 *  - stored, when not NULL, is told after commit of each newly stored
 *    event, in seq order, with its stored text.
 */
struct mh_machine_rules;
struct mh_deriver {
	int (*derive)(const struct mh_deriver *d, const struct mh_entry *entry,
	    struct mh_event **events, size_t *count, char *why, size_t whylen);
	int (*fold)(const struct mh_deriver *d, struct mh_fold *f);
	int (*amend)(const struct mh_deriver *d, const char *summary,
	    const char *json, char **amended,
	    char counted[MH_COUNTED_MAX + 1]);
	void (*stored)(void *ctx, uint64_t seq, const char *json, size_t len);
	/* A notification an event made, stored (its JSON with its id), and
	 * its user's unread count then. */
	void (*noticed)(void *ctx, uint64_t id, const char *json, size_t len,
	    uint64_t unread);
	void *ctx;
	unsigned notify_types;	/* the application's: which types notify */
	/* The application's too, handed back to derive and fold: the rules
	 * telling a machine's open from a person's (NULL: none), whether a
	 * machine's notifies, and the trap link's address ("": none). */
	const struct mh_machine_rules *machine_rules;
	int notify_machine;
	const char *trap_url;
};

/* Called for each record a listing hands out, in answer order; non-zero
 * stops the listing. */
typedef int (*mh_emit_fn)(void *ctx, uint64_t seq, const char *json,
    size_t len);

/* --- queries (query.c) */

enum mh_table {
	MH_TABLE_EVENTS,	/* the events, by seq */
	MH_TABLE_CALLBACKS,	/* providers' records (email_callback), by id */
	MH_TABLE_NOTIFICATIONS,	/* users' notifications, by id */
	MH_TABLE_MAIL,		/* outgoing mail, by id */
	MH_TABLE_CLIENTS,	/* the campaigns' clients, by id */
	MH_TABLE_CAMPAIGNS,	/* campaigns, by id */
	MH_TABLE_CMESSAGES,	/* campaigns' messages, by id */
};

/* A page of a table, filtered on its header fields (where, named as the
 * table names them: where.client.phone; the query reads the index of the
 * most selective one given). keep, when set, is asked of each record the
 * filters pass (its JSON text): the application's own conditions. */
struct mh_query {
	enum mh_table table;
	union mh_fields_ref where;
	uint64_t before;	/* 0: none */
	uint64_t after;		/* used when has_after */
	int has_after;
	unsigned limit;
	int (*keep)(void *ctx, const char *json);
	void *keep_ctx;
	/* Events only: part of the address or the subject, in any case
	 * (NULL: none; from 2 bytes on it is looked up in the trigram
	 * index); and their times, within [since, until), looked up in
	 * the time index. */
	const char *text;
	int64_t since, until;
	int has_since, has_until;
	/* Events only: newest event time first (then seq), not newest
	 * stored; the cursor is (before_ts, before): the page's last. */
	int by_time;
	int64_t before_ts;
	int has_before_ts;
};

/* Called by mh_store_count with each matching record's first header field
 * (an event's type, or the name its hour counts it under: struct
 * mh_fold's counted); with NULL to start counting again from nothing. */
typedef void (*mh_count_fn)(void *ctx, const char *type);

/* Attempts an inbox entry gets before it is set aside as poison. */
#define MH_INBOX_MAX_ATTEMPTS 5

/* --- the environment (env.c) */

/* Opens (creating and recovering as needed) the environment under
 * home/db. *out is owned by the caller: close it with mh_store_close. */
enum mh_store_err mh_store_open(const char *home, struct mh_store **out);
void mh_store_close(struct mh_store *st);

/* Opens an environment that exists, as a guest (the admin tool): it
 * creates no file and runs no recovery. MH_STORE_NOTFOUND when home holds
 * none; MH_STORE_RECOVER when it needs recovery, which the server's next
 * open runs. Close it with mh_store_close. */
enum mh_store_err mh_store_attach(const char *home, struct mh_store **out);

/* How an acknowledgement is committed: flushed to disk (fsync, the
 * default), or only written to the operating system, which survives a
 * crash of any process but not of the machine. */
void mh_store_set_fsync(struct mh_store *st, int fsync);

/* Closes and reopens the environment after MH_STORE_RECOVER. */
enum mh_store_err mh_store_reopen(struct mh_store **st);

/*
 * Which making of the environment under home is there now (its main
 * region file's identity; 0: none): a recovery makes the environment
 * anew, and the handles of the processes attached before it are void.
 * Those fail at their next call, but one blocked on a mutex that a killed
 * process held never returns: mh_store_joined differing from this while a
 * request lasts says so. A stat(2) only, safe from any thread at any
 * time; st: the making this handle joined.
 */
uint64_t mh_store_region(const char *home);
uint64_t mh_store_joined(const struct mh_store *st);

/*
 * Writes what the cache holds changed to the database files, so that
 * recovery replays little and old log files can go: once enough log was
 * written since the last checkpoint of any process, or, with any, once
 * anything was (else it returns at once). Under load it can take a second
 * (Berkeley DB waits that long for pages others hold), so a process does
 * it where no drain waits on it.
 */
enum mh_store_err mh_store_checkpoint(struct mh_store *st, int any);

/* --- the inbox (inbox.c) and its drain (drain.c) */

/* Appends a raw request to the inbox, committed synchronously; the new
 * receipt id is written to *receipt. */
enum mh_store_err mh_store_inbox_put(struct mh_store *st,
    const struct mh_entry_meta *meta, const void *body, size_t len,
    uint64_t *receipt);

/*
 * Processes inbox entries, one transaction each: derive, drop duplicates,
 * store events and indexes, fold message summaries, remove from the
 * inbox. own holds nown receipts this process put (their first attempt is
 * already counted), taken first and by key. With walk, then every other
 * entry waiting, but those other live processes are at, which are left to
 * them; the walk reads the inbox from its start, taking a lock on each
 * entry it passes, so a busy process does it now and then rather than
 * each time (it is how entries left behind by a dead process are found).
 * Poison entries are retried MH_INBOX_MAX_ATTEMPTS times, then set aside.
 * *nstored counts the new events.
 */
enum mh_store_err mh_store_drain(struct mh_store *st, const uint64_t *own,
    size_t nown, int walk, const struct mh_deriver *d, size_t *nstored);

/* Derives events again from every raw body kept, storing those not stored
 * yet (after a parser fix); *nstored counts them. */
enum mh_store_err mh_store_reprocess(struct mh_store *st,
    const struct mh_deriver *d, size_t *nstored);

/* --- reading (query.c, messages.c, stats.c) */

/* Every record q's filters match (its cursors left out), oldest first, a
 * page of q->limit to a transaction, so that none holds the table for
 * long; emit as mh_store_query's (non-zero stops the walk, and is an
 * error). */
enum mh_store_err mh_store_query_all(struct mh_store *st,
    const struct mh_query *q, mh_emit_fn emit, void *ctx);

/* Answers a query; *more tells whether another page exists. */
enum mh_store_err mh_store_query(struct mh_store *st, const struct mh_query *q,
    mh_emit_fn emit, void *ctx, int *more);

/* Counts the records matching q (the whole table; limit and cursors are
 * not used): count is called once for each. */
enum mh_store_err mh_store_count(struct mh_store *st, const struct mh_query *q,
    mh_count_fn count, void *ctx);

/* Hands every message's summary to emit (seq 0), in key order; first
 * with json NULL, and again so when a retry starts the walk over. */
enum mh_store_err mh_store_messages_walk(struct mh_store *st, mh_emit_fn emit,
    void *ctx);

/* The summary of one message as its fold made it; *json is owned by the
 * caller (free()). */
enum mh_store_err mh_store_message(struct mh_store *st, const char *provider,
    const char *message_id, char **json);

struct mh_store_stats {
	uint64_t last_seq;
	uint64_t inbox_pending;
	uint64_t set_aside;
	uint64_t notifications_made;	/* stored, ever: the last id */
	uint64_t mail_made;		/* mails queued, ever: the last id */
};
enum mh_store_err mh_store_stats(struct mh_store *st, struct mh_store_stats *s);

struct mh_store_sizes {
	uint64_t events, messages, callbacks, raw, set_aside, dedupe;
	uint64_t notifications, unread;
	uint64_t raw_bytes;	/* the raw bodies' total size */
	uint64_t db_bytes;	/* all files of the environment */
	unsigned log_files;	/* log files still needed or not yet removed */
	unsigned log_newest;	/* the newest log file's number: how many were written */
};
/* Record counts (by reading every table) and disk use. */
enum mh_store_err mh_store_sizes(struct mh_store *st, struct mh_store_sizes *z);
/* Disk use alone (db_bytes, log_files, log_newest; the rest 0), reading
 * no table: cheap enough for every scrape. */
enum mh_store_err mh_store_files(struct mh_store *st, struct mh_store_sizes *z);

#include "store_accounts.h"
#include "store_notifications.h"
#include "store_outbox.h"
#include "store_campaigns.h"
#include "store_events.h"

/* --- tallies.c: what the drains stored and dropped, ever, counted in the
 * transactions that did it (exact, whatever process is killed when). */
struct mh_store_tally {
	const char *kind;	/* "events" or "duplicates" */
	const char *provider;
	const char *type;	/* an event type; "" for duplicates */
	uint64_t count;
};
/* Called for each tally, in key order; non-zero stops. The strings live
 * as long as the call. */
typedef int (*mh_tally_fn)(void *ctx, const struct mh_store_tally *t);
enum mh_store_err mh_store_tallies(struct mh_store *st, mh_tally_fn fn,
    void *ctx);

/* --- retention.c: raw bodies kept within an age and a total size. */
/* Deletes processed raw bodies received more than max_age seconds before
 * now, then the oldest until they total at most max_bytes; the events keep
 * their receipt. *pruned counts the bodies deleted. */
enum mh_store_err mh_store_prune(struct mh_store *st, int64_t now,
    int64_t max_age, uint64_t max_bytes, size_t *pruned);

/* --- refused.c: the log of refused requests, the newest MH_REFUSED_MAX. */
#define MH_REFUSED_MAX 1000
/* Records one refusal (a JSON object's text, kept as it is). */
enum mh_store_err mh_store_refused_put(struct mh_store *st, const char *json);
/* Calls emit for each refusal kept, oldest first (seq numbers them). */
enum mh_store_err mh_store_refused_list(struct mh_store *st, mh_emit_fn emit,
    void *ctx);

/* --- set_aside.c: the inbox entries given up on. */
struct mh_set_aside {
	uint64_t receipt;
	uint32_t attempts;
	int64_t at;		/* when, Unix seconds */
	char reason[256];
	const char *legacy;	/* a record an earlier version wrote (its
				 * JSON text, as kept), or NULL */
};
/* Calls list for each set-aside entry, in receipt order; non-zero stops. */
enum mh_store_err mh_store_set_aside_list(struct mh_store *st,
    int (*list)(void *ctx, const struct mh_set_aside *s), void *ctx);

/* --- backup.c */
/* A consistent copy of the environment, taken while it is in use, into
 * dir (created; it must be empty), made ready to open. */
enum mh_store_err mh_store_backup(struct mh_store *st, const char *dir);

/* Checks every database file's structure, on a hot backup made for it in
 * HOME (verify must not read files being written) and removed after;
 * problems go to stderr. MH_STORE_OK when all are sound. */
enum mh_store_err mh_store_verify(struct mh_store *st);

#endif

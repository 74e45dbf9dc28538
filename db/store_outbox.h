/*
 * The storage layer's outgoing mail (included by store.h): an indexed
 * table of mail records (struct mh_record: status, recipients and tags,
 * several values MH_VALUE_SEP apart) the application makes and changes,
 * the outbox queue of those still to be sent, with the lease a sender
 * holds on what it sends, and the join of a provider's message ids to
 * the mail they came from.
 */
#ifndef MH_STORE_OUTBOX_H
#define MH_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

/* A mail's place in the outbox: when it is due, and which sender holds
 * it since when (pid 0: none). A lease (and an inbox entry's claim)
 * lapses with its holder, or after MH_LEASE_SECONDS however alive the
 * holder is (its pid may be another process's by now). */
struct mh_lease {
	int64_t due_ms;
	uint32_t pid;
	uint32_t at;		/* Unix seconds */
};
#define MH_LEASE_SECONDS 60

/* Stores rec as the next mail, in the outbox due at due_ms (-1: not in
 * it), in one transaction; with idem (or NULL) keeps answer's text for a
 * retry. *text is the answer (caller frees; with MH_IDEM_REPLAY the first
 * one, NULL with MH_IDEM_CONFLICT). */
enum mh_store_err mh_store_mail_add(struct mh_store *st,
    const struct mh_record *rec, int64_t due_ms, const struct mh_idem *idem,
    mh_answer_fn answer, void *ctx, char **text, enum mh_idem_result *res);

/* The mail a provider's message id was joined to. */
enum mh_store_err mh_store_mail_of(struct mh_store *st, const char *remote,
    uint64_t *id);

/* The send queues: records (an indexed table's) with a place in a queue
 * of what is due, each place leased by the sender sending it. */
enum mh_sendq {
	MH_SENDQ_MAIL,		/* mail (MH_TABLE_MAIL) in the outbox */
	MH_SENDQ_CAMPAIGN,	/* campaign messages (MH_TABLE_CMESSAGES) */
	MH_SENDQ_COUNT
};

/* --- queued.c: a queued record and its place, changed together. */
/* What an mh_queued_fn wants done. The zeroed struct changes nothing. */
#define MH_QUEUE_KEEP 0
#define MH_QUEUE_OFF 1		/* out of the queue: nothing more to send */
#define MH_QUEUE_AT 2		/* due at due_ms */
struct mh_queued_next {
	struct mh_record rec;	/* malloc'd, the storage frees it; json
				 * NULL: the record stays as it is */
	int queue;
	int64_t due_ms;		/* with MH_QUEUE_AT */
	int hold;		/* with MH_QUEUE_AT: this process keeps (or
				 * takes) the lease; else it is let go */
	char **remote;		/* provider message ids now the mail's (the
				 * caller's, NULL-terminated), or NULL */
};
/* Shown the i-th record asked for (its JSON text with its id) and its
 * lease (NULL when it is not in the queue), fills next: 0, or ENOMEM. It
 * may run again when the transaction is retried. */
typedef int (*mh_queued_fn)(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next);
/* Changes the n records of those ids in q as change says, in one
 * transaction (flushed: one flush for them all); json, when not NULL, gets
 * n records as they are after (caller frees each; NULL for an id that is
 * none). MH_STORE_NOTFOUND when none of them is there. */
enum mh_store_err mh_store_queued_change(struct mh_store *st, enum mh_sendq q,
    const uint64_t *ids, size_t n, mh_queued_fn change, void *ctx,
    char **json);
/* The record of that id: *json (caller frees) and, when lease is not
 * NULL, its lease (*queued 0 when it is not in the queue). */
enum mh_store_err mh_store_queued_get(struct mh_store *st, enum mh_sendq q,
    uint64_t id, char **json, struct mh_lease *lease, int *queued);

/* --- lease.c: taking what is due. */
/* Leases to this process up to max records of q due at now_ms or before
 * that no live sender holds (this one included), first due first: their
 * ids into ids, *n of them. */
enum mh_store_err mh_store_queue_take(struct mh_store *st, enum mh_sendq q,
    int64_t now_ms, size_t max, uint64_t *ids, size_t *n);
/* Lets go of every lease this process holds in every queue (it stops), so
 * that another sender takes them at once. Best effort. */
void mh_store_queue_release(struct mh_store *st);
/* How many records are in q, and how many of them are due by now_ms. */
enum mh_store_err mh_store_queue_count(struct mh_store *st, enum mh_sendq q,
    int64_t now_ms, uint64_t *queued, uint64_t *due);

/* --- outbox.c: what the sender last said of itself, for the health. */
#define MH_SENDER_KEY_UNSET 0	/* no API key: nothing is sent */
#define MH_SENDER_KEY_SET 1
#define MH_SENDER_KEY_INVALID 2	/* the provider refused it: paused */
/* key_state's low byte is the Mandrill key's state; its flags above say
 * more in the same stored bytes (a sender that knew none wrote 0s). */
#define MH_SENDER_KEY_MASK 0xffu
#define MH_SENDER_NO_CAMPAIGN_TOKEN 0x100u	/* CAMPAIGN_API_TOKEN unset */
struct mh_sender_note {
	int64_t seen_ms;	/* when it last said so */
	uint32_t pid;
	uint32_t key_state;	/* MH_SENDER_KEY_*, and the flags */
	unsigned char key_hash[8];	/* of the key refused, to see it change */
	int64_t since_ms;	/* when the key was refused */
};
enum mh_store_err mh_store_sender_note_put(struct mh_store *st,
    const struct mh_sender_note *n);
/* MH_STORE_NOTFOUND when no sender has run. */
enum mh_store_err mh_store_sender_note_get(struct mh_store *st,
    struct mh_sender_note *n);

#endif

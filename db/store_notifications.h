/*
 * The storage layer's notifications (included by store.h): an indexed
 * table (struct mh_record) whose records the application makes and
 * changes, and the idempotency keys of the requests that store them.
 */
#ifndef MH_STORE_NOTIFICATIONS_H
#define MH_STORE_NOTIFICATIONS_H

#include <stddef.h>
#include <stdint.h>

/* --- idempotency.c: a request sent again gets its first answer. */
#define MH_IDEM_HASH_LEN 32
struct mh_idem {
	const void *key;	/* who asked and their key, as the caller makes it */
	size_t klen;
	unsigned char hash[MH_IDEM_HASH_LEN];	/* of the request's body */
	int64_t now, ttl;	/* Unix seconds: a key older than ttl is new */
};
enum mh_idem_result {
	MH_IDEM_NEW,		/* done now */
	MH_IDEM_REPLAY,		/* done before: the first answer */
	MH_IDEM_CONFLICT,	/* the key was used for another body */
};
/* The answer to keep for the records stored under ids first to
 * first + n - 1: malloc'd text, NULL out of memory. It may be asked
 * again when the transaction is retried. */
typedef char *(*mh_answer_fn)(void *ctx, uint64_t first, size_t n);
/* Deletes the idempotency keys first used more than ttl seconds before
 * now, a batch of keys to a transaction, unless some process did within
 * every seconds (0: do it); *removed gets how many. */
enum mh_store_err mh_store_idem_expire(struct mh_store *st, int64_t now,
    int64_t ttl, int64_t every, size_t *removed);

/* --- notifications.c */
/* A notification's user_id is at most this long. */
#define MH_NOTICE_USER_MAX 128
/* Stores n records (fields: user_id, identifier, user_id while unread)
 * in one transaction, each given the next id, and with idem (or NULL)
 * keeps answer's text for a retry. *text is the answer (caller frees;
 * with MH_IDEM_REPLAY the first one, NULL with MH_IDEM_CONFLICT). */
enum mh_store_err mh_store_notifications_add(struct mh_store *st,
    const struct mh_record *recs, size_t n, const struct mh_idem *idem,
    mh_answer_fn answer, void *ctx, char **text, enum mh_idem_result *res);

/* What an mh_change_fn wants done with the record it was shown. */
#define MH_CHANGE_KEEP 0
#define MH_CHANGE_WRITE 1	/* *out: the record as it is to be */
#define MH_CHANGE_DELETE 2
/* Shown a record (its fields, and its JSON text with its id), says what
 * to do; for MH_CHANGE_WRITE fills *out, malloc'd (the storage frees it),
 * the JSON text whole (its id too). */
typedef int (*mh_change_fn)(void *ctx, const union mh_fields_ref *f,
    const char *json, struct mh_record *out);
/* After a change: the record as it is (NULL once deleted), whose it is,
 * and that user's unread count; the strings are the caller's to free. */
struct mh_nt_changed {
	char *json;
	char *user;
	uint64_t unread;
};
/* Changes the notification of that id as change says, in one
 * transaction; MH_STORE_NOTFOUND when there is none. */
enum mh_store_err mh_store_notification_change(struct mh_store *st,
    uint64_t id, mh_change_fn change, void *ctx, struct mh_nt_changed *out);
/* The count of user's unread notifications. */
enum mh_store_err mh_store_unread(struct mh_store *st, const char *user,
    uint64_t *n);

static inline void
mh_record_free(struct mh_record *r)
{
	for (int i = 0; i < MH_FIELDS; i++)
		free(r->at[i]);
	free(r->json);
	memset(r, 0, sizeof(*r));
}

#endif

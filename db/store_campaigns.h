/*
 * The storage layer's campaigns (included by store.h): the clients they
 * send to, an indexed table (struct mh_record: tag, operator code, phone)
 * whose phones are unique, and the campaigns, records the application
 * makes and changes.
 */
#ifndef MH_STORE_CAMPAIGNS_H
#define MH_STORE_CAMPAIGNS_H

#include <stddef.h>
#include <stdint.h>

/* --- records.c: one record of an indexed table (campaigns, clients),
 * its indexes, unique values and changes counter as its descriptor
 * declares them. */
/* Stores rec under the next id of its table's counter, in one flushed
 * transaction; *text is answer's text for it (caller frees).
 * MH_STORE_EXISTS when a value of a unique field (a client's phone) is
 * another's. */
enum mh_store_err mh_store_record_add(struct mh_store *st,
    enum mh_table table, const struct mh_record *rec, mh_answer_fn answer,
    void *ctx, char **text);
/* A number that moves with each change to the table's records (added,
 * changed, deleted) when the table counts them (the clients: a running
 * campaign selects them again): 0 before any, and for the others. */
enum mh_store_err mh_store_record_changes(struct mh_store *st,
    enum mh_table table, uint64_t *changes);
/* The record of that id: *json (caller frees); MH_STORE_NOTFOUND. */
enum mh_store_err mh_store_record_get(struct mh_store *st,
    enum mh_table table, uint64_t id, char **json);
/* --- upsert.c: a batch added, or laid over what it meets. */
/* What became of each record of a batch. */
enum mh_upsert_outcome {
	MH_UPSERT_ADDED,
	MH_UPSERT_UPDATED,	/* laid over the record holding its unique value */
	MH_UPSERT_REFUSED,	/* the merge kept the stored one as it was */
};
/* Record i of a batch laid over the stored record (its fields and JSON
 * shown): MH_CHANGE_WRITE with *out made, or MH_CHANGE_KEEP. Called
 * again when the transaction is. */
typedef int (*mh_merge_fn)(void *ctx, size_t i, const union mh_fields_ref *f,
    const char *json, struct mh_record *out);
/* The n records in one flushed transaction: each added, or, when another
 * holds the value of the table's unique field (a client's phone), merged
 * into that one; outcome[i] says which. A table without a unique field
 * and a counter is MH_STORE_FAILED. */
enum mh_store_err mh_store_record_upsert(struct mh_store *st,
    enum mh_table table, const struct mh_record *recs, size_t n,
    mh_merge_fn merge, void *ctx, enum mh_upsert_outcome *outcome);

/* Changes or deletes it as change says (MH_CHANGE_KEEP, _WRITE, _DELETE;
 * its fields and JSON shown), in one flushed transaction; *json, when not
 * NULL, gets it after (NULL once deleted; caller frees).
 * MH_STORE_NOTFOUND when there is none, MH_STORE_EXISTS when a unique
 * value it is changed to is another's. */
enum mh_store_err mh_store_record_change(struct mh_store *st,
    enum mh_table table, uint64_t id, mh_change_fn change, void *ctx,
    char **json);

/* --- campaign_messages.c: a campaign's messages, one a client (their
 * record: campaign "/" status, campaign, client). */
/* Stores recs[i] as the message of campaign to clients[i] unless that
 * client has one (made once: never a second), each under the next id of
 * "campaign_message" and queued due at due_ms, in one flushed
 * transaction: made[i] gets its id, or 0 when there was one. */
enum mh_store_err mh_store_cmessages_make(struct mh_store *st,
    uint64_t campaign, const uint64_t *clients, const struct mh_record *recs,
    size_t n, int64_t due_ms, uint64_t *made);
/* Called with a campaign's count of messages in one status. */
typedef void (*mh_cm_count_fn)(void *ctx, uint64_t campaign,
    const char *status, uint64_t n);
/* Calls fn for each status the messages of campaign (0: of each campaign,
 * in the order of their ids as text) are in, with its count. */
enum mh_store_err mh_store_cmessages_count(struct mh_store *st,
    uint64_t campaign, mh_cm_count_fn fn, void *ctx);

#endif

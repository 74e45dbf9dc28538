/*
 * The storage layer's work on stored events beyond storing and listing
 * them (included by store.h): a raw request read and derived again, the
 * counts per hour, the reindex of events older versions stored, and
 * their removal by age or by address.
 */
#ifndef MH_STORE_EVENTS_H
#define MH_STORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* --- reprocess.c */
/* The raw request kept under receipt: *e (its body pointing into *rec,
 * which the caller frees); MH_STORE_NOTFOUND when none is kept. */
enum mh_store_err mh_store_raw_get(struct mh_store *st, uint64_t receipt,
    struct mh_entry *e, void **rec);
/* Derives events again from the raw body of receipt alone, storing those
 * not stored yet; MH_STORE_NOTFOUND when no body is kept. */
enum mh_store_err mh_store_reprocess_one(struct mh_store *st,
    const struct mh_deriver *d, uint64_t receipt, size_t *nstored);

/* --- series.c: the events' counts per hour. */
/* Called with each hour's count of a type (hour: Unix seconds / 3600),
 * hours in order; with type NULL to start again from nothing. */
typedef void (*mh_series_fn)(void *ctx, int64_t hour, const char *type,
    uint64_t count);
/* The counts of the hours from from_hour up to (not with) to_hour. */
enum mh_store_err mh_store_series(struct mh_store *st, int64_t from_hour,
    int64_t to_hour, mh_series_fn fn, void *ctx);

/* --- reindex.c: events stored before their indexes existed. */
/* Fills ev's ts, provider, subject and receipt (malloc'd strings, freed by
 * mh_event_clear) from a stored event's JSON; non-zero when out of
 * memory. */
typedef int (*mh_describe_fn)(void *ctx, const char *json,
    struct mh_event *ev);
/* Indexes the events that have no index yet; *made counts them. */
enum mh_store_err mh_store_events_reindex(struct mh_store *st,
    mh_describe_fn describe, void *ctx, size_t *made);

/* --- reclassify.c: stored events judged again. */
/* Makes ev (its fields, provider, subject, ts; malloc'd, freed by
 * mh_event_clear) of a stored event's text (its seq first), judged anew
 * by the rules of d as a derived event would be. 0, or -1 out of memory. */
typedef int (*mh_rejudge_fn)(const struct mh_deriver *d, const char *json,
    struct mh_event *ev);
struct mh_reclassified {
	uint64_t messages;		/* messages judged again */
	uint64_t events_changed;	/* events whose text changed */
	uint64_t messages_skipped;	/* too many events to hold at once */
};
/* Judges every message's events again, in their order (rejudge, then d's
 * fold from an empty summary, as the drain did): those whose text changes
 * are rewritten and counted as they now say, and each message's summary
 * is the one so folded. */
enum mh_store_err mh_store_reclassify(struct mh_store *st,
    const struct mh_deriver *d, mh_rejudge_fn rejudge,
    struct mh_reclassified *n);

/* --- erase.c: events removed for good. */
struct mh_erased {
	uint64_t events, callbacks, summaries, raw_bodies, notifications;
};
/* Removes the events that happened before `before` (Unix seconds), with
 * their indexes, the providers' records beside them, and the summaries
 * of the messages left with no event; *n counts them. */
enum mh_store_err mh_store_events_expire(struct mh_store *st, int64_t before,
    struct mh_erased *n);
/* Erases every event of the address email (any case) with its indexes,
 * the providers' records beside them, their messages' summaries, the raw
 * bodies they came from (whole, whoever else they name), its note, and the
 * notifications names says name it (shown each one's JSON text: 1 to
 * erase it); *n counts them (all 0 when it has none). */
enum mh_store_err mh_store_erase(struct mh_store *st, const char *email,
    int (*names)(void *ctx, const char *json), void *ctx,
    struct mh_erased *n);

#endif

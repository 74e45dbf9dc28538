/*
 * Internals of the storage layer (as store-private.h, which includes it):
 * the events' own indexes (event_index.c) and the filters they serve
 * (search.c).
 */
#ifndef MH_STORE_INDEX_H
#define MH_STORE_INDEX_H

/* --- event_index.c: the events' keys, time, trigram and hour indexes. */
#define MH_SEARCH_TEXT_MAX 256	/* bytes of an address or subject indexed */
#define MH_TYPE_MAX 32
/* What an event's indexes are made of; email and subject lower-cased and
 * cut to MH_SEARCH_TEXT_MAX - 1 bytes. */
struct mh_event_keys {
	int64_t ts;
	uint64_t receipt;
	char provider[MH_PROVIDER_MAX];
	char email[MH_SEARCH_TEXT_MAX];
	char subject[MH_SEARCH_TEXT_MAX];
};
/* Times as keys that sort as the times do; and back. */
uint64_t mh_ts_key(int64_t ts);
int64_t mh_ts_unkey(uint64_t k);
/* The hour a time falls in (floor(ts / 3600)). */
int64_t mh_hour_of(int64_t ts);
/* Copies in lower-cased, at most max bytes, NUL-terminated (out holds
 * max + 1). */
void mh_lower_copy(char *out, const char *in, size_t max);
/* The distinct trigrams of a and b (each apart), sorted, into g (room for
 * strlen(a) + strlen(b)); their number. */
size_t mh_grams(const char *a, const char *b, uint32_t *g);
/* The trigram index's key of gram and seq. */
void mh_gram_key(unsigned char k[11], uint32_t gram, uint64_t seq);
/* The keys of ev, from the raw body receipt. */
void mh_event_keys_of(struct mh_event_keys *k, const struct mh_event *ev,
    uint64_t receipt);
/* Writes the indexes of the event seq of type, inside txn. */
int mh_event_index_put(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const struct mh_event_keys *k, const char *type);
/* Reads the keys of seq (email left empty); DB_NOTFOUND when it has none. */
int mh_event_keys_get(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    struct mh_event_keys *k, u_int32_t flags);
/* Removes the indexes of seq, of email and type (its record's), filling
 * *k with what they were (untouched when it had none). */
int mh_event_index_del(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    struct mh_event_keys *k, const char *email, const char *type);

/* --- search.c: the events' text and time filters. */
/* Whether q has a filter of search.c's. */
int mh_search_wanted(const struct mh_query *q);
/* Whether the event seq, its address email_lower, passes q's text and
 * time filters (*ok); a Berkeley DB code. */
int mh_search_match(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t seq, const char *email_lower, int *ok);
/* A pass of q through the time or trigram index, the records from start
 * on (exclusive newest first, inclusive oldest first) to visit; returns
 * MH_SEARCH_SCAN when neither serves q (the caller walks the table). */
#define MH_SEARCH_SCAN (-29001)
int mh_search_pass(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    uint64_t start, mh_visit_fn visit, void *vctx);

#endif

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
	char counted[MH_COUNTED_MAX + 1];	/* per hour as this, "": type */
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
/* The keys of ev, from the raw body receipt. */
void mh_event_keys_of(struct mh_event_keys *k, const struct mh_event *ev,
    uint64_t receipt);
/* A transaction's trigram postings, gathered to be written together:
 * each pair is gram << 40 | seq. */
struct mh_gram_batch {
	uint64_t *pair;
	size_t n, cap;
};
/* Writes the batch's postings (one record change per trigram and block)
 * and empties it. */
int mh_gram_batch_write(struct mh_store *st, DB_TXN *txn,
    struct mh_gram_batch *b);
/* What a drain's transaction writes at its end (events.c): the tallies of
 * what it stored and dropped, and its events' trigrams. */
struct mh_events_batch {
	struct mh_tally_batch tallies;
	struct mh_gram_batch grams;
};
/* Empties it for a transaction (tried again: afresh). */
void mh_events_batch_reset(struct mh_events_batch *b);
/* Writes it, inside txn. */
int mh_events_batch_write(struct mh_store *st, DB_TXN *txn,
    struct mh_events_batch *b);
/* Lets its memory go (it is empty after). */
void mh_events_batch_free(struct mh_events_batch *b);
/* Writes the indexes of the event seq of type, inside txn; its trigrams
 * into batch when one is given (written with mh_gram_batch_write before
 * commit), else at once. */
int mh_event_index_put(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const struct mh_event_keys *k, const char *type,
    struct mh_gram_batch *batch);
/* Writes the keys of seq alone (its indexes as they are). */
int mh_event_keys_put(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const struct mh_event_keys *k);
/* Moves seq's count in its hour from the name it was counted under to
 * counted ("": its type), keeping its keys so; an event without keys is
 * left alone. */
int mh_event_recount(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    const char *type, const char *counted);
/* Reads the keys of seq (email left empty); DB_NOTFOUND when it has none. */
int mh_event_keys_get(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    struct mh_event_keys *k, u_int32_t flags);
/* Removes the indexes of seq, of email and type (its record's), filling
 * *k with what they were (untouched when it had none). */
int mh_event_index_del(struct mh_store *st, DB_TXN *txn, uint64_t seq,
    struct mh_event_keys *k, const char *email, const char *type);

/* --- chunk.c: how much of a batch one transaction takes. */
/* Pages one transaction of a drain may write, about: the locks it holds
 * to its end, with every other process's, fit the lock region (env.c). */
#define MH_CHUNK_WORK 2048
/* Pages an event writes besides its trigrams' lists. */
#define MH_EVENT_WORK 8
/* The end (exclusive) of the run of ev[from..n) whose work fits budget:
 * at least one event when from < n; the run's work into *work. */
size_t mh_chunk_end(const struct mh_event *ev, size_t n, size_t from,
    size_t budget, size_t *work);

/* --- grams.c: the trigram index's posting lists, by blocks of seqs. */
#define MH_GRAM_BLOCK 1024
/* Appends seqs (n of them, ascending, all of one block) to gram's list,
 * inside txn. */
int mh_gram_append(DB *db, DB_TXN *txn, uint32_t gram, const uint64_t *seqs,
    size_t n);
/* Adds (add) or removes seq in gram's list, inside txn. */
int mh_gram_change(DB *db, DB_TXN *txn, uint32_t gram, uint64_t seq, int add);
/* A reader of one trigram's list: its cursor (the caller's), and the
 * block it has decoded. */
struct mh_gram_cursor {
	DBC *cur;
	uint32_t gram;
	uint64_t block;
	uint64_t seqs[MH_GRAM_BLOCK];
	size_t n;
	int loaded;
};
/* Loads into c the block of its list at block or the nearest on the
 * answer's side of it (newest: before; else after); c->n 0 when there is
 * none. */
int mh_gram_near(struct mh_gram_cursor *c, uint64_t block, int newest);
/* The trigrams in db holding pair (lower-cased) as their first two bytes
 * or their last two, into g (room for MH_PAIR_GRAMS_MAX); their count into
 * *n. A string of two bytes is indexed as a trigram ending in NUL, so that
 * these are every event holding the pair. */
#define MH_PAIR_GRAMS_MAX 512
int mh_gram_pair(DB *db, DB_TXN *txn, const char pair[2], uint32_t *g,
    size_t *n);
/* The seq of c's list nearest to x on the answer's side of it (at or
 * below x newest first, at or above oldest first) into *out; 0 none. */
int mh_gram_seek(struct mh_gram_cursor *c, uint64_t x, int newest,
    uint64_t *out);

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
/* A pass of q (q->by_time) over the events newest first by their time,
 * then seq: from below the cursor (q->before_ts, q->before) and until,
 * down to since, each passing filters and q's text to visit. */
int mh_time_pass(struct mh_store *st, DB_TXN *txn, const struct mh_query *q,
    const union mh_fields_ref *filters, mh_visit_fn visit, void *vctx);

#endif

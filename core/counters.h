/*
 * The counters every mailhooks process on one data directory shares
 * (counters.c): the FastCGI processes and the relay count into one mapped
 * file, which GET /metrics reads. Part of the core; apart from core.h
 * because only the counting and the reading need it.
 */
#ifndef MH_COUNTERS_H
#define MH_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

/* --- counters.c: counters every process on one data directory shares,
 * in a file each maps (HOME/metrics.counters): what /metrics shows of the
 * requests and of the relay. */
/* What a POST to a webhook came to (mailhooks_webhook_requests_total). */
enum mh_outcome {
	MH_OUTCOME_ACCEPTED,
	MH_OUTCOME_BAD_SIGNATURE,
	MH_OUTCOME_UNAUTHORIZED,
	MH_OUTCOME_BAD_INPUT,
	MH_OUTCOME_TOO_LARGE,
	MH_OUTCOME_UNSUPPORTED,
	MH_OUTCOME_NOT_ALLOWED,
	MH_OUTCOME_UNAVAILABLE,
	MH_OUTCOME_OTHER,
	MH_OUTCOME_COUNT
};
extern const char *const mh_outcome_names[MH_OUTCOME_COUNT];
/* Routes counted apart, at most; past them, and a path no route takes,
 * are counted as "none". Providers counted apart, and outcomes room is
 * kept for. */
#define MH_ROUTES_MAX 127
#define MH_ROUTE_NAME_MAX 48
#define MH_PROVIDERS_MAX 8
#define MH_OUTCOMES_MAX 16
/* The request durations' histogram: upper bounds, in seconds. */
#define MH_BUCKETS 12
extern const double mh_duration_bounds[MH_BUCKETS];
struct mh_route_counts {
	_Atomic uint64_t bucket[MH_BUCKETS];	/* each bound's own, not summed */
	_Atomic uint64_t count;
	_Atomic uint64_t sum_us;	/* microseconds */
};
/* How the sender's attempts at a mail ended (mailhooks_mail_attempts_total). */
enum mh_attempt_count {
	MH_ATTEMPT_SENT,
	MH_ATTEMPT_RETRY,
	MH_ATTEMPT_FAILED,
	MH_ATTEMPT_INTERRUPTED,	/* its sender stopped during the request */
	MH_ATTEMPT_COUNT
};
extern const char *const mh_attempt_names[MH_ATTEMPT_COUNT];
/* A slot named by the first process to count under its name: free (0),
 * being named (1), named (2). Names, not positions, key the counts, so a
 * route or provider added later takes a free slot and the counts already
 * there keep their labels. */
struct mh_slot_name {
	_Atomic uint32_t state;
	char name[MH_ROUTE_NAME_MAX];
};
struct mh_route_slot {
	struct mh_slot_name is;
	struct mh_route_counts counts;
};
struct mh_provider_slot {
	struct mh_slot_name is;
	_Atomic uint64_t outcome[MH_OUTCOMES_MAX];	/* by enum mh_outcome */
};
/* The file's layout. Its counters only grow, but ws_connections. Fields
 * are added at its end: a file of an older version grows to take them,
 * zero. A file of layout 1 (routes and providers by position) is read
 * into this one once, each count under its label. */
struct mh_counter_file {
	_Atomic uint64_t magic;
	struct mh_provider_slot webhook[MH_PROVIDERS_MAX];
	struct mh_route_slot route[MH_ROUTES_MAX];
	_Atomic uint64_t ws_connections;	/* the relay's subscribers now */
	_Atomic uint64_t ws_frames;	/* event frames the relay wrote */
	_Atomic uint64_t ws_refused;	/* handshakes it refused */
	_Atomic uint64_t mail_attempts[MH_ATTEMPT_COUNT];	/* the sender's */
};
struct mh_counters;
/* Maps HOME/metrics.counters, made when absent (mode 0660); NULL, said on
 * stderr, when it cannot. */
struct mh_counters *mh_counters_open(const char *home);
void mh_counters_close(struct mh_counters *c);
/* The mapped counters, or NULL for a NULL c. */
struct mh_counter_file *mh_counters_file(struct mh_counters *c);
/* Counts a request answered in seconds under its route's name (NULL: no
 * route), and for a POST to a webhook (provider not NULL) its outcome. */
void mh_count_request(struct mh_counters *c, const char *route,
    const char *provider, enum mh_outcome outcome, double seconds);
/* The slot named name among the n of slots, each size bytes (claimed
 * for it when absent and claim), or NULL: absent, or every slot has
 * another name, or the name is too long. */
struct mh_slot_name *mh_slot_find(void *slots, size_t size, size_t n,
    const char *name, int claim);
#define MH_ROUTE_SLOT(f, name, claim) ((struct mh_route_slot *)mh_slot_find( \
    (f)->route, sizeof((f)->route[0]), MH_ROUTES_MAX, (name), (claim)))
#define MH_PROVIDER_SLOT(f, name, claim) ((struct mh_provider_slot *) \
    mh_slot_find((f)->webhook, sizeof((f)->webhook[0]), MH_PROVIDERS_MAX, \
    (name), (claim)))

#endif

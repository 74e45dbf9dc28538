/*
 * mailhooks-relay: fans events out to WebSocket subscribers.
 *
 * It holds no database handle. mailhooks.fcgi sends one datagram per newly
 * stored event (compact JSON with its seq and type) to
 * $MAILHOOKS_HOME/relay.sock; the relay keeps a bounded ring of recent
 * events (ring.c) and writes each to the clients whose ?types=
 * subscription matches (default: open), framing them itself (clients.c).
 * A client whose unread events fell out of the ring is disconnected: it
 * reconnects and catches up from /api/events?after=SEQ.
 *
 * Sending is what costs (on loopback a send also does the receiver's TCP
 * work), so the relay runs one libwebsockets context per thread (a shard,
 * shard.c), and each thread writes to its own clients. The first thread
 * accepts every connection and hands them out in turn; it also reads the
 * datagrams into the ring the threads share, and wakes the others.
 * main.c reads the settings and starts them.
 */
#ifndef MH_RELAY_H
#define MH_RELAY_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <libwebsockets.h>

#include "core/core.h"

/* Events kept for clients that are behind; a power of two. */
#define MH_RING 4096
/* A datagram larger than this is not an event we sent. */
#define MH_DGRAM_MAX (256 * 1024)
/* Frames waiting for one client go out together, up to this many bytes
 * (one larger frame goes alone). */
#define MH_COALESCE 65536
/* The largest WebSocket frame header (unmasked, 64-bit length). */
#define MH_FRAME_HEAD 10
/* Threads, at most (MAILHOOKS_RELAY_THREADS). */
#define MH_THREADS_MAX 16
/* After writing to its clients, a thread waits this many times as long as
 * that took (but no more than MH_HOLD_MAX seconds) before it writes again;
 * see mh_shard_new_events. */
#define MH_HOLD_FACTOR 4
#define MH_HOLD_MAX 0.05

/* An address as text (INET6_ADDRSTRLEN, and room). */
#define MH_ADDR_LEN 48
/* Buckets of the count of subscribers by address. */
#define MH_PEER_BUCKETS 1024

struct mh_msg {
	unsigned char *buf;	/* LWS_PRE bytes of headroom, then the JSON */
	size_t len;
	unsigned type_bit;
};
/* The subscription bit of the outbox's changes ({"kind":"mail"...}, the
 * subscription "mail"): above every event type's. */
#define MH_MAIL_BIT (1u << 31)
/* The subscription "campaign": campaigns' messages changing state. */
#define MH_CAMPAIGN_BIT (1u << 30)
/* The subscription "erased": a recipient's events erased, for the pages
 * showing them to drop them. */
#define MH_ERASED_BIT (1u << 29)

struct mh_client {
	struct lws *wsi;
	struct mh_client *prev, *next_client;
	uint64_t next;		/* ring index of the next event to consider */
	unsigned types;		/* bit set of subscribed types */
	int dropping;		/* being closed for falling behind */
	int counted;		/* in the relay's count of subscribers */
	int addr_counted;	/* in its address's count */
	char addr[MH_ADDR_LEN];	/* the subscriber's, see peers.c */
	char *user;		/* a user's channel's: whose; NULL: the events */
	struct mh_client *next_same;	/* in its thread's map of users */
	unsigned char *pending;	/* a user channel's frames not yet sent */
	size_t plen, pcap;
};

/* The users' messages, shared by the threads like the ring (users.c). */
struct mh_umsg {
	char *data;
	size_t len;
	char *user;
};
struct mh_uring {
	pthread_rwlock_t lock;
	struct mh_umsg slot[MH_RING];
	uint64_t head;
};
/* Buckets of a thread's map of users; a user channel's frames waiting, at
 * most. */
#define MH_USER_BUCKETS 4096
#define MH_USER_PENDING_MAX (1024 * 1024)

/* Subscribers by address, across the threads (peers.c). */
struct mh_peers {
	pthread_mutex_t lock;
	struct mh_peer *bucket[MH_PEER_BUCKETS];
};

/* Tickets used, remembered until they expire (tickets.c): buckets, and
 * how many may be remembered at once. */
#define MH_USED_BUCKETS 4096
#define MH_USED_MAX 200000
struct mh_tickets {
	pthread_mutex_t lock;
	const char *home;	/* where ticket.key is */
	const char *allowed;	/* MAILHOOKS_ALLOWED_ORIGINS, or NULL */
	const char *public_url;	/* MAILHOOKS_PUBLIC_URL, or NULL */
	unsigned char key[MH_SECRET_BYTES];
	int has_key;
	struct mh_used *bucket[MH_USED_BUCKETS];
	size_t count;
};

/* The recent events, shared by the threads: the first thread writes, all
 * of them read, under the lock. */
struct mh_ring {
	pthread_rwlock_t lock;
	struct mh_msg slot[MH_RING];
	uint64_t head;		/* index the next event gets */
};

/* One thread's share of the relay: its context, its event loop and the
 * clients the first thread dealt it. Reached through the context's user
 * pointer. */
struct mh_shard {
	struct mh_relay *relay;
	struct lws_context *ctx;
	/* libev on epoll: libwebsockets' own poll() went over every client
	 * at each wake-up, milliseconds with thousands of them */
	struct ev_loop *loop;
	ev_async stop;
	ev_timer tick;
	ev_tstamp trimmed;	/* when the heap was last trimmed */
	int trim_clients;	/* the relay's subscribers at the last tick */
	ev_timer hold;		/* the next pass, when new events wait */
	ev_tstamp pass_end, pass_took;	/* the last pass over the clients */
	int wake_fd;		/* eventfd: the ring has new events */
	int handoff[2];		/* pipe of accepted sockets for this thread */
	pthread_t thread;
	struct mh_client *clients;
	uint64_t swept;		/* head at the last look for laggards */
	uint64_t events_seen;	/* the ring's head at the last pass asked */
	uint64_t users_seen;	/* the users' ring's next to hand out */
	struct mh_client *users[MH_USER_BUCKETS];	/* by user */
	/* LWS_PRE bytes, then the frames of one write */
	unsigned char out[LWS_PRE + MH_COALESCE + MH_FRAME_HEAD + MH_DGRAM_MAX];
};

struct mh_relay {
	volatile sig_atomic_t stopping;
	struct mh_ring ring;
	struct mh_uring users;
	struct mh_shard *shard[MH_THREADS_MAX];
	int nshards;
	int listen_fd, dgram_fd;	/* watched by the first thread */
	int spare_fd;		/* given up to refuse a client when out of fds */
	unsigned next_shard;	/* the thread the next client goes to */
	atomic_int clients;	/* subscribers, across the threads */
	int max_clients;	/* MAILHOOKS_RELAY_MAX_CLIENTS */
	int max_per_address;	/* MAILHOOKS_RELAY_MAX_PER_ADDRESS */
	struct mh_peers peers;
	struct mh_tickets tickets;
	struct mh_counters *counters;	/* shared with /metrics; or NULL */
	char dgram[MH_DGRAM_MAX + 1];	/* the first thread's read buffer */
};

/* FNV-1a of a string: the relay's maps (addresses, used tickets, users)
 * are keyed by short strings. */
static inline unsigned
mh_str_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* --- ring.c: the recent events and the subscriptions. */
/* Parses "open,click" (or "all") into type bits; 0 when a name is
 * unknown. */
unsigned mh_parse_types(const char *list);
/* The subscription a connecting client asked for (types=, once at most;
 * open when not given); 0 when invalid. */
unsigned mh_client_types(struct lws *wsi);
/* Adds one datagram (the first thread only): an event to the ring, or a
 * message for one user ({"kind", "user_id"}) to the users' ring. An event
 * of no type we know is dropped: no client could want it. */
void mh_ring_push(struct mh_relay *relay, const char *data, size_t len);
uint64_t mh_ring_head(struct mh_ring *ring);

/* --- peers.c: subscribers by address. */
/* The last entry of an X-Forwarded-For header, the one the proxy wrote,
 * into out; -1 when it is not an IPv4 or IPv6 address or does not fit. */
int mh_forwarded_last(const char *header, char *out, size_t outlen);
/* The address a connecting subscriber comes from, into out: its peer's,
 * or behind the proxy on loopback the proxy's X-Forwarded-For. -1 when
 * it cannot be told. */
int mh_client_address(struct lws *wsi, char *out, size_t outlen);
/* How many subscribers addr holds. */
int mh_peers_count(struct mh_peers *peers, const char *addr);
/* Counts one more subscriber for addr; -1 when it already holds max (or
 * memory ran out), counting nothing. */
int mh_peers_take(struct mh_peers *peers, const char *addr, int max);
/* Counts one subscriber less for addr. */
void mh_peers_give(struct mh_peers *peers, const char *addr);
/* Frees every count (the relay's end). */
void mh_peers_free(struct mh_peers *peers);

/* --- tickets.c: who may subscribe. */
/* Whether a handshake of a ticket may subscribe to channel: 0, or the
 * status to refuse it with (401, 403, 503) and why in *detail. */
int mh_ticket_admit(struct mh_tickets *t, struct lws *wsi,
    const char *channel, const char **detail);
/* Remembers a ticket's nonce until it expires: 0, -1 when it was used
 * already, -2 when no more can be remembered now. */
int mh_tickets_use(struct mh_tickets *t, const char *nonce, int64_t expires,
    int64_t now);
/* Whether the handshake's Origin, if any, is the site's own or allowed. */
int mh_origin_ok(struct lws *wsi, const struct mh_tickets *t);
/* Sets t up: the ticket key in home, the origins the settings allow. */
void mh_tickets_init(struct mh_tickets *t, const char *home);
/* Frees what is remembered (the relay's end). */
void mh_tickets_free(struct mh_tickets *t);

/* --- users.c: each user's own channel. */
/* The feed a handshake asks for: 0 the events (/ws), 1 a user's
 * (/ws/notifications/USER, USER into user), -1 none. */
int mh_client_channel(struct lws *wsi, char *user, size_t size);
/* Puts a message for user in the users' ring (the first thread). */
int mh_uring_push(struct mh_uring *ring, const char *user, const char *data,
    size_t len);
/* Adds c (its user set) to, or takes it from, its thread's map. */
void mh_users_add(struct mh_shard *shard, struct mh_client *c);
void mh_users_remove(struct mh_shard *shard, struct mh_client *c);
/* Hands the users' ring's new messages to this thread's subscribers. */
void mh_users_new(struct mh_shard *shard);
/* Writes what waits for a user channel's subscriber; -1 closes it. */
int mh_user_write(struct mh_shard *shard, struct lws *wsi,
    struct mh_client *c);

/* --- frame.c */
/* Appends one unmasked text frame of data to out at *used. */
void mh_frame(unsigned char *out, size_t *used, const unsigned char *data,
    size_t len);

/* --- clients.c: writing to subscribers. */
/* Closes the clients of a shard that stopped reading and fell out of the
 * ring. */
void mh_sweep_laggards(struct mh_shard *shard, uint64_t head);
/* Writes what waits for client c; -1 closes it. */
int mh_client_write(struct mh_shard *shard, struct lws *wsi,
    struct mh_client *c);
/* On the first thread, once subscribers have left (their buffers are
 * what the relay frees), at most every MH_TRIM_SECONDS, gives the pages
 * every thread freed back to the system (mh_heap_trim): not at a time of
 * its own, which made a measure of memory per new subscriber come out
 * below zero. now: the loop's time. */
#define MH_TRIM_SECONDS 1
void mh_shard_trim(struct mh_shard *shard, double now);
/* The subscribers' protocol callback. */
int mh_cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len);

/* --- shard.c: the threads. */
/* The callback of the descriptors a thread watches besides its clients. */
int mh_cb_fd(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len);
/* Makes the contexts, one per thread, listening on listen_fd and reading
 * datagrams at path. -1 (said on stderr) when it cannot. */
int mh_relay_open(struct mh_relay *relay, int threads, const char *path,
    const struct lws_context_creation_info *info);
/* Runs a shard's loop until it is stopped (a thread's body). */
void *mh_shard_run(void *arg);
/* Asks every shard to stop; safe in a signal handler. */
void mh_relay_stop(struct mh_relay *relay);
/* Stops and joins the threads that run, then frees everything. */
void mh_relay_close(struct mh_relay *relay, int running);

#endif

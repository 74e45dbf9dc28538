/*
 * mailhooks-relay: fans events out to WebSocket subscribers.
 *
 * It holds no database handle. mailhooks.fcgi sends one datagram per newly
 * stored event (compact JSON with its seq and type) to
 * $MAILHOOKS_HOME/relay.sock; the relay keeps a bounded ring of recent
 * events and writes each to the clients whose ?types= subscription matches
 * (default: open). A client whose unread events fell out of the ring is
 * disconnected: it reconnects and catches up from /api/events?after=SEQ.
 *
 * Sending is what costs (on loopback a send also does the receiver's TCP
 * work), so the relay runs one libwebsockets context per thread, and each
 * thread writes to its own clients. The first thread accepts every
 * connection and hands them out in turn; it also reads the datagrams into
 * the ring the threads share, and wakes the others.
 *
 * Environment: MAILHOOKS_HOME (default ./var), MAILHOOKS_RELAY_PORT
 * (default 8081, loopback only), MAILHOOKS_RELAY_PING (seconds, default
 * 25), MAILHOOKS_RELAY_THREADS (default: one per CPU, at most 16).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ev.h>
#include <json-c/json.h>
#include <libwebsockets.h>

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

static const char *const mh_types[] = {
	"send", "delivered", "deferral", "hard_bounce", "soft_bounce", "open",
	"click", "spam", "unsub", "reject", "sync", "inbound", NULL
};

struct mh_msg {
	unsigned char *buf;	/* LWS_PRE bytes of headroom, then the JSON */
	size_t len;
	unsigned type_bit;
};

struct mh_client {
	struct lws *wsi;
	struct mh_client *prev, *next_client;
	uint64_t next;		/* ring index of the next event to consider */
	unsigned types;		/* bit set of subscribed types */
	int dropping;		/* being closed for falling behind */
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
	ev_timer hold;		/* the next pass, when new events wait */
	ev_tstamp pass_end, pass_took;	/* the last pass over the clients */
	int wake_fd;		/* eventfd: the ring has new events */
	int handoff[2];		/* pipe of accepted sockets for this thread */
	pthread_t thread;
	struct mh_client *clients;
	uint64_t swept;		/* head at the last look for laggards */
	/* LWS_PRE bytes, then the frames of one write */
	unsigned char out[LWS_PRE + MH_COALESCE + MH_FRAME_HEAD + MH_DGRAM_MAX];
};

struct mh_relay {
	struct mh_ring ring;
	struct mh_shard *shard[MH_THREADS_MAX];
	int nshards;
	int listen_fd, dgram_fd;	/* watched by the first thread */
	int spare_fd;		/* given up to refuse a client when out of fds */
	unsigned next_shard;	/* the thread the next client goes to */
	char dgram[MH_DGRAM_MAX + 1];	/* the first thread's read buffer */
};

static volatile sig_atomic_t mh_stopping;
/* For the signal handler only. */
static struct mh_relay *mh_signalled;

static void
mh_on_term(int sig)
{
	(void)sig;
	mh_stopping = 1;
	if (mh_signalled != NULL)
		for (int i = 0; i < mh_signalled->nshards; i++)
			if (mh_signalled->shard[i]->loop != NULL)
				ev_async_send(mh_signalled->shard[i]->loop,
				    &mh_signalled->shard[i]->stop);
}

static unsigned
mh_type_bit(const char *name, size_t len)
{
	for (unsigned i = 0; mh_types[i] != NULL; i++)
		if (strlen(mh_types[i]) == len && memcmp(mh_types[i], name, len) == 0)
			return 1u << i;
	return 0;
}

/* Parses "open,click" (or "all"); 0 when a name is unknown. */
static unsigned
mh_parse_types(const char *list)
{
	unsigned mask = 0, bit;

	if (strcmp(list, "all") == 0 || strcmp(list, "*") == 0)
		return ~0u;
	while (*list != '\0') {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if (len > 0) {
			if ((bit = mh_type_bit(list, len)) == 0)
				return 0;
			mask |= bit;
		}
		if (comma == NULL)
			break;
		list = comma + 1;
	}
	return mask;
}

/* The subscription a connecting client asked for; 0 when invalid. */
static unsigned
mh_client_types(struct lws *wsi)
{
	char arg[256];

	for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof(arg),
	    WSI_TOKEN_HTTP_URI_ARGS, i) > 0; i++) {
		if (strncmp(arg, "types=", 6) == 0)
			return mh_parse_types(arg + 6);
	}
	return 1u << 5;		/* "open" */
}

/* Adds one event to the ring (the first thread only). An event of no
 * type we know is dropped: no client could want it. */
static void
mh_ring_push(struct mh_ring *ring, const char *data, size_t len)
{
	struct json_object *ev, *type;
	struct mh_msg *slot, old;
	unsigned bit = 0;
	unsigned char *buf;

	if ((ev = json_tokener_parse(data)) == NULL)
		return;
	if (json_object_object_get_ex(ev, "type", &type) &&
	    json_object_is_type(type, json_type_string))
		bit = mh_type_bit(json_object_get_string(type),
		    (size_t)json_object_get_string_len(type));
	json_object_put(ev);
	if (bit == 0 || (buf = malloc(LWS_PRE + len)) == NULL)
		return;
	memcpy(buf + LWS_PRE, data, len);
	pthread_rwlock_wrlock(&ring->lock);
	slot = &ring->slot[ring->head % MH_RING];
	old = *slot;
	slot->buf = buf;
	slot->len = len;
	slot->type_bit = bit;
	ring->head++;
	pthread_rwlock_unlock(&ring->lock);
	free(old.buf);
}

static uint64_t
mh_ring_head(struct mh_ring *ring)
{
	uint64_t head;

	pthread_rwlock_rdlock(&ring->lock);
	head = ring->head;
	pthread_rwlock_unlock(&ring->lock);
	return head;
}

/*
 * A client that stops reading never becomes writable again, so the write
 * path alone would never notice it fell out of the ring: look for such
 * clients every so often and close them.
 */
static void
mh_sweep_laggards(struct mh_shard *shard, uint64_t head)
{
	if (head - shard->swept < MH_RING / 16)
		return;
	shard->swept = head;
	for (struct mh_client *c = shard->clients; c != NULL;
	    c = c->next_client) {
		if (c->dropping || c->next + MH_RING >= head)
			continue;
		lwsl_warn("relay: client fell %llu events behind; closing\n",
		    (unsigned long long)(head - c->next));
		c->dropping = 1;
		/* It is not reading: neither a close frame nor what the
		 * kernel still queues for it would get through. Reset the
		 * connection on close, dropping the queue with it. */
		setsockopt(lws_get_socket_fd(c->wsi), SOL_SOCKET, SO_LINGER,
		    &(struct linger){ .l_onoff = 1, .l_linger = 0 },
		    sizeof(struct linger));
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	}
}

static int mh_client_write(struct mh_shard *, struct lws *,
    struct mh_client *);

/*
 * A pass: writes what the ring holds for them to this thread's clients at
 * once, timing it (mh_shard_new_events). Asking each client to become
 * writable instead cost a trip through the event loop and a callback per
 * client, about a third of the relay's time with thousands of clients. A
 * client whose last write is still buffered in libwebsockets (its socket
 * is full) gets its turn when it becomes writable.
 */
static void
mh_shard_pass(struct mh_shard *shard)
{
	ev_tstamp start = ev_time();

	mh_sweep_laggards(shard, mh_ring_head(&shard->relay->ring));
	for (struct mh_client *c = shard->clients; c != NULL;
	    c = c->next_client) {
		if (c->dropping)
			continue;
		if (lws_partial_buffered(c->wsi)) {
			lws_callback_on_writable(c->wsi);
			continue;
		}
		/* Closing is left to the service loop: the list stays. */
		if (mh_client_write(shard, c->wsi, c) != 0) {
			c->dropping = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
		}
	}
	shard->pass_end = ev_time();
	shard->pass_took = shard->pass_end - start;
}

static void
mh_on_hold_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	mh_shard_pass(w->data);
}

/*
 * New events are in the ring. A thread whose last pass over its clients was
 * short (few clients, or events far apart) writes them at once. One whose
 * pass was long holds them for a while, a few times the length of that
 * pass, and then writes all that came meanwhile in one send per client:
 * at a thousand events a second to a thousand subscribers, a send per event
 * per subscriber is a million sends a second, and the proxy in front of
 * the relay (lighttpd's one thread) would spend all its time passing them
 * on, webhooks queueing behind. Holding keeps the relay and the proxy busy
 * a fixed share of the time, whatever the rate.
 */
static void
mh_shard_new_events(struct mh_shard *shard)
{
	ev_tstamp hold = shard->pass_took * MH_HOLD_FACTOR, wait;

	if (ev_is_active(&shard->hold))
		return;		/* a pass is due and will take these too */
	if (hold > MH_HOLD_MAX)
		hold = MH_HOLD_MAX;
	wait = shard->pass_end + hold - ev_time();
	if (wait <= 0) {
		mh_shard_pass(shard);
		return;
	}
	ev_timer_set(&shard->hold, wait, 0);
	ev_timer_start(shard->loop, &shard->hold);
}

/* Reads what datagrams wait (the first thread), then tells every thread. */
static void
mh_read_datagrams(struct mh_shard *shard, int fd)
{
	struct mh_relay *relay = shard->relay;
	ssize_t n;
	int got = 0;

	while ((n = recv(fd, relay->dgram, MH_DGRAM_MAX, MSG_DONTWAIT)) >= 0) {
		relay->dgram[n] = '\0';
		mh_ring_push(&relay->ring, relay->dgram, (size_t)n);
		got = 1;
	}
	if (!got)
		return;
	/* The others first: they write while this one does. */
	for (int i = 0; i < relay->nshards; i++) {
		uint64_t one = 1;

		if (relay->shard[i] != shard &&
		    write(relay->shard[i]->wake_fd, &one, sizeof(one)) < 0 &&
		    errno != EAGAIN)
			lwsl_err("relay: cannot wake thread %d: %s\n", i,
			    strerror(errno));
	}
	mh_shard_new_events(shard);
}

/* Takes a connected socket into this thread's context (which closes it
 * if it cannot). */
static void
mh_shard_adopt(struct mh_shard *shard, int fd)
{
	if (lws_adopt_socket_vhost(lws_get_vhost_by_name(shard->ctx,
	    "default"), fd) == NULL)
		lwsl_warn("relay: cannot take a new client\n");
}

/*
 * Accepts what connections wait (the first thread) and deals them out to
 * the threads in turn. Out of descriptors, the listener would stay
 * readable and the loop would spin: the spare descriptor is given up to
 * accept the client and close it at once.
 */
static void
mh_accept(struct mh_shard *shard)
{
	struct mh_relay *relay = shard->relay;
	int fd;

	for (;;) {
		struct mh_shard *to;

		fd = accept4(relay->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		to = relay->shard[relay->next_shard++ % (unsigned)relay->nshards];
		/* A full pipe means that thread is far behind: keep it. */
		if (to == shard || write(to->handoff[1], &fd, sizeof(fd)) !=
		    (ssize_t)sizeof(fd))
			mh_shard_adopt(shard, fd);
	}
	if ((errno == EMFILE || errno == ENFILE) && relay->spare_fd >= 0) {
		lwsl_warn("relay: out of file descriptors; refusing a client\n");
		close(relay->spare_fd);
		if ((fd = accept4(relay->listen_fd, NULL, NULL,
		    SOCK_CLOEXEC)) >= 0)
			close(fd);
		relay->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
}

/* Takes the sockets the first thread handed to this one. */
static void
mh_take_handoffs(struct mh_shard *shard)
{
	int fds[256];
	ssize_t n;

	while ((n = read(shard->handoff[0], fds, sizeof(fds))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(fds[0]); i++)
			mh_shard_adopt(shard, fds[i]);
}

/* The descriptors a thread watches besides its clients: the listener and
 * the datagram socket (first thread), the wake-up and the hand-off pipe
 * (the others). */
static int
mh_cb_fd(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mh_shard *shard = lws_context_user(lws_get_context(wsi));
	struct mh_relay *relay = shard->relay;
	uint64_t count;
	int fd = lws_get_socket_fd(wsi);

	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	if (fd == relay->listen_fd)
		mh_accept(shard);
	else if (fd == relay->dgram_fd)
		mh_read_datagrams(shard, fd);
	else if (fd == shard->handoff[0])
		mh_take_handoffs(shard);
	else if (fd == shard->wake_fd &&
	    read(fd, &count, sizeof(count)) == (ssize_t)sizeof(count))
		mh_shard_new_events(shard);
	return 0;
}

/* Appends one unmasked text frame of m to out at *used. */
static void
mh_frame(unsigned char *out, size_t *used, const struct mh_msg *m)
{
	unsigned char *p = out + *used;

	*p++ = 0x81;		/* FIN, text */
	if (m->len < 126) {
		*p++ = (unsigned char)m->len;
	} else if (m->len <= 0xffff) {
		*p++ = 126;
		*p++ = (unsigned char)(m->len >> 8);
		*p++ = (unsigned char)m->len;
	} else {
		*p++ = 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			*p++ = (unsigned char)((uint64_t)m->len >> shift);
	}
	memcpy(p, m->buf + LWS_PRE, m->len);
	*used = (size_t)(p - out) + m->len;
}

/*
 * Writes the events the client wants that wait for it, as many as fit in
 * one write: under load (a thousand events a second to a thousand
 * clients) one send carries several frames instead of one each, which is
 * what keeps the relay and the proxy in front of it ahead. The frames are
 * built here, so the write is raw. -1 closes the client.
 */
static int
mh_client_write(struct mh_shard *shard, struct lws *wsi, struct mh_client *c)
{
	struct mh_ring *ring = &shard->relay->ring;
	unsigned char *out = shard->out + LWS_PRE;
	uint64_t head;
	size_t used = 0;

	if (c->dropping)
		return -1;
	pthread_rwlock_rdlock(&ring->lock);
	head = ring->head;
	if (c->next + MH_RING < head) {
		pthread_rwlock_unlock(&ring->lock);
		lwsl_warn("relay: client fell %llu events behind; closing\n",
		    (unsigned long long)(head - c->next));
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    (unsigned char *)"too far behind; catch up", 24);
		return -1;
	}
	while (c->next < head) {
		struct mh_msg *m = &ring->slot[c->next % MH_RING];

		if ((m->type_bit & c->types) == 0) {
			c->next++;
			continue;
		}
		if (used > 0 && used + MH_FRAME_HEAD + m->len > MH_COALESCE)
			break;
		mh_frame(out, &used, m);
		c->next++;
	}
	pthread_rwlock_unlock(&ring->lock);
	if (used > 0 && lws_write(wsi, out, used, LWS_WRITE_RAW) < (int)used)
		return -1;
	if (c->next < head)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
mh_cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mh_shard *shard = lws_context_user(lws_get_context(wsi));
	struct mh_client *c = user;

	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* An unknown type name is refused at the handshake. */
		return mh_client_types(wsi) == 0 ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		c->wsi = wsi;
		c->types = mh_client_types(wsi);
		c->next = mh_ring_head(&shard->relay->ring);
		c->prev = NULL;
		c->next_client = shard->clients;
		if (shard->clients != NULL)
			shard->clients->prev = c;
		shard->clients = c;
		break;
	case LWS_CALLBACK_CLOSED:
		if (c->prev != NULL)
			c->prev->next_client = c->next_client;
		else if (shard->clients == c)
			shard->clients = c->next_client;
		if (c->next_client != NULL)
			c->next_client->prev = c->prev;
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		/* While the thread holds, the pass to come writes to this
		 * client too, and more at once. */
		if (ev_is_active(&shard->hold))
			return 0;
		return mh_client_write(shard, wsi, c);
	case LWS_CALLBACK_RECEIVE:
		break;		/* clients have nothing to say */
	default:
		break;
	}
	return 0;
}

/* Subscribers send nothing but control frames (at most 125 bytes): a
 * small receive buffer keeps an idle subscriber's memory down. The send
 * size must then be given: left at 0, libwebsockets caps each send() at
 * the receive buffer's size, and a write of many frames went out 256
 * bytes a send (370 000 sends a second at the end-to-end load). */
static struct lws_protocols mh_protocols[] = {
	{ "mailhooks", mh_cb_ws, sizeof(struct mh_client), 256, 0, NULL,
	    MH_COALESCE + MH_FRAME_HEAD },
	{ "mailhooks-fd", mh_cb_fd, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static int
mh_bind_socket(const char *path)
{
	struct sockaddr_un sun;
	int fd, rcvbuf = 4 * 1024 * 1024;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "mailhooks-relay: socket path too long: %s\n",
		    path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "mailhooks-relay: bind %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	chmod(path, 0660);
	return fd;
}

static int
mh_env_int(const char *name, int dflt, int lo, int hi)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "mailhooks-relay: %s=%s is out of range "
		    "(%d..%d)\n", name, v, lo, hi);
		return -1;
	}
	return (int)n;
}

/* Watches fd for reading in the shard's context, which then owns it
 * (and closes it when destroyed). On failure fd is closed here. */
static int
mh_shard_watch(struct mh_shard *shard, int fd)
{
	lws_sock_file_fd_type desc = { .filefd = fd };

	if (lws_adopt_descriptor_vhost(lws_get_vhost_by_name(shard->ctx,
	    "default"), LWS_ADOPT_RAW_FILE_DESC, desc, "mailhooks-fd",
	    NULL) != NULL)
		return 0;
	close(fd);
	return -1;
}

static void
mh_on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * On libev, libwebsockets (Debian's 4.1.6) runs its timers (pings,
 * hang-ups, delayed closes) only after the loop has served some event: an
 * idle client was never pinged (tests/integration/relay.t). A wake-up
 * through its own pipe, ten times a second, gives it that event.
 */
static void
mh_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mh_shard *shard = w->data;

	(void)loop;
	(void)revents;
	lws_cancel_service(shard->ctx);
}

static void *
mh_shard_run(void *arg)
{
	struct mh_shard *shard = arg;

	if (!mh_stopping)
		ev_run(shard->loop, 0);
	return NULL;
}

/* The loopback listener the first thread accepts on; -1 on failure. */
static int
mh_listen(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return -1;
	/* A restart must not wait for the last run's TIME_WAITs. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		fprintf(stderr, "mailhooks-relay: cannot listen on "
		    "127.0.0.1:%d: %s\n", port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
mh_default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > MH_THREADS_MAX ? MH_THREADS_MAX :
	    (int)cpus;
}

/* Makes the contexts, one per thread; their descriptors: the listener
 * and the datagram socket for the first, a wake-up and a hand-off pipe for
 * each other. */
static int
mh_relay_open(struct mh_relay *relay, int threads, const char *path,
    const struct lws_context_creation_info *info)
{
	struct lws_context_creation_info ci = *info;
	int fd;

	for (int i = 0; i < threads; i++) {
		struct mh_shard *shard = calloc(1, sizeof(*shard));
		struct ev_loop *loop;

		if (shard == NULL)
			return -1;
		shard->relay = relay;
		shard->wake_fd = shard->handoff[0] = shard->handoff[1] = -1;
		relay->shard[relay->nshards++] = shard;
		if ((loop = ev_loop_new(EVBACKEND_EPOLL)) == NULL) {
			fprintf(stderr, "mailhooks-relay: cannot make an event "
			    "loop\n");
			return -1;
		}
		/* Ready to be stopped before the signal handler sees it. */
		ev_async_init(&shard->stop, mh_on_stop);
		ev_async_start(loop, &shard->stop);
		ev_timer_init(&shard->tick, mh_on_tick, 0.1, 0.1);
		shard->tick.data = shard;
		ev_init(&shard->hold, mh_on_hold_end);
		shard->hold.data = shard;
		shard->loop = loop;
		ci.user = shard;
		ci.foreign_loops = (void *[]){ shard->loop };
		if ((shard->ctx = lws_create_context(&ci)) == NULL) {
			fprintf(stderr, "mailhooks-relay: cannot start "
			    "libwebsockets\n");
			return -1;
		}
		ev_timer_start(shard->loop, &shard->tick);
		if (i == 0)
			continue;
		if ((shard->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
		    mh_shard_watch(shard, shard->wake_fd) != 0 ||
		    pipe2(shard->handoff, O_NONBLOCK | O_CLOEXEC) != 0 ||
		    mh_shard_watch(shard, shard->handoff[0]) != 0) {
			fprintf(stderr, "mailhooks-relay: cannot set up thread "
			    "%d: %s\n", i, strerror(errno));
			return -1;
		}
	}
	if ((fd = mh_bind_socket(path)) < 0 ||
	    mh_shard_watch(relay->shard[0], relay->dgram_fd = fd) != 0) {
		fprintf(stderr, "mailhooks-relay: cannot watch %s\n", path);
		return -1;
	}
	if (mh_shard_watch(relay->shard[0], relay->listen_fd) != 0) {
		fprintf(stderr, "mailhooks-relay: cannot watch the listener\n");
		return -1;
	}
	return 0;
}

/* Stops and joins the threads that run, then frees everything. */
static void
mh_relay_close(struct mh_relay *relay, int running)
{
	mh_on_term(0);
	for (int i = 1; i < running; i++)
		pthread_join(relay->shard[i]->thread, NULL);
	mh_signalled = NULL;
	for (int i = 0; i < relay->nshards; i++) {
		struct mh_shard *shard = relay->shard[i];

		/* Sockets handed over but never taken; before the context
		 * is destroyed, as it closes the pipe's read end. */
		if (shard->handoff[0] >= 0) {
			int fd;

			while (read(shard->handoff[0], &fd, sizeof(fd)) ==
			    (ssize_t)sizeof(fd))
				close(fd);
		}
		if (shard->ctx != NULL)
			lws_context_destroy(shard->ctx);
		if (shard->loop != NULL) {
			ev_timer_stop(shard->loop, &shard->tick);
			ev_timer_stop(shard->loop, &shard->hold);
			ev_async_stop(shard->loop, &shard->stop);
			ev_loop_destroy(shard->loop);
		}
		if (shard->handoff[1] >= 0)
			close(shard->handoff[1]);
		free(shard);
	}
	for (size_t i = 0; i < MH_RING; i++)
		free(relay->ring.slot[i].buf);
	if (relay->spare_fd >= 0)
		close(relay->spare_fd);
}

int
main(void)
{
	static struct mh_relay relay;
	struct lws_context_creation_info info;
	lws_retry_bo_t retry = { 0 };
	struct sigaction sa;
	sigset_t block, old;
	const char *home = getenv("MAILHOOKS_HOME");
	char path[4096];
	int port, ping, threads, running = 1, ret = 1;

	if (home == NULL || *home == '\0')
		home = "./var";
	port = mh_env_int("MAILHOOKS_RELAY_PORT", 8081, 1, 65535);
	ping = mh_env_int("MAILHOOKS_RELAY_PING", 25, 1, 3600);
	threads = mh_env_int("MAILHOOKS_RELAY_THREADS", mh_default_threads(),
	    1, MH_THREADS_MAX);
	if (port < 0 || ping < 0 || threads < 0)
		return 1;
	if (snprintf(path, sizeof(path), "%s/relay.sock", home) >=
	    (int)sizeof(path))
		return 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mh_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	pthread_rwlock_init(&relay.ring.lock, NULL);
	relay.dgram_fd = -1;
	relay.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((relay.listen_fd = mh_listen(port)) < 0)
		goto out;
	mh_signalled = &relay;

	/* Proxies cut idle tunnels after about a minute: ping before that,
	 * and give up on a client that has not answered for two intervals. */
	retry.secs_since_valid_ping = (uint16_t)ping;
	retry.secs_since_valid_hangup = (uint16_t)(ping * 2 + 5);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = mh_protocols;
	info.retry_and_idle_policy = &retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    LWS_SERVER_OPTION_LIBEV;
	info.fd_limit_per_thread = 0;
	if (mh_relay_open(&relay, threads, path, &info) != 0)
		goto out;

	/* The signal handler runs on the first thread only. */
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; running < relay.nshards; running++)
		if (pthread_create(&relay.shard[running]->thread, NULL,
		    mh_shard_run, relay.shard[running]) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (running < relay.nshards) {
		fprintf(stderr, "mailhooks-relay: cannot start thread %d\n",
		    running);
		goto out;
	}
	fprintf(stderr, "mailhooks-relay: listening on 127.0.0.1:%d "
	    "(%d threads), events from %s\n", port, relay.nshards, path);
	mh_shard_run(relay.shard[0]);
	ret = 0;
out:
	mh_relay_close(&relay, running);
	if (relay.dgram_fd >= 0)
		unlink(path);
	return ret;
}

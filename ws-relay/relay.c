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
 * Environment: MAILHOOKS_HOME (default ./var), MAILHOOKS_RELAY_PORT
 * (default 8081, loopback only), MAILHOOKS_RELAY_PING (seconds, default 25).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libwebsockets.h>

/* Events kept for clients that are behind; a power of two. */
#define MH_RING 4096
/* A datagram larger than this is not an event we sent. */
#define MH_DGRAM_MAX (256 * 1024)
/* Frames waiting for one client go out together, up to this many bytes
 * (one larger frame goes alone). */
#define MH_COALESCE 16384
/* The largest WebSocket frame header (unmasked, 64-bit length). */
#define MH_FRAME_HEAD 10

static const char *const mh_types[] = {
	"send", "delivered", "deferral", "hard_bounce", "soft_bounce", "open",
	"click", "spam", "unsub", "reject", "sync", "inbound", NULL
};

struct mh_msg {
	unsigned char *buf;	/* LWS_PRE bytes of headroom, then the JSON */
	size_t len;
	unsigned type_bit;
};

/* The relay's state; one per process, reached through the protocol's
 * per-vhost user pointer. */
struct mh_client {
	struct lws *wsi;
	struct mh_client *prev, *next_client;
	uint64_t next;		/* ring index of the next event to consider */
	unsigned types;		/* bit set of subscribed types */
	int dropping;		/* being closed for falling behind */
};

struct mh_relay {
	struct mh_msg ring[MH_RING];
	uint64_t head;		/* index the next event gets */
	uint64_t swept;		/* head at the last look for laggards */
	struct lws_context *ctx;
	const struct lws_protocols *ws_protocol;
	struct mh_client *clients;
	/* LWS_PRE bytes, then the frames of one write */
	unsigned char out[LWS_PRE + MH_COALESCE + MH_FRAME_HEAD + MH_DGRAM_MAX];
};

static volatile sig_atomic_t mh_stopping;
static struct lws_context *mh_context;	/* for the signal handler only */

static void
mh_on_term(int sig)
{
	(void)sig;
	mh_stopping = 1;
	if (mh_context != NULL)
		lws_cancel_service(mh_context);
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

static void
mh_ring_push(struct mh_relay *relay, const char *data, size_t len)
{
	struct json_object *ev, *type;
	struct mh_msg *slot;
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
	slot = &relay->ring[relay->head % MH_RING];
	free(slot->buf);
	slot->buf = buf;
	slot->len = len;
	slot->type_bit = bit;
	relay->head++;
}

/*
 * A client that stops reading never becomes writable again, so the write
 * path alone would never notice it fell out of the ring: look for such
 * clients every so often and close them.
 */
static void
mh_sweep_laggards(struct mh_relay *relay)
{
	if (relay->head - relay->swept < MH_RING / 16)
		return;
	relay->swept = relay->head;
	for (struct mh_client *c = relay->clients; c != NULL; c = c->next_client) {
		if (c->dropping || c->next + MH_RING >= relay->head)
			continue;
		lwsl_warn("relay: client fell %llu events behind; closing\n",
		    (unsigned long long)(relay->head - c->next));
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

static void
mh_read_datagrams(struct mh_relay *relay, int fd)
{
	static char buf[MH_DGRAM_MAX + 1];
	ssize_t n;
	int got = 0;

	while ((n = recv(fd, buf, MH_DGRAM_MAX, MSG_DONTWAIT)) >= 0) {
		buf[n] = '\0';
		mh_ring_push(relay, buf, (size_t)n);
		got = 1;
	}
	if (got) {
		mh_sweep_laggards(relay);
		lws_callback_on_writable_all_protocol(relay->ctx,
		    relay->ws_protocol);
	}
}

static int
mh_cb_dgram(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mh_relay *relay = lws_context_user(lws_get_context(wsi));

	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE)
		mh_read_datagrams(relay, lws_get_socket_fd(wsi));
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
mh_client_write(struct mh_relay *relay, struct lws *wsi, struct mh_client *c)
{
	uint64_t oldest = relay->head > MH_RING ? relay->head - MH_RING : 0;
	unsigned char *out = relay->out + LWS_PRE;
	size_t used = 0;

	if (c->dropping)
		return -1;
	if (c->next < oldest) {
		lwsl_warn("relay: client fell %llu events behind; closing\n",
		    (unsigned long long)(relay->head - c->next));
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    (unsigned char *)"too far behind; catch up", 24);
		return -1;
	}
	while (c->next < relay->head) {
		struct mh_msg *m = &relay->ring[c->next % MH_RING];

		if ((m->type_bit & c->types) == 0) {
			c->next++;
			continue;
		}
		if (used > 0 && used + MH_FRAME_HEAD + m->len > MH_COALESCE)
			break;
		mh_frame(out, &used, m);
		c->next++;
	}
	if (used > 0 && lws_write(wsi, out, used, LWS_WRITE_RAW) < (int)used)
		return -1;
	if (c->next < relay->head)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
mh_cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mh_relay *relay = lws_context_user(lws_get_context(wsi));
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
		c->next = relay->head;
		c->prev = NULL;
		c->next_client = relay->clients;
		if (relay->clients != NULL)
			relay->clients->prev = c;
		relay->clients = c;
		break;
	case LWS_CALLBACK_CLOSED:
		if (c->prev != NULL)
			c->prev->next_client = c->next_client;
		else if (relay->clients == c)
			relay->clients = c->next_client;
		if (c->next_client != NULL)
			c->next_client->prev = c->prev;
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return mh_client_write(relay, wsi, c);
	case LWS_CALLBACK_RECEIVE:
		break;		/* clients have nothing to say */
	default:
		break;
	}
	return 0;
}

/* Subscribers send nothing but control frames (at most 125 bytes): a
 * small receive buffer keeps an idle subscriber's memory down. */
static struct lws_protocols mh_protocols[] = {
	{ "mailhooks", mh_cb_ws, sizeof(struct mh_client), 256, 0, NULL, 0 },
	{ "mailhooks-dgram", mh_cb_dgram, 0, 0, 0, NULL, 0 },
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

int
main(void)
{
	static struct mh_relay relay;
	struct lws_context_creation_info info;
	lws_retry_bo_t retry = { 0 };
	struct sigaction sa;
	const char *home = getenv("MAILHOOKS_HOME");
	char path[4096];
	lws_sock_file_fd_type fd;
	int port, ping, ret = 1;

	if (home == NULL || *home == '\0')
		home = "./var";
	port = mh_env_int("MAILHOOKS_RELAY_PORT", 8081, 1, 65535);
	ping = mh_env_int("MAILHOOKS_RELAY_PING", 25, 1, 3600);
	if (port < 0 || ping < 0)
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

	/* Proxies cut idle tunnels after about a minute: ping before that,
	 * and give up on a client that has not answered for two intervals. */
	retry.secs_since_valid_ping = (uint16_t)ping;
	retry.secs_since_valid_hangup = (uint16_t)(ping * 2 + 5);

	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = mh_protocols;
	info.user = &relay;
	info.retry_and_idle_policy = &retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.fd_limit_per_thread = 0;
	if ((relay.ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "mailhooks-relay: cannot listen on "
		    "127.0.0.1:%d\n", port);
		return 1;
	}
	mh_context = relay.ctx;
	relay.ws_protocol = &mh_protocols[0];
	if ((fd.filefd = mh_bind_socket(path)) < 0)
		goto out;
	if (lws_adopt_descriptor_vhost(lws_get_vhost_by_name(relay.ctx,
	    "default"), LWS_ADOPT_RAW_FILE_DESC, fd, "mailhooks-dgram",
	    NULL) == NULL) {
		fprintf(stderr, "mailhooks-relay: cannot watch %s\n", path);
		close(fd.filefd);
		goto out;
	}
	fprintf(stderr, "mailhooks-relay: listening on 127.0.0.1:%d, "
	    "events from %s\n", port, path);
	while (!mh_stopping)
		if (lws_service(relay.ctx, 0) < 0)
			break;
	ret = 0;
out:
	lws_context_destroy(relay.ctx);
	unlink(path);
	for (size_t i = 0; i < MH_RING; i++)
		free(relay.ring[i].buf);
	return ret;
}

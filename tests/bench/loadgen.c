/*
 * loadgen: the load tool of make bench. One epoll loop drives keep-alive
 * HTTP connections that POST signed Mandrill webhooks, each event with a
 * message id of its own, and WebSocket subscribers that timestamp the
 * frames they get, so that send and receive times come from one clock.
 *
 *   loadgen -a HOST:PORT -k KEY -u URL -p PREFIX [options] MODE
 *
 *   -a HOST:PORT  the web server the webhooks go to
 *   -w HOST:PORT  where subscribers connect (default: the -a server)
 *   -k KEY, -u URL  the webhook key and the URL the signature covers
 *   -p PREFIX     message ids are PREFIX-N
 *   -T FILE       WebSocket tickets (POST /api/ws-tickets), one a line,
 *                 one for each subscriber
 *   -M TOKEN      send mail (POST /api/mail, with this API token) instead
 *                 of webhooks: event N is a mail to readerN@example.com,
 *                 PREFIX-N in its metadata (ingest only)
 *   -A TOKEN      send notifications (POST /api/notifications, with this
 *                 API token) instead of webhooks: event N is one to user
 *                 u(N % SUBS), and subscriber i listens on user ui's own
 *                 channel, /ws/notifications/ui (its frames are checked
 *                 to reach that subscriber alone, once)
 *   -N PATH       publish to another server instead (nchan's publisher
 *                 location): event N is POSTed to PATH as the JSON the
 *                 relay would frame for it, unsigned (a 201 or 202 is
 *                 its success); -S PATH: subscribers connect to PATH (no
 *                 tickets), so that one meter reads either's frames
 *   MODE ingest   -c CONNS -d SECONDS -n MAX: single-open webhooks, each
 *                 connection sending the next as soon as one is answered
 *   MODE batch    -n RUNS -b SIZE: SIZE-event batches, one at a time
 *   MODE e2e      -s SUBS -r RATE -d SECONDS: single opens at a steady
 *                 RATE per second while SUBS subscribers listen
 *   MODE fanout   -s SUBS -n ROUNDS [-P PID]: SUBS subscribers connected,
 *                 then one open per round; -P is the relay (or a comma
 *                 list: nginx's workers), whose resident memory is read
 *                 before and after they connect
 *
 * Prints the figures as one JSON object on stdout. Exits 0 when the run
 * checks out (every webhook answered 200; in e2e and fanout every
 * subscriber got every event once), 1 when it does not, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Latencies are kept as a histogram of 10-microsecond buckets. */
#define LG_BUCKET_US 10
#define LG_BUCKETS (1000 * 1000)
#define LG_PENDING_CONNECTS 256

struct lg_hist {
	uint32_t *bucket;
	uint64_t n;
	double max_ms;
};

struct lg_conn {
	int fd;
	int ws;			/* a subscriber, not an HTTP connection */
	int open;		/* subscriber: handshake answered */
	char *out;		/* what remains to be written (owned) */
	size_t outlen, outoff;
	char *in;		/* what was read and not yet parsed (owned) */
	size_t inlen, incap;
	double sent_at;		/* HTTP: request in flight since; 0: idle */
	long first, count;	/* HTTP: the events of the request in flight */
	int retried;		/* HTTP: that request was sent again */
	long got;		/* subscriber: events received */
	uint8_t *seen;		/* subscriber: one byte per event index */
};

struct lg {
	const char *mode;
	struct sockaddr_in http_addr, ws_addr;
	char host[64];
	const char *key, *url, *prefix;
	const char *token;	/* -A, -M: notifications or mail, not webhooks */
	int mail;		/* -M */
	char **tickets;		/* one per subscriber (-T), or NULL */
	long ntickets;
	long conns, max, runs, batch, subs, rate;
	const char *pids;	/* -P: the relay's, or several, comma apart */
	const char *pub_path;	/* -N: publish there, unsigned */
	const char *sub_path;	/* -S: subscribe there */
	double seconds;
	int ep;
	struct lg_conn *http;	/* conns of them */
	struct lg_conn *sub;	/* subs of them */
	long nhttp, nsub;
	long next;		/* index of the next event to send */
	long events;		/* events the run will send (for seen) */
	long ok, failed, dup, stray;
	long answered;		/* HTTP responses read */
	long opened;		/* subscribers whose handshake was answered */
	int broken;		/* a connection failed: send nothing more */
	double end;		/* ingest: send nothing new after this */
	long *rx_count;		/* how many subscribers got each event */
	struct lg_hist rx;	/* e2e: POST sent -> frame received */
	double *sent;		/* when each event's request was sent */
	double first_rx;	/* when the first subscriber got the last new event */
	double last_rx;		/* when a subscriber last got a frame */
	struct lg_hist lat;
};

static double
lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
lg_hist_add(struct lg_hist *h, double ms)
{
	long b = (long)(ms * 1000.0 / LG_BUCKET_US);

	if (b < 0)
		b = 0;
	if (b >= LG_BUCKETS)
		b = LG_BUCKETS - 1;
	h->bucket[b]++;
	h->n++;
	if (ms > h->max_ms)
		h->max_ms = ms;
}

/* The q-quantile in milliseconds (the bucket's upper edge). */
static double
lg_hist_quantile(const struct lg_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n + 0.5), seen = 0;

	if (h->n == 0)
		return 0;
	if (want < 1)
		want = 1;
	for (long b = 0; b < LG_BUCKETS; b++)
		if ((seen += h->bucket[b]) >= want)
			return (double)(b + 1) * LG_BUCKET_US / 1000.0;
	return h->max_ms;
}

static int
lg_parse_addr(const char *s, struct sockaddr_in *sa, char *host, size_t hlen)
{
	const char *colon = strrchr(s, ':');
	char ip[64];

	if (colon == NULL || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1 || sa->sin_port == 0)
		return -1;
	if (host != NULL)
		snprintf(host, hlen, "%s", s);
	return 0;
}

static void
lg_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		if ((*buf = realloc(*buf, *cap)) == NULL) {
			perror("loadgen");
			exit(1);
		}
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * A signed webhook request carrying events first .. first+count-1, each an
 * open of a message of its own. Returns it (the caller frees it); *len is
 * its length.
 */
/* A POST of notifications first .. first + count - 1, each to user
 * u(N % subs), its marker PREFIX-N in its data's message_id. */
/*
 * Varied content, as real traffic is (repeated content hides what indexes
 * and transactions cost): each event's address is ten random letters and
 * digits at one of a few thousand domains (a share of them Apple's Hide My
 * Email relay), its subject an order number and a code. Deterministic in
 * the event's index and the run's prefix.
 */
static uint64_t
lg_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t
lg_text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void
lg_token(char *out, size_t len, uint64_t h)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < len; i++, h = lg_mix(h))
		out[i] = abc[h % 36];
	out[len] = '\0';
}

static const char *
lg_domain(uint64_t h)
{
	static char name[32];

	if ((h >> 40) % 100 < 30)
		return "privaterelay.appleid.com";
	snprintf(name, sizeof(name), "mail%llu.example.net",
	    (unsigned long long)((h >> 20) % 4000));
	return name;
}

/* A POST of the JSON body (blen bytes) to path, with the API token (-A,
 * -M) when there is one: the request, malloc'd, its length in *len. */
static char *
lg_json_post(const struct lg *g, const char *path, const char *body,
    size_t blen, size_t *len)
{
	size_t rcap = blen + strlen(path) + 512;
	char *req = malloc(rcap);

	if (req == NULL) {
		perror("loadgen");
		exit(1);
	}
	*len = (size_t)snprintf(req, rcap, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n"
	    "\r\n", path, g->host, g->token ? "Authorization: Bearer " : "",
	    g->token ? g->token : "", g->token ? "\r\n" : "", blen);
	memcpy(req + *len, body, blen);
	*len += blen;
	return req;
}

static char *
lg_notify_request(const struct lg *g, long first, long count, size_t *len)
{
	char *body = NULL, *req, one[256];
	size_t blen = 0, bcap = 0;

	if (count > 1)
		lg_append(&body, &blen, &bcap, "{\"notifications\":[", 18);
	for (long i = first; i < first + count; i++) {
		int n = snprintf(one, sizeof(one), "%s{\"user_id\":\"u%ld\","
		    "\"title\":\"Bench %ld\",\"identifier\":\"BENCH\","
		    "\"data\":{\"message_id\":\"%s-%ld\"}}", i > first ? "," : "",
		    i % g->subs, i, g->prefix, i);

		lg_append(&body, &blen, &bcap, one, (size_t)n);
	}
	if (count > 1)
		lg_append(&body, &blen, &bcap, "]}", 2);
	req = lg_json_post(g, "/api/notifications", body, blen, len);
	free(body);
	return req;
}

/* A POST of mail first (count is 1), to readerN@example.com. */
static char *
lg_mail_request(const struct lg *g, long first, size_t *len)
{
	char body[512];
	int blen = snprintf(body, sizeof(body), "{\"from_email\":"
	    "\"bench@example.com\",\"subject\":\"Bench %ld\",\"text\":"
	    "\"Hello\",\"to\":[{\"email\":\"reader%ld@example.com\"}],"
	    "\"metadata\":{\"bench\":\"%s-%ld\"}}", first, first, g->prefix,
	    first);

	return lg_json_post(g, "/api/mail", body, (size_t)blen, len);
}

/* What nchan is given to publish for event first (count is 1): the text
 * the relay frames for such an event, of the same size and shape. */
static char *
lg_publish_request(const struct lg *g, long first, size_t *len)
{
	uint64_t h = lg_mix((uint64_t)first ^ lg_text_hash(g->prefix));
	char user[12], code[8], body[640];
	long ts = (long)time(NULL);
	int blen;

	lg_token(user, 10, h);
	lg_token(code, 6, lg_mix(h));
	blen = snprintf(body, sizeof(body), "{\"seq\":%ld,\"provider\":"
	    "\"mandrill\",\"type\":\"open\",\"message_id\":\"%s-%ld\","
	    "\"email\":\"%s@%s\",\"subject\":\"Order %06llu: your code %s\","
	    "\"ts\":%ld,\"received_at\":\"2026-01-01T00:00:00.000Z\","
	    "\"receipt\":\"%ld\",\"ip\":\"127.0.0.1\",\"user_agent\":null,"
	    "\"location\":null,\"tags\":[],\"metadata\":{},\"state\":"
	    "\"sent\",\"machine\":null}", first + 1, g->prefix, first, user,
	    lg_domain(h), (unsigned long long)(h % 1000000), code, ts,
	    first + 1);
	if (blen < 0 || (size_t)blen >= sizeof(body)) {
		fprintf(stderr, "loadgen: prefix too long\n");
		exit(2);
	}
	return lg_json_post(g, g->pub_path, body, (size_t)blen, len);
}

static char *
lg_request(const struct lg *g, long first, long count, size_t *len)
{
	char *json = NULL, *body = NULL, *text = NULL, *req, ev[512], sig[64];
	size_t jlen = 0, jcap = 0, blen = 0, bcap = 0, tlen = 0, tcap = 0;
	size_t rlen, rcap;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	long ts = (long)time(NULL);

	if (g->pub_path != NULL)
		return lg_publish_request(g, first, len);
	if (g->mail)
		return lg_mail_request(g, first, len);
	if (g->token != NULL)
		return lg_notify_request(g, first, count, len);
	lg_append(&json, &jlen, &jcap, "[", 1);
	for (long i = first; i < first + count; i++) {
		char user[12], code[8];
		uint64_t h = lg_mix((uint64_t)i ^ lg_text_hash(g->prefix));
		int n;

		lg_token(user, 10, h);
		lg_token(code, 6, lg_mix(h));
		n = snprintf(ev, sizeof(ev), "%s{\"event\":\"open\","
		    "\"ts\":%ld,\"_id\":\"%s-%ld\",\"msg\":{\"_id\":\"%s-%ld\","
		    "\"email\":\"%s@%s\",\"subject\":"
		    "\"Order %06llu: your code %s\",\"ts\":%ld,\"state\":\"sent\","
		    "\"tags\":[],"
		    "\"metadata\":{}},\"ip\":\"127.0.0.1\",\"location\":null,"
		    "\"user_agent\":null}", i > first ? "," : "", ts,
		    g->prefix, i, g->prefix, i, user, lg_domain(h),
		    (unsigned long long)(h % 1000000), code, ts);
		if (n < 0 || (size_t)n >= sizeof(ev)) {
			fprintf(stderr, "loadgen: prefix too long\n");
			exit(2);
		}
		lg_append(&json, &jlen, &jcap, ev, (size_t)n);
	}
	lg_append(&json, &jlen, &jcap, "]", 1);

	/* What Mandrill signs: the URL, then each key and its value. */
	lg_append(&text, &tlen, &tcap, g->url, strlen(g->url));
	lg_append(&text, &tlen, &tcap, "mandrill_events", 15);
	lg_append(&text, &tlen, &tcap, json, jlen);
	HMAC(EVP_sha1(), g->key, (int)strlen(g->key), (unsigned char *)text,
	    tlen, mac, &maclen);
	free(text);
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);

	lg_append(&body, &blen, &bcap, "mandrill_events=", 16);
	for (size_t i = 0; i < jlen; i++) {
		unsigned char c = (unsigned char)json[i];
		char esc[4];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			lg_append(&body, &blen, &bcap, (char *)&c, 1);
		} else {
			snprintf(esc, sizeof(esc), "%%%02X", c);
			lg_append(&body, &blen, &bcap, esc, 3);
		}
	}
	rcap = blen + 512;
	if ((req = malloc(rcap)) == NULL) {
		perror("loadgen");
		exit(1);
	}
	rlen = (size_t)snprintf(req, rcap, "POST /webhooks/mandrill HTTP/1.1\r\n"
	    "Host: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	    "X-Mandrill-Signature: %s\r\nContent-Length: %zu\r\n\r\n",
	    g->host, sig, blen);
	memcpy(req + rlen, body, blen);
	rlen += blen;
	free(json);
	free(body);
	*len = rlen;
	return req;
}

static void
lg_watch(struct lg *g, struct lg_conn *c, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (c->outoff < c->outlen)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(g->ep, op, c->fd, &ev) != 0 && op != EPOLL_CTL_DEL) {
		perror("loadgen: epoll_ctl");
		exit(1);
	}
}

static void
lg_connect(struct lg *g, struct lg_conn *c, const struct sockaddr_in *sa)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("loadgen: socket");
		exit(1);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 &&
	    errno != EINPROGRESS) {
		perror("loadgen: connect");
		exit(1);
	}
	c->inlen = 0;
	lg_watch(g, c, EPOLL_CTL_ADD);
}

/* Closes c without lingering in TIME_WAIT (thousands of ports per run). */
static void
lg_close(struct lg *g, struct lg_conn *c)
{
	struct linger lin = { 1, 0 };

	if (c->fd < 0)
		return;
	epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
	close(c->fd);
	c->fd = -1;
	c->open = 0;
	c->outoff = c->outlen = 0;
	c->inlen = 0;
}

static void
lg_flush(struct lg *g, struct lg_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff);

		if (n < 0) {
			if (errno == EAGAIN || errno == ENOTCONN)
				break;
			fprintf(stderr, "loadgen: write: %s\n", strerror(errno));
			lg_close(g, c);
			g->broken = 1;
			g->failed++;
			c->sent_at = 0;
			return;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	lg_watch(g, c, EPOLL_CTL_MOD);
}

/* Queues n bytes on c, which takes the buffer; connects when it must. */
static void
lg_send(struct lg *g, struct lg_conn *c, char *buf, size_t n)
{
	const struct sockaddr_in *sa = c->ws ? &g->ws_addr : &g->http_addr;

	if (c->fd < 0)
		lg_connect(g, c, sa);
	if (c->outlen > c->outoff) {
		size_t left = c->outlen - c->outoff;
		char *joined = malloc(left + n);

		if (joined == NULL) {
			perror("loadgen");
			exit(1);
		}
		memcpy(joined, c->out + c->outoff, left);
		memcpy(joined + left, buf, n);
		free(buf);
		buf = joined;
		n += left;
	}
	free(c->out);
	c->out = buf;
	c->outlen = n;
	c->outoff = 0;
	lg_flush(g, c);
}

static void
lg_send_events(struct lg *g, struct lg_conn *c, long first, long count)
{
	size_t n;
	char *req = lg_request(g, first, count, &n);

	c->first = first;
	c->count = count;
	c->sent_at = lg_now();
	for (long i = first; i < first + count && i < g->events; i++)
		g->sent[i] = c->sent_at;
	lg_send(g, c, req, n);
}

static int
lg_header_is(const char *head, size_t hlen, const char *name,
    const char *value)
{
	size_t nl = strlen(name);

	for (const char *p = head; p != NULL && p < head + hlen;
	    p = memchr(p, '\n', (size_t)(head + hlen - p))) {
		if (*p == '\n')
			p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *end;

			while (*v == ' ')
				v++;
			end = memchr(v, '\r', (size_t)(head + hlen - v));
			if (value == NULL)
				return atoi(v);
			return end != NULL && (size_t)(end - v) >= strlen(value) &&
			    strncasecmp(v, value, strlen(value)) == 0;
		}
	}
	return value == NULL ? -1 : 0;
}

/*
 * The length of the complete HTTP response at the start of buf: 0 while
 * incomplete, -1 when malformed. Sets *status and *closing (the server
 * will close the connection after it).
 */
static long
lg_http_response(const char *buf, size_t len, int *status, int *closing)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	size_t hlen, at;
	int clen;

	if (end == NULL)
		return 0;
	hlen = (size_t)(end - buf) + 4;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(buf + 9);
	*closing = lg_header_is(buf, hlen, "Connection", "close");
	if (lg_header_is(buf, hlen, "Transfer-Encoding", "chunked")) {
		at = hlen;
		for (;;) {
			const char *crlf = memmem(buf + at, len - at, "\r\n", 2);
			unsigned long size;

			if (crlf == NULL)
				return 0;
			size = strtoul(buf + at, NULL, 16);
			at = (size_t)(crlf - buf) + 2;
			if (size == 0)
				return len - at >= 2 ? (long)(at + 2) : 0;
			if (len - at < size + 2)
				return 0;
			at += size + 2;
		}
	}
	if ((clen = lg_header_is(buf, hlen, "Content-Length", NULL)) < 0)
		return -1;
	return len - hlen >= (size_t)clen ? (long)(hlen + (size_t)clen) : 0;
}

static void
lg_on_event(struct lg *g, struct lg_conn *c, const char *frame, size_t len,
    double now)
{
	static const char key[] = "\"message_id\":\"";
	const char *p = memmem(frame, len, key, sizeof(key) - 1);
	size_t plen = strlen(g->prefix);
	long idx;

	if (p == NULL || (p += sizeof(key) - 1) + plen + 1 > frame + len ||
	    memcmp(p, g->prefix, plen) != 0 || p[plen] != '-') {
		g->stray++;
		return;
	}
	idx = strtol(p + plen + 1, NULL, 10);
	if (idx < 0 || idx >= g->events) {
		g->stray++;
		return;
	}
	if (c->seen[idx]++) {
		g->dup++;
		return;
	}
	c->got++;
	if (g->rx_count[idx]++ == 0)
		g->first_rx = now;
	g->last_rx = now;
	if (g->sent[idx] > 0)
		lg_hist_add(&g->rx, (now - g->sent[idx]) * 1000.0);
}

/* Parses what a subscriber read: the handshake's answer, then frames. */
static int
lg_ws_read(struct lg *g, struct lg_conn *c, double now)
{
	size_t at = 0;

	if (!c->open) {
		const char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);

		if (end == NULL)
			return 0;
		if (strncmp(c->in, "HTTP/1.1 101", 12) != 0) {
			fprintf(stderr, "loadgen: subscriber refused: %.40s\n",
			    c->in);
			return -1;
		}
		c->open = 1;
		g->opened++;
		at = (size_t)(end - c->in) + 4;
	}
	while (c->inlen - at >= 2) {
		const unsigned char *f = (const unsigned char *)c->in + at;
		size_t avail = c->inlen - at, hdr = 2;
		uint64_t plen = f[1] & 0x7f;

		if (plen == 126) {
			if (avail < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			hdr = 4;
		} else if (plen == 127) {
			if (avail < 10)
				break;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = plen << 8 | f[2 + i];
			hdr = 10;
		}
		if ((f[1] & 0x80) || !(f[0] & 0x80)) {
			fprintf(stderr, "loadgen: masked or fragmented frame\n");
			return -1;
		}
		if (avail - hdr < plen)
			break;
		switch (f[0] & 0x0f) {
		case 0x1:
			lg_on_event(g, c, (const char *)f + hdr, plen, now);
			break;
		case 0x8:
			fprintf(stderr, "loadgen: subscriber closed by the "
			    "server\n");
			return -1;
		case 0x9: {
			/* A pong, masked with a zero key, carries the ping's
			 * payload back. */
			char *pong = malloc(6 + plen);

			if (pong == NULL || plen > 125)
				return -1;
			pong[0] = (char)0x8a;
			pong[1] = (char)(0x80 | plen);
			memset(pong + 2, 0, 4);
			memcpy(pong + 6, f + hdr, plen);
			lg_send(g, c, pong, 6 + plen);
			break;
		}
		default:
			break;
		}
		at += hdr + plen;
	}
	memmove(c->in, c->in + at, c->inlen - at);
	c->inlen -= at;
	return 0;
}

static void lg_http_done(struct lg *, struct lg_conn *, int, double);

static void
lg_readable(struct lg *g, struct lg_conn *c)
{
	double now = lg_now();

	for (;;) {
		size_t space;
		ssize_t n;

		if (c->incap - c->inlen < 4096) {
			c->incap = c->incap ? c->incap * 2 : 8192;
			if ((c->in = realloc(c->in, c->incap)) == NULL) {
				perror("loadgen");
				exit(1);
			}
		}
		space = c->incap - c->inlen;
		n = read(c->fd, c->in + c->inlen, space);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			if (c->ws) {
				fprintf(stderr, "loadgen: subscriber lost: %s\n",
				    n < 0 ? strerror(errno) : "closed");
				g->failed++;
				g->broken = 1;
			} else if (c->sent_at > 0) {
				/* Closed with the request in flight (a
				 * keep-alive limit): send it again. */
				lg_close(g, c);
				lg_http_done(g, c, 0, now);
				return;
			}
			lg_close(g, c);
			return;
		}
		c->inlen += (size_t)n;
		/* Level-triggered: a short read emptied the socket, and
		 * epoll says when there is more. This halves the reads of a
		 * subscriber that gets one frame at a time. */
		if ((size_t)n < space)
			break;
	}
	if (c->ws) {
		if (lg_ws_read(g, c, now) != 0) {
			g->failed++;
			lg_close(g, c);
		}
		return;
	}
	while (c->inlen > 0) {
		int status = 0, closing = 0;
		long n = lg_http_response(c->in, c->inlen, &status, &closing);

		if (n == 0)
			return;
		if (n < 0) {
			fprintf(stderr, "loadgen: bad response: %.60s\n", c->in);
			lg_close(g, c);
			lg_http_done(g, c, -1, now);
			return;
		}
		if (status != 200 && status != 201 && status != 202)
			fprintf(stderr, "loadgen: HTTP %d: %.*s\n", status,
			    (int)(n > 300 ? 300 : n), c->in);
		memmove(c->in, c->in + n, c->inlen - (size_t)n);
		c->inlen -= (size_t)n;
		if (closing)
			lg_close(g, c);
		lg_http_done(g, c, status, now);
	}
}

/*
 * An answer (status 200 or not), or 0: the server closed the connection
 * with the request unanswered, which is sent once more; -1: unreadable.
 */
static void
lg_http_done(struct lg *g, struct lg_conn *c, int status, double now)
{
	if (status == 0 && !c->retried && !g->broken) {
		c->retried = 1;
		lg_send_events(g, c, c->first, c->count);
		return;
	}
	lg_hist_add(&g->lat, (now - c->sent_at) * 1000.0);
	c->sent_at = 0;
	c->retried = 0;
	g->answered++;
	if (status == 200 || (status == 201 && g->token != NULL) ||
	    (status == 202 && g->mail) || (g->pub_path != NULL &&
	    (status == 201 || status == 202))) {
		g->ok += c->count;
	} else {
		g->failed++;
		g->broken = 1;
	}
	if (g->broken)
		return;
	if (strcmp(g->mode, "ingest") == 0 && now < g->end && g->next < g->max)
		lg_send_events(g, c, g->next++, 1);
	else if (strcmp(g->mode, "batch") == 0 && g->next < g->events) {
		lg_send_events(g, c, g->next, g->batch);
		g->next += g->batch;
	}
}

/* Serves what is ready, waiting at most timeout seconds, to the
 * nanosecond: a wait in whole milliseconds rounded the e2e run's
 * sub-millisecond waits down to none, and the tool spun, taking the CPU
 * the stack it measures needed. */
static void
lg_poll(struct lg *g, double timeout)
{
	struct epoll_event ev[512];
	struct timespec ts = { .tv_sec = (time_t)timeout,
	    .tv_nsec = (long)((timeout - (double)(time_t)timeout) * 1e9) };
	int n = epoll_pwait2(g->ep, ev, 512, &ts, NULL);

	for (int i = 0; i < n; i++) {
		struct lg_conn *c = ev[i].data.ptr;

		if (c->fd < 0)
			continue;
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			lg_readable(g, c);
		if (c->fd >= 0 && (ev[i].events & EPOLLOUT))
			lg_flush(g, c);
	}
}

static long
lg_in_flight(const struct lg *g)
{
	long n = 0;

	for (long i = 0; i < g->nhttp; i++)
		n += g->http[i].sent_at > 0;
	return n;
}

static struct lg_conn *
lg_conns(long n, int ws)
{
	struct lg_conn *c = calloc((size_t)n, sizeof(*c));

	if (c == NULL && n > 0) {
		perror("loadgen");
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		c[i].fd = -1;
		c[i].ws = ws;
	}
	return c;
}

static void
lg_wait_answers(struct lg *g, double deadline)
{
	while (lg_in_flight(g) > 0 && lg_now() < deadline)
		lg_poll(g, 0.05);
}

/* Connects the subscribers, a bounded number of handshakes at a time;
 * returns 0 when all are subscribed within the time allowed. */
static int
lg_subscribe(struct lg *g)
{
	double deadline = lg_now() + 60;
	long started = 0;

	g->sub = lg_conns(g->subs, 1);
	g->nsub = g->subs;
	for (long i = 0; i < g->nsub; i++)
		if ((g->sub[i].seen = calloc((size_t)g->events, 1)) == NULL) {
			perror("loadgen");
			exit(1);
		}
	while (g->opened < g->nsub && !g->broken && lg_now() < deadline) {
		while (started < g->nsub &&
		    started - g->opened < LG_PENDING_CONNECTS) {
			char *req = malloc(2048);
			int n;

			if (req == NULL)
				exit(1);
			char path[64];

			if (g->sub_path != NULL)
				snprintf(path, sizeof(path), "%s", g->sub_path);
			else if (g->token != NULL)
				snprintf(path, sizeof(path),
				    "/ws/notifications/u%ld?types=open", started);
			else
				snprintf(path, sizeof(path), "/ws?types=open");
			n = snprintf(req, 2048, "GET %s%s%s HTTP/1.1\r\n"
			    "Host: %s\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Key: bWFpbGhvb2tzLWJlbmNoIQ==\r\n"
			    "Sec-WebSocket-Version: 13\r\n\r\n", path,
			    started < g->ntickets ? "&ticket=" : "",
			    started < g->ntickets ? g->tickets[started] : "",
			    g->host);
			lg_send(g, &g->sub[started++], req, (size_t)n);
		}
		lg_poll(g, 0.05);
	}
	if (g->opened < g->nsub)
		fprintf(stderr, "loadgen: %ld of %ld subscribers connected\n",
		    g->opened, g->nsub);
	return g->opened == g->nsub ? 0 : -1;
}

/* The resident memory of the processes pids names (comma apart), KiB, in
 * all; -1 when one cannot be read. */
static long
lg_rss_kb(const char *pids)
{
	char path[64], line[256];
	long kb = 0, one;
	FILE *f;

	for (const char *p = pids; *p != '\0'; p += strcspn(p, ",") +
	    (p[strcspn(p, ",")] == ',')) {
		snprintf(path, sizeof(path), "/proc/%ld/status", atol(p));
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		one = -1;
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "VmRSS:", 6) == 0)
				one = atol(line + 6);
		fclose(f);
		if (one < 0)
			return -1;
		kb += one;
	}
	return kb;
}

static void
lg_print_latency(const char *name, const struct lg_hist *h)
{
	printf(",\"%s_p50_ms\":%.3f,\"%s_p99_ms\":%.3f,\"%s_max_ms\":%.3f",
	    name, lg_hist_quantile(h, 0.5), name, lg_hist_quantile(h, 0.99),
	    name, h->max_ms);
}

static int
lg_run_ingest(struct lg *g)
{
	double t0, elapsed;

	g->events = g->max;
	g->http = lg_conns(g->conns, 0);
	g->nhttp = g->conns;
	t0 = lg_now();
	g->end = t0 + g->seconds;
	for (long i = 0; i < g->nhttp && g->next < g->max; i++)
		lg_send_events(g, &g->http[i], g->next++, 1);
	lg_wait_answers(g, g->end + 60);
	elapsed = lg_now() - t0;
	printf("{\"sent\":%ld,\"requests\":%ld,\"ok\":%ld,\"failed\":%ld,"
	    "\"seconds\":%.3f,\"rps\":%.1f", g->next, g->answered, g->ok,
	    g->failed, elapsed,
	    (double)g->ok / elapsed);
	lg_print_latency("http", &g->lat);
	printf("}\n");
	return g->failed == 0 && g->answered == g->next && g->ok > 0 ? 0 : 1;
}

static int
lg_run_batch(struct lg *g)
{
	g->events = g->runs * g->batch;
	g->http = lg_conns(1, 0);
	g->nhttp = 1;
	lg_send_events(g, &g->http[0], 0, g->batch);
	g->next = g->batch;
	lg_wait_answers(g, lg_now() + 60.0 * (double)g->runs);
	printf("{\"batches\":%ld,\"batch_size\":%ld,\"ok\":%ld,\"failed\":%ld",
	    g->answered, g->batch, g->ok, g->failed);
	lg_print_latency("batch", &g->lat);
	printf("}\n");
	return g->failed == 0 && g->ok == g->events ? 0 : 1;
}

/* Waits until every subscriber has events [0, n) or the deadline. */
/* How many subscribers each event is for: all of them, or with -A its
 * user's one. */
static long
lg_audience(const struct lg *g)
{
	return g->token != NULL ? 1 : g->nsub;
}

static void
lg_wait_frames(struct lg *g, long from, long n, double deadline)
{
	for (long i = from; i < n; i++)
		while (g->rx_count[i] < lg_audience(g) && !g->broken &&
		    lg_now() < deadline)
			lg_poll(g, 0.02);
}

static long
lg_missing(const struct lg *g, long n)
{
	long missing = 0;

	for (long i = 0; i < n; i++)
		missing += lg_audience(g) - g->rx_count[i];
	return missing;
}

static int
lg_run_e2e(struct lg *g)
{
	double t0, last_send = 0;
	long missing;

	long rss0 = -1, rss1 = -1;

	g->events = g->rate * (long)g->seconds;
	if (g->pids != NULL)
		rss0 = lg_rss_kb(g->pids);
	if (lg_subscribe(g) != 0)
		return 1;
	for (double settle = lg_now() + 1; lg_now() < settle;)
		lg_poll(g, 0.05);
	if (g->pids != NULL)
		rss1 = lg_rss_kb(g->pids);
	g->http = lg_conns(64, 0);
	g->nhttp = 64;
	t0 = lg_now();
	while (g->next < g->events && !g->broken) {
		double now = lg_now(), due = t0 + (double)g->next / g->rate;

		if (now >= due) {
			struct lg_conn *idle = NULL;

			for (long i = 0; i < g->nhttp && idle == NULL; i++)
				if (g->http[i].sent_at == 0)
					idle = &g->http[i];
			if (idle != NULL) {
				lg_send_events(g, idle, g->next++, 1);
				last_send = now;
				continue;
			}
		}
		lg_poll(g, now >= due ? 0.001 : due - now);
	}
	lg_wait_answers(g, lg_now() + 30);
	lg_wait_frames(g, 0, g->next, lg_now() + 10);
	missing = lg_missing(g, g->next);
	printf("{\"subscribers\":%ld,\"events\":%ld,\"ok\":%ld,\"failed\":%ld,"
	    "\"rate\":%.1f,\"missing_frames\":%ld,\"duplicate_frames\":%ld",
	    g->nsub, g->next, g->ok, g->failed,
	    (double)g->next / (last_send - t0 + 1.0 / g->rate), missing,
	    g->dup);
	lg_print_latency("e2e", &g->rx);
	lg_print_latency("http", &g->lat);
	printf(",\"relay_kb_per_conn\":%.3f}\n", rss0 > 0 && rss1 > 0 ?
	    (double)(rss1 - rss0) / (double)g->nsub : -1.0);
	return g->failed == 0 && g->ok == g->events && missing == 0 &&
	    g->dup == 0 ? 0 : 1;
}

static int
lg_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
lg_run_fanout(struct lg *g)
{
	long rss0 = -1, rss1 = -1, missing;
	double *took, *first, settle;

	g->events = g->runs;
	took = calloc((size_t)g->runs, sizeof(*took));
	first = calloc((size_t)g->runs, sizeof(*first));
	if (took == NULL || first == NULL) {
		free(took);
		free(first);
		return 1;
	}
	if (g->pids != NULL)
		rss0 = lg_rss_kb(g->pids);
	if (lg_subscribe(g) != 0) {
		free(took);
		free(first);
		return 1;
	}
	/* Let the relay finish what the handshakes allocated. */
	for (settle = lg_now() + 1; lg_now() < settle;)
		lg_poll(g, 0.05);
	if (g->pids != NULL)
		rss1 = lg_rss_kb(g->pids);
	g->http = lg_conns(1, 0);
	g->nhttp = 1;
	for (long r = 0; r < g->runs && !g->broken; r++) {
		lg_send_events(g, &g->http[0], r, 1);
		g->next = r + 1;
		lg_wait_frames(g, r, r + 1, lg_now() + 10);
		took[r] = (g->last_rx - g->sent[r]) * 1000.0;
		first[r] = (g->first_rx - g->sent[r]) * 1000.0;
		lg_wait_answers(g, lg_now() + 10);
		for (settle = lg_now() + 0.2; lg_now() < settle;)
			lg_poll(g, 0.02);
	}
	missing = lg_missing(g, g->runs);
	printf("{\"subscribers\":%ld,\"rounds\":%ld,\"ok\":%ld,\"failed\":%ld,"
	    "\"missing_frames\":%ld,\"duplicate_frames\":%ld,"
	    "\"delivered_ms\":[", g->nsub, g->runs, g->ok, g->failed, missing,
	    g->dup);
	for (long r = 0; r < g->runs; r++)
		printf("%s%.3f", r ? "," : "", took[r]);
	qsort(took, (size_t)g->runs, sizeof(*took), lg_cmp_double);
	qsort(first, (size_t)g->runs, sizeof(*first), lg_cmp_double);
	printf("],\"all_delivered_median_ms\":%.3f,\"all_delivered_max_ms\":%.3f,"
	    "\"first_delivered_median_ms\":%.3f,"
	    "\"relay_rss_before_kb\":%ld,\"relay_rss_after_kb\":%ld,"
	    "\"relay_kb_per_conn\":%.3f}\n", took[g->runs / 2],
	    took[g->runs - 1], first[g->runs / 2], rss0, rss1,
	    rss0 > 0 && rss1 > 0 ? (double)(rss1 - rss0) / (double)g->nsub : -1);
	free(took);
	free(first);
	return g->failed == 0 && g->ok == g->runs && missing == 0 &&
	    g->dup == 0 ? 0 : 1;
}

/* The tickets in file, one a line, into g. */
static void
lg_read_tickets(struct lg *g, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	size_t n;

	if (f == NULL) {
		perror(file);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0)
			continue;
		g->tickets = realloc(g->tickets, (size_t)(g->ntickets + 1) *
		    sizeof(*g->tickets));
		if (g->tickets == NULL ||
		    (g->tickets[g->ntickets++] = strdup(line)) == NULL) {
			perror("loadgen");
			exit(1);
		}
	}
	fclose(f);
}

static void
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen -a HOST:PORT [-w HOST:PORT] -k KEY "
	    "-u URL -p PREFIX [-T TICKETS] [-A TOKEN | -M TOKEN]\n"
	    "  ingest -c CONNS -d SECONDS -n MAX | batch -n RUNS -b SIZE |\n"
	    "  e2e -s SUBS -r RATE -d SECONDS | fanout -s SUBS -n ROUNDS "
	    "[-P PID]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct lg g = { .conns = 8, .max = 1000, .runs = 10, .batch = 1000,
	    .subs = 1, .rate = 1000, .seconds = 5 };
	const char *ws = NULL;
	struct rlimit rl;
	int opt, ret = 2;

	while ((opt = getopt(argc, argv, "a:w:k:u:p:c:d:n:b:s:r:P:T:A:M:N:S:")) !=
	    -1) {
		switch (opt) {
		case 'a':
			if (lg_parse_addr(optarg, &g.http_addr, g.host,
			    sizeof(g.host)) != 0)
				lg_usage();
			break;
		case 'w': ws = optarg; break;
		case 'k': g.key = optarg; break;
		case 'u': g.url = optarg; break;
		case 'p': g.prefix = optarg; break;
		case 'c': g.conns = atol(optarg); break;
		case 'd': g.seconds = atof(optarg); break;
		case 'n': g.max = g.runs = atol(optarg); break;
		case 'b': g.batch = atol(optarg); break;
		case 's': g.subs = atol(optarg); break;
		case 'r': g.rate = atol(optarg); break;
		case 'P': g.pids = optarg; break;
		case 'N': g.pub_path = optarg; break;
		case 'S': g.sub_path = optarg; break;
		case 'T': lg_read_tickets(&g, optarg); break;
		case 'A': g.token = optarg; break;
		case 'M': g.token = optarg; g.mail = 1; break;
		default: lg_usage();
		}
	}
	if (optind != argc - 1 || (g.pub_path == NULL && (g.key == NULL ||
	    g.url == NULL)) ||
	    g.prefix == NULL || g.host[0] == '\0' || g.conns < 1 ||
	    g.max < 1 || g.batch < 1 || g.subs < 1 || g.rate < 1 ||
	    g.seconds <= 0)
		lg_usage();
	g.ws_addr = g.http_addr;
	if (ws != NULL && lg_parse_addr(ws, &g.ws_addr, NULL, 0) != 0)
		lg_usage();
	g.mode = argv[optind];
	/* Thousands of subscribers: as many descriptors as allowed. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	g.lat.bucket = calloc(LG_BUCKETS, sizeof(uint32_t));
	g.rx.bucket = calloc(LG_BUCKETS, sizeof(uint32_t));
	if ((g.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || g.lat.bucket == NULL ||
	    g.rx.bucket == NULL) {
		perror("loadgen");
		return 1;
	}
	/* Sized for the largest run of each mode. */
	{
		long n = strcmp(g.mode, "ingest") == 0 ? g.max :
		    strcmp(g.mode, "batch") == 0 ? g.runs * g.batch :
		    strcmp(g.mode, "e2e") == 0 ? g.rate * (long)g.seconds : g.runs;

		g.sent = calloc((size_t)n + 1, sizeof(double));
		g.rx_count = calloc((size_t)n + 1, sizeof(long));
		if (g.sent == NULL || g.rx_count == NULL)
			return 1;
	}
	if (strcmp(g.mode, "ingest") == 0)
		ret = lg_run_ingest(&g);
	else if (strcmp(g.mode, "batch") == 0)
		ret = lg_run_batch(&g);
	else if (strcmp(g.mode, "e2e") == 0)
		ret = lg_run_e2e(&g);
	else if (strcmp(g.mode, "fanout") == 0)
		ret = lg_run_fanout(&g);
	else
		lg_usage();
	fflush(stdout);
	for (long i = 0; i < g.nhttp; i++) {
		lg_close(&g, &g.http[i]);
		free(g.http[i].out);
		free(g.http[i].in);
	}
	for (long i = 0; i < g.nsub; i++) {
		lg_close(&g, &g.sub[i]);
		free(g.sub[i].out);
		free(g.sub[i].in);
		free(g.sub[i].seen);
	}
	free(g.http);
	free(g.sub);
	free(g.sent);
	free(g.rx_count);
	free(g.lat.bucket);
	free(g.rx.bucket);
	close(g.ep);
	return ret;
}

/*
 * Writing to subscribers: a client's waiting events framed together into
 * one write, the protocol callback that keeps each shard's list of
 * clients, and closing those that stopped reading.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "relay.h"
#include "core/core.h"
#include "core/counters.h"

/*
 * A client that stops reading never becomes writable again, so the write
 * path alone would never notice it fell out of the ring: look for such
 * clients every so often and close them.
 */
void
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

/*
 * Writes the events the client wants that wait for it, as many as fit in
 * one write: under load (a thousand events a second to a thousand
 * clients) one send carries several frames instead of one each, which is
 * what keeps the relay and the proxy in front of it ahead. The frames are
 * built here, so the write is raw. -1 closes the client.
 */
int
mh_client_write(struct mh_shard *shard, struct lws *wsi, struct mh_client *c)
{
	struct mh_ring *ring = &shard->relay->ring;
	unsigned char *out = shard->out + LWS_PRE;
	struct mh_counter_file *counted = mh_counters_file(shard->relay->counters);
	uint64_t head, frames = 0;
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
		mh_frame(out, &used, m->buf + LWS_PRE, m->len);
		c->next++;
		frames++;
	}
	pthread_rwlock_unlock(&ring->lock);
	if (used > 0 && lws_write(wsi, out, used, LWS_WRITE_RAW) < (int)used)
		return -1;
	if (frames > 0 && counted != NULL)
		atomic_fetch_add(&counted->ws_frames, frames);
	if (c->next < head)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Answers the handshake with status and a JSON error, as every error the
 * service gives; returns 1 (the answer is sent) or -1 (hang up). */
static int
mh_refuse_handshake(struct lws *wsi, unsigned status, const char *code,
    const char *detail)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof(buf);
	char body[LWS_PRE + 256];
	int n;

	n = snprintf(body + LWS_PRE, sizeof(body) - LWS_PRE,
	    "{\"error\":\"%s\",\"detail\":\"%s\"}\n", code, detail);
	if (n < 0 || (size_t)n >= sizeof(body) - LWS_PRE ||
	    lws_add_http_common_headers(wsi, status,
	    "application/json", (lws_filepos_t)n, &p, end) != 0 ||
	    lws_finalize_write_http_header(wsi, start, &p, end) != 0 ||
	    lws_write(wsi, (unsigned char *)body + LWS_PRE, (size_t)n,
	    LWS_WRITE_HTTP_FINAL) != n)
		return -1;
	return 1;
}

static int mh_check_upgrade(struct mh_relay *relay, struct lws *wsi);

/* A subscriber to a user's channel joins its thread's map of users; one
 * to the events is left alone. -1 out of memory. */
static int
mh_client_user(struct mh_shard *shard, struct lws *wsi, struct mh_client *c)
{
	char user[MH_NT_USER_MAX + 1];

	c->user = NULL;
	if (mh_client_channel(wsi, user, sizeof(user)) != 1)
		return 0;
	if ((c->user = strdup(user)) == NULL)
		return -1;
	mh_users_add(shard, c);
	return 0;
}

/* One subscriber more (delta 1) or fewer (-1), in the relay's count and in
 * the one /metrics shows. */
static void
mh_count_subscriber(struct mh_relay *relay, int delta)
{
	struct mh_counter_file *counted = mh_counters_file(relay->counters);

	atomic_fetch_add(&relay->clients, delta);
	if (counted != NULL)
		atomic_fetch_add(&counted->ws_connections, (uint64_t)(int64_t)delta);
}

/* Whether a subscriber may connect (mh_check_upgrade), each refusal
 * counted for /metrics. */
static int
mh_confirm_upgrade(struct mh_relay *relay, struct lws *wsi)
{
	struct mh_counter_file *counted = mh_counters_file(relay->counters);
	int ret = mh_check_upgrade(relay, wsi);

	if (ret != 0 && counted != NULL)
		atomic_fetch_add(&counted->ws_refused, 1);
	return ret;
}

/* Refused at the handshake are an unknown type name, a subscriber past
 * the relay's limit (which keeps the web server's connections for the
 * webhooks), one past its address's, and one without a good ticket or
 * from another site's page. 0 to go on, else as mh_refuse_handshake. */
static int
mh_check_upgrade(struct mh_relay *relay, struct lws *wsi)
{
	char addr[MH_ADDR_LEN], user[MH_NT_USER_MAX + 1], channel[160];
	const char *detail;
	int status, kind = mh_client_channel(wsi, user, sizeof(user));

	if (kind < 0)
		return mh_refuse_handshake(wsi, HTTP_STATUS_NOT_FOUND,
		    "not_found", "the feeds are /ws and "
		    "/ws/notifications/{user_id}");
	snprintf(channel, sizeof(channel), kind ? "user:%s" : "events", user);
	if (mh_client_types(wsi) == 0)
		return mh_refuse_handshake(wsi, HTTP_STATUS_BAD_REQUEST,
		    "bad_parameter", "types must be names of event "
		    "types (or mail), comma separated, given once (or all)");
	if (mh_client_address(wsi, addr, sizeof(addr)) != 0)
		return mh_refuse_handshake(wsi, HTTP_STATUS_BAD_REQUEST,
		    "bad_request", "the proxy's X-Forwarded-For does not end "
		    "with an address");
	if (atomic_load(&relay->clients) >= relay->max_clients)
		return mh_refuse_handshake(wsi,
		    HTTP_STATUS_SERVICE_UNAVAILABLE, "too_many_subscribers",
		    "the relay serves as many subscribers as it may "
		    "(MAILHOOKS_RELAY_MAX_CLIENTS); try again later");
	if (mh_peers_count(&relay->peers, addr) >= relay->max_per_address)
		return mh_refuse_handshake(wsi, 429, "too_many_subscribers",
		    "this address holds as many subscribers as one may "
		    "(MAILHOOKS_RELAY_MAX_PER_ADDRESS); close one first");
	/* Last: a ticket is spent only by a handshake that goes through. */
	if ((status = mh_ticket_admit(&relay->tickets, wsi, channel,
	    &detail)) != 0)
		return mh_refuse_handshake(wsi, (unsigned)status, status == 401 ?
		    "unauthorized" : status == 403 ? "forbidden" :
		    "unavailable", detail);
	return 0;
}

int
mh_cb_ws(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mh_shard *shard = lws_context_user(lws_get_context(wsi));
	struct mh_client *c = user;

	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return mh_confirm_upgrade(shard->relay, wsi);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return mh_client_types(wsi) == 0 ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		/* Counted here, checked at the handshake: two handshakes at
		 * once from one address could both have passed. */
		if (mh_client_address(wsi, c->addr, sizeof(c->addr)) != 0 ||
		    mh_peers_take(&shard->relay->peers, c->addr,
		    shard->relay->max_per_address) != 0)
			return -1;
		c->addr_counted = 1;
		mh_count_subscriber(shard->relay, 1);
		c->counted = 1;
		c->wsi = wsi;
		if (mh_client_user(shard, wsi, c) != 0)
			return -1;
		c->types = c->user != NULL ? 0 : mh_client_types(wsi);
		c->next = mh_ring_head(&shard->relay->ring);
		c->prev = NULL;
		c->next_client = shard->clients;
		if (shard->clients != NULL)
			shard->clients->prev = c;
		shard->clients = c;
		break;
	case LWS_CALLBACK_CLOSED:
		if (c->user != NULL)
			mh_users_remove(shard, c);
		if (c->counted)
			mh_count_subscriber(shard->relay, -1);
		if (c->addr_counted)
			mh_peers_give(&shard->relay->peers, c->addr);
		c->counted = c->addr_counted = 0;
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
		if (c->user != NULL)
			return mh_user_write(shard, wsi, c);
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

void
mh_shard_trim(struct mh_shard *shard, double now)
{
	int clients = atomic_load(&shard->relay->clients);

	/* malloc_trim walks every thread's arena: one thread does it. */
	if (shard != shard->relay->shard[0])
		return;
	if (clients >= shard->trim_clients) {
		shard->trim_clients = clients;
		return;
	}
	if (now - shard->trimmed < MH_TRIM_SECONDS)
		return;		/* some left: trimmed at a later tick */
	shard->trim_clients = clients;
	shard->trimmed = now;
	mh_heap_trim();
}

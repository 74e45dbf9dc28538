/*
 * Best-effort signal to the relay: one datagram per newly stored event on
 * $MAILHOOKS_HOME/relay.sock. Nothing depends on it arriving: a page that
 * missed one catches up from /api/events?after=SEQ.
 *
 * The socket is connected for each drain, so that a restarted relay is
 * found again, and so that poll() waits for room in the relay's queue
 * (Linux queues only net.unix.max_dgram_qlen datagrams per socket) instead
 * of dropping the rest of a large batch.
 *
 * An event too large for one datagram (a Mandrill inbound mail with a long
 * text: about 208 KiB is the limit) goes as a stand-in, its seq and type
 * and "too_large": the page fetches it; the events after it go as usual.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core.h"

/* How long one datagram may wait for the relay to make room. */
#define MH_NOTIFY_WAIT_MS 250

static int
mh_relay_connect(const char *home)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/relay.sock",
	    home) >= (int)sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
mh_notify_failed(struct mh_notifier *n, uint64_t seq, int err)
{
	/* One line per drain: a batch must not flood the log. */
	if (!n->warned)
		fprintf(stderr, "mailhooks: relay not told of event %llu and "
		    "any after it in this drain: %s\n",
		    (unsigned long long)seq, strerror(err));
	n->warned = 1;
}

/* The stand-in of an event too large for a datagram: its seq and type
 * (the relay's subscriptions go by type). Into buf; its length. */
static size_t
mh_notify_stand_in(uint64_t seq, const char *json, char buf[128])
{
	struct json_object *ev = json_tokener_parse(json);
	const char *type = mh_json_str(ev, "type");
	int n;

	n = snprintf(buf, 128, "{\"seq\":%llu,\"type\":\"%.40s\","
	    "\"too_large\":true}", (unsigned long long)seq,
	    type != NULL && mh_event_type_index(type, strlen(type)) >= 0 ?
	    type : "");
	json_object_put(ev);
	return (size_t)n;
}

void
mh_notify_event(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_notifier *n = ctx;
	struct pollfd pfd;
	char stand_in[128];

	if (n->warned)
		return;
	if (n->fd < 0 && (n->fd = mh_relay_connect(n->home)) < 0) {
		mh_notify_failed(n, seq, errno);
		return;
	}
	while (send(n->fd, json, len, MSG_DONTWAIT) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EMSGSIZE && json != stand_in) {
			len = mh_notify_stand_in(seq, json, stand_in);
			json = stand_in;
			continue;
		}
		if (errno != EAGAIN) {
			mh_notify_failed(n, seq, errno);
			return;
		}
		pfd.fd = n->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, MH_NOTIFY_WAIT_MS) <= 0) {
			mh_notify_failed(n, seq, EAGAIN);
			return;
		}
	}
}

void
mh_notify_done(struct mh_notifier *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->warned = 0;
}

int
mh_relay_up(const char *home)
{
	int fd = mh_relay_connect(home);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

void
mh_notify_mail(const char *home, uint64_t id, const char *status)
{
	struct mh_notifier n = { .home = home, .fd = -1 };
	char text[128];
	int len = snprintf(text, sizeof(text), "{\"kind\":\"mail\",\"id\":%"
	    PRIu64 ",\"status\":\"%.32s\"}", id, status);

	mh_notify_event(&n, 0, text, (size_t)len);
	mh_notify_done(&n);
}

void
mh_notify_erased(const char *home, const char *email)
{
	struct mh_notifier n = { .home = home, .fd = -1 };
	struct json_object *o = json_object_new_object();
	const char *text;

	mh_json_set_str(o, "kind", "erased");
	mh_json_set_str(o, "email", email);
	text = mh_json_text(o);
	mh_notify_event(&n, 0, text, strlen(text));
	mh_notify_done(&n);
	json_object_put(o);
}

void
mh_notify_campaign(const char *home, uint64_t campaign, uint64_t message,
    const char *status)
{
	struct mh_notifier n = { .home = home, .fd = -1 };
	char text[160];
	int len = snprintf(text, sizeof(text), "{\"kind\":\"campaign\","
	    "\"campaign_id\":%" PRIu64 ",\"id\":%" PRIu64 ",\"status\":"
	    "\"%.32s\"}", campaign, message, status);

	mh_notify_event(&n, 0, text, (size_t)len);
	mh_notify_done(&n);
}

/*
 * The threads: one libwebsockets context and libev loop each (a shard).
 * The first accepts every connection and deals them out, and reads the
 * datagrams into the ring; each writes to its own clients in passes,
 * holding new events a while when its last pass was long.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"

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

/* New messages: the users' to their subscribers, the events' (if any). */
static void
mh_shard_woken(struct mh_shard *shard)
{
	uint64_t head = mh_ring_head(&shard->relay->ring);

	mh_users_new(shard);
	if (head == shard->events_seen)
		return;
	shard->events_seen = head;
	mh_shard_new_events(shard);
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
		mh_ring_push(relay, relay->dgram, (size_t)n);
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
	mh_shard_woken(shard);
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
int
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
		mh_shard_woken(shard);
	return 0;
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

/* On libev, libwebsockets (Debian's 4.1.6) runs its timers (pings,
 * hang-ups, delayed closes) only after the loop has served some event: an
 * idle client was never pinged (tests/integration/relay.t). A wake-up
 * through its own pipe, ten times a second, gives it that event. */
static void
mh_on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mh_shard *shard = w->data;

	(void)revents;
	lws_cancel_service(shard->ctx);
	mh_shard_trim(shard, ev_now(loop));
}

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

void *
mh_shard_run(void *arg)
{
	struct mh_shard *shard = arg;

	if (!shard->relay->stopping)
		ev_run(shard->loop, 0);
	return NULL;
}

void
mh_relay_stop(struct mh_relay *relay)
{
	relay->stopping = 1;
	for (int i = 0; i < relay->nshards; i++)
		if (relay->shard[i]->loop != NULL)
			ev_async_send(relay->shard[i]->loop,
			    &relay->shard[i]->stop);
}

/* Their descriptors: the listener and the datagram socket for the first,
 * a wake-up and a hand-off pipe for each other. */
int
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

void
mh_relay_close(struct mh_relay *relay, int running)
{
	mh_relay_stop(relay);
	for (int i = 1; i < running; i++)
		pthread_join(relay->shard[i]->thread, NULL);
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

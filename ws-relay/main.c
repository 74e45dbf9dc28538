/*
 * mailhooks-relay's start (see relay.h for what it does): the settings,
 * the listener and the datagram socket, the threads, and the signals that
 * stop them.
 *
 * Environment: MAILHOOKS_HOME (default ./var), MAILHOOKS_RELAY_PORT
 * (default 8081, loopback only), MAILHOOKS_RELAY_PING (seconds, default
 * 25), MAILHOOKS_RELAY_THREADS (default: one per CPU, at most 16),
 * MAILHOOKS_RELAY_MAX_CLIENTS (subscribers at once, default 4096),
 * MAILHOOKS_RELAY_MAX_PER_ADDRESS (of them from one address, default 64).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "relay.h"
#include "core/core.h"
#include "core/counters.h"

/* Subscribers at once, by default. Each costs the web server in front a
 * connection and two descriptors: lighttpd/mailhooks.conf.in keeps room
 * for them and for the webhooks. */
#define MH_MAX_CLIENTS 4096
/* Subscribers from one address, by default: a person's tabs, or an office
 * behind one NAT address, but not the relay's every place. */
#define MH_MAX_PER_ADDRESS 64

/* For the signal handler only. */
static struct mh_relay *mh_signalled;

static void
mh_on_term(int sig)
{
	(void)sig;
	if (mh_signalled != NULL)
		mh_relay_stop(mh_signalled);
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

/* A whole-number setting, or dflt; -1 (said on stderr) when it is
 * something else. */
static int
mh_env_int(const char *name, int dflt, int lo, int hi)
{
	unsigned long long v;

	if (mh_setting_number(NULL, name, (unsigned long long)dflt,
	    (unsigned long long)lo, (unsigned long long)hi, &v) != 0)
		return -1;
	return (int)v;
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

/*
 * Holds HOME/relay.lock for as long as the relay runs: a second relay on
 * the same data directory took over relay.sock, and the first was left
 * with no events for good. -1 (said) when another relay holds it.
 */
static int
mh_lock_home(const char *home)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/relay.lock", home) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		fprintf(stderr, "mailhooks-relay: cannot open %s/relay.lock: "
		    "%s\n", home, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "mailhooks-relay: another relay serves %s "
		    "(relay.lock is held); not starting\n", home);
		close(fd);
		return -1;
	}
	return fd;	/* kept open: the lock lasts until the process ends */
}

static int
mh_default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > MH_THREADS_MAX ? MH_THREADS_MAX :
	    (int)cpus;
}

/* The settings of the environment into relay and the rest; -1 (said on
 * stderr) when one is malformed. */
static int
mh_relay_settings(struct mh_relay *relay, int *port, int *ping, int *threads)
{
	*port = mh_env_int("MAILHOOKS_RELAY_PORT", 8081, 1, 65535);
	*ping = mh_env_int("MAILHOOKS_RELAY_PING", 25, 1, 3600);
	*threads = mh_env_int("MAILHOOKS_RELAY_THREADS", mh_default_threads(),
	    1, MH_THREADS_MAX);
	relay->max_clients = mh_env_int("MAILHOOKS_RELAY_MAX_CLIENTS",
	    MH_MAX_CLIENTS, 1, 1000000);
	relay->max_per_address = mh_env_int("MAILHOOKS_RELAY_MAX_PER_ADDRESS",
	    MH_MAX_PER_ADDRESS, 1, 1000000);
	return *port < 0 || *ping < 0 || *threads < 0 ||
	    relay->max_clients < 0 || relay->max_per_address < 0 ? -1 : 0;
}

/* The locks the threads share, and what the tickets need. */
static void
mh_relay_locks(struct mh_relay *relay, const char *home)
{
	pthread_rwlock_init(&relay->ring.lock, NULL);
	pthread_rwlock_init(&relay->users.lock, NULL);
	pthread_mutex_init(&relay->peers.lock, NULL);
	mh_tickets_init(&relay->tickets, home);
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

	mh_heap_setup();
	if (home == NULL || *home == '\0')
		home = "./var";
	if (mh_relay_settings(&relay, &port, &ping, &threads) != 0 ||
	    mh_lock_home(home) < 0)
		return 1;
	if (snprintf(path, sizeof(path), "%s/relay.sock", home) >=
	    (int)sizeof(path))
		return 1;

	/* What /metrics shows of the relay; its subscribers start at none
	 * (a relay killed before left its count behind). */
	if ((relay.counters = mh_counters_open(home)) != NULL)
		atomic_store(&mh_counters_file(relay.counters)->ws_connections,
		    0);
	mh_signalled = &relay;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mh_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	mh_relay_locks(&relay, home);
	relay.dgram_fd = -1;
	relay.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((relay.listen_fd = mh_listen(port)) < 0)
		goto out;

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
	mh_signalled = NULL;
	mh_relay_close(&relay, running);
	mh_peers_free(&relay.peers);
	mh_tickets_free(&relay.tickets);
	mh_counters_close(relay.counters);
	if (relay.dgram_fd >= 0)
		unlink(path);
	return ret;
}

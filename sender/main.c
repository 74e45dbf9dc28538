/*
 * mailhooks-sender --daemon | --once: sends the outbox's due mail through
 * Mandrill. As a daemon (make run, systemd) it looks for due mail every
 * second; --once (cron, on shared hosting) takes what is due for at most
 * MH_ONCE_SECONDS, lets what it sent end (each request within its
 * timeout) and exits, a second copy exiting at once (flock on
 * $MAILHOOKS_HOME/run/sender.lock). SIGTERM or SIGINT stops taking mail,
 * lets the requests in flight finish for MH_STOP_GRACE_MS, ends the rest
 * (each attempt written as it ended) and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sender.h"

#define MH_ONCE_SECONDS 50
#define MH_STOP_GRACE_MS 3000
#define MH_TURN_MS 1000

extern char **environ;

/* Set by SIGTERM or SIGINT: the one thing a signal changes. */
static volatile sig_atomic_t mh_stopping;

static void
mh_on_stop(int sig)
{
	(void)sig;
	mh_stopping = 1;
}

/* Without SA_RESTART: a sleep or a poll ends at the signal. */
static void
mh_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mh_on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* A number setting; -1 (said) when malformed. */
static int
mh_number(const char *name, unsigned long long dflt, unsigned long long min,
    unsigned long long max, unsigned long long *out)
{
	return mh_setting_number(environ, name, dflt, min, max, out);
}

/* An http(s) URL setting without its trailing slashes into buf. */
static const char *
mh_url_setting(const char *name, const char *dflt, char *buf, size_t cap)
{
	const char *url = getenv(name);
	size_t len;

	if (url == NULL || *url == '\0')
		url = dflt;
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	if ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) !=
	    0) || len >= cap) {
		fprintf(stderr, "mailhooks-sender: %s is an http(s) URL\n", name);
		return NULL;
	}
	snprintf(buf, cap, "%.*s", (int)len, url);
	return buf;
}

/* The campaigns' settings: their API, its token, the pace. */
static int
mh_campaign_settings(struct mh_send_config *cfg)
{
	static char url_buf[1024];
	unsigned long long rate, fails, pause, hour;
	const char *token = getenv("CAMPAIGN_API_TOKEN");
	const char *to = getenv("MAILHOOKS_DAILY_REPORT_TO");
	const char *from = getenv("MAILHOOKS_MAIL_FROM");
	const char *site = getenv("MAILHOOKS_PUBLIC_URL"), *trap;
	size_t len;

	if ((cfg->campaign_url = mh_url_setting("CAMPAIGN_API_URL",
	    MH_CAMPAIGN_API_URL, url_buf, sizeof(url_buf))) == NULL ||
	    mh_number("CAMPAIGN_RATE", 50, 0, 100000, &rate) != 0 ||
	    mh_number("CAMPAIGN_BREAKER_FAILURES", 5, 1, 1000, &fails) != 0 ||
	    mh_number("CAMPAIGN_BREAKER_PAUSE_MS", 5000, 10, 3600000, &pause) !=
	    0 || mh_number("MAILHOOKS_DAILY_REPORT_HOUR", 6, 0, 23, &hour) != 0)
		return -1;
	if (token != NULL && *token != '\0') {
		if (strpbrk(token, "\r\n") != NULL) {
			fprintf(stderr, "mailhooks-sender: CAMPAIGN_API_TOKEN is "
			    "one line\n");
			return -1;
		}
		len = strlen(token) + 32;
		if ((cfg->campaign_auth = mh_malloc(len)) == NULL)
			return -1;
		snprintf(cfg->campaign_auth, len, "Authorization: Bearer %s",
		    token);
	}
	cfg->campaign_rate = (unsigned)rate;
	cfg->breaker_failures = (unsigned)fails;
	cfg->breaker_pause_ms = (int64_t)pause;
	cfg->report_to = to != NULL && *to != '\0' ? to : NULL;
	cfg->mail_from = from != NULL && *from != '\0' ? from : NULL;
	cfg->report_hour = (unsigned)hour;
	if (site != NULL && *site != '\0' && !mh_public_url_valid(site)) {
		fprintf(stderr, "mailhooks-sender: MAILHOOKS_PUBLIC_URL=%s is not "
		    "a site's URL (http:// or https://, a host, perhaps a port "
		    "and a path)\n", site);
		return -1;
	}
	cfg->public_url = site != NULL && *site != '\0' ? site : NULL;
	cfg->trap_url[0] = '\0';
	if ((trap = getenv("MAILHOOKS_TRAP_LINK")) != NULL &&
	    strcmp(trap, "1") == 0 &&
	    mh_trap_url(cfg->public_url, cfg->trap_url,
	    sizeof(cfg->trap_url)) != 0) {
		fprintf(stderr, "mailhooks-sender: MAILHOOKS_TRAP_LINK=1 needs "
		    "MAILHOOKS_PUBLIC_URL, the site the link points at\n");
		return -1;
	}
	return 0;
}

static int
mh_settings(struct mh_send_config *cfg)
{
	unsigned long long conc, att, tmo, ctmo, retry, retry_max;
	const char *key = getenv("MANDRILL_API_KEY");
	static char url_buf[1024];

	memset(cfg, 0, sizeof(*cfg));
	/* As every component: $MAILHOOKS_HOME, else ./var. */
	if ((cfg->home = getenv("MAILHOOKS_HOME")) == NULL || *cfg->home == 0)
		cfg->home = "var";
	cfg->api_key = key != NULL && *key != '\0' ? key : NULL;
	if ((cfg->api_url = mh_url_setting("MANDRILL_API_URL",
	    MH_MANDRILL_API_URL, url_buf, sizeof(url_buf))) == NULL)
		return -1;
	if (mh_number("MAILHOOKS_SEND_CONCURRENCY", 4, 1, MH_SEND_BATCH, &conc) != 0 ||
	    mh_number("MAILHOOKS_SEND_MAX_ATTEMPTS", 8, 1, 100, &att) != 0 ||
	    mh_number("MAILHOOKS_SEND_TIMEOUT", 30, 1, 50, &tmo) != 0 ||
	    mh_number("MAILHOOKS_SEND_CONNECT_TIMEOUT", 10, 1, 30, &ctmo) != 0 ||
	    mh_number("MAILHOOKS_SEND_RETRY_MS", 30000, 10, 3600000, &retry) !=
	    0 || mh_number("MAILHOOKS_SEND_RETRY_MAX_MS", 1800000, 10,
	    86400000, &retry_max) != 0)
		return -1;
	cfg->concurrency = (unsigned)conc;
	cfg->max_attempts = (unsigned)att;
	cfg->timeout_ms = (long)tmo * 1000;
	cfg->connect_ms = (long)(ctmo < tmo ? ctmo : tmo) * 1000;
	cfg->retry_ms = (int64_t)retry;
	cfg->retry_max_ms = (int64_t)(retry_max < retry ? retry : retry_max);
	return mh_campaign_settings(cfg);
}

/* --once: one copy at a time. 0 with the lock held (by fd, kept open),
 * 1 when another copy holds it, -1 when it cannot be taken. */
static int
mh_once_lock(const char *home)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/run", home);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/run/sender.lock", home);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "mailhooks-sender: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK ? 1 : -1;
	return 0;
}

/* Lets what is in flight end, for a while, then ends the rest. */
static void
mh_wind_down(struct mh_sender *s)
{
	int64_t until = mh_now_ms() + MH_STOP_GRACE_MS;

	while (mh_sender_running(s) > 0 && mh_now_ms() < until)
		if (mh_sender_turn(s, 100, 0) < 0)
			break;
	mh_sender_stop(s);
}

static int
mh_usage(void)
{
	fprintf(stderr, "usage: mailhooks-sender --daemon | --once\n"
	    "  sends the outbox's mail through Mandrill (MANDRILL_API_KEY,\n"
	    "  MANDRILL_API_URL); --once works off what is due, for cron\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct mh_send_config cfg;
	struct mh_sender *s;
	int once, lock = 0, taken, rc = 0;
	int64_t until;

	if (argc != 2 || (strcmp(argv[1], "--daemon") != 0 &&
	    strcmp(argv[1], "--once") != 0))
		return mh_usage();
	once = strcmp(argv[1], "--once") == 0;
	mh_heap_setup();
	if (mh_settings(&cfg) != 0)
		return 2;
	if (once && (lock = mh_once_lock(cfg.home)) != 0) {
		if (lock > 0)
			fprintf(stderr, "mailhooks-sender: another --once runs "
			    "on %s: nothing to do\n", cfg.home);
		return lock > 0 ? 0 : 1;
	}
	mh_signals();
	if ((s = mh_sender_new(&cfg)) == NULL)
		return 1;
	if (cfg.api_key == NULL)
		fprintf(stderr, "mailhooks-sender: MANDRILL_API_KEY is not set: "
		    "mail stays queued\n");
	if (cfg.campaign_auth == NULL)
		fprintf(stderr, "mailhooks-sender: CAMPAIGN_API_TOKEN is not set: "
		    "campaigns' messages stay pending\n");
	until = mh_now_ms() + MH_ONCE_SECONDS * 1000;
	while (!mh_stopping) {
		/* Once: nothing more is taken after its time, and what is in
		 * flight ends by its own timeout. */
		int take = !once || mh_now_ms() < until;

		if (!take && mh_sender_running(s) == 0)
			break;
		if ((taken = mh_sender_turn(s, MH_TURN_MS, take)) < 0) {
			rc = 1;
			break;
		}
		if (taken > 0 || mh_sender_running(s) > 0)
			continue;
		/* Nothing was due nor is in flight: once, that is the end. */
		if (once)
			break;
		mh_sender_idle(s, MH_TURN_MS);
	}
	mh_wind_down(s);
	mh_sender_free(s);
	free(cfg.campaign_auth);
	return rc;
}

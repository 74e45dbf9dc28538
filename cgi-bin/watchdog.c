/*
 * The FastCGI process's watchdog: ends the process when its accept loop
 * has been in one request for longer than any request takes without
 * writing (each write of the answer counts as progress). A thread
 * blocked on a Berkeley DB mutex that a killed process held (the log's
 * flush mutex, after a kill storm) never returns, and failchk cannot wake
 * it: the process took the requests the web server sent it and answered
 * none. Such a wait ends only when another process recovers the
 * environment (it makes it anew and voids every handle of the old), so a
 * request that outlasts MH_WATCHDOG_VOID_MS in an environment that is no
 * longer there ends the process at once, not after the limit. The
 * watchdog's thread touches nothing but a clock, atomics and stat(2), so
 * it cannot block with it. Ended, the process loses the request in
 * flight only (nothing was acknowledged by it), and the web server starts
 * a fresh one.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailhooks.h"
#include "watchdog.h"

static int64_t
mh_watchdog_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* How long a request may last in an environment made anew under it (a
 * reopen that runs recovery itself takes a fraction of this). */
#define MH_WATCHDOG_VOID_MS 3000
#define MH_WATCHDOG_TICK_US 250000

static void
mh_watchdog_end(const char *why)
{
	char line[200];
	int n;

	n = snprintf(line, sizeof(line), "mailhooks: %s; this process ends for "
	    "a fresh one\n", why);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		n = 0;
	_exit(75);
}

static void *
mh_watchdog_run(void *arg)
{
	struct mh_watchdog *wd = arg;
	int64_t void_since = 0, now;

	for (;; usleep(MH_WATCHDOG_TICK_US)) {
		int64_t since = atomic_load(&wd->busy_since);
		uint64_t joined = atomic_load(&wd->joined);

		now = mh_watchdog_now();
		if (since != 0 && now - since > wd->limit_ms)
			mh_watchdog_end("a request has not returned in the "
			    "time any takes (storage blocked for good?)");
		if (since == 0 || joined == 0 ||
		    mh_store_region(wd->home) == joined) {
			void_since = 0;
			continue;
		}
		if (void_since == 0)
			void_since = now;
		else if (now - void_since > MH_WATCHDOG_VOID_MS)
			mh_watchdog_end("the storage was recovered under a "
			    "request that has not returned since (blocked on a "
			    "lock of the environment before it)");
	}
	return NULL;
}

int
mh_watchdog_start(struct mh_watchdog *wd, int64_t limit_ms)
{
	sigset_t all, old;
	pthread_t t;
	int ret;

	atomic_store(&wd->busy_since, 0);
	atomic_store(&wd->joined, 0);
	wd->home[0] = '\0';
	wd->limit_ms = limit_ms;
	/* Signals are for the accept loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&t, NULL, mh_watchdog_run, wd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

void
mh_watchdog_enter(struct mh_watchdog *wd)
{
	atomic_store(&wd->busy_since, mh_watchdog_now());
}

void
mh_watchdog_leave(struct mh_watchdog *wd)
{
	atomic_store(&wd->busy_since, 0);
}

void
mh_watchdog_joined(struct mh_watchdog *wd, const char *home, uint64_t joined)
{
	if (wd->home[0] == '\0') {
		if (home == NULL || strlen(home) >= sizeof(wd->home))
			return;
		strcpy(wd->home, home);
	}
	atomic_store(&wd->joined, joined);
}

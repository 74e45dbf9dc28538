/*
 * The FastCGI process's watchdog: ends the process when its accept loop
 * has been in one request for longer than any request takes without
 * writing (each write of the answer counts as progress). A thread
 * blocked on a Berkeley DB mutex that a killed process held (the log's
 * flush mutex, after a kill storm) never returns, and failchk cannot wake
 * it: the process took the requests the web server sent it and answered
 * none. The watchdog's thread touches nothing but a clock and an atomic,
 * so it cannot block with it. Ended, the process loses the request in
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

static void *
mh_watchdog_run(void *arg)
{
	struct mh_watchdog *wd = arg;
	char line[160];
	int n;

	for (;;) {
		int64_t since = atomic_load(&wd->busy_since);

		if (since != 0 && mh_watchdog_now() - since > wd->limit_ms) {
			n = snprintf(line, sizeof(line), "mailhooks: a request "
			    "has not returned in %lld s (storage blocked for "
			    "good?); this process ends for a fresh one\n",
			    (long long)(wd->limit_ms / 1000));
			if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
				n = 0;
			_exit(75);
		}
		sleep(1);
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

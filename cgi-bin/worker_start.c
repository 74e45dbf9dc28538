/*
 * The FastCGI process's threads begun and ended (worker.c is what they
 * do): a drain thread, a checkpoint thread, and at the stop a bounded wait
 * for them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailhooks.h"
#include "worker.h"

/* At the stop, what is left waits in the inbox, durable: the threads are
 * not waited for longer than this (see MH_WORKER_STUCK_SECONDS). */
#define MH_WORKER_STOP_SECONDS 5

/* A deadline secs from now, on the clock the condition variables use. */
struct timespec
mh_worker_deadline(clockid_t clock, int secs)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_sec += secs;
	return t;
}

/* Stops the threads that run: the drain thread after draining what was
 * acknowledged before, the checkpoint thread after the checkpoint in hand;
 * -1 (said) when one has not ended in MH_WORKER_STOP_SECONDS. */
static int
mh_worker_join(struct mh_worker *w, int drain_started)
{
	struct timespec until = mh_worker_deadline(CLOCK_REALTIME,
	    MH_WORKER_STOP_SECONDS);

	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_cond_signal(&w->checkpoint_wake);
	pthread_mutex_unlock(&w->lock);
	if ((drain_started && pthread_timedjoin_np(w->thread, NULL,
	    &until) != 0) || (w->checkpointer_started &&
	    pthread_timedjoin_np(w->checkpointer, NULL, &until) != 0)) {
		fprintf(stderr, "mailhooks: a drain or checkpoint of this "
		    "process has not returned from the storage in %d s (a "
		    "killed process held one of its mutexes?); ending without "
		    "it\n", MH_WORKER_STOP_SECONDS);
		return -1;
	}
	return 0;
}

static void
mh_worker_free(struct mh_worker *w)
{
	mh_drainer_free(&w->dr);
	pthread_cond_destroy(&w->checkpoint_wake);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct mh_worker *
mh_worker_start(void)
{
	struct mh_worker *w = mh_calloc(1, sizeof(*w));
	pthread_condattr_t monotonic;
	sigset_t all, old;
	int started;

	if (w == NULL)
		return NULL;
	w->dr.relay.fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	/* The threads' deadlines are intervals: a clock set back must not
	 * postpone them. */
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &monotonic);
	pthread_cond_init(&w->checkpoint_wake, &monotonic);
	pthread_condattr_destroy(&monotonic);
	pthread_cond_init(&w->idle, NULL);
	/* Signals are for the accept loop: SIGTERM must interrupt accept(). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* Without its own thread, the drain checkpoints. */
	w->checkpointer_started = pthread_create(&w->checkpointer, NULL,
	    mh_worker_checkpoints, w) == 0;
	w->dr.checkpoint_apart = w->checkpointer_started;
	started = pthread_create(&w->thread, NULL, mh_worker_run, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		fprintf(stderr, "mailhooks: no drain thread; draining after "
		    "each answer instead\n");
		(void)mh_worker_join(w, 0);
		mh_worker_free(w);
		return NULL;
	}
	return w;
}

void
mh_worker_stop(struct mh_worker *w, struct mh_app *app)
{
	if (w == NULL)
		return;
	if (mh_worker_join(w, 1) != 0) {
		/* A thread is still in the library: neither the handle nor
		 * the worker can be closed under it. The process ends. */
		app->store = NULL;
		return;
	}
	app->store = w->store;
	mh_worker_free(w);
}

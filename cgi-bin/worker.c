/*
 * The drain thread of a FastCGI process. The accept loop hands each drain
 * to it and goes back to accepting at once: a web server that keeps
 * sending to the same process (lighttpd picks the first of its least busy
 * backends) would otherwise make the next webhook wait while the last
 * one's thousand events are stored.
 *
 * The storage handle has one owner at a time: the accept loop during a
 * request (between mh_worker_enter and mh_worker_leave, in app->store),
 * the worker otherwise (w->store). Berkeley DB lets threads share it
 * (DB_THREAD), so drains and checkpoints use it meanwhile; whoever reopens
 * it first keeps the others off it. A handle a drain found broken while
 * the accept loop waits for a request is reopened by the thread itself: a
 * process the web server sends nothing would otherwise sit on the entries
 * it acknowledged last (the claims of a live process are honoured for a
 * minute) until its next request.
 *
 * A second thread takes the checkpoints the drains ask for: under load a
 * checkpoint waits a second for pages others hold, and the events this
 * process acknowledged meanwhile would wait with it (the end-to-end
 * bench's p99 was that second).
 *
 * The handle's state, and what moves it (all under w->lock):
 *
 *   SOUND    -- a drain or checkpoint finds it needs recovery --> BROKEN
 *   BROKEN   -- the thread reopens it (no request in flight) --> MENDED
 *   MENDED   -- a drain works --> SOUND
 *   MENDED   -- it breaks again before any drain worked --> BROKEN_AGAIN
 *               (left to the next request: each reopen runs recovery,
 *               which breaks every other process's handle too)
 *   BROKEN_AGAIN -- a drain works after all --> BROKEN
 *   any      -- the accept loop reopens it (mh_worker_mend) --> HELD
 *   HELD     -- reopened --> SOUND
 *
 * The drain thread is IDLE, DRAINING or MENDING; a drain may be asked for
 * (pending) in any of these, and runs when the thread is next idle and the
 * handle not HELD. The checkpoint thread runs when one is due.
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

/* How long a drain that failed (a lock held too long, a full disk) waits
 * before it tries again, requests or not. */
#define MH_WORKER_RETRY_SECONDS 1
/*
 * How often a drain walks the whole inbox, for what another process left
 * behind when it died (and this one's receipts that did not fit in own).
 * The walk reads the inbox from its start and locks each entry it passes,
 * other processes' waiting entries too: done after every request, it took
 * a fifth of a busy process's time and held up the other processes'
 * acknowledgements on those locks. A drain that skips it owes one, taken
 * this long after the last, requests or not.
 */
#define MH_WORKER_WALK_SECONDS 1
/* And how often a process with storage open and nothing asked of it walks:
 * what a process killed after its answer left (or what a claim whose
 * minute ran out held) would otherwise wait for some process's next
 * request, which may be hours away. An idle walk is one short read. */
#define MH_WORKER_IDLE_WALK_SECONDS 5
void
mh_worker_broke(struct mh_worker *w)
{
	if (w->handle == MH_HANDLE_MENDED)
		w->handle = MH_HANDLE_BROKEN_AGAIN;
	else if (w->handle == MH_HANDLE_SOUND)
		w->handle = MH_HANDLE_BROKEN;
}

/* Whether the drain about to start walks the inbox; if it does, the time
 * of this walk is noted. */
static int
mh_worker_walks(struct mh_worker *w, size_t ndraining)
{
	struct timespec now;
	double since;

	clock_gettime(CLOCK_MONOTONIC, &now);
	since = (double)(now.tv_sec - w->walked.tv_sec) +
	    (double)(now.tv_nsec - w->walked.tv_nsec) / 1e9;
	/* A drain of nothing of its own has nothing else to do. */
	if (ndraining > 0 && !w->own_lost && since < MH_WORKER_WALK_SECONDS)
		return 0;
	w->walked = now;
	w->own_lost = 0;
	return 1;
}

/* Whether the thread is to reopen the handle now: a drain found it
 * broken and the accept loop is not using it. */
static int
mh_worker_mend_due(const struct mh_worker *w)
{
	return w->handle == MH_HANDLE_BROKEN && !w->serving &&
	    w->store != NULL;
}

/*
 * BROKEN -> MENDED: reopens the handle, which the accept loop takes with
 * its next request. Reopening lets go of this process's claims, and a
 * drain that walks follows, for the entries the broken drains left. Lets
 * go of w->lock meanwhile.
 */
static void
mh_worker_mend_here(struct mh_worker *w)
{
	struct mh_store *store = w->store;
	enum mh_store_err err;

	w->state = MH_THREAD_MENDING;
	w->store = NULL;	/* the checkpoint thread keeps off it */
	while (w->checkpointing)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);

	if ((err = mh_store_reopen(&store)) != MH_STORE_OK)
		fprintf(stderr, "mailhooks: storage reopen failed (%d); the "
		    "next request opens it\n", (int)err);

	pthread_mutex_lock(&w->lock);
	w->store = store;
	w->state = MH_THREAD_IDLE;
	w->handle = MH_HANDLE_MENDED;
	w->own_lost = 1;
	w->pending = w->store != NULL;
	pthread_cond_broadcast(&w->idle);
	pthread_cond_signal(&w->checkpoint_wake);
}

/* Runs the drain asked for: DRAINING, then back to IDLE with what it
 * found. Lets go of w->lock meanwhile. */
static enum mh_store_err
mh_worker_drain(struct mh_worker *w, int *walk)
{
	enum mh_store_err err;
	size_t ndraining = w->nown;

	w->pending = 0;
	w->state = MH_THREAD_DRAINING;
	w->dr.store = w->store;
	memcpy(w->draining, w->own, ndraining * sizeof(w->own[0]));
	w->nown = 0;
	*walk = mh_worker_walks(w, ndraining);
	pthread_mutex_unlock(&w->lock);

	err = mh_drain(&w->dr, w->draining, ndraining, *walk);
	if (*walk)
		mh_heap_trim();	/* at most once a second */

	pthread_mutex_lock(&w->lock);
	w->state = MH_THREAD_IDLE;
	if (err == MH_STORE_OK) {
		if (w->handle == MH_HANDLE_MENDED)
			w->handle = MH_HANDLE_SOUND;
		else if (w->handle == MH_HANDLE_BROKEN_AGAIN)
			w->handle = MH_HANDLE_BROKEN;
		w->checkpoint_due = 1;
		pthread_cond_signal(&w->checkpoint_wake);
	} else if (ndraining > 0)
		w->own_lost = 1;	/* the next drain walks for them */
	if (err == MH_STORE_RECOVER)
		mh_worker_broke(w);
	pthread_cond_broadcast(&w->idle);
	return err;
}

/* When the thread wakes by itself: a failed drain is tried again, a walk
 * that a drain skipped is taken, and an idle process walks now and then,
 * requests or not. 0 when it waits for a request. */
static int
mh_worker_due(const struct mh_worker *w, enum mh_store_err err, int walk,
    struct timespec *due)
{
	if (err == MH_STORE_FAILED || err == MH_STORE_NOMEM) {
		clock_gettime(CLOCK_MONOTONIC, due);
		due->tv_sec += MH_WORKER_RETRY_SECONDS;
	} else if (!walk) {
		*due = w->walked;
		due->tv_sec += MH_WORKER_WALK_SECONDS;
	} else if (w->store != NULL) {
		*due = w->walked;
		due->tv_sec += MH_WORKER_IDLE_WALK_SECONDS;
	} else
		return 0;
	return 1;
}

void *
mh_worker_run(void *arg)
{
	struct mh_worker *w = arg;
	enum mh_store_err err = MH_STORE_OK;
	struct timespec due;
	int timed, walk = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		timed = mh_worker_due(w, err, walk, &due);
		while ((!w->pending || w->handle == MH_HANDLE_HELD) &&
		    !w->stopping && !mh_worker_mend_due(w)) {
			if (!timed)
				pthread_cond_wait(&w->wake, &w->lock);
			else if (pthread_cond_timedwait(&w->wake, &w->lock,
			    &due) == ETIMEDOUT) {
				w->pending = 1;
				timed = 0;
			}
		}
		if (mh_worker_mend_due(w) && !w->stopping) {
			mh_worker_mend_here(w);
			err = MH_STORE_OK;
			continue;
		}
		/* What was acknowledged before the stop is drained first. */
		if (!w->pending || w->handle == MH_HANDLE_HELD)
			break;
		err = mh_worker_drain(w, &walk);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
mh_worker_kick(struct mh_worker *w, const struct mh_app *app,
    uint64_t receipt)
{
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	if (app->store == NULL || mh_config_copy_drain(&w->dr.cfg,
	    app->cfg) != 0)
		ret = -1;
	else {
		w->store = app->store;
		if (receipt != 0 && w->nown < MH_WORKER_OWN_MAX)
			w->own[w->nown++] = receipt;
		else if (receipt != 0)
			w->own_lost = 1;
		w->pending = 1;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void
mh_worker_enter(struct mh_worker *w, struct mh_app *app)
{
	pthread_mutex_lock(&w->lock);
	while (w->state == MH_THREAD_MENDING)
		pthread_cond_wait(&w->idle, &w->lock);
	w->serving = 1;
	app->store = w->store;
	pthread_mutex_unlock(&w->lock);
}

void
mh_worker_leave(struct mh_worker *w, struct mh_app *app)
{
	pthread_mutex_lock(&w->lock);
	w->serving = 0;
	w->store = app->store;	/* never HELD here: the mend is this thread's */
	if (mh_worker_mend_due(w))
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void
mh_worker_mend(struct mh_worker *w, struct mh_app *app, int broken)
{
	struct timespec until;

	pthread_mutex_lock(&w->lock);
	broken |= w->handle == MH_HANDLE_BROKEN ||
	    w->handle == MH_HANDLE_BROKEN_AGAIN;
	if (app->store == NULL || !broken) {
		pthread_mutex_unlock(&w->lock);
		return;
	}
	/* Any -> HELD: once the drain or checkpoint in progress ends, unless
	 * it is stuck in the library: then this process ends after the
	 * request, for a fresh one. */
	w->handle = MH_HANDLE_HELD;
	until = mh_worker_deadline(CLOCK_REALTIME, MH_WORKER_STUCK_SECONDS);
	while (w->state == MH_THREAD_DRAINING || w->checkpointing)
		if (pthread_cond_timedwait(&w->idle, &w->lock, &until) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&w->lock);
			fprintf(stderr, "mailhooks: a drain or checkpoint of "
			    "this process has not returned from the storage "
			    "in %d s; this process ends for a fresh one\n",
			    MH_WORKER_STUCK_SECONDS);
			app->open_failed = 1;
			return;
		}
	w->store = NULL;
	pthread_mutex_unlock(&w->lock);

	mh_app_reopen(app);

	pthread_mutex_lock(&w->lock);
	w->handle = MH_HANDLE_SOUND;
	w->store = app->store;
	pthread_cond_signal(&w->wake);
	pthread_cond_signal(&w->checkpoint_wake);
	pthread_mutex_unlock(&w->lock);
}

/*
 * The drain thread of a FastCGI process. The accept loop hands each drain
 * to it and goes back to accepting at once: a web server that keeps
 * sending to the same process (lighttpd picks the first of its least busy
 * backends) would otherwise make the next webhook wait while the last
 * one's thousand events are stored.
 *
 * The thread has a struct mh_app of its own (its relay socket, retention
 * clock and a copy of the settings a drain reads), sharing only the
 * storage handle, which Berkeley DB lets threads share (DB_THREAD). The
 * accept loop holds the thread off while it reopens that handle. A handle
 * a drain found broken while the accept loop waits for a request is
 * reopened by the thread itself: a process the web server sends nothing
 * would otherwise sit on the entries it acknowledged last (the claims of a
 * live process are honoured for a minute) until its next request.
 *
 * A second thread takes the checkpoints the drains ask for: under load a
 * checkpoint waits a second for pages others hold, and the events this
 * process acknowledged meanwhile would wait with it (the end-to-end
 * bench's p99 was that second).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailhooks.h"

/* How long a drain that failed (a lock held too long, a full disk) waits
 * before it tries again, requests or not. */
#define MH_WORKER_RETRY_SECONDS 1
/* How long the drains stay quiet after a checkpoint before the checkpoint
 * thread takes one more of whatever was logged since. The checkpoints of a
 * burst come with the log past a threshold, counted from the last of any
 * process; the ones asked for at its end mostly fall under it, and the log
 * files the last checkpoint still needed stayed (tests/integration/logs.t). */
#define MH_CHECKPOINT_SETTLE_SECONDS 1
/* The receipts put since the last drain began that it takes first; more
 * are found by the drain's walk of the inbox. */
#define MH_WORKER_OWN_MAX 4096
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

struct mh_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* a drain was asked for, or stop */
	pthread_cond_t idle;	/* a drain or a checkpoint ended */
	pthread_cond_t checkpoint_wake;	/* a checkpoint is due, or stop */
	pthread_t checkpointer;
	int checkpointer_started;
	int pending;		/* a drain is asked for */
	int busy;		/* a drain runs */
	int checkpoint_due;	/* a drain ended since the last checkpoint */
	int checkpointing;	/* a checkpoint runs */
	int held;		/* the accept loop has the storage handle */
	int serving;		/* the accept loop is in a request */
	int mending;		/* the drain thread reopens the handle */
	int replaced;		/* it did: the accept loop takes store */
	int mended;		/* and no drain has worked since */
	int stopping;
	int broken;		/* a drain found the storage needs reopening */
	uint64_t own[MH_WORKER_OWN_MAX];	/* receipts the accept loop put */
	size_t nown;
	int own_lost;		/* receipts that did not fit in own */
	struct timespec walked;	/* when a drain last walked (monotonic) */
	uint64_t draining[MH_WORKER_OWN_MAX];	/* the drain's copy */
	struct mh_store *store;	/* NULL while held */
	struct mh_config cfg;	/* home and retention, copied */
	struct mh_app app;
};

/* Whether the drain about to start walks the inbox; if it does, the time
 * of this walk is noted. Called with w->lock held. */
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

/* Whether the drain thread is to reopen the storage handle now: a drain
 * found it broken and the accept loop is not using it. Once only until a
 * drain works again: a handle that breaks again at once waits for a request
 * rather than have each reopen run recovery (which breaks every other
 * process's handle too). Called with w->lock held. */
static int
mh_worker_mend_due(const struct mh_worker *w)
{
	return w->broken && !w->mended && !w->serving && !w->held &&
	    w->store != NULL;
}

/*
 * Reopens the storage handle for the accept loop, which takes the new one
 * when its next request comes (mh_worker_enter). Reopening lets go of this
 * process's claims, and a drain that walks follows, for the entries the
 * broken drains left. Called with w->lock held; lets go of it meanwhile.
 */
static void
mh_worker_mend(struct mh_worker *w)
{
	struct mh_store *store = w->store;
	enum mh_store_err err;

	w->mending = 1;
	w->store = NULL;	/* the checkpoint thread keeps off it */
	while (w->checkpointing)
		pthread_cond_wait(&w->idle, &w->lock);
	pthread_mutex_unlock(&w->lock);

	err = mh_store_reopen(&store);
	if (err != MH_STORE_OK)
		fprintf(stderr, "mailhooks: storage reopen failed (%d); the "
		    "next request opens it\n", (int)err);

	pthread_mutex_lock(&w->lock);
	w->store = store;
	w->mending = 0;
	w->broken = 0;
	w->replaced = 1;
	w->mended = 1;
	w->own_lost = 1;
	w->pending = w->store != NULL;
	pthread_cond_broadcast(&w->idle);
	pthread_cond_signal(&w->checkpoint_wake);
}

static void *
mh_worker_run(void *arg)
{
	struct mh_worker *w = arg;
	enum mh_store_err err = MH_STORE_OK;
	struct timespec due;
	size_t ndraining;
	int timed, walk = 1;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		/* A failed drain is tried again, a walk that a drain
		 * skipped is taken, and an idle process walks now and then,
		 * requests or not. */
		timed = 1;
		if (err == MH_STORE_FAILED || err == MH_STORE_NOMEM) {
			clock_gettime(CLOCK_MONOTONIC, &due);
			due.tv_sec += MH_WORKER_RETRY_SECONDS;
		} else if (!walk) {
			due = w->walked;
			due.tv_sec += MH_WORKER_WALK_SECONDS;
		} else if (w->store != NULL) {
			due = w->walked;
			due.tv_sec += MH_WORKER_IDLE_WALK_SECONDS;
		} else
			timed = 0;
		while ((!w->pending || w->held) && !w->stopping &&
		    !mh_worker_mend_due(w)) {
			if (!timed)
				pthread_cond_wait(&w->wake, &w->lock);
			else if (pthread_cond_timedwait(&w->wake, &w->lock,
			    &due) == ETIMEDOUT) {
				w->pending = 1;
				timed = 0;
			}
		}
		if (mh_worker_mend_due(w) && !w->stopping) {
			mh_worker_mend(w);
			err = MH_STORE_OK;
			continue;
		}
		/* What was acknowledged before the stop is drained first. */
		if (!w->pending || w->held)
			break;
		w->pending = 0;
		w->busy = 1;
		w->app.store = w->store;
		ndraining = w->nown;
		memcpy(w->draining, w->own, ndraining * sizeof(w->own[0]));
		w->nown = 0;
		walk = mh_worker_walks(w, ndraining);
		pthread_mutex_unlock(&w->lock);

		err = mh_drain(&w->app, w->draining, ndraining, walk);

		pthread_mutex_lock(&w->lock);
		w->busy = 0;
		if (err == MH_STORE_OK) {
			w->mended = 0;
			w->checkpoint_due = 1;
			pthread_cond_signal(&w->checkpoint_wake);
		} else if (ndraining > 0)
			w->own_lost = 1;	/* the next drain walks for them */
		if (w->app.store_broken) {
			w->app.store_broken = 0;
			w->broken = 1;
		}
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void *
mh_worker_checkpoints(void *arg)
{
	struct mh_worker *w = arg;
	struct mh_store *store;
	struct timespec quiet;
	enum mh_store_err err;
	int settled = 1, any;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while ((w->held || w->store == NULL ||
		    (!w->checkpoint_due && settled)) && !w->stopping)
			pthread_cond_wait(&w->checkpoint_wake, &w->lock);
		if (w->stopping)
			break;
		if (!w->checkpoint_due) {
			clock_gettime(CLOCK_MONOTONIC, &quiet);
			quiet.tv_sec += MH_CHECKPOINT_SETTLE_SECONDS;
			if (pthread_cond_timedwait(&w->checkpoint_wake,
			    &w->lock, &quiet) == 0)
				continue;	/* not quiet: look again */
			if (w->checkpoint_due || w->held || w->store == NULL ||
			    w->stopping)
				continue;
		}
		any = !w->checkpoint_due;
		settled = any;
		w->checkpoint_due = 0;
		w->checkpointing = 1;
		store = w->store;
		pthread_mutex_unlock(&w->lock);

		err = mh_store_checkpoint(store, any);

		pthread_mutex_lock(&w->lock);
		w->checkpointing = 0;
		if (err == MH_STORE_RECOVER)
			w->broken = 1;
		else if (err != MH_STORE_OK)
			fprintf(stderr, "mailhooks: checkpoint failed: storage "
			    "error %d; the next drain asks again\n", (int)err);
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Stops the threads that run: the drain thread after draining what was
 * acknowledged before, the checkpoint thread after the checkpoint in hand. */
static void
mh_worker_join(struct mh_worker *w, int drain_started)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->wake);
	pthread_cond_signal(&w->checkpoint_wake);
	pthread_mutex_unlock(&w->lock);
	if (drain_started)
		pthread_join(w->thread, NULL);
	if (w->checkpointer_started)
		pthread_join(w->checkpointer, NULL);
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
	w->app.cfg = &w->cfg;
	w->app.notify_fd = -1;
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
	w->app.checkpoint_apart = w->checkpointer_started;
	started = pthread_create(&w->thread, NULL, mh_worker_run, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		fprintf(stderr, "mailhooks: no drain thread; draining after "
		    "each answer instead\n");
		mh_worker_join(w, 0);
		pthread_cond_destroy(&w->checkpoint_wake);
		pthread_cond_destroy(&w->idle);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

/* Copies what a drain reads of the settings; 0, or -1 out of memory. */
static int
mh_worker_settings(struct mh_worker *w, const struct mh_config *cfg)
{
	if (w->cfg.home == NULL || strcmp(w->cfg.home, cfg->home) != 0) {
		char *home = mh_strdup(cfg->home);

		if (home == NULL)
			return -1;
		free(w->cfg.home);
		w->cfg.home = home;
	}
	w->cfg.raw_max_age = cfg->raw_max_age;
	w->cfg.raw_max_bytes = cfg->raw_max_bytes;
	return 0;
}

int
mh_worker_kick(struct mh_worker *w, const struct mh_app *app)
{
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	if (app->store == NULL || mh_worker_settings(w, app->cfg) != 0)
		ret = -1;
	else {
		w->store = app->store;
		if (app->own_receipt != 0 && w->nown < MH_WORKER_OWN_MAX)
			w->own[w->nown++] = app->own_receipt;
		else if (app->own_receipt != 0)
			w->own_lost = 1;
		w->pending = 1;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

/* Hands the handle the drain thread reopened, if it did, to the accept
 * loop's app. Called with w->lock held, or with the thread ended. */
static void
mh_worker_adopt(struct mh_worker *w, struct mh_app *app)
{
	if (!w->replaced)
		return;
	app->store = w->store;
	app->store_broken = 0;
	w->replaced = 0;
}

void
mh_worker_enter(struct mh_worker *w, struct mh_app *app)
{
	pthread_mutex_lock(&w->lock);
	while (w->mending)
		pthread_cond_wait(&w->idle, &w->lock);
	w->serving = 1;
	mh_worker_adopt(w, app);
	pthread_mutex_unlock(&w->lock);
}

void
mh_worker_leave(struct mh_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->serving = 0;
	if (mh_worker_mend_due(w))
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void
mh_worker_hold(struct mh_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->held = 1;
	while (w->busy || w->checkpointing)
		pthread_cond_wait(&w->idle, &w->lock);
	w->broken = 0;
	w->store = NULL;
	pthread_mutex_unlock(&w->lock);
}

void
mh_worker_release(struct mh_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->held = 0;
	pthread_cond_signal(&w->wake);
	pthread_cond_signal(&w->checkpoint_wake);
	pthread_mutex_unlock(&w->lock);
}

int
mh_worker_broken(struct mh_worker *w)
{
	int broken;

	pthread_mutex_lock(&w->lock);
	broken = w->broken;
	pthread_mutex_unlock(&w->lock);
	return broken;
}

void
mh_worker_stop(struct mh_worker *w, struct mh_app *app)
{
	if (w == NULL)
		return;
	mh_worker_join(w, 1);
	mh_worker_adopt(w, app);
	mh_notify_done(&w->app);
	mh_config_free(&w->cfg);
	pthread_cond_destroy(&w->checkpoint_wake);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/*
 * The worker's parts (worker.c: the drain thread and what the accept loop
 * calls; checkpointer.c: the checkpoint thread), and the state they share
 * under its lock. See worker.c for the states and what moves them.
 */
#ifndef MH_WORKER_H
#define MH_WORKER_H

#include <pthread.h>
#include <time.h>

#include "mailhooks.h"

/* The receipts put since the last drain began that it takes first; more
 * are found by the drain's walk of the inbox. */
#define MH_WORKER_OWN_MAX 4096

enum mh_handle_state {
	MH_HANDLE_SOUND,
	MH_HANDLE_BROKEN,
	MH_HANDLE_MENDED,
	MH_HANDLE_BROKEN_AGAIN,
	MH_HANDLE_HELD,
};

enum mh_thread_state {
	MH_THREAD_IDLE,
	MH_THREAD_DRAINING,
	MH_THREAD_MENDING,
};

struct mh_worker {
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* a drain was asked for, or stop */
	pthread_cond_t idle;	/* a drain, mend or checkpoint ended */
	pthread_cond_t checkpoint_wake;	/* a checkpoint is due, or stop */
	pthread_t thread, checkpointer;
	int checkpointer_started;
	enum mh_handle_state handle;
	enum mh_thread_state state;
	int pending;		/* a drain is asked for */
	int serving;		/* the accept loop is in a request */
	int stopping;
	int checkpoint_due;	/* a drain ended since the last checkpoint */
	int checkpointing;	/* a checkpoint runs */
	struct mh_store *store;	/* outside requests; NULL while held */
	uint64_t own[MH_WORKER_OWN_MAX];	/* receipts the accept loop put */
	size_t nown;
	int own_lost;		/* receipts that did not fit in own */
	struct timespec walked;	/* when a drain last walked (monotonic) */
	uint64_t draining[MH_WORKER_OWN_MAX];	/* the drain's copy */
	struct mh_drainer dr;	/* the drain's settings, relay, clock */
};

/*
 * How long the accept loop waits for a drain or a checkpoint to end before
 * a reopen. A process killed while it held one of Berkeley DB's mutexes
 * (not a lock: a region's, which failchk cannot give back) leaves whoever
 * waits for it blocked in the library for good: a checkpoint thread was,
 * and its process never ended after Ctrl-C. Past this the process ends
 * for a fresh one; what it acknowledged waits in the inbox for the
 * others, its claims dying with it.
 */
#define MH_WORKER_STUCK_SECONDS 10
/* A deadline secs from now, on clock. */
struct timespec mh_worker_deadline(clockid_t clock, int secs);
/* The drain thread's body (arg: the worker). */
void *mh_worker_run(void *arg);
/* A drain or checkpoint found the handle needs reopening. Called with
 * w->lock held. */
void mh_worker_broke(struct mh_worker *w);
/* The checkpoint thread's body (arg: the worker). */
void *mh_worker_checkpoints(void *arg);

#endif

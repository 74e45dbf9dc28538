/*
 * The checkpoint thread of a FastCGI process: under load a checkpoint
 * waits a second for pages others hold, and the events this process
 * acknowledged meanwhile would wait with it (the end-to-end bench's p99
 * was that second), so the drains only say one is due.
 */
#include <stdio.h>

#include "mailhooks.h"
#include "worker.h"

/* How long the drains stay quiet after a checkpoint before the checkpoint
 * thread takes one more of whatever was logged since. The checkpoints of a
 * burst come with the log past a threshold, counted from the last of any
 * process; the ones asked for at its end mostly fall under it, and the log
 * files the last checkpoint still needed stayed (tests/integration/logs.t). */
#define MH_CHECKPOINT_SETTLE_SECONDS 1
/* Waits for a checkpoint to be due: a drain ended, or the drains have been
 * quiet a second since the last one (settled says that one was of
 * whatever was logged, and no other is owed). Returns with w->lock held:
 * 1 with *any set to run one, 0 to stop. */
static int
mh_checkpoint_wait(struct mh_worker *w, int settled, int *any)
{
	struct timespec quiet;

	for (;;) {
		while ((w->handle == MH_HANDLE_HELD || w->store == NULL ||
		    (!w->checkpoint_due && settled)) && !w->stopping)
			pthread_cond_wait(&w->checkpoint_wake, &w->lock);
		if (w->stopping)
			return 0;
		if (!w->checkpoint_due) {
			clock_gettime(CLOCK_MONOTONIC, &quiet);
			quiet.tv_sec += MH_CHECKPOINT_SETTLE_SECONDS;
			if (pthread_cond_timedwait(&w->checkpoint_wake,
			    &w->lock, &quiet) == 0)
				continue;	/* not quiet: look again */
			if (w->checkpoint_due || w->handle == MH_HANDLE_HELD ||
			    w->store == NULL || w->stopping)
				continue;
		}
		*any = !w->checkpoint_due;
		return 1;
	}
}

void *
mh_worker_checkpoints(void *arg)
{
	struct mh_worker *w = arg;
	struct mh_store *store;
	enum mh_store_err err;
	int settled = 1, any;

	pthread_mutex_lock(&w->lock);
	while (mh_checkpoint_wait(w, settled, &any)) {
		settled = any;
		w->checkpoint_due = 0;
		w->checkpointing = 1;
		store = w->store;
		pthread_mutex_unlock(&w->lock);

		err = mh_store_checkpoint(store, any);

		pthread_mutex_lock(&w->lock);
		w->checkpointing = 0;
		if (err == MH_STORE_RECOVER)
			mh_worker_broke(w);
		else if (err != MH_STORE_OK)
			fprintf(stderr, "mailhooks: checkpoint failed: storage "
			    "error %d; the next drain asks again\n", (int)err);
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

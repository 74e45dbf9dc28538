/*
 * The process's storage handle: opened on the first request (where the
 * data lives may only be known from it), reopened after a failure.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mailhooks.h"

/* Events stored by a version without their time and search indexes get
 * them, once (later calls cost a read). */
static void
mh_app_reindex(struct mh_app *app, const struct mh_request *r)
{
	enum mh_store_err err;
	size_t made;

	if (app->reindexed || app->store == NULL)
		return;
	err = mh_store_events_reindex(app->store, mh_event_describe, NULL,
	    &made);
	app->reindexed = err == MH_STORE_OK;
	if (made > 0 || err != MH_STORE_OK)
		mh_log(r, "indexed %zu stored events by time and text%s", made,
		    err != MH_STORE_OK ? "; stopped by a storage error, goes on "
		    "at the next request" : "");
}

void
mh_app_open_store(struct mh_app *app, const struct mh_request *r)
{
	enum mh_store_err err;

	if (app->store == NULL &&
	    (err = mh_store_open(app->cfg->home, &app->store)) != MH_STORE_OK) {
		mh_log(r, "storage in %s unavailable (%d); answering 503, and "
		    "this process ends for a fresh one to try again",
		    app->cfg->home, (int)err);
		app->open_failed = 1;
	}
	if (app->store != NULL)
		mh_store_set_fsync(app->store, app->cfg->fsync);
	mh_app_reindex(app, r);
	mh_app_first_admin(app, r);
}

void
mh_app_reopen(struct mh_app *app)
{
	enum mh_store_err err;

	if ((err = mh_store_reopen(&app->store)) != MH_STORE_OK) {
		fprintf(stderr, "mailhooks: storage reopen failed (%d); this "
		    "process ends for a fresh one to try again\n", (int)err);
		app->open_failed = 1;
	}
}

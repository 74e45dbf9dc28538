/*
 * The process's storage handle: opened on the first request (where the
 * data lives may only be known from it), reopened after a failure.
 */
#include <stdio.h>

#include "mailhooks.h"

void
mh_app_open_store(struct mh_app *app, const struct mh_request *r)
{
	enum mh_store_err err;

	if (app->store == NULL &&
	    (err = mh_store_open(app->cfg->home, &app->store)) != MH_STORE_OK)
		mh_log(r, "storage in %s unavailable (%d); answering 503",
		    app->cfg->home, (int)err);
	if (app->store != NULL)
		mh_store_set_fsync(app->store, app->cfg->fsync);
}

void
mh_app_reopen(struct mh_app *app)
{
	enum mh_store_err err;

	if ((err = mh_store_reopen(&app->store)) != MH_STORE_OK)
		fprintf(stderr, "mailhooks: storage reopen failed (%d)\n",
		    (int)err);
}

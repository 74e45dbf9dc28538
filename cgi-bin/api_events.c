/*
 * GET /api/events and GET /api/email-callbacks: pages of a table, newest
 * first or (after=SEQ) oldest first, filtered by the table's three indexed
 * fields and, for events, a time window. Stored records are compact JSON
 * already, so answers are spliced from them, not rebuilt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"

/* What a listing route takes and answers. */
struct mh_list_spec {
	enum mh_table table;
	const char *name;		/* the array's key in the answer */
	const char *param[3];		/* query names of the three filters */
	int (*valid0)(const char *);	/* the values the first may take */
	int timed;			/* since and until apply */
};

static int
mh_is_event_type(const char *s)
{
	return mh_event_type_index(s, strlen(s)) >= 0;
}

static int
mh_is_infobip_status(const char *s)
{
	return mh_in_list(s, mh_infobip_statuses) != NULL;
}

static const struct mh_list_spec mh_events_spec = {
	MH_TABLE_EVENTS, "events", { "type", "email", "message_id" },
	mh_is_event_type, 1,
};

static const struct mh_list_spec mh_callbacks_spec = {
	MH_TABLE_CALLBACKS, "email_callbacks", { "status", "email",
	"external_id" }, mh_is_infobip_status, 0,
};

/* Reads the filters into f and q; answers 400 and returns -1. */
static int
mh_list_args(struct mh_request *r, const struct mh_list_spec *spec,
    char *f[3], struct mh_query *q, struct mh_window *w)
{
	for (int i = 0; i < 3; i++)
		if (mh_arg(r, spec->param[i], &f[i]) != 0)
			return -1;
	if (mh_cursor_args(r, q) != 0)
		return -1;
	if (f[0] != NULL && !spec->valid0(f[0])) {
		mh_respond_error(r, 400, "bad_parameter", "unknown %s \"%.40s\"",
		    spec->param[0], f[0]);
		return -1;
	}
	if (spec->timed && mh_window_args(r, w) != 0)
		return -1;
	q->type = f[0];
	q->email = f[1];
	q->message_id = f[2];
	q->keep = spec->timed ? mh_window_keep : NULL;
	q->keep_ctx = w;
	return 0;
}

static void
mh_api_list(struct mh_app *app, struct mh_request *r,
    const struct mh_list_spec *spec)
{
	char *f[3] = { 0 };
	struct mh_query q = { .table = spec->table,
	    .limit = MH_API_LIMIT_DEFAULT };
	struct mh_window w;
	struct mh_page pg = { 0 };
	enum mh_store_err err;
	int more;

	if (mh_list_args(r, spec, f, &q, &w) != 0)
		goto out;
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		goto out;
	}
	mh_buf_printf(&pg.buf, "{\"%s\":[", spec->name);
	err = mh_store_query(app->store, &q, mh_page_emit, &pg, &more);
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		goto out;
	}
	mh_page_respond(r, &pg, &q, more);
out:
	free(pg.buf.p);
	for (int i = 0; i < 3; i++)
		free(f[i]);
}

void
mh_api_events(struct mh_app *app, struct mh_request *r)
{
	mh_api_list(app, r, &mh_events_spec);
}

void
mh_api_callbacks(struct mh_app *app, struct mh_request *r)
{
	mh_api_list(app, r, &mh_callbacks_spec);
}

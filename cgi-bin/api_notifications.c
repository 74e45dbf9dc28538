/*
 * /api/notifications: storing users' notifications (POST, one or a batch
 * of up to 1000, all or none, durable before the answer; an
 * Idempotency-Key makes a retry get the first answer and store nothing
 * again) and listing them (GET, newest first, with the cursors of
 * /api/events). An admin, or a token with notifications:write, sees and
 * makes anyone's; a signed-in user reads their own only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_NT_BATCH_MAX 1000

void
mh_nt_signal(struct mh_app *app, const char *text)
{
	struct mh_notifier n = { .home = app->cfg->home, .fd = -1 };

	if (text != NULL)
		mh_notify_event(&n, 0, text, strlen(text));
	mh_notify_done(&n);
}

/* Tells the relay of each notification stored, for its user's channel,
 * with that user's unread count (once stored, best effort). */
static void
mh_nt_signal_new(struct mh_app *app, const struct mh_record *recs, size_t n,
    uint64_t first)
{
	struct mh_notifier relay = { .home = app->cfg->home, .fd = -1 };
	struct mh_buf b = { 0 };
	uint64_t unread = 0;

	for (size_t i = 0; i < n; i++) {
		if ((i == 0 || strcmp(recs[i].notification.user,
		    recs[i - 1].notification.user) != 0) &&
		    mh_store_unread(app->store, recs[i].notification.user,
		    &unread) != MH_STORE_OK)
			break;
		b.len = 0;
		mh_buf_printf(&b, "{\"kind\":\"notification\",\"unread\":%"
		    PRIu64 ",\"id\":%" PRIu64 ",%s", unread, first + i,
		    recs[i].json + 1);
		if (b.failed)
			break;
		mh_notify_event(&relay, first + i, b.p, b.len);
	}
	mh_notify_done(&relay);
	free(b.p);
}

int
mh_notifications_anyone(const struct mh_request *r)
{
	return r->who.admin || (r->who.kind == MH_WHO_TOKEN &&
	    (r->who.scopes & MH_SCOPE_NOTIFICATIONS_WRITE) != 0);
}

static void
mh_nt_records_free(struct mh_record *recs, size_t n)
{
	for (size_t i = 0; recs != NULL && i < n; i++)
		mh_record_free(&recs[i]);
	free(recs);
}

/* The notifications of a POST body: one object, or {"notifications":
 * [...]}; their records into *recs (*n of them). -1, answered. */
static int
mh_nt_records(struct mh_request *r, struct json_object *body,
    struct mh_record **recs, size_t *n)
{
	struct json_object *list = mh_json_get(body, "notifications");
	int64_t now = mh_now_ms();
	size_t count = 1;
	char why[200];

	*recs = NULL;
	*n = 0;
	if (list != NULL && (json_object_object_length(body) != 1 ||
	    !json_object_is_type(list, json_type_array) ||
	    (count = json_object_array_length(list)) == 0 ||
	    count > MH_NT_BATCH_MAX)) {
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "notifications is a "
		    "list of 1 to %d notifications, alone in the body",
		    MH_NT_BATCH_MAX);
		return -1;
	}
	if ((*recs = mh_calloc(count, sizeof(**recs))) == NULL) {
		mh_respond_nomem(r);
		return -1;
	}
	for (*n = 0; *n < count; (*n)++)
		if (mh_notification_make(list != NULL ?
		    json_object_array_get_idx(list, *n) : body, now,
		    &(*recs)[*n], why, sizeof(why)) != 0) {
			if (list != NULL)
				mh_respond_error(r, MH_ERR_BAD_NOTIFICATION,
				    "notifications[%zu]: %s", *n, why);
			else
				mh_respond_error(r, MH_ERR_BAD_NOTIFICATION,
				    "%s", why);
			mh_nt_records_free(*recs, *n);
			*recs = NULL;
			*n = 0;
			return -1;
		}
	return 0;
}

struct mh_nt_answer {
	const struct mh_record *recs;
	int batch;
	uint64_t first;		/* the first id, once stored */
};

/* The answer of a POST: what was stored, each led by its id. */
static char *
mh_nt_answer(void *ctx, uint64_t first, size_t n)
{
	struct mh_nt_answer *a = ctx;
	struct mh_buf b = { 0 };

	a->first = first;
	if (a->batch)
		mh_buf_str(&b, "{\"notifications\":[");
	for (size_t i = 0; i < n; i++)
		mh_buf_printf(&b, "%s{\"id\":%" PRIu64 ",%s", i ? "," : "",
		    first + i, a->recs[i].json + 1);
	if (a->batch)
		mh_buf_str(&b, "]}");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

void
mh_api_notification_create(struct mh_app *app, struct mh_request *r)
{
	struct json_object *body = NULL;
	struct mh_record *recs = NULL;
	struct mh_idem idem;
	struct mh_nt_answer answer = { 0 };
	char keybuf[MH_IDEM_KEY_MAX + MH_USER_NAME_MAX + 32], *text = NULL;
	enum mh_idem_result res;
	enum mh_store_err err;
	size_t n = 0;
	int has_idem;

	if (mh_json_body(r, app->cfg->max_body, &body) != 0 ||
	    mh_nt_records(r, body, &recs, &n) != 0 ||
	    (has_idem = mh_idem_arg(r, "notify", &idem, keybuf,
	    sizeof(keybuf))) < 0)
		goto out;
	answer.recs = recs;
	answer.batch = mh_json_get(body, "notifications") != NULL;
	err = mh_store_notifications_add(app->store, recs, n,
	    has_idem ? &idem : NULL, mh_nt_answer, &answer, &text, &res);
	if (err == MH_STORE_OK && res == MH_IDEM_NEW) {
		r->notification = answer.first;
		mh_nt_signal_new(app, recs, n, answer.first);
	}
	mh_idem_respond(r, err, res, 201, text);
out:
	mh_nt_records_free(recs, n);
	free(text);
	json_object_put(body);
}

/* A stored notification's JSON: whether it is unread (a keep). */
static int
mh_nt_unread_keep(void *ctx, const char *json)
{
	struct json_object *o = json_tokener_parse(json), *v = NULL;
	int unread;

	(void)ctx;
	unread = o != NULL && json_object_object_get_ex(o, "read_at", &v) &&
	    v == NULL;
	json_object_put(o);
	return unread;
}

void
mh_nt_list(struct mh_app *app, struct mh_request *r, const char *user)
{
	struct mh_query q = { .table = MH_TABLE_NOTIFICATIONS,
	    .limit = MH_API_LIMIT_DEFAULT };
	struct mh_page pg = { .buf = { 0 } };
	char *uarg = NULL, *ident = NULL, *unread = NULL;
	uint64_t count = 0;
	enum mh_store_err err;
	int more = 0;

	if (mh_cursor_args(r, &q) != 0 || mh_arg(r, "identifier", &ident) != 0 ||
	    mh_arg(r, "unread", &unread) != 0 ||
	    (user == NULL && mh_arg(r, "user_id", &uarg) != 0))
		goto out;
	if (unread != NULL && strcmp(unread, "1") != 0) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "unread is 1");
		goto out;
	}
	/* A token is nobody's user: it reads them all, or none. */
	if (r->who.kind == MH_WHO_TOKEN && !mh_notifications_anyone(r)) {
		mh_respond_error(r, MH_ERR_FORBIDDEN, "reading notifications "
		    "needs a user's session, or a token with "
		    "notifications:write");
		goto out;
	}
	if (user == NULL && (user = uarg) == NULL && !mh_notifications_anyone(r))
		user = r->who.name;	/* a user lists their own */
	if (user != NULL && !mh_notifications_anyone(r) &&
	    strcmp(user, r->who.name) != 0) {
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no such user's "
		    "notifications here");
		goto out;
	}
	q.where.notification.identifier = ident;
	if (unread != NULL && user != NULL)
		q.where.notification.unread_user = user;
	else {
		q.where.notification.user = user;
		if (unread != NULL)
			q.keep = mh_nt_unread_keep;
	}
	/* A user's page carries their unread count, read first. */
	err = r->param != NULL ? mh_store_unread(app->store, user, &count) :
	    MH_STORE_OK;
	if (r->param != NULL)
		mh_buf_printf(&pg.buf, "{\"unread\":%" PRIu64 ",", count);
	mh_buf_str(&pg.buf, r->param != NULL ? "\"notifications\":[" :
	    "{\"notifications\":[");
	if (err == MH_STORE_OK)
		err = mh_store_query(app->store, &q, mh_page_emit, &pg, &more);
	if (err != MH_STORE_OK) {
		free(pg.buf.p);
		mh_respond_store_error(r, err);
		goto out;
	}
	mh_page_respond(r, &pg, &q, more);
out:
	free(uarg);
	free(ident);
	free(unread);
}

void
mh_api_notifications(struct mh_app *app, struct mh_request *r)
{
	mh_nt_list(app, r, NULL);
}

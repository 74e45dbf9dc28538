/*
 * One user's notifications, and one notification: GET
 * /api/notifications/{user_id} lists a user's with their unread count;
 * PUT /api/notifications/{id} marks one read ({"read": false}: unread
 * again), DELETE removes it; POST /api/notifications/{user_id}/read-all
 * marks all of them read (before=ID: those older). Only the owner, an
 * admin or a token with notifications:write; to anyone else another
 * user's notification does not exist (404, not 403).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_NT_BODY_MAX 1024

/* What a change to one notification needs: who asks, and how. */
struct mh_nt_mark {
	const struct mh_request *r;
	int read;		/* 1 read, 0 unread, -1 delete */
	int64_t now;
	int allowed;		/* whose it was let the asker change it */
};

static int
mh_nt_mark_fn(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	struct mh_nt_mark *m = ctx;

	m->allowed = mh_notifications_anyone(m->r) ||
	    (m->r->who.kind != MH_WHO_TOKEN &&
	    strcmp(f->notification.user, m->r->who.name) == 0);
	if (!m->allowed)
		return MH_CHANGE_KEEP;
	if (m->read < 0)
		return MH_CHANGE_DELETE;
	/* Out of memory or not ours: written as it was (json NULL fails). */
	mh_notification_mark(f, json, m->read, m->now, out);
	return MH_CHANGE_WRITE;
}

/* The id of the path's {key}; 0 when it is not one. */
static uint64_t
mh_nt_id(const struct mh_request *r)
{
	unsigned long long id;

	return mh_parse_uint(r->param, UINT64_MAX, &id) == 0 ? id : 0;
}

/* Whether to mark read (1) or unread (0): PUT's body, {"read": BOOL},
 * read when empty. -1, answered. */
static int
mh_nt_read_arg(struct mh_request *r)
{
	struct json_object *body = NULL, *v;
	const char *cl = mh_param(r, "CONTENT_LENGTH");
	int read = 1;

	if (cl == NULL || strcmp(cl, "0") == 0 || *cl == '\0')
		return 1;
	if (mh_json_body(r, MH_NT_BODY_MAX, &body) != 0)
		return -1;
	v = mh_json_get(body, "read");
	if (json_object_object_length(body) > 1 || (v != NULL &&
	    !json_object_is_type(v, json_type_boolean)) ||
	    (v == NULL && json_object_object_length(body) == 1)) {
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "the body is "
		    "{\"read\": true} or {\"read\": false}");
		read = -1;
	} else if (v != NULL)
		read = json_object_get_boolean(v);
	json_object_put(body);
	return read;
}

/* Tells the relay of a change, for its user's channel: {"kind": "read"}
 * with the notification as it is now (read_at null: unread again), or
 * {"kind": "deleted"}; each with the user's unread count. */
static void
mh_nt_signal_change(struct mh_app *app, int read, uint64_t id,
    const struct mh_nt_changed *c)
{
	struct json_object *o = read >= 0 ? json_tokener_parse(c->json) :
	    json_object_new_object();

	if (o == NULL)
		return;
	json_object_object_add(o, "kind",
	    json_object_new_string(read >= 0 ? "read" : "deleted"));
	json_object_object_add(o, "user_id", json_object_new_string(c->user));
	json_object_object_add(o, "id", json_object_new_uint64(id));
	json_object_object_add(o, "unread", json_object_new_uint64(c->unread));
	mh_nt_signal(app, mh_json_text(o));
	json_object_put(o);
}

/* Marks or deletes the notification of the path, and answers. */
static void
mh_nt_change(struct mh_app *app, struct mh_request *r, int read)
{
	struct mh_nt_mark m = { r, read, mh_now_ms(), 0 };
	struct mh_nt_changed c;
	uint64_t id = mh_nt_id(r);
	enum mh_store_err err = MH_STORE_NOTFOUND;
	struct mh_buf b = { 0 };

	int got;

	if (id != 0)
		err = mh_store_notification_change(app->store, id,
		    mh_nt_mark_fn, &m, &c);
	r->notification = id;
	if ((got = err == MH_STORE_OK) && !m.allowed)
		err = MH_STORE_NOTFOUND;
	if (err == MH_STORE_NOTFOUND)
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no notification %.32s "
		    "here", r->param);
	else if (err != MH_STORE_OK)
		mh_respond_store_error(r, err);
	else {
		mh_nt_signal_change(app, read, id, &c);
		if (read < 0)
			mh_buf_printf(&b, "{\"deleted\":%" PRIu64, id);
		else
			mh_buf_printf(&b, "{\"notification\":%s", c.json);
		mh_buf_printf(&b, ",\"unread\":%" PRIu64 "}", c.unread);
		mh_buf_respond(r, &b);
	}
	if (got) {
		free(c.json);
		free(c.user);
	}
}

void
mh_api_notification(struct mh_app *app, struct mh_request *r)
{
	mh_nt_list(app, r, r->param);
}

void
mh_api_notification_mark(struct mh_app *app, struct mh_request *r)
{
	int read;

	if ((read = mh_nt_read_arg(r)) >= 0)
		mh_nt_change(app, r, read);
}

void
mh_api_notification_delete(struct mh_app *app, struct mh_request *r)
{
	mh_nt_change(app, r, -1);
}

/* Collects the ids of a page of unread notifications. */
static int
mh_nt_collect(void *ctx, uint64_t id, const char *json, size_t len)
{
	uint64_t **ids = ctx;

	(void)json;
	(void)len;
	*(*ids)++ = id;
	return 0;
}

void
mh_api_notifications_read(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_NOTIFICATIONS,
	    .where.notification.unread_user = r->param,
	    .limit = MH_API_LIMIT_MAX };
	struct mh_nt_mark m = { r, 1, mh_now_ms(), 0 };
	uint64_t ids[MH_API_LIMIT_MAX], *end, marked = 0, unread = 0;
	struct mh_nt_changed c;
	enum mh_store_err err;
	struct mh_buf b = { 0 };
	int more = 1;

	if (!mh_notifications_anyone(r) && (r->who.kind == MH_WHO_TOKEN ||
	    strcmp(r->param, r->who.name) != 0)) {
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no such user's "
		    "notifications here");
		return;
	}
	if (mh_cursor_args(r, &q) != 0)
		return;
	q.limit = MH_API_LIMIT_MAX;
	q.has_after = 0;
	/* Page by page, newest first: those marked leave the unread index. */
	for (err = MH_STORE_OK; err == MH_STORE_OK && more;) {
		end = ids;
		if ((err = mh_store_query(app->store, &q, mh_nt_collect, &end,
		    &more)) != MH_STORE_OK)
			break;
		for (uint64_t *id = ids; id < end && err == MH_STORE_OK; id++) {
			err = mh_store_notification_change(app->store, *id,
			    mh_nt_mark_fn, &m, &c);
			if (err == MH_STORE_NOTFOUND)	/* deleted meanwhile */
				err = MH_STORE_OK;
			else if (err == MH_STORE_OK) {
				marked++;
				free(c.json);
				free(c.user);
			}
		}
		if (end > ids)
			q.before = end[-1];
	}
	if (err == MH_STORE_OK)
		err = mh_store_unread(app->store, r->param, &unread);
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	mh_buf_printf(&b, "{\"read\":%" PRIu64 ",\"unread\":%" PRIu64 "}",
	    marked, unread);
	if (marked > 0) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "kind",
		    json_object_new_string("read_all"));
		json_object_object_add(o, "user_id",
		    json_object_new_string(r->param));
		json_object_object_add(o, "read", json_object_new_uint64(marked));
		json_object_object_add(o, "unread",
		    json_object_new_uint64(unread));
		mh_nt_signal(app, mh_json_text(o));
		json_object_put(o);
	}
	mh_buf_respond(r, &b);
}

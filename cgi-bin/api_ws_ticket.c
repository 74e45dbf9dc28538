/*
 * WebSocket tickets (ticket.c), each good for one handshake within
 * MH_TICKET_TTL seconds, for the channels the asker may read: the events
 * (/ws) and, for a user, their own notifications (/ws/notifications/NAME).
 * GET /api/ws-ticket gives one (the page asks before each connection);
 * POST /api/ws-tickets {"count": N} gives N at once, for a program's
 * backend that hands them to its own clients; with "user_id" (an admin,
 * or a token with notifications:write), for that user's channel only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_TICKETS_MAX 1000
#define MH_TICKETS_BODY_MAX 1024

/* Adds count tickets for r's asker to o ("ticket", or "tickets" when
 * many), with when they expire and their channels; -1 when they cannot
 * be signed (said in the log). */
static int
mh_tickets_add(struct mh_app *app, struct mh_request *r,
    struct json_object *o, size_t count, int many, const char *user)
{
	unsigned char key[MH_SECRET_BYTES];
	char text[MH_TICKET_MAX], iso[32];
	struct json_object *list = json_object_new_array(), *channels;
	struct mh_ticket t;
	int ret = 0;

	memset(&t, 0, sizeof(t));
	snprintf(t.user, sizeof(t.user), "%s", user != NULL ? user :
	    r->who.name);
	/* The role is the ticket's user's: one an admin mints for bob is
	 * bob's, and opens bob's channel alone (the relay lets an admin's
	 * own ticket open any user's). */
	snprintf(t.role, sizeof(t.role), "%s", user != NULL ? "user" :
	    r->who.kind == MH_WHO_TOKEN ? "token" : r->who.admin ? "admin" :
	    "viewer");
	if (user != NULL)
		snprintf(t.channels, sizeof(t.channels), "user:%s", user);
	else if (r->who.kind == MH_WHO_TOKEN)
		snprintf(t.channels, sizeof(t.channels), "events");
	else
		snprintf(t.channels, sizeof(t.channels), "events,user:%s",
		    r->who.name);
	t.expires = (int64_t)time(NULL) + MH_TICKET_TTL;
	if (mh_ticket_key(app->cfg->home, key) != 0)
		ret = -1;
	for (size_t i = 0; ret == 0 && i < count; i++) {
		if ((ret = mh_ticket_make(key, &t, text, sizeof(text))) == 0)
			json_object_array_add(list, json_object_new_string(text));
	}
	explicit_bzero(key, sizeof(key));
	if (ret != 0) {
		mh_log(r, "cannot read or make %s/ticket.key", app->cfg->home);
		json_object_put(list);
		return -1;
	}
	if (many)
		json_object_object_add(o, "tickets", list);
	else {
		json_object_object_add(o, "ticket",
		    json_object_get(json_object_array_get_idx(list, 0)));
		json_object_put(list);
	}
	mh_iso_from_ms(t.expires * 1000, iso);
	channels = json_object_new_array();
	for (char *p = t.channels, *comma; p != NULL; p = comma ? comma + 1 :
	    NULL) {
		comma = strchr(p, ',');
		json_object_array_add(channels, json_object_new_string_len(p,
		    comma ? (int)(comma - p) : (int)strlen(p)));
	}
	json_object_object_add(o, "expires", json_object_new_string(iso));
	json_object_object_add(o, "channels", channels);
	return 0;
}

static void
mh_answer_tickets(struct mh_app *app, struct mh_request *r, size_t count,
    int many, const char *user)
{
	struct json_object *o = json_object_new_object();

	if (mh_tickets_add(app, r, o, count, many, user) != 0)
		mh_respond_error(r, MH_ERR_UNAVAILABLE, "tickets cannot be "
		    "signed now (see the server's log)");
	else
		mh_respond_json(r, many ? 201 : 200, mh_json_text(o));
	json_object_put(o);
}

/* The user whose channel a ticket names, as notifications name it (a
 * string, or a whole number's decimal) into out; -1 when v cannot be one
 * (a comma would end the ticket's list of channels). */
static int
mh_ticket_user(struct json_object *v, char out[MH_NT_USER_MAX + 1])
{
	return mh_notification_user(v, out) == 0 && strchr(out, ',') == NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) == strlen(out)) ? 0 : -1;
}

void
mh_api_ws_ticket(struct mh_app *app, struct mh_request *r)
{
	mh_answer_tickets(app, r, 1, 0, NULL);
}

void
mh_api_ws_tickets(struct mh_app *app, struct mh_request *r)
{
	struct json_object *body = NULL, *count, *user;
	char name[MH_NT_USER_MAX + 1];
	int64_t n;

	if (mh_json_body(r, MH_TICKETS_BODY_MAX, &body) != 0)
		return;
	count = mh_json_get(body, "count");
	user = mh_json_get(body, "user_id");
	n = count == NULL ? 1 : json_object_is_type(count, json_type_int) ?
	    json_object_get_int64(count) : 0;
	if (n < 1 || n > MH_TICKETS_MAX)
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "count must be a whole "
		    "number from 1 to %d", MH_TICKETS_MAX);
	else if (user != NULL && mh_ticket_user(user, name) != 0)
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "user_id is a whole "
		    "number or a string of 1 to %d bytes, without a comma or a "
		    "control character", MH_NT_USER_MAX);
	else if (user != NULL && !mh_notifications_anyone(r))
		mh_respond_error(r, MH_ERR_FORBIDDEN, "a ticket for a user's "
		    "channel needs the admin role or notifications:write");
	else if (user == NULL && (r->who.scopes & MH_SCOPE_EVENTS_READ) == 0)
		mh_respond_error(r, MH_ERR_FORBIDDEN, "a ticket for the events "
		    "needs events:read");
	else
		mh_answer_tickets(app, r, (size_t)n, 1, user != NULL ? name :
		    NULL);
	json_object_put(body);
}

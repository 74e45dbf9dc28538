/*
 * Mandrill (Mailchimp Transactional) webhook events: shape checks declared
 * as tables, and normalisation onto the shared event model. Pure: no I/O.
 *
 * Three shapes arrive in one mandrill_events array:
 *  - message events: {"event": "open", "ts": N, "msg": {"_id": ...}, ...}
 *  - sync events: {"type": "blacklist", "action": "add", "reject": {...}}
 *  - inbound mail: {"event": "inbound", "ts": N, "msg": {...}}
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

enum mh_shape {
	MH_SHAPE_MESSAGE,
	MH_SHAPE_SYNC,
	MH_SHAPE_INBOUND,
};

static const struct mh_rule mh_rules[] = {
	{ MH_SHAPE_MESSAGE, NULL, NULL, "ts", T_NUM, 1 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "msg", T_OBJ, 1 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "_id", T_STR, 1 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "email", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "subject", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "tags", T_ARR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "metadata", T_OBJ | T_ARR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "ip", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "location", T_OBJ | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "user_agent", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "user_agent_parsed", T_OBJ | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, "click", NULL, "url", T_STR, 1 },
	{ MH_SHAPE_SYNC, NULL, NULL, "ts", T_NUM, 1 },
	{ MH_SHAPE_SYNC, NULL, NULL, "action", T_STR, 1 },
	{ MH_SHAPE_SYNC, "blacklist", NULL, "reject", T_OBJ, 1 },
	{ MH_SHAPE_SYNC, "blacklist", "reject", "email", T_STR, 1 },
	{ MH_SHAPE_SYNC, "whitelist", NULL, "entry", T_OBJ, 1 },
	{ MH_SHAPE_SYNC, "whitelist", "entry", "email", T_STR, 1 },
	{ MH_SHAPE_INBOUND, NULL, NULL, "ts", T_NUM, 1 },
	{ MH_SHAPE_INBOUND, NULL, NULL, "msg", T_OBJ, 1 },
	{ MH_SHAPE_INBOUND, NULL, "msg", "email", T_STR | T_NULL, 0 },
	{ MH_SHAPE_INBOUND, NULL, "msg", "subject", T_STR | T_NULL, 0 },
	{ MH_SHAPE_INBOUND, NULL, "msg", "headers", T_OBJ | T_NULL, 0 },
};

/* Mandrill's message event names are already the shared model's types. */
static const char *const mh_message_events[] = {
	"send", "delivered", "deferral", "hard_bounce", "soft_bounce", "open",
	"click", "spam", "unsub", "reject", NULL
};

static const char *const mh_sync_types[] = { "blacklist", "whitelist", NULL };

/* Details copied from the top of a message event, and from its msg. */
static const char *const mh_event_details[] = {
	"ip", "location", "user_agent", "url", NULL
};
static const char *const mh_msg_details[] = {
	"sender", "tags", "metadata", "state", "bounce_description", "diag",
	"subaccount", "template", "reject", "smtp_events", NULL
};
static const char *const mh_inbound_details[] = {
	"from_email", "from_name", "to", "tags", "spam_report", "spf", "dkim",
	"text", NULL
};

/* Which shape an event has, and its kind (event name or sync type). */
static int
mh_classify(struct json_object *ev, enum mh_shape *shape, const char **kind,
    char *why, size_t whylen)
{
	struct json_object *v;
	const char *s;

	if (json_object_object_get_ex(ev, "event", &v)) {
		if ((s = mh_get_str(ev, "event")) == NULL) {
			snprintf(why, whylen, "\"event\" must be a string");
			return -1;
		}
		if ((*kind = mh_in_list(s, mh_message_events)) != NULL) {
			*shape = MH_SHAPE_MESSAGE;
			return 0;
		}
		if (strcmp(s, "inbound") == 0) {
			*kind = "inbound";
			*shape = MH_SHAPE_INBOUND;
			return 0;
		}
		snprintf(why, whylen, "unknown event type \"%.64s\"", s);
		return -1;
	}
	if (json_object_object_get_ex(ev, "type", &v)) {
		if ((s = mh_get_str(ev, "type")) == NULL ||
		    (*kind = mh_in_list(s, mh_sync_types)) == NULL) {
			snprintf(why, whylen, "unknown sync event type");
			return -1;
		}
		*shape = MH_SHAPE_SYNC;
		return 0;
	}
	snprintf(why, whylen, "has neither \"event\" nor \"type\"");
	return -1;
}

static int
mh_check_shape(struct json_object *ev, char *why, size_t whylen)
{
	enum mh_shape shape;
	const char *kind;

	if (!json_object_is_type(ev, json_type_object)) {
		snprintf(why, whylen, "is %s, not an object",
		    mh_type_name(json_object_get_type(ev)));
		return -1;
	}
	if (mh_classify(ev, &shape, &kind, why, whylen) != 0)
		return -1;
	return mh_shape_check(ev, mh_rules, sizeof(mh_rules) /
	    sizeof(mh_rules[0]), shape, kind, why, whylen);
}

int
mh_mandrill_parse(const char *text, size_t len, struct json_object **events,
    char *detail, size_t detail_len)
{
	struct json_object *arr;
	char why[160];
	size_t n;

	*events = NULL;
	if ((arr = mh_json_parse(text, len, why, sizeof(why))) == NULL) {
		snprintf(detail, detail_len, "mandrill_events: %s", why);
		return -1;
	}
	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(detail, detail_len,
		    "mandrill_events must be a JSON array, not %s",
		    mh_type_name(json_object_get_type(arr)));
		goto err;
	}
	n = json_object_array_length(arr);
	if (n > MH_MANDRILL_MAX_EVENTS) {
		snprintf(detail, detail_len,
		    "mandrill_events holds %zu events; at most %d are accepted",
		    n, MH_MANDRILL_MAX_EVENTS);
		goto err;
	}
	for (size_t i = 0; i < n; i++) {
		if (mh_check_shape(json_object_array_get_idx(arr, i), why,
		    sizeof(why)) != 0) {
			snprintf(detail, detail_len, "event %zu: %s", i, why);
			goto err;
		}
	}
	*events = arr;
	return 0;
err:
	json_object_put(arr);
	return -1;
}

static void
mh_copy(struct json_object *to, const char *to_key, struct json_object *from,
    const char *key)
{
	struct json_object *v;

	if (from != NULL && json_object_object_get_ex(from, key, &v) &&
	    v != NULL)
		json_object_object_add(to, to_key, json_object_get(v));
}

static void
mh_copy_list(struct json_object *to, struct json_object *from,
    const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		mh_copy(to, keys[i], from, keys[i]);
}

static void
mh_set_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, json_object_new_string(s ? s : ""));
}

/* A field separator that cannot appear in JSON-decoded identifiers we
 * accept without being part of the value: unit separator. */
#define MH_SEP "\x1f"

int
mh_mandrill_normalise(struct json_object *ev, const char *received_at,
    uint64_t receipt, struct mh_event *out)
{
	struct json_object *o, *msg = NULL, *v, *holder = NULL;
	enum mh_shape shape;
	const char *kind, *msgid = "", *email = NULL, *subject = NULL;
	const char *type, *action = "";
	char why[160], receipt_s[24];
	int64_t ts;
	size_t need;

	out->json = out->entity = NULL;
	out->identity = NULL;
	if (mh_classify(ev, &shape, &kind, why, sizeof(why)) != 0)
		return -1;
	json_object_object_get_ex(ev, "msg", &msg);
	if (msg != NULL && !json_object_is_type(msg, json_type_object))
		msg = NULL;
	ts = json_object_object_get_ex(ev, "ts", &v) ?
	    json_object_get_int64(v) : 0;
	switch (shape) {
	case MH_SHAPE_MESSAGE:
		type = kind;
		msgid = mh_get_str(msg, "_id");
		email = mh_get_str(msg, "email");
		subject = mh_get_str(msg, "subject");
		break;
	case MH_SHAPE_SYNC:
		type = "sync";
		action = mh_get_str(ev, "action");
		json_object_object_get_ex(ev,
		    strcmp(kind, "blacklist") == 0 ? "reject" : "entry", &holder);
		email = mh_get_str(holder, "email");
		break;
	case MH_SHAPE_INBOUND:
	default:
		type = "inbound";
		if (json_object_object_get_ex(msg, "headers", &v))
			msgid = mh_get_str(v, "Message-Id");
		email = mh_get_str(msg, "email");
		subject = mh_get_str(msg, "subject");
		break;
	}
	if (msgid == NULL)
		msgid = "";
	if (action == NULL)
		action = "";

	o = json_object_new_object();
	mh_set_str(o, "provider", "mandrill");
	mh_set_str(o, "type", type);
	mh_set_str(o, "message_id", msgid);
	mh_set_str(o, "email", email);
	mh_set_str(o, "subject", subject);
	json_object_object_add(o, "ts", json_object_new_int64(ts));
	mh_set_str(o, "received_at", received_at);
	snprintf(receipt_s, sizeof(receipt_s), "%" PRIu64, receipt);
	mh_set_str(o, "receipt", receipt_s);
	switch (shape) {
	case MH_SHAPE_MESSAGE:
		mh_copy_list(o, ev, mh_event_details);
		mh_copy(o, "ua", ev, "user_agent_parsed");
		mh_copy_list(o, msg, mh_msg_details);
		break;
	case MH_SHAPE_SYNC:
		mh_set_str(o, "sync_type", kind);
		mh_set_str(o, "action", action);
		mh_copy(o, "entry", ev, strcmp(kind, "blacklist") == 0 ?
		    "reject" : "entry");
		break;
	case MH_SHAPE_INBOUND:
		mh_copy_list(o, msg, mh_inbound_details);
		break;
	}

	/* Identity for the duplicate check: provider, message id, type and
	 * timestamp; events without a message id add what tells them apart. */
	need = strlen(msgid) + strlen(type) + strlen(action) + strlen(kind) +
	    (email ? strlen(email) : 0) + (subject ? strlen(subject) : 0) + 96;
	if ((out->identity = mh_malloc(need)) == NULL) {
		json_object_put(o);
		return -1;
	}
	if (*msgid != '\0')
		snprintf(out->identity, need, "mandrill" MH_SEP "%s" MH_SEP "%s"
		    MH_SEP "%" PRId64, msgid, type, ts);
	else
		snprintf(out->identity, need, "mandrill" MH_SEP MH_SEP "%s" MH_SEP
		    "%" PRId64 MH_SEP "%s" MH_SEP "%s" MH_SEP "%s" MH_SEP "%s",
		    type, ts, kind, action, email ? email : "",
		    subject ? subject : "");
	out->json = o;
	return 0;
}

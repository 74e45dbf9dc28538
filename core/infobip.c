/*
 * Infobip, as a provider (providers.h): its webhook's checks (a token,
 * JSON), its email callbacks (delivery reports and tracking events)
 * checked against tables, and each normalised onto the shared event
 * types with the email_callback entity beside it. Pure: no I/O.
 *
 * Bodies come in three shapes:
 *  - a delivery-report batch: {"results": [report, ...]}
 *  - a single delivery report: {"messageId", "status": {...}, "to", ...}
 *  - a tracking event: {"notificationType": "OPENED", "messageId", ...}
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core.h"
#include "providers.h"

enum mh_ib_shape {
	MH_IB_REPORT,
	MH_IB_TRACKING,
};

static const struct mh_rule mh_ib_rules[] = {
	{ MH_IB_REPORT, NULL, NULL, "messageId", T_STR | T_NUM, 1 },
	{ MH_IB_REPORT, NULL, NULL, "status", T_OBJ, 1 },
	{ MH_IB_REPORT, NULL, "status", "groupName", T_STR, 1 },
	{ MH_IB_REPORT, NULL, "status", "name", T_STR | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, "status", "description", T_STR | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, NULL, "to", T_STR | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, NULL, "error", T_OBJ | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, "error", "permanent", T_BOOL | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, NULL, "bulkId", T_STR | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, NULL, "doneAt", T_STR | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, NULL, "sentAt", T_STR | T_NULL, 0 },
	{ MH_IB_REPORT, NULL, NULL, "callbackData", T_STR | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "notificationType", T_STR, 1 },
	{ MH_IB_TRACKING, NULL, NULL, "messageId", T_STR | T_NUM, 1 },
	{ MH_IB_TRACKING, NULL, NULL, "recipient", T_STR | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "sendDateTime", T_NUM | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "bulkId", T_STR | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "eventId", T_STR | T_NUM | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "callbackData", T_STR | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "recipientInfo", T_OBJ | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "geoLocationInfo", T_OBJ | T_NULL, 0 },
	{ MH_IB_TRACKING, NULL, NULL, "geoLocation", T_OBJ | T_NULL, 0 },
	{ MH_IB_TRACKING, "CLICKED", NULL, "url", T_STR | T_NULL, 0 },
};

/*
 * Infobip's statuses on the shared event types. Delivery reports carry a
 * status group; tracking events a notification type. UNDELIVERABLE is a
 * hard bounce when Infobip calls its error permanent, a soft one otherwise.
 */
static const struct mh_ib_map {
	const char *status;
	const char *type;
	const char *type_if_permanent;	/* or NULL: no difference */
} mh_ib_map[] = {
	{ "PENDING", "send", NULL },
	{ "DELIVERED", "delivered", NULL },
	{ "UNDELIVERABLE", "soft_bounce", "hard_bounce" },
	{ "EXPIRED", "soft_bounce", NULL },
	{ "REJECTED", "reject", NULL },
	{ "OPENED", "open", NULL },
	{ "CLICKED", "click", NULL },
	{ "UNSUBSCRIBED", "unsub", NULL },
	{ "COMPLAINED", "spam", NULL },
	{ "LATE_BOUNCE", "hard_bounce", NULL },
	{ NULL, NULL, NULL },
};

static const char *const mh_ib_tracking_types[] = {
	"OPENED", "CLICKED", "UNSUBSCRIBED", "COMPLAINED", "LATE_BOUNCE", NULL
};

const char *const mh_infobip_statuses[] = {
	"PENDING", "DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED",
	"OPENED", "CLICKED", "UNSUBSCRIBED", "COMPLAINED", "LATE_BOUNCE", NULL
};

static const struct mh_ib_map *
mh_ib_lookup(const char *status)
{
	for (size_t i = 0; status != NULL && mh_ib_map[i].status != NULL; i++)
		if (strcmp(mh_ib_map[i].status, status) == 0)
			return &mh_ib_map[i];
	return NULL;
}

const char *
mh_infobip_status(struct json_object *item, int tracking)
{
	if (tracking)
		return mh_json_str(item, "notificationType");
	return mh_json_str(mh_json_get(item, "status"), "groupName");
}

static int
mh_ib_check(struct json_object *item, char *why, size_t whylen)
{
	int tracking;
	const char *status;

	if (!json_object_is_type(item, json_type_object)) {
		snprintf(why, whylen, "is %s, not an object",
		    mh_type_name(json_object_get_type(item)));
		return -1;
	}
	tracking = mh_json_get(item, "notificationType") != NULL;
	status = NULL;
	if (mh_shape_check(item, mh_ib_rules, sizeof(mh_ib_rules) /
	    sizeof(mh_ib_rules[0]), tracking ? MH_IB_TRACKING : MH_IB_REPORT,
	    mh_json_str(item, "notificationType"), why, whylen) != 0)
		return -1;
	status = mh_infobip_status(item, tracking);
	if (tracking && mh_in_list(status, mh_ib_tracking_types) == NULL) {
		snprintf(why, whylen, "unknown notificationType \"%.40s\"",
		    status);
		return -1;
	}
	if (!tracking && mh_ib_lookup(status) == NULL) {
		snprintf(why, whylen, "unknown status.groupName \"%.40s\"",
		    status);
		return -1;
	}
	return 0;
}

int
mh_infobip_parse(const char *text, size_t len, struct json_object **items,
    char *detail, size_t detail_len)
{
	struct json_object *body, *results, *arr = NULL;
	char why[160];
	size_t n;

	*items = NULL;
	if ((body = mh_json_parse(text, len, why, sizeof(why))) == NULL) {
		snprintf(detail, detail_len, "%s", why);
		return -1;
	}
	if (!json_object_is_type(body, json_type_object)) {
		snprintf(detail, detail_len, "the body must be a JSON object "
		    "(a delivery report, {\"results\": [...]} or a tracking "
		    "event), not %s", mh_type_name(json_object_get_type(body)));
		goto err;
	}
	if (json_object_object_get_ex(body, "results", &results)) {
		if (!json_object_is_type(results, json_type_array)) {
			snprintf(detail, detail_len,
			    "results must be an array, not %s",
			    mh_type_name(json_object_get_type(results)));
			goto err;
		}
		arr = json_object_get(results);
	} else {
		arr = json_object_new_array();
		json_object_array_add(arr, json_object_get(body));
	}
	n = json_object_array_length(arr);
	if (n > MH_INFOBIP_MAX_ITEMS) {
		snprintf(detail, detail_len, "results holds %zu reports; at most "
		    "%d are accepted", n, MH_INFOBIP_MAX_ITEMS);
		goto err;
	}
	for (size_t i = 0; i < n; i++) {
		if (mh_ib_check(json_object_array_get_idx(arr, i), why,
		    sizeof(why)) != 0) {
			if (json_object_object_get_ex(body, "results", NULL))
				snprintf(detail, detail_len, "results[%zu]: %s", i,
				    why);
			else
				snprintf(detail, detail_len, "%s", why);
			goto err;
		}
	}
	json_object_put(body);
	*items = arr;
	return 0;
err:
	json_object_put(arr);
	json_object_put(body);
	return -1;
}

const char *
mh_infobip_type(const char *status, int permanent)
{
	const struct mh_ib_map *map = mh_ib_lookup(status);

	if (map == NULL)
		return NULL;
	return permanent && map->type_if_permanent ? map->type_if_permanent :
	    map->type;
}

/* --- Normalising one checked item: the event, in the shared model, and
 * the email_callback entity beside it (the seed's contract), with
 * callbackData decoded (JSON, else a Python dict's repr). */

/* What normalising one item works from. */
struct mh_ib_item {
	struct json_object *item;
	int tracking;			/* a tracking event, not a report */
	const char *status, *type, *email, *received_at;
	char *msgid;			/* messageId, whole; freed by the caller */
	struct json_object *data;	/* callbackData decoded, or NULL */
	const char *cbtext;		/* callbackData as sent, or NULL */
	int has_contact;
	int64_t contact;
};

struct json_object *
mh_callback_data(const char *text, size_t len)
{
	struct json_object *v = NULL;
	char why[64];

	if ((v = mh_json_parse(text, len, why, sizeof(why))) != NULL)
		return v;
	if (mh_pyrepr_parse(text, len, &v) == 0 && v != NULL)
		return v;
	return NULL;
}

int
mh_qj_contact_id(struct json_object *data, int64_t *out)
{
	struct json_object *v;
	const char *s;
	char *end;
	double d;

	if (data == NULL || !json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "qj_contact_id", &v))
		return -1;
	switch (json_object_get_type(v)) {
	case json_type_int:
		errno = 0;
		*out = json_object_get_int64(v);
		return errno == 0 ? 0 : -1;
	case json_type_double:
		d = json_object_get_double(v);
		/* Out of range (or NaN), the conversion is undefined. */
		if (!(d >= -0x1p63 && d < 0x1p63) || d != (double)(int64_t)d)
			return -1;
		*out = (int64_t)d;
		return 0;
	case json_type_string:
		s = json_object_get_string(v);
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0' || (!isdigit((unsigned char)*s) && *s != '-'))
			return -1;
		errno = 0;
		*out = strtoll(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		return errno == 0 && *end == '\0' && end != s ? 0 : -1;
	default:
		return -1;
	}
}



/* Reads what the item says into it; -1 when its status is not known. */
static int
mh_ib_read(struct mh_ib_item *it, struct json_object *item,
    const char *received_at)
{
	struct json_object *err = mh_json_get(item, "error");
	struct json_object *permanent = mh_json_get(err, "permanent");

	memset(it, 0, sizeof(*it));
	it->item = item;
	it->tracking = mh_json_get(item, "notificationType") != NULL;
	it->status = mh_infobip_status(item, it->tracking);
	it->type = mh_infobip_type(it->status, permanent != NULL &&
	    json_object_get_boolean(permanent));
	if (it->type == NULL)
		return -1;
	it->received_at = received_at;
	/* Whole, as sent: a string, or a number's digits. */
	if ((it->msgid = mh_json_scalar(mh_json_get(item, "messageId"))) ==
	    NULL)
		return -1;
	it->email = mh_json_str(item, it->tracking ? "recipient" : "to");
	if ((it->cbtext = mh_json_str(item, "callbackData")) != NULL) {
		it->data = mh_callback_data(it->cbtext, strlen(it->cbtext));
		it->has_contact = mh_qj_contact_id(it->data, &it->contact) == 0;
	}
	return 0;
}

/* When it happened: a report's doneAt (or sentAt); a tracking event
 * carries no time of its own, so the time it reached us. */
static int64_t
mh_ib_when(const struct mh_ib_item *it)
{
	int64_t ts = 0;

	if ((it->tracking ||
	    (mh_iso_time(mh_json_str(it->item, "doneAt"), &ts) != 0 &&
	    mh_iso_time(mh_json_str(it->item, "sentAt"), &ts) != 0)) &&
	    mh_iso_time(it->received_at, &ts) != 0)
		ts = (int64_t)time(NULL);
	return ts;
}

/* The report's own fields of an email_callback (a tracking event has
 * none of them: null). */
static void
mh_ib_report_fields(struct json_object *cb, const struct mh_ib_item *it)
{
	struct json_object *st = mh_json_get(it->item, "status");
	struct json_object *err = mh_json_get(it->item, "error"), *e = NULL;

	if (it->tracking) {
		mh_json_set_str(cb, "status_name", it->status);
		json_object_object_add(cb, "status_description", NULL);
		json_object_object_add(cb, "error", NULL);
		json_object_object_add(cb, "sent_at", NULL);
		json_object_object_add(cb, "done_at", NULL);
		mh_json_copy(cb, "send_date_time", it->item, "sendDateTime", 1);
		return;
	}
	mh_json_copy(cb, "status_name", st, "name", 1);
	mh_json_copy(cb, "status_description", st, "description", 1);
	if (json_object_is_type(err, json_type_object)) {
		e = json_object_new_object();
		mh_json_copy(e, "name", err, "name", 1);
		mh_json_copy(e, "description", err, "description", 1);
		mh_json_copy(e, "permanent", err, "permanent", 1);
	}
	json_object_object_add(cb, "error", e);
	mh_json_copy(cb, "sent_at", it->item, "sentAt", 1);
	mh_json_copy(cb, "done_at", it->item, "doneAt", 1);
	json_object_object_add(cb, "send_date_time", NULL);
}

/* The email_callback entity of the item. */
static struct json_object *
mh_ib_entity(const struct mh_ib_item *it)
{
	struct json_object *cb = json_object_new_object();

	mh_json_set_str(cb, "status", it->status);
	mh_json_set_str(cb, "email", it->email);
	mh_json_set_str(cb, "received_at", it->received_at);
	mh_json_set_str(cb, "external_id", it->msgid);
	json_object_object_add(cb, "qj_contact_id", it->has_contact ?
	    json_object_new_int64(it->contact) : NULL);
	mh_json_set_str(cb, "type", it->type);
	mh_ib_report_fields(cb, it);
	mh_json_copy(cb, "bulk_id", it->item, "bulkId", 1);
	/* Kept parsed when it parses, else as the raw string. */
	json_object_object_add(cb, "callback_data", it->data ?
	    json_object_get(it->data) : it->cbtext ?
	    json_object_new_string(it->cbtext) : NULL);
	mh_json_copy(cb, "url", it->item, "url", 1);
	mh_json_copy(cb, "event_id", it->item, "eventId", 1);
	return cb;
}

/* A tracking event's device and place, in the shape the page reads for
 * Mandrill (location, ua). */
static void
mh_ib_device(struct json_object *ev, struct json_object *item)
{
	struct json_object *geo = mh_json_get(item, "geoLocationInfo");
	struct json_object *dev = mh_json_get(item, "recipientInfo");

	if (geo == NULL)
		geo = mh_json_get(item, "geoLocation");
	if (json_object_is_type(geo, json_type_object)) {
		struct json_object *loc = json_object_new_object();

		mh_json_copy(loc, "city", geo, "city", 1);
		mh_json_copy(loc, "country", geo, "countryName", 1);
		json_object_object_add(ev, "location", loc);
	}
	if (json_object_is_type(dev, json_type_object)) {
		struct json_object *ua = json_object_new_object();

		mh_json_copy(ua, "ua_family", dev, "deviceName", 1);
		mh_json_copy(ua, "os_family", dev, "os", 1);
		mh_json_copy(ua, "type", dev, "deviceType", 1);
		json_object_object_add(ev, "ua", ua);
	}
	mh_json_copy(ev, "domain", item, "domain", 1);
}

/* The event of the item, carrying the entity's details; its subject is
 * the one the sender put in callbackData (qj_subject), when it did. */
static struct json_object *
mh_ib_event(const struct mh_ib_item *it, struct json_object *cb,
    uint64_t receipt)
{
	const char *subject = mh_json_str(it->data, "qj_subject");
	struct json_object *ev = mh_event_new("infobip", it->type, it->msgid,
	    it->email, subject, mh_ib_when(it), it->received_at, receipt);

	mh_json_set_str(ev, "status", it->status);
	json_object_object_foreach(cb, k, val) {
		if (strcmp(k, "status") != 0 && strcmp(k, "email") != 0 &&
		    strcmp(k, "received_at") != 0 && strcmp(k, "type") != 0 &&
		    strcmp(k, "external_id") != 0 && val != NULL)
			json_object_object_add(ev, k, json_object_get(val));
	}
	if (it->tracking)
		mh_ib_device(ev, it->item);
	return ev;
}

/* The identity for the duplicate check: the tracking event's eventId
 * (a string or a number) when it has one, otherwise the item as Infobip
 * sent it, which a retry repeats. Caller frees; NULL out of memory. */
static char *
mh_ib_identity(const struct mh_ib_item *it)
{
	struct json_object *v = mh_json_get(it->item, "eventId");
	char *event_id, *id;

	if (!it->tracking || v == NULL)
		return mh_identity_of("infobip", "item", it->item);
	if ((event_id = mh_json_scalar(v)) == NULL)
		return NULL;
	id = *event_id != '\0' ? mh_identity("infobip", "event", event_id,
	    strlen(event_id)) : mh_identity_of("infobip", "item", it->item);
	free(event_id);
	return id;
}

int
mh_infobip_normalise(struct json_object *item, const char *received_at,
    uint64_t receipt, struct mh_normal *out)
{
	struct mh_ib_item it;

	out->event = out->entity = NULL;
	out->identity = NULL;
	if (mh_ib_read(&it, item, received_at) == 0 &&
	    (out->identity = mh_ib_identity(&it)) != NULL) {
		out->entity = mh_ib_entity(&it);
		out->event = mh_ib_event(&it, out->entity, receipt);
	}
	free(it.msgid);
	json_object_put(it.data);
	return out->identity != NULL ? 0 : -1;
}

/* --- The webhook's checks. */

enum mh_hook_verdict
mh_infobip_accept(const struct mh_hook_call *c, char *why, size_t whylen)
{
	const char *want = c->cfg->infobip_token, *ct = c->content_type;
	char *given;
	int bad, ok = want == NULL;

	/* INFOBIP_WEBHOOK_TOKEN, when set, as ?token= or as the basic-auth
	 * password. */
	if (!ok && (given = mh_query_get(c->query, "token", &bad)) != NULL) {
		ok = mh_secret_equal(given, strlen(given), want, strlen(want));
		free(given);
	}
	if (!ok && (given = mh_basic_password(c->authorization)) != NULL) {
		ok = mh_secret_equal(given, strlen(given), want, strlen(want));
		free(given);
	}
	if (!ok) {
		snprintf(why, whylen, "this callback URL needs the token, as "
		    "?token= or as the basic-auth password");
		return MH_HOOK_NO_TOKEN;
	}
	if (mh_media_type_is(ct, "application/xml") ||
	    mh_media_type_is(ct, "text/xml")) {
		snprintf(why, whylen, "XML callbacks are not accepted: choose "
		    "JSON as the callback format in Infobip");
		return MH_HOOK_MEDIA_TYPE;
	}
	if (mh_media_type_is(ct, "application/json"))
		return MH_HOOK_OK;
	snprintf(why, whylen, "Content-Type must be application/json, not "
	    "%.64s", ct != NULL && *ct != '\0' ? ct : "(none)");
	return MH_HOOK_MEDIA_TYPE;
}

enum mh_hook_verdict
mh_infobip_check(const struct mh_hook_call *c, size_t *items, char *why,
    size_t whylen)
{
	struct json_object *results = NULL;

	if (mh_infobip_parse(c->body, c->len, &results, why, whylen) != 0)
		return MH_HOOK_BAD_CALLBACK;
	*items = json_object_array_length(results);
	json_object_put(results);
	return MH_HOOK_OK;
}

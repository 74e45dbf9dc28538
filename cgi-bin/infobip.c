/*
 * Infobip email callbacks: delivery reports and tracking events, checked
 * against tables, normalised onto the shared event model, and each also
 * described as an email_callback entity (the seed's contract). Pure: no I/O.
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

#include "mailhooks.h"

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

static struct json_object *
mh_ib_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* The Infobip status of an item: status.groupName or notificationType. */
static const char *
mh_ib_status(struct json_object *item, int tracking)
{
	if (tracking)
		return mh_get_str(item, "notificationType");
	return mh_get_str(mh_ib_get(item, "status"), "groupName");
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
	tracking = mh_ib_get(item, "notificationType") != NULL;
	status = NULL;
	if (mh_shape_check(item, mh_ib_rules, sizeof(mh_ib_rules) /
	    sizeof(mh_ib_rules[0]), tracking ? MH_IB_TRACKING : MH_IB_REPORT,
	    mh_get_str(item, "notificationType"), why, whylen) != 0)
		return -1;
	status = mh_ib_status(item, tracking);
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

/*
 * Parses an ISO 8601 time as Infobip writes it ("2024-07-16T17:26:54.966-0300",
 * also with "Z" or "+03:00") into Unix seconds. -1 when it is not one.
 */
int
mh_iso_time(const char *s, int64_t *out)
{
	struct tm tm;
	int off = 0, n = 0;
	const char *p;
	long frac_digits = 0;
	time_t t;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			frac_digits++;
	if (*p == 'Z' && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2])) {
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = 0;
		const char *q = p + 3;

		if (*q == ':')
			q++;
		if (isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1])) {
			mm = (q[0] - '0') * 10 + (q[1] - '0');
			q += 2;
		}
		if (*q != '\0' || hh > 23 || mm > 59)
			return -1;
		off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	} else
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || (*(s + n) == '.' && frac_digits == 0))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	*out = (int64_t)t - off;
	return 0;
}

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
		if (d != (double)(int64_t)d)
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

/* messageId as a string: Infobip sends a string or a number. */
static void
mh_ib_message_id(struct json_object *item, char *out, size_t len)
{
	struct json_object *v = mh_ib_get(item, "messageId");

	if (v != NULL && json_object_is_type(v, json_type_int))
		snprintf(out, len, "%" PRId64, json_object_get_int64(v));
	else
		snprintf(out, len, "%s", v ? json_object_get_string(v) : "");
}

static void
mh_put_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

static void
mh_copy_as(struct json_object *to, const char *key, struct json_object *from,
    const char *from_key)
{
	struct json_object *v = mh_ib_get(from, from_key);

	json_object_object_add(to, key, v ? json_object_get(v) : NULL);
}

int
mh_infobip_normalise(struct json_object *item, const char *received_at,
    uint64_t receipt, struct mh_event *out)
{
	int tracking = mh_ib_get(item, "notificationType") != NULL;
	const char *status = mh_ib_status(item, tracking);
	const struct mh_ib_map *map = mh_ib_lookup(status);
	struct json_object *ev, *cb, *st = mh_ib_get(item, "status");
	struct json_object *err = mh_ib_get(item, "error"), *data = NULL, *v;
	const char *email, *type, *cbtext, *stamp;
	char msgid[128], receipt_s[24], stampbuf[32];
	int64_t ts = 0, contact = 0;
	int has_contact = 0, permanent;
	size_t need;

	out->json = out->entity = NULL;
	out->identity = NULL;
	if (map == NULL)
		return -1;
	permanent = err != NULL && (v = mh_ib_get(err, "permanent")) != NULL &&
	    json_object_get_boolean(v);
	type = permanent && map->type_if_permanent ? map->type_if_permanent :
	    map->type;
	mh_ib_message_id(item, msgid, sizeof(msgid));
	email = tracking ? mh_get_str(item, "recipient") : mh_get_str(item, "to");
	if ((cbtext = mh_get_str(item, "callbackData")) != NULL) {
		data = mh_callback_data(cbtext, strlen(cbtext));
		has_contact = mh_qj_contact_id(data, &contact) == 0;
	}

	/* When it happened: a report's doneAt (or sentAt); a tracking event
	 * carries no time of its own, so the time it reached us. */
	if ((tracking || (mh_iso_time(mh_get_str(item, "doneAt"), &ts) != 0 &&
	    mh_iso_time(mh_get_str(item, "sentAt"), &ts) != 0)) &&
	    mh_iso_time(received_at, &ts) != 0)
		ts = (int64_t)time(NULL);

	ev = json_object_new_object();
	mh_put_str(ev, "provider", "infobip");
	mh_put_str(ev, "type", type);
	mh_put_str(ev, "message_id", msgid);
	mh_put_str(ev, "email", email ? email : "");
	mh_put_str(ev, "subject", "");
	json_object_object_add(ev, "ts", json_object_new_int64(ts));
	mh_put_str(ev, "received_at", received_at);
	snprintf(receipt_s, sizeof(receipt_s), "%" PRIu64, receipt);
	mh_put_str(ev, "receipt", receipt_s);
	mh_put_str(ev, "status", status);

	cb = json_object_new_object();
	mh_put_str(cb, "status", status);
	mh_put_str(cb, "email", email);
	mh_put_str(cb, "received_at", received_at);
	mh_put_str(cb, "external_id", msgid);
	json_object_object_add(cb, "qj_contact_id", has_contact ?
	    json_object_new_int64(contact) : NULL);
	mh_put_str(cb, "type", type);
	if (!tracking) {
		struct json_object *e = NULL;

		mh_copy_as(cb, "status_name", st, "name");
		mh_copy_as(cb, "status_description", st, "description");
		if (err != NULL && json_object_is_type(err, json_type_object)) {
			e = json_object_new_object();
			mh_copy_as(e, "name", err, "name");
			mh_copy_as(e, "description", err, "description");
			mh_copy_as(e, "permanent", err, "permanent");
		}
		json_object_object_add(cb, "error", e);
		mh_copy_as(cb, "sent_at", item, "sentAt");
		mh_copy_as(cb, "done_at", item, "doneAt");
		json_object_object_add(cb, "send_date_time", NULL);
	} else {
		mh_put_str(cb, "status_name", status);
		json_object_object_add(cb, "status_description", NULL);
		json_object_object_add(cb, "error", NULL);
		json_object_object_add(cb, "sent_at", NULL);
		json_object_object_add(cb, "done_at", NULL);
		mh_copy_as(cb, "send_date_time", item, "sendDateTime");
	}
	mh_copy_as(cb, "bulk_id", item, "bulkId");
	/* Kept parsed when it parses, else as the raw string. */
	json_object_object_add(cb, "callback_data", data ? json_object_get(data) :
	    cbtext ? json_object_new_string(cbtext) : NULL);
	mh_copy_as(cb, "url", item, "url");
	mh_copy_as(cb, "event_id", item, "eventId");

	/* The event carries the entity's details, and the device and place
	 * in the shape the page reads for Mandrill (location, ua). */
	json_object_object_foreach(cb, k, val) {
		if (strcmp(k, "status") != 0 && strcmp(k, "email") != 0 &&
		    strcmp(k, "received_at") != 0 && strcmp(k, "type") != 0 &&
		    strcmp(k, "external_id") != 0 && val != NULL)
			json_object_object_add(ev, k, json_object_get(val));
	}
	if (tracking) {
		struct json_object *geo = mh_ib_get(item, "geoLocationInfo");
		struct json_object *dev = mh_ib_get(item, "recipientInfo");

		if (geo == NULL)
			geo = mh_ib_get(item, "geoLocation");
		if (geo != NULL && json_object_is_type(geo, json_type_object)) {
			struct json_object *loc = json_object_new_object();

			mh_copy_as(loc, "city", geo, "city");
			mh_copy_as(loc, "country", geo, "countryName");
			json_object_object_add(ev, "location", loc);
		}
		if (dev != NULL && json_object_is_type(dev, json_type_object)) {
			struct json_object *ua = json_object_new_object();

			mh_copy_as(ua, "ua_family", dev, "deviceName");
			mh_copy_as(ua, "os_family", dev, "os");
			mh_copy_as(ua, "type", dev, "deviceType");
			json_object_object_add(ev, "ua", ua);
		}
		mh_copy_as(ev, "domain", item, "domain");
	}
	json_object_put(data);

	/* Identity: the tracking event's eventId when it has one, otherwise
	 * message id, status and the item's own time stamp. */
	v = mh_ib_get(item, "eventId");
	if (tracking && v != NULL && json_object_get_string_len(v) > 0)
		stamp = NULL;
	else if (tracking) {
		snprintf(stampbuf, sizeof(stampbuf), "%" PRId64,
		    json_object_get_int64(mh_ib_get(item, "sendDateTime")));
		stamp = stampbuf;
	} else {
		stamp = mh_get_str(item, "doneAt");
		if (stamp == NULL)
			stamp = mh_get_str(item, "sentAt");
		if (stamp == NULL)
			stamp = "";
	}
	need = strlen(msgid) + strlen(status) + 96 + (stamp ? strlen(stamp) :
	    (size_t)json_object_get_string_len(v));
	if ((out->identity = mh_malloc(need)) == NULL) {
		json_object_put(ev);
		json_object_put(cb);
		return -1;
	}
	if (stamp == NULL)
		snprintf(out->identity, need, "infobip\x1f" "event\x1f%s",
		    json_object_get_string(v));
	else
		snprintf(out->identity, need, "infobip\x1f%s\x1f%s\x1f%s", msgid,
		    status, stamp);
	out->json = ev;
	out->entity = cb;
	return 0;
}

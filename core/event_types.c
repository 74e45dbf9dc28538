/*
 * The shared event model: the event types, once (what the API accepts as
 * a filter and counts, what a message's summary makes of each, which are
 * Mandrill's message events, and by their place here the relay's
 * subscription bits; the page reads them from /api/stats), and the fields
 * every provider's event starts with.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"

const struct mh_event_type mh_event_types[] = {
	{ "send", MH_TYPE_STATE | MH_TYPE_MESSAGE | MH_TYPE_SENT },
	{ "delivered", MH_TYPE_STATE | MH_TYPE_MESSAGE | MH_TYPE_SENT },
	{ "deferral", MH_TYPE_STATE | MH_TYPE_MESSAGE },
	{ "hard_bounce", MH_TYPE_STATE | MH_TYPE_MESSAGE },
	{ "soft_bounce", MH_TYPE_STATE | MH_TYPE_MESSAGE },
	{ "open", MH_TYPE_OPEN | MH_TYPE_MESSAGE },
	{ "click", MH_TYPE_CLICK | MH_TYPE_MESSAGE },
	{ "spam", MH_TYPE_STATE | MH_TYPE_MESSAGE },
	{ "unsub", MH_TYPE_STATE | MH_TYPE_MESSAGE },
	{ "reject", MH_TYPE_STATE | MH_TYPE_MESSAGE },
	{ "sync", 0 },
	{ "inbound", 0 },
	{ NULL, 0 },
};

int
mh_event_type_index(const char *name, size_t len)
{
	for (int i = 0; mh_event_types[i].name != NULL; i++)
		if (strlen(mh_event_types[i].name) == len &&
		    memcmp(mh_event_types[i].name, name, len) == 0)
			return i;
	return -1;
}

unsigned
mh_event_type_flags(const char *name)
{
	int i = name != NULL ? mh_event_type_index(name, strlen(name)) : -1;

	return i < 0 ? 0 : mh_event_types[i].flags;
}

struct json_object *
mh_event_new(const char *provider, const char *type, const char *message_id,
    const char *email, const char *subject, int64_t ts,
    const char *received_at, uint64_t receipt)
{
	struct json_object *o = json_object_new_object();
	char receipt_s[24];

	mh_json_set_str(o, "provider", provider);
	mh_json_set_str(o, "type", type);
	mh_json_set_str(o, "message_id", message_id);
	mh_json_set_str(o, "email", email ? email : "");
	mh_json_set_str(o, "subject", subject ? subject : "");
	json_object_object_add(o, "ts", json_object_new_int64(ts));
	mh_json_set_str(o, "received_at", received_at);
	snprintf(receipt_s, sizeof(receipt_s), "%" PRIu64, receipt);
	mh_json_set_str(o, "receipt", receipt_s);
	return o;
}

unsigned
mh_notify_types_default(void)
{
	unsigned bits;

	return mh_notify_types_parse("open,click", &bits) == 0 ? bits : 0;
}

int
mh_notify_types_parse(const char *list, unsigned *out)
{
	size_t len;
	int i;

	*out = 0;
	if (strcmp(list, "none") == 0)
		return 0;
	for (const char *p = list;; p += len + 1) {
		len = strcspn(p, ",");
		if ((i = mh_event_type_index(p, len)) < 0 ||
		    !(mh_event_types[i].flags & (MH_TYPE_OPEN | MH_TYPE_CLICK)))
			return -1;
		*out |= 1u << i;
		if (p[len] == '\0')
			return 0;
	}
}

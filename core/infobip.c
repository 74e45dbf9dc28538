/*
 * Infobip email callbacks: delivery reports and tracking events, checked
 * against tables, and their statuses mapped onto the shared event types
 * (infobip_normal.c normalises them). Pure: no I/O.
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

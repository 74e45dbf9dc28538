/*
 * A message's summary: its latest state, when it got there, its email and
 * subject, and how many events, opens and clicks it had, folded one event
 * at a time as the drain stores them. Which types move the state and which
 * are counted is the event types' table's say.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "../db/store.h"

static void
mh_set_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* The summary of a message seen for the first time. */
static struct json_object *
mh_summary_new(const struct mh_event *ev, uint64_t seq)
{
	struct json_object *sum = json_object_new_object();

	mh_json_set_str(sum, "message_id", ev->event.field[2]);
	mh_json_set_str(sum, "provider", ev->provider);
	mh_json_set_str(sum, "email", "");
	mh_json_set_str(sum, "subject", "");
	mh_json_set_str(sum, "state", "");
	mh_set_int(sum, "state_ts", 0);
	mh_set_int(sum, "opens", 0);
	mh_set_int(sum, "clicks", 0);
	mh_set_int(sum, "events", 0);
	mh_set_int(sum, "first_seq", (int64_t)seq);
	return sum;
}

int
mh_summary_fold(void *ctx, const struct mh_event *ev, uint64_t seq,
    const char *summary, char **folded)
{
	const char *type = ev->event.field[0], *email = ev->event.field[1];
	unsigned flags = mh_event_type_flags(type);
	struct json_object *sum = NULL;

	(void)ctx;
	if (summary != NULL)
		sum = json_tokener_parse(summary);
	if (sum == NULL)
		sum = mh_summary_new(ev, seq);
	if (*email != '\0')
		mh_json_set_str(sum, "email", email);
	if (*ev->subject != '\0')
		mh_json_set_str(sum, "subject", ev->subject);
	if (flags & MH_TYPE_OPEN)
		mh_set_int(sum, "opens", mh_json_int(sum, "opens") + 1);
	if (flags & MH_TYPE_CLICK)
		mh_set_int(sum, "clicks", mh_json_int(sum, "clicks") + 1);
	if ((flags & MH_TYPE_STATE) && ev->ts >= mh_json_int(sum, "state_ts")) {
		mh_json_set_str(sum, "state", type);
		mh_set_int(sum, "state_ts", ev->ts);
	}
	mh_set_int(sum, "events", mh_json_int(sum, "events") + 1);
	mh_set_int(sum, "last_seq", (int64_t)seq);
	if (ev->ts >= mh_json_int(sum, "last_ts"))
		mh_set_int(sum, "last_ts", ev->ts);
	*folded = mh_strdup(mh_json_text(sum));
	json_object_put(sum);
	return *folded != NULL ? 0 : -1;
}

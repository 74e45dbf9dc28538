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
#include "db/store.h"

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

	mh_json_set_str(sum, "message_id", ev->rec.event.message_id);
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

/* Who opened or clicked: a person's opens and clicks ("person_opens",
 * "person_clicks") counted apart from a machine's ("machine_opens",
 * "machine_clicks"), as the event's "machine" says; "opened_by_person"
 * says whether a person ever did. */
static void
mh_summary_who(struct json_object *sum, const char *type,
    struct json_object *e)
{
	unsigned flags = mh_event_type_flags(type);
	int machine = mh_json_str(e, "machine") != NULL;
	const char *key;

	if (flags & MH_TYPE_OPEN)
		key = machine ? "machine_opens" : "person_opens";
	else if (flags & MH_TYPE_CLICK)
		key = machine ? "machine_clicks" : "person_clicks";
	else
		return;
	mh_set_int(sum, key, mh_json_int(sum, key) + 1);
	if ((flags & MH_TYPE_OPEN) && !machine)
		json_object_object_add(sum, "opened_by_person",
		    json_object_new_boolean(1));
}

/* The links of a message whose clicks are counted; more are not. */
#define MH_SUMMARY_URLS_MAX 20

/* What the reports by tag and template read: the message's tags and
 * template (from its first event that has them), the types it had
 * ("seen", a bit for each type's place in the table) and its clicks per
 * link ("urls"). */
static void
mh_summary_details(struct json_object *sum, const struct mh_event *ev,
    struct json_object *e)
{
	struct json_object *urls;
	const char *type = ev->rec.event.type, *url;
	int i = mh_event_type_index(type, strlen(type));

	if (i >= 0)
		mh_set_int(sum, "seen", mh_json_int(sum, "seen") | 1LL << i);
	if (e == NULL)
		return;
	mh_summary_who(sum, type, e);
	if (mh_json_get(sum, "tags") == NULL &&
	    json_object_is_type(mh_json_get(e, "tags"), json_type_array))
		json_object_object_add(sum, "tags",
		    json_object_get(mh_json_get(e, "tags")));
	if (mh_json_get(sum, "template") == NULL &&
	    mh_json_str(e, "template") != NULL)
		mh_json_set_str(sum, "template", mh_json_str(e, "template"));
	if ((mh_event_type_flags(type) & MH_TYPE_CLICK) &&
	    (url = mh_json_str(e, "url")) != NULL) {
		if ((urls = mh_json_get(sum, "urls")) == NULL) {
			urls = json_object_new_object();
			json_object_object_add(sum, "urls", urls);
		}
		if (mh_json_get(urls, url) != NULL ||
		    json_object_object_length(urls) < MH_SUMMARY_URLS_MAX)
			mh_set_int(urls, url, mh_json_int(urls, url) + 1);
	}
}

int
mh_summary_fold(const struct mh_deriver *d, struct mh_fold *f)
{
	const struct mh_event *ev = f->ev;
	const char *type = ev->rec.event.type, *email = ev->rec.event.email;
	unsigned flags = mh_event_type_flags(type);
	struct json_object *sum = NULL, *e = json_tokener_parse(ev->rec.json);
	int ret = 0;

	if (f->summary != NULL)
		sum = json_tokener_parse(f->summary);
	if (sum == NULL)
		sum = mh_summary_new(ev, f->seq);
	if (e != NULL)
		ret = mh_verdict_judge(d, sum, e, f);
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
	mh_summary_details(sum, ev, e);
	mh_set_int(sum, "events", mh_json_int(sum, "events") + 1);
	mh_set_int(sum, "last_seq", (int64_t)f->seq);
	if (ev->ts >= mh_json_int(sum, "last_ts"))
		mh_set_int(sum, "last_ts", ev->ts);
	f->folded = mh_strdup(mh_json_text(sum));
	json_object_put(sum);
	json_object_put(e);
	return ret == 0 && f->folded != NULL ? 0 : -1;
}

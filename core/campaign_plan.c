/*
 * What sending reads of a campaign, pure: its times, whether it is
 * deleted, its channel, its window in minutes of the day, its text, and
 * whether a client matches its filter (every list not empty must hold
 * the client's value).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"

int
mh_campaign_plan_read(const char *json, struct mh_campaign_plan *p)
{
	struct json_object *w;
	int64_t start, end;

	memset(p, 0, sizeof(*p));
	if ((p->obj = json_tokener_parse(json)) == NULL ||
	    mh_iso_time(mh_json_str(p->obj, "start_at"), &start) != 0 ||
	    mh_iso_time(mh_json_str(p->obj, "end_at"), &end) != 0 ||
	    mh_json_str(p->obj, "text") == NULL) {
		mh_campaign_plan_free(p);
		return -1;
	}
	p->id = (uint64_t)mh_json_int(p->obj, "id");
	p->start_ms = start * 1000;
	p->end_ms = end * 1000;
	p->deleted = mh_json_get(p->obj, "deleted_at") != NULL;
	p->mail = mh_json_str(p->obj, "channel") != NULL &&
	    strcmp(mh_json_str(p->obj, "channel"), "mail") == 0;
	p->text = mh_json_str(p->obj, "text");
	p->subject = mh_json_str(p->obj, "subject");
	p->html = mh_json_str(p->obj, "html");
	p->updated = mh_json_str(p->obj, "updated_at");
	if ((w = mh_json_get(p->obj, "window")) != NULL) {
		p->from_min = mh_clock(mh_json_str(w, "from"));
		p->to_min = mh_clock(mh_json_str(w, "to"));
		p->windowed = p->from_min >= 0 && p->to_min >= 0 &&
		    p->from_min != p->to_min;
	}
	return 0;
}

/* Subjects made of a text's first line are cut to this many bytes. */
#define MH_SUBJECT_LINE_MAX 78

/* The first line of text, cut on a character's boundary, into out. */
static void
mh_first_line(const char *text, char *out, size_t cap)
{
	size_t n = strcspn(text, "\r\n");

	if (n > MH_SUBJECT_LINE_MAX)
		n = MH_SUBJECT_LINE_MAX;
	if (n >= cap)
		n = cap - 1;
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;		/* not inside a UTF-8 sequence */
	memcpy(out, text, n);
	out[n] = '\0';
}

struct json_object *
mh_campaign_mail(const struct mh_campaign_plan *p, const char *to,
    const char *list_unsubscribe)
{
	char line[MH_SUBJECT_LINE_MAX + 1], tag[40];
	struct json_object *m, *h, *tags;

	mh_first_line(p->text, line, sizeof(line));
	m = mh_mail_to_one(to, p->subject != NULL ? p->subject : line[0] ?
	    line : "(no subject)", p->text);
	snprintf(tag, sizeof(tag), MH_CAMPAIGN_TAG "%" PRIu64, p->id);
	tags = json_object_new_array();
	json_object_array_add(tags, json_object_new_string(tag));
	json_object_object_add(m, "tags", tags);
	if (p->html != NULL)
		mh_json_set_str(m, "html", p->html);
	if (list_unsubscribe != NULL) {
		h = json_object_new_object();
		mh_json_set_str(h, "List-Unsubscribe", list_unsubscribe);
		mh_json_set_str(h, "List-Unsubscribe-Post",
		    "List-Unsubscribe=One-Click");
		json_object_object_add(m, "headers", h);
	}
	return m;
}

void
mh_campaign_plan_free(struct mh_campaign_plan *p)
{
	json_object_put(p->obj);
	memset(p, 0, sizeof(*p));
}

/* Whether the list (absent or empty: anything) holds v. */
static int
mh_list_allows(struct json_object *list, const char *v)
{
	return list == NULL || !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) == 0 || mh_json_list_has(list, v);
}

/* Whether the list of tags (absent or empty: anything) holds one of the
 * client's (its tags, or its tag when stored before it had tags). */
static int
mh_tags_allow(struct json_object *list, struct json_object *client)
{
	struct json_object *tags = mh_json_get(client, "tags");

	if (tags == NULL || !json_object_is_type(tags, json_type_array))
		return mh_list_allows(list, mh_json_str(client, "tag"));
	if (list == NULL || !json_object_is_type(list, json_type_array) ||
	    json_object_array_length(list) == 0)
		return 1;
	for (size_t i = 0; i < json_object_array_length(tags); i++)
		if (mh_json_list_has(list, json_object_get_string(
		    json_object_array_get_idx(tags, i))))
			return 1;
	return 0;
}

int
mh_filter_matches(struct json_object *filter, int mail,
    struct json_object *client)
{
	if (client == NULL)
		return 0;
	if (mh_client_opted_out(client))
		return 0;
	if (mail && mh_json_str(client, "email") == NULL)
		return 0;	/* the mail channel reaches only those with one */
	return mh_list_allows(mh_json_get(filter, "operator_codes"),
	    mh_json_str(client, "operator_code")) &&
	    mh_tags_allow(mh_json_get(filter, "tags"), client);
}

int
mh_campaign_matches(const struct mh_campaign_plan *p,
    struct json_object *client)
{
	return mh_filter_matches(mh_json_get(p->obj, "filter"), p->mail,
	    client);
}

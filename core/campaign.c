/*
 * A campaign, checked and made into its record, pure: the fields a client
 * may send, declared as a table with each one's check; the times kept in
 * UTC; a change (PATCH) laid over a stored campaign and checked whole
 * again (its end after its start); and its status at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

#define MH_CAMPAIGN_TEXT_MAX 4096
#define MH_CAMPAIGN_SUBJECT_MAX 200		/* characters */
#define MH_CAMPAIGN_HTML_MAX (256 * 1024)	/* bytes */
#define MH_FILTER_ITEMS_MAX 1000

static int mh_check_time(struct json_object *, char *, size_t);
static int mh_check_text(struct json_object *, char *, size_t);
static int mh_check_window(struct json_object *, char *, size_t);
static int mh_check_channel(struct json_object *, char *, size_t);
static int mh_check_subject(struct json_object *, char *, size_t);
static int mh_check_html(struct json_object *, char *, size_t);

static const struct mh_field mh_campaign_fields[] = {
	{ "start_at", T_STR, 1, mh_check_time },
	{ "end_at", T_STR, 1, mh_check_time },
	{ "text", T_STR, 1, mh_check_text },
	{ "filter", T_OBJ, 0, mh_check_filter },
	{ "window", T_OBJ | T_NULL, 0, mh_check_window },
	{ "channel", T_STR, 0, mh_check_channel },
	{ "subject", T_STR | T_NULL, 0, mh_check_subject },
	{ "html", T_STR | T_NULL, 0, mh_check_html },
};
#define MH_CAMPAIGN_NFIELDS (sizeof(mh_campaign_fields) / \
    sizeof(mh_campaign_fields[0]))

static const char *const mh_channels[] = { "api", "mail", NULL };

/* A campaign's times: from 1970 to the year 9999 (year 0 was taken, then
 * answered as an end before the start). */
#define MH_CAMPAIGN_TIME_MAX 253402300799LL	/* 9999-12-31T23:59:59Z */

static int
mh_check_time(struct json_object *v, char *why, size_t whylen)
{
	int64_t t;

	if (mh_iso_time(json_object_get_string(v), &t) != 0) {
		snprintf(why, whylen, "is not an ISO 8601 time with its "
		    "offset: %.64s", json_object_get_string(v));
		return -1;
	}
	if (t >= 0 && t <= MH_CAMPAIGN_TIME_MAX)
		return 0;
	snprintf(why, whylen, "is not between 1970 and the year 9999: %.64s",
	    json_object_get_string(v));
	return -1;
}

static int
mh_check_text(struct json_object *v, char *why, size_t whylen)
{
	size_t chars = 0;

	for (const char *p = json_object_get_string(v); *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* Lines and tabs, but no other control character (\x01 and
		 * \x7f were sent to phones). */
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') ||
		    c == 0x7f) {
			snprintf(why, whylen, "holds a control character "
			    "(\\x%02x)", c);
			return -1;
		}
		chars += (c & 0xc0) != 0x80;
	}
	if (chars >= 1 && chars <= MH_CAMPAIGN_TEXT_MAX)
		return 0;
	snprintf(why, whylen, "is 1 to %d characters", MH_CAMPAIGN_TEXT_MAX);
	return -1;
}

/* One list of a filter: strings, each passing ok. */
static int
mh_check_list(struct json_object *list, const char *name,
    int (*ok)(const char *), const char *what, char *why, size_t whylen)
{
	size_t n;

	if (!json_object_is_type(list, json_type_array) ||
	    (n = json_object_array_length(list)) > MH_FILTER_ITEMS_MAX) {
		snprintf(why, whylen, "%s is a list of at most %d %s", name,
		    MH_FILTER_ITEMS_MAX, what);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(list, i);

		if (!json_object_is_type(v, json_type_string) ||
		    !ok(json_object_get_string(v))) {
			snprintf(why, whylen, "%s[%zu] is not %s", name, i, what);
			return -1;
		}
	}
	return 0;
}

int
mh_check_filter(struct json_object *v, char *why, size_t whylen)
{
	char inner[200];

	json_object_object_foreach(v, key, val) {
		if (strcmp(key, "operator_codes") == 0) {
			if (mh_check_list(val, key, mh_client_operator_ok,
			    "one to eight digits", inner, sizeof(inner)) != 0)
				goto bad;
		} else if (strcmp(key, "tags") == 0) {
			if (mh_check_list(val, key, mh_client_tag_ok, "a tag of at most "
			    "64 characters", inner, sizeof(inner)) != 0)
				goto bad;
		} else {
			snprintf(why, whylen, "holds %.64s: only operator_codes "
			    "and tags", key);
			return -1;
		}
	}
	return 0;
bad:
	snprintf(why, whylen, "%s", inner);
	return -1;
}

int
mh_clock(const char *s)
{
	if (s == NULL || strlen(s) != 5 || s[2] != ':' ||
	    strspn(s, "0123456789") != 2 || strspn(s + 3, "0123456789") != 2)
		return -1;
	int h = (s[0] - '0') * 10 + s[1] - '0', m = (s[3] - '0') * 10 + s[4] -
	    '0';

	return h < 24 && m < 60 ? h * 60 + m : -1;
}

static int
mh_check_window(struct json_object *v, char *why, size_t whylen)
{
	int from = mh_clock(mh_json_str(v, "from"));
	int to = mh_clock(mh_json_str(v, "to"));

	if (json_object_object_length(v) != 2 || from < 0 || to < 0) {
		snprintf(why, whylen, "is {\"from\": \"HH:MM\", \"to\": \"HH:MM\"}, "
		    "from 00:00 to 23:59");
		return -1;
	}
	if (from == to) {
		snprintf(why, whylen, "is empty: from and to are the same time");
		return -1;
	}
	return 0;
}

int
mh_campaign_channel_ok(const char *s)
{
	return mh_in_list(s, mh_channels) != NULL;
}

static int
mh_check_channel(struct json_object *v, char *why, size_t whylen)
{
	if (mh_in_list(json_object_get_string(v), mh_channels) != NULL)
		return 0;
	snprintf(why, whylen, "is api or mail");
	return -1;
}

static int
mh_check_subject(struct json_object *v, char *why, size_t whylen)
{
	const char *s = json_object_get_string(v);
	size_t chars = mh_utf8_chars(s);

	if (mh_has_control(s)) {
		snprintf(why, whylen, "is one line, without control characters");
		return -1;
	}
	if (chars >= 1 && chars <= MH_CAMPAIGN_SUBJECT_MAX)
		return 0;
	snprintf(why, whylen, "is 1 to %d characters", MH_CAMPAIGN_SUBJECT_MAX);
	return -1;
}

static int
mh_check_html(struct json_object *v, char *why, size_t whylen)
{
	size_t len = (size_t)json_object_get_string_len(v);

	if (len >= 1 && len <= MH_CAMPAIGN_HTML_MAX)
		return 0;
	snprintf(why, whylen, "is 1 byte to %d KiB", MH_CAMPAIGN_HTML_MAX / 1024);
	return -1;
}

/* Whether c's subject and HTML go with its channel: the mail channel
 * needs a subject; the API's sends neither. -1 with why. */
static int
mh_campaign_channel_fits(struct json_object *c, char *why, size_t whylen)
{
	int mail = strcmp(mh_json_str(c, "channel"), "mail") == 0;

	if (mail && mh_json_str(c, "subject") == NULL) {
		snprintf(why, whylen, "subject is required on the mail channel");
		return -1;
	}
	if (!mail && (mh_json_str(c, "subject") != NULL ||
	    mh_json_str(c, "html") != NULL)) {
		snprintf(why, whylen, "subject and html are the mail channel's: "
		    "the API sends the text alone");
		return -1;
	}
	return 0;
}

/* Checks the fields of in (with all, the required ones there). */
static int
mh_campaign_check_fields(struct json_object *in, int all, char *why,
    size_t whylen)
{
	if (json_object_is_type(in, json_type_object))
		return mh_fields_check(in, mh_campaign_fields,
		    MH_CAMPAIGN_NFIELDS, all, "a field of a campaign", "", why,
		    whylen);
	snprintf(why, whylen, "a campaign is a JSON object");
	return -1;
}

/* A time of in (checked) as UTC ISO 8601 into c. */
static void
mh_campaign_time(struct json_object *c, struct json_object *in,
    const char *key)
{
	const char *s = mh_json_str(in, key);
	char at[32];
	int64_t t;

	if (s != NULL && mh_iso_time(s, &t) == 0) {
		mh_iso_from_ms(t * 1000, at);
		mh_json_set_str(c, key, at);
	}
}

/* Checks c whole (its end after its start) and makes its record
 * (fields: deleted or "", channel), updated at now_ms. */
static int
mh_campaign_record(struct json_object *c, int64_t now_ms,
    struct mh_record *out, char *why, size_t whylen)
{
	int64_t start, end;
	char at[32];

	if (mh_iso_time(mh_json_str(c, "start_at"), &start) != 0 ||
	    mh_iso_time(mh_json_str(c, "end_at"), &end) != 0) {
		snprintf(why, whylen, "start_at and end_at are ISO 8601 times");
		return -1;
	}
	if (end <= start) {
		snprintf(why, whylen, "end_at must be after start_at");
		return -1;
	}
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(c, "updated_at", at);
	memset(out, 0, sizeof(*out));
	out->campaign.deleted = mh_strdup(mh_json_get(c, "deleted_at") !=
	    NULL ? "deleted" : "");
	out->campaign.channel = mh_strdup(mh_json_str(c, "channel"));
	out->json = mh_strdup(mh_json_text(c));
	if (out->campaign.deleted == NULL || out->campaign.channel == NULL ||
	    out->json == NULL) {
		mh_record_free(out);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

/* Lays the fields of in over c, then makes its record: an
 * mh_patch_err. */
static int
mh_campaign_finish(struct json_object *c, struct json_object *in,
    int64_t now_ms, struct mh_record *out, char *why, size_t whylen)
{
	struct json_object *f;
	int64_t end;

	mh_campaign_time(c, in, "start_at");
	mh_campaign_time(c, in, "end_at");
	mh_json_copy(c, "text", in, "text", 0);
	mh_json_copy(c, "channel", in, "channel", 0);
	if (json_object_object_get_ex(in, "window", NULL))
		mh_json_copy(c, "window", in, "window", 1);
	if (json_object_object_get_ex(in, "subject", NULL))
		mh_json_copy(c, "subject", in, "subject", 1);
	if (json_object_object_get_ex(in, "html", NULL))
		mh_json_copy(c, "html", in, "html", 1);
	/* A filter given is the whole filter: a list it leaves out is empty
	 * (anything). */
	if ((f = mh_json_get(in, "filter")) != NULL) {
		struct json_object *nf = json_object_new_object();

		json_object_object_add(nf, "operator_codes",
		    json_object_new_array());
		json_object_object_add(nf, "tags", json_object_new_array());
		mh_json_copy(nf, "operator_codes", f, "operator_codes", 0);
		mh_json_copy(nf, "tags", f, "tags", 0);
		json_object_object_add(c, "filter", nf);
	}
	if (mh_campaign_channel_fits(c, why, whylen) != 0 ||
	    mh_campaign_record(c, now_ms, out, why, whylen) != 0)
		return MH_PATCH_INVALID;
	/* Checked whole: its times are good. A campaign that would send
	 * nothing is refused, not kept as finished. */
	mh_iso_time(mh_json_str(c, "end_at"), &end);
	if (end * 1000 <= now_ms) {
		snprintf(why, whylen, "end_at %s has passed: the campaign "
		    "would send nothing", mh_json_str(c, "end_at"));
		mh_record_free(out);
		return MH_PATCH_ENDED;
	}
	return MH_PATCH_OK;
}

int
mh_campaign_make(struct json_object *in, const struct mh_making *mk,
    struct mh_record *out, char *why, size_t whylen)
{
	int64_t now_ms = mk->now_ms;
	struct json_object *c;
	char at[32];
	int ret;

	memset(out, 0, sizeof(*out));
	if (mh_campaign_check_fields(in, 1, why, whylen) != 0)
		return -1;
	c = json_tokener_parse("{\"filter\":{\"operator_codes\":[],\"tags\":[]},"
	    "\"window\":null,\"channel\":\"api\",\"subject\":null,"
	    "\"html\":null,\"deleted_at\":null}");
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(c, "created_at", at);
	ret = mh_campaign_finish(c, in, now_ms, out, why, whylen);
	json_object_put(c);
	return ret;
}

int
mh_campaign_patch(const char *json, struct json_object *in, int64_t now_ms,
    struct mh_record *out, char *why, size_t whylen)
{
	struct json_object *c;
	int ret;

	memset(out, 0, sizeof(*out));
	if (mh_campaign_check_fields(in, 0, why, whylen) != 0)
		return -1;
	if ((c = json_tokener_parse(json)) == NULL) {
		snprintf(why, whylen, "the stored campaign is unreadable");
		return -1;
	}
	if (mh_json_get(c, "deleted_at") != NULL) {
		snprintf(why, whylen, "the campaign is deleted");
		ret = MH_PATCH_GONE;
	} else
		ret = mh_campaign_finish(c, in, now_ms, out, why, whylen);
	json_object_put(c);
	return ret;
}

int
mh_campaign_delete(const char *json, int64_t now_ms, struct mh_record *out)
{
	struct json_object *c = json_tokener_parse(json);
	char at[32], why[64];
	int ret;

	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return -1;
	if (mh_json_get(c, "deleted_at") == NULL) {
		mh_iso_from_ms(now_ms, at);
		mh_json_set_str(c, "deleted_at", at);
	}
	ret = mh_campaign_record(c, now_ms, out, why, sizeof(why));
	json_object_put(c);
	return ret;
}

const char *
mh_campaign_status(struct json_object *c, int64_t now_ms)
{
	int64_t start, end;

	if (mh_json_get(c, "deleted_at") != NULL)
		return "deleted";
	if (mh_iso_time(mh_json_str(c, "start_at"), &start) != 0 ||
	    mh_iso_time(mh_json_str(c, "end_at"), &end) != 0)
		return "unreadable";
	return now_ms < start * 1000 ? "scheduled" : now_ms < end * 1000 ?
	    "running" : "finished";
}

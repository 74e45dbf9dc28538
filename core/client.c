/*
 * A campaign's client, checked and made into its record, pure but for
 * the time zone, which is looked up in the system's tz database: the
 * fields a client may send, declared as a table with each one's check;
 * the record's header fields (tag, operator code, phone); and a change
 * (PATCH) laid over a stored client.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

#define MH_TZ_NAME_MAX 64

static int mh_check_operator(struct json_object *, char *, size_t);
static int mh_check_tag(struct json_object *, char *, size_t);
static int mh_check_tags(struct json_object *, char *, size_t);
static int mh_check_tz(struct json_object *, char *, size_t);
static int mh_check_client_email(struct json_object *, char *, size_t);

/* The fields of a client, their JSON types, whether a new one must have
 * it, and its check. The phone is read when it is laid (mh_client_lay):
 * how depends on the region. */
static const struct mh_field mh_client_fields[] = {
	{ "phone", T_STR | MH_T(json_type_int), 1, NULL },
	{ "operator_code", T_STR, 0, mh_check_operator },
	{ "tag", T_STR, 0, mh_check_tag },
	{ "tags", T_ARR, 0, mh_check_tags },
	{ "timezone", T_STR, 1, mh_check_tz },
	{ "email", T_STR | T_NULL, 0, mh_check_client_email },
	{ "opted_out", T_BOOL, 0, NULL },
};
#define MH_CLIENT_NFIELDS (sizeof(mh_client_fields) / \
    sizeof(mh_client_fields[0]))

int
mh_client_phone_ok(const char *s)
{
	size_t len = strlen(s);

	return len >= 6 && len <= MH_PHONE_DIGITS_MAX && s[0] != '0' &&
	    strspn(s, "0123456789") == len;
}

int
mh_client_operator_ok(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= MH_OPERATOR_MAX &&
	    strspn(s, "0123456789") == len;
}

int
mh_client_tag_ok(const char *s)
{
	return !mh_has_control(s) && mh_utf8_chars(s) <= MH_CLIENT_TAG_MAX;
}

static int
mh_check_operator(struct json_object *v, char *why, size_t whylen)
{
	if (mh_client_operator_ok(json_object_get_string(v)))
		return 0;
	snprintf(why, whylen, "is one to %d digits", MH_OPERATOR_MAX);
	return -1;
}

static int
mh_check_tag(struct json_object *v, char *why, size_t whylen)
{
	if (mh_client_tag_ok(json_object_get_string(v)))
		return 0;
	snprintf(why, whylen, "is at most %d characters, none a control "
	    "character", MH_CLIENT_TAG_MAX);
	return -1;
}

static int
mh_check_tags(struct json_object *v, char *why, size_t whylen)
{
	size_t n = json_object_array_length(v);

	if (n > MH_CLIENT_TAGS_MAX) {
		snprintf(why, whylen, "holds at most %d tags", MH_CLIENT_TAGS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(v, i);

		if (!json_object_is_type(t, json_type_string) ||
		    json_object_get_string_len(t) == 0 ||
		    !mh_client_tag_ok(json_object_get_string(t))) {
			snprintf(why, whylen, "[%zu] is not a tag (a string of 1 "
			    "to %d characters, none a control character)", i,
			    MH_CLIENT_TAG_MAX);
			return -1;
		}
	}
	return 0;
}

/* Files of the tz database's folder that are no IANA time zone's name: the
 * system's own (localtime, posixrules), the placeholder Factory, and the
 * copies with leap seconds or POSIX rules (right/, posix/). */
static int
mh_tz_not_a_name(const char *name)
{
	static const char *const files[] = { "localtime", "posixrules",
	    "Factory", NULL };

	return mh_in_list(name, files) != NULL ||
	    strncmp(name, "right/", 6) == 0 || strncmp(name, "posix/", 6) == 0;
}

int
mh_tz_known(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	size_t len = strlen(name);
	FILE *f;
	int ok;

	if (len == 0 || len > MH_TZ_NAME_MAX || name[0] == '/' ||
	    mh_tz_not_a_name(name) ||
	    strstr(name, "..") != NULL || strspn(name, "ABCDEFGHIJKLMNOPQRSTU"
	    "VWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != len)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && *dir == '/' ? dir :
	    "/usr/share/zoneinfo", name);
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}

static int
mh_check_tz(struct json_object *v, char *why, size_t whylen)
{
	if (mh_tz_known(json_object_get_string(v)))
		return 0;
	snprintf(why, whylen, "is not a time zone of the tz database (an IANA "
	    "name such as Europe/Moscow): %.64s", json_object_get_string(v));
	return -1;
}

static int
mh_check_client_email(struct json_object *v, char *why, size_t whylen)
{
	if (mh_email_ok(json_object_get_string(v)))
		return 0;
	snprintf(why, whylen, "is not an email address");
	return -1;
}

/* Checks the fields of in (with all, the required ones there). */
static int
mh_client_check_fields(struct json_object *in, int all, char *why,
    size_t whylen)
{
	if (json_object_is_type(in, json_type_object))
		return mh_fields_check(in, mh_client_fields, MH_CLIENT_NFIELDS,
		    all, "a field of a client", "", why, whylen);
	snprintf(why, whylen, "a client is a JSON object");
	return -1;
}

/* The record of a client's object: its tags are one field of several
 * values (a client stored before it had tags has its tag). */
static int
mh_client_record(struct json_object *c, struct mh_record *out)
{
	struct json_object *tags = mh_json_get(c, "tags");
	const char *tag = mh_json_str(c, "tag");

	memset(out, 0, sizeof(*out));
	out->client.tag = tags != NULL ? mh_json_joined(tags, NULL) :
	    mh_strdup(tag != NULL ? tag : "");
	out->client.operator_code = mh_strdup(mh_json_str(c, "operator_code"));
	out->client.phone = mh_strdup(mh_json_str(c, "phone"));
	out->json = mh_strdup(mh_json_text(c));
	if (out->client.tag == NULL || out->client.operator_code == NULL ||
	    out->client.phone == NULL || out->json == NULL) {
		mh_record_free(out);
		return -1;
	}
	return 0;
}

/* Reads the phone of in (a string as typed, or a number of E.164 digits)
 * into c: its digits, region and type, and its operator code unless in
 * gives one. -1 with why when it is not a number in use. */
static int
mh_client_lay_phone(struct json_object *c, struct json_object *in,
    struct json_object *v, const struct mh_making *mk, char *why,
    size_t whylen)
{
	struct mh_phone ph;
	char text[MH_PHONE_TEXT_MAX + 1], inner[200];

	if (json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) <= 0) {
		snprintf(why, whylen, "phone is a positive number");
		return -1;
	}
	snprintf(text, sizeof(text), "%s", json_object_get_string(v));
	if (strlen(json_object_get_string(v)) > MH_PHONE_TEXT_MAX)
		text[0] = '\0';	/* refused as too long, below */
	if (mh_phone_parse(text, mk->region, &ph, inner, sizeof(inner)) != 0) {
		snprintf(why, whylen, "phone %s", inner);
		return -1;
	}
	mh_json_set_str(c, "phone", ph.digits);
	mh_json_set_str(c, "region", ph.region);
	mh_json_set_str(c, "phone_type", ph.type);
	if (!json_object_object_get_ex(in, "operator_code", NULL))
		mh_json_set_str(c, "operator_code", ph.ndc);
	return 0;
}

/* Lays the tags of in over c: tags as given (each once), or tag alone
 * (the seed's form) as the only one; tag is always the first. -1 with why
 * when both are given and tag is not the first of tags. */
static int
mh_client_lay_tags(struct json_object *c, struct json_object *in, char *why,
    size_t whylen)
{
	struct json_object *tags, *tag, *list;
	const char *first;

	if (json_object_object_get_ex(in, "tags", &tags)) {
		list = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(tags); i++) {
			struct json_object *t = json_object_array_get_idx(tags, i);

			if (!mh_json_list_has(list, json_object_get_string(t)))
				json_object_array_add(list, json_object_get(t));
		}
		first = json_object_array_length(list) > 0 ? json_object_get_string(
		    json_object_array_get_idx(list, 0)) : "";
		if (json_object_object_get_ex(in, "tag", &tag) &&
		    strcmp(json_object_get_string(tag), first) != 0) {
			json_object_put(list);
			snprintf(why, whylen, "tag is the first of tags: give one "
			    "or the other");
			return -1;
		}
		mh_json_set_str(c, "tag", first);
		json_object_object_add(c, "tags", list);
	} else if (json_object_object_get_ex(in, "tag", &tag)) {
		list = json_object_new_array();
		if (json_object_get_string_len(tag) > 0)
			json_object_array_add(list, json_object_get(tag));
		mh_json_set_str(c, "tag", json_object_get_string(tag));
		json_object_object_add(c, "tags", list);
	}
	return 0;
}

/* Lays the fields of in over c (a client's object), checked already as
 * fields; the phone is read here. -1 with why when it does not do. */
static int
mh_client_lay(struct json_object *c, struct json_object *in,
    const struct mh_making *mk, char *why, size_t whylen)
{
	struct json_object *v;
	char at[32];

	if (json_object_object_get_ex(in, "phone", &v) &&
	    mh_client_lay_phone(c, in, v, mk, why, whylen) != 0)
		return -1;
	mh_json_copy(c, "operator_code", in, "operator_code", 0);
	if (mh_client_lay_tags(c, in, why, whylen) != 0)
		return -1;
	mh_json_copy(c, "timezone", in, "timezone", 0);
	if (json_object_object_get_ex(in, "email", NULL))
		mh_json_copy(c, "email", in, "email", 1);
	if (json_object_object_get_ex(in, "opted_out", &v) &&
	    json_object_get_boolean(v) != mh_client_opted_out(c)) {
		json_object_object_add(c, "opted_out",
		    json_object_new_boolean(json_object_get_boolean(v)));
		mh_iso_from_ms(mk->now_ms, at);
		mh_json_set_str(c, "opted_out_at", json_object_get_boolean(v) ?
		    at : NULL);
	}
	mh_iso_from_ms(mk->now_ms, at);
	mh_json_set_str(c, "updated_at", at);
	return 0;
}

int
mh_client_opted_out(struct json_object *client)
{
	struct json_object *v = mh_json_get(client, "opted_out");

	return v != NULL && json_object_get_boolean(v);
}

/* The record of c laid over with in, into *out (c is put). */
static int
mh_client_finish(struct json_object *c, struct json_object *in,
    const struct mh_making *mk, struct mh_record *out, char *why,
    size_t whylen)
{
	int ret = -1;

	if (mh_client_lay(c, in, mk, why, whylen) != 0)
		goto out;
	if ((ret = mh_client_record(c, out)) != 0)
		snprintf(why, whylen, "out of memory");
out:
	json_object_put(c);
	return ret;
}

int
mh_client_make(struct json_object *in, const struct mh_making *mk,
    struct mh_record *out, char *why, size_t whylen)
{
	static const char *const order[] = { "phone", "region", "phone_type",
	    "operator_code", "tag", "tags", "timezone", "email", NULL };
	struct json_object *c;
	char at[32];

	memset(out, 0, sizeof(*out));
	if (mh_client_check_fields(in, 1, why, whylen) != 0)
		return -1;
	/* The keys in the order a person reads them. */
	c = json_object_new_object();
	for (size_t i = 0; order[i] != NULL; i++)
		mh_json_set_str(c, order[i], NULL);
	mh_json_set_str(c, "tag", "");
	json_object_object_add(c, "tags", json_object_new_array());
	json_object_object_add(c, "opted_out", json_object_new_boolean(0));
	mh_json_set_str(c, "opted_out_at", NULL);
	mh_iso_from_ms(mk->now_ms, at);
	mh_json_set_str(c, "created_at", at);
	return mh_client_finish(c, in, mk, out, why, whylen);
}

int
mh_client_patch(const char *json, struct json_object *in,
    const struct mh_making *mk, struct mh_record *out, char *why,
    size_t whylen)
{
	struct json_object *c;

	memset(out, 0, sizeof(*out));
	if (mh_client_check_fields(in, 0, why, whylen) != 0)
		return -1;
	if ((c = json_tokener_parse(json)) == NULL) {
		snprintf(why, whylen, "the stored client is unreadable");
		return -1;
	}
	return mh_client_finish(c, in, mk, out, why, whylen);
}

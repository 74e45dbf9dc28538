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

#define MH_CLIENT_TAG_MAX 64
#define MH_TZ_NAME_MAX 64

static int mh_check_phone(struct json_object *, char *, size_t);
static int mh_check_operator(struct json_object *, char *, size_t);
static int mh_check_tag(struct json_object *, char *, size_t);
static int mh_check_tz(struct json_object *, char *, size_t);
static int mh_check_client_email(struct json_object *, char *, size_t);

/* The fields of a client, their JSON types, whether a new one must have
 * it, and its check. */
static const struct mh_field mh_client_fields[] = {
	{ "phone", T_STR | MH_T(json_type_int), 1, mh_check_phone },
	{ "operator_code", T_STR, 0, mh_check_operator },
	{ "tag", T_STR, 0, mh_check_tag },
	{ "timezone", T_STR, 1, mh_check_tz },
	{ "email", T_STR | T_NULL, 0, mh_check_client_email },
};
#define MH_CLIENT_NFIELDS (sizeof(mh_client_fields) / \
    sizeof(mh_client_fields[0]))

/* The phone as text: 7 and ten digits, from a string or a number. */
static int
mh_phone_text(struct json_object *v, char out[16])
{
	if (json_object_is_type(v, json_type_int))
		snprintf(out, 16, "%lld", (long long)json_object_get_int64(v));
	else
		snprintf(out, 16, "%.15s", json_object_get_string(v));
	return strlen(out) == 11 && out[0] == '7' &&
	    strspn(out, "0123456789") == 11 && (json_object_is_type(v,
	    json_type_int) || json_object_get_string_len(v) == 11) ? 0 : -1;
}

int
mh_client_phone_ok(const char *s)
{
	return strlen(s) == 11 && s[0] == '7' &&
	    strspn(s, "0123456789") == 11;
}

int
mh_client_operator_ok(const char *s)
{
	return strlen(s) == 3 && strspn(s, "0123456789") == 3;
}

static int
mh_check_phone(struct json_object *v, char *why, size_t whylen)
{
	char phone[16];

	if (mh_phone_text(v, phone) == 0)
		return 0;
	snprintf(why, whylen, "is 7 and ten digits (7XXXXXXXXXX)");
	return -1;
}

static int
mh_check_operator(struct json_object *v, char *why, size_t whylen)
{
	if (mh_client_operator_ok(json_object_get_string(v)))
		return 0;
	snprintf(why, whylen, "is three digits");
	return -1;
}

static int
mh_check_tag(struct json_object *v, char *why, size_t whylen)
{
	const char *s = json_object_get_string(v);
	size_t chars = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "holds a control character");
			return -1;
		}
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	}
	if (chars <= MH_CLIENT_TAG_MAX)
		return 0;
	snprintf(why, whylen, "is at most %d characters", MH_CLIENT_TAG_MAX);
	return -1;
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

/* The record of a client's object. */
static int
mh_client_record(struct json_object *c, struct mh_record *out)
{
	memset(out, 0, sizeof(*out));
	out->client.tag = mh_strdup(mh_json_str(c, "tag"));
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

/* Lays the fields of in over c (a client's object), checked already. */
static void
mh_client_lay(struct json_object *c, struct json_object *in)
{
	char phone[16];
	struct json_object *v;

	if (json_object_object_get_ex(in, "phone", &v) &&
	    mh_phone_text(v, phone) == 0) {
		mh_json_set_str(c, "phone", phone);
		/* The operator follows the phone unless given. */
		if (!json_object_object_get_ex(in, "operator_code", NULL)) {
			phone[4] = '\0';
			mh_json_set_str(c, "operator_code", phone + 1);
		}
	}
	mh_json_copy(c, "operator_code", in, "operator_code", 0);
	mh_json_copy(c, "tag", in, "tag", 0);
	mh_json_copy(c, "timezone", in, "timezone", 0);
	if (json_object_object_get_ex(in, "email", NULL))
		mh_json_copy(c, "email", in, "email", 1);
}

int
mh_client_make(struct json_object *in, int64_t now_ms, struct mh_record *out,
    char *why, size_t whylen)
{
	struct json_object *c;
	char at[32];
	int ret;

	memset(out, 0, sizeof(*out));
	if (mh_client_check_fields(in, 1, why, whylen) != 0)
		return -1;
	c = json_object_new_object();
	mh_json_set_str(c, "tag", "");
	mh_json_set_str(c, "email", NULL);
	mh_client_lay(c, in);
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(c, "created_at", at);
	mh_json_set_str(c, "updated_at", at);
	if ((ret = mh_client_record(c, out)) != 0)
		snprintf(why, whylen, "out of memory");
	json_object_put(c);
	return ret;
}

int
mh_client_patch(const char *json, struct json_object *in, int64_t now_ms,
    struct mh_record *out, char *why, size_t whylen)
{
	struct json_object *c;
	char at[32];
	int ret;

	memset(out, 0, sizeof(*out));
	if (mh_client_check_fields(in, 0, why, whylen) != 0)
		return -1;
	if ((c = json_tokener_parse(json)) == NULL) {
		snprintf(why, whylen, "the stored client is unreadable");
		return -1;
	}
	mh_client_lay(c, in);
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(c, "updated_at", at);
	if ((ret = mh_client_record(c, out)) != 0)
		snprintf(why, whylen, "out of memory");
	json_object_put(c);
	return ret;
}

/*
 * A mail to send, checked and made into its outbox record, pure: the
 * parts of Mandrill's message a client may send, declared as a table;
 * each part's own check; the record (mail_state.c keeps it after).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

#define MH_MAIL_TEXT_MAX 998	/* a header line (RFC 5322 2.1.1) */
#define MH_MAIL_TAG_MAX 50	/* Mandrill's */
#define MH_MAIL_TAGS_MAX 50
#define MH_MAIL_HEADERS_MAX 100
#define MH_MAIL_METADATA_MAX 1024	/* Mandrill keeps 1 KiB */
#define MH_MAIL_SEND_AT_MAX (366LL * 86400 * 1000)

static int mh_check_line(struct json_object *, char *, size_t);
static int mh_check_email(struct json_object *, char *, size_t);
static int mh_check_to(struct json_object *, char *, size_t);
static int mh_check_headers(struct json_object *, char *, size_t);
static int mh_check_tags(struct json_object *, char *, size_t);
static int mh_check_metadata(struct json_object *, char *, size_t);

/* The parts of a message, their JSON types, whether one must be there,
 * and the check of its value (NULL: its type is enough). */
static const struct mh_field mh_mail_parts[] = {
	{ "subject", T_STR, 0, mh_check_line },
	{ "from_email", T_STR, 1, mh_check_email },
	{ "from_name", T_STR | T_NULL, 0, mh_check_line },
	{ "to", T_ARR, 1, mh_check_to },
	{ "html", T_STR | T_NULL, 0, NULL },
	{ "text", T_STR | T_NULL, 0, NULL },
	{ "headers", T_OBJ | T_NULL, 0, mh_check_headers },
	{ "track_opens", T_BOOL | T_NULL, 0, NULL },
	{ "track_clicks", T_BOOL | T_NULL, 0, NULL },
	{ "tags", T_ARR | T_NULL, 0, mh_check_tags },
	{ "metadata", T_OBJ | T_NULL, 0, mh_check_metadata },
	{ "send_at", T_STR | T_NULL, 0, NULL },
};
#define MH_MAIL_NPARTS (sizeof(mh_mail_parts) / sizeof(mh_mail_parts[0]))

/* A recipient's parts, checked the same way. */
static const struct mh_field mh_rcpt_parts[] = {
	{ "email", T_STR, 1, mh_check_email },
	{ "name", T_STR | T_NULL, 0, mh_check_line },
	{ "type", T_STR | T_NULL, 0, NULL },
};
#define MH_RCPT_NPARTS (sizeof(mh_rcpt_parts) / sizeof(mh_rcpt_parts[0]))

static const char *const mh_rcpt_types[] = { "to", "cc", "bcc", NULL };

/* One line of a header: no CR, LF or other control character. */
static int
mh_check_line(struct json_object *v, char *why, size_t whylen)
{
	const char *s = json_object_get_string(v);

	if (v == NULL)
		return 0;
	if (mh_has_control(s) || strlen(s) > MH_MAIL_TEXT_MAX) {
		snprintf(why, whylen, "is at most %d bytes on one line: no CR, LF "
		    "or other control character", MH_MAIL_TEXT_MAX);
		return -1;
	}
	return 0;
}

int
mh_mail_status_ok(const char *s)
{
	return mh_in_list(s, mh_mail_statuses) != NULL;
}

int
mh_recipient_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	return n >= 3 && n <= MH_RECIPIENT_MAX && at != NULL && at != s &&
	    at[1] != '\0';
}

int
mh_email_ok(const char *s)
{
	const char *at = strrchr(s, '@'), *p, *label;
	size_t len = strlen(s);

	if (at == NULL || at == s || len > 254 || at - s > 64)
		return 0;
	for (p = s; p < at; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-/=?^_`{|}~.", *p) == NULL)
			return 0;
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	/* The domain: labels of letters, digits and inner hyphens, at least
	 * two, the last not all digits. */
	for (label = p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || p - label > 63 || label[0] == '-' ||
			    p[-1] == '-')
				return 0;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	}
	return label != at + 1 && strspn(label, "0123456789") != strlen(label);
}

static int
mh_check_email(struct json_object *v, char *why, size_t whylen)
{
	if (mh_email_ok(json_object_get_string(v)))
		return 0;
	snprintf(why, whylen, "is not an email address: %.100s",
	    json_object_get_string(v));
	return -1;
}

/* Checks o's parts against the table; why names the part, led by where. */
static int
mh_check_parts(struct json_object *o, const struct mh_field *parts,
    size_t nparts, const char *where, char *why, size_t whylen)
{
	return mh_fields_check(o, parts, nparts, 1, "a part of a mail this "
	    "API sends", where, why, whylen);
}

static int
mh_check_to(struct json_object *v, char *why, size_t whylen)
{
	size_t n = json_object_array_length(v);
	char where[32];

	if (n == 0 || n > MH_MAIL_TO_MAX) {
		snprintf(why, whylen, "holds 1 to %d recipients, not %zu",
		    MH_MAIL_TO_MAX, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(v, i);
		const char *type;

		snprintf(where, sizeof(where), "[%zu].", i);
		if (!json_object_is_type(r, json_type_object)) {
			snprintf(why, whylen, "[%zu] is not an object {email, "
			    "name, type}", i);
			return -1;
		}
		if (mh_check_parts(r, mh_rcpt_parts, MH_RCPT_NPARTS, where, why,
		    whylen) != 0)
			return -1;
		type = mh_json_str(r, "type");
		if (type != NULL && mh_in_list(type, mh_rcpt_types) == NULL) {
			snprintf(why, whylen, "[%zu].type is to, cc or bcc", i);
			return -1;
		}
	}
	return 0;
}

/* A header's name: RFC 5322's printable characters but the colon. */
static int
mh_header_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 76)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return 0;
	return 1;
}

static int
mh_check_headers(struct json_object *v, char *why, size_t whylen)
{
	if (json_object_object_length(v) > MH_MAIL_HEADERS_MAX) {
		snprintf(why, whylen, "holds at most %d", MH_MAIL_HEADERS_MAX);
		return -1;
	}
	json_object_object_foreach(v, key, val) {
		if (!mh_header_name_ok(key)) {
			snprintf(why, whylen, "has a name that is not one: %.80s",
			    key);
			return -1;
		}
		if (!json_object_is_type(val, json_type_string) ||
		    mh_check_line(val, why, whylen) != 0) {
			snprintf(why, whylen, "%.80s is a string on one line (no "
			    "CR or LF)", key);
			return -1;
		}
	}
	return 0;
}

static int
mh_check_tags(struct json_object *v, char *why, size_t whylen)
{
	size_t n = json_object_array_length(v);

	if (n > MH_MAIL_TAGS_MAX) {
		snprintf(why, whylen, "holds at most %d", MH_MAIL_TAGS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(t);

		if (!json_object_is_type(t, json_type_string) || *s == '\0' ||
		    *s == '_' || strlen(s) > MH_MAIL_TAG_MAX || mh_has_control(s)) {
			snprintf(why, whylen, "[%zu] is a string of 1 to %d "
			    "bytes, not starting with _ (Mandrill keeps those)",
			    i, MH_MAIL_TAG_MAX);
			return -1;
		}
	}
	return 0;
}

static int
mh_check_metadata(struct json_object *v, char *why, size_t whylen)
{
	json_object_object_foreach(v, key, val) {
		(void)key;
		if (!json_object_is_type(val, json_type_string)) {
			snprintf(why, whylen, "holds strings only");
			return -1;
		}
	}
	if (strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) >
	    MH_MAIL_METADATA_MAX) {
		snprintf(why, whylen, "is at most %d bytes of JSON",
		    MH_MAIL_METADATA_MAX);
		return -1;
	}
	return 0;
}

/* send_at into *due_ms (now when absent): -1 with why when it is not a
 * time to come within a year. */
static int
mh_send_at(struct json_object *in, int64_t now_ms, int64_t *due_ms, char *why,
    size_t whylen)
{
	const char *s = mh_json_str(in, "send_at");
	int64_t t;

	*due_ms = now_ms;
	if (s == NULL)
		return 0;
	if (mh_iso_time(s, &t) != 0) {
		snprintf(why, whylen, "send_at is not an ISO 8601 time: %.64s", s);
		return -1;
	}
	if (t * 1000 <= now_ms || t * 1000 - now_ms > MH_MAIL_SEND_AT_MAX) {
		snprintf(why, whylen, "send_at is a time to come, within a year: "
		    "%.64s", s);
		return -1;
	}
	*due_ms = t * 1000;
	return 0;
}

int
mh_mail_check(struct json_object *in, int64_t now_ms, int64_t *due_ms,
    char *why, size_t whylen)
{
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(why, whylen, "a mail is a JSON object");
		return -1;
	}
	if (mh_check_parts(in, mh_mail_parts, MH_MAIL_NPARTS, "", why,
	    whylen) != 0)
		return -1;
	if (mh_json_str(in, "html") == NULL && mh_json_str(in, "text") == NULL) {
		snprintf(why, whylen, "html or text is required");
		return -1;
	}
	return mh_send_at(in, now_ms, due_ms, why, whylen);
}

struct json_object *
mh_mail_to_one(const char *to, const char *subject, const char *text)
{
	struct json_object *m = json_object_new_object(), *list, *rcpt;

	rcpt = json_object_new_object();
	mh_json_set_str(rcpt, "email", to);
	list = json_object_new_array();
	json_object_array_add(list, rcpt);
	json_object_object_add(m, "to", list);
	mh_json_set_str(m, "subject", subject);
	mh_json_set_str(m, "text", text);
	return m;
}

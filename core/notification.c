/*
 * A notification, checked and made into the stored record, pure: the
 * fields a client may send, declared as a table; the record's header
 * fields (user_id, identifier, user_id again while unread); and the
 * change that marks one read or unread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

/* The fields a notification may have, their JSON types, whether it must,
 * and at most how long (characters for text, bytes of JSON for data). */
static const struct mh_nt_field {
	const char *name;
	unsigned types;
	int required;
	size_t max;
} mh_nt_fields[] = {
	{ "user_id", T_STR | MH_T(json_type_int), 1, MH_NT_USER_MAX },
	{ "title", T_STR, 1, 200 },
	{ "description", T_STR | T_NULL, 0, 2000 },
	{ "identifier", T_STR, 1, 64 },
	{ "link", T_STR | T_NULL, 0, 2048 },
	{ "data", T_OBJ | T_NULL, 0, 4096 },
};
#define MH_NT_NFIELDS (sizeof(mh_nt_fields) / sizeof(mh_nt_fields[0]))

/* Whether a link is an http(s) URL or a path on this site. */
static int
mh_link_ok(const char *s)
{
	if (strchr(s, ' ') != NULL || mh_has_control(s))
		return 0;
	if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)
		return strlen(s) > 8;
	return s[0] == '/' && s[1] != '/' && s[1] != '\\';
}

/* Checks one field's value; -1 with why. */
static int
mh_nt_check(const struct mh_nt_field *f, struct json_object *v, char *why,
    size_t whylen)
{
	const char *s = json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;

	if (!(f->types & MH_T(json_object_get_type(v)))) {
		snprintf(why, whylen, "%s is a %s, not a %s", f->name,
		    (f->types & T_OBJ) ? "JSON object" : "string",
		    mh_type_name(json_object_get_type(v)));
		return -1;
	}
	if (s != NULL && (mh_utf8_chars(s) > f->max || (f->required && *s == '\0'))) {
		snprintf(why, whylen, "%s is 1 to %zu characters", f->name,
		    f->max);
		return -1;
	}
	if ((f->types & T_OBJ) && v != NULL &&
	    strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) >
	    f->max) {
		snprintf(why, whylen, "%s is at most %zu bytes of JSON", f->name,
		    f->max);
		return -1;
	}
	return 0;
}

int
mh_notification_user(struct json_object *v, char out[MH_NT_USER_MAX + 1])
{
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_string))
		return -1;
	if (json_object_is_type(v, json_type_int))
		snprintf(out, MH_NT_USER_MAX + 1, "%lld",
		    (long long)json_object_get_int64(v));
	else
		snprintf(out, MH_NT_USER_MAX + 1, "%s", json_object_get_string(v));
	return *out != '\0' && strlen(out) <= MH_NT_USER_MAX &&
	    !mh_has_control(out) ? 0 : -1;
}

/* Checks every field of in; -1 with why. */
static int
mh_nt_check_all(struct json_object *in, char *why, size_t whylen)
{
	size_t i;

	json_object_object_foreach(in, key, val) {
		(void)val;
		for (i = 0; i < MH_NT_NFIELDS; i++)
			if (strcmp(key, mh_nt_fields[i].name) == 0)
				break;
		if (i == MH_NT_NFIELDS) {
			snprintf(why, whylen, "%.64s is not a field of a "
			    "notification", key);
			return -1;
		}
	}
	for (i = 0; i < MH_NT_NFIELDS; i++) {
		struct json_object *v = mh_json_get(in, mh_nt_fields[i].name);

		if (v == NULL && !json_object_object_get_ex(in,
		    mh_nt_fields[i].name, NULL)) {
			if (mh_nt_fields[i].required) {
				snprintf(why, whylen, "%s is required",
				    mh_nt_fields[i].name);
				return -1;
			}
			continue;
		}
		if (mh_nt_check(&mh_nt_fields[i], v, why, whylen) != 0)
			return -1;
	}
	return 0;
}

int
mh_notification_make(struct json_object *in, int64_t now_ms,
    struct mh_record *out, char *why, size_t whylen)
{
	char user[MH_NT_USER_MAX + 1], at[32];
	const char *ident;
	struct json_object *o;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(why, whylen, "a notification is a JSON object");
		return -1;
	}
	if (mh_nt_check_all(in, why, whylen) != 0)
		return -1;
	if (mh_notification_user(mh_json_get(in, "user_id"), user) != 0) {
		snprintf(why, whylen, "user_id is 1 to %d bytes, no control "
		    "character", MH_NT_USER_MAX);
		return -1;
	}
	ident = mh_json_str(in, "identifier");
	if (strspn(ident, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.:-") != strlen(ident)) {
		snprintf(why, whylen, "identifier is letters, digits and _.:-");
		return -1;
	}
	if (mh_json_str(in, "link") != NULL &&
	    !mh_link_ok(mh_json_str(in, "link"))) {
		snprintf(why, whylen, "link is an http(s) URL or a path on this "
		    "site");
		return -1;
	}
	mh_iso_from_ms(now_ms, at);
	o = json_object_new_object();
	mh_json_set_str(o, "user_id", user);
	mh_json_set_str(o, "identifier", ident);
	mh_json_copy(o, "title", in, "title", 1);
	mh_json_copy(o, "description", in, "description", 1);
	mh_json_copy(o, "link", in, "link", 1);
	mh_json_copy(o, "data", in, "data", 1);
	mh_json_set_str(o, "created_at", at);
	mh_json_set_str(o, "read_at", NULL);
	out->json = mh_strdup(mh_json_text(o));
	out->notification.user = mh_strdup(user);
	out->notification.identifier = mh_strdup(ident);
	out->notification.unread_user = mh_strdup(user);
	json_object_put(o);
	if (out->json == NULL || out->notification.user == NULL ||
	    out->notification.identifier == NULL ||
	    out->notification.unread_user == NULL) {
		mh_record_free(out);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

int
mh_notification_mark(const union mh_fields_ref *f, const char *json,
    int read, int64_t now_ms, struct mh_record *out)
{
	struct json_object *o = json_tokener_parse(json);
	char at[32];

	memset(out, 0, sizeof(*out));
	if (o == NULL)
		return -1;
	/* Read once stays read at its first time. */
	if (read && mh_json_str(o, "read_at") == NULL) {
		mh_iso_from_ms(now_ms, at);
		mh_json_set_str(o, "read_at", at);
	} else if (!read)
		mh_json_set_str(o, "read_at", NULL);
	out->json = mh_strdup(mh_json_text(o));
	out->notification.user = mh_strdup(f->notification.user);
	out->notification.identifier = mh_strdup(f->notification.identifier);
	out->notification.unread_user = mh_strdup(read ? "" :
	    f->notification.user);
	json_object_put(o);
	if (out->json == NULL || out->notification.user == NULL ||
	    out->notification.identifier == NULL ||
	    out->notification.unread_user == NULL) {
		mh_record_free(out);
		return -1;
	}
	return 0;
}

int
mh_notification_names(void *ctx, const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	const char *email = mh_json_str(mh_json_get(o, "data"), "email");
	int names = email != NULL && strcasecmp(email, ctx) == 0;

	json_object_put(o);
	return names;
}

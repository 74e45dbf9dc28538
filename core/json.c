/*
 * Strict JSON in, compact JSON out. Webhook bodies are untrusted: whatever
 * is not JSON by its RFC (json_check.c: NaN, Infinity, \u0000, invalid
 * UTF-8, trailing garbage, NUL bytes) or is nested too deep is refused
 * here, once, for every caller. And the few accessors every caller shares.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

/* Deep enough for any provider's payload, shallow enough for the stack. */
#define MH_JSON_MAX_DEPTH 32

struct json_object *
mh_json_parse(const char *text, size_t len, char *detail, size_t detail_len)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	size_t end;

	if (len > INT_MAX) {
		snprintf(detail, detail_len, "JSON is too large");
		return NULL;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(detail, detail_len, "JSON holds a NUL byte");
		return NULL;
	}
	if (mh_json_check(text, len, MH_JSON_MAX_DEPTH, detail,
	    detail_len) != 0)
		return NULL;
	if ((tok = json_tokener_new_ex(MH_JSON_MAX_DEPTH)) == NULL) {
		snprintf(detail, detail_len, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL && err == json_tokener_continue) {
		/* A bare number at the end of input is complete only once the
		 * tokener is told there is no more. */
		obj = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
		if (obj == NULL) {
			snprintf(detail, detail_len, "JSON is truncated: it ends "
			    "inside a value at byte %zu", len);
			json_tokener_free(tok);
			return NULL;
		}
	}
	if (obj == NULL) {
		snprintf(detail, detail_len, "invalid JSON at byte %zu: %s",
		    end, json_tokener_error_desc(err));
	} else if (end < len) {
		while (end < len && strchr(" \t\r\n", text[end]) != NULL)
			end++;
		if (end < len) {
			snprintf(detail, detail_len,
			    "invalid JSON: unexpected data at byte %zu", end);
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

const char *
mh_json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

struct json_object *
mh_json_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *
mh_json_str(struct json_object *o, const char *key)
{
	struct json_object *v = mh_json_get(o, key);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

int64_t
mh_json_int(struct json_object *o, const char *key)
{
	struct json_object *v = mh_json_get(o, key);

	return v != NULL ? json_object_get_int64(v) : 0;
}

void
mh_json_set_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

void
mh_json_copy(struct json_object *to, const char *to_key,
    struct json_object *from, const char *key, int or_null)
{
	struct json_object *v = mh_json_get(from, key);

	if (v != NULL)
		json_object_object_add(to, to_key, json_object_get(v));
	else if (or_null)
		json_object_object_add(to, to_key, NULL);
}

const char *
mh_json_stored(const char *json, size_t *len, uint64_t id, char buf[64])
{
	char why[8];

	if (mh_json_check(json, *len, MH_JSON_MAX_DEPTH * 2, why,
	    sizeof(why)) == 0)
		return json;
	*len = (size_t)snprintf(buf, 64, "{\"unreadable_record\":%" PRIu64 "}",
	    id);
	return buf;
}

char *
mh_json_scalar(struct json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return mh_strndup(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double))
		return mh_strdup(json_object_to_json_string_ext(v,
		    JSON_C_TO_STRING_PLAIN));
	return mh_strdup("");
}

char *
mh_record_answer(void *ctx, uint64_t first, size_t n)
{
	struct mh_added *added = ctx;
	const struct mh_record *rec = added->rec;
	size_t len = strlen(rec->json) + 32;
	char *text = mh_malloc(len);

	(void)n;
	added->id = first;
	if (text != NULL)
		snprintf(text, len, "{\"id\":%" PRIu64 "%s%s", first,
		    strcmp(rec->json, "{}") == 0 ? "" : ",", rec->json + 1);
	return text;
}

char *
mh_json_joined(struct json_object *list, const char *key)
{
	size_t n = list != NULL ? json_object_array_length(list) : 0, len = 1;
	char *s, *p;

	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(list, i);
		const char *t = key != NULL ? mh_json_str(v, key) :
		    json_object_get_string(v);

		len += (t != NULL ? strlen(t) : 0) + 1;
	}
	if ((s = p = mh_malloc(len)) == NULL)
		return NULL;
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(list, i);
		const char *t = key != NULL ? mh_json_str(v, key) :
		    json_object_get_string(v);
		size_t tl = t != NULL ? strlen(t) : 0;

		if (p != s)
			*p++ = MH_VALUE_SEP;
		memcpy(p, t != NULL ? t : "", tl);
		p += tl;
	}
	*p = '\0';
	return s;
}

int
mh_json_list_has(struct json_object *list, const char *s)
{
	size_t n = list != NULL && json_object_is_type(list, json_type_array) ?
	    json_object_array_length(list) : 0;

	for (size_t i = 0; s != NULL && i < n; i++) {
		const char *v = json_object_get_string(
		    json_object_array_get_idx(list, i));

		if (v != NULL && strcmp(v, s) == 0)
			return 1;
	}
	return 0;
}

/*
 * Strict JSON in, compact JSON out. Webhook bodies are untrusted: invalid
 * UTF-8, trailing garbage, NUL bytes and deep nesting are refused here, once,
 * for every caller.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

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

void
mh_now_iso(char out[32])
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);

	snprintf(out + n, 32 - n, ".%03dZ", (int)(tv.tv_usec / 1000) % 1000);
}

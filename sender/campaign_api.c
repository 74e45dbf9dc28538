/*
 * The campaigns' external API, pure: POST {CAMPAIGN_API_URL}/send/{id}
 * with {"id", "phone" (a number), "text"}, and what an answer means. Only
 * HTTP 200 with {"code": 0, ...} is success; what may pass (timeouts,
 * connection errors, 5xx, 429, a 200 whose object has another code) is
 * tried again; a 200 it cannot have meant (not JSON, cut off) is possibly
 * sent, never sent again; any other answer is final.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sender.h"

char *
mh_capi_request(uint64_t id, const char *phone, const char *text)
{
	struct json_object *o = json_object_new_object();
	char *body;

	json_object_object_add(o, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(o, "phone", json_object_new_int64(
	    strtoll(phone != NULL ? phone : "0", NULL, 10)));
	json_object_object_add(o, "text", json_object_new_string(text));
	body = mh_strdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return body;
}

/* The code of a 200's body, when it is the API's shape (an object with a
 * whole-number code) into *code; -1 when it is not. */
static int
mh_capi_code(const struct mh_http_answer *a, int64_t *code)
{
	struct json_object *o, *c;
	int ret = -1;

	if (a->body == NULL || a->too_long ||
	    (o = json_tokener_parse(a->body)) == NULL)
		return -1;
	if (json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "code", &c) &&
	    json_object_is_type(c, json_type_int)) {
		*code = json_object_get_int64(c);
		ret = 0;
	}
	json_object_put(o);
	return ret;
}

/* The body's start, printable, for an error. */
static void
mh_capi_excerpt(const struct mh_http_answer *a, char *out, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; a->body != NULL && i < a->body_len && n + 1 < len &&
	    i < 80; i++)
		out[n++] = a->body[i] >= 0x20 && a->body[i] < 0x7f ?
		    a->body[i] : '.';
	out[n] = '\0';
}

enum mh_send_outcome
mh_capi_answer(const struct mh_http_answer *a, char *error, size_t len)
{
	char excerpt[96];
	int64_t code;

	error[0] = '\0';
	if (a->transport != CURLE_OK) {
		snprintf(error, len, "%s%s", a->status == 200 ? "HTTP 200, "
		    "then " : "", a->error[0] ? a->error :
		    curl_easy_strerror((CURLcode)a->transport));
		/* The API took it, then the answer broke off. */
		return a->status == 200 ? MH_OUT_POSSIBLY_SENT : MH_OUT_RETRY;
	}
	if (a->status == 200) {
		int shaped = mh_capi_code(a, &code) == 0;

		if (shaped && code == 0)
			return MH_OUT_SENT;
		mh_capi_excerpt(a, excerpt, sizeof(excerpt));
		snprintf(error, len, "HTTP 200 without {\"code\": 0}: %s",
		    excerpt[0] ? excerpt : "(empty)");
		/* An answer it gave (another code) is its word that nothing
		 * went out; one it could not have meant is not. */
		return shaped ? MH_OUT_RETRY : MH_OUT_POSSIBLY_SENT;
	}
	mh_capi_excerpt(a, excerpt, sizeof(excerpt));
	snprintf(error, len, "HTTP %ld%s%s", a->status, excerpt[0] ? ": " : "",
	    excerpt);
	if (a->status == 429 || a->status >= 500 || a->status < 300)
		return MH_OUT_RETRY;
	if (a->status < 400)
		snprintf(error, len, "HTTP %ld: redirected to %.200s (not "
		    "followed: set CAMPAIGN_API_URL to where it is)", a->status,
		    a->location);
	return MH_OUT_FINAL;
}

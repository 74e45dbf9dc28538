/*
 * Every answer is JSON; every error is {"error": CODE, "detail": TEXT}.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

static const char *
mh_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/* Writes the status line and headers; -1 when the client is gone. */
static int
mh_respond_head(struct mh_request *r, int status, const char *ctype)
{
	char head[1024];
	int n;

	r->status = status;
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s%s%s"
	    "%s%s%s%s%s%s%s%s"
	    "\r\n", status, mh_reason(status), ctype,
	    r->id[0] ? "X-Request-Id: " : "", r->id, r->id[0] ? "\r\n" : "",
	    status == 503 ? "Retry-After: 5\r\n" : "",
	    status == 405 && r->allow[0] ? "Allow: " : "",
	    status == 405 && r->allow[0] ? r->allow : "",
	    status == 405 && r->allow[0] ? "\r\n" : "",
	    status == 401 && r->auth_challenge ? "WWW-Authenticate: " : "",
	    status == 401 && r->auth_challenge ? r->auth_challenge : "",
	    status == 401 && r->auth_challenge ? "\r\n" : "", r->headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	return mh_write(r, head, (size_t)n);
}

int
mh_respond_start(struct mh_request *r, int status, const char *ctype)
{
	return mh_respond_head(r, status, ctype);
}

void
mh_respond_body(struct mh_request *r, int status, const char *ctype,
    const char *body, size_t len)
{
	if (mh_respond_head(r, status, ctype) == 0 &&
	    r->verb != MH_HEAD)
		mh_write(r, body, len);
}

void
mh_respond_json(struct mh_request *r, int status, const char *json)
{
	if (mh_respond_head(r, status, "application/json") == 0 &&
	    r->verb != MH_HEAD) {
		mh_write(r, json, strlen(json));
		mh_write(r, "\n", 1);
	}
}

/* A bad request's outcome is BAD_INPUT only for what a webhook's body can
 * be refused for; the API's refusals are OTHER. */
const struct mh_error_def mh_errors[MH_ERR_COUNT] = {
	[MH_ERR_BAD_BODY] = { 400, "bad_body", MH_OUTCOME_BAD_INPUT },
	[MH_ERR_BAD_CALLBACK] = { 400, "bad_callback", MH_OUTCOME_BAD_INPUT },
	[MH_ERR_BAD_CAMPAIGN] = { 400, "bad_campaign", MH_OUTCOME_OTHER },
	[MH_ERR_BAD_CLIENT] = { 400, "bad_client", MH_OUTCOME_OTHER },
	[MH_ERR_BAD_EVENTS] = { 400, "bad_events", MH_OUTCOME_BAD_INPUT },
	[MH_ERR_BAD_FORM] = { 400, "bad_form", MH_OUTCOME_BAD_INPUT },
	[MH_ERR_BAD_MAIL] = { 400, "bad_mail", MH_OUTCOME_OTHER },
	[MH_ERR_BAD_NOTIFICATION] = { 400, "bad_notification",
	    MH_OUTCOME_OTHER },
	[MH_ERR_BAD_PARAMETER] = { 400, "bad_parameter", MH_OUTCOME_OTHER },
	[MH_ERR_BAD_PATH] = { 400, "bad_path", MH_OUTCOME_BAD_INPUT },
	[MH_ERR_BAD_REQUEST] = { 400, "bad_request", MH_OUTCOME_OTHER },
	[MH_ERR_UNAUTHORIZED] = { 401, "unauthorized",
	    MH_OUTCOME_UNAUTHORIZED },
	[MH_ERR_BAD_SIGNATURE] = { 403, "bad_signature",
	    MH_OUTCOME_BAD_SIGNATURE },
	[MH_ERR_FORBIDDEN] = { 403, "forbidden", MH_OUTCOME_OTHER },
	[MH_ERR_NOT_FOUND] = { 404, "not_found", MH_OUTCOME_OTHER },
	[MH_ERR_METHOD_NOT_ALLOWED] = { 405, "method_not_allowed",
	    MH_OUTCOME_NOT_ALLOWED },
	[MH_ERR_DELETED] = { 409, "deleted", MH_OUTCOME_OTHER },
	[MH_ERR_EXISTS] = { 409, "exists", MH_OUTCOME_OTHER },
	[MH_ERR_NOT_CANCELLABLE] = { 409, "not_cancellable", MH_OUTCOME_OTHER },
	[MH_ERR_BODY_TOO_LARGE] = { 413, "body_too_large",
	    MH_OUTCOME_TOO_LARGE },
	[MH_ERR_UNSUPPORTED_MEDIA_TYPE] = { 415, "unsupported_media_type",
	    MH_OUTCOME_UNSUPPORTED },
	[MH_ERR_ALREADY_ENDED] = { 422, "already_ended", MH_OUTCOME_OTHER },
	[MH_ERR_IDEMPOTENCY_KEY_REUSED] = { 422, "idempotency_key_reused",
	    MH_OUTCOME_OTHER },
	[MH_ERR_TOO_MANY_ATTEMPTS] = { 429, "too_many_attempts",
	    MH_OUTCOME_OTHER },
	[MH_ERR_CORRUPT_RECORD] = { 500, "corrupt_record", MH_OUTCOME_OTHER },
	[MH_ERR_MISCONFIGURED] = { 500, "misconfigured", MH_OUTCOME_OTHER },
	[MH_ERR_OUT_OF_MEMORY] = { 503, "out_of_memory",
	    MH_OUTCOME_UNAVAILABLE },
	[MH_ERR_STORAGE_UNAVAILABLE] = { 503, "storage_unavailable",
	    MH_OUTCOME_UNAVAILABLE },
	[MH_ERR_UNAVAILABLE] = { 503, "unavailable", MH_OUTCOME_OTHER },
};

void
mh_respond_error(struct mh_request *r, enum mh_error err, const char *fmt,
    ...)
{
	int status = mh_errors[err].status;
	const char *code = mh_errors[err].code;
	struct json_object *o = json_object_new_object();
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	mh_utf8_scrub(detail);	/* it may quote what the client sent */
	snprintf(r->error, sizeof(r->error), "%s", code);
	r->outcome = mh_errors[err].outcome;
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	mh_respond_json(r, status, mh_json_text(o));
	json_object_put(o);
}

void
mh_respond_store_error(struct mh_request *r, enum mh_store_err err)
{
	r->store_err = err;
	mh_respond_error(r, MH_ERR_STORAGE_UNAVAILABLE,
	    "storage cannot take the request now (%s); retry later",
	    err == MH_STORE_RECOVER ? "recovering" :
	    err == MH_STORE_NOMEM ? "out of memory" : "busy or failed");
}

void
mh_respond_header(struct mh_request *r, const char *fmt, ...)
{
	size_t used = strlen(r->headers);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->headers + used, sizeof(r->headers) - used, fmt, ap);
	va_end(ap);
	/* A line that does not fit whole is not sent at all. */
	if (n < 0 || (size_t)n + 2 >= sizeof(r->headers) - used)
		r->headers[used] = '\0';
	else
		memcpy(r->headers + used + n, "\r\n", 3);
}

void
mh_respond_nomem(struct mh_request *r)
{
	mh_respond_error(r, MH_ERR_OUT_OF_MEMORY, "try again");
}

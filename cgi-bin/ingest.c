/*
 * The webhooks: POST /webhooks/mandrill, and POST /webhooks/infobip (alias
 * /email). Each is authenticated, parsed, and every event's shape checked;
 * then the raw body is committed to the inbox and acknowledged. Deriving
 * events happens after the answer (drain.c). A refused request enters
 * nothing.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_FORM_TYPE "application/x-www-form-urlencoded"

/* Is the Content-Type's media type (before any parameter) this one? */
static int
mh_media_type_is(const char *ctype, const char *type)
{
	size_t n = strlen(type);

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	if (strncasecmp(ctype, type, n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

static const char *
mh_content_type(const struct mh_request *r)
{
	const char *ct = mh_param(r, "CONTENT_TYPE");

	return ct && *ct ? ct : "(none)";
}

/* Reads the body against the configured limit; answers and returns -1
 * when it cannot. */
static int
mh_ingest_body(struct mh_app *app, struct mh_request *r)
{
	switch (mh_request_body(r, app->cfg->max_body)) {
	case MH_BODY_OK:
		return 0;
	case MH_BODY_TOO_LARGE:
		mh_respond_error(r, 413, "body_too_large",
		    "the body is over the limit of %zu bytes",
		    app->cfg->max_body);
		break;
	case MH_BODY_SHORT:
		mh_respond_error(r, 400, "bad_body",
		    "the body is shorter than its Content-Length");
		break;
	case MH_BODY_NOMEM:
		mh_respond_error(r, 503, "out_of_memory", "try again");
		break;
	}
	return -1;
}

/* Commits the checked raw body to the inbox and acknowledges it: 200
 * {"accepted": n, "receipt": ID}, or 503 when storage cannot take it. An
 * empty batch is acknowledged without storing anything. */
static void
mh_ingest_commit(struct mh_app *app, struct mh_request *r,
    const char *provider, size_t n)
{
	struct json_object *meta;
	enum mh_store_err serr;
	char now[32], answer[96];
	const char *addr = mh_param(r, "REMOTE_ADDR");
	uint64_t receipt;

	if (n == 0) {
		mh_respond_json(r, 200, "{\"accepted\":0,\"receipt\":null}");
		return;
	}
	if (app->store == NULL) {
		mh_respond_store_error(app, r, MH_STORE_FAILED);
		return;
	}
	mh_now_iso(now);
	meta = json_object_new_object();
	json_object_object_add(meta, "provider", json_object_new_string(provider));
	json_object_object_add(meta, "received_at", json_object_new_string(now));
	json_object_object_add(meta, "remote_addr",
	    json_object_new_string(addr ? addr : ""));
	/* What retention needs without reading the body back. */
	json_object_object_add(meta, "received_ts",
	    json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(meta, "bytes",
	    json_object_new_int64((int64_t)r->body_len));
	serr = mh_store_inbox_put(app->store, mh_json_text(meta), r->body,
	    r->body_len, &receipt);
	json_object_put(meta);
	if (serr != MH_STORE_OK) {
		mh_respond_store_error(app, r, serr);
		return;
	}
	app->own_receipt = receipt;
	snprintf(answer, sizeof(answer),
	    "{\"accepted\":%zu,\"receipt\":\"%" PRIu64 "\"}", n, receipt);
	mh_respond_json(r, 200, answer);
}

/* Checks X-Mandrill-Signature when keys are configured; answers 403 and
 * returns -1 when it does not hold. */
static int
mh_check_signature(struct mh_app *app, struct mh_request *r,
    const struct mh_form *form)
{
	const char *header = mh_param(r, "HTTP_X_MANDRILL_SIGNATURE");
	char *url;
	int ok;

	if (app->cfg->mandrill_keys == NULL)
		return 0;
	if (header == NULL || *header == '\0') {
		mh_respond_error(r, 403, "bad_signature",
		    "X-Mandrill-Signature is missing");
		return -1;
	}
	url = app->cfg->mandrill_url ? mh_strdup(app->cfg->mandrill_url) :
	    mh_request_url(r);
	if (url == NULL) {
		mh_respond_error(r, 503, "out_of_memory", "try again");
		return -1;
	}
	ok = mh_signature_verify(app->cfg->mandrill_keys, url, form, header);
	if (!ok)
		mh_respond_error(r, 403, "bad_signature",
		    "X-Mandrill-Signature does not match the request signed "
		    "for %s with any configured key", url);
	free(url);
	return ok ? 0 : -1;
}

static void
mh_mandrill_post(struct mh_app *app, struct mh_request *r)
{
	struct mh_form form = { 0 };
	const struct mh_form_field *field;
	struct json_object *events = NULL;
	enum mh_form_err ferr;
	char detail[256];

	if (!mh_media_type_is(mh_param(r, "CONTENT_TYPE"), MH_FORM_TYPE)) {
		mh_respond_error(r, 415, "unsupported_media_type",
		    "Content-Type must be " MH_FORM_TYPE ", not %.64s",
		    mh_content_type(r));
		return;
	}
	if (mh_ingest_body(app, r) != 0)
		return;
	if ((ferr = mh_form_parse(r->body, r->body_len, &form)) != MH_FORM_OK) {
		if (ferr == MH_FORM_NOMEM)
			mh_respond_error(r, 503, "out_of_memory", "try again");
		else
			mh_respond_error(r, 400, "bad_form", "%s",
			    mh_form_strerror(ferr));
		goto out;
	}
	if (mh_check_signature(app, r, &form) != 0)
		goto out;
	if ((field = mh_form_get(&form, "mandrill_events")) == NULL) {
		mh_respond_error(r, 400, "bad_form",
		    "the form field mandrill_events is missing");
		goto out;
	}
	if (mh_mandrill_parse(field->value, field->value_len, &events, detail,
	    sizeof(detail)) != 0) {
		mh_respond_error(r, 400, "bad_events", "%s", detail);
		goto out;
	}
	/* An empty batch is Mandrill's test POST: acknowledged, not kept. */
	mh_ingest_commit(app, r, "mandrill", json_object_array_length(events));
out:
	json_object_put(events);
	mh_form_free(&form);
}

void
mh_mandrill_handle(struct mh_app *app, struct mh_request *r)
{
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) {
		/* Mandrill checks the URL answers before it issues a key. */
		mh_respond_json(r, 200, "{\"status\":\"ok\"}");
		return;
	}
	if (strcmp(r->method, "POST") == 0) {
		mh_mandrill_post(app, r);
		return;
	}
	mh_respond_error(r, 405, "method_not_allowed",
	    "%s is not allowed here: use GET, HEAD or POST", r->method);
}

/* When INFOBIP_WEBHOOK_TOKEN is set, the request must carry it as ?token=
 * or as the basic-auth password; answers 401 and returns -1 otherwise. */
static int
mh_check_token(struct mh_app *app, struct mh_request *r)
{
	const char *want = app->cfg->infobip_token;
	char *given;
	int bad, ok = 0;

	if (want == NULL)
		return 0;
	if ((given = mh_query_get(r->query, "token", &bad)) != NULL) {
		ok = mh_secret_equal(given, strlen(given), want, strlen(want));
		free(given);
	}
	if (!ok && (given = mh_basic_password(mh_param(r,
	    "HTTP_AUTHORIZATION"))) != NULL) {
		ok = mh_secret_equal(given, strlen(given), want, strlen(want));
		free(given);
	}
	if (ok)
		return 0;
	r->auth_challenge = "Basic realm=\"mailhooks\"";
	mh_respond_error(r, 401, "unauthorized", "this callback URL needs the "
	    "token, as ?token= or as the basic-auth password");
	return -1;
}

void
mh_infobip_handle(struct mh_app *app, struct mh_request *r)
{
	struct json_object *items = NULL;
	const char *ct = mh_param(r, "CONTENT_TYPE");
	char detail[256];

	if (strcmp(r->method, "POST") != 0) {
		mh_respond_error(r, 405, "method_not_allowed",
		    "%s is not allowed here: Infobip callbacks are POSTed",
		    r->method);
		return;
	}
	if (mh_check_token(app, r) != 0)
		return;
	if (mh_media_type_is(ct, "application/xml") ||
	    mh_media_type_is(ct, "text/xml")) {
		mh_respond_error(r, 415, "unsupported_media_type",
		    "XML callbacks are not accepted: choose JSON as the "
		    "callback format in Infobip");
		return;
	}
	if (!mh_media_type_is(ct, "application/json")) {
		mh_respond_error(r, 415, "unsupported_media_type",
		    "Content-Type must be application/json, not %.64s",
		    mh_content_type(r));
		return;
	}
	if (mh_ingest_body(app, r) != 0)
		return;
	if (mh_infobip_parse(r->body, r->body_len, &items, detail,
	    sizeof(detail)) != 0) {
		mh_respond_error(r, 400, "bad_callback", "%s", detail);
		return;
	}
	mh_ingest_commit(app, r, "infobip", json_object_array_length(items));
	json_object_put(items);
}

/*
 * POST /api/test-event: when MAILHOOKS_TEST_EVENTS=1, a sample Mandrill open
 * goes through the same inbox, storage and relay as a real one. JSON only,
 * so that no other site's form can post it.
 */
void
mh_test_event_handle(struct mh_app *app, struct mh_request *r)
{
	static const char *const places[][2] = { { "Lisbon", "Portugal" },
	    { "Oslo", "Norway" }, { "Osaka", "Japan" }, { "Quito", "Ecuador" } };
	struct json_object *ev = json_object_new_object(), *msg, *loc;
	struct timespec now;
	char id[64], *enc = NULL;
	const char *text;
	size_t n, i;

	if (!app->cfg->test_events) {
		mh_respond_error(r, 404, "not_found", "test events are off "
		    "(MAILHOOKS_TEST_EVENTS=1 turns them on)");
		goto out;
	}
	if (strcmp(r->method, "POST") != 0) {
		mh_respond_error(r, 405, "method_not_allowed",
		    "%s is not allowed here: POST", r->method);
		goto out;
	}
	if (!mh_media_type_is(mh_param(r, "CONTENT_TYPE"), "application/json")) {
		mh_respond_error(r, 415, "unsupported_media_type",
		    "Content-Type must be application/json");
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(id, sizeof(id), "mailhooks-test-%lld%06ld",
	    (long long)now.tv_sec, now.tv_nsec / 1000);
	msg = json_object_new_object();
	json_object_object_add(msg, "_id", json_object_new_string(id));
	json_object_object_add(msg, "email",
	    json_object_new_string("test@example.com"));
	json_object_object_add(msg, "subject",
	    json_object_new_string("mailhooks test event"));
	json_object_object_add(msg, "tags", json_object_new_array());
	loc = json_object_new_object();
	i = (size_t)(now.tv_nsec / 1000) % (sizeof(places) / sizeof(places[0]));
	json_object_object_add(loc, "city", json_object_new_string(places[i][0]));
	json_object_object_add(loc, "country",
	    json_object_new_string(places[i][1]));
	json_object_object_add(ev, "event", json_object_new_string("open"));
	json_object_object_add(ev, "ts", json_object_new_int64(now.tv_sec));
	json_object_object_add(ev, "msg", msg);
	json_object_object_add(ev, "location", loc);
	json_object_object_add(ev, "ip", json_object_new_string("192.0.2.1"));
	text = mh_json_text(ev);
	/* The raw body a Mandrill POST of it would have: form-encoded. */
	n = strlen(text);
	if ((enc = mh_malloc(sizeof("mandrill_events=[") + (n + 1) * 3)) == NULL) {
		mh_respond_error(r, 503, "out_of_memory", "try again");
		goto out;
	}
	strcpy(enc, "mandrill_events=[");
	for (size_t k = 0, o = strlen(enc); k <= n; k++) {
		unsigned char c = k < n ? (unsigned char)text[k] : ']';

		if (isalnum(c) || c == '-' || c == '_' || c == '.')
			enc[o++] = (char)c;
		else
			o += (size_t)sprintf(enc + o, "%%%02X", c);
		enc[o] = '\0';
	}
	free(r->body);
	r->body = enc;
	r->body_len = strlen(enc);
	enc = NULL;
	mh_ingest_commit(app, r, "mandrill", 1);
out:
	free(enc);
	json_object_put(ev);
}

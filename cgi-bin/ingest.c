/*
 * POST /webhooks/mandrill: verify, parse, validate every event, then commit
 * the raw body to the inbox and acknowledge. Deriving events happens after
 * the answer (drain.c). A refused request enters nothing.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_FORM_TYPE "application/x-www-form-urlencoded"

/* Is the Content-Type's media type (before any parameter) form data? */
static int
mh_is_form(const char *ctype)
{
	size_t n = strlen(MH_FORM_TYPE);

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	if (strncasecmp(ctype, MH_FORM_TYPE, n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
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
	url = app->cfg->mandrill_url ? strdup(app->cfg->mandrill_url) :
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
	struct json_object *events = NULL, *meta = NULL;
	enum mh_form_err ferr;
	enum mh_store_err serr;
	char detail[256], now[32], answer[96];
	const char *addr;
	uint64_t receipt;
	size_t n;

	if (!mh_is_form(mh_param(r, "CONTENT_TYPE"))) {
		const char *ct = mh_param(r, "CONTENT_TYPE");

		mh_respond_error(r, 415, "unsupported_media_type",
		    "Content-Type must be " MH_FORM_TYPE ", not %.64s",
		    ct && *ct ? ct : "(none)");
		return;
	}
	switch (mh_request_body(r, app->cfg->max_body)) {
	case MH_BODY_OK:
		break;
	case MH_BODY_TOO_LARGE:
		mh_respond_error(r, 413, "body_too_large",
		    "the body is over the limit of %zu bytes",
		    app->cfg->max_body);
		return;
	case MH_BODY_SHORT:
		mh_respond_error(r, 400, "bad_body",
		    "the body is shorter than its Content-Length");
		return;
	case MH_BODY_NOMEM:
		mh_respond_error(r, 503, "out_of_memory", "try again");
		return;
	}
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
	n = json_object_array_length(events);
	if (n == 0) {
		/* Mandrill's test POST: acknowledged, nothing to keep. */
		mh_respond_json(r, 200, "{\"accepted\":0,\"receipt\":null}");
		goto out;
	}
	if (app->store == NULL) {
		mh_respond_store_error(app, r, MH_STORE_FAILED);
		goto out;
	}
	mh_now_iso(now);
	addr = mh_param(r, "REMOTE_ADDR");
	meta = json_object_new_object();
	json_object_object_add(meta, "provider",
	    json_object_new_string("mandrill"));
	json_object_object_add(meta, "received_at", json_object_new_string(now));
	json_object_object_add(meta, "remote_addr",
	    json_object_new_string(addr ? addr : ""));
	serr = mh_store_inbox_put(app->store, mh_json_text(meta), r->body,
	    r->body_len, &receipt);
	if (serr != MH_STORE_OK) {
		mh_respond_store_error(app, r, serr);
		goto out;
	}
	app->own_receipt = receipt;
	snprintf(answer, sizeof(answer),
	    "{\"accepted\":%zu,\"receipt\":\"%" PRIu64 "\"}", n, receipt);
	mh_respond_json(r, 200, answer);
out:
	json_object_put(meta);
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

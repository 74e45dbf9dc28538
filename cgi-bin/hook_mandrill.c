/*
 * POST /webhooks/mandrill: a form whose mandrill_events field is a JSON
 * array of events, signed with X-Mandrill-Signature (HMAC-SHA1 of the URL
 * and the form under the webhook's key). GET and HEAD answer 200: Mandrill
 * checks that the URL answers before it issues the key.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"
#include "core/providers.h"

#define MH_FORM_TYPE "application/x-www-form-urlencoded"

/*
 * The URL Mandrill signed the webhook for: MANDRILL_WEBHOOK_URL, else
 * MAILHOOKS_PUBLIC_URL's with the request's path and query, else the
 * request's own (mh_request_url). The caller frees it; NULL when out of
 * memory.
 */
static char *
mh_signed_url(const struct mh_config *cfg, const struct mh_request *r)
{
	const char *uri = mh_param(r, "REQUEST_URI");
	const char *base = cfg->public_url;
	size_t blen, n;
	char *url;

	if (cfg->mandrill_url != NULL)
		return mh_strdup(cfg->mandrill_url);
	if (base == NULL)
		return mh_request_url(r);
	if (uri == NULL || *uri != '/')
		uri = "/";
	/* The URL's path is where the site is mounted: a proxy may pass it
	 * on (the request names it already) or take it off. */
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = mh_url_origin_len(base);
	if (blen > n && strncmp(uri, base + n, blen - n) == 0 &&
	    (uri[blen - n] == '/' || uri[blen - n] == '?' ||
	    uri[blen - n] == '\0'))
		blen = n;
	if ((url = mh_malloc(blen + strlen(uri) + 1)) == NULL)
		return NULL;
	memcpy(url, base, blen);
	strcpy(url + blen, uri);
	return url;
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
	if ((url = mh_signed_url(app->cfg, r)) == NULL) {
		mh_respond_nomem(r);
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
	struct json_object *events = NULL;
	enum mh_form_err ferr;
	char detail[256];
	int bad;

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
			mh_respond_nomem(r);
		else
			mh_respond_error(r, 400, "bad_form", "%s",
			    mh_form_strerror(ferr));
		goto out;
	}
	if (mh_check_signature(app, r, &form) != 0)
		goto out;
	if ((bad = mh_mandrill_form_events(&form, &events, detail,
	    sizeof(detail))) == -1) {
		mh_respond_error(r, 400, "bad_form",
		    "the form field mandrill_events is missing");
		goto out;
	}
	if (bad != 0) {
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
mh_hook_mandrill(struct mh_app *app, struct mh_request *r)
{
	mh_mandrill_post(app, r);
}

/* Mandrill checks the URL answers before it issues a key. */
void
mh_hook_mandrill_check(struct mh_app *app, struct mh_request *r)
{
	(void)app;
	mh_respond_json(r, 200, "{\"status\":\"ok\"}");
}

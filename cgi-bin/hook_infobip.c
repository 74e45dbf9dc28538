/*
 * POST /webhooks/infobip (and its alias /email): Infobip's delivery
 * reports and tracking events, as JSON, authenticated by a shared token
 * (?token= or the basic-auth password) when one is configured.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

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
mh_hook_infobip(struct mh_app *app, struct mh_request *r)
{
	struct json_object *items = NULL;
	const char *ct = mh_param(r, "CONTENT_TYPE");
	char detail[256];

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

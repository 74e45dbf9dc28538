/*
 * GET /api/refused (admins): the webhook requests refused (the storage's
 * log of the newest MH_REFUSED_MAX), newest first, each with what to
 * check, and how many came in the last hour: a key or URL set wrong
 * looks like "no traffic" unless someone says so.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_REFUSED_LIMIT_DEFAULT 100

/* What to check, by the refusal's error and provider. */
static const struct {
	const char *error, *provider, *advice;
} mh_refusal_advice[] = {
	{ "bad_signature", "mandrill", "check MANDRILL_WEBHOOK_URL (the URL "
	    "Mandrill signs, as it has it: behind a proxy the server sees "
	    "another) and MANDRILL_WEBHOOK_KEY (the webhook's own key)" },
	{ "unauthorized", "infobip", "check INFOBIP_WEBHOOK_TOKEN against the "
	    "notifyUrl's token, and that the proxy passes Authorization on" },
	{ "body_too_large", NULL, "raise MAILHOOKS_MAX_BODY, or ask for "
	    "smaller batches" },
	{ "unsupported_media_type", NULL, "the sender posts another "
	    "Content-Type: is the URL the right provider's?" },
	{ NULL, NULL, "the body is not what the provider sends: is the URL the "
	    "right provider's?" },
};

static const char *
mh_advice(const char *error, const char *provider)
{
	size_t i;

	for (i = 0; mh_refusal_advice[i].error != NULL; i++) {
		const char *p = mh_refusal_advice[i].provider;

		if (error != NULL &&
		    strcmp(error, mh_refusal_advice[i].error) == 0 &&
		    (p == NULL || (provider != NULL && strcmp(provider, p) == 0)))
			break;
	}
	return mh_refusal_advice[i].advice;
}

struct mh_refused_list {
	struct json_object *all;	/* oldest first */
	int64_t hour_ago;
	uint64_t last_hour;
};

static int
mh_refused_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_refused_list *l = ctx;
	struct json_object *o = json_tokener_parse(json);
	const char *at;
	int64_t when;

	(void)len;
	if (o == NULL)
		return 0;
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)seq));
	mh_json_set_str(o, "advice", mh_advice(mh_json_str(o, "error"),
	    mh_json_str(o, "provider")));
	if ((at = mh_json_str(o, "at")) != NULL &&
	    mh_iso_time(at, &when) == 0 && when >= l->hour_ago)
		l->last_hour++;
	json_object_array_add(l->all, o);
	return 0;
}

void
mh_api_refused(struct mh_app *app, struct mh_request *r)
{
	struct mh_refused_list l = { 0 };
	struct mh_query q = { .limit = MH_REFUSED_LIMIT_DEFAULT };
	struct json_object *answer, *page;
	enum mh_store_err err;
	size_t n;

	if (mh_cursor_args(r, &q) != 0)
		return;
	l.all = json_object_new_array();
	l.hour_ago = (int64_t)time(NULL) - 3600;
	err = app->store == NULL ? MH_STORE_FAILED :
	    mh_store_refused_list(app->store, mh_refused_one, &l);
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		json_object_put(l.all);
		return;
	}
	n = json_object_array_length(l.all);
	page = json_object_new_array();
	for (size_t i = 0; i < n && i < q.limit; i++)
		json_object_array_add(page, json_object_get(
		    json_object_array_get_idx(l.all, n - 1 - i)));
	answer = json_object_new_object();
	json_object_object_add(answer, "refused", page);
	json_object_object_add(answer, "last_hour",
	    json_object_new_int64((int64_t)l.last_hour));
	json_object_object_add(answer, "kept", json_object_new_int64(
	    (int64_t)n));
	mh_respond_json(r, 200, mh_json_text(answer));
	json_object_put(answer);
	json_object_put(l.all);
}

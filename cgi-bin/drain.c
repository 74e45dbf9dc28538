/*
 * After the answer: turn what waits in the inbox into events, then tell the
 * relay about each new one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* The items of a Mandrill body: the mandrill_events array. */
static int
mh_mandrill_items(const struct mh_raw *raw, struct json_object **items,
    char *why, size_t whylen)
{
	struct mh_form form = { 0 };
	const struct mh_form_field *field;
	enum mh_form_err ferr;
	int ret = -1;

	if ((ferr = mh_form_parse(raw->body, raw->body_len, &form)) != MH_FORM_OK)
		snprintf(why, whylen, "form: %s", mh_form_strerror(ferr));
	else if ((field = mh_form_get(&form, "mandrill_events")) == NULL)
		snprintf(why, whylen, "mandrill_events missing");
	else
		ret = mh_mandrill_parse(field->value, field->value_len, items,
		    why, whylen);
	mh_form_free(&form);
	return ret;
}

/* The items of an Infobip body: its reports or tracking event. */
static int
mh_infobip_items(const struct mh_raw *raw, struct json_object **items,
    char *why, size_t whylen)
{
	return mh_infobip_parse(raw->body, raw->body_len, items, why, whylen);
}

/* How each provider's raw bodies become events: the items a body holds,
 * and the normalisation of one item. */
static const struct mh_provider {
	const char *name;
	int (*items)(const struct mh_raw *, struct json_object **, char *,
	    size_t);
	int (*normalise)(struct json_object *, const char *, uint64_t,
	    struct mh_event *);
} mh_providers[] = {
	{ "mandrill", mh_mandrill_items, mh_mandrill_normalise },
	{ "infobip", mh_infobip_items, mh_infobip_normalise },
};

static int
mh_derive_items(const struct mh_provider *p, const struct mh_raw *raw,
    const char *received_at, struct mh_event **events, size_t *count,
    char *why, size_t whylen)
{
	struct json_object *items = NULL;
	size_t n;
	int ret = -1;

	if (p->items(raw, &items, why, whylen) != 0)
		return -1;
	n = json_object_array_length(items);
	if ((*events = mh_calloc(n ? n : 1, sizeof(**events))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (*count = 0; *count < n; (*count)++) {
		if (p->normalise(json_object_array_get_idx(items, *count),
		    received_at, raw->receipt, &(*events)[*count]) != 0) {
			snprintf(why, whylen, "item %zu cannot be normalised",
			    *count);
			goto out;
		}
	}
	ret = 0;
out:
	json_object_put(items);
	return ret;
}

int
mh_derive(void *ctx, const struct mh_raw *raw, struct mh_event **events,
    size_t *count, char *why, size_t whylen)
{
	struct json_object *meta, *v;
	const char *provider = "", *received_at = "";
	int ret = -1;

	(void)ctx;
	*events = NULL;
	*count = 0;
	if ((meta = json_tokener_parse(raw->meta)) == NULL) {
		snprintf(why, whylen, "entry metadata is not JSON");
		return -1;
	}
	if (json_object_object_get_ex(meta, "provider", &v))
		provider = json_object_get_string(v);
	if (json_object_object_get_ex(meta, "received_at", &v))
		received_at = json_object_get_string(v);
	snprintf(why, whylen, "unknown provider \"%.32s\"", provider);
	for (size_t i = 0; i < sizeof(mh_providers) / sizeof(mh_providers[0]);
	    i++)
		if (strcmp(provider, mh_providers[i].name) == 0)
			ret = mh_derive_items(&mh_providers[i], raw, received_at,
			    events, count, why, whylen);
	if (ret != 0) {
		mh_events_free(*events, *count);
		*events = NULL;
		*count = 0;
	}
	json_object_put(meta);
	return ret;
}

enum mh_store_err
mh_drain(struct mh_app *app, const uint64_t *own, size_t nown, int walk)
{
	enum mh_store_err err;
	size_t stored = 0;

	if (app->store == NULL)
		return MH_STORE_OK;
	err = mh_store_drain(app->store, own, nown, walk, mh_derive, app,
	    mh_notify_event, app, &stored);
	mh_notify_done(app);
	if (err == MH_STORE_OK && !app->checkpoint_apart)
		err = mh_store_checkpoint(app->store, 0);
	/* Bodies only come with new entries: retention follows them. */
	if (err == MH_STORE_OK && stored > 0 &&
	    time(NULL) - app->pruned_at >= MH_PRUNE_EVERY) {
		size_t pruned;

		app->pruned_at = time(NULL);
		err = mh_store_prune(app->store, app->pruned_at,
		    app->cfg->raw_max_age, app->cfg->raw_max_bytes, &pruned);
	}
	if (err == MH_STORE_RECOVER)
		app->store_broken = 1;
	else if (err != MH_STORE_OK)
		fprintf(stderr, "mailhooks: drain stopped: storage error %d; "
		    "the entries wait for the next try\n", (int)err);
	return err;
}

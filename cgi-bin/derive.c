/*
 * Turning an inbox entry into the storage layer's events: the items of the
 * provider's body, each normalised, then laid out as struct mh_event (the
 * indexed fields apart, the JSON as text). The drain and the admin tool's
 * reprocess give it to the storage layer as their deriver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "../db/store.h"

/* The items of a Mandrill body: the mandrill_events array. */
static int
mh_mandrill_items(const struct mh_entry *e, struct json_object **items,
    char *why, size_t whylen)
{
	struct mh_form form = { 0 };
	const struct mh_form_field *field;
	enum mh_form_err ferr;
	int ret = -1;

	if ((ferr = mh_form_parse(e->body, e->body_len, &form)) != MH_FORM_OK)
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
mh_infobip_items(const struct mh_entry *e, struct json_object **items,
    char *why, size_t whylen)
{
	return mh_infobip_parse(e->body, e->body_len, items, why, whylen);
}

/* How each provider's raw bodies become events: the items a body holds,
 * and the normalisation of one item. */
static const struct mh_provider {
	const char *name;
	int (*items)(const struct mh_entry *, struct json_object **, char *,
	    size_t);
	int (*normalise)(struct json_object *, const char *, uint64_t,
	    struct mh_normal *);
} mh_providers[] = {
	{ "mandrill", mh_mandrill_items, mh_mandrill_normalise },
	{ "infobip", mh_infobip_items, mh_infobip_normalise },
};

static const struct mh_provider *
mh_provider(const char *name)
{
	for (size_t i = 0; i < sizeof(mh_providers) / sizeof(mh_providers[0]);
	    i++)
		if (strcmp(name, mh_providers[i].name) == 0)
			return &mh_providers[i];
	return NULL;
}

/* A copy of o[key] when it is a string, "" otherwise; NULL out of memory. */
static char *
mh_field(struct json_object *o, const char *key)
{
	const char *s = mh_json_str(o, key);

	return mh_strdup(s != NULL ? s : "");
}

/* Lays out one JSON object as a record with the given index fields. */
static int
mh_record_from(struct json_object *o, const char *const keys[3],
    struct mh_record *r)
{
	for (int i = 0; i < 3; i++)
		if ((r->field[i] = mh_field(o, keys[i])) == NULL)
			return -1;
	return (r->json = mh_strdup(mh_json_text(o))) == NULL ? -1 : 0;
}

int
mh_event_from_normal(struct mh_normal *n, struct mh_event *out)
{
	static const char *const event_keys[3] = { "type", "email",
	    "message_id" };
	static const char *const entity_keys[3] = { "status", "email",
	    "external_id" };
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->identity = n->identity;
	n->identity = NULL;
	if (out->identity == NULL ||
	    mh_record_from(n->event, event_keys, &out->event) != 0 ||
	    (n->entity != NULL &&
	    mh_record_from(n->entity, entity_keys, &out->entity) != 0) ||
	    (out->provider = mh_field(n->event, "provider")) == NULL ||
	    (out->subject = mh_field(n->event, "subject")) == NULL)
		goto out;
	out->ts = mh_json_int(n->event, "ts");
	ret = 0;
out:
	json_object_put(n->event);
	json_object_put(n->entity);
	n->event = n->entity = NULL;
	return ret;
}

/* The deriver's derive: every item of the entry normalised. */
static int
mh_derive(void *ctx, const struct mh_entry *e, struct mh_event **events,
    size_t *count, char *why, size_t whylen)
{
	const struct mh_provider *p = mh_provider(e->meta.provider);
	struct json_object *items = NULL;
	struct mh_normal n;
	char received_at[32];
	size_t total;
	int ret = -1;

	(void)ctx;
	*events = NULL;
	*count = 0;
	if (p == NULL) {
		snprintf(why, whylen, "unknown provider \"%.32s\"",
		    e->meta.provider);
		return -1;
	}
	if (p->items(e, &items, why, whylen) != 0)
		return -1;
	mh_iso_from_ms(e->meta.received_ms, received_at);
	total = json_object_array_length(items);
	if ((*events = mh_calloc(total ? total : 1, sizeof(**events))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (; *count < total; (*count)++) {
		if (p->normalise(json_object_array_get_idx(items, *count),
		    received_at, e->receipt, &n) != 0 ||
		    mh_event_from_normal(&n, &(*events)[*count]) != 0) {
			snprintf(why, whylen, "item %zu cannot be normalised",
			    *count);
			(*count)++;	/* what it holds is freed with the rest */
			goto out;
		}
	}
	ret = 0;
out:
	if (ret != 0) {
		mh_events_free(*events, *count);
		*events = NULL;
		*count = 0;
	}
	json_object_put(items);
	return ret;
}

void
mh_deriver_init(struct mh_deriver *d,
    void (*stored)(void *ctx, uint64_t seq, const char *json, size_t len),
    void *ctx)
{
	d->derive = mh_derive;
	d->fold = mh_summary_fold;
	d->stored = stored;
	d->ctx = ctx;
}

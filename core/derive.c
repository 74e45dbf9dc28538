/*
 * Turning an inbox entry into the storage layer's events: the items of the
 * provider's body, each normalised, then laid out as struct mh_event (the
 * indexed fields apart, the JSON as text). The drain and the admin tool's
 * reprocess give it to the storage layer as their deriver.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "providers.h"
#include "db/store.h"

/* A copy of o[key] when it is a string, "" otherwise; NULL out of memory. */
static char *
mh_field(struct json_object *o, const char *key)
{
	const char *s = mh_json_str(o, key);

	return mh_strdup(s != NULL ? s : "");
}

/* The record of a normalised event: its JSON, by type, address and
 * message. */
static int
mh_event_record(struct json_object *o, struct mh_record *r)
{
	return (r->event.type = mh_field(o, "type")) == NULL ||
	    (r->event.email = mh_field(o, "email")) == NULL ||
	    (r->event.message_id = mh_field(o, "message_id")) == NULL ||
	    (r->json = mh_strdup(mh_json_text(o))) == NULL ? -1 : 0;
}

/* An event whose text cannot be read: no fields, judged no further. */
static int
mh_event_record_empty(struct mh_event *ev)
{
	return (ev->rec.json = mh_strdup("{}")) == NULL ? -1 : 0;
}

/* The record of a provider's own record of it (an email_callback): by
 * status, address and the provider's id. */
static int
mh_callback_record(struct json_object *o, struct mh_record *r)
{
	return (r->callback.status = mh_field(o, "status")) == NULL ||
	    (r->callback.email = mh_field(o, "email")) == NULL ||
	    (r->callback.external_id = mh_field(o, "external_id")) == NULL ||
	    (r->json = mh_strdup(mh_json_text(o))) == NULL ? -1 : 0;
}

int
mh_event_from_normal(struct mh_normal *n, struct mh_event *out)
{
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->identity = n->identity;
	n->identity = NULL;
	if (out->identity == NULL ||
	    mh_event_record(n->event, &out->rec) != 0 ||
	    (n->entity != NULL &&
	    mh_callback_record(n->entity, &out->entity) != 0) ||
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

int
mh_event_describe(void *ctx, const char *json, struct mh_event *ev)
{
	struct json_object *o = json_tokener_parse(json);
	unsigned long long receipt = 0;
	const char *rs = mh_json_str(o, "receipt");

	(void)ctx;
	ev->ts = mh_json_int(o, "ts");
	if (rs != NULL)
		receipt = strtoull(rs, NULL, 10);
	ev->receipt = receipt;
	ev->provider = mh_field(o, "provider");
	ev->subject = mh_field(o, "subject");
	json_object_put(o);
	return ev->provider == NULL || ev->subject == NULL ? -1 : 0;
}

/*
 * The notification an open or click makes (of the types d notifies of),
 * for the user its message's metadata names (Mandrill's metadata.user_id):
 * "alice@example.com opened "Your invoice"", linked to the message's
 * timeline. Into *out; nothing when none is due. 0, or -1.
 */
static int
mh_mail_notice(const struct mh_deriver *d, struct json_object *ev,
    int64_t received_ms, struct mh_record *out)
{
	const char *type = mh_json_str(ev, "type"), *email, *subject, *id;
	struct json_object *user = mh_json_get(mh_json_get(ev, "metadata"),
	    MH_META_USER), *in, *data;
	int open, index, ret;
	char title[512], why[128];

	if (type == NULL || user == NULL || (!d->notify_machine &&
	    mh_json_get(ev, "machine") != NULL) ||
	    (index = mh_event_type_index(type, strlen(type))) < 0 ||
	    (d->notify_types & (1u << index)) == 0 ||
	    !((open = (mh_event_type_flags(type) & MH_TYPE_OPEN) != 0) ||
	    (mh_event_type_flags(type) & MH_TYPE_CLICK) != 0))
		return 0;
	email = mh_json_str(ev, "email");
	subject = mh_json_str(ev, "subject");
	id = mh_json_str(ev, "message_id");
	snprintf(title, sizeof(title), "%.200s %s \"%.200s\"",
	    email && *email ? email : "someone", open ? "opened" : "clicked",
	    subject ? subject : "");
	in = json_object_new_object();
	data = json_object_new_object();
	json_object_object_add(in, "user_id", json_object_get(user));
	mh_json_set_str(in, "identifier", open ? "EMAIL_OPENED" :
	    "EMAIL_CLICKED");
	mh_json_set_str(in, "title", title);
	mh_json_copy(data, "provider", ev, "provider", 1);
	mh_json_copy(data, "message_id", ev, "message_id", 1);
	mh_json_copy(data, "email", ev, "email", 1);
	mh_json_copy(data, "url", ev, "url", 0);
	json_object_object_add(in, "data", data);
	if (id != NULL && strlen(id) < 1500) {
		char *link = mh_malloc(strlen(id) * 3 + 16);

		if (link != NULL) {
			strcpy(link, "/?message=");
			for (const char *p = id; *p != '\0'; p++)
				sprintf(link + strlen(link), isalnum((unsigned
				    char)*p) || strchr("-._~", *p) ? "%c" :
				    "%%%02X", (unsigned char)*p);
			mh_json_set_str(in, "link", link);
			free(link);
		}
	}
	/* A user_id it cannot be made for (too long, not a string or a
	 * number) makes no notification, not an underivable entry. */
	ret = mh_notification_make(in, received_ms, out, why,
	    sizeof(why)) == 0 || strcmp(why, "out of memory") != 0 ? 0 : -1;
	json_object_put(in);
	return ret;
}

/* Joins a Mandrill event to the mail mailhooks sent as its message (by
 * Mandrill's _id): the metadata given at send time (its user_id above
 * all) fills what the webhook left out, so that a webhook without it
 * still notifies the user the mail names. */
static void
mh_join_sent(const struct mh_entry *e, const char *provider,
    struct json_object *ev)
{
	const char *id = mh_json_str(ev, "message_id");
	struct json_object *mail, *meta, *have;
	char *json;

	if (e->sent_as == NULL || strcmp(provider, "mandrill") != 0 ||
	    id == NULL || *id == '\0' ||
	    (json = e->sent_as(e->sent_ctx, id)) == NULL)
		return;
	mail = json_tokener_parse(json);
	free(json);
	meta = mh_json_get(mh_json_get(mail, "message"), "metadata");
	if (meta != NULL && json_object_is_type(meta, json_type_object)) {
		have = mh_json_get(ev, "metadata");
		if (have == NULL || !json_object_is_type(have,
		    json_type_object)) {
			have = json_object_new_object();
			json_object_object_add(ev, "metadata", have);
		}
		json_object_object_foreach(meta, k, v)
			if (!json_object_object_get_ex(have, k, NULL))
				json_object_object_add(have, k,
				    json_object_get(v));
	}
	json_object_put(mail);
}

/* An open's or a click's maker: "machine", null for a person, else why;
 * and, for a mail service's image proxy, "proxy", its place and device
 * not the person's (so not kept as theirs). */
static void
mh_machine_mark(const struct mh_deriver *d, struct json_object *ev)
{
	const char *type = mh_json_str(ev, "type");
	struct mh_machine_verdict v;
	unsigned flags;

	if (type == NULL || !((flags = mh_event_type_flags(type)) &
	    (MH_TYPE_OPEN | MH_TYPE_CLICK)))
		return;
	mh_machine_classify(d->machine_rules, (flags & MH_TYPE_OPEN) != 0,
	    mh_json_str(ev, "user_agent"), mh_json_str(ev, "ip"), &v);
	mh_json_set_str(ev, "machine", v.machine);
	if (v.proxy != NULL) {
		mh_json_set_str(ev, "proxy", v.proxy);
		mh_json_set_str(ev, "location", NULL);
	}
}

int
mh_event_rejudge(const struct mh_deriver *d, const char *json,
    struct mh_event *ev)
{
	struct json_object *o = json_tokener_parse(json);
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (o == NULL)
		return mh_event_record_empty(ev);
	json_object_object_del(o, "machine");
	json_object_object_del(o, "proxy");
	mh_machine_mark(d, o);
	if (mh_event_record(o, &ev->rec) == 0 &&
	    (ev->provider = mh_field(o, "provider")) != NULL &&
	    (ev->subject = mh_field(o, "subject")) != NULL) {
		ev->ts = mh_json_int(o, "ts");
		ret = 0;
	}
	json_object_put(o);
	return ret;
}

/* Lets go of what the first count normalised items still hold (what
 * mh_event_from_normal took it left NULL), and of n. */
static void
mh_normals_free(struct mh_normal *n, size_t count)
{
	for (size_t i = 0; n != NULL && i < count; i++) {
		json_object_put(n[i].event);
		json_object_put(n[i].entity);
		free(n[i].identity);
	}
	free(n);
}

/* Normalises every item of the entry into n (the mail sent joined, the
 * rules' verdict on each), then the verdict of the batch as a whole
 * (verdict.c): *done counts those normalised. 0, or -1 with why. */
static int
mh_normalise_all(const struct mh_deriver *d, const struct mh_entry *e,
    const struct mh_provider *p, struct json_object *items,
    struct mh_normal *n, size_t *done, char *why, size_t whylen)
{
	size_t total = json_object_array_length(items);
	char received_at[32];

	mh_iso_from_ms(e->meta.received_ms, received_at);
	for (*done = 0; *done < total; (*done)++) {
		if (p->normalise(json_object_array_get_idx(items, *done),
		    received_at, e->receipt, &n[*done]) != 0) {
			snprintf(why, whylen, "item %zu cannot be normalised",
			    *done);
			return -1;
		}
		mh_join_sent(e, p->name, n[*done].event);
		mh_machine_mark(d, n[*done].event);
	}
	if (mh_verdict_batch(d, n, total) != 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

/* The deriver's derive: every item of the entry normalised. */
static int
mh_derive(const struct mh_deriver *d, const struct mh_entry *e,
    struct mh_event **events, size_t *count, char *why, size_t whylen)
{
	const struct mh_provider *p = mh_provider_find(e->meta.provider);
	struct json_object *items = NULL;
	struct mh_normal *n = NULL;
	size_t total, normalised = 0;
	int ret = -1;

	*events = NULL;
	*count = 0;
	if (p == NULL) {
		snprintf(why, whylen, "unknown provider \"%.32s\"",
		    e->meta.provider);
		return -1;
	}
	if (p->items(e->body, e->body_len, &items, why, whylen) != 0)
		return -1;
	total = json_object_array_length(items);
	if ((*events = mh_calloc(total ? total : 1, sizeof(**events))) == NULL ||
	    (n = mh_calloc(total ? total : 1, sizeof(*n))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (mh_normalise_all(d, e, p, items, n, &normalised, why, whylen) != 0)
		goto out;
	for (; *count < total; (*count)++) {
		struct mh_record notice = { .json = NULL };

		if (mh_mail_notice(d, n[*count].event, e->meta.received_ms,
		    &notice) != 0 ||
		    mh_event_from_normal(&n[*count], &(*events)[*count]) != 0) {
			mh_record_free(&notice);
			snprintf(why, whylen, "item %zu cannot be normalised",
			    *count);
			(*count)++;	/* what it holds is freed with the rest */
			goto out;
		}
		(*events)[*count].notice = notice;
	}
	ret = 0;
out:
	mh_normals_free(n, normalised);
	if (ret != 0) {
		mh_events_free(*events, *count);
		*events = NULL;
		*count = 0;
	}
	json_object_put(items);
	return ret;
}

/* The relay's frame of a notification an event made, for its user's
 * channel (ctx, a struct mh_notifier). */
static void
mh_notice_announce(void *ctx, uint64_t id, const char *json, size_t len,
    uint64_t unread)
{
	char *frame = mh_malloc(len + 64);
	int n;

	if (frame == NULL || len < 2)
		goto out;
	n = snprintf(frame, len + 64, "{\"kind\":\"notification\","
	    "\"unread\":%llu,%s", (unsigned long long)unread, json + 1);
	if (n > 0)
		mh_notify_event(ctx, id, frame, (size_t)n);
out:
	free(frame);
}

void
mh_deriver_init(struct mh_deriver *d,
    void (*stored)(void *ctx, uint64_t seq, const char *json, size_t len),
    void *ctx)
{
	d->derive = mh_derive;
	d->fold = mh_summary_fold;
	d->amend = mh_verdict_amend;
	d->stored = stored;
	d->noticed = stored != NULL ? mh_notice_announce : NULL;
	d->ctx = ctx;
	d->notify_types = mh_notify_types_default();
	d->machine_rules = NULL;
	d->notify_machine = 0;
	d->trap_url = NULL;
}

/*
 * Mandrill (Mailchimp Transactional), as a provider (providers.h): its
 * webhook's checks (a form, X-Mandrill-Signature over the URL signed),
 * its events' shape checks declared as tables, and their normalisation
 * onto the shared event model. Pure: no I/O.
 *
 * Three shapes arrive in one mandrill_events array:
 *  - message events: {"event": "open", "ts": N, "msg": {"_id": ...}, ...}
 *  - sync events: {"type": "blacklist", "action": "add", "reject": {...}}
 *  - inbound mail: {"event": "inbound", "ts": N, "msg": {...}}
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "providers.h"

enum mh_shape {
	MH_SHAPE_MESSAGE,
	MH_SHAPE_SYNC,
	MH_SHAPE_INBOUND,
};

static const struct mh_rule mh_rules[] = {
	{ MH_SHAPE_MESSAGE, NULL, NULL, "ts", T_NUM, 1 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "msg", T_OBJ, 1 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "_id", T_STR, 1 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "email", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "subject", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "tags", T_ARR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, "msg", "metadata", T_OBJ | T_ARR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "ip", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "location", T_OBJ | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "user_agent", T_STR | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, NULL, NULL, "user_agent_parsed", T_OBJ | T_NULL, 0 },
	{ MH_SHAPE_MESSAGE, "click", NULL, "url", T_STR, 1 },
	{ MH_SHAPE_SYNC, NULL, NULL, "ts", T_NUM, 1 },
	{ MH_SHAPE_SYNC, NULL, NULL, "action", T_STR, 1 },
	{ MH_SHAPE_SYNC, "blacklist", NULL, "reject", T_OBJ, 1 },
	{ MH_SHAPE_SYNC, "blacklist", "reject", "email", T_STR, 1 },
	{ MH_SHAPE_SYNC, "whitelist", NULL, "entry", T_OBJ, 1 },
	{ MH_SHAPE_SYNC, "whitelist", "entry", "email", T_STR, 1 },
	{ MH_SHAPE_INBOUND, NULL, NULL, "ts", T_NUM, 1 },
	{ MH_SHAPE_INBOUND, NULL, NULL, "msg", T_OBJ, 1 },
	{ MH_SHAPE_INBOUND, NULL, "msg", "email", T_STR | T_NULL, 0 },
	{ MH_SHAPE_INBOUND, NULL, "msg", "subject", T_STR | T_NULL, 0 },
	{ MH_SHAPE_INBOUND, NULL, "msg", "headers", T_OBJ | T_NULL, 0 },
};

static const char *const mh_sync_types[] = { "blacklist", "whitelist", NULL };

/* Details copied from the top of a message event, and from its msg. */
static const char *const mh_event_details[] = {
	"ip", "location", "user_agent", "url", NULL
};
static const char *const mh_msg_details[] = {
	"sender", "tags", "metadata", "state", "bounce_description", "diag",
	"subaccount", "template", "reject", "smtp_events", NULL
};
static const char *const mh_inbound_details[] = {
	"from_email", "from_name", "to", "tags", "spam_report", "spf", "dkim",
	"text", NULL
};

/* Which shape an event has, and its kind (event name or sync type). */
static int
mh_classify(struct json_object *ev, enum mh_shape *shape, const char **kind,
    char *why, size_t whylen)
{
	struct json_object *v;
	const char *s;

	if (json_object_object_get_ex(ev, "event", &v)) {
		if ((s = mh_json_str(ev, "event")) == NULL) {
			snprintf(why, whylen, "\"event\" must be a string");
			return -1;
		}
		/* Mandrill's message event names are already the shared
		 * model's types. */
		if (mh_event_type_flags(s) & MH_TYPE_MESSAGE) {
			*kind = s;
			*shape = MH_SHAPE_MESSAGE;
			return 0;
		}
		if (strcmp(s, "inbound") == 0) {
			*kind = "inbound";
			*shape = MH_SHAPE_INBOUND;
			return 0;
		}
		snprintf(why, whylen, "unknown event type \"%.64s\"", s);
		return -1;
	}
	if (json_object_object_get_ex(ev, "type", &v)) {
		if ((s = mh_json_str(ev, "type")) == NULL ||
		    (*kind = mh_in_list(s, mh_sync_types)) == NULL) {
			snprintf(why, whylen, "unknown sync event type");
			return -1;
		}
		*shape = MH_SHAPE_SYNC;
		return 0;
	}
	snprintf(why, whylen, "has neither \"event\" nor \"type\"");
	return -1;
}

static int
mh_check_shape(struct json_object *ev, char *why, size_t whylen)
{
	enum mh_shape shape;
	const char *kind;

	if (!json_object_is_type(ev, json_type_object)) {
		snprintf(why, whylen, "is %s, not an object",
		    mh_type_name(json_object_get_type(ev)));
		return -1;
	}
	if (mh_classify(ev, &shape, &kind, why, whylen) != 0)
		return -1;
	return mh_shape_check(ev, mh_rules, sizeof(mh_rules) /
	    sizeof(mh_rules[0]), shape, kind, why, whylen);
}

int
mh_mandrill_parse(const char *text, size_t len, struct json_object **events,
    char *detail, size_t detail_len)
{
	struct json_object *arr;
	char why[160];
	size_t n;

	*events = NULL;
	if ((arr = mh_json_parse(text, len, why, sizeof(why))) == NULL) {
		snprintf(detail, detail_len, "mandrill_events: %s", why);
		return -1;
	}
	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(detail, detail_len,
		    "mandrill_events must be a JSON array, not %s",
		    mh_type_name(json_object_get_type(arr)));
		goto err;
	}
	n = json_object_array_length(arr);
	if (n > MH_MANDRILL_MAX_EVENTS) {
		snprintf(detail, detail_len,
		    "mandrill_events holds %zu events; at most %d are accepted",
		    n, MH_MANDRILL_MAX_EVENTS);
		goto err;
	}
	for (size_t i = 0; i < n; i++) {
		if (mh_check_shape(json_object_array_get_idx(arr, i), why,
		    sizeof(why)) != 0) {
			snprintf(detail, detail_len, "event %zu: %s", i, why);
			goto err;
		}
	}
	*events = arr;
	return 0;
err:
	json_object_put(arr);
	return -1;
}

static void
mh_copy_list(struct json_object *to, struct json_object *from,
    const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		mh_json_copy(to, keys[i], from, keys[i], 0);
}

/* What an event says, by its shape. */
struct mh_md_event {
	struct json_object *ev, *msg;
	enum mh_shape shape;
	const char *kind, *type, *msgid, *email, *subject, *action;
	int64_t ts;
};

static int
mh_md_read(struct mh_md_event *m, struct json_object *ev)
{
	struct json_object *holder = NULL;
	char why[160];

	memset(m, 0, sizeof(*m));
	m->ev = ev;
	if (mh_classify(ev, &m->shape, &m->kind, why, sizeof(why)) != 0)
		return -1;
	m->msg = mh_json_get(ev, "msg");
	if (!json_object_is_type(m->msg, json_type_object))
		m->msg = NULL;
	m->ts = mh_json_int(ev, "ts");
	switch (m->shape) {
	case MH_SHAPE_MESSAGE:
		m->type = m->kind;
		m->msgid = mh_json_str(m->msg, "_id");
		m->email = mh_json_str(m->msg, "email");
		m->subject = mh_json_str(m->msg, "subject");
		break;
	case MH_SHAPE_SYNC:
		m->type = "sync";
		m->action = mh_json_str(ev, "action");
		holder = mh_json_get(ev, strcmp(m->kind, "blacklist") == 0 ?
		    "reject" : "entry");
		m->email = mh_json_str(holder, "email");
		break;
	case MH_SHAPE_INBOUND:
		m->type = "inbound";
		m->msgid = mh_json_str(mh_json_get(m->msg, "headers"),
		    "Message-Id");
		m->email = mh_json_str(m->msg, "email");
		m->subject = mh_json_str(m->msg, "subject");
		break;
	}
	if (m->msgid == NULL)
		m->msgid = "";
	if (m->action == NULL)
		m->action = "";
	return 0;
}

/* The event in the shared model, with the details of its shape. */
static struct json_object *
mh_md_event(const struct mh_md_event *m, const char *received_at,
    uint64_t receipt)
{
	struct json_object *o = mh_event_new("mandrill", m->type, m->msgid,
	    m->email, m->subject, m->ts, received_at, receipt);

	switch (m->shape) {
	case MH_SHAPE_MESSAGE:
		mh_copy_list(o, m->ev, mh_event_details);
		mh_json_copy(o, "ua", m->ev, "user_agent_parsed", 0);
		mh_copy_list(o, m->msg, mh_msg_details);
		break;
	case MH_SHAPE_SYNC:
		mh_json_set_str(o, "sync_type", m->kind);
		mh_json_set_str(o, "action", m->action);
		mh_json_copy(o, "entry", m->ev, strcmp(m->kind, "blacklist") ==
		    0 ? "reject" : "entry", 0);
		break;
	case MH_SHAPE_INBOUND:
		mh_copy_list(o, m->msg, mh_inbound_details);
		break;
	}
	return o;
}

int
mh_mandrill_normalise(struct json_object *ev, const char *received_at,
    uint64_t receipt, struct mh_normal *out)
{
	struct mh_md_event m;

	out->event = out->entity = NULL;
	out->identity = NULL;
	/* The event as Mandrill sent it is what a retry repeats. */
	if (mh_md_read(&m, ev) != 0 ||
	    (out->identity = mh_identity_of("mandrill", "event", ev)) == NULL)
		return -1;
	out->event = mh_md_event(&m, received_at, receipt);
	return 0;
}

int
mh_mandrill_form_events(const struct mh_form *form,
    struct json_object **events, char *why, size_t whylen)
{
	const struct mh_form_field *field;

	*events = NULL;
	if ((field = mh_form_get(form, "mandrill_events")) == NULL)
		return -1;
	return mh_mandrill_parse(field->value, field->value_len, events, why,
	    whylen) == 0 ? 0 : -2;
}

int
mh_mandrill_items(const char *body, size_t len, struct json_object **items,
    char *why, size_t whylen)
{
	struct mh_form form = { 0 };
	enum mh_form_err ferr;
	int ret = -1;

	*items = NULL;
	if ((ferr = mh_form_parse(body, len, &form)) != MH_FORM_OK)
		snprintf(why, whylen, "form: %s", mh_form_strerror(ferr));
	else if ((ret = mh_mandrill_form_events(&form, items, why,
	    whylen)) == -1)
		snprintf(why, whylen, "mandrill_events missing");
	mh_form_free(&form);
	return ret == 0 ? 0 : -1;
}

#define MH_FORM_TYPE "application/x-www-form-urlencoded"

/*
 * The URL Mandrill signed the webhook for: MANDRILL_WEBHOOK_URL, else
 * MAILHOOKS_PUBLIC_URL's with the request's path and query, else the
 * URL the call reached us at. The caller frees it; NULL when out of
 * memory.
 */
static char *
mh_mandrill_signed_url(const struct mh_hook_call *c)
{
	const char *uri = c->request_uri, *base = c->cfg->public_url;
	size_t blen, n;
	char *url;

	if (c->cfg->mandrill_url != NULL)
		return mh_strdup(c->cfg->mandrill_url);
	if (base == NULL)
		return c->own_url != NULL ? mh_strdup(c->own_url) : NULL;
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

enum mh_hook_verdict
mh_mandrill_accept(const struct mh_hook_call *c, char *why, size_t whylen)
{
	if (mh_media_type_is(c->content_type, MH_FORM_TYPE))
		return MH_HOOK_OK;
	snprintf(why, whylen, "Content-Type must be " MH_FORM_TYPE ", not "
	    "%.64s", c->content_type != NULL && *c->content_type != '\0' ?
	    c->content_type : "(none)");
	return MH_HOOK_MEDIA_TYPE;
}

/* X-Mandrill-Signature, when keys are configured: the HMAC-SHA1 of the
 * URL signed and the form under one of them. */
static enum mh_hook_verdict
mh_mandrill_signed(const struct mh_hook_call *c, const struct mh_form *form,
    char *why, size_t whylen)
{
	char *url;
	int ok;

	if (c->cfg->mandrill_keys == NULL)
		return MH_HOOK_OK;
	if (c->signature == NULL || *c->signature == '\0') {
		snprintf(why, whylen, "X-Mandrill-Signature is missing");
		return MH_HOOK_BAD_SIGNATURE;
	}
	if ((url = mh_mandrill_signed_url(c)) == NULL)
		return MH_HOOK_NOMEM;
	if (!(ok = mh_signature_verify(c->cfg->mandrill_keys, url, form,
	    c->signature)))
		snprintf(why, whylen, "X-Mandrill-Signature does not match the "
		    "request signed for %s with any configured key", url);
	free(url);
	return ok ? MH_HOOK_OK : MH_HOOK_BAD_SIGNATURE;
}

enum mh_hook_verdict
mh_mandrill_check(const struct mh_hook_call *c, size_t *items, char *why,
    size_t whylen)
{
	struct mh_form form = { 0 };
	struct json_object *events = NULL;
	enum mh_hook_verdict v;
	enum mh_form_err ferr;
	int bad;

	if ((ferr = mh_form_parse(c->body, c->len, &form)) != MH_FORM_OK) {
		snprintf(why, whylen, "%s", mh_form_strerror(ferr));
		return ferr == MH_FORM_NOMEM ? MH_HOOK_NOMEM : MH_HOOK_BAD_FORM;
	}
	if ((v = mh_mandrill_signed(c, &form, why, whylen)) != MH_HOOK_OK)
		goto out;
	if ((bad = mh_mandrill_form_events(&form, &events, why, whylen)) ==
	    -1) {
		snprintf(why, whylen, "the form field mandrill_events is "
		    "missing");
		v = MH_HOOK_BAD_FORM;
	} else if (bad != 0)
		v = MH_HOOK_BAD_EVENTS;
	else
		*items = json_object_array_length(events);
out:
	json_object_put(events);
	mh_form_free(&form);
	return v;
}

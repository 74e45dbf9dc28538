/*
 * providers.h: the one table of the providers whose webhooks mailhooks
 * takes (providers.c), part of the core. A provider's name labels its
 * inbox entries, its events, its messages, its refusals and its metrics;
 * its row says how a call of its webhook is checked (its type, its
 * signature or token, its body) and how a raw body it sent becomes
 * events. A new provider is one file (as mandrill.c: checks, parser,
 * normaliser), a row here and its routes (route.c, naming it); the
 * HTTP side's one webhook handler (ingest.c) runs the row.
 */
#ifndef MH_PROVIDERS_H
#define MH_PROVIDERS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct mh_form;
struct mh_normal;

struct mh_config;

/* A call of a webhook as a provider's checks see it: what the HTTP side
 * gathered of the request (NULL when absent). */
struct mh_hook_call {
	const struct mh_config *cfg;
	const char *content_type;
	const char *request_uri;	/* as sent: path and query */
	const char *own_url;		/* the URL it reached us at */
	const char *query;		/* the raw query */
	const char *authorization;	/* the Authorization header */
	const char *signature;		/* X-Mandrill-Signature */
	const char *body;		/* once accepted: the body read */
	size_t len;
};
/* What a provider's check says of a call; the HTTP side answers each
 * with its status and error code (ingest.c), the detail the check's. */
enum mh_hook_verdict {
	MH_HOOK_OK,
	MH_HOOK_MEDIA_TYPE,	/* 415 unsupported_media_type */
	MH_HOOK_NO_TOKEN,	/* 401 unauthorized, a Basic challenge */
	MH_HOOK_BAD_SIGNATURE,	/* 403 bad_signature */
	MH_HOOK_BAD_FORM,	/* 400 bad_form */
	MH_HOOK_BAD_EVENTS,	/* 400 bad_events */
	MH_HOOK_BAD_CALLBACK,	/* 400 bad_callback */
	MH_HOOK_NOMEM,		/* 503 out_of_memory */
};

struct mh_provider {
	const char *name;
	/* Before its body is read: whether the call may be the provider's
	 * (its type, a token it carries), why into why. */
	enum mh_hook_verdict (*accept)(const struct mh_hook_call *c,
	    char *why, size_t whylen);
	/* Its body read: checked whole (the signature over it too), *items
	 * the count of what it carries (0: a test call, not kept). */
	enum mh_hook_verdict (*check)(const struct mh_hook_call *c,
	    size_t *items, char *why, size_t whylen);
	/* The items of a body as it was acknowledged: 0 with *items (the
	 * caller puts it), or -1 with why. */
	int (*items)(const char *body, size_t len, struct json_object **items,
	    char *why, size_t whylen);
	/* One item normalised (core.h's mh_*_normalise). */
	int (*normalise)(struct json_object *item, const char *received_at,
	    uint64_t receipt, struct mh_normal *out);
};
/* Every provider; name NULL ends it. */
extern const struct mh_provider mh_providers[];
/* The provider of that name, or NULL. */
const struct mh_provider *mh_provider_find(const char *name);
/* Its index in mh_providers, or -1. */
int mh_provider_index(const char *name);

/* The metadata a mail sent through Mandrill carries and its events bring
 * back: the mail's id (sender/mandrill.c writes it), and the user who
 * hears of its opens (derive.c reads it). */
#define MH_META_MAIL "mailhooks_mail"
#define MH_META_USER "user_id"

/* --- mandrill.c: Mandrill's webhook and a Mandrill body's events. */
enum mh_hook_verdict mh_mandrill_accept(const struct mh_hook_call *c,
    char *why, size_t whylen);
enum mh_hook_verdict mh_mandrill_check(const struct mh_hook_call *c,
    size_t *items, char *why, size_t whylen);
/* The mandrill_events field of a decoded form, parsed and checked (as
 * mh_mandrill_parse): 0 with *events; -1 when the form has no such
 * field; -2 when its events do not do, why said. */
int mh_mandrill_form_events(const struct mh_form *form,
    struct json_object **events, char *why, size_t whylen);
/* The items of a whole Mandrill body (the form as posted). */
int mh_mandrill_items(const char *body, size_t len,
    struct json_object **items, char *why, size_t whylen);

/* --- infobip.c: Infobip's webhook. */
enum mh_hook_verdict mh_infobip_accept(const struct mh_hook_call *c,
    char *why, size_t whylen);
enum mh_hook_verdict mh_infobip_check(const struct mh_hook_call *c,
    size_t *items, char *why, size_t whylen);

#endif

/*
 * providers.h: the one table of the providers whose webhooks mailhooks
 * takes (providers.c), part of the core. A provider's name labels its
 * inbox entries, its events, its messages and its metrics; its row says
 * how a raw body it sent becomes events. A new provider is its parser and
 * normaliser (a file of its own, as mandrill.c) and a row here; its
 * webhook's route and signature are the HTTP side's (route.c, hook_*.c).
 */
#ifndef MH_PROVIDERS_H
#define MH_PROVIDERS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct mh_form;
struct mh_normal;

struct mh_provider {
	const char *name;
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

/* --- mandrill.c: a Mandrill body's events. */
/* The mandrill_events field of a decoded form, parsed and checked (as
 * mh_mandrill_parse): 0 with *events; -1 when the form has no such
 * field; -2 when its events do not do, why said. */
int mh_mandrill_form_events(const struct mh_form *form,
    struct json_object **events, char *why, size_t whylen);
/* The items of a whole Mandrill body (the form as posted). */
int mh_mandrill_items(const char *body, size_t len,
    struct json_object **items, char *why, size_t whylen);

#endif

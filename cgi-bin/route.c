/*
 * The one route table, and the router: the request's URI split into its
 * decoded path and raw query, matched against the table, answered by the
 * route's handler. The API documentation and its test read this table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"

#define MH_READ (MH_GET | MH_HEAD)

/* HEAD is answered wherever GET is (RFC 9110 9.3.2). www/openapi.json
 * describes each of these; tests/unit/openapi.c holds them equal. */
const struct mh_route mh_routes[] = {
	{ "/webhooks/mandrill", MH_READ | MH_POST, mh_hook_mandrill,
	    "mandrill", MH_PUBLIC },
	{ "/webhooks/infobip", MH_POST, mh_hook_infobip, "infobip",
	    MH_PUBLIC },
	{ "/email", MH_POST, mh_hook_infobip, "infobip", MH_PUBLIC },
	{ "/api/test-event", MH_POST, mh_api_test_event, NULL, MH_ADMIN },
	{ "/api/events", MH_READ, mh_api_events, NULL, MH_SCOPE_EVENTS_READ },
	{ "/api/events.csv", MH_READ, mh_api_events_csv, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/api/events.ndjson", MH_READ, mh_api_events_ndjson, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/api/email-callbacks", MH_READ, mh_api_callbacks, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/api/stats", MH_READ, mh_api_stats, NULL, MH_SCOPE_EVENTS_READ },
	{ "/api/stats/series", MH_READ, mh_api_stats_series, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/api/stats/by", MH_READ, mh_api_stats_by, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/api/stats/links", MH_READ, mh_api_stats_links, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/api/recipients/{email}", MH_DELETE, mh_api_recipient_erase, NULL,
	    MH_ADMIN },
	{ "/api/refused", MH_READ, mh_api_refused, NULL, MH_ADMIN },
	{ "/api/raw/{receipt}/reprocess", MH_POST, mh_api_raw_reprocess, NULL,
	    MH_ADMIN },
	{ "/api/raw/{receipt}", MH_READ, mh_api_raw, NULL, MH_ADMIN },
	/* Public: it tells the anonymous only whether it is up. */
	{ "/api/health", MH_READ, mh_api_health, NULL, MH_PUBLIC },
	{ "/api/messages/{id}", MH_READ, mh_api_message, NULL,
	    MH_SCOPE_EVENTS_READ },
	{ "/metrics", MH_READ, mh_api_metrics, NULL, MH_SCOPE_METRICS_READ },
	/* Signing in is public; the handler says who may do the rest. */
	{ "/api/session", MH_READ | MH_POST | MH_DELETE, mh_api_session, NULL,
	    MH_PUBLIC },
	{ "/api/ws-ticket", MH_READ, mh_api_ws_ticket, NULL,
	    MH_SCOPE_EVENTS_READ },
	/* The events' need events:read, a user's notifications:write: the
	 * handler says. */
	{ "/api/ws-tickets", MH_POST, mh_api_ws_tickets, NULL, MH_SIGNED_IN },
	{ "/api/tokens", MH_READ | MH_POST, mh_api_tokens, NULL, MH_ADMIN },
	{ "/api/tokens/{name}", MH_DELETE, mh_api_token, NULL, MH_ADMIN },
	/* Whose notifications each asker may see and change, the handlers
	 * say (api_notifications.c). */
	{ "/api/notifications", MH_READ | MH_POST, mh_api_notifications, NULL,
	    MH_SIGNED_IN },
	{ "/api/notifications/{key}/read-all", MH_POST, mh_api_notifications_read,
	    NULL, MH_SIGNED_IN },
	{ "/api/notifications/{key}", MH_READ | MH_PUT | MH_DELETE,
	    mh_api_notification, NULL, MH_SIGNED_IN },
	/* Sending needs mail:send, reading events:read or mail:send: the
	 * handlers say (api_mail.c). */
	{ "/api/mail", MH_READ | MH_POST, mh_api_mail, NULL, MH_SIGNED_IN },
	{ "/api/mail/{id}/cancel", MH_POST, mh_api_mail_cancel, NULL,
	    MH_SCOPE_MAIL_SEND },
	{ "/api/mail/{id}", MH_READ, mh_api_mail_one, NULL, MH_SIGNED_IN },
	/* Changes need campaigns:write, reading events:read: the handlers
	 * say (api_clients.c). */
	{ "/api/clients", MH_READ | MH_POST, mh_api_clients, NULL,
	    MH_SIGNED_IN },
	{ "/api/clients/{id}", MH_READ | MH_PATCH | MH_DELETE, mh_api_client,
	    NULL, MH_SIGNED_IN },
	{ "/api/campaigns", MH_READ | MH_POST, mh_api_campaigns, NULL,
	    MH_SIGNED_IN },
	/* Before {id}: "stats" is no campaign's id. */
	{ "/api/campaigns/stats", MH_READ, mh_api_campaigns_stats, NULL,
	    MH_SIGNED_IN },
	{ "/api/campaigns/audience", MH_POST, mh_api_campaign_audience, NULL,
	    MH_SIGNED_IN },
	{ "/api/campaigns/{id}/stats", MH_READ, mh_api_campaign_stats, NULL,
	    MH_SIGNED_IN },
	{ "/api/campaigns/{id}/messages", MH_READ, mh_api_campaign_messages,
	    NULL, MH_SIGNED_IN },
	{ "/api/campaigns/{id}", MH_READ | MH_PATCH | MH_DELETE,
	    mh_api_campaign, NULL, MH_SIGNED_IN },
	{ NULL, 0, NULL, NULL, 0 },
};

const struct mh_method mh_methods[] = {
	{ "GET", MH_GET }, { "HEAD", MH_HEAD }, { "POST", MH_POST },
	{ "PUT", MH_PUT }, { "PATCH", MH_PATCH }, { "DELETE", MH_DELETE },
	{ NULL, 0 },
};

static unsigned
mh_method_bit(const char *method)
{
	for (const struct mh_method *m = mh_methods; m->name != NULL; m++)
		if (strcmp(method, m->name) == 0)
			return m->bit;
	return 0;
}

/* A 405 for a route's path asked with another method, with the methods
 * it takes in Allow. */
static void
mh_respond_not_allowed(struct mh_request *r, unsigned methods)
{
	size_t used = 0;

	/* Every name, each with ", ", fits in r->allow. */
	r->allow[0] = '\0';
	for (const struct mh_method *m = mh_methods; m->name != NULL; m++)
		if ((methods & m->bit) != 0 && used < sizeof(r->allow))
			used += (size_t)snprintf(r->allow + used,
			    sizeof(r->allow) - used, "%s%s", used ? ", " : "",
			    m->name);
	mh_respond_error(r, 405, "method_not_allowed",
	    "%.16s is not allowed here: use %s", r->method, r->allow);
}

/* Whether the first n bytes of raw, percent-decoded, are s's first m. */
static int
mh_decoded_is(const char *raw, size_t n, const char *s, size_t m)
{
	char *d = mh_strndup(raw, n);
	long len = d != NULL ? mh_percent_decode(d, n, 0) : -1;
	int is = len >= 0 && (size_t)len == m && memcmp(d, s, m) == 0;

	free(d);
	return is;
}

/*
 * Whether the request is the route's: its decoded path the same, or with
 * a trailing slash (it names the same resource). A route holding a
 * {parameter} takes that segment of the path as it was sent, decoded only
 * once the path is split, so that the parameter may hold an encoded '/';
 * what follows the parameter in the route ("/read-all") must end the
 * path. r->param is set. -1 when out of memory.
 */
static int
mh_route_match(const char *pattern, struct mh_request *r)
{
	const char *brace = strchr(pattern, '{');
	const char *raw = r->raw_path != NULL ? r->raw_path : r->path, *seg;
	const char *suffix = brace != NULL ? strchr(brace, '}') + 1 : "";
	size_t n = brace ? (size_t)(brace - pattern) : strlen(pattern);
	size_t rlen = strlen(raw), slen = strlen(suffix);
	char *head;
	int match = 0;

	if (brace == NULL)
		return strncmp(r->path, pattern, n) == 0 && (r->path[n] == '\0' ||
		    (r->path[n] == '/' && r->path[n + 1] == '\0'));
	if (rlen <= slen || strcmp(raw + rlen - slen, suffix) != 0)
		return 0;
	/* The path without the suffix, its last segment the parameter. */
	if ((head = mh_strndup(raw, rlen - slen)) == NULL)
		return -1;
	if ((seg = strrchr(head, '/')) != NULL && *++seg != '\0' &&
	    mh_decoded_is(head, (size_t)(seg - head), pattern, n)) {
		free(r->param);
		if ((r->param = mh_strdup(seg)) == NULL)
			match = -1;
		else {
			/* The whole path decoded already: this cannot fail. */
			mh_percent_decode(r->param, strlen(r->param), 0);
			match = 1;
		}
	}
	free(head);
	return match;
}

static void
mh_route(struct mh_app *app, struct mh_request *r)
{
	unsigned method = mh_method_bit(r->method);
	const struct mh_route *rt;
	int match = 0;

	for (rt = mh_routes; rt->path != NULL; rt++)
		if ((match = mh_route_match(rt->path, r)) != 0)
			break;
	if (match < 0)
		mh_respond_nomem(r);
	else if (rt->path == NULL)
		mh_respond_error(r, 404, "not_found", "no route for %.200s",
		    r->path);
	else {
		/* A webhook's refusals are logged, a wrong method's too. */
		r->provider = rt->provider;
		r->route = (int)(rt - mh_routes);
		if ((rt->methods & method) == 0)
			mh_respond_not_allowed(r, rt->methods);
		else if (mh_authorize(app, r, rt->access) == 0)
			rt->handle(app, r);
	}
}

/* The route an .htaccess rewrite names, relative to where mailhooks is
 * installed (the site may live under a sub-path); Apache renames it after
 * its internal redirect. Already decoded. */
static const char *
mh_rewritten_route(const struct mh_request *r)
{
	const char *route = mh_param(r, "MAILHOOKS_ROUTE");

	if (route == NULL)
		route = mh_param(r, "REDIRECT_MAILHOOKS_ROUTE");
	return route != NULL && *route == '/' ? route : NULL;
}

void
mh_serve(struct mh_app *app, struct mh_request *r)
{
	const char *uri, *q, *route;
	size_t plen;
	long n;

	r->method = mh_param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	uri = mh_param(r, "REQUEST_URI");
	if (uri == NULL)
		uri = mh_param(r, "SCRIPT_NAME");
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	r->query = q ? q + 1 : "";
	if ((r->path = mh_strndup(uri, plen)) == NULL ||
	    (r->raw_path = mh_strndup(uri, plen)) == NULL) {
		mh_respond_nomem(r);
		return;
	}
	n = mh_percent_decode(r->path, plen, 0);
	if (n >= 0 && (route = mh_rewritten_route(r)) != NULL) {
		/* Named by a rewrite, decoded already: no path as sent. */
		free(r->path);
		free(r->raw_path);
		r->raw_path = NULL;
		if ((r->path = mh_strdup(route)) == NULL) {
			mh_respond_nomem(r);
			return;
		}
		n = (long)strlen(r->path);
	}
	if (n < 0 || (size_t)n != strlen(r->path))
		mh_respond_error(r, 400, "bad_path",
		    "the path has a malformed percent-escape or a NUL byte");
	else
		mh_route(app, r);
}

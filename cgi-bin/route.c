/*
 * The one route table, and the router: the request's URI split into its
 * decoded path and raw query, matched against the table, answered by the
 * route's handler. The API documentation and its test read this table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"

/* Who may read and change clients and campaigns, send mail and read it. */
#define MH_EV MH_SCOPE_EVENTS_READ
#define MH_CAMPAIGN_READ (MH_ANY_SCOPE | MH_EV | MH_SCOPE_CAMPAIGNS_WRITE)
#define MH_CAMPAIGN_WRITE MH_SCOPE_CAMPAIGNS_WRITE
#define MH_MAIL_READ (MH_ANY_SCOPE | MH_EV | MH_SCOPE_MAIL_SEND)

/* HEAD is answered wherever GET is (RFC 9110 9.3.2). www/openapi.json
 * describes each of these; tests/unit/openapi.c holds them equal, access
 * included. MH_SIGNED_IN: the handler says whose records the asker may
 * touch (a user's own notifications, tickets for their own channel). */
const struct mh_route mh_routes[] = {
	/* Mandrill checks the URL answers before it issues a key. */
	{ MH_GET, "/webhooks/mandrill", MH_PUBLIC, MH_NO_BODY,
	    mh_hook_alive, "mandrill" },
	{ MH_POST, "/webhooks/mandrill", MH_PUBLIC, MH_FORM_BODY, mh_hook,
	    "mandrill" },
	{ MH_POST, "/webhooks/infobip", MH_PUBLIC, MH_JSON_BODY, mh_hook,
	    "infobip" },
	{ MH_POST, "/email", MH_PUBLIC, MH_JSON_BODY, mh_hook, "infobip" },
	{ MH_POST, "/api/test-event", MH_ADMIN, MH_JSON_BODY_OPTIONAL,
	    mh_api_test_event, NULL },
	{ MH_GET, "/api/events", MH_EV, MH_NO_BODY, mh_api_events, NULL },
	{ MH_GET, "/api/events.csv", MH_EV, MH_NO_BODY,
	    mh_api_events_csv, NULL },
	{ MH_GET, "/api/events.ndjson", MH_EV, MH_NO_BODY,
	    mh_api_events_ndjson, NULL },
	{ MH_GET, "/api/email-callbacks", MH_EV, MH_NO_BODY,
	    mh_api_callbacks, NULL },
	{ MH_GET, "/api/stats", MH_EV, MH_NO_BODY, mh_api_stats, NULL },
	{ MH_GET, "/api/stats/series", MH_EV, MH_NO_BODY,
	    mh_api_stats_series, NULL },
	{ MH_GET, "/api/stats/by", MH_EV, MH_NO_BODY, mh_api_stats_by, NULL },
	{ MH_GET, "/api/stats/links", MH_EV, MH_NO_BODY,
	    mh_api_stats_links, NULL },
	{ MH_DELETE, "/api/recipients/{email}", MH_ADMIN, MH_NO_BODY,
	    mh_api_recipient_erase, NULL },
	{ MH_GET, "/api/refused", MH_ADMIN, MH_NO_BODY, mh_api_refused, NULL },
	{ MH_POST, "/api/raw/{receipt}/reprocess", MH_ADMIN, MH_NO_BODY,
	    mh_api_raw_reprocess, NULL },
	{ MH_GET, "/api/raw/{receipt}", MH_ADMIN, MH_NO_BODY,
	    mh_api_raw, NULL },
	/* Public: it tells the anonymous only whether it is up. */
	{ MH_GET, "/api/health", MH_PUBLIC, MH_NO_BODY, mh_api_health, NULL },
	{ MH_GET, "/api/messages/{id}", MH_EV, MH_NO_BODY,
	    mh_api_message, NULL },
	{ MH_GET, "/metrics", MH_SCOPE_METRICS_READ, MH_NO_BODY,
	    mh_api_metrics, NULL },
	/* Who is signed in (a 401 says nobody), signing in, signing out (a
	 * session's own). */
	{ MH_GET, "/api/session", MH_PUBLIC, MH_NO_BODY, mh_api_session, NULL },
	{ MH_POST, "/api/session", MH_PUBLIC, MH_JSON_BODY,
	    mh_api_sign_in, NULL },
	{ MH_DELETE, "/api/session", MH_PUBLIC, MH_NO_BODY,
	    mh_api_sign_out, NULL },
	{ MH_GET, "/api/ws-ticket", MH_EV, MH_NO_BODY, mh_api_ws_ticket, NULL },
	{ MH_POST, "/api/ws-tickets", MH_SIGNED_IN, MH_JSON_BODY,
	    mh_api_ws_tickets, NULL },
	{ MH_GET, "/api/tokens", MH_ADMIN, MH_NO_BODY, mh_api_tokens, NULL },
	{ MH_POST, "/api/tokens", MH_ADMIN, MH_JSON_BODY,
	    mh_api_token_create, NULL },
	{ MH_DELETE, "/api/tokens/{name}", MH_ADMIN, MH_NO_BODY,
	    mh_api_token, NULL },
	{ MH_GET, "/api/notifications", MH_SIGNED_IN, MH_NO_BODY,
	    mh_api_notifications, NULL },
	{ MH_POST, "/api/notifications", MH_SCOPE_NOTIFICATIONS_WRITE,
	    MH_JSON_BODY, mh_api_notification_create, NULL },
	{ MH_POST, "/api/notifications/{key}/read-all", MH_SIGNED_IN,
	    MH_NO_BODY, mh_api_notifications_read, NULL },
	{ MH_GET, "/api/notifications/{key}", MH_SIGNED_IN, MH_NO_BODY,
	    mh_api_notification, NULL },
	{ MH_PUT, "/api/notifications/{key}", MH_SIGNED_IN,
	    MH_JSON_BODY_OPTIONAL, mh_api_notification_mark, NULL },
	{ MH_DELETE, "/api/notifications/{key}", MH_SIGNED_IN, MH_NO_BODY,
	    mh_api_notification_delete, NULL },
	{ MH_GET, "/api/mail", MH_MAIL_READ, MH_NO_BODY, mh_api_mail, NULL },
	{ MH_POST, "/api/mail", MH_SCOPE_MAIL_SEND, MH_JSON_BODY,
	    mh_api_mail_send, NULL },
	{ MH_POST, "/api/mail/{id}/cancel", MH_SCOPE_MAIL_SEND, MH_NO_BODY,
	    mh_api_mail_cancel, NULL },
	{ MH_GET, "/api/mail/{id}", MH_MAIL_READ, MH_NO_BODY,
	    mh_api_mail_one, NULL },
	{ MH_GET, "/api/clients", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_clients, NULL },
	{ MH_POST, "/api/clients", MH_CAMPAIGN_WRITE, MH_JSON_BODY,
	    mh_api_client_create, NULL },
	/* Before {id}: "import" is no client's id. */
	{ MH_POST, "/api/clients/import", MH_CAMPAIGN_WRITE, MH_IMPORT_BODY,
	    mh_api_clients_import, NULL },
	{ MH_GET, "/api/clients.csv", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_clients_csv, NULL },
	{ MH_GET, "/api/clients/{id}", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_client, NULL },
	{ MH_PATCH, "/api/clients/{id}", MH_CAMPAIGN_WRITE, MH_JSON_BODY,
	    mh_api_client_patch, NULL },
	{ MH_DELETE, "/api/clients/{id}", MH_CAMPAIGN_WRITE, MH_NO_BODY,
	    mh_api_client_delete, NULL },
	/* Public: a campaign mail's List-Unsubscribe link, signed. */
	{ MH_GET, "/api/unsubscribe/{token}", MH_PUBLIC, MH_NO_BODY,
	    mh_api_unsubscribe_page, NULL },
	{ MH_POST, "/api/unsubscribe/{token}", MH_PUBLIC, MH_FORM_BODY,
	    mh_api_unsubscribe, NULL },
	/* Public: the trap link hidden in mail sent, followed by machines. */
	{ MH_GET, "/api/trap", MH_PUBLIC, MH_NO_BODY, mh_api_trap, NULL },
	{ MH_GET, "/api/campaigns", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_campaigns, NULL },
	{ MH_POST, "/api/campaigns", MH_CAMPAIGN_WRITE, MH_JSON_BODY,
	    mh_api_campaign_create, NULL },
	/* Before {id}: "stats" is no campaign's id. */
	{ MH_GET, "/api/campaigns/stats", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_campaigns_stats, NULL },
	{ MH_POST, "/api/campaigns/audience", MH_CAMPAIGN_READ, MH_JSON_BODY,
	    mh_api_campaign_audience, NULL },
	{ MH_GET, "/api/campaigns/{id}/stats", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_campaign_stats, NULL },
	{ MH_GET, "/api/campaigns/{id}/messages", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_campaign_messages, NULL },
	{ MH_GET, "/api/campaigns/{id}", MH_CAMPAIGN_READ, MH_NO_BODY,
	    mh_api_campaign, NULL },
	{ MH_PATCH, "/api/campaigns/{id}", MH_CAMPAIGN_WRITE, MH_JSON_BODY,
	    mh_api_campaign_patch, NULL },
	{ MH_DELETE, "/api/campaigns/{id}", MH_CAMPAIGN_WRITE, MH_NO_BODY,
	    mh_api_campaign_delete, NULL },
	{ 0, NULL, 0, MH_NO_BODY, NULL, NULL },
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
	mh_respond_error(r, MH_ERR_METHOD_NOT_ALLOWED,
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

/* Whether a row of this method answers the request's. */
static int
mh_route_takes(const struct mh_route *rt, unsigned verb)
{
	return rt->method == verb || (verb == MH_HEAD && rt->method == MH_GET);
}

/*
 * Finds the request's row: of the first path that matches (the table's
 * order decides: "/api/campaigns/stats" before "/api/campaigns/{id}"),
 * the row of its method. 0 with *row set; 405 with *row the path's first
 * row and *methods what its rows take; 404 with no row; -1 when out of
 * memory.
 */
static int
mh_route_find(struct mh_request *r, const struct mh_route **row,
    unsigned *methods)
{
	const char *last = NULL;
	int match = 0;

	*row = NULL;
	*methods = 0;
	for (const struct mh_route *rt = mh_routes; rt->path != NULL; rt++) {
		/* A path's rows are together: matched once. */
		if (last == NULL || strcmp(last, rt->path) != 0) {
			if (*row != NULL)
				break;	/* the path that matched has no more */
			last = rt->path;
			if ((match = mh_route_match(rt->path, r)) < 0)
				return -1;
		}
		if (!match)
			continue;
		if (*row == NULL)
			*row = rt;
		*methods |= rt->method | (rt->method == MH_GET ? MH_HEAD : 0);
		if (mh_route_takes(rt, r->verb)) {
			*row = rt;
			return 0;
		}
	}
	return *row != NULL ? 405 : 404;
}

static void
mh_route(struct mh_app *app, struct mh_request *r)
{
	const struct mh_route *rt;
	unsigned methods;
	int found = mh_route_find(r, &rt, &methods);

	if (found < 0) {
		mh_respond_nomem(r);
		return;
	}
	if (found == 404) {
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no route for %.200s",
		    r->path);
		return;
	}
	/* A webhook's refusals are logged, a wrong method's too. */
	r->provider = rt->provider;
	r->route = (int)(rt - mh_routes);
	if (found == 405)
		mh_respond_not_allowed(r, methods);
	else if (mh_authorize(app, r, rt->access) == 0)
		rt->handle(app, r);
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
	r->verb = mh_method_bit(r->method);
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
		mh_respond_error(r, MH_ERR_BAD_PATH,
		    "the path has a malformed percent-escape or a NUL byte");
	else
		mh_route(app, r);
}

/*
 * The one route table, and the router: the request's URI split into its
 * decoded path and raw query, matched against the table, answered by the
 * route's handler. The API documentation and its test read this table.
 */
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"

#define MH_READ (MH_GET | MH_HEAD)

const struct mh_route mh_routes[] = {
	{ "/webhooks/mandrill", MH_ANY, mh_hook_mandrill, "mandrill" },
	{ "/webhooks/infobip", MH_ANY, mh_hook_infobip, "infobip" },
	{ "/email", MH_ANY, mh_hook_infobip, "infobip" },
	{ "/api/test-event", MH_ANY, mh_api_test_event, NULL },
	{ "/api/events", MH_READ, mh_api_events, NULL },
	{ "/api/email-callbacks", MH_READ, mh_api_callbacks, NULL },
	{ "/api/stats", MH_READ, mh_api_stats, NULL },
	{ "/api/health", MH_READ, mh_api_health, NULL },
	{ "/api/messages/{id}", MH_READ, mh_api_message, NULL },
	{ NULL, 0, NULL, NULL },
};

static unsigned
mh_method_bit(const char *method)
{
	if (strcmp(method, "GET") == 0)
		return MH_GET;
	if (strcmp(method, "HEAD") == 0)
		return MH_HEAD;
	if (strcmp(method, "POST") == 0)
		return MH_POST;
	return 0;
}

/*
 * Whether path is the route's: the same, or with a trailing slash (it
 * names the same resource); a route ending in a {parameter} takes one
 * non-empty last segment, set in *param.
 */
static int
mh_route_match(const char *pattern, const char *path, const char **param)
{
	const char *brace = strchr(pattern, '{');
	size_t n = brace ? (size_t)(brace - pattern) : strlen(pattern);

	if (strncmp(path, pattern, n) != 0)
		return 0;
	path += n;
	if (brace == NULL)
		return *path == '\0' || (*path == '/' && path[1] == '\0');
	if (*path == '\0' || strchr(path, '/') != NULL)
		return 0;
	*param = path;
	return 1;
}

static void
mh_route(struct mh_app *app, struct mh_request *r)
{
	unsigned method = mh_method_bit(r->method);
	const struct mh_route *rt;

	for (rt = mh_routes; rt->path != NULL; rt++)
		if (mh_route_match(rt->path, r->path, &r->param))
			break;
	if (rt->path != NULL && (rt->methods == MH_ANY ||
	    (rt->methods & method) != 0)) {
		r->provider = rt->provider;
		rt->handle(app, r);
	} else if (strncmp(r->path, "/api/", 5) == 0 &&
	    (method & (MH_GET | MH_HEAD)) == 0)
		mh_respond_error(r, 405, "method_not_allowed",
		    "%s is not allowed here: the API is read-only (GET, HEAD)",
		    r->method);
	else
		mh_respond_error(r, 404, "not_found", "no route for %.200s",
		    r->path);
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
	if ((r->path = mh_strndup(uri, plen)) == NULL) {
		mh_respond_nomem(r);
		return;
	}
	n = mh_percent_decode(r->path, plen, 0);
	if (n >= 0 && (route = mh_rewritten_route(r)) != NULL) {
		free(r->path);
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

/* The API's description (www/openapi.json) and the router's own table
 * (cgi-bin/route.c, mh_routes) name the same (method, path) pairs, and the
 * description's event types are the types' one table. A route added
 * without its description, or described but gone, fails here; the test
 * shows it can, on a table with one route added and one taken away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "tap.h"
#include "cgi-bin/mailhooks.h"

static const char *const spec_methods[] = {
	"get", "head", "post", "put", "patch", "delete", "options", "trace",
	NULL
};

/* The route of this path and method in the table (a GET's answers
 * HEAD), or NULL. */
static const struct mh_route *
table_has(const struct mh_route *routes, const char *path, unsigned bit)
{
	for (; routes->path != NULL; routes++)
		if (strcmp(routes->path, path) == 0 && (routes->method == bit ||
		    (bit == MH_HEAD && routes->method == MH_GET)))
			return routes;
	return NULL;
}

/* A method bit's name. */
static const char *
method_name(unsigned bit)
{
	for (const struct mh_method *m = mh_methods; m->name != NULL; m++)
		if (m->bit == bit)
			return m->name;
	return "?";
}

static unsigned
method_bit(const char *name)
{
	for (const struct mh_method *m = mh_methods; m->name != NULL; m++)
		if (strcasecmp(m->name, name) == 0)
			return m->bit;
	return 0;
}

/* The description's operation of a route's method, or NULL. */
static struct json_object *
described(struct json_object *paths, const char *path, const char *method)
{
	struct json_object *item, *op;
	char lower[16];
	size_t i;

	for (i = 0; method[i] != '\0' && i < 15; i++)
		lower[i] = (char)(method[i] | 0x20);
	lower[i] = '\0';
	if (json_object_object_get_ex(paths, path, &item) &&
	    json_object_object_get_ex(item, lower, &op))
		return op;
	return NULL;
}

/* Differences between the table and the description's paths, each said
 * (as a TAP comment) when loud. HEAD is answered wherever GET is, and
 * described with it: no row is HEAD's alone. */
static int
differences(const struct mh_route *routes, struct json_object *paths,
    int loud)
{
	struct json_object *op;
	int n = 0;

	for (const struct mh_route *rt = routes; rt->path != NULL; rt++) {
		if (rt->method == MH_HEAD) {
			n++;
			if (loud)
				printf("# %s: HEAD goes with GET\n",
				    rt->path);
		} else if (described(paths, rt->path,
		    method_name(rt->method)) == NULL) {
			n++;
			if (loud)
				printf("# %s %s is answered, not described\n",
				    method_name(rt->method), rt->path);
		}
	}
	json_object_object_foreach(paths, path, ops) {
		for (int i = 0; spec_methods[i] != NULL; i++) {
			unsigned bit = method_bit(spec_methods[i]);

			if (!json_object_object_get_ex(ops, spec_methods[i],
			    &op) || (bit != 0 && table_has(routes, path, bit)))
				continue;
			n++;
			if (loud)
				printf("# %s %s is described, not answered\n",
				    spec_methods[i], path);
		}
	}
	return n;
}

/* The bearer tokens a route takes, as its description would say them:
 * one requirement of every scope it needs, or (MH_ANY_SCOPE) one
 * requirement for each scope that is enough. */
static struct json_object *
wanted_bearers(const struct mh_route *rt)
{
	struct json_object *all = json_object_new_array(), *one = NULL;

	for (const struct mh_scope *s = mh_scopes; s->name != NULL; s++) {
		if (!(rt->access & s->bit))
			continue;
		if (one == NULL || (rt->access & MH_ANY_SCOPE)) {
			one = json_object_new_array();
			json_object_array_add(all, one);
		}
		json_object_array_add(one, json_object_new_string(s->name));
	}
	if (one == NULL)	/* any token: none named */
		json_object_array_add(all, json_object_new_array());
	return all;
}

/* Whether a described operation's security is what the route's access
 * says: a protected route takes the session and, unless it needs the
 * admin role, bearer tokens of exactly its scopes (every one, or each
 * that is enough), and describes the 401 and the 403; a public one asks
 * for no session or token. */
static int
security_matches(const struct mh_route *rt, struct json_object *op)
{
	struct json_object *sec, *resp, *scopes, *want, *got;
	int session = 0, bearer = 0, same;
	size_t n;

	if (!json_object_object_get_ex(op, "security", &sec) ||
	    !json_object_is_type(sec, json_type_array))
		return 0;
	n = json_object_array_length(sec);
	want = wanted_bearers(rt);
	got = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *req = json_object_array_get_idx(sec, i);

		if (json_object_object_get_ex(req, "session", &scopes))
			session = 1;
		if (json_object_object_get_ex(req, "bearerToken", &scopes)) {
			bearer = 1;
			json_object_array_add(got, json_object_get(scopes));
		}
	}
	same = json_object_equal(got, want);
	json_object_put(want);
	json_object_put(got);
	if (rt->access == MH_PUBLIC)
		return !session && !bearer;
	return session && bearer == !(rt->access & MH_ADMIN) &&
	    (same || (rt->access & MH_ADMIN)) &&
	    json_object_object_get_ex(op, "responses", &resp) &&
	    json_object_object_get_ex(resp, "401", NULL) &&
	    json_object_object_get_ex(resp, "403", NULL);
}

/* Routes whose description does not say who may call them, each said
 * when loud. /api/session, whose handler decides (anybody signs in, only
 * a session signs out), is not held to it. */
static int
access_differences(const struct mh_route *routes, struct json_object *paths,
    int loud)
{
	int n = 0;

	for (const struct mh_route *rt = routes; rt->path != NULL; rt++) {
		struct json_object *op;
		const char *m = method_name(rt->method);

		if (strcmp(rt->path, "/api/session") == 0 ||
		    ((op = described(paths, rt->path, m)) != NULL &&
		    security_matches(rt, op)))
			continue;
		n++;
		if (loud)
			printf("# %s %s: its security is not its access\n", m,
			    rt->path);
	}
	return n;
}

/* The body a described operation takes, as the route table says it. */
static enum mh_body
described_body(struct json_object *op)
{
	struct json_object *rb, *content, *req;
	int required;

	if (!json_object_object_get_ex(op, "requestBody", &rb))
		return MH_NO_BODY;
	required = json_object_object_get_ex(rb, "required", &req) &&
	    json_object_get_boolean(req);
	if (!json_object_object_get_ex(rb, "content", &content))
		return (enum mh_body)-1;
	if (json_object_object_get_ex(content, "application/json", NULL))
		return required ? MH_JSON_BODY : MH_JSON_BODY_OPTIONAL;
	if (json_object_object_get_ex(content,
	    "application/x-www-form-urlencoded", NULL))
		return MH_FORM_BODY;
	if (json_object_object_get_ex(content, "text/csv", NULL) &&
	    json_object_object_get_ex(content, "application/x-ndjson", NULL))
		return MH_IMPORT_BODY;
	return (enum mh_body)-1;
}

/* Routes whose description takes another body than the row says, each
 * said when loud. */
static int
body_differences(const struct mh_route *routes, struct json_object *paths,
    int loud)
{
	int n = 0;

	for (const struct mh_route *rt = routes; rt->path != NULL; rt++) {
		struct json_object *op;
		const char *m = method_name(rt->method);

		if ((op = described(paths, rt->path, m)) == NULL ||
		    described_body(op) == rt->body)
			continue;
		n++;
		if (loud)
			printf("# %s %s: its request body is not the row's\n",
			    m, rt->path);
	}
	return n;
}

static struct json_object *
load(const char *file)
{
	struct json_object *o = json_object_from_file(file);

	if (o == NULL)
		printf("# %s: %s\n", file, json_util_get_last_err());
	return o;
}

int
main(void)
{
	struct json_object *spec = load("www/openapi.json"), *paths, *types,
	    *e, *schemas, *schema, *enums;
	struct mh_route more[96], fewer[96];
	size_t n = 0, i;

	if (!ok(spec != NULL, "www/openapi.json is JSON"))
		return done_testing();
	ok(json_object_object_get_ex(spec, "openapi", &e) &&
	    strncmp(json_object_get_string(e), "3.1", 3) == 0, "OpenAPI 3.1");
	ok(json_object_object_get_ex(spec, "info", &e) &&
	    json_object_object_get_ex(e, "version", &e) &&
	    strcmp(json_object_get_string(e), MH_VERSION) == 0,
	    "of this version, " MH_VERSION);
	if (!ok(json_object_object_get_ex(spec, "paths", &paths),
	    "it has paths"))
		return done_testing();
	ok(differences(mh_routes, paths, 1) == 0,
	    "the router's table and the description name the same routes");
	ok(described(paths, "/webhooks/mandrill", "head") != NULL,
	    "HEAD /webhooks/mandrill, Mandrill's check of the URL, is "
	    "described");

	/* The self-check: one route more, then one fewer. */
	while (mh_routes[n].path != NULL && n < 94)
		n++;
	memcpy(more, mh_routes, n * sizeof(more[0]));
	more[n] = (struct mh_route){ MH_GET, "/api/undescribed", MH_PUBLIC,
	    MH_NO_BODY, mh_routes[0].handle, NULL };
	more[n + 1] = (struct mh_route){ 0, NULL, 0, MH_NO_BODY, NULL, NULL };
	ok(differences(more, paths, 0) == 1,
	    "self-check: a route added without its description is found");
	memcpy(fewer, mh_routes + 1, n * sizeof(fewer[0]));
	ok(differences(fewer, paths, 0) > 0,
	    "self-check: a described route gone from the table is found");
	more[n] = (struct mh_route){ MH_HEAD, "/api/events", MH_PUBLIC,
	    MH_NO_BODY, mh_routes[0].handle, NULL };
	ok(differences(more, paths, 0) == 1,
	    "self-check: HEAD apart from GET is found");

	/* What each takes: the table's body is the description's. */
	ok(body_differences(mh_routes, paths, 1) == 0,
	    "each route's description takes the body its row says");
	memcpy(more, mh_routes, (n + 1) * sizeof(more[0]));
	for (i = 0; i < n && strcmp(more[i].path, "/api/clients") != 0; i++)
		;
	more[i].body = more[i].body == MH_NO_BODY ? MH_JSON_BODY : MH_NO_BODY;
	ok(body_differences(more, paths, 0) == 1,
	    "self-check: a row whose body is not described is found");

	/* Who may call what: the table's access is the description's. */
	ok(access_differences(mh_routes, paths, 1) == 0,
	    "each route's description says who may call it, as the router "
	    "checks");
	memcpy(more, mh_routes, (n + 1) * sizeof(more[0]));
	for (i = 0; i < n && strcmp(more[i].path, "/api/stats") != 0; i++)
		;
	more[i].access = MH_SCOPE_METRICS_READ;
	ok(access_differences(more, paths, 0) == 1,
	    "self-check: a route whose scope changed is found");
	more[i].access = MH_PUBLIC;
	ok(access_differences(more, paths, 0) == 1,
	    "self-check: a route made public is found");

	/* The event types: the one table's, in its order. */
	ok(json_object_object_get_ex(spec, "components", &e) &&
	    json_object_object_get_ex(e, "schemas", &schemas) &&
	    json_object_object_get_ex(schemas, "EventType", &schema) &&
	    json_object_object_get_ex(schema, "enum", &enums),
	    "the description has the EventType schema");
	types = json_object_new_array();
	for (i = 0; mh_event_types[i].name != NULL; i++)
		json_object_array_add(types,
		    json_object_new_string(mh_event_types[i].name));
	ok(enums != NULL && json_object_equal(enums, types),
	    "its enum is the event types' table");
	json_object_put(types);
	json_object_put(spec);
	return done_testing();
}

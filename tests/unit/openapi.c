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
#include "../../cgi-bin/mailhooks.h"

static const char *const spec_methods[] = {
	"get", "head", "post", "put", "patch", "delete", "options", "trace",
	NULL
};

/* The route of this path and method in the table, or NULL. */
static const struct mh_route *
table_has(const struct mh_route *routes, const char *path, unsigned bit)
{
	for (; routes->path != NULL; routes++)
		if (strcmp(routes->path, path) == 0 && (routes->methods & bit))
			return routes;
	return NULL;
}

static unsigned
method_bit(const char *name)
{
	for (const struct mh_method *m = mh_methods; m->name != NULL; m++)
		if (strcasecmp(m->name, name) == 0)
			return m->bit;
	return 0;
}

/* Differences between the table and the description's paths, each said
 * (as a TAP comment) when loud. HEAD is answered wherever GET is, and
 * described with it. */
static int
differences(const struct mh_route *routes, struct json_object *paths,
    int loud)
{
	struct json_object *item, *op;
	int n = 0;

	for (const struct mh_route *rt = routes; rt->path != NULL; rt++) {
		if (!!(rt->methods & MH_GET) != !!(rt->methods & MH_HEAD)) {
			n++;
			if (loud)
				printf("# %s: HEAD and GET go together\n",
				    rt->path);
		}
		for (const struct mh_method *m = mh_methods; m->name; m++) {
			char lower[16];
			size_t i;

			if (!(rt->methods & m->bit) || m->bit == MH_HEAD)
				continue;
			for (i = 0; m->name[i] != '\0' && i < 15; i++)
				lower[i] = (char)(m->name[i] | 0x20);
			lower[i] = '\0';
			if (json_object_object_get_ex(paths, rt->path, &item) &&
			    json_object_object_get_ex(item, lower, &op))
				continue;
			n++;
			if (loud)
				printf("# %s %s is answered, not described\n",
				    m->name, rt->path);
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
	struct mh_route more[64], fewer[64];
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

	/* The self-check: one route more, then one fewer. */
	while (mh_routes[n].path != NULL && n < 62)
		n++;
	memcpy(more, mh_routes, n * sizeof(more[0]));
	more[n] = (struct mh_route){ "/api/undescribed", MH_GET | MH_HEAD,
	    mh_routes[0].handle, NULL };
	more[n + 1] = (struct mh_route){ NULL, 0, NULL, NULL };
	ok(differences(more, paths, 0) == 1,
	    "self-check: a route added without its description is found");
	memcpy(fewer, mh_routes + 1, n * sizeof(fewer[0]));
	ok(differences(fewer, paths, 0) > 0,
	    "self-check: a described route gone from the table is found");
	more[n] = (struct mh_route){ "/api/events", MH_GET, mh_routes[0].handle,
	    NULL };
	ok(differences(more, paths, 0) == 1,
	    "self-check: GET without HEAD is found");

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

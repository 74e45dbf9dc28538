/* Shape checks declared as tables, and the small list helpers. */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"

enum { SHAPE_A, SHAPE_B };

static const struct mh_rule rules[] = {
	{ SHAPE_A, NULL, NULL, "id", T_STR, 1 },
	{ SHAPE_A, NULL, NULL, "n", T_NUM | T_NULL, 0 },
	{ SHAPE_A, NULL, NULL, "in", T_OBJ, 0 },
	{ SHAPE_A, NULL, "in", "deep", T_ARR, 1 },
	{ SHAPE_A, "click", NULL, "url", T_STR, 1 },
	{ SHAPE_B, NULL, NULL, "flag", T_BOOL, 1 },
};

/* Checks text against shape A or B with kind; returns the reason or
 * "ok". */
static const char *
check(const char *text, int shape, const char *kind)
{
	static char why[160];
	struct json_object *o = json_tokener_parse(text);

	if (mh_shape_check(o, rules, sizeof(rules) / sizeof(rules[0]), shape,
	    kind, why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "ok");
	json_object_put(o);
	return why;
}

int
main(void)
{
	static const char *const list[] = { "a", "bc", NULL };

	is_str(check("{\"id\":\"x\"}", SHAPE_A, NULL), "ok", "the least");
	is_str(check("{\"id\":\"x\",\"n\":1.5,\"in\":{\"deep\":[]}}", SHAPE_A,
	    NULL), "ok", "every field");
	is_str(check("{\"id\":\"x\",\"n\":null}", SHAPE_A, NULL), "ok",
	    "null where allowed");
	is_str(check("{}", SHAPE_A, NULL), "id is missing", "required");
	is_str(check("{\"id\":\"\"}", SHAPE_A, NULL), "id is empty",
	    "a required string is not empty");
	is_str(check("{\"id\":7}", SHAPE_A, NULL), "id must not be a number",
	    "wrong type named");
	is_str(check("{\"id\":\"x\",\"n\":\"1\"}", SHAPE_A, NULL),
	    "n must not be a string", "an optional field's type");
	is_str(check("{\"id\":\"x\",\"in\":{}}", SHAPE_A, NULL),
	    "in.deep is missing", "a nested field is named by its path");
	is_str(check("{\"id\":\"x\",\"in\":{\"deep\":{}}}", SHAPE_A, NULL),
	    "in.deep must not be an object", "a nested type");
	is_str(check("{\"id\":\"x\",\"in\":[]}", SHAPE_A, NULL),
	    "in must not be an array", "the parent's own rule reports it");
	is_str(check("{\"id\":\"x\"}", SHAPE_A, "click"), "url is missing",
	    "a rule for one kind applies to it");
	is_str(check("{\"id\":\"x\"}", SHAPE_A, "open"), "ok",
	    "and not to another");
	is_str(check("{\"id\":\"x\"}", SHAPE_B, NULL), "flag is missing",
	    "only the shape's rules apply");
	is_str(check("{\"flag\":0}", SHAPE_B, NULL),
	    "flag must not be a number", "a boolean is not a number");

	is_str(mh_type_name(json_type_double), "a number", "type names");
	is_str(mh_type_name(json_type_null), "null", "null");
	ok(mh_in_list("bc", list) == list[1], "in the list");
	ok(mh_in_list("b", list) == NULL && mh_in_list(NULL, list) == NULL,
	    "not in it, or nothing");
	return done_testing();
}

/* Python literals as JSON: what repr() writes, and what it never does. */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"

static const char *
as_json(const char *py)
{
	static char buf[512];
	struct json_object *o = NULL;

	if (mh_pyrepr_parse(py, strlen(py), &o) != 0)
		return "(refused)";
	snprintf(buf, sizeof(buf), "%s", o ? mh_json_text(o) : "null");
	json_object_put(o);
	return buf;
}

int
main(void)
{
	static const struct { const char *py, *json; } good[] = {
		{ "{'a': 1, 'b': 'two'}", "{\"a\":1,\"b\":\"two\"}" },
		{ "{\"a\": 'it\\'s'}", "{\"a\":\"it's\"}" },
		{ "{'t': True, 'f': False, 'n': None}",
		    "{\"t\":true,\"f\":false,\"n\":null}" },
		{ "[1, -2, 3.5, 1e3]", "[1,-2,3.5,1000.0]" },
		{ "(1, 2,)", "[1,2]" },
		{ "{}", "{}" },
		{ "{'a': [], 'b': {'c': ()}}", "{\"a\":[],\"b\":{\"c\":[]}}" },
		{ "{1: 'x'}", "{\"1\":\"x\"}" },
		{ "'voc\\u00ea'", "\"voc\xc3\xaa\"" },
		{ "'\\ud83c\\udf81'", "\"\xf0\x9f\x8e\x81\"" },
		{ "'\\U0001f381'", "\"\xf0\x9f\x8e\x81\"" },
		{ "'\\xe9\\n\\t\\\\'", "\"\xc3\xa9\\n\\t\\\\\"" },
		{ "u'x'", "\"x\"" },
		{ "  {'a' : 1 ,}  ", "{\"a\":1}" },
		{ "'caf\xc3\xa9'", "\"caf\xc3\xa9\"" },
		{ "None", "null" },
	};
	static const char *const bad[] = {
		"{'a': 1", "{'a' 1}", "'unterminated", "'\\ud83c'", "'\\udf81'",
		"'\\u12'", "'\\q'", "{'a': true}", "{'a': nan}", "1_000", "{a: 1}",
		"{'a': 1} extra", "", "'line\nbreak'", "Truex", "{'a': 1e999}",
		/* What would not be JSON text once parsed (found by fuzzing):
		 * a NUL in a string, bytes that are not UTF-8. */
		"'a\\x00b'", "'a\\0b'", "'a\\u0000b'", "'a\\U00000000'",
		"'\xcf\xcf'", "'\xed\xa0\x80'",
	};
	char deep[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_str(as_json(good[i].py), good[i].json, "%s", good[i].py);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];

		/* A test name on one line, whatever the input holds. */
		snprintf(name, sizeof(name), "%s", bad[i]);
		for (char *c = name; *c != '\0'; c++)
			if (*c == '\n')
				*c = '|';
		is_str(as_json(bad[i]), "(refused)", "refused: %s", name);
	}
	memset(deep, '[', 100);
	memset(deep + 100, ']', 99);
	deep[199] = '\0';
	is_str(as_json(deep), "(refused)", "nesting over 32 refused");
	return done_testing();
}

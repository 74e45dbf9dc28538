/* Strict JSON parsing, compact printing, and the accessors every caller
 * shares. */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"

/* Parses text; 1 when it is accepted. why gets the reason otherwise. */
static int
accepts(const char *text, size_t len, char why[160])
{
	struct json_object *o;

	why[0] = '\0';
	o = mh_json_parse(text, len, why, 160);
	json_object_put(o);
	return o != NULL;
}

#define ACCEPTS(s, why) accepts((s), sizeof(s) - 1, (why))

/* A nesting of depth arrays. */
static char *
nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);

	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

static void
test_parse(void)
{
	char why[160], *deep;

	ok(ACCEPTS("{\"a\":[1,2.5,\"x\",true,null]}", why), "an object");
	ok(ACCEPTS(" [1] \n", why), "white space around it");
	ok(ACCEPTS("42", why), "a bare number, complete at the end");
	ok(!ACCEPTS("[1", why) && strstr(why, "truncated"),
	    "truncated: %s", why);
	ok(!ACCEPTS("[1] x", why) && strstr(why, "at byte 4"),
	    "trailing data named by byte: %s", why);
	ok(!ACCEPTS("[1] [2]", why), "two values");
	ok(!accepts("[\"a\0b\"]", 7, why) && strstr(why, "NUL"),
	    "a raw NUL: %s", why);
	ok(!ACCEPTS("[\"\xff\"]", why), "invalid UTF-8");
	ok(!ACCEPTS("[\"\xc3\"]", why), "a cut UTF-8 sequence");
	ok(ACCEPTS("[\"\xc3\xa9\xe2\x82\xac\"]", why), "valid UTF-8");
	ok(!ACCEPTS("[1,]", why), "a trailing comma (strict)");
	ok(!ACCEPTS("", why), "nothing");
	deep = nested(32);
	ok(accepts(deep, strlen(deep), why), "nesting 32 deep");
	free(deep);
	deep = nested(33);
	ok(!accepts(deep, strlen(deep), why), "nesting 33 deep: %s", why);
	free(deep);
}

/* What json-c would take but is not JSON by its RFC, or would come back
 * out as no JSON: refused before it parses. */
static void
test_strict(void)
{
	static const char *const refused[] = {
		"[NaN]", "[Infinity]", "[-Infinity]", "{\"ts\":NaN}",
		"[\"a\\u0000b\"]", "{\"_id\":\"dup\\u0000A\"}",
		"{'a':1}", "['a']", "[1e400]", "[-1e400]", "[01]", "[1.]", "[.5]",
		"[-]", "[+1]", "[1,]", "{\"a\":1,}", "[/* c */1]", "[1]//",
		"[\"\t\"]", "[\"\\x41\"]", "[\"\\ud800\"]",
		"[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[tru]", "[nul]",
		"{\"a\" 1}", "{1:2}", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
		"[\"\xf4\x90\x80\x80\"]", "[\"\xe2\x82\"]", "[0x10]",
		"[123456789012345678901234567890]", "[18446744073709551616]",
		"[-9223372036854775809]", NULL };
	static const char *const taken[] = {
		"[0, -0, 1.5e-3, -2E+10, 18446744073709551615, -9223372036854775808]",
		"[1234567890123456789012345678.5, 1e300]",
		"[\"\\ud83d\\ude00 \\u00e9 \\/ \\\" \\\\ \\b\\f\\n\\r\\t\"]",
		"[\"\xf0\x9f\x98\x80\xc3\xa9\"]", "{\"a\":{\"b\":[true,false,null]}}",
		"1.7976931348623157e308", NULL };
	char why[160];

	for (size_t i = 0; refused[i] != NULL; i++)
		ok(!accepts(refused[i], strlen(refused[i]), why), "refused: %s "
		    "(%s)", refused[i], why);
	for (size_t i = 0; taken[i] != NULL; i++)
		ok(accepts(taken[i], strlen(taken[i]), why), "taken: %s %s",
		    taken[i], why);
	ok(!ACCEPTS("[1,[2,NaN]]", why) && strstr(why, "at byte 6"),
	    "the detail says where: %s", why);
}

static void
test_accessors(void)
{
	struct json_object *o = json_tokener_parse(
	    "{\"s\":\"str\",\"n\":12,\"big\":9007199254740993,\"z\":null,"
	    "\"o\":{\"k\":\"v\"},\"url\":\"http://x/y\"}");
	struct json_object *to = json_object_new_object();

	is_str(mh_json_str(o, "s"), "str", "a string");
	ok(mh_json_str(o, "n") == NULL, "a number is not a string");
	ok(mh_json_str(o, "absent") == NULL, "absent");
	ok(mh_json_str(NULL, "s") == NULL, "no object");
	ok(mh_json_int(o, "n") == 12, "an integer");
	ok(mh_json_int(o, "big") == 9007199254740993LL, "past 2^53, exact");
	ok(mh_json_int(o, "absent") == 0, "absent is 0");
	ok(mh_json_get(o, "z") == NULL && mh_json_get(o, "o") != NULL,
	    "get: null and absent alike NULL, an object itself");

	mh_json_set_str(to, "a", "x");
	mh_json_set_str(to, "b", NULL);
	mh_json_copy(to, "c", o, "o", 0);
	mh_json_copy(to, "d", o, "absent", 0);
	mh_json_copy(to, "e", o, "absent", 1);
	mh_json_copy(to, "f", o, "z", 0);
	mh_json_copy(to, "url", o, "url", 0);
	is_str(mh_json_text(to), "{\"a\":\"x\",\"b\":null,\"c\":{\"k\":\"v\"},"
	    "\"e\":null,\"url\":\"http://x/y\"}",
	    "set and copy; compact, slashes not escaped");
	json_object_put(to);
	json_object_put(o);
}

int
main(void)
{
	test_parse();
	test_strict();
	test_accessors();
	return done_testing();
}

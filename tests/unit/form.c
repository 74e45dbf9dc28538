/* Form decoding: every malformed case, and the query helper. */
#include <stdlib.h>

#include "tap.h"
#include "core/core.h"

static enum mh_form_err
parse(const char *body, struct mh_form *f)
{
	mh_form_free(f);
	return mh_form_parse(body, strlen(body), f);
}

/* Whether the value of name in query is want (NULL: absent, not bad). */
static int
query_is(const char *query, const char *name, const char *want)
{
	int bad, same;
	char *v = mh_query_get(query, name, &bad);

	same = want == NULL ? v == NULL && !bad :
	    v != NULL && strcmp(v, want) == 0;
	free(v);
	return same;
}

int
main(void)
{
	struct mh_form f = { 0 };
	const struct mh_form_field *v;
	char *q;
	int bad;

	ok(parse("b=2&a=1", &f) == MH_FORM_OK && f.count == 2, "two fields");
	is_str(f.fields[0].key, "a", "fields come back sorted by key");
	is_str(f.fields[1].value, "2", "values follow their keys");

	ok(parse("mandrill_events=a+b%20c%2B", &f) == MH_FORM_OK, "escapes");
	v = mh_form_get(&f, "mandrill_events");
	is_str(v ? v->value : NULL, "a b c+", "'+' is a space, %%XX a byte");

	ok(parse("k=%5C%2F%e2%82%ac", &f) == MH_FORM_OK, "bytes of UTF-8");
	is_str(f.fields[0].value, "\\/\xe2\x82\xac", "decoded to raw bytes");

	ok(parse("%6Bey=v", &f) == MH_FORM_OK, "escaped key");
	ok(mh_form_get(&f, "key") != NULL, "keys are decoded too");

	ok(parse("k=a%00b", &f) == MH_FORM_OK && f.fields[0].value_len == 3,
	    "%%00 keeps its length");

	ok(parse("k=%4", &f) == MH_FORM_BAD_ESCAPE, "short escape is refused");
	ok(parse("k=%", &f) == MH_FORM_BAD_ESCAPE, "bare %% is refused");
	ok(parse("k=%zz", &f) == MH_FORM_BAD_ESCAPE, "non-hex escape is refused");
	ok(parse("k=%4g", &f) == MH_FORM_BAD_ESCAPE, "half-hex escape is refused");
	ok(parse("%zz=1", &f) == MH_FORM_BAD_ESCAPE, "bad escape in a key");
	ok(parse("a=1&a=2", &f) == MH_FORM_DUP_KEY, "a repeated key is refused");
	ok(parse("a=1&%61=2", &f) == MH_FORM_DUP_KEY,
	    "a key repeated under another encoding is refused");
	ok(parse("=1", &f) == MH_FORM_EMPTY_KEY, "an empty key is refused");
	ok(parse("%20=1", &f) == MH_FORM_OK, "a space is a key");
	ok(parse("", &f) == MH_FORM_OK && f.count == 0, "empty body");
	ok(parse("a=1&&b=2&", &f) == MH_FORM_OK && f.count == 2,
	    "empty pairs are skipped");
	ok(parse("flag", &f) == MH_FORM_OK && f.count == 1 &&
	    f.fields[0].value_len == 0, "a key without '=' has an empty value");
	ok(parse("A=1&a=2&b=3", &f) == MH_FORM_OK, "case differs");
	is_str(f.fields[0].key, "A", "bytewise order puts upper case first");
	mh_form_free(&f);

	q = mh_query_get("limit=5&type=open", "type", &bad);
	is_str(q, "open", "query value found");
	free(q);
	q = mh_query_get("email=a%40b.c", "email", &bad);
	is_str(q, "a@b.c", "query value decoded");
	free(q);
	q = mh_query_get("email=a%4", "email", &bad);
	ok(q == NULL && bad, "malformed query escape flagged");
	q = mh_query_get("x=1", "email", &bad);
	ok(q == NULL && !bad, "absent query value");
	ok(query_is("a=1&type=open%2Cclick&b", "type", "open,click"),
	    "among others, decoded");
	ok(query_is("email=a+b%40x", "email", "a b@x"),
	    "'+' is a space in a query");
	ok(query_is("%74ype=x", "type", "x"), "an escaped name");
	ok(query_is("type", "type", ""), "a name alone is empty");
	ok(query_is("types=x", "type", NULL), "a longer name is another");
	q = mh_query_get("type=%G1", "type", &bad);
	ok(q == NULL && bad == MH_QUERY_MALFORMED, "a malformed value is bad");
	q = mh_query_get("type=open&x=1&type=click", "type", &bad);
	ok(q == NULL && bad == MH_QUERY_REPEATED, "a field given twice is "
	    "refused, as in a form");
	q = mh_query_get("type=open&%74ype=open", "type", &bad);
	ok(q == NULL && bad == MH_QUERY_REPEATED, "also when one is escaped");
	return done_testing();
}

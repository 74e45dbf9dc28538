/*
 * Telephone numbers as people write them (core/phone.cc, libphonenumber):
 * a table of real numbers of several countries written in the ways people
 * type them, read with and without a default region; what is kept (E.164's
 * digits, region, type, the national destination code); and what is
 * refused, with why. Then a client made from each form, its tags, and
 * its opt-out against a campaign's filter.
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store.h"

struct phone_case {
	const char *text, *region;
	const char *digits, *in, *type, *ndc;	/* digits NULL: refused */
	const char *why;			/* the start of why */
};

static const struct phone_case cases[] = {
	{ "+1 212 555 0100", NULL, "12125550100", "US",
	    "fixed_line_or_mobile", "212", NULL },
	{ "+7 900 555 12 34", NULL, "79005551234", "RU", "mobile", "900", NULL },
	{ "+7 (495) 123-45-67", NULL, "74951234567", "RU", "fixed_line", "495",
	    NULL },
	{ "79161234567", NULL, "79161234567", "RU", "mobile", "916", NULL },
	{ "+44 20 7946 0958", NULL, "442079460958", "GB", "fixed_line", "20",
	    NULL },
	{ "+49 30 901820", NULL, "4930901820", "DE", "fixed_line", "30", NULL },
	{ "+33 6.12.34.56.78", NULL, "33612345678", "FR", "mobile", "6", NULL },
	{ "+81 90-1234-5678", NULL, "819012345678", "JP", "mobile", "90", NULL },
	{ "+1 800 555 0199", NULL, "18005550199", "US", "toll_free", "800",
	    NULL },
	/* Written nationally: read in the region. */
	{ "8 (900) 555-12-34", "RU", "79005551234", "RU", "mobile", "900",
	    NULL },
	{ "(212) 555-0100", "US", "12125550100", "US", "fixed_line_or_mobile",
	    "212", NULL },
	{ "020 7946 0958", "GB", "442079460958", "GB", "fixed_line", "20",
	    NULL },
	/* In a region, a number with its country code but no '+' (the seed's
	 * form) is still taken, and so is another country's. */
	{ "79005551234", "US", "79005551234", "RU", "mobile", "900", NULL },
	{ "12125550100", "RU", "12125550100", "US", "fixed_line_or_mobile",
	    "212", NULL },
	{ "+1 212 555 0100", "RU", "12125550100", "US", "fixed_line_or_mobile",
	    "212", NULL },
	/* Refused, saying why. */
	{ "8 (900) 555-12-34", NULL, NULL, NULL, NULL, NULL,
	    "has no country code: write it with one" },
	{ "+7 916", NULL, NULL, NULL, NULL, NULL, "is too short for a number "
	    "of +7" },
	{ "+7 900 123 45 678 9", NULL, NULL, NULL, NULL, NULL, "has a length "
	    "no number of +7 has" },
	{ "+7 900 123 45 678 901 234 5", NULL, NULL, NULL, NULL, NULL,
	    "is too long" },
	{ "+999 123 4567", NULL, NULL, NULL, NULL, NULL, "has no country code "
	    "libphonenumber knows (+999 123 4567)" },
	{ "+1 212 055 0100", NULL, NULL, NULL, NULL, NULL, "is no number in "
	    "use in US (+1)" },
	{ "+1 800 FLOWERS", NULL, NULL, NULL, NULL, NULL, "holds 'F'" },
	{ "79001234567 ext. 5", NULL, NULL, NULL, NULL, NULL, "holds 'e'" },
	{ "7900+1234567", NULL, NULL, NULL, NULL, NULL, "holds '+'" },
	{ "++79001234567", NULL, NULL, NULL, NULL, NULL, "holds '+'" },
	{ "()- .", NULL, NULL, NULL, NULL, NULL, "holds no digit" },
	{ "", NULL, NULL, NULL, NULL, NULL, "is 1 to 40 characters" },
	{ "+7 900 555 12 34                          ", NULL, NULL, NULL, NULL,
	    NULL, "is 1 to 40 characters" },
	{ "7900\n5551234", NULL, NULL, NULL, NULL, NULL, "holds '?'" },
};

static void
test_phones(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct phone_case *c = &cases[i];
		struct mh_phone ph;
		char why[300] = "";
		int r = mh_phone_parse(c->text, c->region, &ph, why, sizeof(why));

		if (c->digits != NULL) {
			if (!ok(r == 0, "'%s' in %s is taken", c->text,
			    c->region ? c->region : "no region"))
				printf("#   why: %s\n", why);
			is_str(ph.digits, c->digits, "... kept as its digits");
			is_str(ph.region, c->in, "... of its region");
			is_str(ph.type, c->type, "... of its type");
			is_str(ph.ndc, c->ndc, "... its destination code");
		} else {
			ok(r == -1, "'%s' in %s is refused", c->text,
			    c->region ? c->region : "no region");
			if (!ok(strncmp(why, c->why, strlen(c->why)) == 0,
			    "... saying it %s", c->why))
				printf("#   got: %s\n", why);
		}
	}
	ok(mh_phone_region_ok("RU") && mh_phone_region_ok("US") &&
	    !mh_phone_region_ok("XX") && !mh_phone_region_ok("R") &&
	    !mh_phone_region_ok(NULL), "regions libphonenumber knows, only");
}

/* The client made of body in region; its JSON parsed (NULL: refused,
 * why said). */
static struct json_object *
client_of(const char *body, const char *region, char *why, size_t whylen)
{
	struct mh_making mk = { 1800000000000LL, region };
	struct json_object *in = json_tokener_parse(body), *c = NULL;
	struct mh_record rec;

	if (mh_client_make(in, &mk, &rec, why, whylen) == 0) {
		c = json_tokener_parse(rec.json);
		if (strchr(rec.client.tag, '\x1f') != NULL)
			json_object_object_add(c, "_field", json_object_new_string(
			    rec.client.tag));
		mh_record_free(&rec);
	}
	json_object_put(in);
	return c;
}

static void
test_clients(void)
{
	struct json_object *c, *f;
	char why[300];

	c = client_of("{\"phone\":\"8 (916) 555-12-34\",\"timezone\":\"UTC\","
	    "\"tags\":[\"vip\",\"beta\",\"vip\"]}", "RU", why, sizeof(why));
	ok(c != NULL, "a client with a national phone in RU");
	is_str(mh_json_str(c, "phone"), "79165551234", "... its E.164 digits");
	is_str(mh_json_str(c, "operator_code"), "916", "... its operator code "
	    "its destination code");
	is_str(mh_json_str(c, "region"), "RU", "... its region");
	is_str(mh_json_str(c, "phone_type"), "mobile", "... its type");
	is_str(json_object_to_json_string(mh_json_get(c, "tags")),
	    "[ \"vip\", \"beta\" ]", "... its tags, each once");
	is_str(mh_json_str(c, "tag"), "vip", "... tag is the first");
	is_str(mh_json_str(c, "_field"), "vip\x1f" "beta", "... its index field "
	    "holds both");
	ok(!mh_client_opted_out(c), "... not opted out");
	f = json_tokener_parse("{\"tags\":[\"beta\",\"gamma\"]}");
	ok(mh_filter_matches(f, 0, c), "a filter's tags match a client with "
	    "any of them");
	json_object_put(f);
	f = json_tokener_parse("{\"tags\":[\"gamma\"]}");
	ok(!mh_filter_matches(f, 0, c), "... not one with none");
	json_object_put(f);
	json_object_object_add(c, "opted_out", json_object_new_boolean(1));
	f = json_tokener_parse("{}");
	ok(!mh_filter_matches(f, 0, c), "an opted-out client matches no filter");
	json_object_put(f);
	json_object_put(c);

	c = client_of("{\"phone\":\"8 (916) 555-12-34\",\"timezone\":\"UTC\"}",
	    NULL, why, sizeof(why));
	ok(c == NULL && strstr(why, "phone has no country code") == why,
	    "no region: a national phone refused, saying so (%s)", why);
	c = client_of("{\"phone\":79165551234,\"timezone\":\"UTC\",\"tag\":"
	    "\"gold\",\"operator_code\":\"999\"}", "US", why, sizeof(why));
	ok(c != NULL, "the seed's form: a number, a tag, an operator code");
	is_str(mh_json_str(c, "operator_code"), "999", "... the operator code "
	    "as given");
	is_str(json_object_to_json_string(mh_json_get(c, "tags")),
	    "[ \"gold\" ]", "... its tag the only one of its tags");
	json_object_put(c);
}

int
main(void)
{
	test_phones();
	test_clients();
	return done_testing();
}

/* A mail checked (cgi-bin/mail.c) and kept (cgi-bin/mail_state.c): each
 * part's rule as a client may break it, the addresses, the record's
 * header fields, and cancel and retry. */
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store.h"

#define NOW 1800000000000LL	/* 2027-01-15 */

/* Checks {"from_email":...,"to":[a@x.io],"text":"t", + extra}: 0 or -1,
 * why into why. */
static int
check(const char *extra, char *why, size_t whylen)
{
	static char text[65536];
	struct json_object *o;
	int64_t due;
	int ret;

	snprintf(text, sizeof(text), "{\"from_email\":\"me@x.io\",\"to\":"
	    "[{\"email\":\"a@x.io\"}],\"text\":\"t\"%s%s}", *extra ? "," : "",
	    extra);
	o = json_tokener_parse(text);
	ret = o == NULL ? -2 : mh_mail_check(o, NOW, &due, why, whylen);
	json_object_put(o);
	return ret;
}

int
main(void)
{
	static const struct { const char *extra, *name, *why; } bad[] = {
		{ "\"to\":[]", "no recipient", "to holds 1 to 1000" },
		{ "\"to\":{}", "to not a list", "to is of another type, not an object" },
		{ "\"to\":[\"a@x.io\"]", "a recipient not an object",
		    "to[0] is not an object" },
		{ "\"to\":[{\"email\":\"a@x.io\",\"type\":\"reply\"}]",
		    "a type that is none", "to[0].type is to, cc or bcc" },
		{ "\"to\":[{\"email\":\"a@x.io\",\"cc\":1}]",
		    "an unknown part of a recipient", "to[0].cc is not a part" },
		{ "\"from_email\":\"\"", "no sender", "from_email is required" },
		{ "\"subject\":\"a\\r\\nBcc: x@y.io\"", "CR/LF in the subject",
		    "subject is at most 998 bytes on one line" },
		{ "\"from_name\":\"a\\nb\"", "LF in from_name", "from_name is" },
		{ "\"headers\":{\"X-A\":\"b\\r\\nBcc: x@y.io\"}",
		    "CR/LF in a header", "headers X-A is a string on one line" },
		{ "\"headers\":{\"X A\":\"b\"}", "a space in a header's name",
		    "headers has a name that is not one" },
		{ "\"headers\":{\"X-A\":1}", "a header not a string",
		    "headers X-A is a string" },
		{ "\"tags\":[\"_x\"]", "a tag Mandrill keeps", "tags[0] is a string" },
		{ "\"tags\":[\"\"]", "an empty tag", "tags[0] is a string" },
		{ "\"tags\":[\"123456789012345678901234567890123456789012345678901\"]",
		    "a tag of 51", "tags[0] is a string of 1 to 50" },
		{ "\"tags\":[\"a\\u001fb\"]", "a control character in a tag",
		    "tags[0]" },
		{ "\"metadata\":{\"a\":1}", "metadata not strings",
		    "metadata holds strings only" },
		{ "\"send_at\":\"2020-01-01T00:00:00Z\"", "send_at past",
		    "send_at is a time to come" },
		{ "\"send_at\":\"2030-01-01T00:00:00Z\"", "send_at years on",
		    "within a year" },
		{ "\"send_at\":\"2027-02-01\"", "send_at without a time",
		    "send_at is not an ISO 8601 time" },
		{ "\"text\":null", "no body", "html or text is required" },
		{ "\"track_opens\":\"yes\"", "track_opens not a boolean",
		    "track_opens is of another type" },
		{ "\"bcc_address\":\"x@y.io\"", "a part this API does not send",
		    "bcc_address is not a part" },
	};
	static const char *const bad_addr[] = { "", "a", "@x.io", "a@", "a@x",
		"a@x.", "a@.x.io", "a..b@x.io", ".a@x.io", "a.@x.io", "a b@x.io",
		"a@x_y.io", "a@-x.io", "a@x-.io", "a@x.123", "a\"b@x.io",
		"a@b@x.io", NULL };
	static const char *const good_addr[] = { "a@x.io", "A.B+tag@sub.x.io",
		"o'neil@x-y.co.uk", "1@2.io", "a@x.xn--p1ai", NULL };
	char why[400], big[2048 * 40];
	struct mh_mail_sender who = { "user", "alice" };
	struct json_object *in, *m;
	struct mh_record rec;
	int64_t due;
	size_t off;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ok(check(bad[i].extra, why, sizeof(why)) == -1 &&
		    strstr(why, bad[i].why) != NULL, "%s: refused (%s)",
		    bad[i].name, why);
	}
	for (size_t i = 0; bad_addr[i] != NULL; i++)
		ok(!mh_email_ok(bad_addr[i]), "not an address: '%s'", bad_addr[i]);
	for (size_t i = 0; good_addr[i] != NULL; i++)
		ok(mh_email_ok(good_addr[i]), "an address: '%s'", good_addr[i]);

	/* 1000 recipients pass, 1001 do not. */
	off = (size_t)snprintf(big, sizeof(big), "\"to\":[");
	for (int i = 0; i < 1001; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off,
		    "%s{\"email\":\"r%d@x.io\"}", i ? "," : "", i);
	snprintf(big + off, sizeof(big) - off, "]");
	ok(check(big, why, sizeof(why)) == -1 && strstr(why, "not 1001"),
	    "1001 recipients: refused");
	strcpy(strrchr(big, ',') == NULL ? big : strrchr(big, ','), "]");
	ok(check(big, why, sizeof(why)) == 0, "1000 pass");

	ok(check("\"send_at\":\"2027-01-16T09:00:00+03:00\",\"html\":\"<p>h</p>\","
	    "\"headers\":{\"Reply-To\":\"r@x.io\"},\"tags\":[\"a\",\"b\"],"
	    "\"metadata\":{\"k\":\"v\"},\"track_opens\":true", why,
	    sizeof(why)) == 0, "a full mail passes (%s)", why);

	in = json_tokener_parse("{\"from_email\":\"me@x.io\",\"subject\":\"S\","
	    "\"to\":[{\"email\":\"A@X.io\"},{\"email\":\"b@y.io\",\"type\":\"cc\"}],"
	    "\"text\":\"t\",\"tags\":[\"welcome\",\"june\"],"
	    "\"send_at\":\"2027-01-16T00:00:00Z\"}");
	ok(mh_mail_check(in, NOW, &due, why, sizeof(why)) == 0 &&
	    due == 1800057600000LL, "send_at is when it is due");
	ok(mh_mail_make(in, &who, NOW, due, &rec) == 0, "made into a record");
	is_str(rec.mail.status, "queued", "its status field");
	is_str(rec.mail.recipients, "A@X.io\x1f" "b@y.io",
	    "its recipients, apart");
	is_str(rec.mail.tags, "welcome\x1f" "june", "its tags, apart");
	m = json_tokener_parse(rec.json);
	is_str(mh_json_str(mh_json_get(m, "sender"), "name"), "alice",
	    "who asked is its sender");
	is_str(mh_json_str(json_object_array_get_idx(mh_json_get(m,
	    "recipients"), 1), "type"), "cc", "a recipient's type kept");
	ok(mh_json_get(mh_json_get(m, "message"), "send_at") == NULL,
	    "send_at is the outbox's, not Mandrill's");
	mh_record_free(&rec);

	ok(mh_mail_retry(m, NOW, why, sizeof(why)) == -1 &&
	    strstr(why, "queued"), "a queued mail is not retried");
	ok(mh_mail_cancel(m, NOW, why, sizeof(why)) == 0, "it is cancelled");
	is_str(mh_json_str(m, "status"), "cancelled", "cancelled");
	ok(mh_mail_cancel(m, NOW, why, sizeof(why)) == -1,
	    "not twice");
	ok(mh_mail_retry(m, NOW + 5, why, sizeof(why)) == 0 &&
	    strcmp(mh_json_str(m, "status"), "queued") == 0 &&
	    mh_json_get(m, "cancelled_at") == NULL, "retried: queued again");
	ok(mh_mail_record(m, &rec) == 0 && strcmp(rec.mail.status, "queued") == 0,
	    "its record follows");
	mh_record_free(&rec);
	json_object_put(m);
	json_object_put(in);
	return done_testing();
}

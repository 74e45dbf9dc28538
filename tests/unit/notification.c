/* A notification checked and made into its record, and marked read
 * (cgi-bin/notification.c): each field's rule, as a client may break it. */
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store.h"

/* Whether text, one notification, is refused; why into why. */
static int
refused(const char *text, char *why, size_t whylen)
{
	struct json_object *o = json_tokener_parse(text);
	struct mh_record rec;
	int ret = mh_notification_make(o, 0, &rec, why, whylen);

	if (ret == 0)
		mh_record_free(&rec);
	json_object_put(o);
	return ret != 0;
}

int
main(void)
{
	static const struct { const char *text, *name, *why; } bad[] = {
		{ "{\"identifier\":\"I\",\"user_id\":\"u\"}", "no title",
		    "title is required" },
		{ "{\"title\":\"\",\"identifier\":\"I\",\"user_id\":\"u\"}",
		    "an empty title", "title is 1 to 200" },
		{ "{\"title\":1,\"identifier\":\"I\",\"user_id\":\"u\"}",
		    "a number for a title", "title is a string" },
		{ "{\"title\":\"t\",\"identifier\":\"I\",\"user_id\":\"u\","
		    "\"x\":1}", "an unknown field", "x is not a field" },
		{ "{\"title\":\"t\",\"identifier\":\"a b\",\"user_id\":\"u\"}",
		    "an identifier with a space", "identifier is letters" },
		{ "{\"title\":\"t\",\"identifier\":\"I\",\"user_id\":\"a\\u0001\"}",
		    "a control character in user_id", "user_id is 1 to 128" },
		{ "{\"title\":\"t\",\"identifier\":\"I\",\"user_id\":1.5}",
		    "a fraction for user_id", "user_id is a string" },
		{ "{\"title\":\"t\",\"identifier\":\"I\",\"user_id\":\"u\","
		    "\"data\":[]}", "data not an object", "data is a JSON object" },
		{ "{\"title\":\"t\",\"identifier\":\"I\",\"user_id\":\"u\","
		    "\"link\":\"ftp://x\"}", "an ftp link", "link is an http(s)" },
		{ "[1]", "not an object", "a notification is a JSON object" },
	};
	struct json_object *o;
	struct mh_record rec, read;
	union mh_fields_ref f;
	char why[200], title[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ok(refused(bad[i].text, why, sizeof(why)) &&
		    strstr(why, bad[i].why) != NULL, "%s: refused (%s)",
		    bad[i].name, why);
	}
	/* 200 characters of two bytes each are 200, not 400. */
	strcpy(title, "{\"title\":\"");
	for (int i = 0; i < 200; i++)
		strcat(title, "\xc3\xa9");
	strcat(title, "\",\"identifier\":\"I\",\"user_id\":\"u\"}");
	ok(!refused(title, why, sizeof(why)), "200 characters of UTF-8 fit");

	o = json_tokener_parse("{\"title\":\"Hi\",\"identifier\":\"MESSAGE\","
	    "\"user_id\":123,\"link\":\"/?message=m1\",\"data\":{\"a\":1}}");
	ok(mh_notification_make(o, 1700000000000, &rec, why, sizeof(why)) == 0,
	    "a good one is made");
	is_str(rec.notification.user, "123", "its user, a number as text");
	is_str(rec.notification.identifier, "MESSAGE", "its identifier");
	is_str(rec.notification.unread_user, "123",
	    "unread: in the unread index");
	ok(strstr(rec.json, "\"read_at\":null") != NULL &&
	    strstr(rec.json, "\"created_at\":\"2023-11-14T22:13:20.000Z\"") !=
	    NULL, "unread, made then: %s", rec.json);
	f.notification.user = rec.notification.user;
	f.notification.identifier = rec.notification.identifier;
	f.notification.unread_user = rec.notification.unread_user;
	ok(mh_notification_mark(&f, rec.json, 1, 1700000001000, &read) == 0 &&
	    strcmp(read.notification.unread_user, "") == 0 && strstr(read.json,
	    "\"read_at\":\"2023-11-14T22:13:21.000Z\"") != NULL,
	    "marked read: out of the unread index, read_at set");
	mh_record_free(&read);
	ok(mh_notification_mark(&f, rec.json, 0, 0, &read) == 0 &&
	    strcmp(read.notification.unread_user, "123") == 0 &&
	    strstr(read.json, "\"read_at\":null") != NULL, "and unread again");
	mh_record_free(&read);
	mh_record_free(&rec);
	json_object_put(o);
	return done_testing();
}

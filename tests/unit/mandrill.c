/* Mandrill parsing, shape checks and normalisation of each event type. */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"

#define MSG(id) "\"msg\":{\"_id\":\"" id "\",\"email\":\"a@x.io\"," \
	"\"subject\":\"Hi\",\"tags\":[\"t\"],\"metadata\":{\"k\":1}}"

static int
parses(const char *text, char *detail)
{
	struct json_object *arr = NULL;
	int ret = mh_mandrill_parse(text, strlen(text), &arr, detail, 256);

	json_object_put(arr);
	return ret == 0;
}

static const char *
field(struct mh_normal *ev, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ev->event, k, &v))
		return NULL;
	return json_object_get_string(v);
}

/* Normalises the first event of a one-event batch. */
static int
normalise(const char *text, struct mh_normal *ev)
{
	struct json_object *arr = NULL;
	char detail[256];
	int ret;

	if (mh_mandrill_parse(text, strlen(text), &arr, detail, 256) != 0) {
		printf("# parse failed: %s\n", detail);
		return -1;
	}
	ret = mh_mandrill_normalise(json_object_array_get_idx(arr, 0),
	    "2026-01-01T00:00:00.000Z", 7, ev);
	json_object_put(arr);
	return ret;
}

int
main(void)
{
	static const char *const types[] = { "send", "delivered", "deferral",
	    "hard_bounce", "soft_bounce", "open", "spam", "unsub", "reject" };
	struct mh_normal ev, ev2, ev3;
	char detail[256], buf[1024], *deep;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(buf, sizeof(buf), "[{\"event\":\"%s\",\"ts\":1700000000,"
		    MSG("m1") ",\"location\":null,\"user_agent\":null}]", types[i]);
		ok(normalise(buf, &ev) == 0, "%s event accepted", types[i]);
		is_str(field(&ev, "type"), types[i], "%s keeps its type", types[i]);
		is_str(field(&ev, "message_id"), "m1", "%s message id", types[i]);
		is_str(field(&ev, "email"), "a@x.io", "%s email", types[i]);
		json_object_put(ev.event);
		free(ev.identity);
	}

	ok(normalise("[{\"event\":\"open\",\"ts\":1700000001," MSG("m2")
	    ",\"ip\":\"1.2.3.4\",\"location\":{\"city\":\"Oslo\"},"
	    "\"user_agent\":\"UA\\/1\",\"user_agent_parsed\":{\"ua_family\":"
	    "\"Firefox\"},\"unknown\":{\"x\":[1]}}]", &ev) == 0,
	    "open with location, agent and unknown keys");
	is_str(field(&ev, "provider"), "mandrill", "provider");
	is_str(field(&ev, "subject"), "Hi", "subject");
	is_str(field(&ev, "ip"), "1.2.3.4", "ip kept");
	is_str(field(&ev, "user_agent"), "UA/1", "PHP-style \\/ unescaped");
	is_str(field(&ev, "receipt"), "7", "receipt linked");
	is_str(field(&ev, "received_at"), "2026-01-01T00:00:00.000Z",
	    "received_at copied");
	is_str(field(&ev, "ts"), "1700000001", "ts");
	ok(strstr(mh_json_text(ev.event), "\"city\":\"Oslo\"") != NULL,
	    "location kept");
	ok(strstr(mh_json_text(ev.event), "\"ua\":{\"ua_family\"") != NULL,
	    "parsed user agent kept as ua");
	ok(strstr(mh_json_text(ev.event), "unknown") == NULL,
	    "unknown keys are not copied");
	ok(strstr(mh_json_text(ev.event), "\"tags\":[\"t\"]") != NULL, "tags");
	ok(normalise("[{\"event\":\"open\",\"ts\":1700000001," MSG("m2")
	    ",\"ip\":\"5.6.7.8\"}]", &ev2) == 0, "an open from elsewhere");
	ok(strcmp(ev.identity, ev2.identity) != 0, "in the same second, from "
	    "another address: another event");
	json_object_put(ev2.event);
	free(ev2.identity);
	ok(normalise("[{\"event\":\"open\",\"ts\":1700000002," MSG("m2")
	    "}]", &ev2) == 0, "a later open");
	ok(strcmp(ev.identity, ev2.identity) != 0, "a later ts: new identity");
	json_object_put(ev2.event);
	free(ev2.identity);
	json_object_put(ev.event);
	free(ev.identity);

	ok(normalise("[{\"event\":\"click\",\"ts\":1," MSG("m3")
	    ",\"url\":\"http:\\/\\/x.io\\/a\"}]", &ev) == 0, "click");
	is_str(field(&ev, "url"), "http://x.io/a", "click url");
	ok(normalise("[{\"event\":\"click\",\"ts\":1," MSG("m3")
	    ",\"url\":\"http:\\/\\/x.io\\/a\"}]", &ev2) == 0 &&
	    strcmp(ev.identity, ev2.identity) == 0,
	    "a retry, byte for byte: the same event");
	json_object_put(ev2.event);
	free(ev2.identity);
	ok(normalise("[{\"event\":\"click\",\"ts\":1," MSG("m3")
	    ",\"url\":\"http:\\/\\/x.io\\/b\"}]", &ev2) == 0 &&
	    strcmp(ev.identity, ev2.identity) != 0,
	    "a click on another link in the same second: another event");
	json_object_put(ev2.event);
	free(ev2.identity);
	ok(normalise("[{\"event\":\"click\",\"ts\":1,\"msg\":{\"_id\":"
	    "\"a\\u001fb\"},\"url\":\"u\"}]", &ev2) == 0 &&
	    normalise("[{\"event\":\"click\",\"ts\":1,\"msg\":{\"_id\":"
	    "\"a\"},\"url\":\"b\\u001fu\"}]", &ev3) == 0 &&
	    strcmp(ev3.identity, ev2.identity) != 0,
	    "a separator inside a value makes no two events one");
	json_object_put(ev2.event);
	free(ev2.identity);
	json_object_put(ev3.event);
	free(ev3.identity);
	json_object_put(ev.event);
	free(ev.identity);

	ok(normalise("[{\"type\":\"blacklist\",\"action\":\"add\",\"ts\":5,"
	    "\"reject\":{\"email\":\"b@x.io\",\"reason\":\"hard-bounce\"}}]",
	    &ev) == 0, "sync blacklist event");
	is_str(field(&ev, "type"), "sync", "sync type");
	is_str(field(&ev, "sync_type"), "blacklist", "sync_type");
	is_str(field(&ev, "action"), "add", "action");
	is_str(field(&ev, "email"), "b@x.io", "sync email from reject");
	is_str(field(&ev, "message_id"), "", "sync has no message id");
	json_object_put(ev.event);
	free(ev.identity);
	ok(normalise("[{\"type\":\"whitelist\",\"action\":\"remove\",\"ts\":5,"
	    "\"entry\":{\"email\":\"c@x.io\"}}]", &ev) == 0, "sync whitelist");
	is_str(field(&ev, "email"), "c@x.io", "sync email from entry");
	json_object_put(ev.event);
	free(ev.identity);

	ok(normalise("[{\"event\":\"inbound\",\"ts\":9,\"msg\":{\"email\":"
	    "\"in@x.io\",\"subject\":\"Re: hi\",\"from_email\":\"f@y.io\","
	    "\"headers\":{\"Message-Id\":\"<1@y.io>\"}}}]", &ev) == 0, "inbound");
	is_str(field(&ev, "type"), "inbound", "inbound type");
	is_str(field(&ev, "message_id"), "<1@y.io>", "inbound Message-Id");
	is_str(field(&ev, "from_email"), "f@y.io", "inbound sender");
	json_object_put(ev.event);
	free(ev.identity);

	ok(parses("[]", detail), "empty batch (Mandrill's test POST)");
	ok(!parses("{\"event\":\"open\"}", detail), "object instead of array");
	ok(strstr(detail, "array") != NULL, "detail says array: %s", detail);
	ok(!parses("[{\"event\":\"open\",\"ts\":1," MSG("m") "}", detail),
	    "truncated JSON");
	ok(!parses("[{\"event\":\"open\",\"ts\":1," MSG("m") "}] x", detail),
	    "trailing garbage");
	ok(!parses("[{\"event\":\"open\",\"ts\":1," MSG("m") "}, 3]", detail),
	    "a number among the events");
	ok(strstr(detail, "event 1") != NULL, "detail names index 1: %s", detail);
	ok(!parses("[{\"event\":\"open\",\"ts\":1}]", detail), "msg missing");
	ok(strstr(detail, "event 0") && strstr(detail, "msg"),
	    "detail names the field: %s", detail);
	ok(!parses("[{\"event\":\"open\",\"ts\":1,\"msg\":{\"email\":\"a\"}}]",
	    detail), "msg._id missing");
	ok(!parses("[{\"event\":\"open\",\"ts\":\"1\"," MSG("m") "}]", detail),
	    "ts as a string");
	ok(!parses("[{\"event\":\"click\",\"ts\":1," MSG("m") "}]", detail),
	    "click without url");
	ok(!parses("[{\"event\":\"teleport\",\"ts\":1," MSG("m") "}]", detail),
	    "unknown event type");
	ok(!parses("[{\"type\":\"blacklist\",\"action\":\"add\",\"ts\":1}]",
	    detail), "blacklist without reject");
	ok(!parses("[{\"ts\":1}]", detail), "neither event nor type");
	ok(!parses("[{\"event\":\"open\",\"ts\":1,\"msg\":{\"_id\":\"\xff\"}}]",
	    detail), "invalid UTF-8");
	ok(!parses("[{\"event\":\"open\",\"ts\":1,\"msg\":{\"_id\":'m'}}]",
	    detail), "single quotes");
	ok(!parses("", detail), "empty value");

	deep = malloc(20002);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	ok(!parses(deep, detail), "deep nesting refused: %s", detail);
	free(deep);

	{
		size_t n = 1001, len = 2 + n * 3;
		char *many = malloc(len + 1), *p = many;

		*p++ = '[';
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, "%s{}", i ? "," : "");
		*p++ = ']';
		*p = '\0';
		ok(!parses(many, detail) && strstr(detail, "1000"),
		    "over 1000 events refused: %s", detail);
		free(many);
	}
	return done_testing();
}

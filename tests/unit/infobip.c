/*
 * Infobip: every example of the seed, each callbackData form, the mapping
 * onto event types, identities, and refusals that name the problem.
 */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"

#define FIXTURES "tests/fixtures/infobip/"

static char *
slurp(const char *name, size_t *len)
{
	char path[256];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	return buf;
}

static const char *
str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static int
is_null(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && v == NULL;
}

/* Parses and normalises every item of a body; returns how many. */
static size_t
load(const char *text, size_t len, struct mh_normal *out, size_t max)
{
	struct json_object *items = NULL;
	char detail[256];
	size_t n;

	if (mh_infobip_parse(text, len, &items, detail, sizeof(detail)) != 0) {
		printf("# parse: %s\n", detail);
		return 0;
	}
	n = json_object_array_length(items);
	for (size_t i = 0; i < n && i < max; i++)
		if (mh_infobip_normalise(json_object_array_get_idx(items, i),
		    "2026-11-22T10:00:00.000Z", 9, &out[i]) != 0)
			n = 0;
	json_object_put(items);
	return n;
}

static void
drop(struct mh_normal *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_object_put(ev[i].event);
		json_object_put(ev[i].entity);
		free(ev[i].identity);
	}
}

struct example {
	const char *file;
	size_t count;
	const char *status, *type, *email, *external_id;
	long long contact;	/* -1: null */
};

static const struct example examples[] = {
	{ "delivered.json", 1, "DELIVERED", "delivered",
	    "joao.madero@quite.com.br", "yfkgy9xol5kpl33u384n", 3 },
	{ "undeliverable.json", 1, "UNDELIVERABLE", "hard_bounce",
	    "joao.madero@quite.com.br", "vzl7uvqhq7lt1fa66718", 3 },
	{ "suppressed_bounce.json", 1, "UNDELIVERABLE", "hard_bounce",
	    "paulorobetovlopes@hotmail.com", "1955tld5lqf3mn9ou3tz", 310372388 },
	{ "opened.json", 1, "OPENED", "open", "joao.madero@quite.com.br",
	    "3nghqee2ktl9c6ta3z56", 3 },
	{ "clicked.json", 1, "CLICKED", "click", "joao.madero@quite.com.br",
	    "yfkgy9xol5kpl33u384n", 3 },
	{ "unsubscribed.json", 1, "UNSUBSCRIBED", "unsub",
	    "john.doe@some-domain.com", "14b734recsf69n8zkao5", 3 },
	{ "complained.json", 1, "COMPLAINED", "spam", "john.doe@some-domain.com",
	    "14b734recsf69n8zkao5", 3 },
	{ "delivered_dict.json", 5, "DELIVERED", "delivered", "xbbvalle@mail.com",
	    "jymy9kls8qx59blkizg4", 124127953 },
};

static void
test_examples(void)
{
	struct mh_normal ev[8];

	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		const struct example *x = &examples[i];
		size_t len, n;
		char *text = slurp(x->file, &len);

		if (!ok(text != NULL, "%s readable", x->file))
			continue;
		memset(ev, 0, sizeof(ev));
		n = load(text, len, ev, 8);
		ok(n == x->count, "%s: %zu item(s)", x->file, x->count);
		if (n == 0) {
			free(text);
			continue;
		}
		is_str(str(ev[0].entity, "status"), x->status, "%s: status", x->file);
		is_str(str(ev[0].event, "type"), x->type, "%s: event type", x->file);
		is_str(str(ev[0].entity, "email"), x->email, "%s: email", x->file);
		is_str(str(ev[0].event, "email"), x->email, "%s: event email",
		    x->file);
		is_str(str(ev[0].entity, "external_id"), x->external_id,
		    "%s: external_id", x->file);
		is_str(str(ev[0].event, "message_id"), x->external_id,
		    "%s: message id", x->file);
		is_str(str(ev[0].event, "provider"), "infobip", "%s: provider",
		    x->file);
		is_str(str(ev[0].entity, "received_at"), "2026-11-22T10:00:00.000Z",
		    "%s: received_at", x->file);
		{
			struct json_object *c;
			int have = json_object_object_get_ex(ev[0].entity,
			    "qj_contact_id", &c) && c != NULL;

			ok(have && json_object_get_int64(c) == x->contact,
			    "%s: qj_contact_id %lld", x->file, x->contact);
		}
		drop(ev, n);
		free(text);
	}
}

static void
test_details(void)
{
	struct mh_normal ev[5] = { 0 };
	struct json_object *data, *err;
	size_t len;
	char *text = slurp("undeliverable.json", &len);
	const char *subject;

	load(text, len, ev, 5);
	free(text);
	is_str(str(ev[0].entity, "status_name"), "UNDELIVERABLE_REJECTED_OPERATOR",
	    "status_name");
	is_str(str(ev[0].entity, "status_description"),
	    "Message rejected by operator", "status_description");
	ok(json_object_object_get_ex(ev[0].entity, "error", &err) && err &&
	    strcmp(str(err, "name"), "EC_SENDER_ADDRESS_INVALID") == 0 &&
	    json_object_get_boolean(json_object_object_get(err, "permanent")),
	    "error name and permanence");
	is_str(str(ev[0].entity, "bulk_id"), "u38ifa6y5hsjyacodpyn", "bulk_id");
	is_str(str(ev[0].entity, "done_at"), "2024-07-16T17:15:21.288-0300",
	    "done_at");
	is_str(str(ev[0].entity, "sent_at"), "2024-07-16T17:15:21.286-0300",
	    "sent_at");
	ok(is_null(ev[0].entity, "send_date_time"), "no send_date_time");
	ok(json_object_get_int64(json_object_object_get(ev[0].event, "ts")) ==
	    1721160921, "event ts from doneAt, with its offset");
	drop(ev, 1);

	text = slurp("suppressed_bounce.json", &len);
	load(text, len, ev, 5);
	free(text);
	data = json_object_object_get(ev[0].entity, "callback_data");
	subject = str(data, "qj_subject");
	is_str(subject, "Paulo, voc\xc3\xaa foi contemplado com uma condi\xc3\xa7\xc3\xa3o"
	    " especial Geru! \xf0\x9f\x8e\x81", "JSON callbackData, surrogate pair "
	    "joined");
	ok(json_object_get_int(json_object_object_get(data, "qj_firing_id")) ==
	    485456, "numbers inside callbackData stay numbers");
	drop(ev, 1);

	text = slurp("delivered_dict.json", &len);
	load(text, len, ev, 5);
	free(text);
	data = json_object_object_get(ev[1].entity, "callback_data");
	ok(json_object_is_type(data, json_type_object),
	    "a Python dict's repr is parsed");
	is_str(str(data, "qj_subject"), "Thiago, agora voc\xc3\xaa pode contar "
	    "com a QuiteJ\xc3\xa1 para dar adeus a pend\xc3\xaancia Geru!",
	    "with its \\u escapes");
	ok(json_object_get_int64(json_object_object_get(ev[1].entity,
	    "qj_contact_id")) == 111372120, "qj_contact_id from a numeric string");
	is_str(str(ev[4].entity, "email"), "luisgomes@mail.com", "5th of 5");
	drop(ev, 5);

	text = slurp("opened.json", &len);
	load(text, len, ev, 5);
	free(text);
	ok(strstr(mh_json_text(ev[0].event), "\"location\":{\"city\":\"Mountain "
	    "View\",\"country\":\"United States\"}") != NULL, "open: location");
	ok(strstr(mh_json_text(ev[0].event), "\"os_family\":\"Windows XP\"") != NULL,
	    "open: device");
	ok(json_object_get_int64(json_object_object_get(ev[0].entity,
	    "send_date_time")) == 1721161444325LL, "send_date_time");
	ok(json_object_get_int64(json_object_object_get(ev[0].event, "ts")) ==
	    1795341600, "a tracking event's ts is when it was received");
	drop(ev, 1);

	text = slurp("clicked.json", &len);
	load(text, len, ev, 5);
	free(text);
	is_str(str(ev[0].event, "url"), "www.google.com?utm_medium=email",
	    "click url");
	drop(ev, 1);
	text = slurp("unsubscribed.json", &len);
	load(text, len, ev, 5);
	free(text);
	ok(strstr(mh_json_text(ev[0].event), "\"city\":\"Los Angeles\"") != NULL,
	    "geoLocation (the other spelling) read too");
	drop(ev, 1);
}

static struct mh_normal one(const char *body);

/* Whether two one-item bodies are one event (the same identity). */
static int
same_event(const char *x, const char *y)
{
	struct mh_normal a = one(x), b = one(y);
	int same = a.identity != NULL && b.identity != NULL &&
	    strcmp(a.identity, b.identity) == 0;

	drop(&a, 1);
	drop(&b, 1);
	return same;
}

static struct mh_normal
one(const char *body)
{
	struct mh_normal ev[1] = { 0 };

	if (load(body, strlen(body), ev, 1) != 1)
		printf("# did not load: %s\n", body);
	return ev[0];
}

static void
test_mapping_and_identity(void)
{
	static const struct { const char *group; int permanent; const char *type; }
	    map[] = {
		{ "PENDING", 0, "send" }, { "DELIVERED", 0, "delivered" },
		{ "UNDELIVERABLE", 0, "soft_bounce" },
		{ "UNDELIVERABLE", 1, "hard_bounce" },
		{ "EXPIRED", 0, "soft_bounce" }, { "REJECTED", 0, "reject" },
	};
	struct mh_normal a, b;
	char body[512];

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		snprintf(body, sizeof(body), "{\"messageId\":\"m\",\"to\":\"a@x.io\","
		    "\"status\":{\"groupName\":\"%s\"},\"error\":{\"permanent\":%s}}",
		    map[i].group, map[i].permanent ? "true" : "false");
		a = one(body);
		is_str(str(a.event, "type"), map[i].type, "%s%s -> %s", map[i].group,
		    map[i].permanent ? " (permanent)" : "", map[i].type);
		drop(&a, 1);
	}
	a = one("{\"notificationType\":\"LATE_BOUNCE\",\"messageId\":\"m\"}");
	is_str(str(a.event, "type"), "hard_bounce", "LATE_BOUNCE -> hard_bounce");
	drop(&a, 1);

	a = one("{\"messageId\":12345,\"status\":{\"groupName\":\"DELIVERED\"}}");
	is_str(str(a.entity, "external_id"), "12345", "a numeric messageId is "
	    "kept as a string");
	ok(is_null(a.entity, "qj_contact_id"), "no callbackData: null contact");
	drop(&a, 1);
	a = one("{\"messageId\":18446744073709551615,\"status\":"
	    "{\"groupName\":\"DELIVERED\"}}");
	is_str(str(a.entity, "external_id"), "18446744073709551615",
	    "a numeric messageId past 2^63 by its digits, not clamped");
	drop(&a, 1);
	{
		char item[512], id[201];

		memset(id, 'i', 200);
		id[200] = '\0';
		id[199] = 'a';
		snprintf(item, sizeof(item), "{\"messageId\":\"%s\",\"status\":"
		    "{\"groupName\":\"DELIVERED\"}}", id);
		a = one(item);
		is_str(str(a.entity, "external_id"), id, "a 200-byte messageId "
		    "whole");
		id[199] = 'b';
		snprintf(item, sizeof(item), "{\"messageId\":\"%s\",\"status\":"
		    "{\"groupName\":\"DELIVERED\"}}", id);
		b = one(item);
		ok(strcmp(a.identity, b.identity) != 0, "two differing past byte "
		    "127 are two messages");
		drop(&a, 1);
		drop(&b, 1);
	}

#define OPEN "{\"notificationType\":\"OPENED\",\"messageId\":"
	ok(!same_event(OPEN "\"m\",\"eventId\":\"e1\",\"sendDateTime\":1}",
	    OPEN "\"m\",\"eventId\":\"e2\",\"sendDateTime\":1}"),
	    "tracking: eventId tells apart");
	ok(same_event(OPEN "\"m\",\"eventId\":\"e1\",\"sendDateTime\":1}",
	    OPEN "\"other\",\"eventId\":\"e1\",\"sendDateTime\":2}"),
	    "same eventId: same identity");
	ok(!same_event(OPEN "\"m\",\"eventId\":111,\"sendDateTime\":1}",
	    OPEN "\"m\",\"eventId\":222,\"sendDateTime\":1}"),
	    "a numeric eventId tells apart too");
	ok(!same_event(OPEN "\"m\",\"sendDateTime\":5,\"recipientInfo\":"
	    "{\"deviceName\":\"A\"}}", OPEN "\"m\",\"sendDateTime\":5,"
	    "\"recipientInfo\":{\"deviceName\":\"B\"}}"), "no eventId: an open "
	    "from another device in the same second is another event");
	ok(same_event(OPEN "\"m\",\"sendDateTime\":5}",
	    OPEN "\"m\",\"sendDateTime\":5}"),
	    "no eventId: the same item again (a retry) is the same event");
	ok(!same_event(OPEN "\"m\",\"sendDateTime\":5}",
	    "{\"notificationType\":\"CLICKED\",\"messageId\":\"m\","
	    "\"sendDateTime\":5}"), "another status: another event");
#undef OPEN
	ok(!same_event("{\"messageId\":\"m\",\"status\":{\"groupName\":"
	    "\"DELIVERED\"},\"doneAt\":\"2024-01-01T00:00:00.000Z\"}",
	    "{\"messageId\":\"m\",\"status\":{\"groupName\":\"DELIVERED\"},"
	    "\"doneAt\":\"2024-01-01T00:00:01.000Z\"}"),
	    "reports: doneAt tells apart");
}

static void
test_callback_data(void)
{
	static const struct { const char *text; long long contact; } cases[] = {
		{ "{\"qj_contact_id\": 3}", 3 },
		{ "{\"qj_contact_id\": \"42\"}", 42 },
		{ "{'qj_contact_id': 7, 'flag': True, 'none': None}", 7 },
		{ "{'qj_contact_id': '  8 '}", 8 },
		{ "{'qj_contact_id': -9}", -9 },
		{ "{\"qj_contact_id\": 3.0}", 3 },
		{ "{\"qj_contact_id\": 3.5}", -1 },
		{ "{\"qj_contact_id\": 1e50}", -1 },
		{ "{\"qj_contact_id\": -1e50}", -1 },
		{ "{\"qj_contact_id\": 9223372036854775808.0}", -1 },
		{ "{\"qj_contact_id\": \"abc\"}", -1 },
		{ "{\"qj_contact_id\": \"12abc\"}", -1 },
		{ "{\"qj_contact_id\": null}", -1 },
		{ "{\"qj_contact_id\": [1]}", -1 },
		{ "{\"other\": 1}", -1 },
		{ "[1, 2]", -1 },
	};
	struct json_object *d;
	int64_t id;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = mh_callback_data(cases[i].text, strlen(cases[i].text));
		if (cases[i].contact >= 0 || cases[i].contact == -9)
			ok(d != NULL && mh_qj_contact_id(d, &id) == 0 &&
			    id == cases[i].contact, "%s -> %lld", cases[i].text,
			    cases[i].contact);
		else
			ok(d != NULL && mh_qj_contact_id(d, &id) != 0,
			    "%s -> no contact id", cases[i].text);
		json_object_put(d);
	}
	d = mh_callback_data("{'a': 'b'", 9);
	ok(d == NULL, "unparseable callbackData is no value");
	d = mh_callback_data("{\"qj_contact_id\": NaN}", 22);
	ok(d == NULL, "nor is NaN (not JSON, not Python)");
	d = mh_callback_data("{'a': '\\x00'}", 13);
	ok(d == NULL, "nor a Python string holding NUL (kept as sent, raw)");
	{
		struct mh_normal a = one("{\"messageId\":\"m\",\"status\":"
		    "{\"groupName\":\"DELIVERED\"},\"callbackData\":\"{'a': \"}");

		is_str(str(a.entity, "callback_data"), "{'a': ",
		    "and is kept as the raw string");
		ok(is_null(a.entity, "qj_contact_id"), "with a null contact id");
		drop(&a, 1);
	}
}

static void
test_refusals(void)
{
	static const struct { const char *body, *want; } bad[] = {
		{ "not json", "invalid JSON" },
		{ "[{\"messageId\":\"m\"}]", "must be a JSON object" },
		{ "{\"results\":{}}", "results must be an array" },
		{ "{\"results\":[{\"status\":{\"groupName\":\"DELIVERED\"}}]}",
		    "results[0]: messageId is missing" },
		{ "{\"results\":[{\"messageId\":\"a\",\"status\":{\"groupName\":"
		    "\"DELIVERED\"}},{\"messageId\":\"b\"}]}",
		    "results[1]: status is missing" },
		{ "{\"messageId\":\"m\",\"status\":\"DELIVERED\"}",
		    "status must not be a string" },
		{ "{\"messageId\":\"m\",\"status\":{\"groupName\":\"LOST\"}}",
		    "unknown status.groupName" },
		{ "{\"messageId\":true,\"status\":{\"groupName\":\"DELIVERED\"}}",
		    "messageId must not be a boolean" },
		{ "{\"messageId\":\"\",\"status\":{\"groupName\":\"DELIVERED\"}}",
		    "messageId is empty" },
		{ "{\"messageId\":\"m\",\"status\":{\"groupName\":\"DELIVERED\"},"
		    "\"to\":5}", "to must not be a number" },
		{ "{\"notificationType\":\"VIEWED\",\"messageId\":\"m\"}",
		    "unknown notificationType" },
		{ "{\"notificationType\":\"OPENED\"}", "messageId is missing" },
		{ "{\"results\":[3]}", "results[0]: is a number, not an object" },
		{ "{\"messageId\":\"m\",\"status\":{\"groupName\":\"DELIVERED\"}} x",
		    "invalid JSON at byte 53" },
	};
	struct json_object *items;
	char detail[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		items = NULL;
		ok(mh_infobip_parse(bad[i].body, strlen(bad[i].body), &items,
		    detail, sizeof(detail)) != 0 && items == NULL &&
		    strstr(detail, bad[i].want) != NULL, "refused: %s (%s)",
		    bad[i].want, detail);
	}
	ok(mh_infobip_parse("{\"results\":[]}", 14, &items, detail,
	    sizeof(detail)) == 0 && json_object_array_length(items) == 0,
	    "an empty batch parses");
	json_object_put(items);
}

static void
test_iso_time(void)
{
	int64_t t;

	ok(mh_iso_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0, "epoch");
	ok(mh_iso_time("2024-07-16T17:26:54.966-0300", &t) == 0 &&
	    t == 1721161614, "Infobip's -0300");
	ok(mh_iso_time("2024-07-16T20:26:54+00:00", &t) == 0 && t == 1721161614,
	    "+00:00");
	ok(mh_iso_time("2024-07-16 20:26:54Z", &t) != 0, "a space is not a T");
	ok(mh_iso_time("2024-13-16T20:26:54Z", &t) != 0, "month 13");
	ok(mh_iso_time("2024-07-16T20:26:54", &t) != 0, "no zone");
	ok(mh_iso_time("2024-07-16T20:26:54.Z", &t) != 0, "empty fraction");
}

int
main(void)
{
	test_examples();
	test_details();
	test_mapping_and_identity();
	test_callback_data();
	test_refusals();
	test_iso_time();
	return done_testing();
}

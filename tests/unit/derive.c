/* Turning an inbox entry into the storage layer's events: its record
 * (this layout and the one earlier versions wrote), each provider's
 * body, the events' indexed fields and text, and the message summary's
 * fold. */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store-private.h"

#define MANDRILL_BODY "mandrill_events=%5B%7B%22event%22%3A%22open%22%2C" \
	"%22ts%22%3A1700000000%2C%22msg%22%3A%7B%22_id%22%3A%22m1%22%2C" \
	"%22email%22%3A%22Alice%40X.io%22%2C%22subject%22%3A%22Hi%22%7D%7D%2C" \
	"%7B%22event%22%3A%22send%22%2C%22ts%22%3A1699999999%2C%22msg%22%3A" \
	"%7B%22_id%22%3A%22m1%22%7D%7D%5D"

static void
test_entry_record(void)
{
	struct mh_entry_meta meta = { .provider = "infobip",
	    .received_ms = 1767225600123, .remote_addr = "192.0.2.7",
	    .bytes = 3 };
	struct mh_entry e;
	static const char legacy[] = "{\"provider\":\"mandrill\",\"received_at\":"
	    "\"2026-01-01T00:00:00.000Z\",\"remote_addr\":\"10.0.0.1\","
	    "\"received_ts\":1767225600,\"bytes\":4}\nbody";
	void *rec;
	size_t len;

	ok(mh_entry_encode(&meta, "abc", 3, &rec, &len) == 0, "encoded");
	ok(mh_entry_decode(rec, len, &e) == 0, "and decoded");
	is_str(e.meta.provider, "infobip", "provider");
	is_str(e.meta.remote_addr, "192.0.2.7", "address");
	ok(e.meta.received_ms == 1767225600123 && e.meta.bytes == 3,
	    "time and size");
	ok(e.body_len == 3 && memcmp(e.body, "abc", 3) == 0, "the body");
	ok(mh_entry_decode(rec, 20, &e) != 0, "a cut record is refused");
	((unsigned char *)rec)[17] = 200;
	ok(mh_entry_decode(rec, len, &e) != 0, "a length past the end too");
	free(rec);
	memset(meta.provider, 'x', sizeof(meta.provider));
	ok(mh_entry_encode(&meta, "", 0, &rec, &len) != 0,
	    "a provider with no end is refused");

	ok(mh_entry_decode(legacy, sizeof(legacy) - 1, &e) == 0,
	    "an earlier version's record");
	is_str(e.meta.provider, "mandrill", "its provider");
	ok(e.meta.received_ms == 1767225600000 && e.meta.bytes == 4,
	    "its time and size");
	ok(e.body_len == 4 && memcmp(e.body, "body", 4) == 0, "its body");
	ok(mh_entry_decode("{no line", 8, &e) != 0, "without its line: refused");
}

/* Derives the events of an entry of provider with body. */
static int
derive(const char *provider, const char *body, struct mh_event **ev,
    size_t *n, char *why)
{
	struct mh_entry e = { .receipt = 42, .body = body,
	    .body_len = strlen(body) };
	struct mh_deriver d;

	snprintf(e.meta.provider, sizeof(e.meta.provider), "%s", provider);
	e.meta.received_ms = 1767225600123;
	mh_deriver_init(&d, NULL, NULL);
	return d.derive(&d, &e, ev, n, why, 160);
}

static void
test_mandrill(void)
{
	struct mh_event *ev = NULL;
	struct mh_deriver d;
	char why[160], *sum = NULL, *sum2 = NULL;
	struct mh_fold f1, f2;
	size_t n;

	ok(derive("mandrill", MANDRILL_BODY, &ev, &n, why) == 0 && n == 2,
	    "a Mandrill entry: 2 events");
	is_str(ev[0].rec.event.type, "open", "type indexed");
	is_str(ev[0].rec.event.email, "Alice@X.io", "email as sent (the store "
	    "lower-cases its index)");
	is_str(ev[0].rec.event.message_id, "m1", "message id indexed");
	is_str(ev[0].provider, "mandrill", "provider");
	is_str(ev[0].subject, "Hi", "subject");
	ok(ev[0].ts == 1700000000, "ts");
	ok(ev[0].entity.json == NULL, "no provider's record of its own");
	ok(strstr(ev[0].rec.json, "\"received_at\":\"2026-01-01T00:00:00.123Z\"")
	    && strstr(ev[0].rec.json, "\"receipt\":\"42\""),
	    "received_at from the entry's time, and its receipt: %s",
	    ev[0].rec.json);
	ok(ev[0].rec.json[0] == '{' && strstr(ev[0].rec.json, "\"seq\"") ==
	    NULL, "an object's text, without seq (the store puts it)");
	ok(strcmp(ev[0].identity, ev[1].identity) != 0, "distinct identities");

	mh_deriver_init(&d, NULL, NULL);
	f1 = (struct mh_fold){ .ev = &ev[0], .seq = 5 };
	ok(d.fold(&d, &f1) == 0, "folded a first event");
	sum = f1.folded;
	f2 = (struct mh_fold){ .ev = &ev[1], .seq = 6, .summary = sum };
	ok(d.fold(&d, &f2) == 0, "and a second");
	sum2 = f2.folded;
	free(f1.json);
	free(f2.json);
	ok(strstr(sum2, "\"opens\":1") && strstr(sum2, "\"state\":\"send\"") &&
	    strstr(sum2, "\"events\":2") && strstr(sum2, "\"first_seq\":5") &&
	    strstr(sum2, "\"last_seq\":6") && strstr(sum2, "\"subject\":\"Hi\"")
	    && strstr(sum2, "\"last_ts\":1700000000"),
	    "the summary counts the open, keeps the state and subject: %s", sum2);
	free(sum);
	free(sum2);
	mh_events_free(ev, n);

	ok(derive("mandrill", "mandrill_events=%ZZ", &ev, &n, why) != 0 &&
	    strstr(why, "form") && ev == NULL && n == 0,
	    "a malformed form: %s", why);
	ok(derive("mandrill", "x=1", &ev, &n, why) != 0 &&
	    strstr(why, "mandrill_events missing"), "no events field: %s", why);
	ok(derive("carrier-pigeon", "x", &ev, &n, why) != 0 &&
	    strstr(why, "unknown provider"), "an unknown provider: %s", why);
}

static void
test_infobip(void)
{
	struct mh_event *ev = NULL;
	char why[160];
	size_t n;

	ok(derive("infobip", "{\"results\":[{\"messageId\":\"ib-1\",\"to\":"
	    "\"b@x.io\",\"status\":{\"groupName\":\"DELIVERED\"},\"doneAt\":"
	    "\"2026-11-22T10:00:00.000+0000\"}]}", &ev, &n, why) == 0 && n == 1,
	    "an Infobip entry: 1 event");
	is_str(ev[0].rec.event.type, "delivered", "its type");
	is_str(ev[0].entity.callback.status, "DELIVERED", "the email_callback's status");
	is_str(ev[0].entity.callback.email, "b@x.io", "its email");
	is_str(ev[0].entity.callback.external_id, "ib-1", "its external id");
	ok(ev[0].entity.json != NULL && strstr(ev[0].entity.json,
	    "\"qj_contact_id\":null"), "the email_callback's text");
	ok(ev[0].ts == 1795341600, "ts from doneAt");
	mh_events_free(ev, n);
	ok(derive("infobip", "[]", &ev, &n, why) != 0, "not an object: %s", why);
}

static void
test_times(void)
{
	char iso[32];

	mh_iso_from_ms(0, iso);
	is_str(iso, "1970-01-01T00:00:00.000Z", "the epoch");
	mh_iso_from_ms(1767225600999, iso);
	is_str(iso, "2026-01-01T00:00:00.999Z", "milliseconds");
	mh_iso_from_ms(-1, iso);
	is_str(iso, "1969-12-31T23:59:59.999Z", "before the epoch");
	{
		static const char *const bad[] = { "2026-02-31T00:00:00Z",
		    "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		    "2100-02-29T00:00:00Z", "2026-01-01T24:00:00Z",
		    "2026- 1-01T00:00:00Z", "2026-+1-01T00:00:00Z",
		    "+026-01-01T00:00:00Z", "2026-01-01T00:00:00",
		    "2026-01-01T00:00:00.Z", "2026-01-01", NULL };
		int64_t t;

		for (size_t i = 0; bad[i] != NULL; i++)
			ok(mh_iso_time(bad[i], &t) != 0, "not a time: %s", bad[i]);
		ok(mh_iso_time("2024-02-29T12:00:00.5+01:00", &t) == 0 &&
		    t == 1709204400, "a leap day, a fraction, an offset");
		ok(mh_iso_time("2000-02-29T00:00:00Z", &t) == 0,
		    "2000 was a leap year");
	}
}

int
main(void)
{
	test_entry_record();
	test_mandrill();
	test_infobip();
	test_times();
	return done_testing();
}

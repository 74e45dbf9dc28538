/* The pure parts of sending campaigns: a window's next opening in a
 * client's time zone across DST changes and midnight (sender/tzwin.c),
 * the circuit breaker and the rate (breaker.c), the external API's
 * request and answers (campaign_api.c), what becomes of a message taken
 * and of its attempt (cm_step.c), and a client matching a campaign
 * (core/campaign_plan.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "tap.h"
#include "sender/sender.h"

/* Unix seconds of a UTC time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	    .tm_hour = h, .tm_min = mi };

	return (int64_t)timegm(&tm);
}

static void
windows(void)
{
	static const struct {
		const char *zone;
		int64_t now;
		const char *from, *to;
		int64_t want;
		const char *name;
	} w[] = {
		{ "America/New_York", 1772935200 /* 2026-03-08 02:00Z */,
		    "09:00", "21:00", 1772974800,
		    "New York, the night DST starts: 09:00 EDT is 13:00Z" },
		{ "America/New_York", 1772942400 /* 04:00Z, 23:00 EST */,
		    "02:30", "05:00", 1772955000,
		    "New York: 02:30 that day does not exist: 03:30 EDT" },
		{ "Europe/Berlin", 1774729800 /* 2026-03-28 20:30Z */,
		    "09:00", "21:00", 1774767600,
		    "Berlin, three weeks later: 09:00 CEST is 07:00Z" },
		{ "Europe/Berlin", 1792879200 /* 2026-10-24 22:00Z */,
		    "09:00", "21:00", 1792915200,
		    "Berlin, the night DST ends: 09:00 CET is 08:00Z" },
		{ "Australia/Sydney", 1775296800 /* 2026-04-04 10:00Z, 21:00 */,
		    "09:00", "21:00", 1775343600,
		    "Sydney, at its closing the night its DST ends: 09:00 AEST "
		    "is 23:00Z" },
		{ "Europe/Moscow", 1780272000 /* 2026-06-01 00:00Z, 03:00 */,
		    "22:00", "06:00", 0, "a window across midnight: 03:00 in" },
		{ "Europe/Moscow", 1780304400 /* 09:00Z, 12:00 MSK */,
		    "22:00", "06:00", 1780340400,
		    "across midnight, at noon: 22:00 MSK is 19:00Z" },
		{ "Europe/Moscow", 1780336800 /* 18:00Z, 21:00 MSK */,
		    "09:00", "21:00", 1780380000,
		    "at its closing minute: out, next morning" },
		{ "Europe/Moscow", 1780336740, "09:00", "21:00", 0,
		    "a minute before: in" },
	};

	ok(utc(2026, 3, 8, 2, 0) == 1772935200, "self-check: the times");
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		int64_t got = mh_window_next(w[i].zone, w[i].now,
		    mh_clock(w[i].from), mh_clock(w[i].to));

		if (!ok(got == w[i].want, "%s", w[i].name))
			printf("#   got %lld, want %lld\n", (long long)got,
			    (long long)w[i].want);
	}
	unsetenv("TZ");
	tzset();
}

static void
breaker(void)
{
	struct mh_breakers bs = { .threshold = 3, .pause_ms = 1000,
	    .pause_max_ms = 8000, .probe_ms = 5000 };

	ok(mh_breaker_gate(&bs, 7, 0) == 0, "closed: it goes");
	ok(mh_breaker_note(&bs, 7, 1, 10) == MH_BREAKER_SAME &&
	    mh_breaker_note(&bs, 7, 1, 20) == MH_BREAKER_SAME,
	    "two failures: still closed");
	ok(mh_breaker_note(&bs, 7, 1, 30) == MH_BREAKER_OPENED,
	    "the third in a row: opened");
	ok(mh_breaker_gate(&bs, 7, 500) == 1030, "held until the pause ends");
	ok(mh_breaker_gate(&bs, 8, 500) == 0, "another campaign goes");
	ok(mh_breaker_note(&bs, 7, 1, 600) == MH_BREAKER_SAME,
	    "a failure sent before it opened changes nothing");
	ok(mh_breaker_gate(&bs, 7, 1100) == 0, "the pause over: one probe");
	ok(mh_breaker_gate(&bs, 7, 1100) > 1100, "and only one");
	ok(mh_breaker_note(&bs, 7, 1, 1200) == MH_BREAKER_OPENED &&
	    mh_breaker_until(&bs, 7) == 3200, "the probe failed: twice the pause");
	ok(mh_breaker_gate(&bs, 7, 3300) == 0 &&
	    mh_breaker_note(&bs, 7, 0, 3400) == MH_BREAKER_CLOSED,
	    "the next probe went through: closed");
	ok(mh_breaker_gate(&bs, 7, 3500) == 0 && mh_breaker_until(&bs, 7) == 0,
	    "and all go");
	mh_breaker_note(&bs, 9, 1, 0);
	mh_breaker_note(&bs, 9, 0, 1);
	mh_breaker_note(&bs, 9, 1, 2);
	ok(mh_breaker_note(&bs, 9, 1, 3) == MH_BREAKER_SAME,
	    "a success between failures: the count starts again");
}

static void
rate(void)
{
	struct mh_rate r;

	mh_rate_init(&r, 0, 0);
	ok(mh_rate_allow(&r, 0, 64) == 64, "no limit: all");
	mh_rate_init(&r, 50, 0);
	ok(mh_rate_allow(&r, 0, 64) == 5, "50 a second: 5 at once");
	mh_rate_spend(&r, 5);
	ok(mh_rate_allow(&r, 10, 64) == 0 && mh_rate_wait_ms(&r) > 0,
	    "then none for a while");
	ok(mh_rate_allow(&r, 100, 64) == 5, "a tenth of a second on: 5");
	mh_rate_init(&r, 2, 0);
	mh_rate_spend(&r, mh_rate_allow(&r, 0, 10));
	ok(mh_rate_allow(&r, 499, 10) == 0 && mh_rate_allow(&r, 500, 10) == 1,
	    "2 a second: one each half second");
}

static void
api(void)
{
	static const struct { int transport; long status; const char *body;
	    enum mh_send_outcome want; const char *name; } a[] = {
		{ 0, 200, "{\"code\":0,\"message\":\"OK\"}", MH_OUT_SENT,
		    "200 {code: 0}: sent" },
		{ 0, 200, "{\"code\":1,\"message\":\"busy\"}", MH_OUT_RETRY,
		    "200 {code: 1}: again" },
		/* A 200 it cannot have meant: taken, never sent again. */
		{ 0, 200, "{\"code\":\"0\"}", MH_OUT_POSSIBLY_SENT,
		    "code as text: possibly sent" },
		{ 0, 200, "<html>down</html>", MH_OUT_POSSIBLY_SENT,
		    "200 garbage: possibly sent" },
		{ 0, 200, "", MH_OUT_POSSIBLY_SENT, "200 empty: possibly sent" },
		{ CURLE_OPERATION_TIMEDOUT, 200, "{\"co", MH_OUT_POSSIBLY_SENT,
		    "200 and a body that never ends: possibly sent" },
		{ 0, 204, "", MH_OUT_RETRY, "204: not the success shape" },
		{ 0, 500, "", MH_OUT_RETRY, "500: again" },
		{ 0, 503, "", MH_OUT_RETRY, "503: again" },
		{ 0, 429, "", MH_OUT_RETRY, "429: again" },
		{ 0, 400, "{\"error\":\"bad phone\"}", MH_OUT_FINAL, "400: final" },
		{ 0, 401, "", MH_OUT_FINAL, "401: final" },
		{ 0, 302, "", MH_OUT_FINAL, "a redirect: final" },
		{ CURLE_OPERATION_TIMEDOUT, 0, NULL, MH_OUT_RETRY, "a timeout" },
		{ CURLE_COULDNT_CONNECT, 0, NULL, MH_OUT_RETRY, "refused" },
	};
	char error[300], *body;
	struct json_object *o;

	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		struct mh_http_answer h = { .transport = a[i].transport,
		    .status = a[i].status, .body = (char *)a[i].body,
		    .body_len = a[i].body ? strlen(a[i].body) : 0,
		    .retry_after_s = -1 };

		ok(mh_capi_answer(&h, error, sizeof(error)) == a[i].want &&
		    (a[i].want == MH_OUT_SENT) == (error[0] == '\0'), "%s",
		    a[i].name);
	}
	body = mh_capi_request(42, "79001234567", "Скидка \"10 %\"");
	o = json_tokener_parse(body);
	ok(strstr(body, "\"phone\":79001234567") != NULL &&
	    mh_json_int(o, "id") == 42 &&
	    strcmp(mh_json_str(o, "text"), "Скидка \"10 %\"") == 0,
	    "the request: id, the phone as a number, the text");
	json_object_put(o);
	free(body);
}

/* A plan of a campaign running from 1000 s to 2000 s with filter f. */
static void
plan(struct mh_campaign_plan *p, const char *filter, const char *extra)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"id\":3,\"start_at\":"
	    "\"1970-01-01T00:16:40Z\",\"end_at\":\"1970-01-01T00:33:20Z\","
	    "\"text\":\"Hi\",\"filter\":%s,\"channel\":\"api\","
	    "\"deleted_at\":null%s}", filter, extra);
	if (mh_campaign_plan_read(json, p) != 0)
		abort();
}

static enum mh_cm_step
decide(const char *status, const struct mh_campaign_plan *p,
    const char *client, int64_t now_ms, int64_t window, int64_t hold,
    int64_t *due)
{
	struct json_object *m = json_tokener_parse(status);
	struct json_object *c = client ? json_tokener_parse(client) : NULL;
	struct mh_cm_case k = { p, c, now_ms, window, hold };
	struct mh_cm_decision d;

	mh_cm_decide(m, &k, &d);
	*due = d.due_ms;
	json_object_put(m);
	json_object_put(c);
	return d.step;
}

static void
steps(void)
{
	const char *pending = "{\"status\":\"pending\",\"attempts\":[]}";
	const char *vip = "{\"tag\":\"vip\",\"operator_code\":\"900\"}";
	struct mh_campaign_plan p, gone;
	struct json_object *any;
	int64_t due;

	plan(&p, "{\"operator_codes\":[\"900\",\"901\"],\"tags\":[\"vip\"]}", "");
	plan(&gone, "{}", ",\"deleted_at\":\"1970-01-01T00:20:00Z\"");
	ok(gone.deleted && p.end_ms == 2000000, "self-check: the plans");
	ok(decide(pending, &p, vip, 1500000, 0, 0, &due) == MH_CM_SEND,
	    "pending, running, matching, in its window: sent");
	ok(decide(pending, &p, vip, 2000000, 0, 0, &due) == MH_CM_EXPIRE,
	    "at end_at: expired");
	ok(decide(pending, &gone, vip, 1500000, 0, 0, &due) == MH_CM_CANCEL,
	    "its campaign deleted: cancelled");
	ok(decide(pending, NULL, vip, 1500000, 0, 0, &due) == MH_CM_CANCEL,
	    "no such campaign: cancelled");
	ok(decide(pending, &p, NULL, 1500000, 0, 0, &due) == MH_CM_CANCEL,
	    "its client deleted: cancelled");
	ok(decide(pending, &p, "{\"tag\":\"std\",\"operator_code\":\"900\"}",
	    1500000, 0, 0, &due) == MH_CM_CANCEL,
	    "the client no longer matches the filter: cancelled");
	ok(decide(pending, &p, vip, 1500000, 1600, 0, &due) == MH_CM_DEFER &&
	    due == 1600000, "outside its window: deferred to the opening");
	ok(decide(pending, &p, vip, 1500000, 5000, 0, &due) == MH_CM_DEFER &&
	    due == 2000000, "an opening after the end: due at the end");
	ok(decide(pending, &p, vip, 1500000, 0, 1700000, &due) == MH_CM_HOLD &&
	    due == 1700000, "its circuit open: held");
	ok(decide("{\"status\":\"sending\",\"attempts\":[{}]}", &p, vip,
	    1500000, 0, 0, &due) == MH_CM_INTERRUPTED,
	    "found sending: cut short, failed as possibly sent");
	ok(decide("{\"status\":\"sent\"}", &p, vip, 1500000, 0, 0, &due) ==
	    MH_CM_DROP, "sent already: left alone");
	any = json_tokener_parse("{\"tag\":\"x\",\"operator_code\":\"999\"}");
	ok(mh_campaign_matches(&gone, any) && !mh_campaign_matches(&p, any),
	    "an empty filter matches everyone, a filter its clients only");
	json_object_put(any);
	mh_campaign_plan_free(&p);
	mh_campaign_plan_free(&gone);
}

/* The end of an attempt begun on a pending message. */
static const char *
end(int transport, long status, const char *body, unsigned n_before,
    int64_t now_ms, int64_t *due, struct json_object **out)
{
	static const struct mh_send_config cfg = { .max_attempts = 3,
	    .retry_ms = 1000, .retry_max_ms = 8000 };
	struct json_object *m = json_tokener_parse("{\"status\":\"pending\","
	    "\"attempts\":[]}");
	struct mh_http_answer h = { .transport = transport, .status = status,
	    .body = (char *)body, .body_len = body ? strlen(body) : 0,
	    .retry_after_s = -1, .ms = 5 };
	char error[300];
	struct mh_cm_answer an = { &cfg, &h, mh_capi_answer(&h, error,
	    sizeof(error)), error, 2000000, 0 };
	struct mh_cm_decision send = { .step = MH_CM_SEND };

	for (unsigned i = 0; i < n_before; i++)
		mh_attempt_push(mh_json_get(m, "attempts"), 0);
	mh_cm_apply(m, &send, now_ms);
	mh_cm_end(m, &an, now_ms, due);
	*out = m;
	return mh_json_str(m, "status");
}

static void
ends(void)
{
	struct json_object *m;
	int64_t due;

	is_str(end(0, 200, "{\"code\":0}", 0, 1500000, &due, &m), "sent",
	    "200 {code: 0}: sent");
	ok(due == -1 && mh_json_str(m, "sent_at") != NULL, "done, with its time");
	json_object_put(m);
	is_str(end(0, 500, "", 0, 1500000, &due, &m), "retrying",
	    "500: retrying");
	ok(due >= 1500500 && due <= 1501000, "after the first pause");
	json_object_put(m);
	is_str(end(0, 500, "", 2, 1500000, &due, &m), "failed",
	    "500 at the last attempt: failed");
	json_object_put(m);
	is_str(end(0, 500, "", 0, 1999900, &due, &m), "expired",
	    "a retry that would come after the end: expired now");
	json_object_put(m);
	is_str(end(0, 200, "{\"code\":0}", 0, 2000500, &due, &m), "sent",
	    "answered after the end: sent");
	ok(json_object_get_boolean(mh_json_get(mh_last_attempt(m),
	    "after_end")), "and its attempt says it was out at the end");
	json_object_put(m);
	is_str(end(CURLE_ABORTED_BY_CALLBACK, 0, NULL, 0, 1500000, &due, &m),
	    "pending", "stopped before the request went out: pending again");
	json_object_put(m);
}

int
main(void)
{
	windows();
	breaker();
	rate();
	api();
	steps();
	ends();
	return done_testing();
}

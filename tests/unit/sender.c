/* The sender's pure parts: what an answer of Mandrill's means
 * (sender/mandrill.c), the request made of a mail, the pause before a
 * retry, and an attempt's changes to a mail (sender/attempt.c). */
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "tap.h"
#include "sender/sender.h"

static const struct mh_send_config cfg = { .max_attempts = 3,
	.retry_ms = 30000, .retry_max_ms = 1800000 };

/* What an answer of status and body (transport: libcurl's code) means. */
static enum mh_send_outcome
outcome(int transport, long status, const char *body, char *error)
{
	struct mh_http_answer a = { .transport = transport, .status = status,
	    .body = (char *)body, .body_len = body ? strlen(body) : 0,
	    .retry_after_s = -1 };
	struct mh_send_result r;
	enum mh_send_outcome o;

	if (mh_mandrill_answer(&a, &r) != 0)
		return 99;
	o = r.outcome;
	strcpy(error, r.error);
	mh_send_result_free(&r);
	return o;
}

static struct json_object *
queued_mail(void)
{
	return json_tokener_parse("{\"status\":\"queued\",\"sender\":{\"kind\":"
	    "\"user\",\"name\":\"alice\"},\"attempts\":[],\"recipients\":["
	    "{\"email\":\"A@x.io\",\"status\":\"pending\"},"
	    "{\"email\":\"b@x.io\",\"status\":\"pending\"}],\"message\":"
	    "{\"from_email\":\"me@x.io\",\"to\":[{\"email\":\"A@x.io\"},"
	    "{\"email\":\"b@x.io\"}],\"text\":\"t\",\"metadata\":{\"k\":\"v\"}}}");
}

int
main(void)
{
	static const struct { int transport; long status; const char *body;
	    enum mh_send_outcome want; const char *name; } answers[] = {
		{ 0, 200, "[{\"email\":\"a@x.io\",\"status\":\"sent\",\"_id\":"
		    "\"abc\"}]", MH_OUT_SENT, "the documented array" },
		/* A 200 means Mandrill took it: never sent again. */
		{ 0, 200, "<html>down</html>", MH_OUT_POSSIBLY_SENT,
		    "a 200 with HTML: possibly sent" },
		{ 0, 200, "[{\"email\":\"a@x.io\",\"sta", MH_OUT_POSSIBLY_SENT,
		    "truncated JSON: possibly sent" },
		{ 0, 200, "[]", MH_OUT_RETRY, "an empty array" },
		{ 0, 200, "{\"status\":\"sent\"}", MH_OUT_POSSIBLY_SENT,
		    "an object: possibly sent" },
		{ CURLE_OPERATION_TIMEDOUT, 200, "[{\"email", MH_OUT_POSSIBLY_SENT,
		    "a 200 whose body never ends: possibly sent" },
		{ CURLE_OPERATION_TIMEDOUT, 503, "", MH_OUT_RETRY,
		    "a 503 whose body never ends: again" },
		{ 0, 200, "[{\"email\":\"a@x.io\",\"status\":\"lost\"}]",
		    MH_OUT_RETRY, "a state that is none" },
		{ 0, 500, "{\"status\":\"error\",\"name\":\"Invalid_Key\"}",
		    MH_OUT_BAD_KEY, "Invalid_Key" },
		{ 0, 500, "{\"status\":\"error\",\"name\":\"ValidationError\"}",
		    MH_OUT_FINAL, "ValidationError" },
		{ 0, 500, "{\"status\":\"error\",\"name\":\"PaymentRequired\"}",
		    MH_OUT_FINAL, "PaymentRequired" },
		{ 0, 500, "{\"status\":\"error\",\"name\":\"Unknown_Subaccount\"}",
		    MH_OUT_FINAL, "Unknown_Subaccount" },
		{ 0, 500, "{\"status\":\"error\",\"name\":\"ServiceUnavailable\"}",
		    MH_OUT_RETRY, "ServiceUnavailable" },
		{ 0, 503, "", MH_OUT_RETRY, "a 503" },
		{ 0, 429, "", MH_OUT_RETRY, "a 429" },
		{ 0, 404, "", MH_OUT_FINAL, "a 404" },
		{ 0, 401, "nope", MH_OUT_FINAL, "a 401" },
		{ 0, 302, "", MH_OUT_RETRY, "a redirect" },
		{ CURLE_OPERATION_TIMEDOUT, 0, NULL, MH_OUT_RETRY, "a timeout" },
		{ CURLE_COULDNT_CONNECT, 0, NULL, MH_OUT_RETRY, "no connection" },
		{ CURLE_GOT_NOTHING, 0, NULL, MH_OUT_RETRY, "a reset" },
	};
	struct mh_http_answer sent = { .status = 200, .ms = 12,
	    .retry_after_s = -1 }, slow = { .status = 503, .retry_after_s = -1 },
	    killed = { .transport = CURLE_ABORTED_BY_CALLBACK, .sent = 1,
	    .retry_after_s = -1 }, early = killed;
	struct mh_rcpt_result rr[2] = { { "a@x.io", "sent", "id-a", "" },
	    { "b@x.io", "rejected", "id-b", "hard-bounce" } };
	struct mh_send_result ok_r = { MH_OUT_SENT, "", rr, 2 },
	    retry_r = { MH_OUT_RETRY, "HTTP 503", NULL, 0 };
	struct json_object *m, *req, *rc;
	char error[300], why[100], *text;
	int64_t due, w;

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		enum mh_send_outcome o = outcome(answers[i].transport,
		    answers[i].status, answers[i].body, error);

		ok(o == answers[i].want, "%s: outcome %d (%s)", answers[i].name,
		    (int)o, error);
	}

	m = queued_mail();
	text = mh_mandrill_request(m, 42, "", "the-key");
	req = json_tokener_parse(text);
	is_str(mh_json_str(req, "key"), "the-key", "the request has the key");
	is_str(mh_json_str(mh_json_get(mh_json_get(req, "message"), "metadata"),
	    "mailhooks_mail"), "42", "the mail's id in the metadata");
	is_str(mh_json_str(mh_json_get(mh_json_get(req, "message"), "metadata"),
	    "user_id"), "alice", "its user, who hears of opens");
	is_str(mh_json_str(mh_json_get(mh_json_get(req, "message"), "metadata"),
	    "k"), "v", "the metadata given kept");
	json_object_put(req);
	free(text);

	/* The trap link: hidden in the HTML, before its end; text alone has
	 * none (no link can hide in it). */
	text = mh_mandrill_request(m, 42, "https://mh.example/api/trap", "k");
	ok(text != NULL && strstr(text, "api/trap") == NULL,
	    "no trap link in a mail of text alone");
	free(text);
	json_object_object_add(mh_json_get(m, "message"), "html",
	    json_object_new_string("<html><body><p>Hi <a href=\"https://"
	    "shop.example/a\">shop</a></p></BODY></html>"));
	text = mh_mandrill_request(m, 42, "https://mh.example/api/trap", "k");
	req = json_tokener_parse(text);
	is_str(mh_json_str(mh_json_get(req, "message"), "html"), "<html><body>"
	    "<p>Hi <a href=\"https://shop.example/a\">shop</a></p><a href=\""
	    "https://mh.example/api/trap\" style=\"display:none!important\" "
	    "aria-hidden=\"true\" tabindex=\"-1\">&#8203;</a></BODY></html>",
	    "the trap link hidden before </body>, whatever its case");
	json_object_put(req);
	free(text);

	w = mh_backoff_ms(&cfg, 1, 0, -1);
	ok(w == 15000, "the first pause: at least half of 30 s (%lld)",
	    (long long)w);
	w = mh_backoff_ms(&cfg, 1, 4000000000u, -1);
	ok(w >= 15000 && w <= 30000, "at most 30 s (%lld)", (long long)w);
	w = mh_backoff_ms(&cfg, 3, 7, -1);
	ok(w >= 60000 && w <= 120000, "doubling (%lld)", (long long)w);
	w = mh_backoff_ms(&cfg, 30, 123456789, -1);
	ok(w >= 900000 && w <= 1800000, "capped at 30 min (%lld)", (long long)w);
	ok(mh_backoff_ms(&cfg, 1, 0, 120) == 120000, "no shorter than "
	    "Retry-After");

	ok(!mh_attempt_open(m), "a queued mail has no attempt open");
	ok(mh_attempt_begin(m, 1000, why, sizeof(why)) == 0, "an attempt begins");
	is_str(mh_json_str(m, "status"), "sending", "the mail is sending");
	ok(mh_attempt_open(m), "its attempt is open until it ends");
	ok(mh_attempt_begin(m, 1000, why, sizeof(why)) == -1,
	    "a mail sending is not begun again");
	mh_attempt_end(m, &cfg, &sent, &ok_r, 2000, 0, &due);
	ok(due == -1 && strcmp(mh_json_str(m, "status"), "sent") == 0,
	    "sent: out of the outbox");
	rc = json_object_array_get_idx(mh_json_get(m, "recipients"), 0);
	is_str(mh_json_str(rc, "_id"), "id-a", "a result found its recipient "
	    "without case");
	rc = json_object_array_get_idx(mh_json_get(m, "recipients"), 1);
	is_str(mh_json_str(rc, "reject_reason"), "hard-bounce",
	    "a rejection's reason");
	json_object_put(m);

	m = queued_mail();
	for (int i = 0; i < 3; i++) {
		mh_attempt_begin(m, 1000 * i, why, sizeof(why));
		mh_attempt_end(m, &cfg, &slow, &retry_r, 1000 * i, 0, &due);
	}
	ok(due == -1 && strcmp(mh_json_str(m, "status"), "failed") == 0 &&
	    strstr(mh_json_str(m, "error"), "gave up after 3 attempts"),
	    "a third failure of three: failed");
	json_object_put(m);

	m = queued_mail();
	mh_attempt_begin(m, 0, why, sizeof(why));
	mh_attempt_end(m, &cfg, &slow, &retry_r, 0, 0, &due);
	ok(due == 15000 && strcmp(mh_json_str(m, "status"), "queued") == 0,
	    "a first failure: queued again, due after the pause");
	mh_attempt_begin(m, 0, why, sizeof(why));
	mh_attempt_interrupted(m, 0);
	ok(strcmp(mh_json_str(m, "status"), "failed") == 0 &&
	    json_object_get_boolean(mh_json_get(m, "possibly_sent")),
	    "an attempt its sender did not end: failed, possibly sent");
	json_object_put(m);

	m = queued_mail();
	mh_attempt_begin(m, 0, why, sizeof(why));
	early.sent = 0;
	mh_attempt_end(m, &cfg, &early, &retry_r, 500, 0, &due);
	ok(due == 500 && strcmp(mh_json_str(m, "status"), "queued") == 0,
	    "stopped before the request went out: queued, due now");
	mh_attempt_begin(m, 0, why, sizeof(why));
	mh_attempt_end(m, &cfg, &killed, &retry_r, 500, 0, &due);
	ok(due == -1 && json_object_get_boolean(mh_json_get(m, "possibly_sent")),
	    "stopped after it went out: failed, possibly sent (at most once)");
	json_object_put(m);
	return done_testing();
}

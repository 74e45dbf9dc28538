/*
 * An attempt's changes to a mail's object, pure. An attempt is kept
 * before its request goes out, with no outcome; what came back fills it
 * in. One found without an outcome was cut short by its sender's end:
 * Mandrill may have sent it, so the mail fails rather than go twice.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "sender.h"

struct json_object *
mh_last_attempt(struct json_object *mail)
{
	struct json_object *list = mh_json_get(mail, "attempts");
	size_t n = list != NULL ? json_object_array_length(list) : 0;

	return n > 0 ? json_object_array_get_idx(list, n - 1) : NULL;
}

void
mh_attempt_push(struct json_object *list, int64_t now_ms)
{
	struct json_object *a = json_object_new_object();
	char at[32];

	mh_iso_from_ms(now_ms, at);
	json_object_object_add(a, "n", json_object_new_int(
	    (int)json_object_array_length(list) + 1));
	mh_json_set_str(a, "at", at);
	mh_json_set_str(a, "outcome", NULL);
	json_object_object_add(a, "http_status", NULL);
	json_object_object_add(a, "duration_ms", NULL);
	mh_json_set_str(a, "error", NULL);
	json_object_array_add(list, a);
}

void
mh_attempt_fill(struct json_object *a, const struct mh_http_answer *ans,
    const char *error)
{
	json_object_object_add(a, "http_status", ans->status != 0 ?
	    json_object_new_int((int)ans->status) : NULL);
	json_object_object_add(a, "duration_ms", json_object_new_int64(ans->ms));
	mh_json_set_str(a, "error", error);
}

int
mh_attempt_begin(struct json_object *mail, int64_t now_ms, char *why,
    size_t whylen)
{
	struct json_object *list = mh_json_get(mail, "attempts");
	const char *status = mh_json_str(mail, "status");

	if (status == NULL || strcmp(status, "queued") != 0 || list == NULL ||
	    !json_object_is_type(list, json_type_array)) {
		snprintf(why, whylen, "the mail is %s, not queued",
		    status != NULL ? status : "not one");
		return -1;
	}
	mh_attempt_push(list, now_ms);
	mh_json_set_str(mail, "status", "sending");
	mh_json_set_str(mail, "next_attempt_at", NULL);
	return 0;
}

int
mh_attempt_open(struct json_object *mail)
{
	struct json_object *a = mh_last_attempt(mail);
	const char *status = mh_json_str(mail, "status");

	return a != NULL && status != NULL && strcmp(status, "sending") == 0 &&
	    mh_json_str(a, "outcome") == NULL;
}

/* The mail failed for good with why. */
static void
mh_mail_failed(struct json_object *mail, const char *why)
{
	mh_json_set_str(mail, "status", "failed");
	mh_json_set_str(mail, "error", why);
	mh_json_set_str(mail, "next_attempt_at", NULL);
}

void
mh_attempt_interrupted(struct json_object *mail, int64_t now_ms)
{
	struct json_object *a = mh_last_attempt(mail);

	(void)now_ms;
	if (a != NULL) {
		mh_json_set_str(a, "outcome", "interrupted");
		mh_json_set_str(a, "error", "the sender stopped during this "
		    "request");
	}
	mh_mail_failed(mail, "possibly sent: the sender stopped during its "
	    "request, so Mandrill may have sent this mail; it is not sent "
	    "again by itself (look for its events, then retry it by hand)");
	json_object_object_add(mail, "possibly_sent",
	    json_object_new_boolean(1));
}

/* A 2xx whose body could not be read (why): taken, perhaps sent; failed
 * as possibly sent, never sent again by itself. */
static void
mh_attempt_unreadable(struct json_object *mail, struct json_object *a,
    const char *why)
{
	char text[400];

	mh_json_set_str(a, "outcome", "possibly_sent");
	snprintf(text, sizeof(text), "possibly sent: %s; it is not sent "
	    "again by itself (look for its events, then retry it by hand)",
	    why);
	mh_mail_failed(mail, text);
	json_object_object_add(mail, "possibly_sent",
	    json_object_new_boolean(1));
}

/* Each result to the first recipient of its address not yet answered;
 * those left without one are "unanswered". */
static void
mh_rcpts_answered(struct json_object *mail, const struct mh_send_result *r)
{
	struct json_object *list = mh_json_get(mail, "recipients");
	size_t n = list != NULL ? json_object_array_length(list) : 0;
	int *done = calloc(n + 1, sizeof(*done));

	for (size_t k = 0; done != NULL && k < r->nrcpt; k++)
		for (size_t i = 0; i < n; i++) {
			struct json_object *rc = json_object_array_get_idx(list, i);
			const char *email = mh_json_str(rc, "email");
			int rejected;

			if (done[i] || email == NULL ||
			    strcasecmp(email, r->rcpt[k].email) != 0)
				continue;
			done[i] = 1;
			rejected = strcmp(r->rcpt[k].status, "queued") != 0;
			mh_json_set_str(rc, "status", r->rcpt[k].status);
			mh_json_set_str(rc, "_id", r->rcpt[k].id[0] ?
			    r->rcpt[k].id : NULL);
			mh_json_set_str(rc, rejected ? "reject_reason" :
			    "queued_reason", r->rcpt[k].reason[0] ?
			    r->rcpt[k].reason : NULL);
			break;
		}
	for (size_t i = 0; done != NULL && i < n; i++)
		if (!done[i])
			mh_json_set_str(json_object_array_get_idx(list, i),
			    "status", "unanswered");
	free(done);
}

int64_t
mh_backoff_ms(const struct mh_send_config *cfg, unsigned n, unsigned random,
    int64_t retry_after_s)
{
	int64_t base = cfg->retry_ms, wait;

	for (unsigned i = 1; i < n && base < cfg->retry_max_ms; i++)
		base *= 2;
	if (base > cfg->retry_max_ms)
		base = cfg->retry_max_ms;
	/* Half fixed, half random: senders that failed together do not all
	 * come back at once. */
	wait = base / 2 + (int64_t)(random % (uint64_t)(base / 2 + 1));
	if (retry_after_s >= 0 && retry_after_s * 1000 > wait)
		wait = retry_after_s * 1000;
	return wait;
}

/* A failure worth another try: again after the pause, or failed once
 * the attempts are spent; *due_ms as mh_attempt_end's. */
static void
mh_attempt_again(struct json_object *mail, struct json_object *a,
    const struct mh_send_config *cfg, const struct mh_http_answer *ans,
    const char *error, int64_t now_ms, unsigned random, int64_t *due_ms)
{
	unsigned n = (unsigned)json_object_array_length(mh_json_get(mail,
	    "attempts"));
	char at[32], why[400];

	if (n >= cfg->max_attempts) {
		snprintf(why, sizeof(why), "gave up after %u attempts: %s", n,
		    error);
		mh_mail_failed(mail, why);
		mh_json_set_str(a, "outcome", "failed");
		*due_ms = -1;
		return;
	}
	*due_ms = now_ms + mh_backoff_ms(cfg, n, random, ans->retry_after_s);
	mh_iso_from_ms(*due_ms, at);
	mh_json_set_str(mail, "status", "queued");
	mh_json_set_str(mail, "next_attempt_at", at);
	mh_json_set_str(mail, "error", error);
	mh_json_set_str(a, "outcome", "retry");
	mh_json_set_str(a, "retry_at", at);
}

void
mh_attempt_end(struct json_object *mail, const struct mh_send_config *cfg,
    const struct mh_http_answer *ans, const struct mh_send_result *r,
    int64_t now_ms, unsigned random, int64_t *due_ms)
{
	struct json_object *a = mh_last_attempt(mail);
	char at[32];

	*due_ms = -1;
	if (a == NULL)
		return;
	mh_attempt_fill(a, ans, r->outcome == MH_OUT_SENT ? NULL : r->error);
	if (ans->transport == CURLE_ABORTED_BY_CALLBACK) {
		if (ans->sent) {	/* stopped mid-request: at most once */
			mh_attempt_interrupted(mail, now_ms);
			return;
		}
		mh_json_set_str(a, "outcome", "not_sent");
		mh_json_set_str(a, "error", "the sender stopped before the "
		    "request went out");
		mh_json_set_str(mail, "status", "queued");
		mh_iso_from_ms(now_ms, at);
		mh_json_set_str(mail, "next_attempt_at", at);
		*due_ms = now_ms;
		return;
	}
	if (r->outcome == MH_OUT_RETRY) {
		mh_attempt_again(mail, a, cfg, ans, r->error, now_ms, random,
		    due_ms);
		return;
	}
	if (r->outcome == MH_OUT_POSSIBLY_SENT) {
		mh_attempt_unreadable(mail, a, r->error);
		return;
	}
	mh_json_set_str(a, "outcome", r->outcome == MH_OUT_SENT ? "sent" :
	    "failed");
	if (r->outcome != MH_OUT_SENT) {
		mh_mail_failed(mail, r->error);
		return;
	}
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(mail, "status", "sent");
	mh_json_set_str(mail, "sent_at", at);
	mh_json_set_str(mail, "error", NULL);
	mh_rcpts_answered(mail, r);
}

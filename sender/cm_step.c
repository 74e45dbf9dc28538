/*
 * What becomes of a campaign's message the sender took, pure: sent now,
 * or expired (its campaign's end passed), cancelled (the campaign or the
 * client deleted or opted out, the client no longer matching), deferred to its
 * client's window, held while the campaign's circuit is open, failed as
 * possibly sent (its last request was cut short), or left alone (done);
 * and the end of its attempt with what came back.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "sender.h"

/* The states a message is sent from. */
static int
mh_cm_sendable(const char *status)
{
	return status != NULL && (strcmp(status, "pending") == 0 ||
	    strcmp(status, "retrying") == 0 || strcmp(status, "deferred") == 0);
}

static void
mh_cm_is(struct mh_cm_decision *d, enum mh_cm_step step, int64_t due_ms,
    const char *why)
{
	d->step = step;
	d->due_ms = due_ms;
	snprintf(d->why, sizeof(d->why), "%s", why);
}

void
mh_cm_decide(struct json_object *m, const struct mh_cm_case *c,
    struct mh_cm_decision *d)
{
	const char *status = mh_json_str(m, "status");
	const struct mh_campaign_plan *p = c->plan;
	int64_t open_ms;

	mh_cm_is(d, MH_CM_SEND, 0, "");
	if (status != NULL && strcmp(status, "sending") == 0)
		mh_cm_is(d, MH_CM_INTERRUPTED, 0, "");
	else if (!mh_cm_sendable(status))
		mh_cm_is(d, MH_CM_DROP, 0, "");
	else if (p == NULL || p->deleted)
		mh_cm_is(d, MH_CM_CANCEL, 0, "the campaign was deleted");
	else if (c->now_ms >= p->end_ms)
		mh_cm_is(d, MH_CM_EXPIRE, 0, "the campaign ended before it was "
		    "sent");
	else if (c->client == NULL)
		mh_cm_is(d, MH_CM_CANCEL, 0, "the client was deleted");
	else if (!mh_campaign_matches(p, c->client))
		mh_cm_is(d, MH_CM_CANCEL, 0, mh_client_opted_out(c->client) ?
		    "the client opted out" : p->mail && mh_json_str(c->client,
		    "email") == NULL ? "the client has no email" : "the client no "
		    "longer matches the campaign's filter");
	else if (c->window_next_s != 0) {
		open_ms = c->window_next_s > 0 ? c->window_next_s * 1000 :
		    c->now_ms + 60000;	/* the zone unread: a minute on */
		mh_cm_is(d, MH_CM_DEFER, open_ms < p->end_ms ? open_ms :
		    p->end_ms, c->window_next_s <= 0 ? "the client's time zone "
		    "could not be read" : open_ms < p->end_ms ? "outside the "
		    "client's window" : "outside the client's window, which "
		    "does not open before the campaign's end: it will expire");
	} else if (c->hold_until_ms > c->now_ms)
		mh_cm_is(d, MH_CM_HOLD, c->hold_until_ms < p->end_ms ?
		    c->hold_until_ms : p->end_ms, "the campaign's circuit is "
		    "open");
}

/* The message is done with status and why. */
static void
mh_cm_final(struct json_object *m, const char *status, const char *why)
{
	mh_json_set_str(m, "status", status);
	mh_json_set_str(m, "error", why);
	mh_json_set_str(m, "next_attempt_at", NULL);
}

void
mh_cm_apply(struct json_object *m, const struct mh_cm_decision *d,
    int64_t now_ms)
{
	struct json_object *list = mh_json_get(m, "attempts");
	char at[32];

	switch (d->step) {
	case MH_CM_SEND:
		if (list != NULL && json_object_is_type(list, json_type_array))
			mh_attempt_push(list, now_ms);
		mh_json_set_str(m, "status", "sending");
		mh_json_set_str(m, "next_attempt_at", NULL);
		mh_json_set_str(m, "waiting", NULL);
		break;
	case MH_CM_EXPIRE:
		mh_cm_final(m, "expired", d->why);
		break;
	case MH_CM_CANCEL:
		mh_cm_final(m, "cancelled", d->why);
		break;
	case MH_CM_DEFER:
		mh_json_set_str(m, "status", "deferred");
		/* FALLTHROUGH */
	case MH_CM_HOLD:
		mh_iso_from_ms(d->due_ms, at);
		mh_json_set_str(m, "next_attempt_at", at);
		mh_json_set_str(m, "waiting", d->why);
		break;
	case MH_CM_INTERRUPTED:
		mh_attempt_interrupted(m, now_ms);
		mh_json_set_str(m, "error", "possibly sent: the sender stopped "
		    "during its request, so the API may have taken it; it is "
		    "not sent again");
		break;
	case MH_CM_DROP:
		break;
	}
}

/* Another try after a failure that may pass, or the end of the message:
 * failed once the attempts are spent, expired when the next would come
 * after the campaign's end. */
static void
mh_cm_again(struct json_object *m, struct json_object *a,
    const struct mh_cm_answer *an, int64_t now_ms, int64_t *due_ms)
{
	unsigned n = (unsigned)json_object_array_length(mh_json_get(m,
	    "attempts"));
	char at[32], why[400];

	if (n >= an->cfg->max_attempts) {
		snprintf(why, sizeof(why), "gave up after %u attempts: %s", n,
		    an->error);
		mh_json_set_str(a, "outcome", "failed");
		mh_cm_final(m, "failed", why);
		return;
	}
	*due_ms = now_ms + mh_backoff_ms(an->cfg, n, an->random,
	    an->http->retry_after_s);
	if (*due_ms >= an->end_ms) {
		snprintf(why, sizeof(why), "the campaign ends before the next "
		    "attempt; the last failed: %s", an->error);
		mh_json_set_str(a, "outcome", "retry");
		mh_cm_final(m, "expired", why);
		*due_ms = -1;
		return;
	}
	mh_iso_from_ms(*due_ms, at);
	mh_json_set_str(m, "status", "retrying");
	mh_json_set_str(m, "next_attempt_at", at);
	mh_json_set_str(m, "error", an->error);
	mh_json_set_str(a, "outcome", "retry");
	mh_json_set_str(a, "retry_at", at);
}

void
mh_cm_end(struct json_object *m, const struct mh_cm_answer *an,
    int64_t now_ms, int64_t *due_ms)
{
	struct json_object *a = mh_last_attempt(m);
	char at[32];

	*due_ms = -1;
	if (a == NULL)
		return;
	mh_attempt_fill(a, an->http, an->outcome == MH_OUT_SENT ? NULL :
	    an->error);
	if (now_ms >= an->end_ms)	/* in flight when the campaign ended */
		json_object_object_add(a, "after_end",
		    json_object_new_boolean(1));
	if (an->http->transport == CURLE_ABORTED_BY_CALLBACK) {
		if (an->http->sent) {
			mh_cm_apply(m, &(struct mh_cm_decision){
			    .step = MH_CM_INTERRUPTED }, now_ms);
			return;
		}
		mh_json_set_str(a, "outcome", "not_sent");
		mh_json_set_str(a, "error", "the sender stopped before the "
		    "request went out");
		mh_json_set_str(m, "status", "pending");
		*due_ms = now_ms;
		return;
	}
	if (an->outcome == MH_OUT_RETRY) {
		mh_cm_again(m, a, an, now_ms, due_ms);
		return;
	}
	if (an->outcome == MH_OUT_POSSIBLY_SENT) {
		mh_json_set_str(a, "outcome", "possibly_sent");
		mh_cm_final(m, "failed", an->error);
		json_object_object_add(m, "possibly_sent",
		    json_object_new_boolean(1));
		return;
	}
	mh_json_set_str(a, "outcome", an->outcome == MH_OUT_SENT ? "sent" :
	    "failed");
	if (an->outcome != MH_OUT_SENT) {
		mh_cm_final(m, "failed", an->error);
		return;
	}
	mh_iso_from_ms(now_ms, at);
	mh_cm_final(m, "sent", NULL);
	mh_json_set_str(m, "sent_at", at);
	mh_json_set_str(m, "waiting", NULL);
}

/*
 * The job "campaign sends" (jobs.c runs it): takes the due messages with a lease (db/lease.c) as the rate allows,
 * decides each (cm_step.c) from its campaign, its client, the client's
 * window (tzwin.c) and the campaign's circuit (breaker.c), writes what was
 * decided (the attempts begun) in one transaction, and only then posts
 * the attempts to the external API. Every line it logs names the
 * campaign, the message and the client.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "sender.h"
#include "campaigns.h"

struct mh_campaigns *
mh_campaigns_new(const struct mh_send_config *cfg, struct mh_store **store,
    struct mh_http *http, struct mh_tzwin *tz)
{
	struct mh_campaigns *c = mh_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cfg = cfg;
	c->store = store;
	c->http = http;
	c->tz = tz;
	c->seed = (unsigned)time(NULL) ^ (unsigned)getpid() * 7919u;
	c->breakers.threshold = cfg->breaker_failures;
	c->breakers.pause_ms = cfg->breaker_pause_ms;
	c->breakers.pause_max_ms = cfg->breaker_pause_ms * 64;
	c->breakers.probe_ms = cfg->timeout_ms + 5000;
	mh_rate_init(&c->rate, cfg->campaign_rate, mh_now_ms());
	return c;
}

void
mh_campaigns_free(struct mh_campaigns *c)
{
	free(c);
}

/* The plan of campaign id, read once a turn (plans[], *n of them); NULL
 * when there is no such campaign. */
static const struct mh_campaign_plan *
mh_plan_of(struct mh_store *st, struct mh_campaign_plan *plans, size_t *n,
    uint64_t id)
{
	char *json = NULL;

	for (size_t i = 0; i < *n; i++)
		if (plans[i].id == id)
			return &plans[i];
	if (mh_store_record_get(st, MH_TABLE_CAMPAIGNS, id, &json) !=
	    MH_STORE_OK || mh_campaign_plan_read(json, &plans[*n]) != 0) {
		free(json);
		return NULL;
	}
	free(json);
	return &plans[(*n)++];
}

/* The mail of message t of campaign p to the address to, with its
 * List-Unsubscribe when the site or the sender's address can take one
 * (mh_campaign_mail's). */
static struct json_object *
mh_cm_mail(struct mh_campaigns *c, const struct mh_campaign_plan *p,
    const struct mh_cm_taken *t, const char *to)
{
	char token[MH_UNSUB_TOKEN_MAX], lu[2048];
	int ok;

	if (!c->unsub_key_read)
		c->unsub_key_read = mh_key_file(c->cfg->home, MH_UNSUB_KEY_FILE,
		    c->unsub_key) == 0;
	ok = c->unsub_key_read && mh_unsub_token(c->unsub_key, t->client,
	    t->campaign, token) == 0 && mh_list_unsubscribe(c->cfg->public_url,
	    token, c->cfg->mail_from, lu, sizeof(lu)) == 0;
	if (!ok)
		mh_say("campaign=%" PRIu64 " message=%" PRIu64 " goes without "
		    "List-Unsubscribe: %s", t->campaign, t->id,
		    !c->unsub_key_read ? "the unsubscribe key cannot be read or "
		    "made" : "set MAILHOOKS_PUBLIC_URL (or MAILHOOKS_MAIL_FROM)");
	return mh_campaign_mail(p, to, ok ? lu : NULL);
}

/* Decides what becomes of the message taken (t), read with its client. */
static void
mh_cm_prepare(struct mh_campaigns *c, struct mh_cm_taken *t,
    const struct mh_campaign_plan *p, int64_t now_ms)
{
	struct mh_cm_case k = { p, NULL, now_ms, 0, 0 };
	struct json_object *m = json_tokener_parse(t->json), *client = NULL;
	char *cjson = NULL;

	t->campaign = (uint64_t)mh_json_int(m, "campaign_id");
	t->client = (uint64_t)mh_json_int(m, "client_id");
	if (mh_store_record_get(*c->store, MH_TABLE_CLIENTS, t->client,
	    &cjson) == MH_STORE_OK)
		client = json_tokener_parse(cjson);
	k.client = client;
	if (p != NULL && p->windowed && client != NULL)
		k.window_next_s = mh_tzwin_next(c->tz, mh_json_str(client,
		    "timezone"), now_ms / 1000, p->from_min, p->to_min);
	mh_cm_decide(m, &k, &t->d);
	if (t->d.step == MH_CM_SEND && !p->mail &&
	    c->cfg->campaign_auth == NULL) {
		t->d = (struct mh_cm_decision){ MH_CM_HOLD, now_ms + 60000,
		    "CAMPAIGN_API_TOKEN is not set" };
		if (t->d.due_ms > p->end_ms)
			t->d.due_ms = p->end_ms;
	} else if (t->d.step == MH_CM_SEND && (k.hold_until_ms =
	    mh_breaker_gate(&c->breakers, t->campaign, now_ms)) != 0)
		mh_cm_decide(m, &k, &t->d);
	if (t->d.step == MH_CM_SEND) {
		t->end_ms = p->end_ms;
		if ((t->by_mail = p->mail))
			t->mail = mh_cm_mail(c, p, t, mh_json_str(client,
			    "email"));
		else
			t->request = mh_capi_request(t->id, mh_json_str(client,
			    "phone"), p->text);
	}
	json_object_put(client);
	json_object_put(m);
	free(cjson);
}

/* An mh_queued_fn writing each message as decided: an attempt begun is
 * kept before its request goes out. */
static int
mh_cm_begin_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next)
{
	struct mh_cm_taken *t = &((struct mh_cm_taken *)ctx)[i];
	struct json_object *m = json_tokener_parse(json);
	int64_t now = mh_now_ms();
	int ret = 0;

	next->queue = MH_QUEUE_AT;	/* as it was, lease let go */
	next->due_ms = lease != NULL ? lease->due_ms : now;
	/* Changed since it was read (each run of a retried transaction
	 * looks afresh): let go, to be taken and decided again. */
	if ((t->stale = m == NULL || strcmp(t->json, json) != 0)) {
		json_object_put(m);
		return 0;
	}
	mh_cm_apply(m, &t->d, now);
	switch (t->d.step) {
	case MH_CM_SEND:
		next->hold = 1;
		break;
	case MH_CM_DEFER:
	case MH_CM_HOLD:
		next->due_ms = t->d.due_ms;
		break;
	default:
		next->queue = MH_QUEUE_OFF;
	}
	if (t->d.step != MH_CM_DROP && mh_cmessage_record(m, &next->rec) != 0)
		ret = ENOMEM;
	json_object_put(m);
	return ret;
}

/* Says what became of a message taken and not sent. */
static void
mh_cm_said(struct mh_campaigns *c, const struct mh_cm_taken *t)
{
	static const char *const what[] = {
		[MH_CM_EXPIRE] = "expired", [MH_CM_CANCEL] = "cancelled",
		[MH_CM_DEFER] = "deferred", [MH_CM_HOLD] = "held",
		[MH_CM_INTERRUPTED] = "failed",
	};
	char at[32];

	if (t->d.step == MH_CM_SEND || t->d.step == MH_CM_DROP)
		return;
	mh_iso_from_ms(t->d.due_ms, at);
	mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%" PRIu64
	    " status=%s%s%s%s%s", t->campaign, t->id, t->client, what[t->d.step],
	    t->d.step == MH_CM_INTERRUPTED ? " possibly_sent: its sender "
	    "stopped during the request; not sent again" : "",
	    t->d.why[0] ? " why=\"" : "", t->d.why, t->d.why[0] ? "\"" : "");
	if (t->d.step == MH_CM_DEFER || t->d.step == MH_CM_HOLD)
		mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%" PRIu64
		    " due=%s", t->campaign, t->id, t->client, at);
	if (t->d.step != MH_CM_HOLD)
		mh_notify_campaign(c->cfg->home, t->campaign, t->id,
		    what[t->d.step]);
}

/* The mail channel: the message's mail is added to the outbox (made
 * once, its key the message's id), and the attempt ends there. */
static void
mh_cm_queue_mail(struct mh_campaigns *c, struct mh_cm_taken *t)
{
	struct mh_http_answer a = { .retry_after_s = -1 };
	char key[48], why[300];
	uint64_t mail_id = 0;
	int64_t started = mh_now_ms();
	int ret;

	snprintf(key, sizeof(key), "campaign-message:%" PRIu64, t->id);
	ret = t->mail == NULL ? -1 : mh_own_mail(*c->store, c->cfg, key,
	    t->mail, &mail_id, why, sizeof(why));
	if (t->mail == NULL)
		snprintf(why, sizeof(why), "out of memory");
	a.ms = mh_now_ms() - started;
	mh_campaigns_ended(c, t->id, &a, ret == 0 ? MH_OUT_SENT : MH_OUT_FINAL,
	    ret == 0 ? "" : why, mail_id);
}

/* Posts a begun attempt (or, for the mail channel, queues its mail), or
 * ends it at once when it cannot go. */
static void
mh_cm_post(struct mh_campaigns *c, struct mh_cm_taken *t)
{
	char url[1200];
	struct mh_cm_flight *f = &c->flight[c->nflight];

	snprintf(url, sizeof(url), "%s/send/%" PRIu64, c->cfg->campaign_url,
	    t->id);
	*f = (struct mh_cm_flight){ t->id, t->campaign, t->client, t->end_ms };
	c->nflight++;
	mh_notify_campaign(c->cfg->home, t->campaign, t->id, "sending");
	if (t->by_mail) {
		mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%" PRIu64
		    " request=mail", t->campaign, t->id, t->client);
		mh_cm_queue_mail(c, t);
		return;
	}
	mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%" PRIu64
	    " request=POST /send/%" PRIu64, t->campaign, t->id, t->client, t->id);
	if (t->request == NULL || mh_http_post(c->http, t->id, url,
	    c->cfg->campaign_auth, t->request, strlen(t->request),
	    mh_campaigns_done, c) != 0)
		mh_campaigns_done(c, t->id, &(struct mh_http_answer){
		    .transport = CURLE_ABORTED_BY_CALLBACK, .retry_after_s = -1 });
}

/* Decides, writes and posts the n messages taken. */
static void
mh_cm_start(struct mh_campaigns *c, const uint64_t *ids, size_t n,
    int64_t now_ms)
{
	struct mh_campaign_plan plans[MH_SEND_BATCH];
	struct mh_cm_taken t[MH_SEND_BATCH];
	size_t nplans = 0, sent = 0;
	enum mh_store_err err = MH_STORE_OK;

	memset(t, 0, sizeof(t));
	for (size_t i = 0; i < n && err == MH_STORE_OK; i++) {
		t[i].id = ids[i];
		err = mh_store_queued_get(*c->store, MH_SENDQ_CAMPAIGN, ids[i],
		    &t[i].json, NULL, NULL);
		if (err == MH_STORE_OK) {
			struct json_object *m = json_tokener_parse(t[i].json);

			mh_cm_prepare(c, &t[i], mh_plan_of(*c->store, plans,
			    &nplans, (uint64_t)mh_json_int(m, "campaign_id")),
			    now_ms);
			json_object_put(m);
		}
	}
	if (err == MH_STORE_OK)
		err = mh_store_queued_change(*c->store, MH_SENDQ_CAMPAIGN, ids,
		    n, mh_cm_begin_change, t, NULL);
	if (err != MH_STORE_OK)
		mh_say("%zu campaign messages not begun: storage error %d; "
		    "their leases lapse and they are taken again", n, (int)err);
	for (size_t i = 0; i < n; i++) {
		if (err == MH_STORE_OK && !t[i].stale &&
		    t[i].d.step == MH_CM_SEND) {
			mh_cm_post(c, &t[i]);
			sent++;
		} else if (err == MH_STORE_OK && !t[i].stale)
			mh_cm_said(c, &t[i]);
		free(t[i].json);
		free(t[i].request);
		json_object_put(t[i].mail);
	}
	mh_rate_spend(&c->rate, sent);
	for (size_t i = 0; i < nplans; i++)
		mh_campaign_plan_free(&plans[i]);
}

size_t
mh_campaigns_take(struct mh_campaigns *c, size_t room, int64_t now_ms)
{
	uint64_t ids[MH_SEND_BATCH];
	size_t n = 0, allow;

	if (room > MH_SEND_BATCH - c->nflight)
		room = MH_SEND_BATCH - c->nflight;
	if (room == 0)
		return 0;	/* all in flight: nothing to take, or to count */
	if ((allow = mh_rate_allow(&c->rate, now_ms, room)) == 0) {
		uint64_t queued, due;

		/* Held back by the rate: busy while any is due (--once stays). */
		return mh_store_queue_count(*c->store, MH_SENDQ_CAMPAIGN, now_ms,
		    &queued, &due) == MH_STORE_OK && due > 0 ? 1 : 0;
	}
	if (mh_store_queue_take(*c->store, MH_SENDQ_CAMPAIGN, now_ms, allow,
	    ids, &n) != MH_STORE_OK || n == 0)
		return 0;
	mh_cm_start(c, ids, n, now_ms);
	return n;
}

int64_t
mh_campaigns_wake_ms(const struct mh_campaigns *c)
{
	int64_t rate = mh_rate_wait_ms(&c->rate);

	return rate > 0 ? rate : INT64_MAX;
}

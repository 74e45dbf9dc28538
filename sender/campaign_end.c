/*
 * The end of campaigns' requests: what came back is read as it ends,
 * and a turn's ends are written in one transaction; each is logged (its
 * status and duration), told to the relay, and noted by its campaign's
 * circuit breaker. And a stopped campaign's waiting messages, made due.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "sender.h"
#include "campaigns.h"

void
mh_campaigns_done(void *campaigns, uint64_t id,
    const struct mh_http_answer *a)
{
	struct mh_campaigns *c = campaigns;
	char error[300];
	enum mh_send_outcome o = mh_capi_answer(a, error, sizeof(error));

	mh_campaigns_ended(c, id, a, o, error, 0);
}

void
mh_campaigns_ended(struct mh_campaigns *c, uint64_t id,
    const struct mh_http_answer *a, enum mh_send_outcome outcome,
    const char *error, uint64_t mail_id)
{
	struct mh_cm_ended *e = &c->ended[c->nended];
	size_t i;

	for (i = 0; i < c->nflight && c->flight[i].id != id; i++)
		;
	if (i == c->nflight)
		return;		/* not ours: cannot be */
	memset(e, 0, sizeof(*e));
	e->f = c->flight[i];
	c->flight[i] = c->flight[--c->nflight];
	e->a = *a;
	e->a.body = NULL;
	e->outcome = outcome;
	snprintf(e->error, sizeof(e->error), "%s", error);
	e->mail_id = mail_id;
	e->due = -1;
	c->nended++;
}

static int
mh_cm_end_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next)
{
	struct mh_campaigns *c = ctx;
	struct mh_cm_ended *e = &c->ended[i];
	struct json_object *m = json_tokener_parse(json);
	struct mh_cm_answer an = { c->cfg, &e->a, e->outcome, e->error,
	    e->f.end_ms, (unsigned)rand_r(&c->seed) };
	int ret = 0;

	(void)lease;
	e->written = 0;
	if (m == NULL || !mh_attempt_open(m) ||
	    strcmp(mh_json_str(m, "status"), "sending") != 0) {
		json_object_put(m);
		return 0;	/* ended elsewhere */
	}
	mh_cm_end(m, &an, mh_now_ms(), &e->due);
	if (e->mail_id != 0)
		json_object_object_add(m, "mail_id",
		    json_object_new_int64((int64_t)e->mail_id));
	next->queue = e->due < 0 ? MH_QUEUE_OFF : MH_QUEUE_AT;
	next->due_ms = e->due;
	snprintf(e->status, sizeof(e->status), "%s", mh_json_str(m, "status"));
	if (mh_cmessage_record(m, &next->rec) != 0)
		ret = ENOMEM;
	else
		e->written = 1;
	json_object_put(m);
	return ret;
}

/* Says what one ended request came to: the log, the relay, the breaker. */
static void
mh_cm_ended_said(struct mh_campaigns *c, const struct mh_cm_ended *e)
{
	int may_pass = e->outcome == MH_OUT_RETRY &&
	    e->a.transport != CURLE_ABORTED_BY_CALLBACK;
	int64_t now = mh_now_ms();
	char at[32];

	char mail[32] = "", why[4 * MH_LOG_VALUE_MAX + 1];

	mh_log_value(why, sizeof(why), e->error);
	if (e->mail_id != 0)
		snprintf(mail, sizeof(mail), " mail=%" PRIu64, e->mail_id);
	mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%" PRIu64
	    " answer http=%ld ms=%" PRId64 "%s status=%s%s%s%s", e->f.campaign,
	    e->f.id, e->f.client, e->a.status, e->a.ms, mail, e->status,
	    e->outcome == MH_OUT_SENT ? "" : " error=\"", e->outcome ==
	    MH_OUT_SENT ? "" : why, e->outcome == MH_OUT_SENT ? "" : "\"");
	mh_notify_campaign(c->cfg->home, e->f.campaign, e->f.id, e->status);
	if (e->outcome == MH_OUT_FINAL)
		return;		/* about this message, not the API */
	switch (mh_breaker_note(&c->breakers, e->f.campaign, may_pass, now)) {
	case MH_BREAKER_OPENED:
		mh_iso_from_ms(mh_breaker_until(&c->breakers, e->f.campaign), at);
		mh_say("campaign=%" PRIu64 " circuit=open: the API failed %u "
		    "times in a row; sending paused until %s, then one probe",
		    e->f.campaign, c->breakers.threshold, at);
		break;
	case MH_BREAKER_CLOSED:
		mh_say("campaign=%" PRIu64 " circuit=closed: the probe went "
		    "through; sending again", e->f.campaign);
		break;
	}
}

void
mh_campaigns_finish(struct mh_campaigns *c)
{
	uint64_t ids[MH_SEND_BATCH];
	enum mh_store_err err;

	if (c->nended == 0)
		return;
	for (size_t i = 0; i < c->nended; i++)
		ids[i] = c->ended[i].f.id;
	err = mh_store_queued_change(*c->store, MH_SENDQ_CAMPAIGN, ids,
	    c->nended, mh_cm_end_change, c, NULL);
	for (size_t i = 0; i < c->nended; i++) {
		struct mh_cm_ended *e = &c->ended[i];

		if (err != MH_STORE_OK)
			mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%"
			    PRIu64 " answer not written (storage error %d): the "
			    "attempt stays open, and the message is failed as "
			    "possibly sent", e->f.campaign, e->f.id, e->f.client,
			    (int)err);
		else if (e->written)
			mh_cm_ended_said(c, e);
	}
	c->nended = 0;
}

/* The messages of a campaign that wait (pending, deferred, retrying). */
struct mh_cm_waiting {
	uint64_t *ids;
	size_t n, cap;
};

static int
mh_cm_waiting_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_cm_waiting *w = ctx;
	struct json_object *m = json_tokener_parse(json);
	const char *s = mh_json_str(m, "status");
	uint64_t *grown;

	(void)len;
	if (s != NULL && (strcmp(s, "pending") == 0 || strcmp(s, "deferred") ==
	    0 || strcmp(s, "retrying") == 0)) {
		if (w->n == w->cap && (grown = mh_realloc(w->ids, (w->cap =
		    w->cap ? w->cap * 2 : 64) * sizeof(*w->ids))) != NULL)
			w->ids = grown;
		if (w->n < w->cap && w->ids != NULL)
			w->ids[w->n++] = id;
	}
	json_object_put(m);
	return 0;
}

/* An mh_queued_fn: due now, if still queued and not held. */
static int
mh_cm_due_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next)
{
	(void)i;
	(void)json;
	if (lease != NULL && lease->pid == 0) {
		next->queue = MH_QUEUE_AT;
		next->due_ms = *(const int64_t *)ctx;
	}
	return 0;
}

void
mh_cm_due_now(struct mh_store *st, uint64_t campaign, int64_t now_ms)
{
	struct mh_cm_waiting w = { NULL, 0, 0 };
	struct mh_query q = { .table = MH_TABLE_CMESSAGES, .limit = 500 };
	char key[24];

	snprintf(key, sizeof(key), "%" PRIu64, campaign);
	q.where.cmessage.campaign = key;
	/* Best effort: what a failure leaves waits for its turn. */
	mh_store_query_all(st, &q, mh_cm_waiting_one, &w);
	for (size_t i = 0; i < w.n; i += MH_SEND_BATCH)
		mh_store_queued_change(st, MH_SENDQ_CAMPAIGN, w.ids + i,
		    w.n - i < MH_SEND_BATCH ? w.n - i : MH_SEND_BATCH,
		    mh_cm_due_change, &now_ms, NULL);
	free(w.ids);
}

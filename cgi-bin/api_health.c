/*
 * GET /api/health: whether storage answers and the relay listens, the
 * numbers a monitor watches (last seq, inbox waiting, set aside), and
 * whether mail goes out (the sender's note, the outbox). To whom did not
 * say who they are, only whether it is up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* A sender not heard of for this long is gone: the daemon writes its
 * note every 10 s, cron's --once each minute. */
#define MH_SENDER_GONE_MS (150 * 1000)

/* The "sender" part: its state and why, and the outbox's numbers. */
static void
mh_health_sender(struct mh_app *app, struct mh_buf *b)
{
	struct mh_sender_note n;
	uint64_t queued = 0, due = 0;
	int64_t now = mh_now_ms();
	enum mh_store_err err = mh_store_sender_note_get(app->store, &n);
	const char *state, *token;
	char seen_at[32] = "", since_at[32] = "", seen[40] = "null",
	    since[40] = "null", detail[200] = "";

	mh_store_queue_count(app->store, MH_SENDQ_MAIL, now, &queued, &due);
	if (err == MH_STORE_OK) {
		mh_iso_from_ms(n.seen_ms, seen_at);
		mh_iso_from_ms(n.since_ms, since_at);
		snprintf(seen, sizeof(seen), "\"%s\"", seen_at);
		snprintf(since, sizeof(since), "\"%s\"", since_at);
	}
	if (err != MH_STORE_OK) {
		state = "not_running";
		snprintf(detail, sizeof(detail), "no sender has run: start "
		    "mailhooks-sender --daemon, or run mailhooks-sender --once "
		    "from cron");
	} else if (now - n.seen_ms > MH_SENDER_GONE_MS) {
		state = "not_running";
		snprintf(detail, sizeof(detail), "no sender since %s: mail "
		    "stays queued until one runs", seen_at);
	} else if ((n.key_state & MH_SENDER_KEY_MASK) ==
	    MH_SENDER_KEY_INVALID) {
		state = "paused";
		snprintf(detail, sizeof(detail), "Mandrill refused "
		    "MANDRILL_API_KEY (Invalid_Key) at %s: sending is paused "
		    "until the key changes", since_at);
	} else if ((n.key_state & MH_SENDER_KEY_MASK) == MH_SENDER_KEY_UNSET) {
		state = "no_key";
		snprintf(detail, sizeof(detail), "MANDRILL_API_KEY is not set "
		    "for the sender: mail stays queued");
	} else
		state = "running";
	/* Whether the campaigns' API has its token: unknown (null) with no
	 * sender running. */
	token = err != MH_STORE_OK || now - n.seen_ms > MH_SENDER_GONE_MS ?
	    "null" : n.key_state & MH_SENDER_NO_CAMPAIGN_TOKEN ? "false" :
	    "true";
	mh_buf_printf(b, ",\"sender\":{\"state\":\"%s\",\"detail\":\"%s\","
	    "\"seen_at\":%s,\"since\":%s,\"outbox_queued\":%" PRIu64
	    ",\"outbox_due\":%" PRIu64 ",\"campaign_api_token\":%s}", state,
	    detail, seen, since, queued, due, token);
}

/* The URLs to paste into the providers: the site's (MAILHOOKS_PUBLIC_URL,
 * else this request's, without /api/health) with their paths; Mandrill's
 * as MANDRILL_WEBHOOK_URL says when set (the URL its signature is over).
 * Infobip's token is not shown: it is a secret. */
static void
mh_health_webhooks(struct mh_app *app, struct mh_request *r,
    struct mh_buf *b)
{
	char *url = app->cfg->public_url == NULL ? mh_request_url(r) : NULL;
	const char *site = app->cfg->public_url != NULL ? app->cfg->public_url :
	    url;
	size_t len = site != NULL ? strcspn(site, "?") : 0;
	struct json_object *o = json_object_new_object();
	char *at;
	struct mh_buf base = { 0 };

	if (url != NULL && (at = strstr(url, "/api/health")) != NULL)
		len = (size_t)(at - url);
	while (len > 0 && site[len - 1] == '/')
		len--;
	mh_buf_add(&base, site != NULL ? site : "", len);
	mh_buf_str(&base, "/webhooks/mandrill");
	mh_json_set_str(o, "mandrill", app->cfg->mandrill_url != NULL ?
	    app->cfg->mandrill_url : base.p);
	base.len -= strlen("mandrill");
	mh_buf_str(&base, "infobip");
	mh_json_set_str(o, "infobip", base.p);
	if (!base.failed && base.p != NULL)
		mh_buf_printf(b, ",\"webhook_urls\":%s", mh_json_text(o));
	json_object_put(o);
	free(base.p);
	free(url);
}

void
mh_api_health(struct mh_app *app, struct mh_request *r)
{
	struct mh_store_stats st;
	struct mh_buf b = { 0 };
	enum mh_store_err err = MH_STORE_FAILED;
	int relay = mh_relay_up(app->cfg->home);
	char out[256];

	if (app->store != NULL)
		err = mh_store_stats(app->store, &st);
	if (err == MH_STORE_OK && mh_identify(app, r) != 0)
		return;
	if (err == MH_STORE_OK && r->who.kind == MH_WHO_NOBODY) {
		mh_respond_json(r, 200, "{\"status\":\"ok\"}");
		return;
	}
	if (err != MH_STORE_OK) {
		r->store_err = err;
		snprintf(out, sizeof(out), "{\"error\":\"storage_unavailable\","
		    "\"detail\":\"the database cannot be read\","
		    "\"status\":\"degraded\",\"storage\":\"unavailable\","
		    "\"relay\":\"%s\"}",
		    relay ? "up" : "down");
		mh_respond_json(r, 503, out);
		return;
	}
	mh_buf_printf(&b, "{\"status\":\"ok\",\"storage\":\"ok\","
	    "\"relay\":\"%s\",\"last_seq\":%" PRIu64 ",\"inbox_pending\":%"
	    PRIu64 ",\"set_aside\":%" PRIu64 ",\"test_events\":%s",
	    relay ? "up" : "down", st.last_seq, st.inbox_pending, st.set_aside,
	    app->cfg->test_events ? "true" : "false");
	mh_health_sender(app, &b);
	mh_health_webhooks(app, r, &b);
	mh_buf_str(&b, "}");
	mh_buf_respond(r, &b);
}

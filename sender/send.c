/*
 * The sender's jobs on the outbox (jobs.c runs them): take what is due,
 * write the attempt (the mail "sending", the attempt without an outcome)
 * and only then post it; write what came back and tell the relay. An
 * Invalid_Key pauses all sending until the key changes: said in the
 * sender's note (the health reads it) and the log.
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
#include "core/counters.h"

struct mh_mailer {
	const struct mh_send_config *cfg;
	struct mh_store **store;	/* the sender's, reopened here */
	struct mh_http *http;
	struct mh_counters *counters;	/* /metrics', NULL when unavailable */
	char *url;
	unsigned char key_hash[8];
	int paused;
	unsigned seed;
	int failed;		/* storage failed for good */
	struct mh_ended ended[MH_SEND_BATCH];	/* this turn's, to write */
	size_t nended;
};

struct mh_mailer *
mh_mailer_new(const struct mh_send_config *cfg, struct mh_store **store,
    struct mh_http *http, struct mh_counters *counters)
{
	struct mh_mailer *s = mh_calloc(1, sizeof(*s));
	unsigned char hash[MH_HASH_LEN];
	size_t ulen = strlen(cfg->api_url) + 32;

	if (s == NULL || (s->url = mh_malloc(ulen)) == NULL) {
		free(s);
		return NULL;
	}
	s->cfg = cfg;
	s->store = store;
	s->http = http;
	s->counters = counters;
	s->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	snprintf(s->url, ulen, "%s/messages/send.json", cfg->api_url);
	if (cfg->api_key != NULL) {
		mh_sha256(cfg->api_key, strlen(cfg->api_key), hash);
		memcpy(s->key_hash, hash, sizeof(s->key_hash));
	}
	return s;
}

void
mh_mailer_free(struct mh_mailer *s)
{
	if (s == NULL)
		return;
	free(s->url);
	free(s);
}

/* Reopens storage after a failure that asks for it; 0 when it is open. */
static int
mh_mail_mend(struct mh_mailer *s, enum mh_store_err err)
{
	if (err != MH_STORE_RECOVER)
		return -1;
	if (mh_store_reopen(s->store) != MH_STORE_OK) {
		mh_say("storage would not reopen after a failure: stopping");
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* The job "note": writes the sender's note (the health reads it), and
 * reads from it whether sending is paused for this key. With bad_key the
 * key was refused, and sending pauses. */
static void
mh_mail_note_write(struct mh_mailer *s, int64_t now_ms, int bad_key)
{
	struct mh_sender_note n;
	int had = mh_store_sender_note_get(*s->store, &n) == MH_STORE_OK;
	int same_key = had && memcmp(n.key_hash, s->key_hash, 8) == 0;

	s->paused = bad_key || (s->cfg->api_key != NULL && same_key &&
	    (n.key_state & MH_SENDER_KEY_MASK) == MH_SENDER_KEY_INVALID);
	if (!had || !same_key ||
	    (n.key_state & MH_SENDER_KEY_MASK) != MH_SENDER_KEY_INVALID)
		n.since_ms = now_ms;
	n.seen_ms = now_ms;
	n.pid = (uint32_t)getpid();
	n.key_state = s->cfg->api_key == NULL ? MH_SENDER_KEY_UNSET :
	    s->paused ? MH_SENDER_KEY_INVALID : MH_SENDER_KEY_SET;
	if (s->cfg->campaign_auth == NULL)
		n.key_state |= MH_SENDER_NO_CAMPAIGN_TOKEN;
	memcpy(n.key_hash, s->key_hash, 8);
	mh_store_sender_note_put(*s->store, &n);
}

void
mh_mail_note(struct mh_mailer *s, int64_t now_ms)
{
	mh_mail_note_write(s, now_ms, 0);
}

/* Counts an attempt's end for /metrics. */
static void
mh_mail_count(struct mh_mailer *s, enum mh_attempt_count how)
{
	struct mh_counter_file *f = mh_counters_file(s->counters);

	if (f != NULL)
		atomic_fetch_add(&f->mail_attempts[how], 1);
}

/* Tells the relay a mail's state, as written (its JSON). */
static void
mh_mail_signal(struct mh_mailer *s, uint64_t id, const char *json)
{
	struct json_object *mail = json_tokener_parse(json);
	const char *status = mh_json_str(mail, "status");

	mh_notify_mail(s->cfg->home, id, status != NULL ? status : "");
	json_object_put(mail);
}

static void mh_mail_done(void *ctx, uint64_t id,
    const struct mh_http_answer *a);


/* Takes the n mails: writes their attempts, then posts them. */
static void
mh_mail_start(struct mh_mailer *s, const uint64_t *ids, size_t n)
{
	struct mh_begun b[MH_SEND_BATCH];
	enum mh_store_err err = mh_record_begin(*s->store, s->cfg, ids, n, b);

	if (err != MH_STORE_OK) {
		mh_say("%zu mails not begun: storage error %d; their leases "
		    "lapse and they are taken again", n, (int)err);
		mh_mail_mend(s, err);
	}
	for (size_t i = 0; err == MH_STORE_OK && i < n; i++) {
		if (b[i].interrupted) {
			mh_say("mail=%" PRIu64 " outcome=interrupted: its sender "
			    "stopped during the request; failed, not sent again",
			    ids[i]);
			mh_mail_count(s, MH_ATTEMPT_INTERRUPTED);
		}
		if (b[i].json != NULL)
			mh_mail_signal(s, ids[i], b[i].json);
		/* Not posted (out of memory): ended at once as not sent. */
		if (b[i].request != NULL && mh_http_post(s->http, ids[i],
		    s->url, NULL, b[i].request, strlen(b[i].request),
		    mh_mail_done, s) != 0)
			mh_mail_done(s, ids[i], &(struct mh_http_answer){
			    .transport = CURLE_ABORTED_BY_CALLBACK,
			    .retry_after_s = -1 });
	}
	mh_begun_free(b, n);
	mh_mail_finish(s);
}

/* A request ended: what came back is kept, to be written with the others
 * that end in the same turn. */
static void
mh_mail_done(void *ctx, uint64_t id, const struct mh_http_answer *a)
{
	struct mh_mailer *s = ctx;
	struct mh_ended *e = &s->ended[s->nended];

	memset(e, 0, sizeof(*e));
	e->id = id;
	e->a = *a;
	e->a.body = NULL;
	e->due = -1;
	if (mh_mandrill_answer(a, &e->r) != 0) {
		mh_say("mail=%" PRIu64 " answer not read: out of memory; the "
		    "attempt stays open, and the mail is failed as possibly "
		    "sent", id);
		return;
	}
	s->nended++;
}

/* Says what one ended attempt came to: the log, the relay, /metrics. */
static void
mh_mail_said(struct mh_mailer *s, const struct mh_ended *e)
{
	int sent = e->r.outcome == MH_OUT_SENT;
	char why[4 * MH_LOG_VALUE_MAX + 1];

	mh_log_value(why, sizeof(why), e->r.error);
	mh_say("mail=%" PRIu64 " outcome=%s http=%ld ms=%" PRId64 "%s%s", e->id,
	    sent ? "sent" : e->due >= 0 ? "retry" : "failed", e->a.status,
	    e->a.ms, sent ? "" : " error=", sent ? "" : why);
	mh_mail_signal(s, e->id, e->json);
	mh_mail_count(s, sent ? MH_ATTEMPT_SENT : e->due >= 0 ?
	    MH_ATTEMPT_RETRY : MH_ATTEMPT_FAILED);
}

/* Writes the attempts that ended, in one transaction. */
void
mh_mail_finish(struct mh_mailer *s)
{
	enum mh_store_err err;
	int bad_key = 0;

	if (s->nended == 0)
		return;
	err = mh_record_end(*s->store, s->cfg, s->ended, s->nended, &s->seed);
	if (err == MH_STORE_RECOVER && mh_mail_mend(s, err) == 0)
		err = mh_record_end(*s->store, s->cfg, s->ended, s->nended,
		    &s->seed);
	for (size_t i = 0; i < s->nended; i++) {
		struct mh_ended *e = &s->ended[i];

		if (err != MH_STORE_OK)
			mh_say("mail=%" PRIu64 " answer not written (storage "
			    "error %d): the attempt stays open, and the mail is "
			    "failed as possibly sent", e->id, (int)err);
		else if (e->written)
			mh_mail_said(s, e);
		bad_key |= e->r.outcome == MH_OUT_BAD_KEY;
		mh_send_result_free(&e->r);
		free(e->json);
	}
	s->nended = 0;
	if (bad_key) {
		mh_say("Mandrill refused MANDRILL_API_KEY (Invalid_Key): all "
		    "sending is paused until the key changes");
		mh_mail_note_write(s, mh_now_ms(), 1);
	}
}

int
mh_mail_take(struct mh_mailer *s, size_t room, int64_t now_ms)
{
	uint64_t ids[MH_SEND_BATCH];
	enum mh_store_err err;
	size_t n = 0;

	if (s->failed)
		return -1;
	if (room > sizeof(ids) / sizeof(ids[0]))
		room = sizeof(ids) / sizeof(ids[0]);
	if (s->paused || s->cfg->api_key == NULL || room == 0)
		return 0;
	err = mh_store_queue_take(*s->store, MH_SENDQ_MAIL, now_ms, room, ids,
	    &n);
	if (err != MH_STORE_OK && mh_mail_mend(s, err) == 0)
		err = mh_store_queue_take(*s->store, MH_SENDQ_MAIL, now_ms, room,
		    ids, &n);
	if (err == MH_STORE_OK && n > 0)
		mh_mail_start(s, ids, n);
	return s->failed ? -1 : (int)n;
}

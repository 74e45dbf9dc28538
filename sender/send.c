/*
 * The sender's work on the outbox: take what is due, write the attempt
 * (the mail "sending", the attempt without an outcome) and only then post
 * it; write what came back and tell the relay. An Invalid_Key pauses all
 * sending until the key changes: said in the sender's note (the health
 * reads it) and the log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "sender.h"
#include "core/counters.h"

/* How often the sender's note is written (the health calls a sender not
 * heard of for 150 s gone: cron's runs come a minute apart). */
#define MH_NOTE_EVERY_MS 10000

struct mh_sender {
	const struct mh_send_config *cfg;
	struct mh_store *store;
	struct mh_http *http;
	struct mh_counters *counters;	/* /metrics', NULL when unavailable */
	struct mh_tzwin *tz;		/* the time zone helper */
	struct mh_campaigns *camp;	/* campaigns' messages */
	char *url;
	unsigned char key_hash[8];
	int paused;
	int64_t noted_ms;
	unsigned seed;
	int failed;		/* storage failed for good */
	struct mh_ended ended[MH_SEND_BATCH];	/* this turn's, to write */
	size_t nended;
};

void
mh_say(const char *fmt, ...)
{
	va_list ap;

	char line[2048];
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line whatever a value held: a control byte that reached here
	 * unescaped is written as '?' (values from outside are escaped with
	 * mh_log_value where they are said). */
	for (n = 0; line[n] != '\0'; n++)
		if ((unsigned char)line[n] < 0x20 || line[n] == 0x7f)
			line[n] = '?';
	fprintf(stderr, "mailhooks-sender: %s\n", line);
}

struct mh_sender *
mh_sender_new(const struct mh_send_config *cfg)
{
	struct mh_sender *s = mh_calloc(1, sizeof(*s));
	unsigned char hash[MH_HASH_LEN];
	size_t ulen = strlen(cfg->api_url) + 32;

	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	/* The helper first: forked before libcurl may start a thread. */
	if ((s->tz = mh_tzwin_start()) == NULL ||
	    (s->url = mh_malloc(ulen)) == NULL ||
	    (s->http = mh_http_new(cfg)) == NULL ||
	    mh_store_open(cfg->home, &s->store) != MH_STORE_OK ||
	    (s->camp = mh_campaigns_new(cfg, &s->store, s->http, s->tz)) ==
	    NULL) {
		mh_say("cannot start: %s", s->store == NULL ? "the storage under "
		    "MAILHOOKS_HOME would not open" : "out of memory, or "
		    "libcurl or the time zone helper would not start");
		mh_sender_free(s);
		return NULL;
	}
	snprintf(s->url, ulen, "%s/messages/send.json", cfg->api_url);
	s->counters = mh_counters_open(cfg->home);
	if (cfg->api_key != NULL) {
		mh_sha256(cfg->api_key, strlen(cfg->api_key), hash);
		memcpy(s->key_hash, hash, sizeof(s->key_hash));
	}
	return s;
}

/* Reopens storage after a failure that asks for it; 0 when it is open. */
static int
mh_sender_mend(struct mh_sender *s, enum mh_store_err err)
{
	if (err != MH_STORE_RECOVER)
		return -1;
	if (mh_store_reopen(&s->store) != MH_STORE_OK) {
		mh_say("storage would not reopen after a failure: stopping");
		s->failed = 1;
		return -1;
	}
	return 0;
}

/* Writes the sender's note (now and then, or at once with bad_key: the
 * key was refused), and reads from it whether sending is paused for this
 * key. */
static void
mh_sender_note(struct mh_sender *s, int64_t now_ms, int bad_key)
{
	struct mh_sender_note n;
	int had = mh_store_sender_note_get(s->store, &n) == MH_STORE_OK;
	int same_key = had && memcmp(n.key_hash, s->key_hash, 8) == 0;

	if (!bad_key && now_ms - s->noted_ms < MH_NOTE_EVERY_MS)
		return;
	s->paused = bad_key || (s->cfg->api_key != NULL && same_key &&
	    n.key_state == MH_SENDER_KEY_INVALID);
	if (!had || !same_key || n.key_state != MH_SENDER_KEY_INVALID)
		n.since_ms = now_ms;
	n.seen_ms = now_ms;
	n.pid = (uint32_t)getpid();
	n.key_state = s->cfg->api_key == NULL ? MH_SENDER_KEY_UNSET :
	    s->paused ? MH_SENDER_KEY_INVALID : MH_SENDER_KEY_SET;
	memcpy(n.key_hash, s->key_hash, 8);
	if (mh_store_sender_note_put(s->store, &n) == MH_STORE_OK)
		s->noted_ms = now_ms;
}

/* Counts an attempt's end for /metrics. */
static void
mh_sender_count(struct mh_sender *s, enum mh_attempt_count how)
{
	struct mh_counter_file *f = mh_counters_file(s->counters);

	if (f != NULL)
		atomic_fetch_add(&f->mail_attempts[how], 1);
}

/* Tells the relay a mail's state, as written (its JSON). */
static void
mh_sender_signal(struct mh_sender *s, uint64_t id, const char *json)
{
	struct json_object *mail = json_tokener_parse(json);
	const char *status = mh_json_str(mail, "status");

	mh_notify_mail(s->cfg->home, id, status != NULL ? status : "");
	json_object_put(mail);
}

static void mh_sender_done(void *ctx, uint64_t id,
    const struct mh_http_answer *a);
static void mh_sender_finish(struct mh_sender *s);

/* Takes the n mails: writes their attempts, then posts them. */
static void
mh_sender_start(struct mh_sender *s, const uint64_t *ids, size_t n)
{
	struct mh_begun b[MH_SEND_BATCH];
	enum mh_store_err err = mh_record_begin(s->store, s->cfg, ids, n, b);

	if (err != MH_STORE_OK) {
		mh_say("%zu mails not begun: storage error %d; their leases "
		    "lapse and they are taken again", n, (int)err);
		mh_sender_mend(s, err);
	}
	for (size_t i = 0; err == MH_STORE_OK && i < n; i++) {
		if (b[i].interrupted) {
			mh_say("mail=%" PRIu64 " outcome=interrupted: its sender "
			    "stopped during the request; failed, not sent again",
			    ids[i]);
			mh_sender_count(s, MH_ATTEMPT_INTERRUPTED);
		}
		if (b[i].json != NULL)
			mh_sender_signal(s, ids[i], b[i].json);
		/* Not posted (out of memory): ended at once as not sent. */
		if (b[i].request != NULL && mh_http_post(s->http, ids[i],
		    s->url, NULL, b[i].request, strlen(b[i].request)) != 0)
			mh_sender_done(s, ids[i], &(struct mh_http_answer){
			    .transport = CURLE_ABORTED_BY_CALLBACK,
			    .retry_after_s = -1 });
	}
	mh_begun_free(b, n);
	mh_sender_finish(s);
}

/* A request ended: what came back is kept, to be written with the others
 * that end in the same turn. */
static void
mh_sender_done(void *ctx, uint64_t id, const struct mh_http_answer *a)
{
	struct mh_sender *s = ctx;
	struct mh_ended *e = &s->ended[s->nended];

	if (id & MH_HTTP_CAMPAIGN) {
		mh_campaigns_done(s->camp, id & ~MH_HTTP_CAMPAIGN, a);
		return;
	}
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
mh_sender_said(struct mh_sender *s, const struct mh_ended *e)
{
	int sent = e->r.outcome == MH_OUT_SENT;
	char why[4 * MH_LOG_VALUE_MAX + 1];

	mh_log_value(why, sizeof(why), e->r.error);
	mh_say("mail=%" PRIu64 " outcome=%s http=%ld ms=%" PRId64 "%s%s", e->id,
	    sent ? "sent" : e->due >= 0 ? "retry" : "failed", e->a.status,
	    e->a.ms, sent ? "" : " error=", sent ? "" : why);
	mh_sender_signal(s, e->id, e->json);
	mh_sender_count(s, sent ? MH_ATTEMPT_SENT : e->due >= 0 ?
	    MH_ATTEMPT_RETRY : MH_ATTEMPT_FAILED);
}

/* Writes the attempts that ended, in one transaction. */
static void
mh_sender_finish(struct mh_sender *s)
{
	enum mh_store_err err;
	int bad_key = 0;

	if (s->nended == 0)
		return;
	err = mh_record_end(s->store, s->cfg, s->ended, s->nended, &s->seed);
	if (err == MH_STORE_RECOVER && mh_sender_mend(s, err) == 0)
		err = mh_record_end(s->store, s->cfg, s->ended, s->nended,
		    &s->seed);
	for (size_t i = 0; i < s->nended; i++) {
		struct mh_ended *e = &s->ended[i];

		if (err != MH_STORE_OK)
			mh_say("mail=%" PRIu64 " answer not written (storage "
			    "error %d): the attempt stays open, and the mail is "
			    "failed as possibly sent", e->id, (int)err);
		else if (e->written)
			mh_sender_said(s, e);
		bad_key |= e->r.outcome == MH_OUT_BAD_KEY;
		mh_send_result_free(&e->r);
		free(e->json);
	}
	s->nended = 0;
	if (bad_key) {
		mh_say("Mandrill refused MANDRILL_API_KEY (Invalid_Key): all "
		    "sending is paused until the key changes");
		mh_sender_note(s, mh_now_ms(), 1);
	}
}

int
mh_sender_turn(struct mh_sender *s, long wait_ms, int take)
{
	uint64_t ids[MH_SEND_BATCH];
	size_t room, n = 0, k = 0;
	enum mh_store_err err;
	int64_t wake;

	if (s->failed)
		return -1;
	mh_sender_note(s, mh_now_ms(), 0);
	room = s->cfg->concurrency - mh_http_running(s->http);
	if (room > sizeof(ids) / sizeof(ids[0]))
		room = sizeof(ids) / sizeof(ids[0]);
	if (take && !s->paused && s->cfg->api_key != NULL && room > 0) {
		err = mh_store_queue_take(s->store, MH_SENDQ_MAIL,
		    mh_now_ms(), room, ids, &n);
		if (err != MH_STORE_OK && mh_sender_mend(s, err) == 0)
			err = mh_store_queue_take(s->store, MH_SENDQ_MAIL,
			    mh_now_ms(), room,
			    ids, &n);
		if (err == MH_STORE_OK && n > 0)
			mh_sender_start(s, ids, n);
	}
	/* Called with no room too: it starts campaigns all the same. */
	room = mh_http_running(s->http) < s->cfg->concurrency ?
	    s->cfg->concurrency - mh_http_running(s->http) : 0;
	if (take)
		k = mh_campaigns_take(s->camp, room, mh_now_ms());
	/* Woken in time for a campaign to start, or the rate to allow. */
	if (take && (wake = mh_campaigns_wake_ms(s->camp, mh_now_ms())) <
	    wait_ms)
		wait_ms = (long)wake;
	if (mh_http_running(s->http) > 0) {
		mh_http_run(s->http, wait_ms, mh_sender_done, s);
		mh_sender_finish(s);
		mh_campaigns_finish(s->camp);
	} else if (n == 0 && k == 0 && wait_ms > 0)
		nanosleep(&(struct timespec){ wait_ms / 1000,
		    (wait_ms % 1000) * 1000000L }, NULL);
	return s->failed ? -1 : (int)(n + k);
}

size_t
mh_sender_running(const struct mh_sender *s)
{
	return mh_http_running(s->http);
}

void
mh_sender_stop(struct mh_sender *s)
{
	mh_http_abort(s->http, mh_sender_done, s);
	mh_sender_finish(s);
	mh_campaigns_finish(s->camp);
	mh_store_queue_release(s->store);
}

void
mh_sender_free(struct mh_sender *s)
{
	if (s == NULL)
		return;
	mh_campaigns_free(s->camp);
	mh_http_free(s->http);
	mh_tzwin_stop(s->tz);
	mh_counters_close(s->counters);
	if (s->store != NULL)
		mh_store_close(s->store);
	free(s->url);
	free(s);
}

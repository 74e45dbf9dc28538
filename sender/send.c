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

#include <json-c/json.h>

#include "sender.h"
#include "../cgi-bin/counters.h"

/* How often the sender's note is written: the health calls a sender not
 * heard of for three times this long gone. */
#define MH_NOTE_EVERY_MS 10000

struct mh_sender {
	const struct mh_send_config *cfg;
	struct mh_store *store;
	struct mh_http *http;
	struct mh_counters *counters;	/* /metrics', NULL when unavailable */
	char *url;
	unsigned char key_hash[8];
	int paused;
	int64_t noted_ms;
	unsigned seed;
	int failed;		/* storage failed for good */
};

static void
mh_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
mh_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mailhooks-sender: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
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
	if ((s->url = mh_malloc(ulen)) == NULL ||
	    (s->http = mh_http_new(cfg)) == NULL ||
	    mh_store_open(cfg->home, &s->store) != MH_STORE_OK) {
		mh_say("cannot start: %s", s->url == NULL || s->http == NULL ?
		    "out of memory, or libcurl would not start" :
		    "the storage under MAILHOOKS_HOME would not open");
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

/* Writes the sender's note (now and then, or at once with now set), and
 * reads from it whether sending is paused for this key. */
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

static void
mh_sender_signal(struct mh_sender *s, uint64_t id, const char *json)
{
	struct mh_notifier relay = { .home = s->cfg->home, .fd = -1 };
	struct json_object *mail = json_tokener_parse(json);
	const char *status = mh_json_str(mail, "status");
	char text[128];

	snprintf(text, sizeof(text), "{\"kind\":\"mail\",\"id\":%" PRIu64
	    ",\"status\":\"%s\"}", id, status != NULL ? status : "");
	mh_notify_event(&relay, 0, text, strlen(text));
	mh_notify_done(&relay);
	json_object_put(mail);
}

/* The change that begins an attempt; the request's body into ctx. */
struct mh_begin {
	struct mh_sender *s;
	uint64_t id;
	char *request;		/* NULL: nothing to send */
	int interrupted;
};

static int
mh_begin_change(void *ctx, const char *json, const struct mh_lease *lease,
    struct mh_mail_next *next)
{
	struct mh_begin *b = ctx;
	struct json_object *mail = json_tokener_parse(json);
	int64_t now = mh_now_ms();
	char why[100];
	int ret = 0;

	free(b->request);
	b->request = NULL;
	b->interrupted = 0;
	if (mail == NULL)
		return 0;	/* unreadable: left as it is */
	if (mh_attempt_open(mail)) {
		mh_attempt_interrupted(mail, now);
		b->interrupted = 1;
		next->queue = MH_QUEUE_OFF;
	} else if (mh_attempt_begin(mail, now, why, sizeof(why)) != 0) {
		next->queue = MH_QUEUE_OFF;	/* cancelled meanwhile */
		json_object_put(mail);
		return 0;
	} else {
		if ((b->request = mh_mandrill_request(mail, b->id,
		    b->s->cfg->api_key)) == NULL)
			ret = ENOMEM;
		next->queue = MH_QUEUE_AT;
		next->due_ms = lease != NULL ? lease->due_ms : now;
		next->hold = 1;
	}
	if (ret == 0 && mh_mail_record(mail, &next->rec) != 0)
		ret = ENOMEM;
	json_object_put(mail);
	return ret;
}

/* Takes one mail: writes its attempt, then posts it. */
static void
mh_sender_start(struct mh_sender *s, uint64_t id)
{
	struct mh_begin b = { s, id, NULL, 0 };
	enum mh_store_err err;
	char *json = NULL;

	err = mh_store_mail_change(s->store, id, mh_begin_change, &b, &json);
	if (err != MH_STORE_OK) {
		mh_say("mail=%" PRIu64 " not begun: storage error %d", id,
		    (int)err);
		mh_sender_mend(s, err);
	} else if (b.interrupted) {
		mh_say("mail=%" PRIu64 " outcome=interrupted: its sender stopped "
		    "during the request; failed, not sent again", id);
		mh_sender_count(s, MH_ATTEMPT_INTERRUPTED);
		mh_sender_signal(s, id, json);
	} else if (b.request != NULL) {
		mh_sender_signal(s, id, json);
		if (mh_http_post(s->http, id, s->url, b.request,
		    strlen(b.request)) != 0)
			mh_say("mail=%" PRIu64 " not posted: out of memory; its "
			    "lease lapses and it is tried again", id);
	}
	free(b.request);
	free(json);
}

/* The change that ends an attempt with what came back. */
struct mh_end {
	struct mh_sender *s;
	const struct mh_http_answer *a;
	struct mh_send_result r;
	char **remote;
	int64_t due;
};

static int
mh_end_change(void *ctx, const char *json, const struct mh_lease *lease,
    struct mh_mail_next *next)
{
	struct mh_end *e = ctx;
	struct json_object *mail = json_tokener_parse(json);
	size_t k = 0;

	(void)lease;
	if (mail == NULL || !mh_attempt_open(mail)) {
		json_object_put(mail);
		return 0;	/* ended elsewhere (an admin's retry...) */
	}
	mh_attempt_end(mail, e->s->cfg, e->a, &e->r, mh_now_ms(),
	    (unsigned)rand_r(&e->s->seed), &e->due);
	next->queue = e->due < 0 ? MH_QUEUE_OFF : MH_QUEUE_AT;
	next->due_ms = e->due;
	for (size_t i = 0; e->remote != NULL && i < e->r.nrcpt; i++)
		if (e->r.rcpt[i].id[0] != '\0')
			e->remote[k++] = e->r.rcpt[i].id;
	next->remote = e->remote;
	if (mh_mail_record(mail, &next->rec) != 0) {
		json_object_put(mail);
		return ENOMEM;
	}
	json_object_put(mail);
	return 0;
}

static void
mh_sender_done(void *ctx, uint64_t id, const struct mh_http_answer *a)
{
	struct mh_sender *s = ctx;
	struct mh_end e = { s, a, { 0 }, NULL, -1 };
	enum mh_store_err err = MH_STORE_NOMEM;
	char *json = NULL;

	if (mh_mandrill_answer(a, &e.r) == 0 &&
	    (e.remote = mh_calloc(e.r.nrcpt + 1, sizeof(char *))) != NULL) {
		err = mh_store_mail_change(s->store, id, mh_end_change, &e, &json);
		if (err == MH_STORE_RECOVER && mh_sender_mend(s, err) == 0)
			err = mh_store_mail_change(s->store, id, mh_end_change,
			    &e, &json);
	}
	if (err != MH_STORE_OK)
		mh_say("mail=%" PRIu64 " answer not written (storage error %d): "
		    "the attempt stays open, and the mail is failed as possibly "
		    "sent", id, (int)err);
	else {
		mh_say("mail=%" PRIu64 " outcome=%s http=%ld ms=%" PRId64 "%s%s",
		    id, e.r.outcome == MH_OUT_SENT ? "sent" : e.due >= 0 ?
		    "retry" : "failed", a->status, a->ms, e.r.outcome ==
		    MH_OUT_SENT ? "" : " error=", e.r.outcome == MH_OUT_SENT ?
		    "" : e.r.error);
		mh_sender_signal(s, id, json);
		mh_sender_count(s, e.r.outcome == MH_OUT_SENT ? MH_ATTEMPT_SENT :
		    e.due >= 0 ? MH_ATTEMPT_RETRY : MH_ATTEMPT_FAILED);
	}
	if (e.r.outcome == MH_OUT_BAD_KEY) {
		mh_say("Mandrill refused MANDRILL_API_KEY (Invalid_Key): all "
		    "sending is paused until the key changes");
		mh_sender_note(s, mh_now_ms(), 1);
	}
	mh_send_result_free(&e.r);
	free(e.remote);
	free(json);
}

int
mh_sender_turn(struct mh_sender *s, long wait_ms, int take)
{
	uint64_t ids[64];
	size_t room, n = 0;
	enum mh_store_err err;

	if (s->failed)
		return -1;
	mh_sender_note(s, mh_now_ms(), 0);
	room = s->cfg->concurrency - mh_http_running(s->http);
	if (room > sizeof(ids) / sizeof(ids[0]))
		room = sizeof(ids) / sizeof(ids[0]);
	if (take && !s->paused && s->cfg->api_key != NULL && room > 0) {
		err = mh_store_outbox_take(s->store, mh_now_ms(), room, ids, &n);
		if (err != MH_STORE_OK && mh_sender_mend(s, err) == 0)
			err = mh_store_outbox_take(s->store, mh_now_ms(), room,
			    ids, &n);
		for (size_t i = 0; err == MH_STORE_OK && i < n; i++)
			mh_sender_start(s, ids[i]);
	}
	if (mh_http_running(s->http) > 0)
		mh_http_run(s->http, wait_ms, mh_sender_done, s);
	else if (n == 0 && wait_ms > 0)
		nanosleep(&(struct timespec){ wait_ms / 1000,
		    (wait_ms % 1000) * 1000000L }, NULL);
	return s->failed ? -1 : (int)n;
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
	mh_store_outbox_release(s->store);
}

void
mh_sender_free(struct mh_sender *s)
{
	if (s == NULL)
		return;
	mh_http_free(s->http);
	mh_counters_close(s->counters);
	if (s->store != NULL)
		mh_store_close(s->store);
	free(s->url);
	free(s);
}

/*
 * mailhooks-sender: hands the outbox's due mail to Mandrill and the
 * campaigns' messages to their API. Its loop runs a list of jobs, each
 * with its period (jobs.c). A job takes what is due with a lease
 * (db/lease.c), writes each attempt before its request goes out
 * (attempt.c), posts with libcurl's multi interface (http.c), and writes
 * what came back, telling the relay (send.c, campaigns.c). main.c runs it
 * as a daemon or once, from cron.
 */
#ifndef MH_SENDER_H
#define MH_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/logvalue.h"
#include "db/store.h"

/* --- main.c: the settings (environment). */
struct mh_send_config {
	const char *home;	/* MAILHOOKS_HOME */
	const char *api_key;	/* MANDRILL_API_KEY, or NULL: nothing goes */
	const char *api_url;	/* MANDRILL_API_URL, without a trailing / */
	unsigned concurrency;	/* MAILHOOKS_SEND_CONCURRENCY */
	unsigned max_attempts;	/* MAILHOOKS_SEND_MAX_ATTEMPTS */
	long timeout_ms;	/* MAILHOOKS_SEND_TIMEOUT (s), the whole request */
	long connect_ms;	/* MAILHOOKS_SEND_CONNECT_TIMEOUT (s) */
	int64_t retry_ms;	/* MAILHOOKS_SEND_RETRY_MS: the first pause */
	int64_t retry_max_ms;	/* MAILHOOKS_SEND_RETRY_MAX_MS: the longest */
	const char *campaign_url;	/* CAMPAIGN_API_URL, without a trailing / */
	char *campaign_auth;	/* "Authorization: Bearer " CAMPAIGN_API_TOKEN,
				 * or NULL: campaigns' API messages wait */
	unsigned campaign_rate;	/* CAMPAIGN_RATE a second; 0: no limit */
	unsigned breaker_failures;	/* CAMPAIGN_BREAKER_FAILURES */
	int64_t breaker_pause_ms;	/* CAMPAIGN_BREAKER_PAUSE_MS */
	const char *mail_from;	/* MAILHOOKS_MAIL_FROM: of mailhooks' own
				 * mail (the mail channel, the report) */
	const char *public_url;	/* MAILHOOKS_PUBLIC_URL: the site campaign
				 * mail's unsubscribe links point at, or NULL */
	/* MAILHOOKS_TRAP_LINK=1: the trap link hidden in mail's HTML (the
	 * site's /api/trap), else "". */
	char trap_url[MH_TRAP_URL_MAX];
	const char *report_to;	/* MAILHOOKS_DAILY_REPORT_TO, or NULL */
	unsigned report_hour;	/* MAILHOOKS_DAILY_REPORT_HOUR, UTC */
};
/* Requests in flight at most (MAILHOOKS_SEND_CONCURRENCY's ceiling), and
 * so the most a turn begins or ends at once. */
#define MH_SEND_BATCH 64
#define MH_MANDRILL_API_URL "https://mandrillapp.com/api/1.0"
#define MH_CAMPAIGN_API_URL "https://probe.fbrq.cloud/v1"

/* --- log.c: the log (stderr), each line led by the program's name. */
void mh_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- http.c: requests in flight, with libcurl's multi interface. */
/* What came back of one request. */
struct mh_http_answer {
	int transport;		/* libcurl's code: 0 when an answer came */
	char error[256];	/* libcurl's words for a transport error */
	long status;		/* HTTP status, 0 when none */
	int sent;		/* the request went out, whole or in part */
	int64_t retry_after_s;	/* Retry-After in seconds, -1 when none */
	char location[256];	/* Location of a redirect, "" when none */
	char *body;		/* NUL-terminated (malloc'd, may be NULL) */
	size_t body_len;
	int too_long;		/* the body passed MH_HTTP_BODY_MAX: cut */
	int64_t ms;		/* how long it took */
};
#define MH_HTTP_BODY_MAX (1024 * 1024)
struct mh_http;
/* Called as a request ends, with the context and id it was posted with
 * and its answer (freed after). */
typedef void (*mh_http_done)(void *ctx, uint64_t id,
    const struct mh_http_answer *a);
/* NULL (logged) when libcurl cannot start. */
struct mh_http *mh_http_new(const struct mh_send_config *cfg);
/* Posts body (JSON, the caller's; copied) to url for id, with the header
 * line auth ("Authorization: ...", or NULL); done(ctx, id, ...) is told
 * of its end. 0, or -1 (done is not called). */
int mh_http_post(struct mh_http *h, uint64_t id, const char *url,
    const char *auth, const char *body, size_t len, mh_http_done done,
    void *ctx);
/* Requests in flight. */
size_t mh_http_running(const struct mh_http *h);
/* Moves the requests on for at most wait_ms, telling each that ends. */
void mh_http_run(struct mh_http *h, long wait_ms);
/* Ends every request still in flight, each told with transport
 * CURLE_ABORTED_BY_CALLBACK. */
void mh_http_abort(struct mh_http *h);
void mh_http_free(struct mh_http *h);

/* --- mandrill.c: Mandrill's messages/send, pure. */
/* The body of messages/send for a kept mail (its object) of that id:
 * the key, the message with the mail's id (and its sender, a user) in
 * its metadata, and the trap link in its HTML when trap is not ""; sent
 * now. Caller frees; NULL out of memory. */
char *mh_mandrill_request(struct json_object *mail, uint64_t id,
    const char *trap, const char *key);
/* How an attempt ended. */
enum mh_send_outcome {
	MH_OUT_SENT = 0,	/* Mandrill took it: recipients' states */
	MH_OUT_RETRY,		/* try again later */
	MH_OUT_FINAL,		/* failed for good */
	MH_OUT_BAD_KEY,		/* failed for good, and the key is refused */
	/* A 2xx whose body cannot be read (garbage, too long, cut off):
	 * the far side took the request, so it is never sent again. */
	MH_OUT_POSSIBLY_SENT,
};
/* One recipient's state as Mandrill answered it. */
struct mh_rcpt_result {
	char email[256];
	char status[16];	/* sent, queued, scheduled, rejected, invalid */
	char id[65];		/* Mandrill's _id */
	char reason[64];	/* reject_reason or queued_reason */
};
/* What an answer means. */
struct mh_send_result {
	enum mh_send_outcome outcome;
	char error[300];	/* why, for anything but MH_OUT_SENT */
	struct mh_rcpt_result *rcpt;	/* malloc'd, nrcpt of them */
	size_t nrcpt;
};
/* Reads an answer; -1 out of memory. Free with mh_send_result_free. */
int mh_mandrill_answer(const struct mh_http_answer *a,
    struct mh_send_result *out);
void mh_send_result_free(struct mh_send_result *r);

/* --- attempt.c: an attempt's changes to a mail's object, pure. */
/* The last attempt of a mail or message (its object), or NULL. */
struct json_object *mh_last_attempt(struct json_object *o);
/* Adds an attempt begun at now_ms, with no outcome yet, to list. */
void mh_attempt_push(struct json_object *list, int64_t now_ms);
/* Fills attempt a in with what came back (ans) and error (or NULL). */
void mh_attempt_fill(struct json_object *a, const struct mh_http_answer *ans,
    const char *error);
/* The attempt about to go out, at now_ms: the mail is sending, and the
 * attempt is kept with no outcome yet. -1 (why) when the mail is not
 * one to send now (cancelled meanwhile...). */
int mh_attempt_begin(struct json_object *mail, int64_t now_ms, char *why,
    size_t whylen);
/* Whether the mail's last attempt has no outcome: its sender stopped
 * during the request. */
int mh_attempt_open(struct json_object *mail);
/* The end of that attempt: the mail failed, for it may have been sent
 * and is not sent twice without someone looking (at most once). */
void mh_attempt_interrupted(struct json_object *mail, int64_t now_ms);
/* The end of the attempt with what came back (a, r); *due_ms is when to
 * try again, or -1 when the mail is done. */
void mh_attempt_end(struct json_object *mail, const struct mh_send_config *cfg,
    const struct mh_http_answer *a, const struct mh_send_result *r,
    int64_t now_ms, unsigned random, int64_t *due_ms);
/* The pause before attempt n + 1 after n failed (n >= 1): doubling from
 * the first, capped, half of it random (random: any number), and no
 * shorter than Retry-After (retry_after_s >= 0). */
int64_t mh_backoff_ms(const struct mh_send_config *cfg, unsigned n,
    unsigned random, int64_t retry_after_s);

/* --- record.c: the sender's writes, a batch to a transaction. */
/* A mail taken: the body to post (NULL: nothing to send, as it was
 * cancelled meanwhile, or found interrupted), the mail as written. */
struct mh_begun {
	char *request;
	char *json;
	int interrupted;	/* its last attempt had no end: failed now */
};
/* Begins an attempt at each of the n mails, in one transaction, before
 * any request goes out: out gets n (free with mh_begun_free). */
enum mh_store_err mh_record_begin(struct mh_store *st,
    const struct mh_send_config *cfg, const uint64_t *ids, size_t n,
    struct mh_begun *out);
void mh_begun_free(struct mh_begun *b, size_t n);
/* A request that ended: its answer (body left out: read into r) and
 * what it means; then, once written, the mail as it is and when it is
 * due again (-1: done). */
struct mh_ended {
	uint64_t id;
	struct mh_http_answer a;
	struct mh_send_result r;
	int64_t due;
	int written;		/* its attempt was the one open, and ended */
	char *json;		/* the caller frees */
};
/* Ends the n attempts with what came back, in one transaction; seed is
 * the backoff's random state. */
enum mh_store_err mh_record_end(struct mh_store *st,
    const struct mh_send_config *cfg, struct mh_ended *e, size_t n,
    unsigned *seed);

/* --- jobs.c: the sender's jobs, each with its period, run by one loop:
 * the note, the outbox's mail, campaign scheduling, campaign sends, the
 * daily report. */
struct mh_sender;
/* NULL (said) when it cannot start. */
struct mh_sender *mh_sender_new(const struct mh_send_config *cfg);
/* One turn: runs each job that is due (with take, those that begin work
 * too), then moves the requests in flight on for at most wait_ms, or
 * until a job is due again. The work the jobs began and the requests that
 * ended (0: the turn found nothing to do), or -1 when storage failed for
 * good. */
int mh_sender_turn(struct mh_sender *s, long wait_ms, int take);
/* Sleeps until a job is due again, wait_ms at most: after a turn that
 * found nothing to do, with nothing in flight. */
void mh_sender_idle(const struct mh_sender *s, long wait_ms);
/* Requests in flight. */
size_t mh_sender_running(const struct mh_sender *s);
/* Ends what is in flight (each attempt written as it ended) and lets go
 * of the leases. */
void mh_sender_stop(struct mh_sender *s);
void mh_sender_free(struct mh_sender *s);

/* --- send.c: the jobs on the outbox's mail. */
struct mh_mailer;
struct mh_counters;
/* NULL when out of memory; store is the sender's (reopened here after a
 * failure that asks for it), http its requests, counters /metrics' (or
 * NULL). */
struct mh_mailer *mh_mailer_new(const struct mh_send_config *cfg,
    struct mh_store **store, struct mh_http *http,
    struct mh_counters *counters);
/* The job "note": writes the sender's note (the health reads it), and
 * reads from it whether sending is paused for this key. */
void mh_mail_note(struct mh_mailer *s, int64_t now_ms);
/* The job "mail": takes what is due (room at most, none while paused),
 * writes the attempts and posts them. The count taken, or -1 when
 * storage failed for good. */
int mh_mail_take(struct mh_mailer *s, size_t room, int64_t now_ms);
/* Writes the attempts that ended, in one transaction, and says each. */
void mh_mail_finish(struct mh_mailer *s);
void mh_mailer_free(struct mh_mailer *s);

/* --- campaign_api.c: the campaigns' external API, pure. */
/* The body of POST {url}/send/{id}: {"id", "phone" (a number), "text"}.
 * Caller frees; NULL out of memory. */
char *mh_capi_request(uint64_t id, const char *phone, const char *text);
/* What an answer means: sent (200 with {"code": 0}), retry (transport
 * errors, 5xx, 429, another 2xx or shape), or final; why into error. */
enum mh_send_outcome mh_capi_answer(const struct mh_http_answer *a,
    char *error, size_t len);

/* --- cm_step.c: a campaign's message taken, pure. */
enum mh_cm_step {
	MH_CM_SEND,		/* its attempt goes out now */
	MH_CM_EXPIRE,		/* the campaign ended */
	MH_CM_CANCEL,		/* the campaign or client deleted, or the
				 * client no longer matching */
	MH_CM_DEFER,		/* outside the client's window: due_ms */
	MH_CM_HOLD,		/* the campaign's circuit is open: due_ms */
	MH_CM_INTERRUPTED,	/* its last request was cut short */
	MH_CM_DROP,		/* done already: out of the queue */
};
/* What the step is decided from. */
struct mh_cm_case {
	const struct mh_campaign_plan *plan;	/* NULL: no such campaign */
	struct json_object *client;	/* NULL: deleted */
	int64_t now_ms;
	int64_t window_next_s;	/* 0: inside the window (or none); else its
				 * next opening (Unix s), -1 not known */
	int64_t hold_until_ms;	/* the breaker's hold, 0: none */
};
struct mh_cm_decision {
	enum mh_cm_step step;
	int64_t due_ms;		/* with DEFER and HOLD */
	char why[200];
};
void mh_cm_decide(struct json_object *m, const struct mh_cm_case *c,
    struct mh_cm_decision *d);
/* Changes the message's object as d says, at now_ms. */
void mh_cm_apply(struct json_object *m, const struct mh_cm_decision *d,
    int64_t now_ms);
/* What came back of its attempt. */
struct mh_cm_answer {
	const struct mh_send_config *cfg;
	const struct mh_http_answer *http;
	enum mh_send_outcome outcome;
	const char *error;
	int64_t end_ms;		/* the campaign's end */
	unsigned random;	/* for the backoff */
};
/* Ends the message's open attempt with an; *due_ms is when to try again,
 * or -1 when it is done (sent, failed, expired). */
void mh_cm_end(struct json_object *m, const struct mh_cm_answer *an,
    int64_t now_ms, int64_t *due_ms);

/* --- breaker.c: the campaigns' pace, pure. */
#define MH_BREAKERS 64
struct mh_breaker {
	uint64_t campaign;
	unsigned fails;		/* failures in a row, while closed */
	unsigned opened;	/* times opened since it last closed */
	int open, probing;
	int64_t until_ms;	/* open: paused until then */
	int64_t probe_ms;	/* when the probe went */
};
struct mh_breakers {
	struct mh_breaker b[MH_BREAKERS];
	unsigned threshold;	/* failures in a row that open it */
	int64_t pause_ms, pause_max_ms;	/* the first pause, the longest */
	int64_t probe_ms;	/* a probe's answer is waited for so long */
};
/* 0 when a message of campaign may go at now_ms (it may be the probe),
 * else the time to hold it until. */
int64_t mh_breaker_gate(struct mh_breakers *bs, uint64_t campaign,
    int64_t now_ms);
#define MH_BREAKER_SAME 0
#define MH_BREAKER_OPENED 1
#define MH_BREAKER_CLOSED 2
/* Notes an answer (failed: one that may pass, a timeout, a 5xx...): what
 * became of the campaign's circuit. */
int mh_breaker_note(struct mh_breakers *bs, uint64_t campaign, int failed,
    int64_t now_ms);
/* Until when the campaign's circuit is open, 0 when it is closed. */
int64_t mh_breaker_until(const struct mh_breakers *bs, uint64_t campaign);
struct mh_rate {
	unsigned per_s;		/* 0: no limit */
	double tokens, cap;
	int64_t at_ms;
};
void mh_rate_init(struct mh_rate *r, unsigned per_s, int64_t now_ms);
/* How many of want may go now. */
size_t mh_rate_allow(struct mh_rate *r, int64_t now_ms, size_t want);
void mh_rate_spend(struct mh_rate *r, size_t n);
/* How long until one more may go: 0 when one may now. */
int64_t mh_rate_wait_ms(const struct mh_rate *r);

/* --- tzwin.c: windows in a client's time zone (core/window.c), asked of
 * a helper process. */
struct mh_tzwin;
/* Forks the helper that answers mh_window_next; call before any thread
 * starts. NULL (said) when it cannot. */
struct mh_tzwin *mh_tzwin_start(void);
/* mh_window_next asked of the helper; -1 when it cannot answer. */
int64_t mh_tzwin_next(struct mh_tzwin *z, const char *zone, int64_t now_s,
    int from_min, int to_min);
void mh_tzwin_stop(struct mh_tzwin *z);

/* --- own_mail.c, report.c: mailhooks' own mail, through the outbox. */
/* Adds the mail in (a Mandrill message but for its from_email, which is
 * MAILHOOKS_MAIL_FROM: to, subject, text, html, headers; borrowed), made
 * once under the idempotency key key: *mail_id, or -1 with why. */
int mh_own_mail(struct mh_store *st, const struct mh_send_config *cfg,
    const char *key, struct json_object *in, uint64_t *mail_id, char *why,
    size_t whylen);
/* The job "daily report": made when its hour has come and done_day (the last day it
 * was made, "YYYY-MM-DD"; set) is not today. */
void mh_report_maybe(struct mh_store *st, const struct mh_send_config *cfg,
    int64_t now_ms, char done_day[16]);

/* --- schedule.c: starting campaigns. */
struct mh_schedule;
struct mh_schedule *mh_schedule_new(void);
/* The job "campaign scheduling": makes the messages of each running
 * campaign's clients (made once), when it starts, changes, or the
 * clients change; lets go of those that stopped running. */
enum mh_store_err mh_schedule_run(struct mh_schedule *sc,
    struct mh_store *st, int64_t now_ms);
void mh_schedule_free(struct mh_schedule *sc);

/* --- campaigns.c: sending campaigns' messages. */
struct mh_campaigns;
/* NULL (said) when it cannot start; store is the sender's (reopened by
 * it), http its requests. */
struct mh_campaigns *mh_campaigns_new(const struct mh_send_config *cfg,
    struct mh_store **store, struct mh_http *http, struct mh_tzwin *tz);
/* The job "campaign sends": takes due messages (room at most, as the
 * rate allows) and posts them: how many were taken, or 1 when the rate
 * held back some that are due. */
size_t mh_campaigns_take(struct mh_campaigns *c, size_t room, int64_t now_ms);
/* How long until the rate allows one more, INT64_MAX when it does. */
int64_t mh_campaigns_wake_ms(const struct mh_campaigns *c);
/* A message's request ended (an mh_http_done: campaigns is the
 * struct mh_campaigns). */
void mh_campaigns_done(void *campaigns, uint64_t id,
    const struct mh_http_answer *a);
/* A message's attempt ended with outcome (error: why, unless sent), and
 * for the mail channel its mail's id. */
void mh_campaigns_ended(struct mh_campaigns *c, uint64_t id,
    const struct mh_http_answer *a, enum mh_send_outcome outcome,
    const char *error, uint64_t mail_id);
/* Writes the messages' ends, in one transaction. */
void mh_campaigns_finish(struct mh_campaigns *c);
/* The messages of campaign still waiting are due now (it stopped). */
void mh_cm_due_now(struct mh_store *st, uint64_t campaign, int64_t now_ms);
void mh_campaigns_free(struct mh_campaigns *c);

#endif

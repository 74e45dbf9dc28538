/*
 * mailhooks-sender: hands the outbox's due mail to Mandrill. It takes
 * what is due with a lease (db/lease.c), writes each attempt before its
 * request goes out (attempt.c), posts messages/send with libcurl's multi
 * interface (http.c, mandrill.c), and writes what came back, telling the
 * relay (send.c). main.c runs it as a daemon or once, from cron.
 */
#ifndef MH_SENDER_H
#define MH_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "../cgi-bin/core.h"
#include "../db/store.h"

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
};
/* Requests in flight at most (MAILHOOKS_SEND_CONCURRENCY's ceiling), and
 * so the most a turn begins or ends at once. */
#define MH_SEND_BATCH 64
#define MH_MANDRILL_API_URL "https://mandrillapp.com/api/1.0"

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
/* Called as each request ends, with its id and answer (freed after). */
typedef void (*mh_http_done)(void *ctx, uint64_t id,
    const struct mh_http_answer *a);
/* NULL (logged) when libcurl cannot start. */
struct mh_http *mh_http_new(const struct mh_send_config *cfg);
/* Posts body (JSON, the caller's; copied) to url for id: 0, or -1. */
int mh_http_post(struct mh_http *h, uint64_t id, const char *url,
    const char *body, size_t len);
/* Requests in flight. */
size_t mh_http_running(const struct mh_http *h);
/* Moves the requests on for at most wait_ms, calling done for each that
 * ends. */
void mh_http_run(struct mh_http *h, long wait_ms, mh_http_done done,
    void *ctx);
/* Ends every request still in flight: done is called for each with
 * transport CURLE_ABORTED_BY_CALLBACK. */
void mh_http_abort(struct mh_http *h, mh_http_done done, void *ctx);
void mh_http_free(struct mh_http *h);

/* --- mandrill.c: Mandrill's messages/send, pure. */
/* The body of messages/send for a kept mail (its object) of that id:
 * the key, the message with the mail's id (and its sender, a user) in
 * its metadata, sent now. Caller frees; NULL out of memory. */
char *mh_mandrill_request(struct json_object *mail, uint64_t id,
    const char *key);
/* How an attempt ended. */
enum mh_send_outcome {
	MH_OUT_SENT = 0,	/* Mandrill took it: recipients' states */
	MH_OUT_RETRY,		/* try again later */
	MH_OUT_FINAL,		/* failed for good */
	MH_OUT_BAD_KEY,		/* failed for good, and the key is refused */
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

/* --- send.c: the sender's work on the outbox. */
struct mh_sender;
/* NULL (logged) when it cannot start. */
struct mh_sender *mh_sender_new(const struct mh_send_config *cfg);
/* One turn: with take, takes what is due (while not paused, and as
 * much as there is room for), sends it, and moves the requests on for at
 * most wait_ms (sleeps that long when none is in flight). The count of
 * mails taken, or -1 when storage failed for good. */
int mh_sender_turn(struct mh_sender *s, long wait_ms, int take);
/* Requests in flight. */
size_t mh_sender_running(const struct mh_sender *s);
/* Ends what is in flight (each attempt written as it ended) and lets go
 * of the leases. */
void mh_sender_stop(struct mh_sender *s);
void mh_sender_free(struct mh_sender *s);

#endif

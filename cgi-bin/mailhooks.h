/*
 * mailhooks.fcgi: the HTTP side. A request comes in (request.c), is
 * routed by the one route table (route.c) to a handler (ingest.c's for
 * every webhook, api_*.c for the API), answered (respond.c); then the process
 * drains the inbox (drain.c), in its drain thread (worker.c).
 */
#ifndef MAILHOOKS_H
#define MAILHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>

#include "core/core.h"
#include "core/counters.h"
#include "core/logvalue.h"
#include "db/store.h"

#define MH_API_LIMIT_DEFAULT 50
#define MH_API_LIMIT_MAX 500
/* How often a process applies the retention, at most. */
#define MH_PRUNE_EVERY 60
/* How often the idempotency keys past MH_IDEM_TTL are deleted, by one
 * process or another: each time they are all read. */
#define MH_KEYS_PRUNE_EVERY 3600

/* The process: its settings and the storage handle. The accept loop owns
 * the handle; the drain thread borrows it (worker.c). */
struct mh_app {
	struct mh_config *cfg;
	struct mh_store *store;
	struct mh_counters *counters;	/* shared with every process */
	int64_t counters_tried;	/* when opening them last failed */
	int warned;		/* unset secrets logged */
	int accounts_ready;	/* the first admin is made, or was there */
	int reindexed;		/* events of older versions are indexed */
	int64_t sessions_pruned;	/* when its sign-ins last walked them */
	/* Opening storage failed: Berkeley DB lets a process try only once
	 * (DB_REGISTER keeps the failed try's place), so the process ends
	 * after this request and the web server starts a fresh one. */
	int open_failed;
};

/* --- auth.c: who is asking. */
enum mh_who {
	MH_WHO_NOBODY = 0,
	MH_WHO_SESSION,		/* a user signed in, with the session cookie */
	MH_WHO_TOKEN,		/* a program, with an API token */
	MH_WHO_REMOTE,		/* a user the web server authenticated */
};
/* What a route needs (its access in the route table): nothing, any
 * identity, the admin role, or scopes (MH_SCOPE_* bits): every one named,
 * or with MH_ANY_SCOPE one of them. Whose records an identity may touch
 * (a user's own notifications) is the handler's to say. */
#define MH_PUBLIC 0u
#define MH_ADMIN 0x100u
#define MH_SIGNED_IN 0x200u	/* any identity */
#define MH_ANY_SCOPE 0x400u
/* The cookie a session's id is in. */
#define MH_SESSION_COOKIE "mh_session"
struct mh_identity {
	enum mh_who kind;
	char name[MH_USER_NAME_MAX + 1];	/* the user's, or the token's */
	int admin;		/* a user of role admin */
	unsigned scopes;	/* MH_SCOPE_* bits: a token's, a role's */
	unsigned char key[MH_HASH_LEN];	/* the session's hash */
};

/* --- request.c: one request, over FastCGI or as a plain CGI program. */
struct mh_watchdog;
struct mh_request {
	FCGX_Request *fcgi;	/* NULL when run as a CGI program (stdio) */
	struct mh_watchdog *wd;	/* told of each write (progress), or NULL */
	char **envp;		/* the request's parameters */
	const char *auth_challenge;	/* WWW-Authenticate for a 401 */
	char headers[320];	/* more header lines (Set-Cookie...), each
				 * ending in CRLF */
	struct mh_identity who;	/* set by mh_identify */
	int identified;		/* mh_identify ran */
	char allow[64];		/* Allow, for a 405: the route's methods */
	const char *provider;	/* set on a webhook route: its refusals are logged */
	int status;		/* the status answered */
	char error[48];		/* and, for an error, its code and detail */
	char detail[512];
	enum mh_outcome outcome;	/* and what it says of a webhook's */
	const char *method;
	unsigned verb;		/* the method's MH_* bit; 0: none of ours */
	char *path;		/* percent-decoded, without the query */
	char *raw_path;		/* as sent (NULL when a rewrite named it) */
	const char *query;	/* raw, without '?', "" when none */
	char *param;		/* the route's {parameter}, decoded */
	const char *param_logged;	/* set by a handler whose parameter is
					 * an id the log keeps: its name */
	char *body;		/* NUL-terminated */
	size_t body_len;
	uint64_t receipt;	/* the inbox entry it put, or 0 */
	uint64_t notification;	/* the (first) notification it touched, or 0 */
	const char *about;	/* the record it touched: "mail", "client",
				 * "campaign" (its log line's name), or NULL */
	uint64_t about_id;	/* and its id */
	enum mh_store_err store_err;	/* the storage error it met */
	char id[65];		/* its id, in X-Request-Id and each log line */
	int route;		/* its row in mh_routes, or -1 */
	double started;		/* when it came, in monotonic seconds */
};

enum mh_body_err {
	MH_BODY_OK = 0,
	MH_BODY_TOO_LARGE,
	MH_BODY_SHORT,		/* the client sent less than it announced */
	MH_BODY_NOMEM,
};

const char *mh_param(const struct mh_request *r, const char *name);
/* Writes the response bytes; -1 when the client is gone. */
int mh_write(struct mh_request *r, const char *data, size_t len);
/* Reads the body, at most max bytes; r->body is owned by r. */
enum mh_body_err mh_request_body(struct mh_request *r, size_t max);
/* The URL the client asked for: scheme://host[:port]/path?query; caller
 * frees. */
/* A long request (an import) says it still makes progress, though it
 * writes nothing yet: the watchdog's clock starts again. */
void mh_request_progress(struct mh_request *r);
char *mh_request_url(const struct mh_request *r);
void mh_request_free(struct mh_request *r);

/* --- first_admin.c: a site with no user gets its admin (tried at each
 * storage open until it is done; the log says how). */
void mh_app_first_admin(struct mh_app *app, const struct mh_request *r);

/* --- trace.c: request ids, the log, and the count of each request. */
/* Gives r its id and notes when it came. */
void mh_request_begin(struct mh_request *r);
/* Counts r, answered, in the shared counters and logs its line. */
void mh_request_end(struct mh_app *app, struct mh_request *r);
/* The counters the processes share, opened on first use (and a minute
 * after a failure); NULL while they cannot be. */
struct mh_counters *mh_app_counters(struct mh_app *app);
/* Logs one line about r (NULL: about none), led by its id. */
void mh_log(const struct mh_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Finds out who sends r into r->who (kind MH_WHO_NOBODY when nobody
 * known): once a request. -1 when it answered already (a token that is
 * none, storage down). */
int mh_identify(struct mh_app *app, struct mh_request *r);
/* Whether r may have a route of that access: 0 to go on, or -1 when it
 * answered 401 (nobody), 403 (no such role or scope, or a change asked
 * by another site's page with the session cookie) or 503. */
int mh_authorize(struct mh_app *app, struct mh_request *r, unsigned access);
/* Whether r comes from a page of the site (Origin or Referer); else
 * answers 403 and returns 0. */
int mh_same_site(struct mh_app *app, struct mh_request *r);
/* The site's own origin, scheme://host[:port]: MAILHOOKS_PUBLIC_URL's when
 * set, else as r names it. */
int mh_site_origin(const struct mh_config *cfg, const struct mh_request *r,
    char *out, size_t outlen);
/* Whether the site is reached over https (MAILHOOKS_PUBLIC_URL says, else
 * the request). */
int mh_site_https(const struct mh_config *cfg, const struct mh_request *r);

/* --- throttle.c: failed sign-ins slow down, by user and by address. */
/* 0 when a sign-in as user from r's address may be tried now; else -1,
 * answered (429 with Retry-After, or 503). */
int mh_throttle_check(struct mh_app *app, struct mh_request *r,
    const char *user);
/* Counts a failed sign-in as user from r's address. */
void mh_throttle_failed(struct mh_app *app, struct mh_request *r,
    const char *user);
/* Forgets the user's failures: the sign-in succeeded. */
void mh_throttle_passed(struct mh_app *app, struct mh_request *r,
    const char *user);

/* --- respond.c: JSON answers. */
void mh_respond_json(struct mh_request *r, int status, const char *json);
/* Answers body as it is, of this Content-Type. */
/* Writes the status line and headers of an answer whose body the caller
 * writes itself (mh_write), as it goes; -1 when the client is gone. */
int mh_respond_start(struct mh_request *r, int status, const char *ctype);
void mh_respond_body(struct mh_request *r, int status, const char *ctype,
    const char *body, size_t len);
/* The errors the program answers, each with its status, its "error" code
 * and what it says of a webhook's outcome (/metrics): one table,
 * mh_errors (respond.c). */
enum mh_error {
	MH_ERR_BAD_BODY,
	MH_ERR_BAD_CALLBACK,
	MH_ERR_BAD_CAMPAIGN,
	MH_ERR_BAD_CLIENT,
	MH_ERR_BAD_EVENTS,
	MH_ERR_BAD_FORM,
	MH_ERR_BAD_MAIL,
	MH_ERR_BAD_NOTIFICATION,
	MH_ERR_BAD_PARAMETER,
	MH_ERR_BAD_PATH,
	MH_ERR_BAD_REQUEST,
	MH_ERR_UNAUTHORIZED,
	MH_ERR_BAD_SIGNATURE,
	MH_ERR_FORBIDDEN,
	MH_ERR_NOT_FOUND,
	MH_ERR_METHOD_NOT_ALLOWED,
	MH_ERR_DELETED,
	MH_ERR_EXISTS,
	MH_ERR_NOT_CANCELLABLE,
	MH_ERR_BODY_TOO_LARGE,
	MH_ERR_UNSUPPORTED_MEDIA_TYPE,
	MH_ERR_ALREADY_ENDED,
	MH_ERR_IDEMPOTENCY_KEY_REUSED,
	MH_ERR_TOO_MANY_ATTEMPTS,
	MH_ERR_CORRUPT_RECORD,
	MH_ERR_MISCONFIGURED,
	MH_ERR_OUT_OF_MEMORY,
	MH_ERR_STORAGE_UNAVAILABLE,
	MH_ERR_UNAVAILABLE,
	MH_ERR_COUNT
};
struct mh_error_def {
	int status;
	const char *code;
	enum mh_outcome outcome;
};
extern const struct mh_error_def mh_errors[MH_ERR_COUNT];
/* Answers {"error": its code, "detail": printf(fmt, ...)} with its
 * status. */
void mh_respond_error(struct mh_request *r, enum mh_error err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answers 503 for a storage error, noting it in r->store_err. */
void mh_respond_store_error(struct mh_request *r, enum mh_store_err err);
/* Adds a header line (printf(fmt, ...), without its CRLF) to the answer
 * to come; one that does not fit is left out. */
void mh_respond_header(struct mh_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Answers 503 when out of memory. */
void mh_respond_nomem(struct mh_request *r);

/* --- route.c: the one route table. */
#define MH_GET 1u
#define MH_HEAD 2u
#define MH_POST 4u
#define MH_PUT 8u
#define MH_PATCH 16u
#define MH_DELETE 32u

/* One (method, path) the program answers. A path's other methods are a
 * 405; the dispatcher checks access before the handler runs. */
/* What body a route takes (www/openapi.json's requestBody: the test of
 * the description holds the two equal). */
enum mh_body {
	MH_NO_BODY,
	MH_JSON_BODY,		/* application/json, required */
	MH_JSON_BODY_OPTIONAL,	/* application/json, or none */
	MH_FORM_BODY,		/* application/x-www-form-urlencoded */
	MH_IMPORT_BODY,		/* text/csv or application/x-ndjson */
};
struct mh_route {
	unsigned method;	/* one MH_* bit; a GET's row answers HEAD */
	const char *path;	/* "/api/messages/{id}": one last parameter */
	unsigned access;	/* MH_PUBLIC, MH_SIGNED_IN, MH_ADMIN, scopes */
	enum mh_body body;
	void (*handle)(struct mh_app *, struct mh_request *);
	const char *provider;	/* a webhook's: its refusals are logged */
};
/* Every route the program answers, a path's rows together; path NULL
 * ends it. */
extern const struct mh_route mh_routes[];
/* The methods' names, each with its bit; name NULL ends it. */
extern const struct mh_method { const char *name; unsigned bit; }
    mh_methods[];
/* Splits the request's URI into path and query, routes it and answers. */
void mh_serve(struct mh_app *app, struct mh_request *r);

/* --- ingest.c: what the webhooks share. */
/* Reads the body against the configured limit; answers and returns -1
 * when it cannot. */
int mh_ingest_body(struct mh_app *app, struct mh_request *r);
/* Commits the checked raw body to the inbox and acknowledges it: 200
 * {"accepted": n, "receipt": ID}, or 503 when storage cannot take it. An
 * empty batch is acknowledged without storing anything. */
void mh_ingest_commit(struct mh_app *app, struct mh_request *r,
    const char *provider, size_t n);
/* Reads the body, at most max bytes; answers and returns -1 when it
 * cannot. */
int mh_body(struct mh_request *r, size_t max);
/* Records a refused webhook request in the refusal log. */
void mh_log_refusal(struct mh_app *app, struct mh_request *r);

/* A provider's webhook (its route's row names the provider): the call
 * checked as its provider row says, then its body acknowledged. */
void mh_hook(struct mh_app *app, struct mh_request *r);
/* A webhook's URL answers a GET: Mandrill checks it before it issues a
 * key. */
void mh_hook_alive(struct mh_app *app, struct mh_request *r);

/* --- the handlers (api_*.c). */
void mh_api_test_event(struct mh_app *app, struct mh_request *r);
void mh_api_events(struct mh_app *app, struct mh_request *r);
void mh_api_callbacks(struct mh_app *app, struct mh_request *r);
/* GET /api/events.csv, /api/events.ndjson: every event the filters of
 * /api/events keep, oldest first, streamed a page at a time. */
void mh_api_events_csv(struct mh_app *app, struct mh_request *r);
void mh_api_events_ndjson(struct mh_app *app, struct mh_request *r);
void mh_api_stats(struct mh_app *app, struct mh_request *r);
/* GET /api/stats/series (api_series.c); /api/stats/by and
 * /api/stats/links (api_reports.c). */
void mh_api_stats_series(struct mh_app *app, struct mh_request *r);
void mh_api_stats_by(struct mh_app *app, struct mh_request *r);
/* The report by tag's row of one tag (its counts and rates, all 0 when no
 * message had it), read from every summary: *out, a new object. */
enum mh_store_err mh_report_tag(struct mh_app *app, const char *tag,
    struct json_object **out);
void mh_api_stats_links(struct mh_app *app, struct mh_request *r);
/* DELETE /api/recipients/{email}. */
void mh_api_recipient_erase(struct mh_app *app, struct mh_request *r);
/* GET /api/refused (api_refused.c). */
void mh_api_refused(struct mh_app *app, struct mh_request *r);
/* GET /api/raw/{receipt}, POST /api/raw/{receipt}/reprocess (api_raw.c). */
void mh_api_raw(struct mh_app *app, struct mh_request *r);
void mh_api_raw_reprocess(struct mh_app *app, struct mh_request *r);
void mh_api_message(struct mh_app *app, struct mh_request *r);
void mh_api_health(struct mh_app *app, struct mh_request *r);
void mh_api_metrics(struct mh_app *app, struct mh_request *r);
void mh_api_session(struct mh_app *app, struct mh_request *r);
void mh_api_sign_in(struct mh_app *app, struct mh_request *r);
void mh_api_sign_out(struct mh_app *app, struct mh_request *r);
void mh_api_ws_ticket(struct mh_app *app, struct mh_request *r);
void mh_api_ws_tickets(struct mh_app *app, struct mh_request *r);
void mh_api_tokens(struct mh_app *app, struct mh_request *r);
void mh_api_token_create(struct mh_app *app, struct mh_request *r);
void mh_api_token(struct mh_app *app, struct mh_request *r);
void mh_api_notifications(struct mh_app *app, struct mh_request *r);
void mh_api_notification_create(struct mh_app *app, struct mh_request *r);
void mh_api_notification(struct mh_app *app, struct mh_request *r);
void mh_api_notification_mark(struct mh_app *app, struct mh_request *r);
void mh_api_notification_delete(struct mh_app *app, struct mh_request *r);
void mh_api_notifications_read(struct mh_app *app, struct mh_request *r);
void mh_api_mail(struct mh_app *app, struct mh_request *r);
void mh_api_mail_send(struct mh_app *app, struct mh_request *r);
void mh_api_mail_one(struct mh_app *app, struct mh_request *r);
void mh_api_mail_cancel(struct mh_app *app, struct mh_request *r);
void mh_api_clients(struct mh_app *app, struct mh_request *r);
void mh_api_client_create(struct mh_app *app, struct mh_request *r);
void mh_api_client(struct mh_app *app, struct mh_request *r);
void mh_api_client_patch(struct mh_app *app, struct mh_request *r);
void mh_api_client_delete(struct mh_app *app, struct mh_request *r);
/* campaign_warnings.c: a window that never opens for some clients. */
/* The warnings of the stored campaign json at now_ms, a new JSON array
 * (empty when there is none, or it cannot tell). */
struct json_object *mh_campaign_warnings(struct mh_app *app,
    const char *json, int64_t now_ms);
/* api_clients_io.c: the clients in bulk. */
void mh_api_clients_import(struct mh_app *app, struct mh_request *r);
void mh_api_clients_csv(struct mh_app *app, struct mh_request *r);
/* api_unsubscribe.c: the links of mail sent that anyone may follow: a
 * campaign mail's unsubscribe link, and the trap link. */
void mh_api_unsubscribe_page(struct mh_app *app, struct mh_request *r);
void mh_api_unsubscribe(struct mh_app *app, struct mh_request *r);
void mh_api_trap(struct mh_app *app, struct mh_request *r);
void mh_api_campaigns(struct mh_app *app, struct mh_request *r);
void mh_api_campaign_create(struct mh_app *app, struct mh_request *r);
void mh_api_campaign(struct mh_app *app, struct mh_request *r);
void mh_api_campaign_patch(struct mh_app *app, struct mh_request *r);
void mh_api_campaign_delete(struct mh_app *app, struct mh_request *r);
/* api_campaign_stats.c */
void mh_api_campaigns_stats(struct mh_app *app, struct mh_request *r);
void mh_api_campaign_stats(struct mh_app *app, struct mh_request *r);
void mh_api_campaign_messages(struct mh_app *app, struct mh_request *r);
void mh_api_campaign_audience(struct mh_app *app, struct mh_request *r);

/* --- api_notifications.c: what the notification routes share. */
/* Whether r's asker may see and change anyone's notifications: an admin,
 * or a token with notifications:write. */
int mh_notifications_anyone(const struct mh_request *r);
/* Sends text (a {"kind", "user_id"} message) to the relay, for that
 * user's channel; best effort. */
void mh_nt_signal(struct mh_app *app, const char *text);
/* Answers a page of notifications: user's (and their unread count, when
 * the path named the user), or those the query names. */
void mh_nt_list(struct mh_app *app, struct mh_request *r, const char *user);

/* --- page.c: what the API's answers share (its own header, read here,
 * where what it builds on is declared). */
#include "page.h"

/* --- drain.c: turning inbox entries into events after the answer. */
/* What a drain needs: storage, a copy of the settings it reads, its own
 * relay connection and retention clock. */
struct mh_drainer {
	struct mh_store *store;
	struct mh_config cfg;	/* home and retention */
	struct mh_notifier relay;
	int64_t pruned_at;	/* when retention last ran here */
	int checkpoint_apart;	/* a thread of its own checkpoints */
	/* The machine rules (rules.c): whence (NULL: built in), and the
	 * file's state when read. */
	struct mh_machine_rules *rules;
	char *rules_from;
	int64_t rules_mtime, rules_size, rules_looked;
};
/* The machine rules to derive with now (rules.c): the built-in ones, or
 * MAILHOOKS_MACHINE_RULES's, read again when it changed. */
const struct mh_machine_rules *mh_drainer_rules(struct mh_drainer *dr);
/* Drains what waits for this process, the nown receipts in own (that it
 * put) first, then, with walk, the rest of the inbox (mh_store_drain),
 * and applies the retention now and then. Returns how it ended
 * (MH_STORE_RECOVER: the handle is to be reopened). */
enum mh_store_err mh_drain(struct mh_drainer *dr, const uint64_t *own,
    size_t nown, int walk);
/* Frees what the drainer holds (not the storage handle). */
void mh_drainer_free(struct mh_drainer *dr);

/* --- worker.c: the FastCGI process's drain and checkpoint threads. */
struct mh_worker;
/* Starts the threads; NULL (logged) when it cannot, and the caller drains
 * after each answer itself. Stop them with mh_worker_stop. */
struct mh_worker *mh_worker_start(void);
/* Asks for a drain of app->store with app's settings, the receipt the
 * request put first; returns at once. -1 when it cannot be asked (no
 * storage, no memory). */
int mh_worker_kick(struct mh_worker *w, const struct mh_app *app,
    uint64_t receipt);
/* Between these two the accept loop has the storage handle in app->store
 * (a request); outside them the worker keeps it, and may reopen it when a
 * drain found it broken. */
void mh_worker_enter(struct mh_worker *w, struct mh_app *app);
void mh_worker_leave(struct mh_worker *w, struct mh_app *app);
/* Reopens app->store with the threads held off it, when a request or a
 * drain found it needs that (broken set, or a drain reported it). */
void mh_worker_mend(struct mh_worker *w, struct mh_app *app, int broken);
/* Lets a drain that was asked for run, then ends the threads, hands back
 * the storage handle in app->store and frees w (NULL is allowed). */
void mh_worker_stop(struct mh_worker *w, struct mh_app *app);

/* --- app.c: the process's storage handle. */
/* Opens app->store when it is not open (where the data lives may only be
 * be known from the first request), and sets how it commits; makes the
 * first admin of a site that has no user. */
void mh_app_open_store(struct mh_app *app, const struct mh_request *r);
/* Reopens app->store after a failure. */
void mh_app_reopen(struct mh_app *app);

#endif

/*
 * mailhooks.fcgi: types and prototypes shared by the FastCGI program's files.
 */
#ifndef MAILHOOKS_H
#define MAILHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include <fcgiapp.h>
#include <json-c/json_types.h>

#include "../db/store.h"

struct json_object;

/* Default and hard ceilings. */
#define MH_MAX_BODY_DEFAULT (16u * 1024 * 1024)
#define MH_MANDRILL_MAX_EVENTS 1000
#define MH_INFOBIP_MAX_ITEMS 1000
#define MH_API_LIMIT_DEFAULT 50
#define MH_API_LIMIT_MAX 500

/* The process configuration: the environment, or what the server passes
 * with each request where it cannot set one (see main.c). */
struct mh_config {
	char *home;		/* MAILHOOKS_HOME */
	char *mandrill_keys;	/* MANDRILL_WEBHOOK_KEY, or NULL */
	char *mandrill_url;	/* MANDRILL_WEBHOOK_URL, or NULL */
	char *infobip_token;	/* INFOBIP_WEBHOOK_TOKEN, or NULL */
	size_t max_body;	/* MAILHOOKS_MAX_BODY */
	int test_events;	/* MAILHOOKS_TEST_EVENTS=1 */
	int fsync;		/* MAILHOOKS_FSYNC, 1 unless set to 0 */
	int64_t raw_max_age;	/* MAILHOOKS_RAW_MAX_AGE_DAYS, in seconds */
	uint64_t raw_max_bytes;	/* MAILHOOKS_RAW_MAX_MB, in bytes */
};

/* Defaults of the raw-body retention. */
#define MH_RAW_MAX_AGE_DAYS 30
#define MH_RAW_MAX_MB 1024
/* How often a process applies the retention, at most. */
#define MH_PRUNE_EVERY 60

/* --- config.c: the settings, from the environment or the request. */
/* Reads every setting for a request (envp may be NULL); the strings are
 * owned by cfg. -1 with a message on stderr when one is malformed. */
int mh_config_read(struct mh_config *cfg, char **envp);
/* Reads the raw-body retention settings alone. */
int mh_config_retention(struct mh_config *cfg, char **envp);
void mh_config_free(struct mh_config *cfg);

/* --- alloc.c: allocation that logs and returns NULL, never aborts. */
void *mh_malloc(size_t n);
void *mh_calloc(size_t n, size_t size);
void *mh_realloc(void *p, size_t n);
char *mh_strndup(const char *s, size_t n);
char *mh_strdup(const char *s);

/* --- form.c: application/x-www-form-urlencoded, pure. */
struct mh_form_field {
	char *key;
	size_t key_len;
	char *value;		/* decoded, NUL-terminated, may hold NULs */
	size_t value_len;
};

struct mh_form {
	struct mh_form_field *fields;
	size_t count;
};

enum mh_form_err {
	MH_FORM_OK = 0,
	MH_FORM_BAD_ESCAPE,	/* '%' not followed by two hex digits */
	MH_FORM_EMPTY_KEY,	/* "=value" or a bare "&&" holding data */
	MH_FORM_DUP_KEY,	/* the same key twice */
	MH_FORM_NOMEM,
};

/* Decodes body into out (freed with mh_form_free, also after an error).
 * Fields come back sorted by key, bytewise. */
enum mh_form_err mh_form_parse(const char *body, size_t len,
    struct mh_form *out);
const struct mh_form_field *mh_form_get(const struct mh_form *f,
    const char *key);
void mh_form_free(struct mh_form *f);
const char *mh_form_strerror(enum mh_form_err err);
/* Percent-decodes in place ('+' is a space when plus is set); returns the
 * new length or -1 on a malformed escape. */
long mh_percent_decode(char *s, size_t len, int plus);

/* --- signature.c: X-Mandrill-Signature and shared tokens. */
/* Writes base64(HMAC-SHA1(key, url + each key and value)) to out, which
 * holds at least 29 bytes. Returns 0, or -1 when out of memory. */
int mh_signature_compute(const char *key, size_t key_len, const char *url,
    const struct mh_form *form, char out[29]);
/* 1 when header matches the signature under any of the comma-separated
 * keys, compared in constant time; 0 otherwise. */
int mh_signature_verify(const char *keys, const char *url,
    const struct mh_form *form, const char *header);
/* 1 when the two secrets are equal, in time independent of both. */
int mh_secret_equal(const char *a, size_t alen, const char *b, size_t blen);
/* The password of an "Authorization: Basic ..." header value, or NULL;
 * the caller frees it. */
char *mh_basic_password(const char *authorization);

/* --- shape.c: shape checks declared as tables, pure. */
#define MH_T(type) (1u << (type))
#define T_STR MH_T(json_type_string)
#define T_NUM (MH_T(json_type_int) | MH_T(json_type_double))
#define T_OBJ MH_T(json_type_object)
#define T_ARR MH_T(json_type_array)
#define T_BOOL MH_T(json_type_boolean)
#define T_NULL MH_T(json_type_null)

/* One field an object of a given shape (and kind) must or may hold, and
 * the JSON types it may have. */
struct mh_rule {
	int shape;		/* the provider's shape enum */
	const char *only_for;	/* the kind it applies to, or NULL for all */
	const char *parent;	/* object holding the field, or NULL for top */
	const char *field;
	unsigned types;		/* T_* bits */
	int required;		/* missing (or an empty string) is an error */
};

/* Checks obj against the rules for shape and kind; -1 with why filled
 * (naming the field) on the first violation. */
int mh_shape_check(struct json_object *obj, const struct mh_rule *rules,
    size_t nrules, int shape, const char *kind, char *why, size_t whylen);
const char *mh_type_name(enum json_type t);
/* obj[key] when it is a string, else NULL. */
const char *mh_get_str(struct json_object *obj, const char *key);
/* The element of the NULL-terminated list equal to s, or NULL. */
const char *mh_in_list(const char *s, const char *const *list);

/* --- mandrill.c: parsing and normalising Mandrill events, pure. */
/* Parses a mandrill_events value and checks every event's shape. On
 * success *events is the array (caller puts it) and 0 is returned; on
 * failure -1, with a message naming the bad event in detail. */
int mh_mandrill_parse(const char *text, size_t len,
    struct json_object **events, char *detail, size_t detail_len);
/* Normalises a parsed, validated event; out->json and out->identity are
 * owned by the caller. received_at and receipt are copied in. */
int mh_mandrill_normalise(struct json_object *event, const char *received_at,
    uint64_t receipt, struct mh_event *out);

/* --- infobip.c: parsing and normalising Infobip callbacks, pure. */
/* Parses a callback body of any of its three shapes and checks every
 * report or tracking event. On success *items is an array of them (caller
 * puts it); on failure -1 with the problem, and the index in a batch, in
 * detail. */
int mh_infobip_parse(const char *text, size_t len,
    struct json_object **items, char *detail, size_t detail_len);
/* Normalises one checked item: out->json is the event, out->entity the
 * email_callback; both, and out->identity, owned by the caller. */
int mh_infobip_normalise(struct json_object *item, const char *received_at,
    uint64_t receipt, struct mh_event *out);
/* callbackData decoded: JSON, else a Python dict's repr; NULL when it is
 * neither. The caller puts the result. */
struct json_object *mh_callback_data(const char *text, size_t len);
/* qj_contact_id from decoded callbackData when it is a whole number (or a
 * string holding one): 0 and *out, else -1. */
int mh_qj_contact_id(struct json_object *data, int64_t *out);
/* ISO 8601 time ("2024-07-16T17:26:54.966-0300", "...Z", "...+03:00") to
 * Unix seconds: 0, or -1 when it is not one. */
int mh_iso_time(const char *s, int64_t *out);
/* The Infobip statuses a filter may name, NULL-terminated. */
extern const char *const mh_infobip_statuses[];

/* --- pyrepr.c: Python literals (repr of dict, list, str...) as JSON. */
/* Parses all of text as one literal into *out (NULL for None; the caller
 * puts it). Returns -1 when it is not one. */
int mh_pyrepr_parse(const char *text, size_t len, struct json_object **out);

/* --- json.c: strict parsing and compact printing. */
/* Parses exactly one JSON value from text, validating UTF-8, with a
 * nesting limit. Returns NULL with a reason in detail. */
struct json_object *mh_json_parse(const char *text, size_t len, char *detail,
    size_t detail_len);
const char *mh_json_text(struct json_object *o);
/* The ISO 8601 UTC form of now, with milliseconds: out holds 32 bytes. */
void mh_now_iso(char out[32]);

/* --- request.c: one request, over FastCGI or as a plain CGI program. */
struct mh_request {
	FCGX_Request *fcgi;	/* NULL when run as a CGI program (stdio) */
	char **envp;		/* the request's parameters */
	const char *auth_challenge;	/* WWW-Authenticate for a 401 */
	const char *provider;	/* set on a webhook route: its refusals are logged */
	int status;		/* the status answered */
	char error[48];		/* and, for an error, its code and detail */
	char detail[512];
	const char *method;
	char *path;		/* percent-decoded, without the query */
	const char *query;	/* raw, without '?', "" when none */
	char *body;		/* NUL-terminated */
	size_t body_len;
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
char *mh_request_url(const struct mh_request *r);
/* The value of one query parameter, decoded; caller frees. NULL when absent;
 * *bad is set when present but malformed. */
char *mh_query_get(const char *query, const char *name, int *bad);
void mh_request_free(struct mh_request *r);

/* --- respond.c: JSON answers. */
void mh_respond_json(struct mh_request *r, int status, const char *json);
/* Answers {"error": code, "detail": printf(fmt, ...)}. */
void mh_respond_error(struct mh_request *r, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* --- the handlers, and what they share. */
struct mh_app {
	struct mh_config *cfg;
	struct mh_store *store;
	int notify_fd;			/* datagram socket to the relay, or -1 */
	uint64_t own_receipt;		/* receipt put by this request */
	int store_broken;		/* reopen after this request */
	int relay_warned;		/* relay gave up on this drain */
	int warned;			/* unset secrets logged */
	int64_t pruned_at;		/* when retention last ran here */
	int checkpoint_apart;		/* a thread of its own checkpoints */
};

void mh_mandrill_handle(struct mh_app *app, struct mh_request *r);
void mh_infobip_handle(struct mh_app *app, struct mh_request *r);
void mh_api_callbacks(struct mh_app *app, struct mh_request *r);
void mh_api_stats(struct mh_app *app, struct mh_request *r);
void mh_test_event_handle(struct mh_app *app, struct mh_request *r);
void mh_api_events(struct mh_app *app, struct mh_request *r);
void mh_api_message(struct mh_app *app, struct mh_request *r, const char *id);
void mh_api_health(struct mh_app *app, struct mh_request *r);
/* Answers 503 for a storage error and notes whether to reopen. */
void mh_respond_store_error(struct mh_app *app, struct mh_request *r,
    enum mh_store_err err);

/* --- drain.c: turning inbox entries into events (after the answer). */
int mh_derive(void *ctx, const struct mh_raw *raw, struct mh_event **events,
    size_t *count, char *why, size_t whylen);
/* Drains what waits for this process, the nown receipts in own (that it
 * put) first, then, with walk, the rest of the inbox (mh_store_drain);
 * returns how it ended (a storage that needs reopening also sets
 * app->store_broken). */
enum mh_store_err mh_drain(struct mh_app *app, const uint64_t *own,
    size_t nown, int walk);

/* --- worker.c: the FastCGI process's drain thread. */
struct mh_worker;
/* Starts the thread; NULL (logged) when it cannot, and the caller drains
 * after each answer itself. Stop it with mh_worker_stop. */
struct mh_worker *mh_worker_start(void);
/* Asks for a drain of app->store with app's settings and own receipt;
 * returns at once. -1 when it cannot be asked (no storage, no memory). */
int mh_worker_kick(struct mh_worker *w, const struct mh_app *app);
/* Between these two the accept loop uses the storage handle (a request);
 * outside them the thread may reopen a handle a drain found broken, and
 * mh_worker_enter hands the new one to app->store. */
void mh_worker_enter(struct mh_worker *w, struct mh_app *app);
void mh_worker_leave(struct mh_worker *w);
/* Waits for a drain or checkpoint in progress to end and keeps the threads
 * off the storage handle until mh_worker_release, for the caller to reopen
 * it (which clears what mh_worker_broken reports). */
void mh_worker_hold(struct mh_worker *w);
void mh_worker_release(struct mh_worker *w);
/* 1 when a drain found that the storage handle needs reopening. */
int mh_worker_broken(struct mh_worker *w);
/* Lets a drain that was asked for run, then ends the thread, hands back
 * the storage handle in app->store and frees w (NULL is allowed). */
void mh_worker_stop(struct mh_worker *w, struct mh_app *app);

/* --- notify.c: best-effort datagrams to the relay. */
/* Sends one event (ctx is the struct mh_app); connects on first use. */
void mh_notify_event(void *ctx, uint64_t seq, const char *json, size_t len);
/* Closes the connection after a drain. */
void mh_notify_done(struct mh_app *app);
/* 1 when the relay's socket accepts a connection. */
int mh_relay_up(const char *home);

#endif

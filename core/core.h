/*
 * What every mailhooks program links: the settings, allocation, the
 * providers' parsers and normalisers (form, signature, JSON, shapes,
 * Mandrill, Infobip, Python repr), the event types, times, turning an
 * inbox entry into events, and the datagram to the relay. It needs
 * neither FastCGI nor the storage layer: the FastCGI program, the admin
 * tool and the drain all link it; only the program links the HTTP side
 * (mailhooks.h). The storage layer's types (struct mh_event, mh_entry,
 * mh_deriver) are declared in db/store.h.
 */
#ifndef MH_CORE_H
#define MH_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json_types.h>

#include "access.h"
#include "phone.h"
#include "records.h"

struct mh_entry;
struct mh_event;
struct mh_deriver;

/* The version, as /metrics and the API's description give it. */
#define MH_VERSION "0.3.0"

/* Default and hard ceilings. */
#define MH_MAX_BODY_DEFAULT (16u * 1024 * 1024)
#define MH_MANDRILL_MAX_EVENTS 1000
#define MH_INFOBIP_MAX_ITEMS 1000
/* Room for the trap link's address (core/trap.c): a site's URL and
 * /api/trap; a longer site has no trap link. */
#define MH_TRAP_URL_MAX 1100

/* --- config.c: the process configuration. */
/* Each setting comes from the environment or, where none can be set for
 * the program (an .htaccess may only SetEnv, which reaches it with each
 * request), from the request's parameters. */
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
	int64_t event_max_age;	/* MAILHOOKS_EVENT_MAX_AGE_DAYS, in seconds;
				 * 0: events are kept forever */
	int64_t session_idle;	/* MAILHOOKS_SESSION_IDLE, in seconds */
	int trust_remote_user;	/* MAILHOOKS_TRUST_REMOTE_USER=1 */
	int remote_user_create;	/* MAILHOOKS_REMOTE_USER_CREATE=1 */
	int metrics_public;	/* MAILHOOKS_METRICS_PUBLIC=1 */
	char *allowed_origins;	/* MAILHOOKS_ALLOWED_ORIGINS, or NULL */
	char *public_url;	/* MAILHOOKS_PUBLIC_URL (a valid one), or NULL */
	unsigned notify_types;	/* MAILHOOKS_NOTIFY_ON, as type bits */
	/* MAILHOOKS_DEFAULT_REGION (RU, US): where a phone written
	 * nationally is read; "": a phone needs its country code. */
	char default_region[3];
	char *machine_rules;	/* MAILHOOKS_MACHINE_RULES: a file, or NULL */
	int notify_machine;	/* MAILHOOKS_NOTIFY_MACHINE=1 */
	char trap_url[MH_TRAP_URL_MAX];	/* the trap link's address: the site's
				 * /api/trap, "" without MAILHOOKS_PUBLIC_URL */
};

/* A session ends after this long without a request (the default of
 * MAILHOOKS_SESSION_IDLE), and after MH_SESSION_MAX in any case. */
#define MH_SESSION_IDLE_DEFAULT (12 * 3600)
#define MH_SESSION_MAX (30 * 86400)
#define MH_IDEM_TTL 86400	/* an idempotency key's life, then it goes */

/* Defaults of the raw-body retention. */
#define MH_RAW_MAX_AGE_DAYS 30
#define MH_RAW_MAX_MB 1024

/* Reads every setting (params, NAME=VALUE strings, may be NULL); the
 * strings are owned by cfg. -1 with a message on stderr when one is
 * malformed. */
int mh_config_read(struct mh_config *cfg, char **params);
/* Reads the raw-body retention settings alone. */
int mh_config_retention(struct mh_config *cfg, char **params);
/* Copies of what a drain reads of from (home and retention) into to;
 * 0, or -1 out of memory. */
int mh_config_copy_drain(struct mh_config *to, const struct mh_config *from);
void mh_config_free(struct mh_config *cfg);
/* The value of name among NAME=VALUE strings, or NULL. */
const char *mh_param_get(char **params, const char *name);

/* A whole number setting within [min, max] (dflt when unset) into *out;
 * -1, said on stderr, when it is something else. */
int mh_setting_number(char **params, const char *name,
    unsigned long long dflt, unsigned long long min, unsigned long long max,
    unsigned long long *out);

/* --- number.c */
/* s as a whole number, all of it decimal digits, at most max: 0, or -1. */
int mh_parse_uint(const char *s, unsigned long long max,
    unsigned long long *out);
/* The value of a hex digit, or -1. */
int mh_hexval(int c);

/* --- alloc.c: allocation that logs and returns NULL, never aborts. */
void *mh_malloc(size_t n);
void *mh_calloc(size_t n, size_t size);
void *mh_realloc(void *p, size_t n);
char *mh_strndup(const char *s, size_t n);
char *mh_strdup(const char *s);
void mh_heap_setup(void);	/* at start: large buffers mapped apart */
void mh_heap_trim(void);	/* now and then: freed pages back */

/* --- buf.c: a growing text; failed once an allocation failed. */
struct mh_buf {
	char *p;
	size_t len, cap;
	int failed;
};
void mh_buf_add(struct mh_buf *b, const char *s, size_t n);
void mh_buf_str(struct mh_buf *b, const char *s);
void mh_buf_printf(struct mh_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- csv.c: CSV both ways (RFC 4180), pure. */
/* One field of a row into b, a comma before it unless first: quoted when
 * it holds a comma, a quote or a line break; a value a spreadsheet would
 * run as a formula (=, +, -, @ first) led by a quote mark, so that it
 * reads as text. NULL: empty. */
void mh_csv_field(struct mh_buf *b, const char *v, int first);
#define MH_CSV_FIELDS_MAX 32
/* A record read: its fields (NUL-ended, in buf, which the caller frees
 * once done with every record) and how many lines it took. */
struct mh_csv_record {
	struct mh_buf buf;
	const char *cell[MH_CSV_FIELDS_MAX];
	size_t n;
	size_t lines;
};
/* Reads the record at *p (text up to end; a line ends in LF or CRLF;
 * quoted fields may hold commas, "" and line breaks) into rec, moving *p
 * past it: 1, 0 at the end, or -1 with why when it is malformed (*p then
 * past its line, rec->lines counted). */
int mh_csv_next(const char **p, const char *end, struct mh_csv_record *rec,
    char *why, size_t whylen);

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
/* The value of one field of a query string, decoded; caller frees. NULL
 * when absent, or with *bad set: MH_QUERY_MALFORMED, MH_QUERY_REPEATED
 * (a field given twice is refused, as in a form). */
char *mh_query_get(const char *query, const char *name, int *bad);
#define MH_QUERY_MALFORMED 1
#define MH_QUERY_REPEATED 2

/* Is the Content-Type's media type (before any parameter) this one? */
int mh_media_type_is(const char *ctype, const char *type);
/* --- signature.c: X-Mandrill-Signature and shared secrets. */
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

/* --- json_check.c: JSON's syntax, by its RFC, pure. */
/* 0 when text is one JSON value (and white space), nested at most
 * max_depth, with no \u0000, unpaired surrogate or number a double cannot
 * hold; else -1 with where and why in why. */
int mh_json_check(const char *text, size_t len, int max_depth, char *why,
    size_t whylen);
/* 1 when text is UTF-8 (shortest forms, no surrogates), else 0. */
int mh_utf8_valid(const char *text, size_t len);
/* Makes text UTF-8 in place: each byte that begins no valid sequence (a
 * stray byte, a sequence cut short by a "%.40s") becomes '?'. For words
 * that quote what a client sent. */
void mh_utf8_scrub(char *text);
/* The characters (UTF-8 sequences) of s, UTF-8 already. */
size_t mh_utf8_chars(const char *s);
/* Whether s holds a control character (CR, LF and tab among them). */
int mh_has_control(const char *s);

/* --- json.c: strict parsing, compact printing, and small accessors. */
/* Parses exactly one JSON value from text, validating UTF-8, with a
 * nesting limit. Returns NULL with a reason in detail. */
struct json_object *mh_json_parse(const char *text, size_t len, char *detail,
    size_t detail_len);
/* A stored record's text (len bytes) as an answer may carry it: itself
 * when it is JSON, else (a record an earlier version stored unchecked,
 * say with a NaN) a stand-in naming id, written into buf; *len follows. */
const char *mh_json_stored(const char *json, size_t *len, uint64_t id,
    char buf[64]);
/* The compact text of o, owned by o. */
const char *mh_json_text(struct json_object *o);
/* o[key], or NULL when o is NULL or has no such key. */
struct json_object *mh_json_get(struct json_object *o, const char *key);
/* o[key] when it is a string, else NULL. */
const char *mh_json_str(struct json_object *o, const char *key);
/* o[key] as a 64-bit integer, 0 when absent. */
int64_t mh_json_int(struct json_object *o, const char *key);
/* The text of a string, or of a number as it was written (json_check.c
 * lets through no number json-c would change); "" for anything else.
 * Caller frees; NULL out of memory. */
char *mh_json_scalar(struct json_object *v);
/* An mh_answer_fn (db/store.h) of one record added (ctx, a struct
 * mh_added): its text led by its id, which it notes; caller frees. */
struct mh_added { const struct mh_record *rec; uint64_t id; };
char *mh_record_answer(void *ctx, uint64_t first, size_t n);
/* Sets o[key] to the string s, or to null when s is NULL. */
void mh_json_set_str(struct json_object *o, const char *key, const char *s);
/* Sets to[to_key] to from[key] when from has it, not null; else leaves
 * to alone (with or_null: sets null). */
/* The values of one key of each object of list, MH_VALUE_SEP apart (of
 * each string of list when key is NULL): a record's field of several
 * values. Malloc'd; NULL out of memory. */
char *mh_json_joined(struct json_object *list, const char *key);
/* Whether list (a JSON array; NULL or another type: none) holds the
 * string s. */
int mh_json_list_has(struct json_object *list, const char *s);
void mh_json_copy(struct json_object *to, const char *to_key,
    struct json_object *from, const char *key, int or_null);

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
/* The element of the NULL-terminated list equal to s, or NULL. */
const char *mh_in_list(const char *s, const char *const *list);

/* --- event_types.c: the shared event model and its one table of types. */
/* What a type means to its message's summary, and to Mandrill. */
#define MH_TYPE_STATE 1u	/* moves the message's state */
#define MH_TYPE_OPEN 2u		/* counted as an open */
#define MH_TYPE_CLICK 4u	/* counted as a click */
#define MH_TYPE_MESSAGE 8u	/* one of Mandrill's message events */
#define MH_TYPE_SENT 16u	/* the message left or arrived: a prefetch
				 * is judged from its time */

struct mh_event_type {
	const char *name;
	unsigned flags;
};

/* Every type, in the order answers list them; name NULL ends it. */
extern const struct mh_event_type mh_event_types[];
/* The index of the type of that name (len bytes) in mh_event_types, or
 * -1. */
int mh_event_type_index(const char *name, size_t len);
/* The flags of a type, 0 for none we know. */
unsigned mh_event_type_flags(const char *name);
/* A new event (the caller puts it) with the fields every provider's
 * starts with; a NULL email or subject is "". */
struct json_object *mh_event_new(const char *provider, const char *type,
    const char *message_id, const char *email, const char *subject,
    int64_t ts, const char *received_at, uint64_t receipt);

/* The types whose events notify the user whose mail it was: bit i for
 * mh_event_types[i]; "open,click" unless MAILHOOKS_NOTIFY_ON says. */
unsigned mh_notify_types_default(void);
/* "open,click" (or "none") into those bits; -1 for a name that is not an
 * open's or a click's type. */
int mh_notify_types_parse(const char *list, unsigned *out);

/* --- isotime.c: times. */
/* The time now in Unix milliseconds. */
int64_t mh_now_ms(void);
/* The ISO 8601 UTC form of a time in Unix milliseconds: out holds 32
 * bytes. */
void mh_iso_from_ms(int64_t ms, char out[32]);
/* ISO 8601 time ("2024-07-16T17:26:54.966-0300", "...Z", "...+03:00") to
 * Unix seconds: 0, or -1 when it is not one. */
int mh_iso_time(const char *s, int64_t *out);

/* --- mandrill.c: parsing and normalising Mandrill events, pure. */
/* Parses a mandrill_events value and checks every event's shape. On
 * success *events is the array (caller puts it) and 0 is returned; on
 * failure -1, with a message naming the bad event in detail. */
int mh_mandrill_parse(const char *text, size_t len,
    struct json_object **events, char *detail, size_t detail_len);

/* A normalised event: the event as the API shows it and, optionally, the
 * provider's own record of it (an Infobip email_callback), both owned by
 * the caller (json_object_put); the identity for the duplicate check,
 * malloc'd. */
struct mh_normal {
	struct json_object *event;
	struct json_object *entity;
	char *identity;
};

/* Normalises a parsed, validated event; received_at and receipt are
 * copied in. */
int mh_mandrill_normalise(struct json_object *event, const char *received_at,
    uint64_t receipt, struct mh_normal *out);

/* --- infobip.c: Infobip callbacks, pure. */
/* Parses a callback body of any of its three shapes and checks every
 * report or tracking event. On success *items is an array of them (caller
 * puts it); on failure -1 with the problem, and the index in a batch, in
 * detail. */
int mh_infobip_parse(const char *text, size_t len,
    struct json_object **items, char *detail, size_t detail_len);
/* Normalises one checked item: out->event is the event, out->entity the
 * email_callback. */
int mh_infobip_normalise(struct json_object *item, const char *received_at,
    uint64_t receipt, struct mh_normal *out);
/* callbackData decoded: JSON, else a Python dict's repr; NULL when it is
 * neither. The caller puts the result. */
struct json_object *mh_callback_data(const char *text, size_t len);
/* qj_contact_id from decoded callbackData when it is a whole number (or a
 * string holding one): 0 and *out, else -1. */
int mh_qj_contact_id(struct json_object *data, int64_t *out);
/* The Infobip statuses a filter may name, NULL-terminated. */
extern const char *const mh_infobip_statuses[];
/* The Infobip status of a checked item: a report's status.groupName, a
 * tracking event's notificationType. */
const char *mh_infobip_status(struct json_object *item, int tracking);
/* The event type of an Infobip status (permanent: the report's error
 * says so), or NULL for a status not known. */
const char *mh_infobip_type(const char *status, int permanent);

/* --- pyrepr.c: Python literals (repr of dict, list, str...) as JSON. */
/* Parses all of text as one literal into *out (NULL for None; the caller
 * puts it). Returns -1 when it is not one. */
int mh_pyrepr_parse(const char *text, size_t len, struct json_object **out);

/* --- identity.c: an event's identity for the duplicate check. */
/* "provider:kind:" and the hex SHA-256 of text (len bytes); caller frees,
 * NULL out of memory. */
char *mh_identity(const char *provider, const char *kind, const char *text,
    size_t len);
/* The same of o's compact JSON text: what the provider sent of an event
 * (a retry repeats it byte for byte). */
char *mh_identity_of(const char *provider, const char *kind,
    struct json_object *o);

/* --- machine.c: a machine's open or click told from a person's, pure. */
struct mh_machine_rules;
/* Parses rules (core/machine-rules.txt says how: KIND VALUE a line):
 * NULL with why ("line N: ..."). Free with mh_machine_rules_free. */
struct mh_machine_rules *mh_machine_rules_parse(const char *text, size_t len,
    char *why, size_t whylen);
void mh_machine_rules_free(struct mh_machine_rules *rs);
/* The rules shipped with the program (core/machine-rules.txt, built in),
 * its length. */
extern const char mh_machine_rules_default[];
extern const size_t mh_machine_rules_default_len;
/* Those parsed (mh_machine_rules_free), or NULL out of memory. */
struct mh_machine_rules *mh_machine_rules_builtin(void);
/* The rules of the file at path (at most 1 MiB), or NULL with why. */
struct mh_machine_rules *mh_machine_rules_load(const char *path, char *why,
    size_t whylen);
/* Those of path (MAILHOOKS_MACHINE_RULES; NULL or "": none) when it loads,
 * else the built-in ones, why saying what was wrong with path ("" when
 * nothing was). */
struct mh_machine_rules *mh_machine_rules_for(const char *path, char *why,
    size_t whylen);
/* The windows of a burst and of a prefetch, in seconds. */
int mh_machine_burst_s(const struct mh_machine_rules *rs);
int mh_machine_prefetch_s(const struct mh_machine_rules *rs);
/* What made an open (open 1) or a click: machine, the reason ("apple_mpp",
 * "scanner") or NULL for a person; proxy, the mail service whose image
 * proxy fetched for the person ("gmail", "yahoo") or NULL. Static texts. */
struct mh_machine_verdict {
	const char *machine;
	const char *proxy;
};
void mh_machine_classify(const struct mh_machine_rules *rs, int open,
    const char *ua, const char *ip, struct mh_machine_verdict *v);

/* --- trap.c: the invisible link only a machine follows. */
/* The trap link's address on the site public_url into out: 0, or -1
 * when there is no site or it does not fit. */
int mh_trap_url(const char *public_url, char *out, size_t cap);
/* html with the trap link to trap_url hidden before its end (its last
 * </body>, else its end): malloc'd, NULL out of memory or when the
 * address cannot stand in an attribute as it is. */
char *mh_trap_html(const char *html, const char *trap_url);

/* --- verdict.c: the verdicts that need the message's history. */
struct mh_fold;
/* What a machine's open or click is counted under per hour: this, then
 * its type ("machine:open"); /api/stats reads it back. */
#define MH_MACHINE_COUNTED "machine:"

/* Judges ev (an event of the message whose summary is sum, both parsed;
 * each changed as the verdict goes), stored as f->seq, with f->notes:
 * f->json, f->counted, f->silence and f->amend filled as the verdict
 * says. A send or a delivery only notes when the message went. 0, or -1
 * when out of memory or the notes failed. */
int mh_verdict_judge(const struct mh_deriver *d, struct json_object *sum,
    struct json_object *ev, struct mh_fold *f);
/* The verdicts on a batch's clicks judged together, before any is
 * stored: a message's clicks from one address on different links within
 * burst-seconds are a burst's; with one on the trap link, all are a
 * scanner's. Each event of n[0..count) changed as it says. 0, or -1 out
 * of memory. */
int mh_verdict_batch(const struct mh_deriver *d, struct mh_normal *n,
    size_t count);
/* The deriver's amend: an earlier event (its stored text) as the
 * message's summary now says (mh_deriver's amend). */
int mh_verdict_amend(const struct mh_deriver *d, const char *summary,
    const char *json, char **amended, char *counted);

/* --- derive.c: inbox entries into events, and message summaries. */
/* Makes the storage layer's event of a normalised one, which it takes
 * over (n's objects are put, its identity moved). 0, or -1 out of
 * memory. */
int mh_event_from_normal(struct mh_normal *n, struct mh_event *out);
/* An mh_describe_fn: a stored event's time, provider, subject and raw
 * body, read from its JSON (for the storage's reindex). */
int mh_event_describe(void *ctx, const char *json, struct mh_event *ev);
/* An mh_rejudge_fn: a stored event judged anew by d's rules, for the
 * storage's reclassify. */
int mh_event_rejudge(const struct mh_deriver *d, const char *json,
    struct mh_event *ev);
/* The deriver the drain and the admin tool give the storage layer: its
 * derive and fold (summary.c); stored and ctx are the caller's. With
 * stored, ctx is a struct mh_notifier: the notifications events make are
 * announced on it too. Notifies of the default types (notify_types). */
void mh_deriver_init(struct mh_deriver *d,
    void (*stored)(void *ctx, uint64_t seq, const char *json, size_t len),
    void *ctx);

/* --- summary.c: a message's summary, folded one event at a time. */
/* The deriver's fold: f->summary (NULL for none yet) with f->ev, stored
 * under f->seq, folded in (f->folded, malloc'd), the event judged so
 * (verdict.c). 0, or -1 out of memory. */
int mh_summary_fold(const struct mh_deriver *d, struct mh_fold *f);

/* --- password.c: user names, passwords and their hashes. */
#define MH_PASSWORD_MIN 8
#define MH_PASSWORD_MAX 1024
/* Whether name may name a user: 1 to 64 of letters, digits and ._@-. */
int mh_user_name_ok(const char *name);
/* Why pw cannot be a password (a static text), or NULL when it can. */
const char *mh_password_problem(const char *pw);
/* The hash to keep of pw (yescrypt, salted) into out; -1 when pw cannot
 * be a password or the hash does not fit. */
int mh_password_hash(const char *pw, char *out, size_t outlen);
/* 1 when pw is the password hash was made of; compared in constant time. */
int mh_password_check(const char *pw, const char *hash);

/* --- notify.c: best-effort datagrams to the relay. */
struct mh_notifier {
	const char *home;	/* where relay.sock is; the caller's */
	int fd;			/* connected for one drain, or -1 */
	int warned;		/* the relay gave up on this drain */
};
/* Sends one event (ctx is a struct mh_notifier); connects on first use. */
void mh_notify_event(void *ctx, uint64_t seq, const char *json, size_t len);
/* Closes the connection after a drain. */
void mh_notify_done(struct mh_notifier *n);
/* Tells the relay (best effort) that mail id is now of status: the
 * frame {"kind":"mail","id","status"} of its subscription "mail". */
void mh_notify_mail(const char *home, uint64_t id, const char *status);
/* The same of a campaign's message: {"kind":"campaign","campaign_id",
 * "id","status"}, subscription "campaign". */
void mh_notify_campaign(const char *home, uint64_t campaign, uint64_t message,
    const char *status);
/* Tells the pages that email's events are erased: {"kind":"erased",
 * "email"}, subscription "erased". */
void mh_notify_erased(const char *home, const char *email);
/* 1 when the relay's socket accepts a connection. */
int mh_relay_up(const char *home);
#endif

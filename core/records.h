/*
 * The records the application makes for the storage layer to keep, pure
 * (included by core.h): a user's notification, an outgoing mail, and a
 * campaign's client, each checked as a client sent it, made into its
 * record, and changed.
 */
#ifndef MH_RECORDS_H
#define MH_RECORDS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct mh_record;
union mh_fields_ref;
struct mh_lease;
struct mh_queued_next;

/* --- notification.c: a notification checked, made and marked, pure. */
#define MH_NT_USER_MAX 128	/* MH_NOTICE_USER_MAX, the storage's */
/* A notification's user_id as text into out: a string, or a whole
 * number's decimal (a user 42 is "42"); -1 when it is neither, empty, too
 * long or holds a control character. */
int mh_notification_user(struct json_object *v, char out[MH_NT_USER_MAX + 1]);
/* Checks a notification a client sent and makes its record into *out
 * (malloc'd: mh_record_free): 0, or -1 with why. */
int mh_notification_make(struct json_object *in, int64_t now_ms,
    struct mh_record *out, char *why, size_t whylen);
/* The record of a stored notification (fields, JSON) marked read at
 * now_ms, or unread, into *out; -1 when it is not one, or out of memory. */
int mh_notification_mark(const union mh_fields_ref *f, const char *json,
    int read, int64_t now_ms, struct mh_record *out);
/* Whether a stored notification's JSON is about the address ctx (a
 * const char *, any case): the one an event made names its recipient in
 * data.email. For mh_store_erase. */
int mh_notification_names(void *ctx, const char *json);

/* --- mail.c, mail_state.c: outgoing mail, checked and kept, pure. */
#define MH_MAIL_TO_MAX 1000
/* The states of a mail, NULL-terminated. */
extern const char *const mh_mail_statuses[];
/* Whether s is an email address (a dot-atom at a domain of two labels or
 * more, at most 254 bytes). */
int mh_email_ok(const char *s);
/* Whether s can name a recipient whose data is erased: what a provider
 * sent as an address (not always one mh_email_ok takes), so any text of
 * 3 to MH_RECIPIENT_MAX bytes with an '@' between others. */
#define MH_RECIPIENT_MAX 254
int mh_recipient_ok(const char *s);
/* Whether s is a client's phone as stored (E.164's digits, without its
 * '+'), an operator code (one to MH_OPERATOR_MAX digits), a tag (at most
 * MH_CLIENT_TAG_MAX characters, none a control character); a campaign's
 * channel (api, mail); a mail's status. */
#define MH_OPERATOR_MAX 8
#define MH_CLIENT_TAG_MAX 64
#define MH_CLIENT_TAGS_MAX 32
int mh_client_phone_ok(const char *s);
int mh_client_operator_ok(const char *s);
int mh_client_tag_ok(const char *s);
int mh_campaign_channel_ok(const char *s);
int mh_mail_status_ok(const char *s);
/* Checks a mail a client sent (Mandrill's message: to, from_email,
 * subject, html or text, headers, tags, metadata, track_*, send_at);
 * *due_ms is when it is to go (now, or its send_at). -1 with why. */
int mh_mail_check(struct json_object *in, int64_t now_ms, int64_t *due_ms,
    char *why, size_t whylen);
/* Who asked for a mail: kind "user" or "token", and its name. */
struct mh_mail_sender {
	const char *kind;
	const char *name;
};
/* A message to one address, its subject and text, as mh_mail_check reads
 * it but for its from_email (the caller's): a new object. */
struct json_object *mh_mail_to_one(const char *to, const char *subject,
    const char *text);
/* The outbox record of a checked mail, queued (malloc'd: mh_record_free);
 * -1 out of memory. */
int mh_mail_make(struct json_object *in, const struct mh_mail_sender *who,
    int64_t now_ms, int64_t due_ms, struct mh_record *out);
/* The record of a mail's object as it is now (its header fields made
 * from it) into *out; -1 out of memory. */
int mh_mail_record(struct json_object *mail, struct mh_record *out);
/* A queued mail, cancelled; -1 with why when it is not queued. */
int mh_mail_cancel(struct json_object *mail, int64_t now_ms, char *why,
    size_t whylen);
/* A failed or cancelled mail, queued again now; -1 with why when it is
 * neither. */
int mh_mail_retry(struct json_object *mail, int64_t now_ms, char *why,
    size_t whylen);

/* --- fields.c: an object's fields checked against the table declaring
 * them, pure. */
struct mh_field {
	const char *name;
	unsigned types;		/* T_* bits */
	int required;		/* there, not null, not "" */
	/* The check of a value there and not null, NULL when its type is
	 * enough: -1 with why (what follows the field's name). */
	int (*check)(struct json_object *v, char *why, size_t whylen);
};
/* Checks o against the n fields: none it does not name ("KEY is not
 * WHAT"), each of its types and passing its check, and with all the
 * required ones there. -1 with why, naming the field led by where. */
int mh_fields_check(struct json_object *o, const struct mh_field *fields,
    size_t n, int all, const char *what, const char *where, char *why,
    size_t whylen);

/* --- client.c: a campaign's client, checked and kept. */
/* Whether name is a time zone of the system's tz database ($TZDIR, else
 * /usr/share/zoneinfo): an IANA name such as Europe/Moscow. */
int mh_tz_known(const char *name);
/* What making or changing a record reads besides its body: the time,
 * and the region a phone written nationally is read in
 * (MAILHOOKS_DEFAULT_REGION; NULL: a phone needs its country code). */
struct mh_making {
	int64_t now_ms;
	const char *region;
};
/* Checks a client a client sent and makes its record into *out
 * (mh_record_free): phone, as people write it (read by mh_phone_parse;
 * kept as E.164's digits, with its region and phone_type); operator_code,
 * else the phone's national destination code; tags (up to
 * MH_CLIENT_TAGS_MAX), or tag, the seed's one (tag is always the first);
 * timezone; email; opted_out. Its fields: the tags, the operator code,
 * the phone. 0, or -1 with why. */
int mh_client_make(struct json_object *in, const struct mh_making *mk,
    struct mh_record *out, char *why, size_t whylen);
/* The record of the stored client json with the fields of in laid over
 * it (each checked as above; none required). 0, or -1 with why. */
int mh_client_patch(const char *json, struct json_object *in,
    const struct mh_making *mk, struct mh_record *out, char *why,
    size_t whylen);
/* Whether a client's object says it opted out: then it is in no
 * audience and gets no message. */
int mh_client_opted_out(struct json_object *client);

/* --- client_import.c: an import's lines as clients, pure. */
struct mh_csv_record;
/* The columns of an import's CSV: each one's client field ("phone",
 * "tags", "timezone", "email", "operator_code", "opted_out"), or NULL for
 * a column of /api/clients.csv passed over (id, region, ...). */
struct mh_import_header {
	const char *field[32];	/* MH_CSV_FIELDS_MAX */
	size_t n;
};
/* Reads the header row: -1 with why when a column is none of those, or
 * phone or timezone is missing. */
int mh_import_header(const struct mh_csv_record *rec,
    struct mh_import_header *h, char *why, size_t whylen);
/* A row as the object POST /api/clients takes (tags ';' apart, an empty
 * cell not given), or NULL with why. */
struct json_object *mh_import_csv_client(const struct mh_import_header *h,
    const struct mh_csv_record *rec, char *why, size_t whylen);
/* An NDJSON line (len bytes) as that object, or NULL with why. */
struct json_object *mh_import_ndjson_client(const char *line, size_t len,
    char *why, size_t whylen);

/* --- campaign.c: a campaign, checked and kept. */
/* Checks a campaign a client sent (start_at, end_at: ISO 8601 with an
 * offset, the end after the start and after now; text, 1 to 4096
 * characters; filter {operator_codes, tags}; window {from, to} "HH:MM";
 * channel api|mail) and makes its record (fields: "deleted" or "",
 * channel), its times in UTC, into *out (mh_record_free): 0, or an
 * mh_patch_err (MH_PATCH_ENDED: its end has passed) with why. */
int mh_campaign_make(struct json_object *in, const struct mh_making *mk,
    struct mh_record *out, char *why, size_t whylen);
/* Why a change to a stored record was refused. */
enum mh_patch_err {
	MH_PATCH_OK = 0,
	MH_PATCH_INVALID = -1,	/* the change, or the record, does not do */
	MH_PATCH_GONE = -2,	/* the record is deleted: it changes no more */
	MH_PATCH_ENDED = -3,	/* its end has passed: it would do nothing */
};
/* The record of the stored campaign json with the fields of in laid over
 * it, checked whole again; a deleted one is not changed. An mh_patch_err,
 * why said for either refusal. */
int mh_campaign_patch(const char *json, struct json_object *in,
    int64_t now_ms, struct mh_record *out, char *why, size_t whylen);
/* The record of the stored campaign json, deleted (kept, marked so, with
 * its messages and statistics): 0, or -1. */
int mh_campaign_delete(const char *json, int64_t now_ms,
    struct mh_record *out);
/* A campaign's status at now_ms: scheduled, running, finished, deleted. */
const char *mh_campaign_status(struct json_object *c, int64_t now_ms);

/* "HH:MM" into minutes of the day; -1 when it is not one. */
int mh_clock(const char *s);
/* Checks a filter {operator_codes, tags} (each a list, no other key):
 * 0, or -1 with why (what follows "filter "). */
int mh_check_filter(struct json_object *v, char *why, size_t whylen);

/* --- window.c: a daily window in a zone's local time. Each sets TZ to
 * zone in this process: only where no other thread runs. */
/* 0 when now_s is inside the window from_min..to_min of the zone's local
 * day (it may cross midnight), else the window's next opening (Unix s);
 * -1 when unknown. */
int64_t mh_window_next(const char *zone, int64_t now_s, int from_min,
    int to_min);
/* Whether the window opens between from_s and until_s: 1, 0, or -1 when
 * unknown. */
int mh_window_opens(const char *zone, int64_t from_s, int64_t until_s,
    int from_min, int to_min);

/* --- campaign_plan.c: what sending reads of a campaign, pure. */
struct mh_campaign_plan {
	uint64_t id;
	int64_t start_ms, end_ms;
	int deleted;
	int mail;		/* channel mail: else the external API */
	int windowed;		/* sent only from from_min to to_min, local */
	int from_min, to_min;	/* minutes of the day; may cross midnight */
	const char *text;	/* the campaign's, in obj */
	const char *subject;	/* the mail channel's, in obj; NULL: none */
	const char *html;	/* the mail channel's HTML, in obj, or NULL */
	const char *updated;	/* updated_at: moves with each change */
	struct json_object *obj;	/* the campaign (owned) */
};
/* The tag of a campaign's mail, followed by the campaign's id: the
 * report by tag counts its opens and clicks. */
#define MH_CAMPAIGN_TAG "campaign-"
/* The mail of a campaign on the mail channel to the address to (tagged
 * MH_CAMPAIGN_TAG and its id): its
 * subject (a campaign made before it had one: its text's first line), its
 * text, its HTML, and with list_unsubscribe (NULL: none) the headers
 * List-Unsubscribe and List-Unsubscribe-Post (RFC 8058's one-click). A
 * new object, as mh_mail_to_one. */
struct json_object *mh_campaign_mail(const struct mh_campaign_plan *p,
    const char *to, const char *list_unsubscribe);
/* Reads a stored campaign: 0, or -1 when it is not one. Free with
 * mh_campaign_plan_free. */
int mh_campaign_plan_read(const char *json, struct mh_campaign_plan *p);
void mh_campaign_plan_free(struct mh_campaign_plan *p);
/* Whether the client (its object; NULL: none) has not opted out, matches
 * every non-empty list of filter (tags: one of its tags) and, for the
 * mail channel, has an email. */
int mh_filter_matches(struct json_object *filter, int mail,
    struct json_object *client);
/* Whether the client (its object; NULL: none) is one the campaign sends
 * to: it matches every non-empty list of the filter, and has an email
 * for the mail channel. */
int mh_campaign_matches(const struct mh_campaign_plan *p,
    struct json_object *client);

/* --- cmessage.c: a campaign's message, kept, pure. */
/* Its states, NULL-terminated. */
extern const char *const mh_cmessage_statuses[];
/* The record of message m (fields: campaign "/" status, campaign, client)
 * into *out (mh_record_free): 0, or -1 when m is not one. */
int mh_cmessage_record(struct json_object *m, struct mh_record *out);
/* The record of a new message, pending, of campaign to client. */
int mh_cmessage_make(uint64_t campaign, uint64_t client, int64_t now_ms,
    struct mh_record *out);

/* A person's change to a mail (the API's cancel, the admin tool's cancel
 * and retry): the ctx of mh_mail_op_change. */
struct mh_mail_op {
	int retry;		/* else cancel */
	int64_t now_ms;
	int refused;		/* the mail's state does not allow it: why */
	char why[200];
};
/* An mh_queued_fn (db/store_outbox.h) doing a struct mh_mail_op: the mail
 * cancelled and out of the outbox, or queued again and due now. */
int mh_mail_op_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next);

#endif

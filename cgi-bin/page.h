/*
 * page.c: what the API's answers share: pages of records, the cursor and
 * the filters of a list, a record's id in the path, a JSON body. Read
 * inside mailhooks.h, after the request and the storage it builds on.
 */
#ifndef MH_PAGE_H
#define MH_PAGE_H

/* Answers b's text, or 503 when it could not be made; frees it. */
void mh_buf_respond(struct mh_request *r, struct mh_buf *b);

/* A JSON array of stored records being spliced together. */
struct mh_page {
	struct mh_buf buf;
	size_t count;
	uint64_t last;
	size_t last_at, last_len;	/* the last record's text in buf */
	int timed;		/* events newest event time first: the last
				 * one's time is the next cursor's */
};
/* An mh_emit_fn adding each record to a struct mh_page. */
int mh_page_emit(void *ctx, uint64_t seq, const char *json, size_t len);

/* Reads one query parameter; answers 400 and returns -1 when malformed or
 * present but empty. *out is the caller's to free. */
int mh_arg(struct mh_request *r, const char *name, char **out);
/* Reads q, part of an address or a subject (2 to 200 characters), into
 * *text (NULL when not given; the caller's to free); answers 400 and
 * returns -1 when it is too short or too long. */
int mh_search_arg(struct mh_request *r, char **text);
/* Reads type, an event type, into *index (its place in the types' table,
 * -1 when not given); answers 400 and returns -1 when it is none. */
int mh_type_arg(struct mh_request *r, int *index);
/* Reads limit, before and after into q (limit's default in q); answers
 * 400 and returns -1 when one is malformed. */
int mh_cursor_args(struct mh_request *r, struct mh_query *q);
/* A list's filters, declared: each parameter's name, whether a value is
 * one (NULL: any), and what it must be, for the 400 that says so. */
struct mh_filter_spec {
	const char *name;
	int (*valid)(const char *value);
	const char *must;
};
/* Reads the n filters of spec (NULL when absent) into out, the caller's
 * to free; a parameter that is neither one of them nor the cursor's
 * (limit, before, after), or a value that is not valid, is a 400
 * bad_parameter that names it, and -1 (out freed). */
int mh_filter_args(struct mh_request *r, const struct mh_filter_spec *spec,
    size_t n, char **out);
/* The record id in the route's {id} into *id: a whole number from 1,
 * without a sign or leading zeros, at most 19 digits (/api/mail/01 was
 * mail 1), noted on r as what the request is about (its log line names
 * it); answers 400 bad_parameter naming what and returns -1 when it is
 * not one. */
int mh_path_id(struct mh_request *r, const char *what, uint64_t *id);
/* Answers err of the storage about the record what id: 404 not_found
 * for MH_STORE_NOTFOUND, else as mh_respond_store_error. */
void mh_record_error(struct mh_request *r, enum mh_store_err err,
    const char *what, uint64_t id);
/* The record of table t whose id is the route's {id}: 0 with *json (the
 * caller frees), else answered (400, 404, a storage error) and -1. */
int mh_path_record(struct mh_app *app, struct mh_request *r,
    enum mh_table t, const char *what, uint64_t *id, char **json);

/* --- resource.c: a record resource of the API, declared once. */
struct mh_resource {
	const char *what;	/* "client": the log's and the errors' name */
	enum mh_table table;	/* where its records are stored */
	enum mh_error refused;	/* the error of a body refused */
	/* The record of a POST's body: an mh_patch_err, why said for a
	 * refusal (MH_PATCH_ENDED: a 422 already_ended). */
	int (*make)(struct json_object *in, const struct mh_making *mk,
	    struct mh_record *out, char *why, size_t whylen);
	/* Answers the record as stored, with status. */
	void (*respond)(struct mh_app *app, struct mh_request *r, int status,
	    uint64_t id, const char *json);
	/* Answers a storage error of a change to one. */
	void (*store_error)(struct mh_request *r, enum mh_store_err err);
};
/* POST: makes the record of the body, stores it and answers 201 with it;
 * a body refused is a 400 of res->refused. */
void mh_resource_create(struct mh_app *app, struct mh_request *r,
    const struct mh_resource *res);
/* Ends the page being answered (its records' array: pg's text so far
 * ends inside it) with "more" and next_after or next_before, and answers
 * it; frees its text. */
void mh_page_respond(struct mh_request *r, struct mh_page *pg,
    const struct mh_query *q, int more);
/* Answers the page of q's records (an array named key, each added to pg
 * by emit, called with ctx: mh_page_emit with pg itself, or the caller's)
 * as mh_page_respond does; a storage error answered instead. */
void mh_page_query(struct mh_request *r, struct mh_store *st, const char *key,
    const struct mh_query *q, mh_emit_fn emit, void *ctx, struct mh_page *pg);

/* The body of an API request that sends data: JSON (its Content-Type
 * too), one object, at most max bytes, into *out (the caller puts it).
 * Answers 415, 413 or 400 and returns -1 when it is something else. */
int mh_json_body(struct mh_request *r, size_t max, struct json_object **out);
/* The string field of a JSON body, at most max bytes; answers 400 and
 * returns NULL when it is absent, empty, of another type or too long. */
const char *mh_json_field(struct mh_request *r, struct json_object *o,
    const char *key, size_t max);

/* An Idempotency-Key: a request sent again with the same key (by the
 * same asker, to the same kind of route) gets the first answer, within
 * MH_IDEM_TTL seconds (core.h). */
#define MH_IDEM_KEY_MAX 255
/* The request's key, when it gave one, into idem: kind, who asked and
 * the key, written into buf (MH_IDEM_KEY_MAX + MH_USER_NAME_MAX + 32
 * bytes). 0 none, 1 set, -1 answered (malformed). */
int mh_idem_arg(struct mh_request *r, const char *kind, struct mh_idem *idem,
    char *buf, size_t size);
/* Answers a request that added under an Idempotency-Key (or none): 503
 * for err, 422 for a key used for another body, else status with text
 * (the first answer, said to be a replay, when the key was used). */
void mh_idem_respond(struct mh_request *r, enum mh_store_err err,
    enum mh_idem_result res, int status, const char *text);

/* Reads since and until into q's window (since <= ts < until, each end
 * if set); answers 400 and returns -1 when either is malformed or the
 * window is empty. */
int mh_window_args(struct mh_request *r, struct mh_query *q);

/* --- export.c: a table's records as a file. */
struct mh_export_spec {
	const char *name, *ext;	/* the file's: events, csv */
	const char *ctype;
	const char *const *header;	/* the CSV's header row, or NULL */
	/* Writes record id's row into b: 0, or -1 to stop. */
	int (*row)(struct mh_buf *b, uint64_t id, const char *json, size_t len);
};
/* A row of NDJSON: the record as stored. */
int mh_export_ndjson_row(struct mh_buf *b, uint64_t id, const char *json,
    size_t len);
/* Answers every record q keeps (its cursors set here: from the first,
 * oldest first) as spec writes them, a page at a time. */
void mh_export(struct mh_app *app, struct mh_request *r, struct mh_query *q,
    const struct mh_export_spec *spec);

#endif

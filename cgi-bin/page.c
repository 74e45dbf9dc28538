/*
 * What the API's answers share: arrays spliced from stored
 * records (they are compact JSON already), query parameters read strictly,
 * the cursor of a page (limit, before, after; more, next_*), and the time
 * window (since, until).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

void
mh_buf_respond(struct mh_request *r, struct mh_buf *b)
{
	if (b->failed || b->p == NULL)
		mh_respond_nomem(r);
	else
		mh_respond_json(r, 200, b->p);
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int
mh_page_emit(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_page *pg = ctx;
	char stand_in[64];

	json = mh_json_stored(json, &len, seq, stand_in);
	if (pg->count++ > 0)
		mh_buf_add(&pg->buf, ",", 1);
	pg->last_at = pg->buf.len;
	pg->last_len = len;
	mh_buf_add(&pg->buf, json, len);
	pg->last = seq;
	return pg->buf.failed ? -1 : 0;
}

int
mh_arg(struct mh_request *r, const char *name, char **out)
{
	int bad;

	*out = mh_query_get(r->query, name, &bad);
	if (bad || (*out != NULL && **out == '\0')) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "%s is %s", name,
		    bad == MH_QUERY_REPEATED ? "given more than once" :
		    bad ? "badly percent-encoded" : "empty");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
mh_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;

	if (mh_parse_uint(s, UINT64_MAX, &v) != 0)
		return -1;
	*out = v;
	return 0;
}

/* Checks the cursor's values once read; answers 400 and returns -1. */
static int
mh_cursor_check(struct mh_request *r, struct mh_query *q, const char *limit,
    const char *before, const char *after)
{
	uint64_t v;

	if (limit != NULL) {
		if (mh_parse_u64(limit, &v) != 0 || v < 1 ||
		    v > MH_API_LIMIT_MAX) {
			mh_respond_error(r, MH_ERR_BAD_PARAMETER,
			    "limit must be a whole number from 1 to %d",
			    MH_API_LIMIT_MAX);
			return -1;
		}
		q->limit = (unsigned)v;
	}
	if (before != NULL && after != NULL) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "before and after cannot be used together");
		return -1;
	}
	if (before != NULL && (mh_parse_u64(before, &q->before) != 0 ||
	    q->before == 0)) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "before must be a positive seq");
		return -1;
	}
	if (after != NULL && mh_parse_u64(after, &q->after) != 0) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "after must be a seq (0 or more)");
		return -1;
	}
	q->has_after = after != NULL;
	return 0;
}

int
mh_cursor_args(struct mh_request *r, struct mh_query *q)
{
	char *limit = NULL, *before = NULL, *after = NULL;
	int ret = -1;

	if (mh_arg(r, "limit", &limit) == 0 && mh_arg(r, "before",
	    &before) == 0 && mh_arg(r, "after", &after) == 0)
		ret = mh_cursor_check(r, q, limit, before, after);
	free(limit);
	free(before);
	free(after);
	return ret;
}

void
mh_page_query(struct mh_request *r, struct mh_store *st, const char *key,
    const struct mh_query *q, mh_emit_fn emit, void *ctx, struct mh_page *pg)
{
	enum mh_store_err err;
	int more = 0;

	mh_buf_printf(&pg->buf, "{\"%s\":[", key);
	if ((err = mh_store_query(st, q, emit, ctx, &more)) != MH_STORE_OK) {
		free(pg->buf.p);
		pg->buf.p = NULL;
		mh_respond_store_error(r, err);
		return;
	}
	mh_page_respond(r, pg, q, more);
}

/* The time (ts) of the page's last event, read from its text in the
 * page: the next page's cursor when they go by time. */
static int64_t
mh_page_last_ts(const struct mh_page *pg)
{
	char why[64];
	struct json_object *o = pg->buf.failed || pg->count == 0 ? NULL :
	    mh_json_parse(pg->buf.p + pg->last_at, pg->last_len, why,
	    sizeof(why));
	int64_t ts = mh_json_int(o, "ts");

	json_object_put(o);
	return ts;
}

void
mh_page_respond(struct mh_request *r, struct mh_page *pg,
    const struct mh_query *q, int more)
{
	struct mh_buf *b = &pg->buf;

	mh_buf_str(b, "],");
	if (q->has_after)
		mh_buf_printf(b, "\"more\":%s,\"next_after\":%" PRIu64,
		    more ? "true" : "false", pg->count ? pg->last : q->after);
	else if (more && pg->timed)
		mh_buf_printf(b, "\"more\":true,\"next_before\":%" PRIu64
		    ",\"next_before_time\":%" PRId64, pg->last,
		    mh_page_last_ts(pg));
	else if (more)
		mh_buf_printf(b, "\"more\":true,\"next_before\":%" PRIu64,
		    pg->last);
	else
		mh_buf_str(b, "\"more\":false,\"next_before\":null");
	mh_buf_str(b, "}");
	mh_buf_respond(r, b);
}

/* A time as ISO 8601 ("2026-11-22T10:00:00Z") or Unix seconds (digits,
 * perhaps after a minus: written as limit and the cursors are). */
static int
mh_parse_time(const char *s, int64_t *out)
{
	int minus = *s == '-';
	unsigned long long v;

	if (mh_iso_time(s, out) == 0)
		return 0;
	if (mh_parse_uint(s + minus, INT64_MAX, &v) != 0)
		return -1;
	*out = minus ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* Reads one end of the window; answers 400 and returns -1. */
static int
mh_window_end(struct mh_request *r, const char *name, int64_t *t, int *has)
{
	char *v = NULL;
	int ret = -1;

	if (mh_arg(r, name, &v) != 0)
		return -1;
	*has = v != NULL;
	if (v != NULL && mh_parse_time(v, t) != 0)
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "%s must be Unix "
		    "seconds or an ISO 8601 time", name);
	else
		ret = 0;
	free(v);
	return ret;
}

int
mh_window_args(struct mh_request *r, struct mh_query *w)
{
	if (mh_window_end(r, "since", &w->since, &w->has_since) != 0 ||
	    mh_window_end(r, "until", &w->until, &w->has_until) != 0)
		return -1;
	if (w->has_since && w->has_until && w->until <= w->since) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "until must be later than since");
		return -1;
	}
	return 0;
}

/* Whether the query's parameters are all among spec's and the cursor's;
 * answers 400 naming the first that is not. */
static int
mh_filter_names_known(struct mh_request *r,
    const struct mh_filter_spec *spec, size_t n)
{
	static const char *const cursor[] = { "limit", "before", "after" };
	const char *p = r->query;

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "=&"), i, known = 0;

		for (i = 0; i < 3 && !known; i++)
			known = strlen(cursor[i]) == len &&
			    strncmp(p, cursor[i], len) == 0;
		for (i = 0; i < n && !known; i++)
			known = strlen(spec[i].name) == len &&
			    strncmp(p, spec[i].name, len) == 0;
		if (!known && len > 0) {
			mh_respond_error(r, MH_ERR_BAD_PARAMETER, "%.*s is not "
			    "a parameter of this list", (int)(len > 40 ? 40 :
			    len), p);
			return -1;
		}
		p = strchr(p, '&');
		p = p != NULL ? p + 1 : NULL;
	}
	return 0;
}

int
mh_filter_args(struct mh_request *r, const struct mh_filter_spec *spec,
    size_t n, char **out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (mh_filter_names_known(r, spec, n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (mh_arg(r, spec[i].name, &out[i]) != 0)
			break;
		if (out[i] != NULL && spec[i].valid != NULL &&
		    !spec[i].valid(out[i])) {
			mh_respond_error(r, MH_ERR_BAD_PARAMETER, "%s must be "
			    "%s", spec[i].name, spec[i].must);
			break;
		}
	}
	if (i == n)
		return 0;
	for (i = 0; i < n; i++) {
		free(out[i]);
		out[i] = NULL;
	}
	return -1;
}

int
mh_path_id(struct mh_request *r, const char *what, uint64_t *id)
{
	const char *p = r->param != NULL ? r->param : "";
	size_t n = strspn(p, "0123456789");
	unsigned long long v;

	if (n == 0 || n > 19 || p[n] != '\0' || p[0] == '0' ||
	    mh_parse_uint(p, UINT64_MAX, &v) != 0) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "a %s's id is a whole "
		    "number from 1, without a sign or leading zeros: %.64s",
		    what, p);
		return -1;
	}
	*id = v;
	r->about = what;
	r->about_id = *id;
	return 0;
}

void
mh_record_error(struct mh_request *r, enum mh_store_err err,
    const char *what, uint64_t id)
{
	if (err == MH_STORE_NOTFOUND)
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no %s %" PRIu64, what,
		    id);
	else
		mh_respond_store_error(r, err);
}

int
mh_path_record(struct mh_app *app, struct mh_request *r, enum mh_table t,
    const char *what, uint64_t *id, char **json)
{
	enum mh_store_err err;

	*json = NULL;
	if (mh_path_id(r, what, id) != 0)
		return -1;
	if ((err = mh_store_record_get(app->store, t, *id, json)) ==
	    MH_STORE_OK)
		return 0;
	mh_record_error(r, err, what, *id);
	return -1;
}

int
mh_json_body(struct mh_request *r, size_t max, struct json_object **out)
{
	char why[200];

	*out = NULL;
	if (!mh_media_type_is(mh_param(r, "CONTENT_TYPE"), "application/json")) {
		mh_respond_error(r, MH_ERR_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/json");
		return -1;
	}
	if (mh_body(r, max) != 0)
		return -1;
	*out = mh_json_parse(r->body, r->body_len, why, sizeof(why));
	if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
		mh_respond_error(r, MH_ERR_BAD_BODY, "the body must be a JSON "
		    "object%s%s", *out == NULL ? ": " : "",
		    *out == NULL ? why : "");
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

const char *
mh_json_field(struct mh_request *r, struct json_object *o, const char *key,
    size_t max)
{
	const char *v = mh_json_str(o, key);

	if (v == NULL || *v == '\0' || strlen(v) > max ||
	    strlen(v) != (size_t)json_object_get_string_len(mh_json_get(o,
	    key))) {
		mh_respond_error(r, MH_ERR_BAD_REQUEST, "%s must be a string "
		    "of 1 to %zu bytes", key, max);
		return NULL;
	}
	return v;
}

int
mh_idem_arg(struct mh_request *r, const char *kind, struct mh_idem *idem,
    char *buf, size_t size)
{
	const char *key = mh_param(r, "HTTP_IDEMPOTENCY_KEY");
	int n;

	if (key == NULL)
		return 0;
	if (*key == '\0' || strlen(key) > MH_IDEM_KEY_MAX ||
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.:") != strlen(key)) {
		mh_respond_error(r, MH_ERR_BAD_REQUEST,
		    "Idempotency-Key is 1 to "
		    "%d of letters, digits and -_.:", MH_IDEM_KEY_MAX);
		return -1;
	}
	n = snprintf(buf, size, "%s%c%d%c%s%c%s", kind, 0, (int)r->who.kind, 0,
	    r->who.name, 0, key);
	idem->key = buf;
	idem->klen = (size_t)n;
	mh_sha256(r->body, r->body_len, idem->hash);
	idem->now = (int64_t)time(NULL);
	idem->ttl = MH_IDEM_TTL;
	return 1;
}

void
mh_idem_respond(struct mh_request *r, enum mh_store_err err,
    enum mh_idem_result res, int status, const char *text)
{
	if (err != MH_STORE_OK)
		mh_respond_store_error(r, err);
	else if (res == MH_IDEM_CONFLICT)
		mh_respond_error(r, MH_ERR_IDEMPOTENCY_KEY_REUSED, "this "
		    "Idempotency-Key was used for another body");
	else {
		if (res == MH_IDEM_REPLAY)
			mh_respond_header(r, "Idempotent-Replayed: true");
		mh_respond_json(r, status, text);
	}
}

/* The search's bounds, in characters. */
#define MH_Q_MIN 2
#define MH_Q_MAX 200

int
mh_search_arg(struct mh_request *r, char **text)
{
	size_t chars;

	if (mh_arg(r, "q", text) != 0)
		return -1;
	if (*text == NULL)
		return 0;
	chars = mh_utf8_chars(*text);
	if (chars >= MH_Q_MIN && chars <= MH_Q_MAX)
		return 0;
	mh_respond_error(r, MH_ERR_BAD_PARAMETER, "q must be %d to %d "
	    "characters, not %zu", MH_Q_MIN, MH_Q_MAX, chars);
	return -1;
}

int
mh_type_arg(struct mh_request *r, int *index)
{
	char *type = NULL;
	int ret = -1;

	*index = -1;
	if (mh_arg(r, "type", &type) != 0)
		return -1;
	if (type != NULL && (*index = mh_event_type_index(type,
	    strlen(type))) < 0)
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "unknown type "
		    "\"%.40s\"", type);
	else
		ret = 0;
	free(type);
	return ret;
}

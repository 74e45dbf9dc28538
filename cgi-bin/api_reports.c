/*
 * Reports read from the messages' summaries (summary.c folds what they
 * need): GET /api/stats/by?field=tag|template, each tag's or template's
 * messages sent, delivered, opened and clicked at least once, bounced,
 * and the rates; GET /api/stats/links?message_id=|template=, the clicks
 * of each link. Each reads every summary: linear in the messages kept.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* What a report counts of a message, by the types it had: the bits of
 * the types' places in mh_event_types, or, for a summary folded before
 * "seen" was kept, what its state and counts tell. */
static int64_t
mh_seen(struct json_object *sum)
{
	const char *state = mh_json_str(sum, "state");
	int64_t seen = mh_json_int(sum, "seen");
	int i;

	if (mh_json_get(sum, "seen") != NULL)
		return seen;
	if (state != NULL && (i = mh_event_type_index(state,
	    strlen(state))) >= 0)
		seen |= 1LL << i;
	if (mh_json_int(sum, "opens") > 0)
		seen |= 1LL << mh_event_type_index("open", 4);
	if (mh_json_int(sum, "clicks") > 0)
		seen |= 1LL << mh_event_type_index("click", 5);
	return seen;
}

static int
mh_had(int64_t seen, const char *type)
{
	return (seen >> mh_event_type_index(type, strlen(type))) & 1;
}

struct mh_report {
	const char *field;	/* "tag", "template" */
	struct json_object *rows;	/* value -> its counts */
	const char *message_id, *template;	/* links: the one asked of */
	struct json_object *links;	/* url -> clicks */
	const char *only;	/* by: this value alone is counted (NULL: each) */
	int type;		/* by: a type the message had (-1: any) */
	char *q;		/* by: in its address or subject, or NULL */
};

/* Whether a person opened (what "open", "click") the message: its
 * summary's person count, or, for a summary folded before machines were
 * told apart, whether it had the type at all. */
static int
mh_by_person(struct json_object *sum, int64_t seen, const char *what)
{
	const char *person = strcmp(what, "open") == 0 ? "person_opens" :
	    "person_clicks";
	const char *machine = strcmp(what, "open") == 0 ? "machine_opens" :
	    "machine_clicks";

	if (mh_json_get(sum, person) == NULL &&
	    mh_json_get(sum, machine) == NULL)
		return mh_had(seen, what);
	return mh_json_int(sum, person) > 0;
}

/* A report row's counts, in the order mh_report_count finds them. */
static const char *const mh_report_keys[] = { "sent", "delivered",
	"unique_opens", "unique_clicks", "bounces", "machine_opens",
	"machine_clicks", NULL };

static void
mh_report_count(struct mh_report *rp, const char *value, int64_t seen,
    struct json_object *sum)
{
	const char *const *keys = mh_report_keys;
	struct json_object *row = mh_json_get(rp->rows, value);
	int had[7];

	had[0] = 1;
	/* An opened or clicked message was delivered, its event come or not. */
	had[1] = mh_had(seen, "delivered") || mh_had(seen, "open") ||
	    mh_had(seen, "click");
	/* The rates count people: a message opened only by machines counts
	 * under machine_opens instead. */
	had[2] = mh_by_person(sum, seen, "open");
	had[3] = mh_by_person(sum, seen, "click");
	had[4] = mh_had(seen, "hard_bounce") || mh_had(seen, "soft_bounce");
	had[5] = mh_had(seen, "open") && !had[2];
	had[6] = mh_had(seen, "click") && !had[3];
	if (row == NULL) {
		row = json_object_new_object();
		json_object_object_add(rp->rows, value, row);
	}
	for (int i = 0; keys[i] != NULL; i++)
		json_object_object_add(row, keys[i], json_object_new_int64(
		    mh_json_int(row, keys[i]) + had[i]));
}

/* Whether hay holds needle, ASCII letters in either case (as the
 * events' search, q, reads them). */
static int
mh_has_words(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay != NULL && *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* Adds a summary to the report by tag or template. */
static void
mh_report_by(struct mh_report *rp, struct json_object *sum)
{
	struct json_object *tags = mh_json_get(sum, "tags");
	const char *tpl = mh_json_str(sum, "template");
	int64_t seen = mh_seen(sum);
	int64_t not_sent = 1LL << mh_event_type_index("sync", 4) |
	    1LL << mh_event_type_index("inbound", 7);

	if (seen & not_sent)
		return;
	/* The page's filters: the type among the message's, the search in
	 * its address or subject. */
	if ((rp->type >= 0 && !(seen & 1LL << rp->type)) || (rp->q != NULL &&
	    !mh_has_words(mh_json_str(sum, "email"), rp->q) &&
	    !mh_has_words(mh_json_str(sum, "subject"), rp->q)))
		return;
	if (strcmp(rp->field, "template") == 0) {
		if (tpl != NULL && *tpl != '\0')
			mh_report_count(rp, tpl, seen, sum);
		return;
	}
	for (size_t i = 0; json_object_is_type(tags, json_type_array) &&
	    i < json_object_array_length(tags); i++) {
		const char *t = json_object_get_string(
		    json_object_array_get_idx(tags, i));

		if (t != NULL && *t != '\0' && (rp->only == NULL ||
		    strcmp(t, rp->only) == 0))
			mh_report_count(rp, t, seen, sum);
	}
}

/* Adds a summary's clicks per link, when it is of the message or
 * template asked about. */
static void
mh_report_links(struct mh_report *rp, struct json_object *sum)
{
	const char *v;

	if (rp->message_id != NULL ? (v = mh_json_str(sum, "message_id")) ==
	    NULL || strcmp(v, rp->message_id) != 0 :
	    (v = mh_json_str(sum, "template")) == NULL ||
	    strcmp(v, rp->template) != 0)
		return;
	json_object_object_foreach(mh_json_get(sum, "urls"), url, n)
		json_object_object_add(rp->links, url, json_object_new_int64(
		    mh_json_int(rp->links, url) + json_object_get_int64(n)));
}

static int
mh_report_one(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_report *rp = ctx;
	struct json_object *sum;

	(void)seq;
	(void)len;
	if (json == NULL) {	/* the walk starts (again) */
		json_object_put(rp->rows);
		json_object_put(rp->links);
		rp->rows = json_object_new_object();
		rp->links = json_object_new_object();
		return 0;
	}
	if ((sum = json_tokener_parse(json)) == NULL)
		return 0;
	if (rp->field != NULL)
		mh_report_by(rp, sum);
	else
		mh_report_links(rp, sum);
	json_object_put(sum);
	return 0;
}

/* A rate of n over d, or null when d is 0. */
static struct json_object *
mh_rate(int64_t n, int64_t d)
{
	return d > 0 ? json_object_new_double((double)n / (double)d) : NULL;
}

/* A row's name: its tag, template or link. */
static const char *
mh_row_name(struct json_object *row)
{
	const char *v = mh_json_str(row, "value");

	return v != NULL ? v : mh_json_str(row, "url") != NULL ?
	    mh_json_str(row, "url") : "";
}

static int
mh_row_cmp(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a;
	struct json_object *y = *(struct json_object *const *)b;
	int64_t nx = mh_json_int(x, "sent") + mh_json_int(x, "clicks");
	int64_t ny = mh_json_int(y, "sent") + mh_json_int(y, "clicks");

	return nx < ny ? 1 : nx > ny ? -1 : strcmp(mh_row_name(x),
	    mh_row_name(y));
}

/* Adds a report row's rates (v, its counts) to row. */
static void
mh_report_rates(struct json_object *row, struct json_object *v)
{
	json_object_object_add(row, "open_rate", mh_rate(
	    mh_json_int(v, "unique_opens"), mh_json_int(v, "delivered")));
	json_object_object_add(row, "click_rate", mh_rate(
	    mh_json_int(v, "unique_clicks"), mh_json_int(v, "delivered")));
}

/* The rows of a map, each named under key, sorted by count. */
static struct json_object *
mh_report_rows(struct json_object *map, const char *key, const char *count)
{
	struct json_object *rows = json_object_new_array();

	json_object_object_foreach(map, value, v) {
		struct json_object *row = json_object_new_object();

		mh_json_set_str(row, key, value);
		if (json_object_is_type(v, json_type_int)) {
			json_object_object_add(row, count, json_object_get(v));
		} else {
			json_object_object_foreach(v, k, n)
				json_object_object_add(row, k,
				    json_object_get(n));
			mh_report_rates(row, v);
		}
		json_object_array_add(rows, row);
	}
	json_object_array_sort(rows, mh_row_cmp);
	return rows;
}

/* Walks the summaries into rp and answers with key's report under name. */
static void
mh_report_answer(struct mh_app *app, struct mh_request *r,
    struct mh_report *rp, struct json_object *answer)
{
	enum mh_store_err err = app->store == NULL ? MH_STORE_FAILED :
	    mh_store_messages_walk(app->store, mh_report_one, rp);

	if (err != MH_STORE_OK)
		mh_respond_store_error(r, err);
	else {
		if (rp->field != NULL)
			json_object_object_add(answer, "rows",
			    mh_report_rows(rp->rows, "value", NULL));
		else
			json_object_object_add(answer, "links",
			    mh_report_rows(rp->links, "url", "clicks"));
		mh_respond_json(r, 200, mh_json_text(answer));
	}
	json_object_put(rp->rows);
	json_object_put(rp->links);
}

enum mh_store_err
mh_report_tag(struct mh_app *app, const char *tag, struct json_object **out)
{
	const char *const *keys = mh_report_keys;
	struct mh_report rp = { .field = "tag", .only = tag, .type = -1 };
	struct json_object *v, *row = json_object_new_object();
	enum mh_store_err err = app->store == NULL ? MH_STORE_FAILED :
	    mh_store_messages_walk(app->store, mh_report_one, &rp);

	v = mh_json_get(rp.rows, tag);
	for (int i = 0; keys[i] != NULL; i++)
		json_object_object_add(row, keys[i],
		    json_object_new_int64(mh_json_int(v, keys[i])));
	mh_report_rates(row, v);
	json_object_put(rp.rows);
	json_object_put(rp.links);
	*out = row;
	if (err != MH_STORE_OK) {
		json_object_put(row);
		*out = NULL;
	}
	return err;
}

/* The page's filters a report follows: type, and q (2 to 200 characters,
 * as /api/events takes it); answers 400 and returns -1. */
static int
mh_report_filters(struct mh_request *r, struct mh_report *rp)
{
	return mh_type_arg(r, &rp->type) != 0 || mh_search_arg(r, &rp->q) != 0 ?
	    -1 : 0;
}

void
mh_api_stats_by(struct mh_app *app, struct mh_request *r)
{
	struct mh_report rp = { 0 };
	struct json_object *answer;
	char *field = NULL;

	if (mh_arg(r, "field", &field) != 0)
		return;
	if (field == NULL || (strcmp(field, "tag") != 0 &&
	    strcmp(field, "template") != 0)) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "field must be tag "
		    "or template%s%.40s%s", field ? ", not \"" : "",
		    field ? field : "", field ? "\"" : "");
		free(field);
		return;
	}
	rp.field = strcmp(field, "tag") == 0 ? "tag" : "template";
	free(field);
	if (mh_report_filters(r, &rp) != 0)
		return;
	answer = json_object_new_object();
	mh_json_set_str(answer, "field", rp.field);
	mh_report_answer(app, r, &rp, answer);
	json_object_put(answer);
	free(rp.q);
}

void
mh_api_stats_links(struct mh_app *app, struct mh_request *r)
{
	struct mh_report rp = { 0 };
	struct json_object *answer;
	char *id = NULL, *tpl = NULL;

	if (mh_arg(r, "message_id", &id) != 0 ||
	    mh_arg(r, "template", &tpl) != 0)
		goto out;
	if ((id == NULL) == (tpl == NULL)) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER, "give message_id or "
		    "template, one of them");
		goto out;
	}
	rp.message_id = id;
	rp.template = tpl;
	answer = json_object_new_object();
	json_object_object_add(answer, id ? "message_id" : "template",
	    json_object_new_string(id ? id : tpl));
	mh_report_answer(app, r, &rp, answer);
	json_object_put(answer);
out:
	free(id);
	free(tpl);
}

/*
 * GET /api/messages/{id}: one provider message: its summary (as the
 * drain folded it, summary.c), the outgoing mail it was sent as (when
 * mailhooks sent it), and its events in the order they happened.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"
#include "core/providers.h"

/* A message's events, to be told in the order they happened. */
struct mh_timeline {
	struct mh_moment {
		int64_t ts;
		uint64_t seq;
		char *json;
	} *v;
	size_t n;
	int failed;
};

static int
mh_timeline_emit(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_timeline *tl = ctx;
	struct json_object *o;
	struct mh_moment *nv;

	if ((nv = mh_realloc(tl->v, (tl->n + 1) * sizeof(*nv))) == NULL ||
	    (nv[tl->n].json = mh_strndup(json, len)) == NULL) {
		if (nv != NULL)
			tl->v = nv;
		tl->failed = 1;
		return -1;
	}
	tl->v = nv;
	nv[tl->n].seq = seq;
	o = json_tokener_parse(json);
	nv[tl->n].ts = mh_json_int(o, "ts");
	json_object_put(o);
	tl->n++;
	return 0;
}

static int
mh_moment_cmp(const void *a, const void *b)
{
	const struct mh_moment *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The summary of a message mailhooks sent (mail id) before any of its
 * events came: its recipient and subject, as the mail keeps them.
 * Caller frees; NULL when the mail does not name it. */
static char *
mh_sent_summary(struct mh_app *app, const char *id, uint64_t mail)
{
	struct json_object *m = NULL, *rcpts, *o;
	char *json = NULL, *text = NULL;
	const char *email = NULL;

	if (mh_store_queued_get(app->store, MH_SENDQ_MAIL,
	    mail, &json, NULL, NULL) !=
	    MH_STORE_OK || (m = json_tokener_parse(json)) == NULL)
		goto out;
	rcpts = mh_json_get(m, "recipients");
	for (size_t i = 0; rcpts != NULL && i < json_object_array_length(rcpts);
	    i++) {
		struct json_object *rc = json_object_array_get_idx(rcpts, i);
		const char *rid = mh_json_str(rc, "_id");

		if (rid != NULL && strcmp(rid, id) == 0)
			email = mh_json_str(rc, "email");
	}
	if (email == NULL)
		goto out;
	o = json_tokener_parse("{\"state\":\"\",\"state_ts\":0,\"opens\":0,"
	    "\"clicks\":0,\"events\":0,\"first_seq\":0,\"last_seq\":0,"
	    "\"last_ts\":0}");
	mh_json_set_str(o, "message_id", id);
	mh_json_set_str(o, "provider", "mandrill");
	mh_json_set_str(o, "email", email);
	mh_json_copy(o, "subject", mh_json_get(m, "message"), "subject", 0);
	if (mh_json_get(o, "subject") == NULL)
		mh_json_set_str(o, "subject", "");
	text = mh_strdup(mh_json_text(o));
	json_object_put(o);
out:
	json_object_put(m);
	free(json);
	return text;
}

void
mh_api_message(struct mh_app *app, struct mh_request *r)
{
	const char *id = r->param;
	struct mh_query q = { .where.event.message_id = id, .has_after = 1,
	    .limit = MH_API_LIMIT_MAX };
	struct mh_timeline tl = { 0 };
	struct mh_page pg = { 0 };
	enum mh_store_err err = MH_STORE_NOTFOUND;
	char *summary = NULL, stand_in[64];
	uint64_t mail = 0;
	size_t slen;
	int more;

	/* A message's id names it in the log. */
	r->param_logged = "message";

	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return;
	}
	for (size_t i = 0; mh_providers[i].name != NULL; i++) {
		err = mh_store_message(app->store, mh_providers[i].name, id,
		    &summary);
		if (err != MH_STORE_NOTFOUND)
			break;
	}
	if ((err == MH_STORE_OK || err == MH_STORE_NOTFOUND) &&
	    mh_store_mail_of(app->store, id, &mail) != MH_STORE_OK)
		mail = 0;
	if (err == MH_STORE_NOTFOUND && mail != 0 &&
	    (summary = mh_sent_summary(app, id, mail)) != NULL)
		err = MH_STORE_OK;
	if (err == MH_STORE_NOTFOUND) {
		mh_respond_error(r, MH_ERR_NOT_FOUND,
		    "no message with id %.128s", id);
		return;
	}
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	err = mh_store_query(app->store, &q, mh_timeline_emit, &tl, &more);
	if (err != MH_STORE_OK && !tl.failed) {
		mh_respond_store_error(r, err);
		goto out;
	}
	/* Events arrive in any order (a late send, an early open): the
	 * timeline tells them by when they happened. */
	qsort(tl.v, tl.n, sizeof(*tl.v), mh_moment_cmp);
	/* The summary is a JSON object: open it up and add the timeline. */
	slen = strlen(summary);
	if (mh_json_stored(summary, &slen, 0, stand_in) != summary)
		slen = 0;
	while (slen > 0 && summary[slen - 1] != '}')
		slen--;
	if (slen == 0) {
		mh_respond_error(r, MH_ERR_CORRUPT_RECORD, "message summary");
		goto out;
	}
	mh_buf_add(&pg.buf, summary, slen - 1);
	if (mail != 0)
		mh_buf_printf(&pg.buf, ",\"mail\":{\"id\":%" PRIu64 ",\"path\":"
		    "\"/api/mail/%" PRIu64 "\"}", mail, mail);
	mh_buf_str(&pg.buf, ",\"timeline\":[");
	for (size_t i = 0; i < tl.n; i++)
		mh_page_emit(&pg, tl.v[i].seq, tl.v[i].json,
		    strlen(tl.v[i].json));
	mh_buf_str(&pg.buf, more ? "],\"timeline_truncated\":true}" :
	    "],\"timeline_truncated\":false}");
	if (tl.failed)
		pg.buf.failed = 1;
	mh_buf_respond(r, &pg.buf);
out:
	for (size_t i = 0; i < tl.n; i++)
		free(tl.v[i].json);
	free(tl.v);
	free(pg.buf.p);
	free(summary);
}

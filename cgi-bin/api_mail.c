/*
 * /api/mail: outgoing mail. POST queues one (durable in the outbox
 * before the answer, no network call; an Idempotency-Key makes a retry
 * get the first answer), GET lists them newest first (filters status, to
 * and tag; the cursors of /api/events), /api/mail/{id} is one with its
 * recipients and attempts, /api/mail/{id}/cancel cancels one not yet
 * handed over. The sender (sender/) does the rest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* A mail being added: its record's JSON, and the id it got. */
struct mh_mail_added {
	const char *json;
	uint64_t id;
};

/* The answer of a POST: the id, the status and the recipients. */
static char *
mh_mail_answer(void *ctx, uint64_t first, size_t n)
{
	struct mh_mail_added *added = ctx;
	struct json_object *mail = json_tokener_parse(added->json), *o;
	char *text;

	(void)n;
	added->id = first;
	if (mail == NULL)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_uint64(first));
	mh_json_copy(o, "status", mail, "status", 1);
	mh_json_copy(o, "next_attempt_at", mail, "next_attempt_at", 1);
	mh_json_copy(o, "recipients", mail, "recipients", 1);
	text = mh_strdup(mh_json_text(o));
	json_object_put(o);
	json_object_put(mail);
	return text;
}

void
mh_api_mail_send(struct mh_app *app, struct mh_request *r)
{
	struct json_object *body = NULL;
	struct mh_record rec = { .json = NULL };
	struct mh_mail_sender who = { r->who.kind == MH_WHO_TOKEN ? "token" :
	    "user", r->who.name };
	struct mh_idem idem;
	char keybuf[MH_IDEM_KEY_MAX + MH_USER_NAME_MAX + 32], why[400];
	char *text = NULL;
	enum mh_idem_result res;
	enum mh_store_err err;
	int64_t now = mh_now_ms(), due;
	int has_idem;
	struct mh_mail_added added = { NULL, 0 };

	if (mh_json_body(r, app->cfg->max_body, &body) != 0 ||
	    (has_idem = mh_idem_arg(r, "mail", &idem, keybuf,
	    sizeof(keybuf))) < 0)
		goto out;
	if (mh_mail_check(body, now, &due, why, sizeof(why)) != 0) {
		mh_respond_error(r, MH_ERR_BAD_MAIL, "%s", why);
		goto out;
	}
	if (mh_mail_make(body, &who, now, due, &rec) != 0) {
		mh_respond_nomem(r);
		goto out;
	}
	added.json = rec.json;
	err = mh_store_mail_add(app->store, &rec, due, has_idem ? &idem : NULL,
	    mh_mail_answer, &added, &text, &res);
	if (err == MH_STORE_OK && res == MH_IDEM_NEW) {
		r->about = "mail";
		r->about_id = added.id;
		mh_notify_mail(app->cfg->home, added.id, "queued");
	}
	mh_idem_respond(r, err, res, 202, text);
out:
	mh_record_free(&rec);
	free(text);
	json_object_put(body);
}

/* A mail in a list: what a row shows, without its bodies. */
static int
mh_mail_row(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_page *pg = ctx;
	struct json_object *mail = json_tokener_parse(json), *o, *msg, *a;
	char stand_in[64];
	size_t slen = len;

	if (mail == NULL) {	/* as /api/events shows an unreadable one */
		json = mh_json_stored(json, &slen, id, stand_in);
		return mh_page_emit(pg, id, json, slen);
	}
	msg = mh_json_get(mail, "message");
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_uint64(id));
	mh_json_copy(o, "status", mail, "status", 1);
	mh_json_copy(o, "created_at", mail, "created_at", 1);
	mh_json_copy(o, "sender", mail, "sender", 1);
	mh_json_copy(o, "subject", msg, "subject", 1);
	mh_json_copy(o, "from_email", msg, "from_email", 1);
	mh_json_copy(o, "tags", msg, "tags", 1);
	mh_json_copy(o, "recipients", mail, "recipients", 1);
	a = mh_json_get(mail, "attempts");
	json_object_object_add(o, "attempts", json_object_new_int(
	    a != NULL ? (int)json_object_array_length(a) : 0));
	mh_json_copy(o, "next_attempt_at", mail, "next_attempt_at", 1);
	mh_json_copy(o, "error", mail, "error", 1);
	json = mh_json_text(o);
	mh_page_emit(pg, id, json, strlen(json));
	json_object_put(o);
	json_object_put(mail);
	return pg->buf.failed ? -1 : 0;
}

static void
mh_mail_list(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_MAIL,
	    .limit = MH_API_LIMIT_DEFAULT };
	static const struct mh_filter_spec spec[] = {
		{ "status", mh_mail_status_ok,
		    "queued, sending, sent, failed or cancelled" },
		{ "to", mh_email_ok, "an email address" },
		{ "tag", NULL, NULL },
	};
	struct mh_page pg = { .buf = { 0 } };
	char *f[3];

	if (mh_filter_args(r, spec, 3, f) != 0 || mh_cursor_args(r, &q) != 0)
		goto out;
	q.where.mail.status = f[0];
	q.where.mail.recipients = f[1];
	q.where.mail.tags = f[2];
	mh_page_query(r, app->store, "mail", &q, mh_mail_row, &pg, &pg);
out:
	for (int i = 0; i < 3; i++)
		free(f[i]);
}

void
mh_api_mail(struct mh_app *app, struct mh_request *r)
{
	mh_mail_list(app, r);
}

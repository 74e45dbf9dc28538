/*
 * An outgoing mail's record and the changes of its state, pure: made
 * from a checked request (mail.c), its header fields (status, the
 * recipients, the tags) made again from its object after each change,
 * and the changes the API and the admin tool make (cancel, retry), also
 * as the storage's change of a mail. The sender's attempts are in
 * sender/attempt.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

const char *const mh_mail_statuses[] = { "queued", "sending", "sent",
	"failed", "cancelled", NULL };

int
mh_mail_record(struct json_object *mail, struct mh_record *out)
{
	const char *status = mh_json_str(mail, "status");

	memset(out, 0, sizeof(*out));
	out->mail.status = mh_strdup(status != NULL ? status : "");
	out->mail.recipients = mh_json_joined(mh_json_get(mail, "recipients"),
	    "email");
	out->mail.tags = mh_json_joined(mh_json_get(mh_json_get(mail, "message"),
	    "tags"), NULL);
	out->json = mh_strdup(mh_json_text(mail));
	if (out->mail.status == NULL || out->mail.recipients == NULL ||
	    out->mail.tags == NULL || out->json == NULL) {
		mh_record_free(out);
		return -1;
	}
	return 0;
}

/* The recipients' list of a checked message: each with its type and
 * state before it is handed over. */
static struct json_object *
mh_recipients(struct json_object *to)
{
	struct json_object *list = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(to); i++) {
		struct json_object *in = json_object_array_get_idx(to, i);
		struct json_object *r = json_object_new_object();
		const char *type = mh_json_str(in, "type");

		mh_json_copy(r, "email", in, "email", 1);
		mh_json_copy(r, "name", in, "name", 1);
		mh_json_set_str(r, "type", type != NULL ? type : "to");
		mh_json_set_str(r, "status", "pending");
		mh_json_set_str(r, "_id", NULL);
		mh_json_set_str(r, "reject_reason", NULL);
		mh_json_set_str(r, "queued_reason", NULL);
		json_object_array_add(list, r);
	}
	return list;
}

int
mh_mail_make(struct json_object *in, const struct mh_mail_sender *who,
    int64_t now_ms, int64_t due_ms, struct mh_record *out)
{
	struct json_object *o = json_object_new_object(), *msg, *s;
	char at[32];
	int ret;

	msg = json_object_new_object();
	json_object_object_foreach(in, key, val)
		if (strcmp(key, "send_at") != 0 && val != NULL)
			json_object_object_add(msg, key, json_object_get(val));
	mh_json_set_str(o, "status", "queued");
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(o, "created_at", at);
	s = json_object_new_object();
	mh_json_set_str(s, "kind", who->kind);
	mh_json_set_str(s, "name", who->name);
	json_object_object_add(o, "sender", s);
	mh_json_copy(o, "send_at", in, "send_at", 1);
	mh_iso_from_ms(due_ms, at);
	mh_json_set_str(o, "next_attempt_at", at);
	mh_json_set_str(o, "error", NULL);
	json_object_object_add(o, "recipients",
	    mh_recipients(mh_json_get(in, "to")));
	json_object_object_add(o, "attempts", json_object_new_array());
	json_object_object_add(o, "message", msg);
	ret = mh_mail_record(o, out);
	json_object_put(o);
	return ret;
}

int
mh_mail_cancel(struct json_object *mail, int64_t now_ms, char *why,
    size_t whylen)
{
	const char *status = mh_json_str(mail, "status");
	char at[32];

	if (status == NULL || strcmp(status, "queued") != 0) {
		snprintf(why, whylen, "the mail is %s: only a queued mail, not "
		    "yet handed to Mandrill, can be cancelled",
		    status != NULL ? status : "not a mail");
		return -1;
	}
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(mail, "status", "cancelled");
	mh_json_set_str(mail, "cancelled_at", at);
	mh_json_set_str(mail, "next_attempt_at", NULL);
	return 0;
}

int
mh_mail_retry(struct json_object *mail, int64_t now_ms, char *why,
    size_t whylen)
{
	const char *status = mh_json_str(mail, "status");
	struct json_object *rcpts = mh_json_get(mail, "recipients");
	char at[32];

	if (status == NULL || (strcmp(status, "failed") != 0 &&
	    strcmp(status, "cancelled") != 0)) {
		snprintf(why, whylen, "the mail is %s: only a failed or "
		    "cancelled mail is queued again",
		    status != NULL ? status : "not a mail");
		return -1;
	}
	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(mail, "status", "queued");
	mh_json_set_str(mail, "next_attempt_at", at);
	mh_json_set_str(mail, "error", NULL);
	json_object_object_del(mail, "cancelled_at");
	json_object_object_del(mail, "possibly_sent");
	for (size_t i = 0; i < json_object_array_length(rcpts); i++) {
		struct json_object *r = json_object_array_get_idx(rcpts, i);

		mh_json_set_str(r, "status", "pending");
		mh_json_set_str(r, "_id", NULL);
		mh_json_set_str(r, "reject_reason", NULL);
		mh_json_set_str(r, "queued_reason", NULL);
	}
	return 0;
}

int
mh_mail_op_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next)
{
	struct mh_mail_op *op = ctx;
	struct json_object *m = json_tokener_parse(json);
	int ret = 0;

	(void)i;
	(void)lease;
	op->refused = 0;
	if (m == NULL)
		return EINVAL;
	if ((op->retry ? mh_mail_retry(m, op->now_ms, op->why,
	    sizeof(op->why)) : mh_mail_cancel(m, op->now_ms, op->why,
	    sizeof(op->why))) != 0)
		op->refused = 1;
	else if (mh_mail_record(m, &next->rec) != 0)
		ret = ENOMEM;
	else {
		next->queue = op->retry ? MH_QUEUE_AT : MH_QUEUE_OFF;
		next->due_ms = op->now_ms;
	}
	json_object_put(m);
	return ret;
}

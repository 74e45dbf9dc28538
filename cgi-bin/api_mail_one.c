/*
 * /api/mail/{id}: one outgoing mail, as kept, with where it stands in
 * the outbox and a link to each recipient's provider timeline; and
 * /api/mail/{id}/cancel, for one not yet handed over.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

/* A mail as the API shows it: the record, each recipient's timeline,
 * and its place in the outbox (null when out of it). */
static void
mh_mail_respond(struct mh_request *r, int status, const char *json,
    const struct mh_lease *lease, int queued)
{
	struct json_object *mail = json_tokener_parse(json), *rcpts, *o;
	char at[32], link[300];

	if (mail == NULL) {
		mh_respond_error(r, MH_ERR_CORRUPT_RECORD,
		    "mail %.64s", r->param);
		return;
	}
	rcpts = mh_json_get(mail, "recipients");
	for (size_t i = 0; rcpts != NULL && i < json_object_array_length(rcpts);
	    i++) {
		struct json_object *rc = json_object_array_get_idx(rcpts, i);
		const char *remote = mh_json_str(rc, "_id");

		/* The sender keeps an _id only of characters a path takes. */
		snprintf(link, sizeof(link), "/api/messages/%.200s",
		    remote != NULL ? remote : "");
		mh_json_set_str(rc, "timeline", remote != NULL ? link : NULL);
	}
	o = NULL;
	if (queued) {
		o = json_object_new_object();
		mh_iso_from_ms(lease->due_ms, at);
		mh_json_set_str(o, "due_at", at);
		json_object_object_add(o, "held", json_object_new_boolean(
		    lease->pid != 0));
	}
	json_object_object_add(mail, "outbox", o);
	mh_respond_json(r, status, mh_json_text(mail));
	json_object_put(mail);
}

void
mh_api_mail_one(struct mh_app *app, struct mh_request *r)
{
	struct mh_lease lease;
	enum mh_store_err err;
	char *json = NULL;
	uint64_t id;
	int queued;

	if (mh_path_id(r, "mail", &id) != 0)
		return;
	err = mh_store_queued_get(app->store, MH_SENDQ_MAIL,
	    id, &json, &lease, &queued);
	if (err != MH_STORE_OK)
		mh_record_error(r, err, "mail", id);
	else
		mh_mail_respond(r, 200, json, &lease, queued);
	free(json);
}

void
mh_api_mail_cancel(struct mh_app *app, struct mh_request *r)
{
	struct mh_mail_op c = { .retry = 0, .now_ms = mh_now_ms() };
	enum mh_store_err err;
	char *json = NULL;
	uint64_t id;

	if (mh_path_id(r, "mail", &id) != 0)
		return;
	err = mh_store_queued_change(app->store, MH_SENDQ_MAIL,
	    &id, 1, mh_mail_op_change, &c,
	    &json);
	if (err != MH_STORE_OK)
		mh_record_error(r, err, "mail", id);
	else if (c.refused)
		mh_respond_error(r, MH_ERR_NOT_CANCELLABLE, "%s", c.why);
	else {
		mh_log(r, "mail=%" PRIu64 " cancelled by %s", id, r->who.name);
		mh_notify_mail(app->cfg->home, id, "cancelled");
		mh_mail_respond(r, 200, json, NULL, 0);
	}
	free(json);
}

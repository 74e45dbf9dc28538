/*
 * A stored event's raw request (admins): GET /api/raw/{receipt} shows it
 * as the inbox kept it (within the raw bodies' retention), and POST
 * /api/raw/{receipt}/reprocess derives its events again, storing those
 * not stored yet (after a parser fix, or an erasure undone by a resend).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "mailhooks.h"

/* The receipt of the path; answers 404 and returns -1 when it is none. */
static int
mh_receipt_arg(struct mh_request *r, uint64_t *receipt)
{
	unsigned long long v;

	if (mh_parse_uint(r->param, UINT64_MAX, &v) == 0 && v > 0) {
		*receipt = v;
		return 0;
	}
	mh_respond_error(r, MH_ERR_NOT_FOUND, "no raw request is kept under "
	    "\"%.40s\"", r->param);
	return -1;
}

/* Answers 404 for a body not kept, or the storage's error; -1 then. */
static int
mh_raw_found(struct mh_request *r, enum mh_store_err err, uint64_t receipt)
{
	if (err == MH_STORE_OK)
		return 0;
	if (err == MH_STORE_NOTFOUND)
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no raw request is kept "
		    "under %" PRIu64 " (never, or past the raw bodies' "
		    "retention)", receipt);
	else
		mh_respond_store_error(r, err);
	return -1;
}

/* The body as text when it is UTF-8 without NUL, else in base64. */
static void
mh_raw_body(struct json_object *o, const struct mh_entry *e)
{
	unsigned char *b64;
	int n;

	if (memchr(e->body, '\0', e->body_len) == NULL &&
	    mh_utf8_valid(e->body, e->body_len)) {
		json_object_object_add(o, "body", json_object_new_string_len(
		    e->body, (int)e->body_len));
		return;
	}
	json_object_object_add(o, "body", NULL);
	if ((b64 = mh_malloc(4 * (e->body_len / 3 + 1) + 1)) == NULL)
		return;
	n = EVP_EncodeBlock(b64, (const unsigned char *)e->body,
	    (int)e->body_len);
	json_object_object_add(o, "body_base64", json_object_new_string_len(
	    (char *)b64, n));
	free(b64);
}

void
mh_api_raw(struct mh_app *app, struct mh_request *r)
{
	struct json_object *o;
	struct mh_entry e;
	uint64_t receipt;
	void *rec = NULL;
	char at[32];

	if (mh_receipt_arg(r, &receipt) != 0 || mh_raw_found(r,
	    app->store == NULL ? MH_STORE_FAILED : mh_store_raw_get(app->store,
	    receipt, &e, &rec), receipt) != 0)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "receipt", json_object_new_int64(
	    (int64_t)receipt));
	mh_json_set_str(o, "provider", e.meta.provider);
	mh_iso_from_ms(e.meta.received_ms, at);
	mh_json_set_str(o, "received_at", at);
	mh_json_set_str(o, "remote_addr", e.meta.remote_addr);
	json_object_object_add(o, "bytes", json_object_new_int64(
	    (int64_t)e.body_len));
	mh_raw_body(o, &e);
	mh_respond_json(r, 200, mh_json_text(o));
	json_object_put(o);
	free(rec);
}

void
mh_api_raw_reprocess(struct mh_app *app, struct mh_request *r)
{
	struct mh_notifier relay = { app->cfg->home, -1, 0 };
	struct mh_machine_rules *rules = NULL;
	struct mh_deriver d;
	char why[300];
	uint64_t receipt;
	size_t stored = 0;
	char answer[96];

	if (mh_receipt_arg(r, &receipt) != 0)
		return;
	mh_deriver_init(&d, mh_notify_event, &relay);
	d.notify_types = app->cfg->notify_types;
	d.notify_machine = app->cfg->notify_machine;
	d.trap_url = app->cfg->trap_url;
	/* The rules the drain reads: MAILHOOKS_MACHINE_RULES's, or the
	 * built-in ones (the drain logs a broken file). */
	d.machine_rules = rules = mh_machine_rules_for(app->cfg->machine_rules,
	    why, sizeof(why));
	if (mh_raw_found(r, app->store == NULL ? MH_STORE_FAILED :
	    mh_store_reprocess_one(app->store, &d, receipt, &stored),
	    receipt) == 0) {
		mh_log(r, "receipt=%" PRIu64 " reprocessed by %s: %zu new "
		    "events", receipt, r->who.name, stored);
		snprintf(answer, sizeof(answer), "{\"receipt\":%" PRIu64
		    ",\"stored\":%zu}", receipt, stored);
		mh_respond_json(r, 200, answer);
	}
	mh_notify_done(&relay);
	mh_machine_rules_free(rules);
}

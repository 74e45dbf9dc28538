/*
 * /api/unsubscribe/{token}: the link a campaign's mail carries in its
 * List-Unsubscribe header. POST List-Unsubscribe=One-Click (RFC 8058:
 * what a mail client sends, without signing in) opts the token's client
 * out; GET shows a small page whose button does the same, and changes
 * nothing by itself (link scanners fetch every link). A token altered or
 * made up names no one: 404, nothing changed. The log says client=ID,
 * never the token. /api/trap, the trap link, is here too: the other link
 * of mail sent that is followed without signing in.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_HTML "text/html; charset=utf-8"

/* The client and campaign of the path's token; -1 when it names none
 * (answered, as a page when page is set). */
static int
mh_unsub_of(struct mh_app *app, struct mh_request *r, int page,
    uint64_t *client, uint64_t *campaign)
{
	static const char gone[] = "<!doctype html><meta charset=utf-8>"
	    "<meta name=viewport content=\"width=device-width\">"
	    "<title>Unsubscribe</title><p>This unsubscribe link is not "
	    "valid: it was changed or cut short. Use the whole link from the "
	    "mail.</p>\n";
	unsigned char key[MH_SECRET_BYTES];

	if (mh_key_file(app->cfg->home, MH_UNSUB_KEY_FILE, key) != 0) {
		mh_log(r, "cannot read or make %s/%s", app->cfg->home,
		    MH_UNSUB_KEY_FILE);
		mh_respond_error(r, MH_ERR_UNAVAILABLE, "unsubscribing is not "
		    "possible now: the server's key cannot be read");
		return -1;
	}
	if (mh_unsub_read(key, r->param, client, campaign) == 0)
		return 0;
	if (page)
		mh_respond_body(r, 404, MH_HTML, gone, sizeof(gone) - 1);
	else
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no such unsubscribe "
		    "link");
	return -1;
}

void
mh_api_unsubscribe_page(struct mh_app *app, struct mh_request *r)
{
	static const char page[] = "<!doctype html><meta charset=utf-8>"
	    "<meta name=viewport content=\"width=device-width\">"
	    "<title>Unsubscribe</title>"
	    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;"
	    "margin:3rem auto;padding:0 1rem}button{font:inherit;padding:"
	    ".5rem 1rem}</style>"
	    "<h1>Unsubscribe</h1><p>Stop getting these messages?</p>"
	    "<form method=post><input type=hidden name=List-Unsubscribe "
	    "value=One-Click><button type=submit>Unsubscribe</button></form>\n";
	uint64_t client, campaign;

	if (mh_unsub_of(app, r, 1, &client, &campaign) != 0)
		return;
	mh_respond_header(r, "Cache-Control: no-store");
	mh_respond_header(r, "Referrer-Policy: no-referrer");
	mh_respond_body(r, 200, MH_HTML, page, sizeof(page) - 1);
}

/* GET /api/trap: where the trap link hidden in mail leads (core/trap.c).
 * Whoever follows it is a machine, which the click event Mandrill sends
 * says; the page itself keeps nothing and asks not to be indexed. */
void
mh_api_trap(struct mh_app *app, struct mh_request *r)
{
	static const char page[] = "<!doctype html><meta charset=utf-8>"
	    "<meta name=robots content=noindex><title>Nothing here</title>\n";

	(void)app;
	mh_respond_header(r, "Cache-Control: no-store");
	mh_respond_header(r, "X-Robots-Tag: noindex");
	mh_respond_body(r, 200, MH_HTML, page, sizeof(page) - 1);
}

/* Opts the stored client out (already out: kept as it is). */
static int
mh_unsub_change(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	struct mh_making mk = { *(int64_t *)ctx, NULL };
	struct json_object *in, *c = json_tokener_parse(json);
	char why[200];
	int ret = MH_CHANGE_KEEP;

	(void)f;
	if (c == NULL || mh_client_opted_out(c)) {
		json_object_put(c);
		return MH_CHANGE_KEEP;
	}
	json_object_put(c);
	in = json_tokener_parse("{\"opted_out\":true}");
	if (mh_client_patch(json, in, &mk, out, why, sizeof(why)) == 0)
		ret = MH_CHANGE_WRITE;
	json_object_put(in);
	return ret;
}

/* Whether the body is RFC 8058's one-click: List-Unsubscribe=One-Click. */
static int
mh_unsub_one_click(const struct mh_request *r)
{
	struct mh_form form = { 0 };
	const struct mh_form_field *v;
	int ok;

	ok = mh_form_parse(r->body, r->body_len, &form) == MH_FORM_OK &&
	    (v = mh_form_get(&form, "List-Unsubscribe")) != NULL &&
	    v->value_len == 9 && memcmp(v->value, "One-Click", 9) == 0;
	mh_form_free(&form);
	return ok;
}

void
mh_api_unsubscribe(struct mh_app *app, struct mh_request *r)
{
	static const char done[] = "<!doctype html><meta charset=utf-8>"
	    "<meta name=viewport content=\"width=device-width\">"
	    "<title>Unsubscribed</title><p>You are unsubscribed: no more of "
	    "these messages will be sent to you.</p>\n";
	uint64_t client, campaign;
	int64_t now = mh_now_ms();
	enum mh_store_err err;

	if (mh_unsub_of(app, r, 0, &client, &campaign) != 0 ||
	    mh_body(r, app->cfg->max_body) != 0)
		return;
	if (!mh_media_type_is(mh_param(r, "CONTENT_TYPE"),
	    "application/x-www-form-urlencoded") || !mh_unsub_one_click(r)) {
		mh_respond_error(r, MH_ERR_BAD_FORM, "the body is "
		    "List-Unsubscribe=One-Click (RFC 8058), as a form");
		return;
	}
	r->about = "client";
	r->about_id = client;
	err = mh_store_record_change(app->store, MH_TABLE_CLIENTS, client,
	    mh_unsub_change, &now, NULL);
	if (err != MH_STORE_OK && err != MH_STORE_NOTFOUND) {
		mh_respond_store_error(r, err);
		return;
	}
	/* A client deleted since is out of every audience already. */
	mh_log(r, "client=%" PRIu64 " opted out (campaign=%" PRIu64 "'s "
	    "unsubscribe link)", client, campaign);
	mh_respond_header(r, "Cache-Control: no-store");
	mh_respond_body(r, 200, MH_HTML, done, sizeof(done) - 1);
}

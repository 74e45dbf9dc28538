/*
 * The webhooks: one handler for every provider, running the checks its
 * row declares (core/providers.h: the call's type and token, then its
 * body and signature), the acknowledgement once the raw body is committed
 * to the inbox, and the log of what was refused. Deriving events happens
 * after the answer (drain.c). A refused request enters nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mailhooks.h"
#include "core/providers.h"

int
mh_ingest_body(struct mh_app *app, struct mh_request *r)
{
	return mh_body(r, app->cfg->max_body);
}

int
mh_body(struct mh_request *r, size_t max)
{
	switch (mh_request_body(r, max)) {
	case MH_BODY_OK:
		return 0;
	case MH_BODY_TOO_LARGE:
		mh_respond_error(r, MH_ERR_BODY_TOO_LARGE,
		    "the body is over the limit of %zu bytes", max);
		break;
	case MH_BODY_SHORT:
		mh_respond_error(r, MH_ERR_BAD_BODY,
		    "the body is shorter than its Content-Length");
		break;
	case MH_BODY_NOMEM:
		mh_respond_nomem(r);
		break;
	}
	return -1;
}

void
mh_ingest_commit(struct mh_app *app, struct mh_request *r,
    const char *provider, size_t n)
{
	struct mh_entry_meta meta;
	enum mh_store_err serr;
	const char *addr = mh_param(r, "REMOTE_ADDR");
	char answer[96];
	uint64_t receipt;

	if (n == 0) {
		mh_respond_json(r, 200, "{\"accepted\":0,\"receipt\":null}");
		return;
	}
	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return;
	}
	memset(&meta, 0, sizeof(meta));
	snprintf(meta.provider, sizeof(meta.provider), "%s", provider);
	snprintf(meta.remote_addr, sizeof(meta.remote_addr), "%s",
	    addr ? addr : "");
	meta.received_ms = mh_now_ms();
	meta.bytes = r->body_len;
	serr = mh_store_inbox_put(app->store, &meta, r->body, r->body_len,
	    &receipt);
	if (serr != MH_STORE_OK) {
		mh_respond_store_error(r, serr);
		return;
	}
	r->receipt = receipt;
	snprintf(answer, sizeof(answer),
	    "{\"accepted\":%zu,\"receipt\":\"%" PRIu64 "\"}", n, receipt);
	mh_respond_json(r, 200, answer);
}

/* What of a refused body is kept: enough to see what was sent. */
#define MH_REFUSED_BODY 4096

/* The start of the body, bytes outside printable ASCII written as \xHH;
 * caller frees. */
static char *
mh_refused_body(const struct mh_request *r)
{
	size_t n = r->body_len < MH_REFUSED_BODY ? r->body_len : MH_REFUSED_BODY;
	char *text = mh_malloc(n * 4 + 1), *p = text;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->body[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*p++ = (char)c;
		else
			p += sprintf(p, "\\x%02x", c);
	}
	*p = '\0';
	return text;
}

void
mh_log_refusal(struct mh_app *app, struct mh_request *r)
{
	struct json_object *o;
	const char *addr = mh_param(r, "REMOTE_ADDR");
	const char *ct = mh_param(r, "CONTENT_TYPE");
	char now[32], *text;

	if ((text = mh_refused_body(r)) == NULL)
		return;
	o = json_object_new_object();
	mh_iso_from_ms(mh_now_ms(), now);
	mh_json_set_str(o, "at", now);
	mh_json_set_str(o, "provider", r->provider);
	json_object_object_add(o, "status", json_object_new_int(r->status));
	mh_json_set_str(o, "error", r->error);
	mh_json_set_str(o, "detail", r->detail);
	mh_json_set_str(o, "remote_addr", addr ? addr : "");
	mh_json_set_str(o, "method", r->method);
	mh_json_set_str(o, "content_type", ct ? ct : "");
	json_object_object_add(o, "body_bytes",
	    json_object_new_int64((int64_t)r->body_len));
	mh_json_set_str(o, "body", text);
	if (mh_store_refused_put(app->store, mh_json_text(o)) != MH_STORE_OK)
		mh_log(r, "could not log a refused request");
	free(text);
	json_object_put(o);
}

/* Each verdict's answer. */
static const enum mh_error mh_hook_answers[] = {
	[MH_HOOK_MEDIA_TYPE] = MH_ERR_UNSUPPORTED_MEDIA_TYPE,
	[MH_HOOK_NO_TOKEN] = MH_ERR_UNAUTHORIZED,
	[MH_HOOK_BAD_SIGNATURE] = MH_ERR_BAD_SIGNATURE,
	[MH_HOOK_BAD_FORM] = MH_ERR_BAD_FORM,
	[MH_HOOK_BAD_EVENTS] = MH_ERR_BAD_EVENTS,
	[MH_HOOK_BAD_CALLBACK] = MH_ERR_BAD_CALLBACK,
	[MH_HOOK_NOMEM] = MH_ERR_OUT_OF_MEMORY,
};

/* Answers a call the provider refused. */
static void
mh_hook_refuse(struct mh_request *r, enum mh_hook_verdict v, const char *why)
{
	if (v == MH_HOOK_NOMEM)
		why = "try again";
	if (v == MH_HOOK_NO_TOKEN)
		r->auth_challenge = "Basic realm=\"mailhooks\"";
	mh_respond_error(r, mh_hook_answers[v], "%s", why);
}

void
mh_hook(struct mh_app *app, struct mh_request *r)
{
	const struct mh_provider *p = mh_provider_find(r->provider);
	struct mh_hook_call c = { .cfg = app->cfg,
	    .content_type = mh_param(r, "CONTENT_TYPE"),
	    .request_uri = mh_param(r, "REQUEST_URI"), .query = r->query,
	    .authorization = mh_param(r, "HTTP_AUTHORIZATION"),
	    .signature = mh_param(r, "HTTP_X_MANDRILL_SIGNATURE") };
	enum mh_hook_verdict v;
	char why[300] = "";
	size_t items = 0;

	if (p == NULL) {
		mh_respond_error(r, MH_ERR_NOT_FOUND, "no such webhook");
		return;
	}
	if ((v = p->accept(&c, why, sizeof(why))) != MH_HOOK_OK) {
		mh_hook_refuse(r, v, why);
		return;
	}
	if (mh_ingest_body(app, r) != 0)
		return;
	c.body = r->body;
	c.len = r->body_len;
	if ((c.own_url = mh_request_url(r)) == NULL)
		v = MH_HOOK_NOMEM;
	else
		v = p->check(&c, &items, why, sizeof(why));
	free((char *)c.own_url);
	if (v != MH_HOOK_OK)
		mh_hook_refuse(r, v, why);
	else
		mh_ingest_commit(app, r, p->name, items);
}

void
mh_hook_alive(struct mh_app *app, struct mh_request *r)
{
	(void)app;
	mh_respond_json(r, 200, "{\"status\":\"ok\"}");
}

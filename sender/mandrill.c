/*
 * Mandrill's messages/send, pure: the request made of a kept mail, and
 * what its answer means. Mandrill answers an array of one result per
 * recipient, or an error {"status":"error","name":...} (mostly with a
 * 500): the name says whether trying again can help.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "sender.h"
#include "core/providers.h"

char *
mh_mandrill_request(struct json_object *mail, uint64_t id, const char *trap,
    const char *key)
{
	struct json_object *msg, *meta, *req, *sender, *given;
	const char *kind, *html;
	char idtext[24];
	char *text;

	if ((given = mh_json_get(mail, "message")) == NULL ||
	    (msg = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_foreach(given, k, v)
		json_object_object_add(msg, k, json_object_get(v));
	meta = json_object_new_object();
	if ((given = mh_json_get(msg, "metadata")) != NULL) {
		json_object_object_foreach(given, mk, mv)
			json_object_object_add(meta, mk, json_object_get(mv));
	}
	/* The mail's id joins the events Mandrill sends back to it even
	 * without the _ids; the user who sent it hears of opens. */
	snprintf(idtext, sizeof(idtext), "%" PRIu64, id);
	mh_json_set_str(meta, MH_META_MAIL, idtext);
	sender = mh_json_get(mail, "sender");
	kind = mh_json_str(sender, "kind");
	if (kind != NULL && strcmp(kind, "user") == 0 &&
	    mh_json_get(meta, MH_META_USER) == NULL)
		mh_json_copy(meta, MH_META_USER, sender, "name", 0);
	json_object_object_add(msg, "metadata", meta);
	if (trap != NULL && *trap != '\0' &&
	    (html = mh_json_str(msg, "html")) != NULL) {
		if ((text = mh_trap_html(html, trap)) == NULL) {
			json_object_put(msg);
			return NULL;
		}
		mh_json_set_str(msg, "html", text);
		free(text);
	}
	req = json_object_new_object();
	mh_json_set_str(req, "key", key);
	json_object_object_add(req, "message", msg);
	json_object_object_add(req, "async", json_object_new_boolean(0));
	text = mh_strdup(mh_json_text(req));
	json_object_put(req);
	return text;
}

/* Mandrill's error names: those a later try may get past. */
static const char *const mh_retry_names[] = { "ServiceUnavailable",
	"GeneralError", NULL };

/* An _id that can stand in a path: 1 to 64 of letters, digits, ._- */
static int
mh_remote_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static const char *const mh_rcpt_states[] = { "sent", "queued", "scheduled",
	"rejected", "invalid", NULL };

/* One element of the answer's array; -1 when it is not a result. */
static int
mh_rcpt_read(struct json_object *o, struct mh_rcpt_result *r)
{
	const char *email = mh_json_str(o, "email");
	const char *status = mh_json_str(o, "status");
	const char *id = mh_json_str(o, "_id");
	const char *reason = mh_json_str(o, "reject_reason");

	memset(r, 0, sizeof(*r));
	if (email == NULL || status == NULL ||
	    mh_in_list(status, mh_rcpt_states) == NULL ||
	    strlen(email) >= sizeof(r->email))
		return -1;
	if (reason == NULL)
		reason = mh_json_str(o, "queued_reason");
	snprintf(r->email, sizeof(r->email), "%s", email);
	snprintf(r->status, sizeof(r->status), "%s", status);
	if (id != NULL && mh_remote_id_ok(id))
		snprintf(r->id, sizeof(r->id), "%s", id);
	if (reason != NULL)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
	return 0;
}

/* A 2xx: the documented array, or an answer to try again. */
static int
mh_answer_array(struct json_object *o, struct mh_send_result *out)
{
	size_t n = json_object_array_length(o);

	if (n == 0) {
		out->outcome = MH_OUT_RETRY;
		snprintf(out->error, sizeof(out->error), "Mandrill answered an "
		    "empty list of recipients");
		return 0;
	}
	if ((out->rcpt = mh_calloc(n, sizeof(*out->rcpt))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (mh_rcpt_read(json_object_array_get_idx(o, i),
		    &out->rcpt[i]) != 0) {
			free(out->rcpt);
			out->rcpt = NULL;
			out->outcome = MH_OUT_RETRY;
			snprintf(out->error, sizeof(out->error), "Mandrill's "
			    "answer [%zu] is not a recipient's result", i);
			return 0;
		}
	out->nrcpt = n;
	out->outcome = MH_OUT_SENT;
	return 0;
}

/* An error answer, named by Mandrill or not. */
static void
mh_answer_error(const struct mh_http_answer *a, struct json_object *o,
    struct mh_send_result *out)
{
	const char *name = mh_json_str(o, "name");
	const char *message = mh_json_str(o, "message");

	if (name != NULL && strcmp(mh_json_str(o, "status") ?
	    mh_json_str(o, "status") : "", "error") == 0) {
		snprintf(out->error, sizeof(out->error), "HTTP %ld %.64s: %.160s",
		    a->status, name, message != NULL ? message : "");
		if (strcmp(name, "Invalid_Key") == 0)
			out->outcome = MH_OUT_BAD_KEY;
		else if (mh_in_list(name, mh_retry_names) != NULL ||
		    a->status == 429)
			out->outcome = MH_OUT_RETRY;
		else
			out->outcome = MH_OUT_FINAL;
		return;
	}
	snprintf(out->error, sizeof(out->error), "HTTP %ld%s%s", a->status,
	    a->location[0] ? ": a redirect to " : "", a->location);
	/* 429 and 5xx pass; a redirect is not followed but tried again (the
	 * URL may be mended); any other 4xx is for good. */
	out->outcome = a->status == 429 || a->status >= 500 ||
	    (a->status >= 300 && a->status < 400) ? MH_OUT_RETRY : MH_OUT_FINAL;
}

int
mh_mandrill_answer(const struct mh_http_answer *a, struct mh_send_result *out)
{
	struct json_object *o = NULL;
	char why[128];
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->outcome = MH_OUT_RETRY;
	/* A 2xx means Mandrill took the mail, whatever came after it: a
	 * body cut off, endless or too long is no reason to send again. */
	if (a->status >= 200 && a->status < 300 && (a->transport != 0 ||
	    a->too_long))
		out->outcome = MH_OUT_POSSIBLY_SENT;
	if (a->transport != 0 && !a->too_long) {
		snprintf(out->error, sizeof(out->error), "%s%s%s",
		    a->status >= 200 && a->status < 300 ? "HTTP 2xx, then " :
		    "", a->error, a->sent ? "" : " (nothing was sent)");
		return 0;
	}
	if (a->too_long) {
		snprintf(out->error, sizeof(out->error), "HTTP %ld: an answer "
		    "over %d bytes", a->status, MH_HTTP_BODY_MAX);
		return 0;
	}
	if (a->body != NULL)
		o = mh_json_parse(a->body, a->body_len, why, sizeof(why));
	if (a->status >= 200 && a->status < 300 &&
	    json_object_is_type(o, json_type_array))
		ret = mh_answer_array(o, out);
	else if (a->status >= 200 && a->status < 300) {
		snprintf(out->error, sizeof(out->error), "HTTP %ld, but not the "
		    "list of recipients: %s", a->status, o == NULL ?
		    "not JSON" : "another JSON value");
		out->outcome = MH_OUT_POSSIBLY_SENT;
	}
	else
		mh_answer_error(a, o, out);
	json_object_put(o);
	return ret;
}

void
mh_send_result_free(struct mh_send_result *r)
{
	free(r->rcpt);
	r->rcpt = NULL;
	r->nrcpt = 0;
}

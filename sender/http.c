/*
 * Requests in flight, with libcurl's multi interface: each a POST of
 * JSON, with a connect and a whole-request timeout, no redirect followed,
 * http and https only, and an answer read up to MH_HTTP_BODY_MAX bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "sender.h"

struct mh_xfer {
	uint64_t id;
	mh_http_done done;		/* told of its end, with ctx */
	void *ctx;
	CURL *easy;
	struct curl_slist *headers;
	char *body;			/* what is posted */
	struct mh_http_answer a;	/* what comes back */
	size_t cap;
	int64_t started;
	char errbuf[CURL_ERROR_SIZE];
	struct mh_xfer *next;
};

struct mh_http {
	CURLM *multi;
	const struct mh_send_config *cfg;
	struct mh_xfer *xfers;
	size_t running;
};

static int
mh_curl_init_once(void)
{
	static int done, ret;

	if (!done) {
		ret = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
		done = 1;
	}
	return ret;
}

struct mh_http *
mh_http_new(const struct mh_send_config *cfg)
{
	struct mh_http *h;

	if (mh_curl_init_once() != 0 || (h = mh_calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h);
		return NULL;
	}
	h->cfg = cfg;
	return h;
}

static size_t
mh_http_write(char *data, size_t size, size_t n, void *ctx)
{
	struct mh_xfer *x = ctx;
	size_t len = size * n, cap;
	char *p;

	if (x->a.body_len + len > MH_HTTP_BODY_MAX) {
		x->a.too_long = 1;
		return 0;	/* ends the transfer: CURLE_WRITE_ERROR */
	}
	if (x->a.body_len + len + 1 > x->cap) {
		cap = (x->a.body_len + len + 1) * 2;
		if (cap > MH_HTTP_BODY_MAX + 1)
			cap = MH_HTTP_BODY_MAX + 1;
		if ((p = mh_realloc(x->a.body, cap)) == NULL)
			return 0;
		x->a.body = p;
		x->cap = cap;
	}
	memcpy(x->a.body + x->a.body_len, data, len);
	x->a.body_len += len;
	x->a.body[x->a.body_len] = '\0';
	return len;
}

/* Keeps Retry-After (seconds; an HTTP date is taken as from now) and
 * Location. */
static size_t
mh_http_header(char *line, size_t size, size_t n, void *ctx)
{
	struct mh_xfer *x = ctx;
	size_t len = size * n, vlen;
	const char *v;

	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0) {
		long long s = -1;

		for (v = line + 12; *v == ' ' || *v == '\t'; v++)
			;
		if (isdigit((unsigned char)*v))
			s = strtoll(v, NULL, 10);
		else {
			char date[64];
			time_t t;

			vlen = len - (size_t)(v - line);
			snprintf(date, sizeof(date), "%.*s", (int)vlen, v);
			if ((t = curl_getdate(date, NULL)) > 0)
				s = (long long)(t - time(NULL));
		}
		x->a.retry_after_s = s < 0 ? 0 : s > 86400 ? 86400 : s;
	} else if (len > 9 && strncasecmp(line, "Location:", 9) == 0) {
		for (v = line + 9; *v == ' '; v++)
			;
		vlen = len - (size_t)(v - line);
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
			vlen--;
		snprintf(x->a.location, sizeof(x->a.location), "%.*s", (int)vlen,
		    v);
	}
	return len;
}

static void
mh_xfer_free(struct mh_xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->body);
	free(x->a.body);
	free(x);
}

static int
mh_xfer_setup(struct mh_http *h, struct mh_xfer *x, const char *url,
    const char *auth, size_t len)
{
	CURL *e = x->easy;
	struct curl_slist *l;

	if ((l = curl_slist_append(NULL, "Content-Type: application/json")) ==
	    NULL)
		return -1;
	x->headers = l;
	if ((l = curl_slist_append(l, "Expect:")) == NULL)
		return -1;
	x->headers = l;
	if (auth != NULL && (l = curl_slist_append(l, auth)) == NULL)
		return -1;
	x->headers = l;
	return curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body) ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailhooks-sender/"
	    MH_VERSION) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->cfg->connect_ms) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, h->cfg->timeout_ms) ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mh_http_write) ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, x) ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, mh_http_header) ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, x) ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf) ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, x) ? -1 : 0;
}

int
mh_http_post(struct mh_http *h, uint64_t id, const char *url,
    const char *auth, const char *body, size_t len, mh_http_done done,
    void *ctx)
{
	struct mh_xfer *x = mh_calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	x->id = id;
	x->done = done;
	x->ctx = ctx;
	x->a.retry_after_s = -1;
	x->started = mh_now_ms();
	if ((x->body = mh_strndup(body, len)) == NULL ||
	    (x->easy = curl_easy_init()) == NULL ||
	    mh_xfer_setup(h, x, url, auth, len) != 0 ||
	    curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		mh_xfer_free(x);
		return -1;
	}
	x->next = h->xfers;
	h->xfers = x;
	h->running++;
	return 0;
}

size_t
mh_http_running(const struct mh_http *h)
{
	return h->running;
}

/* Hands x's answer to its caller and forgets x. */
static void
mh_xfer_end(struct mh_http *h, struct mh_xfer *x, CURLcode code)
{
	struct mh_xfer **pp;
	curl_off_t up = 0;

	for (pp = &h->xfers; *pp != NULL && *pp != x; pp = &(*pp)->next)
		;
	if (*pp != NULL)
		*pp = x->next;
	h->running--;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->a.status);
	curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	x->a.sent = up > 0 || x->a.status != 0;
	x->a.transport = code == CURLE_WRITE_ERROR && x->a.too_long ?
	    CURLE_OK : (int)code;
	if (code != CURLE_OK)
		snprintf(x->a.error, sizeof(x->a.error), "%s", x->errbuf[0] ?
		    x->errbuf : curl_easy_strerror(code));
	x->a.ms = mh_now_ms() - x->started;
	curl_multi_remove_handle(h->multi, x->easy);
	x->done(x->ctx, x->id, &x->a);
	mh_xfer_free(x);
}

void
mh_http_run(struct mh_http *h, long wait_ms)
{
	CURLMsg *msg;
	int still, left;

	if (h->running == 0)
		return;
	curl_multi_perform(h->multi, &still);
	if ((size_t)still == h->running)
		curl_multi_poll(h->multi, NULL, 0, (int)wait_ms, NULL);
	curl_multi_perform(h->multi, &still);
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct mh_xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		if (x != NULL)
			mh_xfer_end(h, x, msg->data.result);
	}
}

void
mh_http_abort(struct mh_http *h)
{
	while (h->xfers != NULL)
		mh_xfer_end(h, h->xfers, CURLE_ABORTED_BY_CALLBACK);
}

void
mh_http_free(struct mh_http *h)
{
	if (h == NULL)
		return;
	while (h->xfers != NULL) {
		struct mh_xfer *x = h->xfers;

		h->xfers = x->next;
		curl_multi_remove_handle(h->multi, x->easy);
		mh_xfer_free(x);
	}
	curl_multi_cleanup(h->multi);
	free(h);
}

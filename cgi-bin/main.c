/*
 * mailhooks.fcgi: the FastCGI accept loop and the router.
 *
 * Each request is answered first; then, with the response finished, the
 * process drains the inbox like a queue worker would: in a thread of its
 * own under FastCGI (worker.c), so that the next request is answered
 * meanwhile, and in the process itself as a CGI program. SIGTERM sets a
 * flag and asks libfcgi to stop accepting, installed without SA_RESTART,
 * so the loop ends after the request in flight and the drain it asked for.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mailhooks.h"

static volatile sig_atomic_t mh_stopping;

static void
mh_on_term(int sig)
{
	(void)sig;
	mh_stopping = 1;
	FCGX_ShutdownPending();
}

static int
mh_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mh_on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept() must return */
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
mh_path_is(const char *path, const char *route)
{
	size_t n = strlen(route);

	/* A trailing slash names the same resource. */
	return strncmp(path, route, n) == 0 &&
	    (path[n] == '\0' || (path[n] == '/' && path[n + 1] == '\0'));
}

static void
mh_route(struct mh_app *app, struct mh_request *r)
{
	static const char messages[] = "/api/messages/";
	int get = strcmp(r->method, "GET") == 0 ||
	    strcmp(r->method, "HEAD") == 0;

	if (mh_path_is(r->path, "/webhooks/mandrill")) {
		r->provider = "mandrill";
		mh_mandrill_handle(app, r);
		return;
	}
	if (mh_path_is(r->path, "/webhooks/infobip") ||
	    mh_path_is(r->path, "/email")) {
		r->provider = "infobip";
		mh_infobip_handle(app, r);
		return;
	}
	if (mh_path_is(r->path, "/api/test-event")) {
		mh_test_event_handle(app, r);
		return;
	}
	if (strncmp(r->path, "/api/", 5) == 0 && !get) {
		mh_respond_error(r, 405, "method_not_allowed",
		    "%s is not allowed here: the API is read-only (GET, HEAD)",
		    r->method);
		return;
	}
	if (mh_path_is(r->path, "/api/events"))
		mh_api_events(app, r);
	else if (mh_path_is(r->path, "/api/email-callbacks"))
		mh_api_callbacks(app, r);
	else if (mh_path_is(r->path, "/api/stats"))
		mh_api_stats(app, r);
	else if (mh_path_is(r->path, "/api/health"))
		mh_api_health(app, r);
	else if (strncmp(r->path, messages, sizeof(messages) - 1) == 0 &&
	    r->path[sizeof(messages) - 1] != '\0' &&
	    strchr(r->path + sizeof(messages) - 1, '/') == NULL)
		mh_api_message(app, r, r->path + sizeof(messages) - 1);
	else
		mh_respond_error(r, 404, "not_found", "no route for %.200s",
		    r->path);
}

/* The route an .htaccess rewrite names, relative to where mailhooks is
 * installed (the site may live under a sub-path); Apache renames it after
 * its internal redirect. Already decoded. */
static const char *
mh_rewritten_route(const struct mh_request *r)
{
	const char *route = mh_param(r, "MAILHOOKS_ROUTE");

	if (route == NULL)
		route = mh_param(r, "REDIRECT_MAILHOOKS_ROUTE");
	return route != NULL && *route == '/' ? route : NULL;
}

/* Splits REQUEST_URI into a decoded path and the raw query, then routes. */
static void
mh_serve(struct mh_app *app, struct mh_request *r)
{
	const char *uri, *q, *route;
	size_t plen;
	long n;

	r->method = mh_param(r, "REQUEST_METHOD");
	if (r->method == NULL)
		r->method = "GET";
	uri = mh_param(r, "REQUEST_URI");
	if (uri == NULL)
		uri = mh_param(r, "SCRIPT_NAME");
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	r->query = q ? q + 1 : "";
	if ((r->path = mh_strndup(uri, plen)) == NULL) {
		mh_respond_error(r, 503, "out_of_memory", "try again");
		return;
	}
	n = mh_percent_decode(r->path, plen, 0);
	if (n >= 0 && (route = mh_rewritten_route(r)) != NULL) {
		free(r->path);
		if ((r->path = mh_strdup(route)) == NULL) {
			mh_respond_error(r, 503, "out_of_memory", "try again");
			return;
		}
		n = (long)strlen(r->path);
	}
	if (n < 0 || (size_t)n != strlen(r->path)) {
		mh_respond_error(r, 400, "bad_path",
		    "the path has a malformed percent-escape or a NUL byte");
	} else
		mh_route(app, r);
}

/* What of a refused body is kept: enough to see what was sent. */
#define MH_REFUSED_BODY 4096

/* Records a refused webhook request: why, when, from where, and the start
 * of its body (bytes outside printable ASCII written as \xHH). */
static void
mh_log_refusal(struct mh_app *app, struct mh_request *r)
{
	struct json_object *o = json_object_new_object();
	const char *addr = mh_param(r, "REMOTE_ADDR");
	const char *ct = mh_param(r, "CONTENT_TYPE");
	size_t n = r->body_len < MH_REFUSED_BODY ? r->body_len : MH_REFUSED_BODY;
	char now[32], *text = mh_malloc(n * 4 + 1), *p = text;

	if (text == NULL) {
		json_object_put(o);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->body[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			*p++ = (char)c;
		else
			p += sprintf(p, "\\x%02x", c);
	}
	*p = '\0';
	mh_now_iso(now);
	json_object_object_add(o, "at", json_object_new_string(now));
	json_object_object_add(o, "provider", json_object_new_string(r->provider));
	json_object_object_add(o, "status", json_object_new_int(r->status));
	json_object_object_add(o, "error", json_object_new_string(r->error));
	json_object_object_add(o, "detail", json_object_new_string(r->detail));
	json_object_object_add(o, "remote_addr",
	    json_object_new_string(addr ? addr : ""));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "content_type",
	    json_object_new_string(ct ? ct : ""));
	json_object_object_add(o, "body_bytes",
	    json_object_new_int64((int64_t)r->body_len));
	json_object_object_add(o, "body", json_object_new_string(text));
	if (mh_store_refused_put(app->store, mh_json_text(o)) != MH_STORE_OK)
		fprintf(stderr, "mailhooks: could not log a refused request\n");
	free(text);
	json_object_put(o);
}

/* Answers one request: its configuration, storage opened on first use
 * (where the data lives may only be known from the request), the route. */
static void
mh_handle(struct mh_app *app, struct mh_request *r)
{
	struct mh_config *cfg = app->cfg;
	enum mh_store_err err;

	if (mh_config_read(cfg, r->envp) != 0) {
		r->method = "GET";
		mh_respond_error(r, 500, "misconfigured",
		    "the server's mailhooks settings are invalid (see its log)");
		return;
	}
	if (!app->warned) {
		app->warned = 1;
		if (cfg->mandrill_keys == NULL)
			fprintf(stderr, "mailhooks: MANDRILL_WEBHOOK_KEY is not "
			    "set: webhook signatures are NOT checked\n");
		if (cfg->infobip_token == NULL)
			fprintf(stderr, "mailhooks: INFOBIP_WEBHOOK_TOKEN is not "
			    "set: Infobip callbacks are NOT authenticated\n");
		if (!cfg->fsync)
			fprintf(stderr, "mailhooks: MAILHOOKS_FSYNC=0: webhooks "
			    "are acknowledged before they reach the disk\n");
	}
	if (app->store == NULL &&
	    (err = mh_store_open(cfg->home, &app->store)) != MH_STORE_OK)
		fprintf(stderr, "mailhooks: storage in %s unavailable (%d); "
		    "answering 503\n", cfg->home, (int)err);
	if (app->store != NULL)
		mh_store_set_fsync(app->store, cfg->fsync);
	mh_serve(app, r);
	if (r->provider != NULL && r->status >= 400 && r->status < 500 &&
	    app->store != NULL)
		mh_log_refusal(app, r);
	mh_request_free(r);
}

static void
mh_reopen(struct mh_app *app)
{
	enum mh_store_err err;

	app->store_broken = 0;
	if ((err = mh_store_reopen(&app->store)) != MH_STORE_OK)
		fprintf(stderr, "mailhooks: storage reopen failed (%d)\n",
		    (int)err);
}

/* After the answer: drain the inbox, and reopen storage that needs it. */
static void
mh_after(struct mh_app *app)
{
	mh_drain(app, &app->own_receipt, app->own_receipt != 0, 1);
	app->own_receipt = 0;
	if (app->store != NULL && app->store_broken)
		mh_reopen(app);
}

/* Reopens storage that needs it (the accept loop's request or the drain
 * thread's last drain may have found that) with the thread held off it. */
static void
mh_mend_threaded(struct mh_app *app, struct mh_worker *w)
{
	if (app->store != NULL &&
	    (app->store_broken || mh_worker_broken(w))) {
		mh_worker_hold(w);
		mh_reopen(app);
		mh_worker_release(w);
	}
}

/* mh_after with a drain thread: mends storage, then asks the thread to
 * drain. */
static void
mh_after_threaded(struct mh_app *app, struct mh_worker *w)
{
	mh_mend_threaded(app, w);
	if (mh_worker_kick(w, app) != 0)
		mh_after(app);
	app->own_receipt = 0;
}

/* Input the fast close reads to its end at most; past that (a body refused
 * as too large, say) the connection is closed the slow way. */
#define MH_FINISH_DRAIN_MAX (64 * 1024)

/*
 * Finishes a FastCGI request, closing the connection at once. libfcgi's own
 * close shuts the connection for writing and then waits (up to 2 s) for the
 * web server to close its end, so that no input is left unread: closing a
 * socket with unread input resets the peer's end. That wait is a trip
 * through the web server's event loop for every request, during which this
 * process accepts nothing; with lighttpd's one thread busy passing frames
 * to a thousand WebSocket clients it was 30 to 60 ms a request. Reading
 * the input to its end here makes the plain close safe (FCGX_Detach asks
 * libfcgi for one).
 */
static void
mh_fcgi_finish(FCGX_Request *fcgi)
{
	char buf[4096];
	size_t drained = 0;
	int n;

	while (drained <= MH_FINISH_DRAIN_MAX &&
	    (n = FCGX_GetStr(buf, (int)sizeof(buf), fcgi->in)) > 0)
		drained += (size_t)n;
	if (drained <= MH_FINISH_DRAIN_MAX && fcgi->in->isClosed &&
	    FCGX_GetError(fcgi->in) == 0)
		FCGX_Detach(fcgi);
	FCGX_Finish_r(fcgi);
}

/* Run as a plain CGI program: one request on stdin and stdout, then the
 * drain once the answer is complete (stdout closed). */
static int
mh_cgi_main(struct mh_app *app)
{
	extern char **environ;
	struct mh_request r = { .fcgi = NULL, .envp = environ };

	mh_handle(app, &r);
	fflush(stdout);
	close(STDOUT_FILENO);
	mh_after(app);
	return 0;
}

int
main(void)
{
	struct mh_config cfg = { 0 };
	struct mh_app app = { .cfg = &cfg, .notify_fd = -1 };
	struct mh_worker *worker = NULL;
	FCGX_Request fcgi;
	int ret = 0;

	if (mh_signals() != 0 || FCGX_Init() != 0) {
		fprintf(stderr, "mailhooks: cannot set up\n");
		return 1;
	}
	if (FCGX_IsCGI()) {
		ret = mh_cgi_main(&app);
		goto out;
	}
	if (FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		fprintf(stderr, "mailhooks: cannot set up FastCGI\n");
		return 1;
	}
	worker = mh_worker_start();
	while (!mh_stopping && FCGX_Accept_r(&fcgi) >= 0) {
		struct mh_request r = { .fcgi = &fcgi, .envp = fcgi.envp };

		/* A broken handle found by the last drain is mended before
		 * it can fail this request. */
		if (worker != NULL) {
			mh_worker_enter(worker, &app);
			mh_mend_threaded(&app, worker);
		}
		mh_handle(&app, &r);
		mh_fcgi_finish(&fcgi);
		if (worker != NULL) {
			mh_after_threaded(&app, worker);
			mh_worker_leave(worker);
		} else
			mh_after(&app);
	}
	FCGX_Free(&fcgi, 1);
	mh_worker_stop(worker, &app);
out:
	mh_store_close(app.store);
	mh_config_free(&cfg);
	return ret;
}

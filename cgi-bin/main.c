/*
 * mailhooks.fcgi: the FastCGI accept loop and the router.
 *
 * Each request is answered first; then, with the response finished, the
 * process drains the inbox like a queue worker would. SIGTERM sets a flag
 * and asks libfcgi to stop accepting, installed without SA_RESTART, so the
 * loop ends after the request in flight.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
mh_config_read(struct mh_config *cfg)
{
	const char *v;

	memset(cfg, 0, sizeof(*cfg));
	cfg->home = getenv("MAILHOOKS_HOME");
	if (cfg->home == NULL || *cfg->home == '\0')
		cfg->home = "./var";
	v = getenv("MANDRILL_WEBHOOK_KEY");
	cfg->mandrill_keys = v && *v ? v : NULL;
	v = getenv("MANDRILL_WEBHOOK_URL");
	cfg->mandrill_url = v && *v ? v : NULL;
	v = getenv("INFOBIP_WEBHOOK_TOKEN");
	cfg->infobip_token = v && *v ? v : NULL;
	cfg->max_body = MH_MAX_BODY_DEFAULT;
	if ((v = getenv("MAILHOOKS_MAX_BODY")) != NULL && *v != '\0') {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno != 0 || *end != '\0' || n == 0 || *v == '-') {
			fprintf(stderr, "mailhooks: MAILHOOKS_MAX_BODY=%s is not "
			    "a positive number of bytes\n", v);
			return -1;
		}
		cfg->max_body = (size_t)n;
	}
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
		mh_mandrill_handle(app, r);
		return;
	}
	if (mh_path_is(r->path, "/webhooks/infobip") ||
	    mh_path_is(r->path, "/email")) {
		mh_infobip_handle(app, r);
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

/* Splits REQUEST_URI into a decoded path and the raw query, then routes. */
static void
mh_serve(struct mh_app *app, FCGX_Request *fcgi)
{
	struct mh_request r = { .fcgi = fcgi };
	const char *uri, *q;
	size_t plen;
	long n;

	r.method = mh_param(&r, "REQUEST_METHOD");
	if (r.method == NULL)
		r.method = "GET";
	uri = mh_param(&r, "REQUEST_URI");
	if (uri == NULL)
		uri = mh_param(&r, "SCRIPT_NAME");
	if (uri == NULL)
		uri = "/";
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	r.query = q ? q + 1 : "";
	if ((r.path = mh_strndup(uri, plen)) == NULL) {
		mh_respond_error(&r, 503, "out_of_memory", "try again");
		return;
	}
	n = mh_percent_decode(r.path, plen, 0);
	if (n < 0 || (size_t)n != strlen(r.path)) {
		mh_respond_error(&r, 400, "bad_path",
		    "the path has a malformed percent-escape or a NUL byte");
	} else
		mh_route(app, &r);
	mh_request_free(&r);
}

int
main(void)
{
	struct mh_config cfg;
	struct mh_app app = { .cfg = &cfg, .notify_fd = -1 };
	FCGX_Request fcgi;
	enum mh_store_err err;

	if (mh_config_read(&cfg) != 0)
		return 1;
	if (mh_signals() != 0 || FCGX_Init() != 0 ||
	    FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		fprintf(stderr, "mailhooks: cannot set up FastCGI\n");
		return 1;
	}
	if (cfg.mandrill_keys == NULL)
		fprintf(stderr, "mailhooks: MANDRILL_WEBHOOK_KEY is not set: "
		    "webhook signatures are NOT checked\n");
	if (cfg.infobip_token == NULL)
		fprintf(stderr, "mailhooks: INFOBIP_WEBHOOK_TOKEN is not set: "
		    "Infobip callbacks are NOT authenticated\n");
	if ((err = mh_store_open(cfg.home, &app.store)) != MH_STORE_OK)
		fprintf(stderr, "mailhooks: storage unavailable (%d); will "
		    "answer 503 and retry\n", (int)err);

	while (!mh_stopping && FCGX_Accept_r(&fcgi) >= 0) {
		mh_serve(&app, &fcgi);
		FCGX_Finish_r(&fcgi);
		mh_drain(&app);
		if (app.store == NULL || app.store_broken) {
			app.store_broken = 0;
			if (app.store != NULL)
				err = mh_store_reopen(&app.store);
			else
				err = mh_store_open(cfg.home, &app.store);
			if (err != MH_STORE_OK)
				fprintf(stderr, "mailhooks: storage reopen "
				    "failed (%d)\n", (int)err);
		}
	}
	FCGX_Free(&fcgi, 1);
	mh_store_close(app.store);
	return 0;
}

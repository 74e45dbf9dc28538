/*
 * mailhooks.fcgi: the FastCGI accept loop.
 *
 * Each request is answered first (route.c); then, with the response
 * finished, the process drains the inbox like a queue worker would: in a
 * thread of its own under FastCGI (worker.c), so that the next request is
 * answered meanwhile, and in the process itself as a CGI program. SIGTERM
 * sets a flag and asks libfcgi to stop accepting, installed without
 * SA_RESTART, so the loop ends after the request in flight and the drain
 * it asked for. libfcgi checks for the stop just before it calls
 * accept(): a signal in between would leave the process in accept() for
 * good (a Ctrl-C did, and the SIGTERM its server's end sends right
 * after), so the handler also puts /dev/null in the place of the
 * listening socket, on which accept() fails at once. And it sets an alarm:
 * a thread blocked for good in Berkeley DB on a mutex a killed process
 * held cannot see the flag, and the process must still end (after a kill
 * storm, Ctrl-C left two of them running).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mailhooks.h"
#include "watchdog.h"

static volatile sig_atomic_t mh_stopping;
/* Seconds a stop may take before SIGALRM (its default action) ends the
 * process: the threads' own bound (worker.c) and a little. */
#define MH_STOP_SECONDS 8
/* Longer than any request takes without writing a byte of its answer
 * (the report by tag on a million events, 3 s; an export writes as it
 * goes): past it the request is blocked for good (watchdog.c). */
#define MH_REQUEST_MAX_MS (20 * 1000)
/* /dev/null, opened under FastCGI, to put over the listening socket. */
static volatile sig_atomic_t mh_null_fd = -1;

static void
mh_on_term(int sig)
{
	(void)sig;
	if (!mh_stopping)
		alarm(MH_STOP_SECONDS);
	mh_stopping = 1;
	FCGX_ShutdownPending();
	if (mh_null_fd >= 0)
		dup2(mh_null_fd, STDIN_FILENO);	/* FastCGI listens on 0 */
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

/* Says once, at the first request, what the settings leave unprotected. */
static void
mh_warn_settings(struct mh_app *app, const struct mh_request *r)
{
	const struct mh_config *cfg = app->cfg;

	if (app->warned)
		return;
	app->warned = 1;
	if (cfg->mandrill_keys == NULL)
		mh_log(r, "MANDRILL_WEBHOOK_KEY is not set: webhook "
		    "signatures are NOT checked");
	if (cfg->infobip_token == NULL)
		mh_log(r, "INFOBIP_WEBHOOK_TOKEN is not set: Infobip callbacks "
		    "are NOT authenticated");
	if (!cfg->fsync)
		mh_log(r, "MAILHOOKS_FSYNC=0: webhooks are acknowledged before "
		    "they reach the disk");
}

/* Whether the region of MAILHOOKS_DEFAULT_REGION is one libphonenumber
 * knows: -1, said on stderr, when it is not. */
static int
mh_region_known(const struct mh_config *cfg)
{
	if (cfg->default_region[0] == '\0' ||
	    mh_phone_region_ok(cfg->default_region))
		return 0;
	fprintf(stderr, "mailhooks: MAILHOOKS_DEFAULT_REGION=%s is no region "
	    "libphonenumber knows\n", cfg->default_region);
	return -1;
}

/* Answers one request: its configuration, storage opened on first use
 * (where the data lives may only be known from the request), the route;
 * a refused webhook is logged. */
static void
mh_handle(struct mh_app *app, struct mh_request *r)
{
	mh_request_begin(r);
	if (mh_config_read(app->cfg, r->envp) != 0 ||
	    mh_region_known(app->cfg) != 0) {
		r->method = "GET";
		mh_respond_error(r, MH_ERR_MISCONFIGURED,
		    "the server's mailhooks settings are invalid (see its log)");
		mh_request_end(app, r);
		return;
	}
	mh_warn_settings(app, r);
	mh_app_open_store(app, r);
	mh_serve(app, r);
	if (r->provider != NULL && r->status >= 400 && r->status < 500 &&
	    app->store != NULL)
		mh_log_refusal(app, r);
	mh_request_end(app, r);
}

/* Whether process pid is a web server (its command's name). */
static int
mh_is_server(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (pid <= 1 || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "lighttpd", 8) == 0 ||
	    strncmp(comm, "apache2", 7) == 0 || strncmp(comm, "httpd", 5) == 0;
}

/*
 * Spawned by the web server (lighttpd's bin-path, mod_fcgid), the process
 * ends with it: SIGTERM when its parent goes. A Ctrl-C reaches every
 * process of the group once, and could be missed: by a process the web
 * server started in the moment it took to stop (a respawn), or by one in
 * libfcgi's window between its last look at the stop flag and accept(),
 * which then waits for a connection that never comes (one was left after
 * make test, its web server long gone). Not under spawn-fcgi, whose
 * parent leaves at once: the web servers' configurations name themselves
 * in MAILHOOKS_SPAWNED_BY.
 */
static void
mh_end_with_server(void)
{
	const char *by = getenv("MAILHOOKS_SPAWNED_BY");
	pid_t parent = getppid();

	/* The server's configuration says it spawns this process: a parent
	 * that is no server now means it went before this line (a process
	 * started in the moment the server took to stop was left running
	 * for good). */
	if (by != NULL && *by != '\0') {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (!mh_is_server(getppid()))
			raise(SIGTERM);
		return;
	}
	if (!mh_is_server(parent))
		return;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)	/* it went before the line above */
		raise(SIGTERM);
}

/* After the answer, without a drain thread: drain the inbox, the
 * request's own entry first, and reopen storage that needs it. */
static void
mh_after(struct mh_app *app, struct mh_drainer *dr, uint64_t receipt,
    int broken)
{
	enum mh_store_err err = MH_STORE_OK;

	if (app->store != NULL && mh_config_copy_drain(&dr->cfg, app->cfg) == 0) {
		dr->store = app->store;
		err = mh_drain(dr, &receipt, receipt != 0, 1);
	}
	if (app->store != NULL && (broken || err == MH_STORE_RECOVER))
		mh_app_reopen(app);
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
static void
mh_cgi_main(struct mh_app *app, struct mh_drainer *dr)
{
	extern char **environ;
	struct mh_request r = { .fcgi = NULL, .envp = environ };

	mh_handle(app, &r);
	fflush(stdout);
	close(STDOUT_FILENO);
	mh_after(app, dr, r.receipt, r.store_err == MH_STORE_RECOVER);
	mh_request_free(&r);
}

/* Tells the watchdog which environment the loop's handle is in. */
static void
mh_fcgi_joined(const struct mh_app *app, struct mh_watchdog *wd)
{
	if (app->store != NULL)
		mh_watchdog_joined(wd, app->cfg->home,
		    mh_store_joined(app->store));
}

/* One FastCGI request: answered, then the drain asked of the thread (or
 * done here without one). A broken handle found by the last drain is
 * mended before it can fail this request. */
static void
mh_fcgi_one(struct mh_app *app, struct mh_drainer *dr, struct mh_worker *w,
    FCGX_Request *fcgi, struct mh_watchdog *wd)
{
	struct mh_request r = { .fcgi = fcgi, .envp = fcgi->envp, .wd = wd };

	mh_watchdog_enter(wd);
	if (w != NULL) {
		mh_worker_enter(w, app);
		mh_worker_mend(w, app, 0);
	}
	mh_fcgi_joined(app, wd);
	mh_handle(app, &r);
	mh_fcgi_joined(app, wd);
	mh_fcgi_finish(fcgi);
	if (w != NULL) {
		mh_worker_mend(w, app, r.store_err == MH_STORE_RECOVER);
		mh_fcgi_joined(app, wd);
		if (mh_worker_kick(w, app, r.receipt) != 0)
			mh_after(app, dr, r.receipt, 0);
		mh_worker_leave(w, app);
	} else
		mh_after(app, dr, r.receipt, r.store_err == MH_STORE_RECOVER);
	mh_request_free(&r);
	mh_watchdog_leave(wd);
}

int
main(void)
{
	struct mh_config cfg = { 0 };
	struct mh_app app = { .cfg = &cfg };
	struct mh_drainer dr = { .relay = { .fd = -1 } };
	struct mh_worker *worker = NULL;
	struct mh_watchdog wd;
	FCGX_Request fcgi;
	int ret = 0;

	mh_heap_setup();
	if (mh_signals() != 0 || FCGX_Init() != 0) {
		fprintf(stderr, "mailhooks: cannot set up\n");
		return 1;
	}
	if (FCGX_IsCGI()) {
		mh_cgi_main(&app, &dr);
		goto out;
	}
	if (FCGX_InitRequest(&fcgi, 0, 0) != 0) {
		fprintf(stderr, "mailhooks: cannot set up FastCGI\n");
		return 1;
	}
	mh_null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	mh_end_with_server();
	worker = mh_worker_start();
	if (mh_watchdog_start(&wd, MH_REQUEST_MAX_MS) != 0)
		fprintf(stderr, "mailhooks: no watchdog thread\n");
	while (!mh_stopping && !app.open_failed && FCGX_Accept_r(&fcgi) >= 0)
		mh_fcgi_one(&app, &dr, worker, &fcgi, &wd);
	FCGX_Free(&fcgi, 1);
	mh_worker_stop(worker, &app);
out:
	mh_store_close(app.store);
	mh_counters_close(app.counters);
	mh_drainer_free(&dr);
	mh_config_free(&cfg);
	return ret;
}

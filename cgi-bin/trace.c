/*
 * What is kept of each request: its id (the web server's X-Request-Id
 * when well formed, else made here), sent back in X-Request-Id and carried
 * by every line the program logs while handling it; one line at its end
 * (method, route, status, duration, and the ids it touched); and its count
 * in the shared counters (/metrics). Nothing secret reaches the log: the
 * route is the table's pattern, never the URL (a query may hold
 * ?token=), and no header or body is written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mailhooks.h"

static double
mh_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether an id the web server passed may be used: 1 to 64 of letters,
 * digits and ._:@- (nothing that could forge a log line). */
static int
mh_id_ok(const char *id)
{
	size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@-");

	return n > 0 && n <= 64 && id[n] == '\0';
}

void
mh_request_begin(struct mh_request *r)
{
	const char *given = mh_param(r, "HTTP_X_REQUEST_ID");
	unsigned char rnd[8];

	r->started = mh_seconds();
	r->route = -1;
	if (given != NULL && mh_id_ok(given)) {
		snprintf(r->id, sizeof(r->id), "%s", given);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* No entropy yet (early boot): the clock and the process. */
		uint64_t t = (uint64_t)(r->started * 1e9) ^
		    ((uint64_t)getpid() << 40);

		memcpy(rnd, &t, sizeof(rnd));
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(r->id + 2 * i, 3, "%02x", rnd[i]);
}

void
mh_log(const struct mh_request *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int head, n;

	head = snprintf(line, sizeof(line), "mailhooks: req=%s ",
	    r != NULL && r->id[0] ? r->id : "-");
	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - (size_t)head - 2)
		n = (int)(sizeof(line) - (size_t)head - 2);
	line[head + n] = '\n';
	/* One write: the lines of processes sharing the log do not mix. */
	if (write(STDERR_FILENO, line, (size_t)(head + n + 1)) < 0)
		return;
}

/* The outcome of a POST to a webhook: accepted, or as its error says
 * (mh_errors). */
static enum mh_outcome
mh_outcome(const struct mh_request *r)
{
	if (r->status >= 200 && r->status < 300)
		return MH_OUTCOME_ACCEPTED;
	return r->error[0] != '\0' ? r->outcome : MH_OUTCOME_OTHER;
}

struct mh_counters *
mh_app_counters(struct mh_app *app)
{
	int64_t now = (int64_t)time(NULL);

	/* Tried again a minute after a failure (a full disk), not at every
	 * request: each failure is a line in the log. */
	if (app->counters == NULL && app->cfg->home != NULL &&
	    now - app->counters_tried >= 60 &&
	    (app->counters = mh_counters_open(app->cfg->home)) == NULL)
		app->counters_tried = now;
	return app->counters;
}

void
mh_request_end(struct mh_app *app, struct mh_request *r)
{
	double took = mh_seconds() - r->started;
	int webhook = r->provider != NULL && r->verb == MH_POST;
	char receipt[64] = "", message[160] = "", error[64] = "", method[64];

	mh_app_counters(app);
	mh_count_request(app->counters, r->route >= 0 ?
	    mh_routes[r->route].path : NULL, webhook ? r->provider : NULL,
	    mh_outcome(r), took);
	if (r->receipt != 0)
		snprintf(receipt, sizeof(receipt), " receipt=%llu",
		    (unsigned long long)r->receipt);
	else if (r->notification != 0)
		snprintf(receipt, sizeof(receipt), " notification=%llu",
		    (unsigned long long)r->notification);
	else if (r->about != NULL)
		snprintf(receipt, sizeof(receipt), " %s=%llu", r->about,
		    (unsigned long long)r->about_id);
	/* A message's id names it, as its handler says; a token's name or
	 * a user's id is not one of the ids the log keeps. */
	if (r->param != NULL && r->param_logged != NULL) {
		char v[128];

		mh_log_value(v, sizeof(v), r->param);
		snprintf(message, sizeof(message), " %s=%s", r->param_logged,
		    v);
	}
	if (r->error[0] != '\0')
		snprintf(error, sizeof(error), " error=%s", r->error);
	mh_log_value(method, sizeof(method), r->method);
	mh_log(r, "method=%.16s route=%s status=%d ms=%.3f%s%s%s%s%s",
	    method, r->route >= 0 ? mh_routes[r->route].path : "none",
	    r->status, took * 1e3, r->provider ? " provider=" : "",
	    r->provider ? r->provider : "", receipt, message, error);
}

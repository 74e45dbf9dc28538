/* A request as the program reads it: the route table and router (run as a
 * CGI program, its answer caught from standard output), the URL the
 * signature is over, and the body against its limit. (The query is read
 * as a form is: tests/unit/form.c.) */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "cgi-bin/mailhooks.h"

static struct mh_config cfg = { .home = "/nonexistent", .max_body = 8 };
static struct mh_app app = { .cfg = &cfg };

/* Serves a request of these parameters; returns its answer (status line,
 * headers and body), caught from standard output. */
static const char *
serve(char **params)
{
	static char answer[4096];
	struct mh_request r = { .fcgi = NULL, .envp = params };
	char path[] = "/tmp/mh-request-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	ssize_t n;

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	mh_serve(&app, &r);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, answer, sizeof(answer) - 1, 0);
	answer[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	mh_request_free(&r);
	return answer;
}

#define SERVE(...) serve((char *[]){ __VA_ARGS__, NULL })

static int
starts(const char *s, const char *prefix)
{
	int yes = strncmp(s, prefix, strlen(prefix)) == 0;

	if (!yes)
		printf("# got: %.80s\n", s);
	return yes;
}

static void
test_routes(void)
{
	const char *a;

	for (const struct mh_route *rt = mh_routes; rt->path != NULL; rt++)
		ok(rt->path[0] == '/' && rt->handle != NULL, "route %s",
		    rt->path);
	a = SERVE("REQUEST_METHOD=GET", "REQUEST_URI=/webhooks/mandrill");
	ok(starts(a, "Status: 200") && strstr(a, "{\"status\":\"ok\"}"),
	    "GET /webhooks/mandrill answers 200");
	ok(starts(SERVE("REQUEST_METHOD=HEAD", "REQUEST_URI=/webhooks/mandrill/"),
	    "Status: 200"), "a trailing slash names the same route");
	a = SERVE("REQUEST_METHOD=GET", "REQUEST_URI=/nope?x=1");
	ok(starts(a, "Status: 404") && strstr(a, "\"error\":\"not_found\"") &&
	    strstr(a, "no route for /nope\""), "no route: 404, the path named");
	a = SERVE("REQUEST_METHOD=POST", "REQUEST_URI=/api/events");
	ok(starts(a, "Status: 405") && strstr(a, "\r\nAllow: GET, HEAD\r\n") &&
	    strstr(a, "use GET, HEAD"), "another method: 405, Allow names "
	    "the route's");
	ok(starts(SERVE("REQUEST_METHOD=DELETE", "REQUEST_URI=/api/nothing"),
	    "Status: 404"), "no route: 404 whatever the method");
	a = SERVE("REQUEST_METHOD=PUT", "REQUEST_URI=/webhooks/infobip");
	ok(starts(a, "Status: 405") && strstr(a, "\r\nAllow: POST\r\n"),
	    "a webhook's too");
	a = SERVE("REQUEST_METHOD=BREW", "REQUEST_URI=/webhooks/mandrill");
	ok(starts(a, "Status: 405") &&
	    strstr(a, "\r\nAllow: GET, HEAD, POST\r\n"), "and an unknown "
	    "method's");
	a = SERVE("REQUEST_METHOD=PATCH", "REQUEST_URI=/api/campaigns/stats");
	ok(starts(a, "Status: 405") && strstr(a, "\r\nAllow: GET, HEAD\r\n"),
	    "the first path that matches decides: PATCH /api/campaigns/stats "
	    "is a 405, not a PATCH of campaign \"stats\"");
	a = SERVE("REQUEST_METHOD=OPTIONS", "REQUEST_URI=/api/clients/7");
	ok(starts(a, "Status: 405") &&
	    strstr(a, "\r\nAllow: GET, HEAD, PATCH, DELETE\r\n"),
	    "Allow names every row of the path");
	ok(starts(SERVE("REQUEST_URI=/api/messages/"), "Status: 404"),
	    "a parameter is not empty");
	ok(starts(SERVE("REQUEST_URI=/api/messages/a/b"), "Status: 404"),
	    "nor more than one segment");
	a = SERVE("REQUEST_URI=/api/messages/abc");
	ok(starts(a, "Status: 503") && strstr(a, "storage_unavailable"),
	    "a message is looked up (no storage here: 503)");
	ok(starts(SERVE("REQUEST_URI=/api/messages/m%2F1"), "Status: 503"),
	    "an id with an encoded '/' is one parameter");
	ok(starts(SERVE("REQUEST_URI=/api/%6Dessages/m%2F1"), "Status: 503"),
	    "the route's own part may be escaped too");
	ok(starts(SERVE("REQUEST_URI=/api/messages/m/1"), "Status: 404"),
	    "an unencoded '/' is another path");
	ok(starts(SERVE("REQUEST_URI=/api/x%zz"), "Status: 400"),
	    "a malformed escape in the path: 400");
	ok(starts(SERVE("REQUEST_URI=/api/x%00y"), "Status: 400"),
	    "a NUL in the path: 400");
	ok(starts(SERVE("REQUEST_URI=/hooks/index.fcgi",
	    "MAILHOOKS_ROUTE=/webhooks/mandrill"), "Status: 200"),
	    "an .htaccess rewrite names the route");
	ok(starts(SERVE("REQUEST_URI=/hooks/index.fcgi",
	    "REDIRECT_MAILHOOKS_ROUTE=/webhooks/mandrill"), "Status: 200"),
	    "also once Apache renamed it");
	ok(starts(SERVE("REQUEST_URI=/x", "MAILHOOKS_ROUTE=relative"),
	    "Status: 404"), "a route not starting with / is ignored");
	a = SERVE("REQUEST_METHOD=HEAD", "REQUEST_URI=/nope");
	ok(starts(a, "Status: 404") && strstr(a, "\r\n\r\n")[4] == '\0',
	    "HEAD: headers, no body");
}

/* Whether the URL rebuilt from these parameters is want. */
static int
url_is(char **params, const char *want)
{
	struct mh_request r = { .envp = params };
	char *u = mh_request_url(&r);
	int same = u != NULL && strcmp(u, want) == 0;

	if (!same)
		printf("# got: %s\n", u ? u : "(null)");
	free(u);
	return same;
}

#define URL_IS(want, ...) url_is((char *[]){ __VA_ARGS__, NULL }, (want))

static void
test_url(void)
{
	ok(URL_IS("http://h.example:8080/w?a=1", "HTTP_HOST=h.example:8080",
	    "REQUEST_URI=/w?a=1"), "Host and URI as sent");
	ok(URL_IS("https://s/w", "HTTPS=on", "SERVER_NAME=s",
	    "SERVER_PORT=443", "REQUEST_URI=/w"),
	    "no Host: the server's name, default port");
	ok(URL_IS("http://s:81/w", "REQUEST_SCHEME=gopher", "SERVER_NAME=s",
	    "SERVER_PORT=81", "REQUEST_URI=/w"),
	    "an unknown scheme is http; a port kept");
}

/* Reads a body of these parameters from text on standard input. */
static enum mh_body_err
body(const char *length, const char *text, struct mh_request *r)
{
	char path[] = "/tmp/mh-body-XXXXXX", cl[64];
	int fd = mkstemp(path);
	static char *params[2];

	if (write(fd, text, strlen(text)) < 0)
		return MH_BODY_NOMEM;
	close(fd);
	if (freopen(path, "rb", stdin) == NULL)
		return MH_BODY_NOMEM;
	unlink(path);
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", length);
	params[0] = cl;
	mh_request_free(r);
	*r = (struct mh_request){ .envp = params };
	return mh_request_body(r, cfg.max_body);
}

static void
test_body(void)
{
	struct mh_request r = { 0 };

	ok(body("5", "hello", &r) == MH_BODY_OK && r.body_len == 5 &&
	    strcmp(r.body, "hello") == 0, "a body of its length");
	ok(body("8", "hello", &r) == MH_BODY_SHORT, "shorter than announced");
	ok(body("9", "123456789", &r) == MH_BODY_TOO_LARGE, "over the limit");
	ok(body("-1", "x", &r) == MH_BODY_SHORT, "a negative length");
	ok(body("+1", "x", &r) == MH_BODY_SHORT, "a signed length");
	ok(body("1x", "x", &r) == MH_BODY_SHORT, "not a number");
	ok(body("", "", &r) == MH_BODY_OK && r.body_len == 0, "no length: none");
	mh_request_free(&r);
}

/* A stored record that is not JSON (an earlier version stored NaN as it
 * came) cannot make an answer invalid JSON. */
static void
test_page(void)
{
	static const char nan[] = "{\"seq\":7,\"tags\":[NaN]}";
	static const char good[] = "{\"seq\":8,\"subject\":\"\\u00e9\"}";
	struct mh_page pg = { 0 };
	char why[160];

	mh_buf_str(&pg.buf, "[");
	mh_page_emit(&pg, 7, nan, sizeof(nan) - 1);
	mh_page_emit(&pg, 8, good, sizeof(good) - 1);
	mh_buf_str(&pg.buf, "]");
	is_str(pg.buf.p, "[{\"unreadable_record\":7},{\"seq\":8,\"subject\":"
	    "\"\\u00e9\"}]", "a record that is not JSON is a stand-in");
	ok(mh_json_check(pg.buf.p, pg.buf.len, 8, why, sizeof(why)) == 0,
	    "the page is JSON");
	ok(pg.count == 2 && pg.last == 8, "counted, the cursor moves on");
	free(pg.buf.p);
}

int
main(void)
{
	test_routes();
	test_page();
	test_url();
	test_body();
	return done_testing();
}

/*
 * The parts of one request the handlers need: parameters, the path and
 * query, the body read against a limit, the URL as the client sent it (the
 * base of the Mandrill signature), and the response's bytes out. A request
 * comes over FastCGI, or, run as a plain CGI program, on stdin and stdout.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"
#include "watchdog.h"

const char *
mh_param(const struct mh_request *r, const char *name)
{
	return FCGX_GetParam(name, r->envp);
}

static int
mh_read(struct mh_request *r, char *buf, int n)
{
	if (r->fcgi != NULL)
		return FCGX_GetStr(buf, n, r->fcgi->in);
	return (int)fread(buf, 1, (size_t)n, stdin);
}

void
mh_request_progress(struct mh_request *r)
{
	if (r->wd != NULL)
		mh_watchdog_enter(r->wd);
}

int
mh_write(struct mh_request *r, const char *data, size_t len)
{
	/* A long answer (an export) is a request making progress. */
	if (r->wd != NULL)
		mh_watchdog_enter(r->wd);
	if (r->fcgi != NULL)
		return FCGX_PutStr(data, (int)len, r->fcgi->out) == (int)len ?
		    0 : -1;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

enum mh_body_err
mh_request_body(struct mh_request *r, size_t max)
{
	const char *cl = mh_param(r, "CONTENT_LENGTH");
	unsigned long long want = 0;
	size_t got = 0;
	int n;

	if (cl != NULL && *cl != '\0' && mh_parse_uint(cl, ULLONG_MAX,
	    &want) != 0)
		return MH_BODY_SHORT;
	if (want > max)
		return MH_BODY_TOO_LARGE;
	if ((r->body = mh_malloc((size_t)want + 1)) == NULL)
		return MH_BODY_NOMEM;
	while (got < want) {
		int chunk = want - got > (1u << 30) ? 1 << 30 : (int)(want - got);

		if ((n = mh_read(r, r->body + got, chunk)) <= 0)
			break;
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return got == want ? MH_BODY_OK : MH_BODY_SHORT;
}

char *
mh_request_url(const struct mh_request *r)
{
	const char *https = mh_param(r, "HTTPS");
	const char *scheme = mh_param(r, "REQUEST_SCHEME");
	const char *host = mh_param(r, "HTTP_HOST");
	const char *uri = mh_param(r, "REQUEST_URI");
	const char *port = mh_param(r, "SERVER_PORT");
	char hostbuf[512];
	size_t n;
	char *url;

	if (https != NULL && (strcmp(https, "on") == 0 ||
	    strcmp(https, "1") == 0))
		scheme = "https";
	else if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0))
		scheme = "http";
	if (host == NULL || *host == '\0') {
		const char *name = mh_param(r, "SERVER_NAME");
		int dflt = port == NULL ||
		    (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
		    (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0);

		snprintf(hostbuf, sizeof(hostbuf), "%s%s%s",
		    name ? name : "localhost", dflt ? "" : ":",
		    dflt ? "" : port);
		host = hostbuf;
	}
	if (uri == NULL)
		uri = "/";
	n = strlen(scheme) + 3 + strlen(host) + strlen(uri) + 1;
	if ((url = mh_malloc(n)) == NULL)
		return NULL;
	snprintf(url, n, "%s://%s%s", scheme, host, uri);
	return url;
}


void
mh_request_free(struct mh_request *r)
{
	free(r->path);
	free(r->raw_path);
	free(r->param);
	free(r->body);
	r->path = r->raw_path = r->param = NULL;
	r->body = NULL;
	r->body_len = 0;
}

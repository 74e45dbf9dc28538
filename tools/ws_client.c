/*
 * mailhooks-ws: a small WebSocket client for the relay's feed.
 *
 *   mailhooks-ws [-n COUNT] [-t SECONDS] [-o ORIGIN]
 *       ws://HOST:PORT/ws?ticket=TICKET&types=open,click
 *
 * Prints each text frame on its own line on stdout as it arrives, and
 * "connected" on stderr once subscribed. Exits 0 after COUNT frames (or on
 * a clean close when no COUNT was given), 2 when SECONDS pass first, 1 when
 * the connection fails. It sends the Origin a page of the site would
 * (http://HOST:PORT), or ORIGIN.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

struct mh_ws {
	long want;		/* frames to read before exiting, 0: no limit */
	long got;
	int done;
	int status;
	char *frame;		/* reassembly of a fragmented message */
	size_t flen;
};

static int
mh_ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct mh_ws *st = lws_context_user(lws_get_context(wsi));
	char *nf;

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		fprintf(stderr, "connected\n");
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fprintf(stderr, "mailhooks-ws: connection failed: %s\n",
		    in ? (const char *)in : "unknown error");
		st->status = 1;
		st->done = 1;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if ((nf = realloc(st->frame, st->flen + len + 1)) == NULL) {
			st->status = 1;
			st->done = 1;
			return -1;
		}
		st->frame = nf;
		memcpy(st->frame + st->flen, in, len);
		st->flen += len;
		if (!lws_is_final_fragment(wsi))
			break;
		fwrite(st->frame, 1, st->flen, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		st->flen = 0;
		if (st->want > 0 && ++st->got >= st->want) {
			st->status = 0;
			st->done = 1;
			return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!st->done) {
			fprintf(stderr, "mailhooks-ws: closed by the server\n");
			st->status = st->want > 0 ? 1 : 0;
		}
		st->done = 1;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols mh_ws_protocols[] = {
	{ "mailhooks-client", mh_ws_cb, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
mh_usage(void)
{
	fprintf(stderr, "usage: mailhooks-ws [-n COUNT] [-t SECONDS] "
	    "[-o ORIGIN] ws://HOST:PORT/PATH\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info cc;
	struct mh_ws st = { .status = 2 };
	struct lws_context *ctx;
	const char *proto, *addr, *upath, *origin = NULL;
	char url[2048], path[2048], host[300], own[320];
	long timeout = 0;
	time_t start;
	int opt, port;

	while ((opt = getopt(argc, argv, "n:t:o:")) != -1) {
		switch (opt) {
		case 'o':
			origin = optarg;
			break;
		case 'n':
			st.want = strtol(optarg, NULL, 10);
			break;
		case 't':
			timeout = strtol(optarg, NULL, 10);
			break;
		default:
			mh_usage();
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= sizeof(url))
		mh_usage();
	strcpy(url, argv[optind]);
	if (lws_parse_uri(url, &proto, &addr, &port, &upath) != 0 ||
	    strcmp(proto, "ws") != 0) {
		fprintf(stderr, "mailhooks-ws: only ws:// URLs are supported\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/%s", upath);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = mh_ws_protocols;
	/* The Origin as given: lws would put "http://" before it. */
	info.options = LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN;
	info.user = &st;
	if ((ctx = lws_create_context(&info)) == NULL)
		return 1;
	memset(&cc, 0, sizeof(cc));
	cc.context = ctx;
	cc.address = addr;
	cc.port = port;
	cc.path = path;
	/* As a browser would: the Host with its port, and the page's
	 * Origin (-o), this site's unless said. */
	snprintf(host, sizeof(host), "%s:%d", addr, port);
	snprintf(own, sizeof(own), "http://%s", host);
	cc.host = host;
	cc.origin = origin != NULL ? origin : own;
	cc.protocol = NULL;
	cc.local_protocol_name = "mailhooks-client";
	if (lws_client_connect_via_info(&cc) == NULL) {
		fprintf(stderr, "mailhooks-ws: cannot connect to %s\n", addr);
		lws_context_destroy(ctx);
		return 1;
	}
	start = time(NULL);
	while (!st.done) {
		if (lws_service(ctx, 100) < 0)
			break;
		if (timeout > 0 && time(NULL) - start >= timeout) {
			fprintf(stderr, "mailhooks-ws: timed out after %ld s "
			    "with %ld frames\n", timeout, st.got);
			st.status = 2;
			st.done = 1;	/* the close that follows is ours */
			break;
		}
	}
	lws_context_destroy(ctx);
	free(st.frame);
	return st.status;
}

/*
 * The bench's baseline: a FastCGI responder that reads the request body
 * and answers 200 with a small JSON object, doing nothing else. Run by the
 * same lighttpd configuration as mailhooks.fcgi, it measures what the web
 * server and the FastCGI round trip cost alone. Asked for
 * .../messages/send.json it is a Mandrill that answers at once: the
 * first recipient of the body, sent, with an _id of its own; asked for
 * .../send/ID it is the campaigns' external API answering at once.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t null_stopping;

static void
null_on_term(int sig)
{
	(void)sig;
	null_stopping = 1;
	FCGX_ShutdownPending();
}

int
main(void)
{
	FCGX_Request req;
	struct sigaction sa = { .sa_handler = null_on_term };
	char buf[65536], email[256];
	unsigned long n = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (!null_stopping && FCGX_Accept_r(&req) >= 0) {
		const char *uri = FCGX_GetParam("REQUEST_URI", req.envp), *to;
		int got = FCGX_GetStr(buf, sizeof(buf) - 1, req.in);

		buf[got > 0 ? got : 0] = '\0';
		while (FCGX_GetStr(email, sizeof(email), req.in) > 0)
			continue;
		if (uri != NULL && strstr(uri, "/send/") != NULL) {
			FCGX_PutS("Status: 200 OK\r\n"
			    "Content-Type: application/json\r\n\r\n"
			    "{\"code\":0,\"message\":\"OK\"}\n", req.out);
			FCGX_Finish_r(&req);
			continue;
		}
		if (uri == NULL || strstr(uri, "/messages/send.json") == NULL) {
			FCGX_PutS("Status: 200 OK\r\n"
			    "Content-Type: application/json\r\n\r\n"
			    "{\"accepted\": 1, \"receipt\": \"0\"}\n", req.out);
			FCGX_Finish_r(&req);
			continue;
		}
		email[0] = '\0';
		if ((to = strstr(buf, "\"to\":[{\"email\":\"")) != NULL)
			sscanf(to + 17, "%255[^\"]", email);
		FCGX_FPrintF(req.out, "Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "[{\"email\":\"%s\",\"status\":\"sent\",\"_id\":"
		    "\"null%lu\",\"reject_reason\":null}]\n", email, ++n);
		FCGX_Finish_r(&req);
	}
	return 0;
}

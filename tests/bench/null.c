/*
 * The bench's baseline: a FastCGI responder that reads the request body
 * and answers 200 with a small JSON object, doing nothing else. Run by the
 * same lighttpd configuration as mailhooks.fcgi, it measures what the web
 * server and the FastCGI round trip cost alone.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stddef.h>

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
	char buf[65536];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (!null_stopping && FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			continue;
		FCGX_PutS("Status: 200 OK\r\n"
		    "Content-Type: application/json\r\n\r\n"
		    "{\"accepted\": 1, \"receipt\": \"0\"}\n", req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}

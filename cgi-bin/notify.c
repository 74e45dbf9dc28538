/*
 * Best-effort signal to the relay: one datagram per newly stored event on
 * $MAILHOOKS_HOME/relay.sock. Nothing depends on it arriving: a page that
 * missed one catches up from /api/events?after=SEQ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mailhooks.h"

static int
mh_relay_addr(const char *home, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/relay.sock",
	    home) >= (int)sizeof(sun->sun_path))
		return -1;
	return 0;
}

int
mh_notify_open(const char *home)
{
	(void)home;
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

void
mh_notify_event(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_app *app = ctx;
	struct sockaddr_un sun;

	if (app->notify_fd < 0 || mh_relay_addr(app->cfg->home, &sun) != 0)
		return;
	if (sendto(app->notify_fd, json, len, 0, (struct sockaddr *)&sun,
	    sizeof(sun)) < 0 && !app->relay_warned) {
		/* One line per drain: a batch must not flood the log. */
		fprintf(stderr, "mailhooks: relay not told of event %llu and "
		    "any after it in this batch: %s\n",
		    (unsigned long long)seq, strerror(errno));
		app->relay_warned = 1;
	}
}

int
mh_relay_up(const char *home)
{
	struct sockaddr_un sun;
	int fd, up;

	if (mh_relay_addr(home, &sun) != 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	up = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return up;
}

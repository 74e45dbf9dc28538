/*
 * Sending windows in a client's own time zone. The C library knows the
 * zones (localtime_r, mktime) but only through the TZ variable, and
 * changing the environment while libcurl's resolver threads may read it
 * is unsafe; so a helper process, forked before any thread and with one
 * thread of its own, answers each question over a pair of pipes with
 * its own TZ set. Answers are cached for the minute they hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sender.h"

/* The helper's loop: "zone now from to\n" in, the answer out. */
static void
mh_tzwin_serve(int in, int out)
{
	FILE *r = fdopen(in, "r"), *w = fdopen(out, "w");
	char line[512], zone[256];
	long long now;
	int from, to;

	if (r == NULL || w == NULL)
		_exit(1);
	while (fgets(line, sizeof(line), r) != NULL) {
		int64_t next = -1;

		if (sscanf(line, "%255s %lld %d %d", zone, &now, &from, &to) == 4)
			next = mh_window_next(zone, now, from, to);
		fprintf(w, "%" PRId64 "\n", next);
		fflush(w);
	}
	_exit(0);
}

struct mh_tzwin_memo {
	char zone[64];
	int64_t minute;
	int from, to;
	int64_t next;
};
#define MH_TZWIN_MEMO 64

struct mh_tzwin {
	pid_t pid;
	FILE *to, *from;
	struct mh_tzwin_memo memo[MH_TZWIN_MEMO];
};

struct mh_tzwin *
mh_tzwin_start(void)
{
	struct mh_tzwin *z = mh_calloc(1, sizeof(*z));
	int down[2] = { -1, -1 }, up[2] = { -1, -1 };

	if (z == NULL)
		return NULL;
	if (pipe(down) != 0 || pipe(up) != 0 || (z->pid = fork()) < 0)
		goto err;
	if (z->pid == 0) {
		signal(SIGTERM, SIG_IGN);	/* it ends with its pipe */
		signal(SIGINT, SIG_IGN);
		close(down[1]);
		close(up[0]);
		mh_tzwin_serve(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	if ((z->to = fdopen(down[1], "w")) == NULL)
		close(down[1]);
	if ((z->from = fdopen(up[0], "r")) == NULL)
		close(up[0]);
	if (z->to == NULL || z->from == NULL) {
		kill(z->pid, SIGKILL);
		mh_tzwin_stop(z);
		return NULL;
	}
	return z;
err:
	fprintf(stderr, "mailhooks-sender: the time zone helper would not "
	    "start: %s\n", strerror(errno));
	for (int i = 0; i < 2; i++) {
		if (down[i] >= 0)
			close(down[i]);
		if (up[i] >= 0)
			close(up[i]);
	}
	free(z);
	return NULL;
}

int64_t
mh_tzwin_next(struct mh_tzwin *z, const char *zone, int64_t now_s,
    int from_min, int to_min)
{
	struct mh_tzwin_memo *m;
	char line[64];
	unsigned h = 5381;
	int64_t next;

	if (z == NULL || zone == NULL || strlen(zone) >= sizeof(m->zone) ||
	    strpbrk(zone, " \n") != NULL)
		return -1;
	for (const char *p = zone; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	m = &z->memo[(h + (unsigned)from_min * 7 + (unsigned)to_min) %
	    MH_TZWIN_MEMO];
	/* Within one minute a client's local minute, and so the answer,
	 * holds (zones move by whole minutes). */
	if (m->minute == now_s / 60 && m->from == from_min &&
	    m->to == to_min && strcmp(m->zone, zone) == 0)
		return m->next > 0 && m->next <= now_s ? 0 : m->next;
	if (fprintf(z->to, "%s %" PRId64 " %d %d\n", zone, now_s / 60 * 60,
	    from_min, to_min) < 0 || fflush(z->to) != 0 ||
	    fgets(line, sizeof(line), z->from) == NULL)
		return -1;
	next = strtoll(line, NULL, 10);
	snprintf(m->zone, sizeof(m->zone), "%s", zone);
	m->minute = now_s / 60;
	m->from = from_min;
	m->to = to_min;
	m->next = next;
	return next;
}

void
mh_tzwin_stop(struct mh_tzwin *z)
{
	if (z == NULL)
		return;
	if (z->to != NULL)
		fclose(z->to);
	if (z->from != NULL)
		fclose(z->from);
	if (z->pid > 0)
		waitpid(z->pid, NULL, 0);
	free(z);
}

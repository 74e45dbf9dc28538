/*
 * What a person should know of a campaign before it runs: a window that
 * never opens, in some of its clients' time zones, between the campaign's
 * start (or now) and its end; their messages would only expire. The
 * clients its filter reaches are walked once and counted by zone; the
 * zones are asked of a child process, since the C library reads a zone
 * only through TZ and this process has other threads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_ZONES_MAX 512	/* the tz database has fewer */
/* Past this long, a daily window opens whatever the zone (a day, and a
 * change of summer time). */
#define MH_WINDOW_SURE_S (26 * 3600)

struct mh_zone_count {
	const struct mh_campaign_plan *plan;
	char *zone[MH_ZONES_MAX];
	uint64_t clients[MH_ZONES_MAX];
	size_t n;
};

/* Counts a client its campaign reaches under its zone. */
static int
mh_zone_count_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_zone_count *z = ctx;
	struct json_object *c = json_tokener_parse(json);
	const char *zone = mh_json_str(c, "timezone");
	size_t i;

	(void)id;
	(void)len;
	if (c != NULL && zone != NULL && mh_campaign_matches(z->plan, c)) {
		for (i = 0; i < z->n && strcmp(z->zone[i], zone) != 0; i++)
			;
		if (i == z->n && z->n < MH_ZONES_MAX &&
		    (z->zone[i] = mh_strdup(zone)) != NULL)
			z->n++;
		if (i < z->n)
			z->clients[i]++;
	}
	json_object_put(c);
	return 0;
}

/* Whether the window opens in each zone between from_s and until_s, into
 * opens[] (1, 0; -1 unknown), asked of a child. -1 when none can be
 * forked. */
static int
mh_zones_ask(const struct mh_zone_count *z, int64_t from_s, int64_t until_s,
    signed char *opens)
{
	int fd[2], status;
	ssize_t got = 0, n;
	pid_t pid;

	if (pipe(fd) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		for (size_t i = 0; i < z->n; i++) {
			signed char o = (signed char)mh_window_opens(z->zone[i],
			    from_s, until_s, z->plan->from_min, z->plan->to_min);

			if (write(fd[1], &o, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(fd[1]);
	while ((size_t)got < z->n && (n = read(fd[0], opens + got,
	    z->n - (size_t)got)) > 0)
		got += n;
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return (size_t)got == z->n ? 0 : -1;
}

/* The warning of the zones where the window never opens, into list. */
static void
mh_warn_never(struct json_object *list, const struct mh_zone_count *z,
    const signed char *opens)
{
	struct json_object *w, *zones = json_object_new_array();
	uint64_t clients = 0;
	char detail[300];

	for (size_t i = 0; i < z->n; i++)
		if (opens[i] == 0) {
			clients += z->clients[i];
			json_object_array_add(zones, json_object_new_string(
			    z->zone[i]));
		}
	if (clients == 0) {
		json_object_put(zones);
		return;
	}
	snprintf(detail, sizeof(detail), "the window never opens before the "
	    "end for %" PRIu64 " client%s (%zu time zone%s): their messages "
	    "will expire unsent", clients, clients == 1 ? "" : "s",
	    json_object_array_length(zones),
	    json_object_array_length(zones) == 1 ? "" : "s");
	w = json_object_new_object();
	mh_json_set_str(w, "code", "window_never_opens");
	json_object_object_add(w, "clients", json_object_new_int64(
	    (int64_t)clients));
	json_object_object_add(w, "timezones", zones);
	mh_json_set_str(w, "detail", detail);
	json_object_array_add(list, w);
}

struct json_object *
mh_campaign_warnings(struct mh_app *app, const char *json, int64_t now_ms)
{
	struct json_object *list = json_object_new_array();
	struct mh_query q = { .table = MH_TABLE_CLIENTS, .limit = 1000 };
	struct mh_campaign_plan p;
	struct mh_zone_count *z;
	signed char opens[MH_ZONES_MAX];
	int64_t from_ms;

	if (mh_campaign_plan_read(json, &p) != 0)
		return list;
	from_ms = p.start_ms > now_ms ? p.start_ms : now_ms;
	if (p.deleted || !p.windowed || from_ms >= p.end_ms ||
	    p.end_ms - from_ms >= (int64_t)MH_WINDOW_SURE_S * 1000 ||
	    app->store == NULL || (z = mh_calloc(1, sizeof(*z))) == NULL)
		goto out;
	z->plan = &p;
	if (mh_store_query_all(app->store, &q, mh_zone_count_one, z) ==
	    MH_STORE_OK && z->n > 0 && mh_zones_ask(z, from_ms / 1000,
	    p.end_ms / 1000, opens) == 0)
		mh_warn_never(list, z, opens);
	for (size_t i = 0; i < z->n; i++)
		free(z->zone[i]);
	free(z);
out:
	mh_campaign_plan_free(&p);
	return list;
}

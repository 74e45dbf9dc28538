/* The shared counters keyed by name: a counters file as the previous
 * version wrote it (layout 1: routes and providers by their position in
 * that version's tables) is read by this one with every label's value
 * kept; a route counted later takes a slot of its own and moves none. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "core/core.h"
#include "core/counters.h"

/* Layout 1, as the previous version laid it out. */
struct v1_file {
	uint64_t magic;
	uint64_t webhook[2][9];
	struct {
		uint64_t bucket[12], count, sum_us;
	} route[64];
	uint64_t ws_connections, ws_frames, ws_refused;
	uint64_t mail_attempts[4];
};

/* The previous version's route table, in its order (index 63: none). */
static const char *const v1_routes[] = {
	"/webhooks/mandrill", "/webhooks/infobip", "/email", "/api/test-event",
	"/api/events", "/api/events.csv", "/api/events.ndjson",
	"/api/email-callbacks", "/api/stats", "/api/stats/series",
	"/api/stats/by", "/api/stats/links", "/api/recipients/{email}",
	"/api/refused", "/api/raw/{receipt}/reprocess", "/api/raw/{receipt}",
	"/api/health", "/api/messages/{id}", "/metrics", "/api/session",
	"/api/ws-ticket", "/api/ws-tickets", "/api/tokens",
	"/api/tokens/{name}", "/api/notifications",
	"/api/notifications/{key}/read-all", "/api/notifications/{key}",
	"/api/mail", "/api/mail/{id}/cancel", "/api/mail/{id}", "/api/clients",
	"/api/clients/{id}", "/api/campaigns", "/api/campaigns/stats",
	"/api/campaigns/audience", "/api/campaigns/{id}/stats",
	"/api/campaigns/{id}/messages", "/api/campaigns/{id}",
};
#define V1_ROUTES (sizeof(v1_routes) / sizeof(v1_routes[0]))

static char home[] = "/tmp/mh-counters-XXXXXX";

static void
write_v1(const char *path)
{
	struct v1_file v;
	int fd;

	memset(&v, 0, sizeof(v));
	v.magic = 0x6d68636e74720001ULL;
	for (int p = 0; p < 2; p++)
		for (int o = 0; o < 9; o++)
			v.webhook[p][o] = 1000 * (p + 1) + o;
	for (size_t i = 0; i < 64; i++) {
		if (i >= V1_ROUTES && i != 63)
			continue;
		v.route[i].count = 100 + i;
		v.route[i].sum_us = 7000 + i;
		v.route[i].bucket[i % 12] = 100 + i;
	}
	v.ws_connections = 5;
	v.ws_frames = 123456;
	v.ws_refused = 7;
	for (int o = 0; o < 4; o++)
		v.mail_attempts[o] = 50 + o;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		exit(1);
	close(fd);
}

/* How many of layout 1's labels read back with their values (but skip,
 * counted since). */
static size_t
labels_kept(struct mh_counter_file *f, const char *skip)
{
	size_t kept = 0;

	for (size_t i = 0; i < 64; i++) {
		const char *name = i == 63 ? "none" : i < V1_ROUTES ?
		    v1_routes[i] : NULL;
		struct mh_route_slot *rs;

		if (name == NULL || (skip != NULL && strcmp(name, skip) == 0))
			continue;
		rs = MH_ROUTE_SLOT(f, name, 0);
		if (rs != NULL && rs->counts.count == 100 + i &&
		    rs->counts.sum_us == 7000 + i &&
		    rs->counts.bucket[i % 12] == 100 + i)
			kept++;
		else
			printf("# %s lost its counts\n", name);
	}
	return kept;
}

static int
outcomes_kept(struct mh_counter_file *f)
{
	static const char *const names[] = { "mandrill", "infobip" };
	int kept = 0;

	for (int p = 0; p < 2; p++) {
		struct mh_provider_slot *ps = MH_PROVIDER_SLOT(f, names[p], 0);

		for (int o = 0; ps != NULL && o < 9; o++)
			kept += ps->outcome[o] == (uint64_t)(1000 * (p + 1) + o);
	}
	return kept;
}

int
main(void)
{
	struct mh_counters *c;
	struct mh_counter_file *f;
	char path[256];

	if (mkdtemp(home) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/metrics.counters", home);
	write_v1(path);

	c = mh_counters_open(home);
	f = mh_counters_file(c);
	if (!ok(f != NULL, "a file of layout 1 opens"))
		return done_testing();
	ok(labels_kept(f, NULL) == V1_ROUTES + 1, "every route's label keeps its "
	    "count, sum and buckets (%zu labels)", V1_ROUTES + 1);
	ok(outcomes_kept(f) == 18, "every provider's outcomes keep theirs");
	ok(f->ws_connections == 5 && f->ws_frames == 123456 &&
	    f->ws_refused == 7, "the relay's counts are kept");
	ok(f->mail_attempts[0] == 50 && f->mail_attempts[3] == 53,
	    "the sender's attempts are kept");

	/* A route added later, and one of the table's, counted now. */
	mh_count_request(c, "/api/added-later", "a-third-provider",
	    MH_OUTCOME_ACCEPTED, 0.002);
	mh_count_request(c, "/api/events", NULL, MH_OUTCOME_OTHER, 0.002);
	ok(MH_ROUTE_SLOT(f, "/api/added-later", 0) != NULL &&
	    MH_ROUTE_SLOT(f, "/api/added-later", 0)->counts.count == 1,
	    "a route added later is counted in a slot of its own");
	ok(MH_PROVIDER_SLOT(f, "a-third-provider", 0) != NULL &&
	    MH_PROVIDER_SLOT(f, "a-third-provider", 0)->outcome[
	    MH_OUTCOME_ACCEPTED] == 1, "so is a provider added later");
	ok(MH_ROUTE_SLOT(f, "/api/events", 0)->counts.count == 105,
	    "a route's count goes on from where layout 1 left it");
	ok(outcomes_kept(f) == 18, "and no provider's counts moved");
	mh_counters_close(c);

	/* Opened again: upgraded once, not twice. */
	c = mh_counters_open(home);
	f = mh_counters_file(c);
	ok(f != NULL && labels_kept(f, "/api/events") == V1_ROUTES, "opened again, the "
	    "counts are as they were (one route counted since: %zu others)",
	    V1_ROUTES);
	ok(f != NULL && MH_ROUTE_SLOT(f, "/api/events", 0)->counts.count ==
	    105, "and that one is as it was counted");
	ok(MH_ROUTE_SLOT(f, "/no/such/route", 0) == NULL, "a name never "
	    "counted has no slot");
	mh_counters_close(c);

	unlink(path);
	rmdir(home);
	return done_testing();
}

/*
 * Counters every process on one data directory shares: a file
 * (HOME/metrics.counters) each maps, whose counters are atomics. The web
 * server starts and kills FastCGI processes at will; what they counted
 * stays in the file. An increment is one atomic add on the shared page, so
 * no count is lost to a race, and a process killed between two requests
 * has lost none. The file does not outlive a reboot (the counters start
 * again from 0, which Prometheus' rate() expects of counters). The relay
 * counts its subscribers and frames here too, so /metrics reads them all
 * in one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "counters.h"

/* The layout's mark: a file of layout 1 is read into this one, a file of
 * another is made anew. */
#define MH_COUNTERS_MAGIC 0x6d68636e74720002ULL	/* "mhcntr", 2 */
#define MH_COUNTERS_MAGIC_1 0x6d68636e74720001ULL

struct mh_counters {
	struct mh_counter_file *file;
};

const char *const mh_outcome_names[MH_OUTCOME_COUNT] = {
	[MH_OUTCOME_ACCEPTED] = "accepted",
	[MH_OUTCOME_BAD_SIGNATURE] = "bad_signature",
	[MH_OUTCOME_UNAUTHORIZED] = "unauthorized",
	[MH_OUTCOME_BAD_INPUT] = "bad_input",
	[MH_OUTCOME_TOO_LARGE] = "too_large",
	[MH_OUTCOME_UNSUPPORTED] = "unsupported_media_type",
	[MH_OUTCOME_NOT_ALLOWED] = "method_not_allowed",
	[MH_OUTCOME_UNAVAILABLE] = "unavailable",
	[MH_OUTCOME_OTHER] = "other",
};

const char *const mh_attempt_names[MH_ATTEMPT_COUNT] = {
	[MH_ATTEMPT_SENT] = "sent",
	[MH_ATTEMPT_RETRY] = "retry",
	[MH_ATTEMPT_FAILED] = "failed",
	[MH_ATTEMPT_INTERRUPTED] = "interrupted",
};

const double mh_duration_bounds[MH_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

/*
 * Layout 1 kept routes and providers by their position in the tables of
 * its version, whose labels these are: its counts are carried over under
 * them. Frozen: the tables of later versions change, these do not.
 */
#define MH_V1_ROUTES 64
#define MH_V1_PROVIDERS 2
#define MH_V1_OUTCOMES 9
#define MH_V1_ATTEMPTS 4
struct mh_counter_file_v1 {
	uint64_t magic;
	uint64_t webhook[MH_V1_PROVIDERS][MH_V1_OUTCOMES];
	struct {
		uint64_t bucket[MH_BUCKETS], count, sum_us;
	} route[MH_V1_ROUTES];
	uint64_t ws_connections, ws_frames, ws_refused;
	uint64_t mail_attempts[MH_V1_ATTEMPTS];
};
static const char *const mh_v1_providers[MH_V1_PROVIDERS] = {
	"mandrill", "infobip",
};
static const char *const mh_v1_routes[] = {
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
#define MH_V1_NAMED (sizeof(mh_v1_routes) / sizeof(mh_v1_routes[0]))

/* The counts of a layout 1 file, each under its label, into f. */
static void
mh_counters_carry(const struct mh_counter_file_v1 *old,
    struct mh_counter_file *f)
{
	struct mh_route_slot *rs;
	struct mh_provider_slot *ps;

	for (int p = 0; p < MH_V1_PROVIDERS; p++)
		if ((ps = MH_PROVIDER_SLOT(f, mh_v1_providers[p], 1)) != NULL)
			for (int o = 0; o < MH_V1_OUTCOMES; o++)
				ps->outcome[o] = old->webhook[p][o];
	for (int i = 0; i < MH_V1_ROUTES; i++) {
		const char *name = i == MH_V1_ROUTES - 1 ? "none" :
		    (size_t)i < MH_V1_NAMED ? mh_v1_routes[i] : NULL;

		if (name == NULL)
			continue;
		if (old->route[i].count == 0 ||
		    (rs = MH_ROUTE_SLOT(f, name, 1)) == NULL)
			continue;
		for (int k = 0; k < MH_BUCKETS; k++)
			rs->counts.bucket[k] = old->route[i].bucket[k];
		rs->counts.count = old->route[i].count;
		rs->counts.sum_us = old->route[i].sum_us;
	}
	f->ws_connections = old->ws_connections;
	f->ws_frames = old->ws_frames;
	f->ws_refused = old->ws_refused;
	for (int o = 0; o < MH_V1_ATTEMPTS; o++)
		f->mail_attempts[o] = old->mail_attempts[o];
}

/* Writes the layout 2 file of the layout 1 one open at fd over path, in
 * one rename; -1 when it cannot. */
static int
mh_counters_upgrade(int fd, const char *path)
{
	struct mh_counter_file_v1 old;
	struct mh_counter_file *f;
	char tmp[4200];
	ssize_t got;
	int out, ret = -1;

	memset(&old, 0, sizeof(old));
	if ((got = pread(fd, &old, sizeof(old), 0)) < 8 ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp) ||
	    (f = mh_calloc(1, sizeof(*f))) == NULL)
		return -1;
	mh_counters_carry(&old, f);
	f->magic = MH_COUNTERS_MAGIC;
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0660)) >= 0) {
		if (write(out, f, sizeof(*f)) == (ssize_t)sizeof(*f) &&
		    close(out) == 0 && rename(tmp, path) == 0)
			ret = 0;
		else
			unlink(tmp);
	}
	free(f);
	return ret;
}

/*
 * Opens the file at path, locked, as it is now (created when absent; one
 * of layout 1 read into layout 2 first, one of another layout made anew):
 * the descriptor, or -1. Each process opening it takes the lock, so one
 * upgrades it and the others find it done.
 */
static int
mh_counters_open_fd(const char *path)
{
	struct stat st, now;
	uint64_t magic;

	for (int tries = 0; tries < 4; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);

		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0) {
			close(fd);
			return -1;
		}
		/* Replaced while this waited: the new file is the one. */
		if (stat(path, &now) != 0 || now.st_ino != st.st_ino) {
			close(fd);
			continue;
		}
		if (pread(fd, &magic, sizeof(magic), 0) != sizeof(magic) ||
		    magic == 0 || magic == MH_COUNTERS_MAGIC)
			return fd;
		if (magic != MH_COUNTERS_MAGIC_1 ||
		    mh_counters_upgrade(fd, path) != 0)
			unlink(path);	/* a process still counting there does
					 * so unseen */
		close(fd);
	}
	return -1;
}

/* Maps the file at path (mh_counters_open_fd); NULL when it cannot. */
static struct mh_counter_file *
mh_counters_map(const char *path)
{
	struct mh_counter_file *f;
	uint64_t none = 0;
	int fd;

	if ((fd = mh_counters_open_fd(path)) < 0)
		return NULL;
	/* Its blocks taken now, zeros where it is shorter (a new file, or
	 * one of an older version): a write to a mapped page with no block
	 * behind it on a full disk kills the process (SIGBUS). */
	if ((errno = posix_fallocate(fd, 0, sizeof(*f))) != 0) {
		close(fd);
		return NULL;
	}
	f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	/* Let go by hand: the mapping keeps the open file, and its lock,
	 * past the close. */
	flock(fd, LOCK_UN);
	close(fd);
	if (f == MAP_FAILED)
		return NULL;
	atomic_compare_exchange_strong(&f->magic, &none, MH_COUNTERS_MAGIC);
	return f;
}

struct mh_counters *
mh_counters_open(const char *home)
{
	struct mh_counters *c;
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/metrics.counters", home) >=
	    (int)sizeof(path) || (c = mh_calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->file = mh_counters_map(path)) == NULL) {
		fprintf(stderr, "mailhooks: counters in %s unavailable: %s; "
		    "/metrics will not count requests\n", path, strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

void
mh_counters_close(struct mh_counters *c)
{
	if (c == NULL)
		return;
	munmap(c->file, sizeof(*c->file));
	free(c);
}

struct mh_counter_file *
mh_counters_file(struct mh_counters *c)
{
	return c != NULL ? c->file : NULL;
}

struct mh_slot_name *
mh_slot_find(void *slots, size_t size, size_t n, const char *name, int claim)
{
	if (name == NULL || strlen(name) >= MH_ROUTE_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct mh_slot_name *s = (void *)((char *)slots + i * size);
		uint32_t state = atomic_load(&s->state);

		if (state == 0 && !claim)
			return NULL;	/* names fill slots in order */
		if (state == 0 && atomic_compare_exchange_strong(&s->state,
		    &state, 1)) {
			strcpy(s->name, name);
			atomic_store(&s->state, 2);
			return s;
		}
		/* Being named by another process: a moment. */
		for (int spin = 0; spin < 10000 && state == 1; spin++) {
			sched_yield();
			state = atomic_load(&s->state);
		}
		if (state == 2 && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

void
mh_count_request(struct mh_counters *c, const char *route,
    const char *provider, enum mh_outcome outcome, double seconds)
{
	struct mh_counter_file *f = mh_counters_file(c);
	struct mh_route_slot *rs;
	struct mh_provider_slot *ps;
	int b = 0;

	if (f == NULL)
		return;
	if ((rs = MH_ROUTE_SLOT(f, route != NULL ? route : "none", 1)) ==
	    NULL && (rs = MH_ROUTE_SLOT(f, "none", 1)) == NULL)
		return;
	while (b < MH_BUCKETS && seconds > mh_duration_bounds[b])
		b++;
	if (b < MH_BUCKETS)
		atomic_fetch_add(&rs->counts.bucket[b], 1);
	atomic_fetch_add(&rs->counts.sum_us, (uint64_t)(seconds * 1e6 + 0.5));
	atomic_fetch_add(&rs->counts.count, 1);
	if (provider != NULL && (int)outcome < MH_OUTCOMES_MAX &&
	    (ps = MH_PROVIDER_SLOT(f, provider, 1)) != NULL)
		atomic_fetch_add(&ps->outcome[outcome], 1);
}

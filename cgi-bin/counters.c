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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"
#include "counters.h"

/* The layout's mark: a file of another layout is made anew. */
#define MH_COUNTERS_MAGIC 0x6d68636e74720001ULL	/* "mhcntr", 1 */

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

const char *const mh_provider_names[MH_PROVIDER_COUNT] = {
	"mandrill", "infobip",
};

const double mh_duration_bounds[MH_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

int
mh_provider_index(const char *name)
{
	for (int i = 0; name != NULL && i < MH_PROVIDER_COUNT; i++)
		if (strcmp(name, mh_provider_names[i]) == 0)
			return i;
	return -1;
}

/* Maps the file at path, creating it when absent and making it anew when
 * it is of another layout; NULL when it cannot. */
static struct mh_counter_file *
mh_counters_map(const char *path)
{
	struct mh_counter_file *f = MAP_FAILED;
	uint64_t none = 0;
	int fd;

	for (int tries = 0; tries < 2 && f == MAP_FAILED; tries++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0)
			return NULL;
		/* Its blocks taken now, zeros where it is shorter (a new
		 * file, or one a process making it has not grown yet): a
		 * write to a mapped page with no block behind it on a full
		 * disk kills the process (SIGBUS). Done every time, as
		 * another process may be making it right now. */
		if ((errno = posix_fallocate(fd, 0, sizeof(*f))) != 0) {
			close(fd);
			return NULL;
		}
		f = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		close(fd);
		if (f == MAP_FAILED)
			return NULL;
		if (atomic_compare_exchange_strong(&f->magic, &none,
		    MH_COUNTERS_MAGIC) || f->magic == MH_COUNTERS_MAGIC)
			return f;
		/* Another layout (an older version's): start a new file; a
		 * process still counting in the old one does so unseen. */
		munmap(f, sizeof(*f));
		f = MAP_FAILED;
		none = 0;
		unlink(path);
	}
	return NULL;
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

void
mh_count_request(struct mh_counters *c, int route, int provider,
    enum mh_outcome outcome, double seconds)
{
	struct mh_counter_file *f = mh_counters_file(c);
	struct mh_route_counts *rc;
	int b = 0;

	if (f == NULL)
		return;
	if (route < 0 || route >= MH_ROUTES_MAX)
		route = MH_ROUTES_MAX;	/* no route */
	rc = &f->route[route];
	while (b < MH_BUCKETS && seconds > mh_duration_bounds[b])
		b++;
	if (b < MH_BUCKETS)
		atomic_fetch_add(&rc->bucket[b], 1);
	atomic_fetch_add(&rc->sum_us, (uint64_t)(seconds * 1e6 + 0.5));
	atomic_fetch_add(&rc->count, 1);
	if (provider >= 0 && provider < MH_PROVIDER_COUNT)
		atomic_fetch_add(&f->webhook[provider][outcome], 1);
}

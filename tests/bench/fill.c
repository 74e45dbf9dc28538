/*
 * fill HOME COUNT DAYS: stores COUNT Mandrill events under HOME the way the
 * server does (each body of 1000 committed to the inbox, then drained by
 * the application's deriver), their times spread evenly over the DAYS up
 * to now, for the bench's searches and ranges on a large store. Addresses
 * are user<N>@<domain>, each user with 20 events; subjects are one of 50
 * campaigns' with the message's number. Commits are not flushed: this
 * builds a store, it does not measure one. Prints the seconds it took.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "db/store.h"

#define BODY_EVENTS 1000

static const char *const types[] = { "send", "delivered", "open", "click" };
static const char *const domains[] = { "example.com", "example.org",
	"mail.example.net", "corp.example" };

/* The body of events first .. first + n - 1: mandrill_events=[...],
 * percent-encoded where the form needs it. */
static size_t
body(char *out, size_t cap, uint64_t first, size_t n, uint64_t count,
    int64_t since, int64_t span)
{
	size_t len = (size_t)snprintf(out, cap, "mandrill_events=%%5B");

	for (size_t k = 0; k < n; k++) {
		uint64_t i = first + k;
		int64_t ts = since + (int64_t)((double)i / (double)count *
		    (double)span);

		len += (size_t)snprintf(out + len, cap - len, "%s%%7B%%22event%%22"
		    "%%3A%%22%s%%22%%2C%%22ts%%22%%3A%" PRId64 "%%2C%%22_id%%22%%3A"
		    "%%22e%" PRIu64 "%%22%%2C%%22url%%22%%3A%%22https%%3A%%2F%%2F"
		    "example.com%%2Fl%" PRIu64 "%%22%%2C%%22msg%%22%%3A%%7B%%22_id"
		    "%%22%%3A%%22m%" PRIu64 "%%22%%2C%%22email%%22%%3A%%22user%"
		    PRIu64 "%%40%s%%22%%2C%%22subject%%22%%3A%%22Campaign+%" PRIu64
		    "+news+for+you+%" PRIu64 "%%22%%2C%%22tags%%22%%3A%%5B%%22t%"
		    PRIu64 "%%22%%5D%%2C%%22ts%%22%%3A%" PRId64 "%%7D%%7D",
		    k ? "%2C" : "", types[i % 4], ts, i, i % 7, i / 4, i / 20,
		    domains[(i / 20) % 4], (i / 4) % 50, i / 4, (i / 4) % 50, ts);
	}
	len += (size_t)snprintf(out + len, cap - len, "%%5D");
	return len;
}

int
main(int argc, char **argv)
{
	struct mh_entry_meta meta = { .provider = "mandrill",
	    .remote_addr = "127.0.0.1" };
	struct mh_deriver d;
	struct mh_store *st;
	struct timespec t0, t1;
	uint64_t count, receipt;
	int64_t span, now = (int64_t)time(NULL);
	size_t cap = BODY_EVENTS * 700, stored;
	char *buf;

	if (argc != 4 || (count = strtoull(argv[2], NULL, 10)) == 0 ||
	    (span = strtoll(argv[3], NULL, 10) * 86400) <= 0) {
		fprintf(stderr, "usage: fill HOME COUNT DAYS\n");
		return 2;
	}
	if ((buf = malloc(cap)) == NULL ||
	    mh_store_open(argv[1], &st) != MH_STORE_OK)
		return 1;
	mh_store_set_fsync(st, 0);
	mh_deriver_init(&d, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t first = 0; first < count; first += BODY_EVENTS) {
		size_t n = count - first < BODY_EVENTS ? count - first :
		    BODY_EVENTS;

		meta.bytes = body(buf, cap, first, n, count, now - span, span);
		meta.received_ms = now * 1000;
		if (mh_store_inbox_put(st, &meta, buf, meta.bytes, &receipt) !=
		    MH_STORE_OK || mh_store_drain(st, &receipt, 1, 0, &d,
		    &stored) != MH_STORE_OK || stored != n ||
		    mh_store_checkpoint(st, 0) != MH_STORE_OK) {
			fprintf(stderr, "fill: failed at event %" PRIu64 "\n",
			    first);
			return 1;
		}
	}
	/* As the server's first request would: the reindex finds nothing to
	 * do, and notes so. */
	if (mh_store_events_reindex(st, mh_event_describe, NULL, &stored) !=
	    MH_STORE_OK || stored != 0) {
		fprintf(stderr, "fill: reindex: %zu events\n", stored);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.3f\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	mh_store_close(st);
	free(buf);
	return 0;
}

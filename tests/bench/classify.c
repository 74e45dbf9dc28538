/*
 * classify ROUNDS: the cost of telling machines' opens and clicks from
 * people's where it is paid, in deriving a webhook's events: a 1000-event
 * Mandrill body (opens, clicks, sends and deliveries; distinct addresses;
 * the user agents and addresses of Apple's prefetch, Gmail's proxy,
 * scanners and people) derived ROUNDS times with the shipped rules and
 * ROUNDS times with none, interleaved; then its events judged on their
 * message's history (verdict.c: burst, prefetch, the trap link), each
 * message's summary carried from one event to the next, as the drain's
 * fold does (without the notes' reads: two cached B-tree reads an open or
 * click, which the ingest figures hold). Prints one JSON object: the
 * microseconds an event takes either way, the difference, and the
 * history's verdict per event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/core.h"
#include "db/store.h"

#define EVENTS 1000

/* Agents and addresses, percent-encoded for the form. */
static const char *const agents[][2] = {
	{ "Mozilla%2F5.0", "17.58.63.101" },
	{ "Mozilla%2F5.0+%28Windows+NT+5.1%3B+rv%3A11.0%29+Gecko+Firefox%2F11.0+"
	    "%28via+ggpht.com+GoogleImageProxy%29", "66.249.84.36" },
	{ "Mozilla%2F5.0+%28Windows+NT+10.0%3B+Win64%3B+x64%29+AppleWebKit%2F"
	    "537.36+%28KHTML%2C+like+Gecko%29+Chrome%2F120.0.0.0+Safari%2F537.36",
	    "203.0.113.7" },
	{ "Mozilla%2F4.0+%28compatible%3B+ms-office%3B+MSOffice+16%29",
	    "198.51.100.4" },
	{ "Barracuda+Sentinel+%28EE%29", "64.235.150.1" },
	{ "Mozilla%2F5.0+%28iPhone%3B+CPU+iPhone+OS+17_1+like+Mac+OS+X%29+"
	    "AppleWebKit%2F605.1.15+%28KHTML%2C+like+Gecko%29+Mobile%2F15E148",
	    "40.93.31.7" },
};
static const char *const types[] = { "send", "delivered", "open", "click" };

static size_t
body(char *out, size_t cap)
{
	size_t len = (size_t)snprintf(out, cap, "mandrill_events=%%5B");

	for (size_t i = 0; i < EVENTS; i++) {
		const char *const *a = agents[(i / 4) % 6];

		len += (size_t)snprintf(out + len, cap - len, "%s%%7B%%22event%%22"
		    "%%3A%%22%s%%22%%2C%%22ts%%22%%3A%zu%%2C%%22_id%%22%%3A%%22e%zu"
		    "%%22%%2C%%22url%%22%%3A%%22https%%3A%%2F%%2Fexample.com%%2Fl%zu"
		    "%%22%%2C%%22user_agent%%22%%3A%%22%s%%22%%2C%%22ip%%22%%3A%%22"
		    "%s%%22%%2C%%22msg%%22%%3A%%7B%%22_id%%22%%3A%%22m%zu%%22%%2C"
		    "%%22email%%22%%3A%%22user%zu%%40example.com%%22%%2C%%22subject"
		    "%%22%%3A%%22News+%zu%%22%%2C%%22ts%%22%%3A1790000000%%7D%%7D",
		    i ? "%2C" : "", types[i % 4], 1790000000 + i, i, i % 7, a[0],
		    a[1], i / 4, i, i / 4);
	}
	len += (size_t)snprintf(out + len, cap - len, "%%5D");
	return len;
}

/* Microseconds to derive the body once. */
static double
derive_us(const struct mh_deriver *d, const struct mh_entry *e)
{
	struct timespec t0, t1;
	struct mh_event *ev;
	size_t n;
	char why[160];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (d->derive(d, e, &ev, &n, why, sizeof(why)) != 0 || n != EVENTS) {
		fprintf(stderr, "classify: derive failed: %s\n", why);
		exit(1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	mh_events_free(ev, n);
	return (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
}

/* Microseconds to judge the body's events on their messages' history
 * (four events a message, in order, its summary carried between them):
 * the judging alone, the events parsed before. */
static double
verdict_us(const struct mh_deriver *d, const struct mh_entry *e)
{
	struct timespec t0, t1;
	struct json_object *sum = NULL, *o;
	struct mh_event *ev;
	struct mh_fold f;
	char why[160];
	double us = 0;
	size_t n;

	if (d->derive(d, e, &ev, &n, why, sizeof(why)) != 0) {
		fprintf(stderr, "classify: derive failed: %s\n", why);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		if (i % 4 == 0) {
			json_object_put(sum);
			sum = json_object_new_object();
		}
		o = json_tokener_parse(ev[i].rec.json);
		f = (struct mh_fold){ .ev = &ev[i], .seq = i + 1 };
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (mh_verdict_judge(d, sum, o, &f) != 0) {
			fprintf(stderr, "classify: judging failed\n");
			exit(1);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		us += (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
		free(f.json);
		json_object_put(o);
	}
	json_object_put(sum);
	mh_events_free(ev, n);
	return us;
}

int
main(int argc, char **argv)
{
	struct mh_entry e = { .receipt = 1 };
	struct mh_deriver with, without;
	size_t cap = EVENTS * 900;
	char *buf = malloc(cap);
	double t_with = 0, t_without = 0, t_fold = 0;
	long rounds;

	if (argc != 2 || (rounds = strtol(argv[1], NULL, 10)) <= 0 ||
	    buf == NULL) {
		fprintf(stderr, "usage: classify ROUNDS\n");
		return 2;
	}
	snprintf(e.meta.provider, sizeof(e.meta.provider), "mandrill");
	e.meta.received_ms = 1790000000000LL;
	e.body = buf;
	e.body_len = body(buf, cap);
	mh_deriver_init(&with, NULL, NULL);
	mh_deriver_init(&without, NULL, NULL);
	with.machine_rules = mh_machine_rules_builtin();
	for (long r = 0; r < rounds; r++) {
		t_without += derive_us(&without, &e);
		t_with += derive_us(&with, &e);
		t_fold += verdict_us(&with, &e);
	}
	printf("{\"derive_us_per_event\":%.3f,\"derive_classified_us_per_event"
	    "\":%.3f,\"classify_us_per_event\":%.3f,\"history_us_per_event"
	    "\":%.3f}\n", t_without / rounds / EVENTS, t_with / rounds / EVENTS,
	    (t_with - t_without) / rounds / EVENTS, t_fold / rounds / EVENTS);
	mh_machine_rules_free((struct mh_machine_rules *)with.machine_rules);
	free(buf);
	return 0;
}

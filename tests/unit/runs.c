/*
 * A batch is stored a run of events a transaction (db/chunk.c, drain.c):
 * the runs of varied content stay within their budget and cover the batch
 * once; a full batch of random addresses and subjects is stored whole; a
 * process killed half-way leaves the runs it committed, counted in the
 * entry's claim, and the next drain goes on from there: every event stored
 * once, none counted a duplicate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store-private.h"

#define BATCH 1000

/* The message id whose fold ends the process (in a child only). */
static const char *die_at;

static int
fold(const struct mh_deriver *d, struct mh_fold *f)
{
	const struct mh_event *ev = f->ev;

	if (die_at != NULL && strcmp(ev->rec.event.message_id, die_at) == 0)
		_exit(3);
	return mh_summary_fold(d, f);
}

/* One event: message id, address and subject given. */
static int
make_event(struct mh_event *ev, const char *id, const char *email,
    const char *subject, long ts)
{
	struct json_object *o = json_object_new_object();
	struct mh_normal norm;
	char ident[256];

	json_object_object_add(o, "provider", json_object_new_string("t"));
	json_object_object_add(o, "type", json_object_new_string("open"));
	json_object_object_add(o, "message_id", json_object_new_string(id));
	json_object_object_add(o, "email", json_object_new_string(email));
	json_object_object_add(o, "subject", json_object_new_string(subject));
	json_object_object_add(o, "ts", json_object_new_int64(ts));
	snprintf(ident, sizeof(ident), "t|%s|open|%ld", id, ts);
	norm.event = o;
	norm.entity = NULL;
	norm.identity = strdup(ident);
	return mh_event_from_normal(&norm, ev);
}

/* The body is lines of "message_id email subject ts". */
static int
derive_lines(const struct mh_deriver *d, const struct mh_entry *raw,
    struct mh_event **events, size_t *count, char *why, size_t whylen)
{
	char *body = strndup(raw->body, raw->body_len), *save = NULL, *line;
	size_t n = 0;

	(void)d;
	(void)why;
	(void)whylen;
	*events = calloc(BATCH, sizeof(**events));
	for (line = strtok_r(body, "\n", &save); line && n < BATCH;
	    line = strtok_r(NULL, "\n", &save)) {
		char id[64], email[64], subject[64];
		long ts;

		if (sscanf(line, "%63s %63s %63s %ld", id, email, subject,
		    &ts) != 4 || make_event(&(*events)[n], id, email, subject,
		    ts) != 0)
			return -1;
		n++;
	}
	*count = n;
	free(body);
	return 0;
}

static const struct mh_deriver deriver = {
	.derive = derive_lines, .fold = fold, .amend = mh_verdict_amend,
};

static void
random_text(char *out, size_t len)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < len; i++)
		out[i] = abc[rand() % 36];
	out[len] = '\0';
}

/* A batch of BATCH opens, "m<prefix><i>", random addresses and subjects
 * (or, same, one address and subject for all). */
static char *
batch(const char *prefix, int same)
{
	char *body = malloc(BATCH * 96), *p = body;

	for (int i = 0; i < BATCH; i++) {
		char user[8], domain[8], subject[16];

		random_text(user, 5);
		random_text(domain, 6);
		random_text(subject, 12);
		p += sprintf(p, "m%s%d %s@%s.com %s %d\n", prefix, i,
		    same ? "alice" : user, same ? "example" : domain,
		    same ? "Your-invoice" : subject, 1700000000 + i);
	}
	return body;
}

static void
test_runs(void)
{
	struct mh_entry e = { 0 };
	struct mh_event *ev;
	size_t n, from, end, work, runs = 0, over = 0;
	char *body = batch("r", 0);

	e.body = body;
	e.body_len = strlen(body);
	ok(derive_lines(&deriver, &e, &ev, &n, NULL, 0) == 0 && n == BATCH,
	    "a batch of %d random opens", BATCH);
	for (from = 0; from < n; from = end, runs++) {
		end = mh_chunk_end(ev, n, from, MH_CHUNK_WORK, &work);
		over += end <= from || (work > MH_CHUNK_WORK && end > from + 1);
	}
	ok(over == 0 && from == n, "runs cover it in order, each within its "
	    "budget");
	ok(runs >= 10, "random content takes many runs (%zu)", runs);
	end = mh_chunk_end(ev, n, 0, 1, &work);
	ok(end == 1 && work > MH_EVENT_WORK, "a budget below one event "
	    "still takes one (%zu pages)", work);
	ok(mh_chunk_end(ev, n, n, MH_CHUNK_WORK, &work) == n && work == 0,
	    "nothing left: an empty run");
	mh_events_free(ev, n);
	free(body);

	body = batch("s", 1);
	e.body = body;
	e.body_len = strlen(body);
	derive_lines(&deriver, &e, &ev, &n, NULL, 0);
	end = mh_chunk_end(ev, n, 0, MH_CHUNK_WORK, &work);
	ok(end >= MH_CHUNK_WORK / MH_EVENT_WORK - 8, "shared content: a run "
	    "of %zu events, its trigrams counted once", end);
	mh_events_free(ev, n);
	free(body);
}

static uint64_t
put(struct mh_store *st, const char *body)
{
	struct mh_entry_meta meta = { .provider = "t" };
	uint64_t r = 0;

	if (mh_store_inbox_put(st, &meta, body, strlen(body), &r) !=
	    MH_STORE_OK)
		return 0;
	return r;
}

static int
drain_in_child(const char *home, const char *die)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct mh_store *st;
		size_t n;

		die_at = die;
		if (mh_store_open(home, &st) != MH_STORE_OK)
			_exit(1);
		mh_store_drain(st, NULL, 0, 1, &deriver, &n);
		mh_store_close(st);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static int
count_duplicates(void *ctx, const struct mh_store_tally *t)
{
	if (strcmp(t->kind, "duplicates") == 0)
		*(uint64_t *)ctx += t->count;
	return 0;
}

static void
test_resume(const char *home)
{
	struct mh_store *st;
	struct mh_store_stats stats;
	struct mh_store_sizes sizes;
	enum mh_store_err err;
	uint64_t dups = 0;
	char *body = batch("k", 0);
	size_t n;

	ok(mh_store_open(home, &st) == MH_STORE_OK, "environment opens");
	ok(put(st, body) != 0, "a full batch of random content acknowledged");
	mh_store_close(st);
	ok(drain_in_child(home, "mk900") == 3, "its drainer dies at event 900");
	ok(mh_store_open(home, &st) == MH_STORE_OK, "the environment reopens");
	mh_store_stats(st, &stats);
	ok(stats.last_seq > 0 && stats.last_seq < 900 &&
	    stats.inbox_pending == 1, "the runs before it stay stored (%llu); "
	    "the entry waits", (unsigned long long)stats.last_seq);
	ok(mh_store_drain(st, NULL, 0, 1, &deriver, &n) == MH_STORE_OK,
	    "the next drain goes on");
	mh_store_stats(st, &stats);
	mh_store_sizes(st, &sizes);
	ok(stats.last_seq == BATCH && sizes.events == BATCH &&
	    stats.inbox_pending == 0 && stats.set_aside == 0,
	    "every event stored once (%llu), nothing set aside",
	    (unsigned long long)sizes.events);
	mh_store_tallies(st, count_duplicates, &dups);
	ok(dups == 0, "none of them was counted a duplicate (%llu)",
	    (unsigned long long)dups);

	/* A second batch of random content, drained in one go. */
	free(body);
	body = batch("q", 0);
	put(st, body);
	err = mh_store_drain(st, NULL, 0, 1, &deriver, &n);
	ok(err == MH_STORE_OK && n == BATCH, "another full batch stored whole "
	    "(%zu)", n);
	mh_store_close(st);
	free(body);
}

int
main(void)
{
	char home[] = "/tmp/mh-runs-XXXXXX", cmd[256];

	if (mkdtemp(home) == NULL)
		return 1;
	alarm(60);
	srand(30);
	test_runs();
	test_resume(home);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}

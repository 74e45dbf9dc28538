/*
 * Storage: store, duplicates, indexes, pagination both ways, and batches
 * that are all-or-nothing even when the process dies half-way through.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"

/* A query's filters on the events' header fields. */
#define TYPE(v) .where.event.type = (v)
#define EMAIL(v) .where.event.email = (v)
#define MSG(v) .where.event.message_id = (v)
#include "core/core.h"
#include "db/store.h"

/* A test deriver: the body is lines of "message_id type ts email"; the
 * line "die" adds an event whose fold kills the process, which happens
 * inside the storing transaction, after earlier events were put. */
static int
fold(const struct mh_deriver *d, struct mh_fold *f)
{
	const struct mh_event *ev = f->ev;

	if (strcmp(ev->rec.event.message_id, "die") == 0)
		_exit(3);
	return mh_summary_fold(d, f);
}

static int
derive_lines(const struct mh_deriver *d, const struct mh_entry *raw, struct mh_event **events,
    size_t *count, char *why, size_t whylen)
{
	char *body = strndup(raw->body, raw->body_len), *save = NULL, *line;
	size_t n = 0;

	(void)d;
	*events = calloc(64, sizeof(**events));
	*count = 0;
	if (strcmp(body, "poison") == 0) {
		snprintf(why, whylen, "cannot parse");
		free(body);
		return -1;
	}
	for (line = strtok_r(body, "\n", &save); line && n < 64;
	    line = strtok_r(NULL, "\n", &save)) {
		char id[64] = "", type[32] = "", email[64] = "";
		long ts = 0;
		struct json_object *o = json_object_new_object();
		struct mh_normal norm;
		char ident[256];

		if (strcmp(line, "die") == 0) {
			strcpy(id, "die");
			strcpy(type, "open");
		} else
			sscanf(line, "%63s %31s %ld %63s", id, type, &ts, email);
		json_object_object_add(o, "provider", json_object_new_string("t"));
		json_object_object_add(o, "type", json_object_new_string(type));
		json_object_object_add(o, "message_id", json_object_new_string(id));
		json_object_object_add(o, "email", json_object_new_string(email));
		json_object_object_add(o, "ts", json_object_new_int64(ts));
		snprintf(ident, sizeof(ident), "t|%s|%s|%ld", id, type, ts);
		norm.event = o;
		norm.entity = NULL;
		norm.identity = strdup(ident);
		if (mh_event_from_normal(&norm, &(*events)[n]) != 0)
			return -1;
		n++;
	}
	*count = n;
	free(body);
	return 0;
}

static const struct mh_deriver derive_plain = {
	.derive = derive_lines, .fold = fold, .amend = mh_verdict_amend,
};

struct seen {
	uint64_t seq[600];
	size_t n;
	char last[512];
};

static int
collect(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct seen *s = ctx;

	(void)len;
	s->seq[s->n++] = seq;
	snprintf(s->last, sizeof(s->last), "%s", json);
	return 0;
}

/* Counts refusals; keeps the first seq and the last text. */
static int
count_refusal(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct seen *s = ctx;

	(void)len;
	if (s->n == 0)
		s->seq[0] = seq;
	s->n++;
	snprintf(s->last, sizeof(s->last), "%s", json);
	return 0;
}

struct tally {
	int n, opens, resets;
};

static void
count_type(void *ctx, const char *type)
{
	struct tally *t = ctx;

	if (type == NULL) {
		t->n = t->opens = 0;
		t->resets++;
		return;
	}
	t->n++;
	t->opens += strcmp(type, "open") == 0;
}

static void
stored(void *ctx, uint64_t seq, const char *json, size_t len)
{
	collect(ctx, seq, json, len);
}

/* A query's time window. */
#define WINDOW(...) __VA_ARGS__

/* The deriver, telling stored about each new event (into s). */
static const struct mh_deriver *
telling(struct seen *s)
{
	static struct mh_deriver d = { .derive = derive_lines, .fold = fold,
	    .amend = mh_verdict_amend, .stored = stored };

	d.ctx = s;
	return &d;
}

static size_t
query(struct mh_store *st, struct mh_query q, struct seen *s, int *more)
{
	memset(s, 0, sizeof(*s));
	if (q.limit == 0)
		q.limit = 50;
	if (mh_store_query(st, &q, collect, s, more) != MH_STORE_OK)
		return (size_t)-1;
	return s->n;
}

/* The tallies as "kind/provider/type=count " in key order. */
static int
tally_text(void *ctx, const struct mh_store_tally *t)
{
	char *out = ctx;
	size_t used = strlen(out);

	snprintf(out + used, 512 - used, "%s/%s/%s=%llu ", t->kind,
	    t->provider, t->type, (unsigned long long)t->count);
	return 0;
}

static const char *
tallies(struct mh_store *st)
{
	static char text[512];

	text[0] = '\0';
	if (mh_store_tallies(st, tally_text, text) != MH_STORE_OK)
		return "(failed)";
	return text;
}

static uint64_t
put(struct mh_store *st, const char *body)
{
	uint64_t r = 0;

	struct mh_entry_meta meta = { .provider = "t" };

	if (mh_store_inbox_put(st, &meta, body, strlen(body), &r) != MH_STORE_OK)
		return 0;
	return r;
}

/* Drains in a child process, which may die; returns its exit status. */
static int
drain_in_child(const char *home)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct mh_store *st;
		size_t n;

		if (mh_store_open(home, &st) != MH_STORE_OK)
			_exit(1);
		mh_store_drain(st, NULL, 0, 1, &derive_plain, &n);
		mh_store_close(st);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

int
main(void)
{
	char home[] = "/tmp/mh-store-XXXXXX", cmd[256];
	struct mh_store *st;
	struct mh_store_stats stats;
	struct seen s, fresh = { 0 };
	uint64_t r1;
	size_t n;
	int more;

	if (mkdtemp(home) == NULL)
		return 1;
	alarm(20);	/* a hang on a dead process's locks fails the test */
	ok(mh_store_open(home, &st) == MH_STORE_OK, "environment opens");

	r1 = put(st, "m1 send 100 Alice@X.io\nm1 open 200 alice@x.io\n"
	    "m2 send 101 bob@x.io\nm2 click 300 bob@x.io");
	ok(r1 > 0, "inbox put gives receipt %llu", (unsigned long long)r1);
	mh_store_stats(st, &stats);
	ok(stats.inbox_pending == 1 && stats.last_seq == 0,
	    "entry waits in the inbox, nothing stored yet");
	ok(mh_store_drain(st, &r1, 1, 1, telling(&fresh), &n) ==
	    MH_STORE_OK && n == 4, "drain stores 4 events");
	ok(fresh.n == 4 && fresh.seq[0] == 1 && fresh.seq[3] == 4,
	    "stored callback sees seq 1..4 in order");
	mh_store_stats(st, &stats);
	ok(stats.inbox_pending == 0 && stats.last_seq == 4, "inbox empty, last seq 4");

	ok(query(st, (struct mh_query){ 0 }, &s, &more) == 4 && s.seq[0] == 4 &&
	    s.seq[3] == 1 && !more, "newest first");
	ok(query(st, (struct mh_query){ .limit = 2 }, &s, &more) == 2 &&
	    s.seq[0] == 4 && s.seq[1] == 3 && more, "a page of 2, more follow");
	ok(query(st, (struct mh_query){ .limit = 2, .before = 3 }, &s, &more) ==
	    2 && s.seq[0] == 2 && s.seq[1] == 1 && !more, "before=3");
	ok(query(st, (struct mh_query){ .has_after = 1, .after = 1, .limit = 2 },
	    &s, &more) == 2 && s.seq[0] == 2 && s.seq[1] == 3 && more,
	    "after=1 oldest first");
	ok(query(st, (struct mh_query){ .has_after = 1, .after = 4 }, &s,
	    &more) == 0 && !more, "after the last: nothing");
	ok(query(st, (struct mh_query){ .before = 100 }, &s, &more) == 4,
	    "before beyond the end: everything");
	ok(query(st, (struct mh_query){ TYPE("send") }, &s, &more) == 2 &&
	    s.seq[0] == 3 && s.seq[1] == 1, "type index");
	ok(query(st, (struct mh_query){ EMAIL("ALICE@x.io") }, &s, &more) ==
	    2 && s.seq[0] == 2, "email index, case-insensitive");
	ok(query(st, (struct mh_query){ MSG("m2"), TYPE("click") }, &s,
	    &more) == 1 && s.seq[0] == 4, "message index with type filter");
	ok(query(st, (struct mh_query){ MSG("m2"), .has_after = 1,
	    .after = 3 }, &s, &more) == 1 && s.seq[0] == 4,
	    "message index after a seq");
	ok(query(st, (struct mh_query){ TYPE("send"), .before = 3 }, &s,
	    &more) == 1 && s.seq[0] == 1, "type index before a seq");
	ok(query(st, (struct mh_query){ TYPE("open"), EMAIL("bob@x.io") },
	    &s, &more) == 0, "filters combine");
	ok(query(st, (struct mh_query){ MSG("m") }, &s, &more) == 0,
	    "a message id prefix matches nothing");
	query(st, (struct mh_query){ MSG("m1"), TYPE("open") }, &s,
	    &more);
	ok(strncmp(s.last, "{\"seq\":2,", 9) == 0, "stored JSON leads with seq: %s",
	    s.last);

	ok(query(st, (struct mh_query){ WINDOW(.has_since = 1, .since = 200) }, &s,
	    &more) == 2 && s.seq[0] == 4 && s.seq[1] == 2,
	    "since: ts 200 and 300");
	ok(query(st, (struct mh_query){ WINDOW(.has_until = 1, .until = 200) }, &s,
	    &more) == 2 && s.seq[0] == 3 && s.seq[1] == 1,
	    "until is exclusive: ts 100 and 101");
	ok(query(st, (struct mh_query){ WINDOW(.has_since = 1, .since = 101,
	    .has_until = 1, .until = 300), TYPE("open") }, &s, &more) == 1 &&
	    s.seq[0] == 2, "a window with an index");
	{
		struct tally t = { 0, 0, 0 };
		struct mh_query w = { WINDOW(.has_since = 1, .since = 101) };

		ok(mh_store_count(st, &w, count_type, &t) == MH_STORE_OK &&
		    t.n == 3 && t.opens == 1, "count in a window: 3, one open");
	}
	{
		char *msg = NULL;
		ok(mh_store_message(st, "t", "m1", &msg) == MH_STORE_OK && msg &&
		    strstr(msg, "\"opens\":1") && strstr(msg, "\"state\":\"send\"")
		    && strstr(msg, "\"events\":2"), "message summary: %s",
		    msg ? msg : "(none)");
		free(msg);
		ok(mh_store_message(st, "t", "nope", &msg) == MH_STORE_NOTFOUND,
		    "unknown message");
	}

	/* A provider retries the whole batch: nothing new is stored. */
	put(st, "m1 send 100 alice@x.io\nm1 open 200 alice@x.io\n"
	    "m3 open 400 carol@x.io");
	memset(&fresh, 0, sizeof(fresh));
	ok(mh_store_drain(st, NULL, 0, 1, telling(&fresh), &n) ==
	    MH_STORE_OK && n == 1 && fresh.seq[0] == 5,
	    "retried batch: only the new event is stored (seq 5)");
	is_str(tallies(st), "duplicates/t/=2 events/t/click=1 events/t/open=2 "
	    "events/t/send=2 ", "tallies: events by provider and type, "
	    "duplicates by provider");

	/* All-or-nothing: the process dies after putting two of three. */
	put(st, "m4 send 500 d@x.io\nm4 open 501 d@x.io\ndie");
	mh_store_close(st);
	ok(drain_in_child(home) == 3, "child died inside the transaction");
	ok(mh_store_open(home, &st) == MH_STORE_OK,
	    "environment reopens after a process died in a write");
	mh_store_stats(st, &stats);
	ok(stats.last_seq == 5 && stats.inbox_pending == 1,
	    "nothing of the half-done batch is stored; the entry waits");
	ok(query(st, (struct mh_query){ MSG("m4") }, &s, &more) == 0,
	    "no event of the dead batch in the index");
	is_str(tallies(st), "duplicates/t/=2 events/t/click=1 events/t/open=2 "
	    "events/t/send=2 ", "nor in the tallies");

	/* A live process sharing the environment with one that dies inside a
	 * write: it must neither hang on the dead one's locks nor lose data. */
	put(st, "m5 send 600 e@x.io\ndie");
	ok(drain_in_child(home) == 3, "another process died inside its write");
	{
		enum mh_store_err e = mh_store_drain(st, NULL, 0, 1,
		    &derive_plain, &n);

		ok(e == MH_STORE_OK || e == MH_STORE_RECOVER,
		    "the survivor's next drain returns (%d) instead of hanging", e);
		if (e == MH_STORE_RECOVER)
			ok(mh_store_reopen(&st) == MH_STORE_OK,
			    "and reopening recovers the environment");
		else
			ok(1, "failchk released the dead process's locks");
	}
	mh_store_stats(st, &stats);
	ok(stats.last_seq == 5, "still nothing of a batch that died half-way");
	ok(query(st, (struct mh_query){ MSG("m5") }, &s, &more) == 0,
	    "not even its first event");
	mh_store_close(st);
	drain_in_child(home);	/* the m4 and m5 entries both kill it */
	ok(mh_store_open(home, &st) == MH_STORE_OK, "reopens");

	/* It kills every process that tries, so it is set aside in the end. */
	mh_store_close(st);
	for (int i = 0; i < MH_INBOX_MAX_ATTEMPTS + 1; i++)
		drain_in_child(home);
	ok(mh_store_open(home, &st) == MH_STORE_OK, "reopens");
	mh_store_stats(st, &stats);
	ok(stats.inbox_pending == 0 && stats.set_aside == 2 &&
	    stats.last_seq == 5, "poison entries are set aside, never looping");

	/* A deriver failure is permanent: set aside at once. */
	put(st, "poison");
	ok(mh_store_drain(st, NULL, 0, 1, &derive_plain, &n) ==
	    MH_STORE_OK && n == 0, "poison entry drained without events");
	mh_store_stats(st, &stats);
	ok(stats.inbox_pending == 0 && stats.set_aside == 3, "and set aside");

	/* Bigger pages run across btree pages in both directions. */
	{
		char *body = malloc(64 * 40), *p = body;
		for (int i = 0; i < 60; i++)
			p += sprintf(p, "b%d open %d e%d@x.io\n", i, 1000 + i, i % 3);
		put(st, body);
		free(body);
	}
	mh_store_drain(st, NULL, 0, 1, &derive_plain, &n);
	ok(n == 60, "60 more events");
	ok(query(st, (struct mh_query){ TYPE("open"), .limit = 500 }, &s,
	    &more) == 62, "all opens through the type index");
	ok(query(st, (struct mh_query){ EMAIL("e1@x.io"), .limit = 500 }, &s,
	    &more) == 20, "email index over many pages");
	/* The refusal log keeps the newest MH_REFUSED_MAX, oldest first. */
	{
		char rec[64];
		struct seen all = { 0 };
		int good = 1;

		for (int i = 1; i <= MH_REFUSED_MAX + 5; i++) {
			snprintf(rec, sizeof(rec), "{\"n\":%d}", i);
			good &= mh_store_refused_put(st, rec) == MH_STORE_OK;
		}
		ok(good, "%d refusals logged", MH_REFUSED_MAX + 5);
		memset(&all, 0, sizeof(all));
		ok(mh_store_refused_list(st, count_refusal, &all) == MH_STORE_OK &&
		    all.n == MH_REFUSED_MAX, "the newest %d kept", MH_REFUSED_MAX);
		ok(all.seq[0] == 6, "oldest first: the 6th is the oldest left");
		ok(strcmp(all.last, "{\"n\":1005}") == 0, "the newest last: %s",
		    all.last);
	}

	/* Entries a live process put are its own to drain: another process
	 * leaves them (without walking them all) yet finds its own behind
	 * them by key, and takes them once their process is gone. */
	{
		int ready[2], quit[2];
		char c = 0;
		uint64_t mine;
		pid_t child;

		if (pipe(ready) != 0 || pipe(quit) != 0)
			return 1;
		if ((child = fork()) == 0) {
			struct mh_store *other;
			char line[64];

			if (mh_store_open(home, &other) != MH_STORE_OK)
				_exit(1);
			for (int i = 0; i < 300; i++) {
				snprintf(line, sizeof(line),
				    "theirs%d open %d t@x.io", i, 2000 + i);
				put(other, line);
			}
			c = write(ready[1], "r", 1) == 1 &&
			    read(quit[0], &c, 1) >= 0;
			_exit(0);	/* dies holding its claims */
		}
		ok(read(ready[0], &c, 1) == 1, "another process put 300 entries");
		mine = put(st, "mine open 3000 m@x.io");
		ok(mh_store_drain(st, &mine, 1, 1, &derive_plain, &n) ==
		    MH_STORE_OK && n == 1, "this process's own entry is drained "
		    "from behind them");
		mh_store_stats(st, &stats);
		ok(stats.inbox_pending == 300, "theirs are left to them (%llu "
		    "pending)", (unsigned long long)stats.inbox_pending);
		ok(mh_store_drain(st, NULL, 0, 1, &derive_plain, &n) ==
		    MH_STORE_OK && n == 0, "a drain of anything waiting leaves "
		    "them too");
		c = write(quit[1], "q", 1) == 1;
		waitpid(child, NULL, 0);
		mine = put(st, "mine2 open 3001 m@x.io");
		ok(mh_store_drain(st, &mine, 1, 0, &derive_plain, &n) ==
		    MH_STORE_OK && n == 1, "without the walk, its own receipt "
		    "is drained");
		mh_store_stats(st, &stats);
		ok(stats.inbox_pending == 300, "and nothing else, though their "
		    "process is gone (%llu pending)",
		    (unsigned long long)stats.inbox_pending);
		ok(mh_store_drain(st, NULL, 0, 1, &derive_plain, &n) ==
		    MH_STORE_OK && n == 300, "the walk takes what the dead "
		    "process left");
	}

	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	ok(system(cmd) == 0, "cleaned up");
	return done_testing();
}

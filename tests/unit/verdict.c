/*
 * The verdicts that need a message's history (core/verdict.c), pure: a
 * prefetch judged against the recipient's usual addresses, a burst across
 * two judgings and the earlier click it amends, one link clicked twice, a
 * click on the trap link and the address it teaches for a day (and no
 * longer), and a batch's own clicks judged together. The notes are kept
 * in memory here, as the storage keeps them in notes.db.
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store.h"

#define NOTES_MAX 16

struct mem_notes {
	struct mh_notes ops;
	char *key[NOTES_MAX], *text[NOTES_MAX];
	int n;
};

static int
find(struct mem_notes *m, enum mh_note_kind kind, const char *value)
{
	char k[300];

	snprintf(k, sizeof(k), "%d:%s", (int)kind, value);
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->key[i], k) == 0)
			return i;
	m->key[m->n] = strdup(k);
	m->text[m->n] = NULL;
	return m->n++;
}

static int
mem_get(struct mh_notes *ops, enum mh_note_kind kind, const char *value,
    char **text)
{
	struct mem_notes *m = (struct mem_notes *)ops;
	int i = find(m, kind, value);

	*text = m->text[i] != NULL ? strdup(m->text[i]) : NULL;
	return 0;
}

static int
mem_put(struct mh_notes *ops, enum mh_note_kind kind, const char *value,
    const char *text)
{
	struct mem_notes *m = (struct mem_notes *)ops;
	int i = find(m, kind, value);

	free(m->text[i]);
	m->text[i] = text != NULL ? strdup(text) : NULL;
	return 0;
}

/* An open or click (url NULL: an open; "send": a send) of message m. */
static struct json_object *
event(const char *m, const char *type, long ts, const char *ip,
    const char *url)
{
	struct json_object *o = json_object_new_object();

	mh_json_set_str(o, "type", type);
	mh_json_set_str(o, "message_id", m);
	mh_json_set_str(o, "email", "bob@example.com");
	json_object_object_add(o, "ts", json_object_new_int64(ts));
	if (ip != NULL)
		mh_json_set_str(o, "ip", ip);
	if (url != NULL)
		mh_json_set_str(o, "url", url);
	mh_json_set_str(o, "machine", NULL);
	return o;
}

/* Judges e (freed) as event seq of the message whose summary is sum;
 * *f as the judging left it (its json and the verdict's text freed). */
static const char *
judge(const struct mh_deriver *d, struct json_object *sum,
    struct json_object *e, uint64_t seq, struct mh_notes *notes,
    struct mh_fold *f)
{
	static char verdict[32];
	const char *v;

	*f = (struct mh_fold){ .seq = seq, .notes = notes };
	if (mh_verdict_judge(d, sum, e, f) != 0)
		return "(failed)";
	v = mh_json_str(e, "machine");
	snprintf(verdict, sizeof(verdict), "%s", v != NULL ? v : "(person)");
	free(f->json);
	f->json = NULL;
	json_object_put(e);
	return verdict;
}

static void
history(void)
{
	struct mem_notes m = { .ops = { mem_get, mem_put } };
	struct mh_deriver d;
	struct json_object *sum = json_object_new_object(), *sum2;
	struct mh_fold f;
	char *amended = NULL, counted[MH_COUNTED_MAX + 1], *text;

	mh_deriver_init(&d, NULL, NULL);
	d.trap_url = "https://mh.example/api/trap";

	/* Prefetch: 2 s after the send, from an address bob never used. */
	is_str(judge(&d, sum, event("m1", "send", 100, NULL, NULL), 1, &m.ops,
	    &f), "(person)", "a send is no open");
	ok(mh_json_int(sum, "sent_ts") == 100, "the summary keeps when it went");
	is_str(judge(&d, sum, event("m1", "open", 102, "192.0.2.1", NULL), 2,
	    &m.ops, &f), "prefetch", "an open 2 s after, from elsewhere: a "
	    "prefetch");
	is_str(f.counted, "machine:open", "... counted per hour as a machine's");
	ok(f.silence, "... and notifies no one");
	is_str(judge(&d, sum, event("m1", "open", 500, "198.51.100.5", NULL), 3,
	    &m.ops, &f), "(person)", "an open later: bob's");
	ok(f.counted[0] == '\0' && !f.silence, "... counted as an open, "
	    "notifying");
	sum2 = json_object_new_object();
	judge(&d, sum2, event("m2", "delivered", 1000, NULL, NULL), 4, &m.ops,
	    &f);
	is_str(judge(&d, sum2, event("m2", "open", 1001, "198.51.100.5", NULL),
	    5, &m.ops, &f), "(person)", "1 s after delivery from his usual "
	    "address: his");
	is_str(judge(&d, sum2, event("m2", "open", 1003, "192.0.2.1", NULL), 6,
	    &m.ops, &f), "prefetch", "the prefetch's address never became "
	    "his");
	json_object_put(sum2);

	/* A burst: two links in a second from one address. */
	sum2 = json_object_new_object();
	json_object_object_add(sum2, "person_clicks", json_object_new_int64(1));
	is_str(judge(&d, sum2, event("m3", "click", 2000, "203.0.113.77",
	    "https://shop.example/a"), 10, &m.ops, &f), "(person)",
	    "a first click: a person's, as far as is known");
	is_str(judge(&d, sum2, event("m3", "click", 2000, "203.0.113.77",
	    "https://shop.example/a"), 11, &m.ops, &f), "(person)",
	    "the same link again: no burst");
	is_str(judge(&d, sum2, event("m3", "click", 2001, "203.0.113.77",
	    "https://shop.example/b"), 12, &m.ops, &f), "burst",
	    "another link 1 s on from the same address: a burst");
	ok(f.namend == 2 && f.amend[0] == 10 && f.amend[1] == 11,
	    "... naming the earlier clicks to amend (%zu)", f.namend);
	ok(mh_json_int(sum2, "person_clicks") == 0 &&
	    mh_json_int(sum2, "machine_clicks") == 2,
	    "... recounted in the summary");
	ok(mh_verdict_amend(&d, mh_json_text(sum2), "{\"seq\":10,\"type\":"
	    "\"click\",\"machine\":null}", &amended, counted) == 0 &&
	    amended != NULL && strstr(amended, "\"machine\":\"burst\"") &&
	    strcmp(counted, "machine:click") == 0,
	    "the earlier click amended: %s", amended ? amended : "(none)");
	free(amended);
	ok(mh_verdict_amend(&d, mh_json_text(sum2), "{\"seq\":12,\"type\":"
	    "\"click\",\"machine\":\"burst\"}", &amended, counted) == 0 &&
	    amended == NULL, "one already so: left as it is");
	is_str(judge(&d, sum2, event("m3", "click", 2030, "203.0.113.77",
	    "https://shop.example/c"), 13, &m.ops, &f), "(person)",
	    "a link 29 s later: no burst");
	json_object_put(sum2);

	/* The trap link. */
	sum2 = json_object_new_object();
	is_str(judge(&d, sum2, event("m5", "click", 3000, "198.18.0.9",
	    "https://shop.example/sale"), 20, &m.ops, &f), "(person)",
	    "a click that looks like a person's");
	is_str(judge(&d, sum2, event("m5", "click", 3030, "198.18.0.9",
	    "https://mh.example/api/trap?m=1"), 21, &m.ops, &f), "scanner",
	    "the trap link clicked: a scanner");
	ok(f.namend == 1 && f.amend[0] == 20, "... the earlier click from its "
	    "address amended");
	json_object_put(sum2);
	sum2 = json_object_new_object();
	is_str(judge(&d, sum2, event("m6", "open", 4000, "198.18.0.9", NULL),
	    30, &m.ops, &f), "scanner", "the address a scanner's for a day");
	is_str(judge(&d, sum2, event("m6", "open", 3030 + 86401, "198.18.0.9",
	    NULL), 31, &m.ops, &f), "(person)", "... and no longer");
	mem_get(&m.ops, MH_NOTE_ADDRESS, "198.18.0.9", &text);
	ok(text == NULL, "the lesson past its day forgotten");
	free(text);
	json_object_put(sum2);
	json_object_put(sum);
	for (int i = 0; i < m.n; i++) {
		free(m.key[i]);
		free(m.text[i]);
	}
}

static void
batch(void)
{
	struct mh_normal n[6];
	struct mh_deriver d;
	const char *want[6] = { "burst", "burst", "burst", NULL, "scanner",
		"scanner" };

	mh_deriver_init(&d, NULL, NULL);
	d.trap_url = "https://mh.example/api/trap";
	memset(n, 0, sizeof(n));
	n[0].event = event("m1", "click", 100, "203.0.113.7", "https://a/1");
	n[1].event = event("m1", "click", 101, "203.0.113.7", "https://a/2");
	n[2].event = event("m1", "click", 101, "203.0.113.7", "https://a/3");
	n[3].event = event("m1", "click", 101, "198.51.100.1", "https://a/4");
	n[4].event = event("m2", "click", 100, "203.0.113.8", "https://a/1");
	n[5].event = event("m2", "click", 400, "203.0.113.8",
	    "https://mh.example/api/trap");
	ok(mh_verdict_batch(&d, n, 6) == 0, "a batch judged");
	for (int i = 0; i < 6; i++) {
		const char *v = mh_json_str(n[i].event, "machine");

		ok(want[i] == NULL ? v == NULL : v != NULL &&
		    strcmp(v, want[i]) == 0, "click %d: %s", i,
		    v != NULL ? v : "a person's");
		json_object_put(n[i].event);
	}
}

int
main(void)
{
	history();
	batch();
	return done_testing();
}

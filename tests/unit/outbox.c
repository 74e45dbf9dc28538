/*
 * The outbox: mail records found by status, recipient and tag (fields of
 * several values), leases that two senders never share and that a dead
 * sender's lapse, changes of a mail and its place in the queue in one
 * transaction, the provider's ids joined to a mail, and the sender's note.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "core/core.h"
#include "db/store.h"

static char *
answer(void *ctx, uint64_t first, size_t n)
{
	char *s = malloc(32);

	(void)ctx;
	snprintf(s, 32, "{\"id\":%llu,\"n\":%zu}", (unsigned long long)first, n);
	return s;
}

/* Adds a mail of status, recipients and tags due at due; its id. */
static uint64_t
add(struct mh_store *st, const char *status, const char *to,
    const char *tags, int64_t due)
{
	struct mh_record r = { .mail = { (char *)status, (char *)to,
	    (char *)tags }, .json = (char *)"{\"subject\":\"s\"}" };
	enum mh_idem_result res;
	char *text = NULL;
	unsigned long long id = 0;

	if (mh_store_mail_add(st, &r, due, NULL, answer, NULL, &text, &res) !=
	    MH_STORE_OK || text == NULL)
		return 0;
	sscanf(text, "{\"id\":%llu", &id);
	free(text);
	return id;
}

static int
count_emit(void *ctx, uint64_t seq, const char *json, size_t len)
{
	uint64_t *last = ctx;

	(void)json;
	(void)len;
	last[0]++;
	last[1] = seq;
	return 0;
}

/* How many mails a filter finds; *last the last one's id. */
static uint64_t
find(struct mh_store *st, const char *status, const char *to, const char *tag,
    uint64_t *last)
{
	struct mh_query q = { .table = MH_TABLE_MAIL,
	    .where.mail = { status, to, tag }, .limit = 50 };
	uint64_t c[2] = { 0, 0 };
	int more;

	if (mh_store_query(st, &q, count_emit, c, &more) != MH_STORE_OK)
		return 99;
	if (last != NULL)
		*last = c[1];
	return c[0];
}

/* A change: status "sent", off the queue or due again, ids joined. */
struct plan {
	int queue;
	int64_t due;
	int hold;
	char **remote;
	int saw_lease;
};

static int
change(void *ctx, size_t i, const char *json, const struct mh_lease *lease,
    struct mh_queued_next *next)
{
	struct plan *p = ctx;

	(void)i;
	(void)json;
	p->saw_lease = lease != NULL;
	next->rec.mail.status = strdup("sent");
	next->rec.mail.recipients = strdup("a@x.io");
	next->rec.mail.tags = strdup("");
	next->rec.json = strdup("{\"id\":1,\"subject\":\"changed\"}");
	next->queue = p->queue;
	next->due_ms = p->due;
	next->hold = p->hold;
	next->remote = p->remote;
	return 0;
}

/* Leases in a child process opened on home: how many it took; it dies
 * without letting go when die is set. */
static int
take_in_child(const char *home, int die)
{
	struct mh_store *st;
	uint64_t ids[16];
	size_t n = 0;
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (mh_store_open(home, &st) != MH_STORE_OK ||
		    mh_store_queue_take(st, MH_SENDQ_MAIL,
		    mh_now_ms(), 16, ids, &n) !=
		    MH_STORE_OK)
			_exit(99);
		if (die)
			_exit((int)n);
		mh_store_close(st);
		_exit((int)n);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Takes what is due at now, reopening the environment when a dead
 * sender's exit left it to be recovered (the open of the next process
 * recovers it, and the others reopen: what the programs do). */
static enum mh_store_err
take(struct mh_store **st, int64_t now, uint64_t *ids, size_t *n)
{
	enum mh_store_err err = mh_store_queue_take(*st, MH_SENDQ_MAIL,
	    now, 16, ids, n);

	if (err == MH_STORE_RECOVER && mh_store_reopen(st) == MH_STORE_OK)
		err = mh_store_queue_take(*st, MH_SENDQ_MAIL, now, 16, ids, n);
	return err;
}

int
main(void)
{
	char home[] = "/tmp/mh-outbox-XXXXXX", cmd[256];
	struct mh_store *st;
	struct mh_lease lease;
	struct mh_sender_note note = { 123, 45, MH_SENDER_KEY_INVALID,
	    { 1, 2, 3, 4, 5, 6, 7, 8 }, 99 }, back;
	uint64_t ids[16], last, queued, due, id;
	int64_t now = mh_now_ms();
	char *json = NULL, *remote[] = { "abc123", "def456", NULL };
	size_t n;
	int inq;

	if (mkdtemp(home) == NULL)
		return 1;
	alarm(20);
	ok(mh_store_open(home, &st) == MH_STORE_OK, "environment opens");

	ok(add(st, "queued", "a@x.io\x1f" "B@y.io\x1f" "a@x.io", "welcome\x1f"
	    "june", now - 10) == 1, "a mail of two recipients (one twice)");
	ok(add(st, "queued", "c@x.io", "june", now + 3600000) == 2,
	    "a mail due in an hour");
	ok(add(st, "sent", "b@y.io", "", -1) == 3, "a mail not in the outbox");
	ok(find(st, NULL, "b@y.io", NULL, &last) == 2 && last == 1,
	    "by a recipient, without case: both mails to b@y.io");
	ok(find(st, NULL, "a@x.io", NULL, NULL) == 1,
	    "a recipient named twice finds its mail once");
	ok(find(st, NULL, NULL, "june", NULL) == 2 &&
	    find(st, NULL, NULL, "welcome", &last) == 1 && last == 1,
	    "by a tag of several");
	ok(find(st, "queued", "b@y.io", NULL, &last) == 1 && last == 1,
	    "status and recipient together");
	ok(find(st, NULL, NULL, "jun", NULL) == 0, "a tag's prefix is not it");

	ok(mh_store_queue_count(st, MH_SENDQ_MAIL,
	    now, &queued, &due) == MH_STORE_OK &&
	    queued == 2 && due == 1, "two in the outbox, one due");
	ok(take_in_child(home, 0) == 1, "another sender takes the one due");
	ok(take(&st, now, ids, &n) == MH_STORE_OK && n == 1 &&
	    ids[0] == 1, "its lease ended with it: taken here");
	ok(take(&st, now, ids, &n) == MH_STORE_OK && n == 0,
	    "a mail this sender holds is not taken again");
	ok(take_in_child(home, 0) == 0, "nor by another while this one lives");
	mh_store_queue_release(st);
	ok(take_in_child(home, 1) == 1, "let go: another takes it, and dies");
	ok(take(&st, now, ids, &n) == MH_STORE_OK && n == 1,
	    "a dead sender's lease lapses");

	ok(mh_store_queued_change(st, MH_SENDQ_MAIL,
	    (uint64_t[]){ 1 }, 1, change, &(struct plan){ MH_QUEUE_AT,
	    now + 60000, 0, remote, 0 }, &json) == MH_STORE_OK && json != NULL &&
	    strstr(json, "changed") != NULL, "a change writes the record");
	free(json);
	ok(find(st, "sent", NULL, NULL, NULL) == 2 &&
	    find(st, NULL, "b@y.io", NULL, NULL) == 1,
	    "its indexes follow it");
	ok(take(&st, now, ids, &n) == MH_STORE_OK && n == 0,
	    "due later: not taken now");
	ok(take(&st, now + 60000, ids, &n) == MH_STORE_OK &&
	    n == 1 && ids[0] == 1, "taken when due");
	ok(mh_store_mail_of(st, "def456", &id) == MH_STORE_OK && id == 1 &&
	    mh_store_mail_of(st, "zzz", &id) == MH_STORE_NOTFOUND,
	    "the provider's ids name the mail");
	ok(mh_store_queued_change(st, MH_SENDQ_MAIL,
	    (uint64_t[]){ 1 }, 1, change, &(struct plan){ MH_QUEUE_OFF,
	    0, 0, NULL, 0 }, NULL) == MH_STORE_OK &&
	    mh_store_queued_get(st, MH_SENDQ_MAIL,
	    1, &json, &lease, &inq) == MH_STORE_OK &&
	    !inq, "done: out of the outbox");
	free(json);
	ok(mh_store_queued_change(st, MH_SENDQ_MAIL,
	    (uint64_t[]){ 9 }, 1, change, &(struct plan){ 0 }, NULL) ==
	    MH_STORE_NOTFOUND, "no such mail");
	ok(mh_store_queued_get(st, MH_SENDQ_MAIL,
	    2, &json, &lease, &inq) == MH_STORE_OK && inq &&
	    lease.due_ms == now + 3600000 && lease.pid == 0,
	    "a mail's lease reads back");
	free(json);

	ok(mh_store_sender_note_get(st, &back) == MH_STORE_NOTFOUND,
	    "no sender has said anything");
	ok(mh_store_sender_note_put(st, &note) == MH_STORE_OK &&
	    mh_store_sender_note_get(st, &back) == MH_STORE_OK &&
	    memcmp(&note, &back, sizeof(note)) == 0, "the sender's note");

	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}

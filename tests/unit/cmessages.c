/*
 * Campaigns' messages in storage: made once for each pair of campaign and
 * client however often they are made again, queued in their own send
 * queue (apart from the outbox), counted by campaign and status (campaign
 * 1's counts are not campaign 10's), their status moving their counts,
 * and the clients' version moving with each change to the clients.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"
#include "db/store-private.h"

/* Makes the messages of campaign to clients; how many were new. */
static size_t
make(struct mh_store *st, uint64_t campaign, const uint64_t *clients,
    size_t n)
{
	struct mh_record recs[8];
	uint64_t made[8];
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		mh_cmessage_make(campaign, clients[i], 1000, &recs[i]);
	if (mh_store_cmessages_make(st, campaign, clients, recs, n, 0, made) !=
	    MH_STORE_OK)
		k = 999;
	for (size_t i = 0; i < n; i++) {
		k += made[i] != 0;
		mh_record_free(&recs[i]);
	}
	return k;
}

struct counted {
	char text[256];
};

static void
count_into(void *ctx, uint64_t campaign, const char *status, uint64_t n)
{
	struct counted *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s%" PRIu64 "/%s=%"
	    PRIu64, len ? " " : "", campaign, status, n);
}

static const char *
counts(struct mh_store *st, uint64_t campaign, struct counted *c)
{
	c->text[0] = '\0';
	if (mh_store_cmessages_count(st, campaign, count_into, c) !=
	    MH_STORE_OK)
		return "(failed)";
	return c->text;
}

/* An mh_queued_fn: the message sent, out of the queue. */
static int
sent(void *ctx, size_t i, const char *json, const struct mh_lease *lease,
    struct mh_queued_next *next)
{
	struct json_object *m = json_tokener_parse(json);

	(void)ctx;
	(void)i;
	(void)lease;
	mh_json_set_str(m, "status", "sent");
	next->queue = MH_QUEUE_OFF;
	mh_cmessage_record(m, &next->rec);
	json_object_put(m);
	return 0;
}

/* A writer holds a write lock on the state index's first page for ms
 * milliseconds, from a process of its own; returns its pid once the lock
 * is held. */
static pid_t
hold_state_index(const char *home, int ms)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct mh_store *st;
		DB_TXN *txn;
		DBC *cur;
		DBT key, data;

		close(fds[0]);
		if (mh_store_open(home, &st) != MH_STORE_OK ||
		    st->env->txn_begin(st->env, NULL, &txn, 0) != 0 ||
		    st->db[MH_DB_CM_BY_STATE]->cursor(st->db[MH_DB_CM_BY_STATE],
		    txn, &cur, 0) != 0)
			_exit(1);
		memset(&key, 0, sizeof(key));
		memset(&data, 0, sizeof(data));
		if (cur->get(cur, &key, &data, DB_FIRST | DB_RMW) != 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		usleep((useconds_t)ms * 1000);
		cur->close(cur);
		txn->abort(txn);
		mh_store_close(st);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		pid = -1;
	close(fds[0]);
	return pid;
}

int
main(void)
{
	char home[] = "/tmp/mh-cmessages-XXXXXX", cmd[256];
	struct mh_store *st;
	struct counted c;
	uint64_t ids[16], queued, due, v0, v1;
	struct mh_record client = { .client = { (char *)"vip", (char *)"900",
	    (char *)"79001234567" }, .json = (char *)"{\"tag\":\"vip\"}" };
	char *text = NULL, *json = NULL;
	size_t n;

	if (mkdtemp(home) == NULL)
		return 1;
	alarm(20);
	ok(mh_store_open(home, &st) == MH_STORE_OK, "environment opens");
	ok(make(st, 1, (uint64_t[]){ 11, 12, 13 }, 3) == 3,
	    "campaign 1: a message for each of 3 clients");
	ok(make(st, 1, (uint64_t[]){ 12, 13, 14 }, 3) == 1,
	    "made again with one client more: only its message is new");
	ok(make(st, 10, (uint64_t[]){ 11 }, 1) == 1,
	    "campaign 10: its own message to client 11");
	is_str(counts(st, 1, &c), "1/pending=4", "campaign 1: 4 pending");
	is_str(counts(st, 0, &c), "1/pending=4 10/pending=1",
	    "every campaign, each its own");
	/* A campaign sending holds locks on the index: the count waits them
	 * out, and says each count once however often it was tried. */
	{
		pid_t w = hold_state_index(home, 400);
		int status = 1;

		ok(w > 0, "a writer holds the state index");
		is_str(counts(st, 1, &c), "1/pending=4", "counted under the "
		    "writer's lock: waited, not failed, nothing twice");
		if (w > 0)
			waitpid(w, &status, 0);
		ok(status == 0, "the writer ended well");
	}
	ok(mh_store_queue_count(st, MH_SENDQ_CAMPAIGN, 0, &queued, &due) ==
	    MH_STORE_OK && queued == 5 && due == 5, "5 in the campaigns' queue");
	ok(mh_store_queue_count(st, MH_SENDQ_MAIL, 0, &queued, &due) ==
	    MH_STORE_OK && queued == 0, "none in the outbox");
	ok(mh_store_queue_take(st, MH_SENDQ_CAMPAIGN, 0, 16, ids, &n) ==
	    MH_STORE_OK && n == 5 && ids[0] == 1, "taken, first made first");
	ok(mh_store_queued_change(st, MH_SENDQ_CAMPAIGN, ids, 2, sent, NULL,
	    NULL) == MH_STORE_OK, "two sent");
	is_str(counts(st, 1, &c), "1/pending=2 1/sent=2",
	    "their counts moved with their status");
	ok(mh_store_queued_get(st, MH_SENDQ_CAMPAIGN, 1, &json, NULL, NULL) ==
	    MH_STORE_OK && strstr(json, "\"status\":\"sent\"") != NULL &&
	    strncmp(json, "{\"id\":1,", 8) == 0, "one read back, led by its id");
	free(json);
	ok(mh_store_record_changes(st, MH_TABLE_CLIENTS, &v0) ==
	    MH_STORE_OK && v0 == 0, "no client changed yet: version 0");
	ok(mh_store_record_add(st, MH_TABLE_CLIENTS, &client,
	    mh_record_answer, &(struct mh_added){ &client, 0 }, &text) ==
	    MH_STORE_OK && mh_store_record_changes(st, MH_TABLE_CLIENTS,
	    &v1) == MH_STORE_OK && v1 == v0 + 1,
	    "a client added: the clients' version moves");
	free(text);
	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	return system(cmd) != 0 || done_testing();
}

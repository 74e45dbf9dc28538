/*
 * mailhooks-db's commands on an open environment: counts, checks and
 * copies, the events and the refusals as JSON lines, and draining,
 * deriving again and pruning by hand.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/core.h"
#include "admin.h"

/* Whether a signal asks the tool to stop (they are held while it runs:
 * killed inside a transaction, it would make the server run recovery). */
static int
stop_asked(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 && (sigismember(&pending, SIGINT) ||
	    sigismember(&pending, SIGTERM) || sigismember(&pending, SIGHUP));
}

/* Writes one record as a JSON line (ctx is the command's); -1 ends the
 * listing: its reader is gone, or a signal asks to stop. */
static int
print_line(void *ctx, uint64_t seq, const char *json, size_t len)
{
	struct mh_cmd_ctx *c = ctx;
	char stand_in[64];

	if ((c->stopped = stop_asked()))
		return -1;
	c->last = seq;
	json = mh_json_stored(json, &len, seq, stand_in);
	if (fwrite(json, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
	    fflush(stdout) == EOF) {
		c->out_gone = errno == EPIPE;
		return -1;
	}
	return 0;
}

int
cmd_stats(struct mh_cmd_ctx *c)
{
	struct mh_store_stats s;
	struct mh_store_sizes z;
	enum mh_store_err err;

	if ((err = mh_store_stats(c->st, &s)) != MH_STORE_OK ||
	    (err = mh_store_sizes(c->st, &z)) != MH_STORE_OK) {
		fprintf(stderr, "mailhooks-db: the storage is busy or failed "
		    "(%d); try again\n", (int)err);
		return 1;
	}
	printf("{\"last_seq\":%" PRIu64 ",\"events\":%" PRIu64 ",\"messages\":%"
	    PRIu64 ",\"email_callbacks\":%" PRIu64 ",\"raw_bodies\":%" PRIu64
	    ",\"raw_bytes\":%" PRIu64
	    ",\"inbox_pending\":%" PRIu64 ",\"set_aside\":%" PRIu64
	    ",\"dedupe_keys\":%" PRIu64 ",\"notifications\":%" PRIu64
	    ",\"notifications_unread\":%" PRIu64 ",\"db_bytes\":%" PRIu64
	    ",\"log_files\":%u,\"log_newest\":%u}\n", s.last_seq, z.events,
	    z.messages, z.callbacks, z.raw, z.raw_bytes, s.inbox_pending,
	    s.set_aside, z.dedupe, z.notifications, z.unread, z.db_bytes,
	    z.log_files, z.log_newest);
	return 0;
}

int
cmd_verify(struct mh_cmd_ctx *c)
{
	if (mh_store_verify(c->st) != MH_STORE_OK) {
		fprintf(stderr, "mailhooks-db: verify: damaged (said above)\n");
		return 1;
	}
	printf("mailhooks-db: verify: every database is sound (checked on a "
	    "hot copy)\n");
	return 0;
}

int
cmd_backup(struct mh_cmd_ctx *c)
{
	if (mh_store_backup(c->st, c->argv[0]) != MH_STORE_OK) {
		fprintf(stderr, "mailhooks-db: backup: failed (said above)\n");
		return 1;
	}
	printf("mailhooks-db: backup: a consistent copy is in %s\n",
	    c->argv[0]);
	return 0;
}

int
cmd_dump(struct mh_cmd_ctx *c)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS, .has_after = 1,
	    .limit = 500 };
	const char *from = c->argc > 0 ? c->argv[0] : NULL;
	unsigned long long after = 0;
	int more = 1;

	if (from != NULL && strcmp(from, "--notifications") == 0) {
		q.table = MH_TABLE_NOTIFICATIONS;
		from = c->argc > 1 ? c->argv[1] : NULL;
	}

	if (from != NULL && mh_parse_uint(from, UINT64_MAX, &after) != 0) {
		fprintf(stderr, "mailhooks-db: dump: %s is not a seq\n", from);
		return 2;
	}
	q.after = after;
	while (more) {
		c->last = q.after;
		if (mh_store_query(c->st, &q, print_line, c, &more) !=
		    MH_STORE_OK)
			return 1;
		q.after = c->last;
	}
	return 0;
}

/* One set-aside entry as a JSON line. */
static int
print_set_aside(void *ctx, const struct mh_set_aside *s)
{
	struct json_object *o;
	int ret;

	if (s->legacy != NULL)
		return print_line(ctx, s->receipt, s->legacy, strlen(s->legacy));
	o = json_object_new_object();
	json_object_object_add(o, "receipt", json_object_new_uint64(s->receipt));
	json_object_object_add(o, "attempts",
	    json_object_new_int64(s->attempts));
	mh_json_set_str(o, "reason", s->reason);
	json_object_object_add(o, "at", json_object_new_int64(s->at));
	ret = print_line(ctx, s->receipt, mh_json_text(o),
	    strlen(mh_json_text(o)));
	json_object_put(o);
	return ret;
}

int
cmd_rejected(struct mh_cmd_ctx *c)
{
	return mh_store_refused_list(c->st, print_line, c) == MH_STORE_OK &&
	    mh_store_set_aside_list(c->st, print_set_aside, c) ==
	    MH_STORE_OK ? 0 : 1;
}

/* The deriver the admin tool's commands store events with, as the drain
 * makes it of the same settings (MAILHOOKS_NOTIFY_ON, _NOTIFY_MACHINE,
 * _MACHINE_RULES, _PUBLIC_URL: the trap link's address into trap, which
 * it points at): *rules for mh_machine_rules_free. 0, or 2 (said why). */
static int
mh_admin_deriver(struct mh_deriver *d, struct mh_notifier *relay,
    struct mh_machine_rules **rules, char trap[MH_TRAP_URL_MAX])
{
	const char *notify_on = getenv("MAILHOOKS_NOTIFY_ON");
	const char *notify_machine = getenv("MAILHOOKS_NOTIFY_MACHINE");
	char why[300];

	mh_deriver_init(d, mh_notify_event, relay);
	if (notify_on != NULL && *notify_on != '\0' &&
	    mh_notify_types_parse(notify_on, &d->notify_types) != 0) {
		fprintf(stderr, "mailhooks-db: MAILHOOKS_NOTIFY_ON is a list of "
		    "open and click types, or none\n");
		return 2;
	}
	*rules = mh_machine_rules_for(getenv("MAILHOOKS_MACHINE_RULES"), why,
	    sizeof(why));
	if (why[0] != '\0')
		fprintf(stderr, "mailhooks-db: MAILHOOKS_MACHINE_RULES=%s: %s: "
		    "the built-in rules are used\n",
		    getenv("MAILHOOKS_MACHINE_RULES"), why);
	d->machine_rules = *rules;
	d->notify_machine = notify_machine != NULL &&
	    strcmp(notify_machine, "1") == 0;
	if (mh_trap_url(getenv("MAILHOOKS_PUBLIC_URL"), trap, MH_TRAP_URL_MAX) != 0)
		trap[0] = '\0';
	d->trap_url = trap;
	return 0;
}

/* Drains the inbox, or derives everything again, telling the relay. */
static int
cmd_derive(struct mh_cmd_ctx *c, int all)
{
	struct mh_notifier relay = { .home = c->home, .fd = -1 };
	struct mh_machine_rules *rules;
	struct mh_deriver d;
	enum mh_store_err err;
	char trap[MH_TRAP_URL_MAX];
	size_t n = 0;

	if (mh_admin_deriver(&d, &relay, &rules, trap) != 0)
		return 2;
	if (all)
		err = mh_store_reprocess(c->st, &d, &n);
	else if ((err = mh_store_drain(c->st, NULL, 0, 1, &d, &n)) ==
	    MH_STORE_OK)
		err = mh_store_checkpoint(c->st, 0);
	mh_notify_done(&relay);
	mh_machine_rules_free(rules);
	fprintf(stderr, "mailhooks-db: %zu new events\n", n);
	return err == MH_STORE_OK ? 0 : 1;
}

int
cmd_drain(struct mh_cmd_ctx *c)
{
	return cmd_derive(c, 0);
}

int
cmd_reprocess(struct mh_cmd_ctx *c)
{
	return cmd_derive(c, 1);
}

int
cmd_reclassify(struct mh_cmd_ctx *c)
{
	struct mh_notifier relay = { .home = c->home, .fd = -1 };
	struct mh_machine_rules *rules;
	struct mh_reclassified n;
	struct mh_deriver d;
	enum mh_store_err err;
	char trap[MH_TRAP_URL_MAX];

	if (mh_admin_deriver(&d, &relay, &rules, trap) != 0)
		return 2;
	err = mh_store_reclassify(c->st, &d, mh_event_rejudge, &n);
	if (err == MH_STORE_OK)
		err = mh_store_checkpoint(c->st, 0);
	mh_machine_rules_free(rules);
	printf("{\"messages\":%llu,\"events_changed\":%llu,"
	    "\"messages_skipped\":%llu}\n", (unsigned long long)n.messages,
	    (unsigned long long)n.events_changed,
	    (unsigned long long)n.messages_skipped);
	return err == MH_STORE_OK ? 0 : 1;
}

int
cmd_prune(struct mh_cmd_ctx *c)
{
	struct mh_config cfg = { 0 };
	struct mh_erased old = { 0 };
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;
	int ret;

	if (mh_config_retention(&cfg, NULL) != 0)
		return 2;
	ret = mh_store_prune(c->st, now, cfg.raw_max_age, cfg.raw_max_bytes,
	    &n) == MH_STORE_OK ? 0 : 1;
	fprintf(stderr, "mailhooks-db: %zu raw bodies deleted\n", n);
	if (ret == 0 && cfg.event_max_age > 0) {
		ret = mh_store_events_expire(c->st, now - cfg.event_max_age,
		    &old) == MH_STORE_OK ? 0 : 1;
		fprintf(stderr, "mailhooks-db: %" PRIu64 " events and %" PRIu64
		    " summaries deleted\n", old.events, old.summaries);
	}
	if (ret == 0) {
		ret = mh_store_idem_expire(c->st, now, MH_IDEM_TTL, 0, &n) ==
		    MH_STORE_OK ? 0 : 1;
		fprintf(stderr, "mailhooks-db: %zu idempotency keys deleted\n",
		    n);
	}
	return ret;
}

int
cmd_erase(struct mh_cmd_ctx *c)
{
	struct mh_erased n;
	enum mh_store_err err;

	if (!mh_recipient_ok(c->argv[0])) {
		fprintf(stderr, "mailhooks-db: erase: '%s' is not an email "
		    "address (at most %d bytes, with an @)\n", c->argv[0],
		    MH_RECIPIENT_MAX);
		return 1;
	}
	err = mh_store_erase(c->st, c->argv[0], mh_notification_names,
	    c->argv[0], &n);
	if (err != MH_STORE_OK) {
		fprintf(stderr, "mailhooks-db: erase: storage error %d\n",
		    (int)err);
		return 1;
	}
	printf("{\"erased\":{\"events\":%" PRIu64 ",\"email_callbacks\":%"
	    PRIu64 ",\"summaries\":%" PRIu64 ",\"raw_bodies\":%" PRIu64
	    ",\"notifications\":%" PRIu64 "}}\n", n.events, n.callbacks,
	    n.summaries, n.raw_bodies, n.notifications);
	return 0;
}

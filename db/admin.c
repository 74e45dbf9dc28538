/*
 * mailhooks-db: the admin tool for the Berkeley DB environment under
 * $MAILHOOKS_HOME/db. Its commands are one table (mh_commands): name,
 * arguments, what it does, the function. It links the storage layer and
 * the core (deriving events, the relay datagram), not the HTTP side.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../cgi-bin/core.h"
#include "store.h"

/* What a command is given: the data directory, its arguments, and the
 * storage opened (NULL for a command that opens none). */
struct mh_cmd_ctx {
	const char *home;
	int argc;
	char **argv;
	struct mh_store *st;
};

struct mh_command {
	const char *name;
	int min_args, max_args;
	int opens;		/* opens the environment first */
	const char *usage;
	int (*run)(struct mh_cmd_ctx *c);
};

static const struct mh_command mh_commands[];

static void
usage(FILE *out)
{
	fputs("usage: mailhooks-db [-h HOME] COMMAND [ARGS]\n"
	    "\n"
	    "HOME is the data directory (default: $MAILHOOKS_HOME, else ./var).\n"
	    "\n", out);
	for (const struct mh_command *c = mh_commands; c->name != NULL; c++)
		fputs(c->usage, out);
	fputs("\n"
	    "Errors go to stderr; the exit status is 0 on success, 1 on failure,\n"
	    "2 on a usage error.\n", out);
}

static int
print_line(void *ctx, uint64_t seq, const char *json, size_t len)
{
	uint64_t *last = ctx;
	char stand_in[64];

	if (last != NULL)
		*last = seq;
	json = mh_json_stored(json, &len, seq, stand_in);
	fwrite(json, 1, len, stdout);
	fputc('\n', stdout);
	return ferror(stdout) ? -1 : 0;
}

static int
cmd_stats(struct mh_cmd_ctx *c)
{
	struct mh_store_stats s;
	struct mh_store_sizes z;

	if (mh_store_stats(c->st, &s) != MH_STORE_OK ||
	    mh_store_sizes(c->st, &z) != MH_STORE_OK)
		return 1;
	printf("{\"last_seq\":%" PRIu64 ",\"events\":%" PRIu64 ",\"messages\":%"
	    PRIu64 ",\"email_callbacks\":%" PRIu64 ",\"raw_bodies\":%" PRIu64
	    ",\"raw_bytes\":%" PRIu64
	    ",\"inbox_pending\":%" PRIu64 ",\"set_aside\":%" PRIu64
	    ",\"dedupe_keys\":%" PRIu64 ",\"db_bytes\":%" PRIu64
	    ",\"log_files\":%u,\"log_newest\":%u}\n", s.last_seq, z.events,
	    z.messages, z.callbacks, z.raw, z.raw_bytes, s.inbox_pending,
	    s.set_aside,
	    z.dedupe, z.db_bytes, z.log_files, z.log_newest);
	return 0;
}

static int
cmd_verify(struct mh_cmd_ctx *c)
{
	return mh_store_verify(c->st) == MH_STORE_OK ? 0 : 1;
}

static int
cmd_backup(struct mh_cmd_ctx *c)
{
	return mh_store_backup(c->st, c->argv[0]) == MH_STORE_OK ? 0 : 1;
}

static int
cmd_dump(struct mh_cmd_ctx *c)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS, .has_after = 1,
	    .limit = 500 };
	const char *from = c->argc > 0 ? c->argv[0] : NULL;
	unsigned long long after = 0;
	int more = 1;

	if (from != NULL && mh_parse_uint(from, UINT64_MAX, &after) != 0) {
		fprintf(stderr, "mailhooks-db: dump: %s is not a seq\n", from);
		return 2;
	}
	q.after = after;
	while (more) {
		uint64_t last = q.after;

		if (mh_store_query(c->st, &q, print_line, &last, &more) !=
		    MH_STORE_OK)
			return 1;
		q.after = last;
	}
	return 0;
}

/* One set-aside entry as a JSON line. */
static int
print_set_aside(void *ctx, const struct mh_set_aside *s)
{
	struct json_object *o;
	int ret;

	(void)ctx;
	if (s->legacy != NULL)
		return print_line(NULL, s->receipt, s->legacy, strlen(s->legacy));
	o = json_object_new_object();
	json_object_object_add(o, "receipt", json_object_new_uint64(s->receipt));
	json_object_object_add(o, "attempts",
	    json_object_new_int64(s->attempts));
	mh_json_set_str(o, "reason", s->reason);
	json_object_object_add(o, "at", json_object_new_int64(s->at));
	ret = print_line(NULL, s->receipt, mh_json_text(o),
	    strlen(mh_json_text(o)));
	json_object_put(o);
	return ret;
}

static int
cmd_rejected(struct mh_cmd_ctx *c)
{
	return mh_store_refused_list(c->st, print_line, NULL) == MH_STORE_OK &&
	    mh_store_set_aside_list(c->st, print_set_aside, NULL) ==
	    MH_STORE_OK ? 0 : 1;
}

/* Drains the inbox, or derives everything again, telling the relay. */
static int
cmd_derive(struct mh_cmd_ctx *c, int all)
{
	struct mh_notifier relay = { .home = c->home, .fd = -1 };
	struct mh_deriver d;
	enum mh_store_err err;
	size_t n = 0;

	mh_deriver_init(&d, mh_notify_event, &relay);
	if (all)
		err = mh_store_reprocess(c->st, &d, &n);
	else if ((err = mh_store_drain(c->st, NULL, 0, 1, &d, &n)) ==
	    MH_STORE_OK)
		err = mh_store_checkpoint(c->st, 0);
	mh_notify_done(&relay);
	fprintf(stderr, "mailhooks-db: %zu new events\n", n);
	return err == MH_STORE_OK ? 0 : 1;
}

static int
cmd_drain(struct mh_cmd_ctx *c)
{
	return cmd_derive(c, 0);
}

static int
cmd_reprocess(struct mh_cmd_ctx *c)
{
	return cmd_derive(c, 1);
}

static int
cmd_prune(struct mh_cmd_ctx *c)
{
	struct mh_config cfg = { 0 };
	size_t n = 0;
	int ret;

	if (mh_config_retention(&cfg, NULL) != 0)
		ret = 2;
	else
		ret = mh_store_prune(c->st, (int64_t)time(NULL),
		    cfg.raw_max_age, cfg.raw_max_bytes, &n) == MH_STORE_OK ?
		    0 : 1;
	fprintf(stderr, "mailhooks-db: %zu raw bodies deleted\n", n);
	return ret;
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = NULL;
	size_t n;
	int ret = -1;

	if (in == NULL || (out = fopen(to, "wbx")) == NULL)
		goto out;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			goto out;
	ret = ferror(in) ? -1 : 0;
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL) {
		if (fflush(out) != 0 || fsync(fileno(out)) != 0)
			ret = -1;
		if (fclose(out) != 0)
			ret = -1;
	}
	return ret;
}

/* Whether dir holds anything; -1 with errno when it cannot be read. */
static int
dir_has_files(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0;
}

/* Copies the databases and logs of a backup (not a copy's own regions). */
static int
copy_backup(const char *from, const char *dbdir)
{
	char src[4352], dst[4352];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if ((d = opendir(from)) == NULL) {
		fprintf(stderr, "mailhooks-db: restore: %s: %s\n", from,
		    strerror(errno));
		return 1;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (!((len > 3 && strcmp(de->d_name + len - 3, ".db") == 0) ||
		    strncmp(de->d_name, "log.", 4) == 0))
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dbdir, de->d_name);
		if (copy_file(src, dst) != 0) {
			fprintf(stderr, "mailhooks-db: restore: %s: %s\n", src,
			    strerror(errno));
			ret = 1;
		}
	}
	closedir(d);
	return ret;
}

/* Copies the databases and logs of a backup into HOME/db, which must not
 * hold an environment yet (the server is stopped). */
static int
cmd_restore(struct mh_cmd_ctx *c)
{
	char dbdir[4096];

	snprintf(dbdir, sizeof(dbdir), "%s/db", c->home);
	if ((mkdir(c->home, 0750) != 0 && errno != EEXIST) ||
	    (mkdir(dbdir, 0750) != 0 && errno != EEXIST)) {
		fprintf(stderr, "mailhooks-db: restore: %s: %s\n", dbdir,
		    strerror(errno));
		return 1;
	}
	if (dir_has_files(dbdir) != 0) {
		fprintf(stderr, "mailhooks-db: restore: %s is not empty: stop "
		    "the server and move it aside first\n", dbdir);
		return 1;
	}
	return copy_backup(c->argv[0], dbdir);
}

static const struct mh_command mh_commands[] = {
	{ "stats", 0, 0, 1,
	    "  stats          counts, last seq, inbox, disk use, log files (and\n"
	    "                 the newest one's number)\n", cmd_stats },
	{ "verify", 0, 0, 1,
	    "  verify         check every database file's structure\n",
	    cmd_verify },
	{ "backup", 1, 1, 1,
	    "  backup DIR     a consistent copy into DIR (new or empty) while the\n"
	    "                 server runs; DIR then opens as a data directory's db/\n",
	    cmd_backup },
	{ "restore", 1, 1, 0,
	    "  restore DIR    put a backup in place of HOME/db; the server must be\n"
	    "                 stopped and HOME/db absent or empty\n", cmd_restore },
	{ "dump", 0, 1, 1,
	    "  dump [SEQ]     events after SEQ (default 0) as JSON lines\n",
	    cmd_dump },
	{ "rejected", 0, 0, 1,
	    "  rejected       refused webhook requests (the newest 1000: why,\n"
	    "                 when, from where, the start of the body), then\n"
	    "                 inbox entries set aside, as JSON lines\n",
	    cmd_rejected },
	{ "drain", 0, 0, 1,
	    "  drain          process what waits in the inbox now\n", cmd_drain },
	{ "reprocess", 0, 0, 1,
	    "  reprocess      derive events again from every raw body kept and\n"
	    "                 store those missing (after a parser fix)\n",
	    cmd_reprocess },
	{ "prune", 0, 0, 1,
	    "  prune          apply the raw-body retention now\n"
	    "                 (MAILHOOKS_RAW_MAX_AGE_DAYS, MAILHOOKS_RAW_MAX_MB)\n",
	    cmd_prune },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static const struct mh_command *
mh_command(const char *name)
{
	for (const struct mh_command *c = mh_commands; c->name != NULL; c++)
		if (strcmp(name, c->name) == 0)
			return c;
	return NULL;
}

int
main(int argc, char **argv)
{
	struct mh_cmd_ctx c = { .home = getenv("MAILHOOKS_HOME") };
	const struct mh_command *cmd;
	int opt, ret;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "h:")) != -1) {
		if (opt != 'h') {
			usage(stderr);
			return 2;
		}
		c.home = optarg;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (c.home == NULL || *c.home == '\0')
		c.home = "./var";
	c.argc = argc - optind - 1;
	c.argv = argv + optind + 1;
	if ((cmd = mh_command(argv[optind])) == NULL) {
		fprintf(stderr, "mailhooks-db: unknown command %s\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (c.argc < cmd->min_args || c.argc > cmd->max_args) {
		usage(stderr);
		return 2;
	}
	if (cmd->opens && mh_store_open(c.home, &c.st) != MH_STORE_OK) {
		fprintf(stderr, "mailhooks-db: cannot open %s/db\n", c.home);
		return 1;
	}
	ret = cmd->run(&c);
	mh_store_close(c.st);
	return ret;
}

/*
 * mailhooks-db: the admin tool for the Berkeley DB environment under
 * $MAILHOOKS_HOME/db. See usage() or --help.
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

#include "../cgi-bin/mailhooks.h"

static void
usage(FILE *out)
{
	fputs("usage: mailhooks-db [-h HOME] COMMAND [ARGS]\n"
	    "\n"
	    "HOME is the data directory (default: $MAILHOOKS_HOME, else ./var).\n"
	    "\n"
	    "  stats          counts, last seq, inbox, disk use, log files (and\n"
	    "                 the newest one's number)\n"
	    "  verify         check every database file's structure\n"
	    "  backup DIR     a consistent copy into DIR (new or empty) while the\n"
	    "                 server runs; DIR then opens as a data directory's db/\n"
	    "  restore DIR    put a backup in place of HOME/db; the server must be\n"
	    "                 stopped and HOME/db absent or empty\n"
	    "  dump [SEQ]     events after SEQ (default 0) as JSON lines\n"
	    "  rejected       refused webhook requests (the newest 1000: why,\n"
	    "                 when, from where, the start of the body), then\n"
	    "                 inbox entries set aside, as JSON lines\n"
	    "  drain          process what waits in the inbox now\n"
	    "  reprocess      derive events again from every raw body kept and\n"
	    "                 store those missing (after a parser fix)\n"
	    "  prune          apply the raw-body retention now\n"
	    "                 (MAILHOOKS_RAW_MAX_AGE_DAYS, MAILHOOKS_RAW_MAX_MB)\n"
	    "\n"
	    "Errors go to stderr; the exit status is 0 on success, 1 on failure,\n"
	    "2 on a usage error.\n", out);
}

static int
known(const char *cmd)
{
	static const char *const cmds[] = { "stats", "verify", "backup",
	    "dump", "rejected", "drain", "reprocess", "prune", NULL };

	for (size_t i = 0; cmds[i] != NULL; i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return 1;
	return 0;
}

static int
print_line(void *ctx, uint64_t seq, const char *json, size_t len)
{
	uint64_t *last = ctx;

	if (last != NULL)
		*last = seq;
	fwrite(json, 1, len, stdout);
	fputc('\n', stdout);
	return ferror(stdout) ? -1 : 0;
}

static int
cmd_stats(struct mh_store *st)
{
	struct mh_store_stats s;
	struct mh_store_sizes z;

	if (mh_store_stats(st, &s) != MH_STORE_OK ||
	    mh_store_sizes(st, &z) != MH_STORE_OK)
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
cmd_dump(struct mh_store *st, const char *from)
{
	struct mh_query q = { .table = MH_TABLE_EVENTS, .has_after = 1,
	    .limit = 500 };
	char *end;
	int more = 1;

	if (from != NULL) {
		errno = 0;
		q.after = strtoull(from, &end, 10);
		if (errno != 0 || *end != '\0' || *from == '-') {
			fprintf(stderr, "mailhooks-db: dump: %s is not a seq\n",
			    from);
			return 2;
		}
	}
	while (more) {
		uint64_t last = q.after;

		if (mh_store_query(st, &q, print_line, &last, &more) !=
		    MH_STORE_OK)
			return 1;
		q.after = last;
	}
	return 0;
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
	if (out != NULL && (fflush(out) != 0 || fsync(fileno(out)) != 0 ||
	    fclose(out) != 0))
		ret = -1;
	return ret;
}

/* Copies the databases and logs of a backup into HOME/db, which must not
 * hold an environment yet (the server is stopped). */
static int
cmd_restore(const char *home, const char *from)
{
	char dbdir[4096], src[4352], dst[4352];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dbdir, sizeof(dbdir), "%s/db", home);
	if ((mkdir(home, 0750) != 0 && errno != EEXIST) ||
	    (mkdir(dbdir, 0750) != 0 && errno != EEXIST)) {
		fprintf(stderr, "mailhooks-db: restore: %s: %s\n", dbdir,
		    strerror(errno));
		return 1;
	}
	if ((d = opendir(dbdir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
	}
	if (n > 0) {
		fprintf(stderr, "mailhooks-db: restore: %s is not empty: stop "
		    "the server and move it aside first\n", dbdir);
		return 1;
	}
	if ((d = opendir(from)) == NULL) {
		fprintf(stderr, "mailhooks-db: restore: %s: %s\n", from,
		    strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		/* The databases and the logs; not a copy's own regions. */
		if (!((len > 3 && strcmp(de->d_name + len - 3, ".db") == 0) ||
		    strncmp(de->d_name, "log.", 4) == 0))
			continue;
		snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
		snprintf(dst, sizeof(dst), "%s/%s", dbdir, de->d_name);
		if (copy_file(src, dst) != 0) {
			fprintf(stderr, "mailhooks-db: restore: %s: %s\n", src,
			    strerror(errno));
			closedir(d);
			return 1;
		}
	}
	closedir(d);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *home = getenv("MAILHOOKS_HOME"), *cmd;
	struct mh_config cfg = { 0 };
	struct mh_app app = { .cfg = &cfg, .notify_fd = -1 };
	struct mh_store *st = NULL;
	size_t n = 0;
	int opt, ret = 1;

	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((opt = getopt(argc, argv, "h:")) != -1) {
		if (opt != 'h') {
			usage(stderr);
			return 2;
		}
		home = optarg;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (home == NULL || *home == '\0')
		home = "./var";
	cmd = argv[optind];
	if (strcmp(cmd, "restore") == 0) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
		return cmd_restore(home, argv[optind + 1]);
	}
	if ((strcmp(cmd, "backup") == 0 && argc - optind != 2) ||
	    (strcmp(cmd, "dump") == 0 && argc - optind > 2) ||
	    (strcmp(cmd, "backup") != 0 && strcmp(cmd, "dump") != 0 &&
	    argc - optind != 1)) {
		usage(stderr);
		return 2;
	}
	if (!known(cmd)) {
		fprintf(stderr, "mailhooks-db: unknown command %s\n", cmd);
		usage(stderr);
		return 2;
	}
	if (mh_store_open(home, &st) != MH_STORE_OK) {
		fprintf(stderr, "mailhooks-db: cannot open %s/db\n", home);
		return 1;
	}
	cfg.home = (char *)home;
	app.store = st;
	if (strcmp(cmd, "stats") == 0)
		ret = cmd_stats(st);
	else if (strcmp(cmd, "verify") == 0)
		ret = mh_store_verify(st) == MH_STORE_OK ? 0 : 1;
	else if (strcmp(cmd, "backup") == 0)
		ret = mh_store_backup(st, argv[optind + 1]) == MH_STORE_OK ? 0 : 1;
	else if (strcmp(cmd, "dump") == 0)
		ret = cmd_dump(st, argv[optind + 1]);
	else if (strcmp(cmd, "rejected") == 0)
		ret = mh_store_refused_list(st, print_line, NULL) ==
		    MH_STORE_OK && mh_store_set_aside_list(st, print_line,
		    NULL) == MH_STORE_OK ? 0 : 1;
	else if (strcmp(cmd, "drain") == 0) {
		ret = mh_store_drain(st, NULL, 0, 1, mh_derive, NULL,
		    mh_notify_event, &app, &n) == MH_STORE_OK &&
		    mh_store_checkpoint(st, 0) == MH_STORE_OK ? 0 : 1;
		mh_notify_done(&app);
		fprintf(stderr, "mailhooks-db: %zu new events\n", n);
	} else if (strcmp(cmd, "prune") == 0) {
		if (mh_config_retention(&cfg, NULL) != 0)
			ret = 2;
		else
			ret = mh_store_prune(st, (int64_t)time(NULL),
			    cfg.raw_max_age, cfg.raw_max_bytes, &n) ==
			    MH_STORE_OK ? 0 : 1;
		fprintf(stderr, "mailhooks-db: %zu raw bodies deleted\n", n);
	} else if (strcmp(cmd, "reprocess") == 0) {
		ret = mh_store_reprocess(st, mh_derive, NULL, mh_notify_event,
		    &app, &n) == MH_STORE_OK ? 0 : 1;
		mh_notify_done(&app);
		fprintf(stderr, "mailhooks-db: %zu new events\n", n);
	}
	mh_store_close(st);
	return ret;
}

/*
 * mailhooks-db: the admin tool for the Berkeley DB environment under
 * $MAILHOOKS_HOME/db. Its commands are one table (mh_commands): name,
 * arguments, what it does, the function. It links the storage layer and
 * the core (deriving events, the relay datagram), not the HTTP side. It
 * opens the environment as a guest (creating nothing, recovering nothing),
 * as the data's owner, and cannot be killed inside a transaction.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"

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
	    "       mailhooks-db --help (-h names HOME: it is not help)\n"
	    "\n"
	    "HOME is the data directory (default: $MAILHOOKS_HOME, else ./var).\n"
	    "\n", out);
	for (const struct mh_command *c = mh_commands; c->name != NULL; c++)
		fputs(c->usage, out);
	fputs("\n"
	    "Errors go to stderr; the exit status is 0 on success, 1 on failure,\n"
	    "2 on a usage error.\n", out);
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
	{ "dump", 0, 2, 1,
	    "  dump [SEQ]     events after SEQ (default 0) as JSON lines\n"
	    "  dump --notifications [ID]\n"
	    "                 users' notifications after ID, the same way\n",
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
	{ "reclassify", 0, 0, 1,
	    "  reclassify     judge every open and click again, person or machine,\n"
	    "                 with the rules now in force (MAILHOOKS_MACHINE_RULES);\n"
	    "                 prints what changed\n",
	    cmd_reclassify },
	{ "prune", 0, 0, 1,
	    "  prune          apply the retention now (MAILHOOKS_RAW_MAX_AGE_DAYS,\n"
	    "                 MAILHOOKS_RAW_MAX_MB, MAILHOOKS_EVENT_MAX_AGE_DAYS)\n"
	    "                 and delete the idempotency keys older than 24 h\n",
	    cmd_prune },
	{ "erase", 1, 1, 1,
	    "  erase EMAIL    erase every event, summary, raw body and\n"
	    "                 notification of that address; prints what went\n",
	    cmd_erase },
	{ "user", 1, 6, 1,
	    "  user add NAME [--role admin|viewer] [--password-file FILE]\n"
	    "                 a new account (viewer unless said); the password\n"
	    "                 from FILE's first line (- for stdin), else asked\n"
	    "  user passwd NAME [--password-file FILE]\n"
	    "  user role NAME --role admin|viewer\n"
	    "  user disable NAME | user enable NAME | user del NAME\n"
	    "                 each ends the user's sessions at once\n"
	    "  user list      the accounts, as JSON lines\n", cmd_user },
	{ "notify", 2, 8, 1,
	    "  notify USER TITLE [--identifier ID] [--description TEXT]\n"
	    "       [--link URL]  a notification to USER (a quick test: it\n"
	    "                 reaches their page live), identifier TEST\n",
	    cmd_notify },
	{ "token", 1, 4, 1,
	    "  token add NAME --scope LIST\n"
	    "                 an API token for a program, printed once; LIST of\n"
	    "                 events:read, notifications:write, mail:send,\n"
	    "                 campaigns:write, metrics:read, comma separated\n"
	    "  token list     the tokens (never their text), as JSON lines\n"
	    "  token revoke NAME\n", cmd_token },
	{ "mail", 1, 3, 1,
	    "  mail list [--status queued|sending|sent|failed|cancelled]\n"
	    "                 outgoing mail, oldest first, as JSON lines\n"
	    "  mail show ID   one mail: recipients, attempts, as JSON\n"
	    "  mail retry ID  queue a failed or cancelled mail again, now\n"
	    "  mail cancel ID take a queued mail out of the outbox\n", cmd_mail },
	{ "client", 1, 3, 1,
	    "  client list [--tag TAG]\n"
	    "                 the campaigns' clients, oldest first, as JSON lines\n"
	    "  client show ID one client, as JSON\n", cmd_client },
	{ "campaign", 1, 2, 1,
	    "  campaign list  the campaigns with their status, as JSON lines\n"
	    "  campaign show ID\n"
	    "                 one, with its messages counted by status\n",
	    cmd_campaign },
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

/*
 * Run as root on data another user owns (the web server's), becomes that
 * user, so that what it writes (log files, a backup) stays the server's:
 * files root left in the data directory made every webhook a 503. -1
 * (said) when it cannot.
 */
static int
become_owner(const char *home)
{
	char dbdir[4096];
	struct stat sb;

	snprintf(dbdir, sizeof(dbdir), "%s/db", home);
	if (geteuid() != 0 || (stat(dbdir, &sb) != 0 && stat(home, &sb) != 0) ||
	    sb.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) != 0 || setgid(sb.st_gid) != 0 ||
	    setuid(sb.st_uid) != 0) {
		fprintf(stderr, "mailhooks-db: cannot become the owner of %s "
		    "(uid %u): %s\n", dbdir, (unsigned)sb.st_uid,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens the environment as a guest; 1 (said why) when it cannot. */
static int
attach(struct mh_cmd_ctx *c)
{
	switch (mh_store_attach(c->home, &c->st)) {
	case MH_STORE_OK:
		return 0;
	case MH_STORE_NOTFOUND:
		fprintf(stderr, "mailhooks-db: %s holds no mailhooks data (no "
		    "%s/db): check -h or MAILHOOKS_HOME\n", c->home, c->home);
		return 1;
	case MH_STORE_RECOVER:
		fprintf(stderr, "mailhooks-db: %s/db needs recovery, which the "
		    "server runs when it next opens it; nothing was done\n",
		    c->home);
		return 1;
	default:
		fprintf(stderr, "mailhooks-db: cannot open %s/db\n", c->home);
		return 1;
	}
}

/* Reads the options and the command; 0, or the exit status of a usage
 * error (said). */
static int
parse_args(int argc, char **argv, struct mh_cmd_ctx *c,
    const struct mh_command **cmd)
{
	int opt;

	while ((opt = getopt(argc, argv, "+h:")) != -1) {
		if (opt != 'h') {
			usage(stderr);
			return 2;
		}
		c->home = optarg;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (c->home == NULL || *c->home == '\0')
		c->home = "./var";
	c->argc = argc - optind - 1;
	c->argv = argv + optind + 1;
	if ((*cmd = mh_command(argv[optind])) == NULL) {
		fprintf(stderr, "mailhooks-db: unknown command %s\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if (c->argc < (*cmd)->min_args || c->argc > (*cmd)->max_args) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct mh_cmd_ctx c = { .home = getenv("MAILHOOKS_HOME") };
	const struct mh_command *cmd;
	sigset_t hold, old;
	int ret;

	/* --help anywhere (mailhooks-db -h var mail --help) is asked for;
	 * -h is the data directory's. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
	if ((ret = parse_args(argc, argv, &c, &cmd)) != 0)
		return ret;
	if (become_owner(c.home) != 0)
		return 1;
	/* A closed pipe is the reader's end, not the tool's; a signal is
	 * taken between records, with the environment closed. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &old);
	ret = cmd->opens && attach(&c) != 0 ? 1 : cmd->run(&c);
	mh_store_close(c.st);
	if (c.out_gone)
		ret = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

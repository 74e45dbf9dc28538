/*
 * mailhooks-db user: the accounts. add, passwd, role, disable, enable,
 * del, list. A password comes from --password-file FILE (its first line;
 * "-" for standard input) or, at a terminal, is asked twice without echo;
 * it is never an argument (arguments are visible to every user of the
 * machine). Only its hash is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "core/core.h"
#include "core/accounts.h"

/* One line of f into buf, without its newline; -1 when none or too long. */
static int
mh_read_line(FILE *f, char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, f) == NULL)
		return -1;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(f))
		return -1;	/* longer than any password may be */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 0;
}

/* Asks at the terminal, without echo. */
static int
mh_ask(FILE *tty, const char *prompt, char *buf, size_t size)
{
	struct termios was, quiet;
	int fd = fileno(tty), ret;

	fputs(prompt, stderr);
	if (tcgetattr(fd, &was) != 0)
		return -1;
	quiet = was;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	ret = mh_read_line(tty, buf, size);
	tcsetattr(fd, TCSAFLUSH, &was);
	fputc('\n', stderr);
	return ret;
}

/* The new password, from file (or "-") or asked twice at the terminal;
 * -1, said, when there is none or it is refused. */
static int
mh_new_password(const char *file, char *pw, size_t size)
{
	char again[MH_PASSWORD_MAX + 2];
	const char *problem;
	FILE *f = NULL, *tty = NULL;
	int ret = -1;

	if (file != NULL) {
		f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		if (f == NULL || mh_read_line(f, pw, size) != 0) {
			fprintf(stderr, "mailhooks-db: %s: no password line%s%s\n",
			    file, f == NULL ? ": " : "",
			    f == NULL ? strerror(errno) : "");
			goto out;
		}
	} else if ((tty = fopen("/dev/tty", "r+")) == NULL) {
		fprintf(stderr, "mailhooks-db: no terminal to ask the password "
		    "at: give --password-file FILE\n");
		goto out;
	} else if (mh_ask(tty, "password: ", pw, size) != 0 ||
	    mh_ask(tty, "again: ", again, sizeof(again)) != 0 ||
	    strcmp(pw, again) != 0) {
		fprintf(stderr, "mailhooks-db: the passwords differ\n");
		goto out;
	}
	if ((problem = mh_password_problem(pw)) != NULL) {
		fprintf(stderr, "mailhooks-db: %s\n", problem);
		goto out;
	}
	ret = 0;
out:
	explicit_bzero(again, sizeof(again));
	if (f != NULL && f != stdin)
		fclose(f);
	if (tty != NULL)
		fclose(tty);
	return ret;
}

/* The options after a subcommand's name: --role and --password-file. */
struct mh_user_opts {
	const char *name, *role, *password_file;
};

static int
mh_user_opts(struct mh_cmd_ctx *c, struct mh_user_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < c->argc; i++) {
		if (strcmp(c->argv[i], "--role") == 0 && i + 1 < c->argc)
			o->role = c->argv[++i];
		else if (strcmp(c->argv[i], "--password-file") == 0 &&
		    i + 1 < c->argc)
			o->password_file = c->argv[++i];
		else if (c->argv[i][0] != '-' && o->name == NULL)
			o->name = c->argv[i];
		else
			return -1;
	}
	if (o->name != NULL && !mh_user_name_ok(o->name)) {
		fprintf(stderr, "mailhooks-db: a user name is 1 to 64 letters, "
		    "digits and ._@-\n");
		return -1;
	}
	if (o->role != NULL && strcmp(o->role, "admin") != 0 &&
	    strcmp(o->role, "viewer") != 0) {
		fprintf(stderr, "mailhooks-db: a role is admin or viewer\n");
		return -1;
	}
	return 0;
}

static int
mh_user_print(void *ctx, const struct mh_user *u)
{
	char at[32];

	(void)ctx;
	mh_iso_from_ms(u->created * 1000, at);
	/* Names are letters, digits and ._@-: nothing to escape. */
	printf("{\"name\":\"%s\",\"role\":\"%s\",\"created\":\"%s\","
	    "\"disabled\":%s}\n", u->name, u->role == MH_ROLE_ADMIN ? "admin" :
	    "viewer", at, u->disabled ? "true" : "false");
	return 0;
}

/* What a store error says of the user named. */
static int
mh_user_failed(enum mh_store_err err, const char *name)
{
	if (err == MH_STORE_NOTFOUND)
		fprintf(stderr, "mailhooks-db: no user %s\n", name);
	else if (err == MH_STORE_EXISTS)
		fprintf(stderr, "mailhooks-db: user %s exists already\n", name);
	else
		fprintf(stderr, "mailhooks-db: storage failed (%d)\n", (int)err);
	return 1;
}

/* A usage error of user, said. */
static int
mh_user_usage(void)
{
	fputs("mailhooks-db: user add|passwd|role|disable|enable|del NAME "
	    "[--role admin|viewer] [--password-file FILE], or user list "
	    "(--help says more)\n", stderr);
	return 2;
}

int
cmd_user(struct mh_cmd_ctx *c)
{
	static const struct { const char *name; enum mh_user_change change; }
	    changes[] = {
		{ "passwd", MH_USER_PASSWORD }, { "role", MH_USER_ROLE },
		{ "disable", MH_USER_DISABLE }, { "enable", MH_USER_ENABLE },
		{ "del", MH_USER_DELETE },
	};
	const char *sub = c->argv[0];
	struct mh_user_opts o;
	struct mh_user u;
	char pw[MH_PASSWORD_MAX + 2];
	enum mh_store_err err;
	int ret;

	memset(&u, 0, sizeof(u));
	if (mh_user_opts(c, &o) != 0)
		return mh_user_usage();
	if (strcmp(sub, "list") == 0)
		return mh_store_users(c->st, mh_user_print, NULL) == MH_STORE_OK ?
		    0 : mh_user_failed(MH_STORE_FAILED, "");
	if (o.name == NULL)
		return mh_user_usage();
	mh_user_init(&u, o.name, o.role != NULL && strcmp(o.role, "admin") ==
	    0 ? MH_ROLE_ADMIN : MH_ROLE_VIEWER);
	if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
		if (mh_new_password(o.password_file, pw, sizeof(pw)) != 0 ||
		    mh_password_hash(pw, u.hash, sizeof(u.hash)) != 0) {
			explicit_bzero(pw, sizeof(pw));
			return 1;
		}
		explicit_bzero(pw, sizeof(pw));
	}
	if (strcmp(sub, "add") == 0) {
		err = mh_store_user_add(c->st, &u, 0);
		ret = err == MH_STORE_OK ? 0 : mh_user_failed(err, o.name);
		if (ret == 0)
			fprintf(stderr, "mailhooks-db: user %s added (%s)\n",
			    o.name, u.role == MH_ROLE_ADMIN ? "admin" : "viewer");
		return ret;
	}
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		if (strcmp(sub, changes[i].name) != 0)
			continue;
		if (changes[i].change == MH_USER_ROLE && o.role == NULL)
			return mh_user_usage();
		err = mh_store_user_change(c->st, o.name, changes[i].change, &u);
		if (err != MH_STORE_OK)
			return mh_user_failed(err, o.name);
		fprintf(stderr, "mailhooks-db: user %s: %s done\n", o.name, sub);
		return 0;
	}
	return mh_user_usage();
}

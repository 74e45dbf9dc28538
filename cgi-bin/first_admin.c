/*
 * A site's first user: the admin, made when the site has no user at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailhooks.h"
#include "core/accounts.h"

/* Where the generated password is written, in the data directory. */
#define MH_ADMIN_PASSWORD_FILE "initial-admin-password"
#define MH_FIRST_ADMIN_FILE 1	/* made, its password in the file */
#define MH_FIRST_ADMIN_GIVEN 2	/* made, with the password given */

/* Writes the password to home/initial-admin-password, readable by its
 * owner alone. */
static int
mh_write_password_file(const char *home, const char *pw)
{
	char path[4096];
	size_t n = strlen(pw);
	int fd, ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", home,
	    MH_ADMIN_PASSWORD_FILE) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	ok = fchmod(fd, 0600) == 0 && write(fd, pw, n) == (ssize_t)n &&
	    write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	return close(fd) == 0 && ok ? 0 : -1;
}

/* Makes the user admin (role admin) when the site has no user at all:
 * with password when given, else with a random one written to
 * home/initial-admin-password (mode 0600). 0 when there were users,
 * MH_FIRST_ADMIN_*, or -1. */
static int
mh_first_admin(struct mh_store *st, const char *home, const char *password)
{
	char pw[MH_SECRET_B64 + 1];
	struct mh_user u;
	enum mh_store_err err;
	int generated = password == NULL || *password == '\0';

	if (generated) {
		/* 144 random bits, 24 characters a person can type. */
		unsigned char raw[18];

		if (mh_random(raw, sizeof(raw)) != 0)
			return -1;
		mh_b64url(raw, sizeof(raw), pw);
		password = pw;
	} else if (mh_password_problem(password) != NULL)
		return -1;
	mh_user_init(&u, "admin", MH_ROLE_ADMIN);
	if (mh_password_hash(password, u.hash, sizeof(u.hash)) != 0)
		return -1;
	err = mh_store_user_add(st, &u, 1);
	if (err == MH_STORE_EXISTS)
		return 0;
	if (err != MH_STORE_OK)
		return -1;
	if (generated && mh_write_password_file(home, pw) != 0) {
		explicit_bzero(pw, sizeof(pw));
		return -1;
	}
	explicit_bzero(pw, sizeof(pw));
	return generated ? MH_FIRST_ADMIN_FILE : MH_FIRST_ADMIN_GIVEN;
}

/* A site with no user gets its first admin: with MAILHOOKS_ADMIN_PASSWORD
 * when set, else with a password written to a file of the data directory
 * (the log says where, never the password). Tried until it is done. */
void
mh_app_first_admin(struct mh_app *app, const struct mh_request *r)
{
	const char *pw = getenv("MAILHOOKS_ADMIN_PASSWORD");
	int made;

	if (app->accounts_ready || app->store == NULL)
		return;
	if ((pw == NULL || *pw == '\0') && r != NULL)
		pw = mh_param(r, "MAILHOOKS_ADMIN_PASSWORD");
	made = mh_first_admin(app->store, app->cfg->home, pw);
	app->accounts_ready = made >= 0;
	if (made == MH_FIRST_ADMIN_FILE)
		mh_log(r, "no user yet: made the user admin; its password is "
		    "in %s/%s (sign in, then change it or delete the file)",
		    app->cfg->home, MH_ADMIN_PASSWORD_FILE);
	else if (made == MH_FIRST_ADMIN_GIVEN)
		mh_log(r, "no user yet: made the user admin, with "
		    "MAILHOOKS_ADMIN_PASSWORD");
	else if (made < 0)
		mh_log(r, "no user yet, and the first admin cannot be made "
		    "(is MAILHOOKS_ADMIN_PASSWORD 8 to 1024 bytes?)");
}

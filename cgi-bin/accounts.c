/*
 * What the program and the admin tool both do to the accounts: make the
 * first admin of a site that has no user, and issue an API token. Linked
 * by both (they link storage; the pure core does not).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "accounts.h"

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

void
mh_user_init(struct mh_user *u, const char *name, enum mh_role role)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->role = role;
	u->created = (int64_t)time(NULL);
	/* A user deleted and made again in the same second is another: a
	 * session of the first does not match the second's generation. */
	if (mh_random(&u->generation, sizeof(u->generation)) != 0)
		u->generation = (uint32_t)getpid() ^ (uint32_t)u->created;
}

int
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

enum mh_store_err
mh_token_issue(struct mh_store *st, const char *name, unsigned scopes,
    char token[MH_TOKEN_LEN + 1])
{
	struct mh_token t;
	enum mh_store_err err;

	memset(&t, 0, sizeof(t));
	if (mh_secret_new(MH_TOKEN_PREFIX, token, MH_TOKEN_LEN + 1) != 0)
		return MH_STORE_FAILED;
	snprintf(t.name, sizeof(t.name), "%s", name);
	t.scopes = scopes;
	t.created = (int64_t)time(NULL);
	mh_sha256(token, strlen(token), t.hash);
	if ((err = mh_store_token_add(st, &t)) != MH_STORE_OK)
		explicit_bzero(token, MH_TOKEN_LEN + 1);
	return err;
}

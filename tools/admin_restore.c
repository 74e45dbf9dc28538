/*
 * mailhooks-db restore: a backup's databases and logs copied into a data
 * directory that holds none yet (the server stopped), each flushed to
 * disk.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"

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
int
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

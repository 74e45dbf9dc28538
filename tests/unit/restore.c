/* mailhooks-db restore's file copy (tools/admin_restore.c, included to reach
 * its static function): a copy is whole, never replaces a file, and a
 * failed write or flush closes both files (a flush that failed once left
 * the destination open). */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tap.h"
#include "tools/admin_restore.c"

/* How many descriptors this process holds. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static int
write_file(const char *path, size_t size)
{
	FILE *f = fopen(path, "wb");
	size_t i;

	if (f == NULL)
		return -1;
	for (i = 0; i < size; i++)
		fputc('a' + (int)(i % 26), f);
	return fclose(f);
}

static int
same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca = 0, cb = 1;

	if (fa != NULL && fb != NULL)
		do {
			ca = fgetc(fa);
			cb = fgetc(fb);
		} while (ca == cb && ca != EOF);
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	return ca == cb;
}

/* Copies from to to in a child process whose files may not grow past 100
 * bytes; 0 when the copy failed and left no file open, 1 when it
 * succeeded, 2 when it left a file open. (A child: the limit would also
 * stop this test's own output when that is a file.) */
static int
limited_copy(const char *from, const char *to)
{
	struct rlimit small = { 100, 100 };
	int status, before;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		signal(SIGXFSZ, SIG_IGN);
		before = open_fds();
		setrlimit(RLIMIT_FSIZE, &small);
		if (copy_file(from, to) == 0)
			_exit(1);
		_exit(open_fds() == before ? 0 : 2);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
main(void)
{
	char dir[] = "/tmp/mh-restore-XXXXXX", src[64], big[64], dst[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(src, sizeof(src), "%s/src", dir);
	snprintf(big, sizeof(big), "%s/big", dir);
	snprintf(dst, sizeof(dst), "%s/dst", dir);
	ok(write_file(src, 1000) == 0 && write_file(big, 300000) == 0,
	    "source files written");

	ok(copy_file(big, dst) == 0 && same_file(big, dst),
	    "a copy is byte for byte");
	ok(copy_file(src, dst) == -1 && same_file(big, dst),
	    "a file already there is not replaced");
	unlink(dst);

	/* Writes past the file-size limit fail with EFBIG: a 1000-byte file
	 * sits in stdio's buffer until the flush, which fails. */
	ok(limited_copy(src, dst) == 0, "a flush that fails fails the copy "
	    "and leaves no file open");
	unlink(dst);
	ok(limited_copy(big, dst) == 0, "a write that fails fails the copy "
	    "and leaves no file open");

	unlink(dst);
	unlink(src);
	unlink(big);
	rmdir(dir);
	return done_testing();
}

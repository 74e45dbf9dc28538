/* The FastCGI process's watchdog: a request that lasts in an environment
 * made anew under it (another process's recovery) ends the process within
 * seconds, not after the long limit; a request in the environment as it
 * was, or a process between requests, is left alone. Each case is a
 * child process, watched from here. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "cgi-bin/mailhooks.h"
#include "cgi-bin/watchdog.h"

enum { BUSY, IDLE };

static char home[] = "/tmp/mh-watchdog-XXXXXX";

/* A region file made anew. It is left open, as the processes attached
 * to an environment keep its region mapped: a file removed while open
 * keeps its inode, so the next one never gets its number (closed, the
 * file system may hand the same number out again at once). */
static void
region_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/db/%s", home, name);
	if (open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600) < 0)
		perror(path);
}

/* A process as the accept loop: joined the environment there now, then
 * in a request (BUSY) or between two (IDLE), for 30 s. Returns once it
 * has joined (a slow start under load must not join a later making). */
static pid_t
child(int state)
{
	static struct mh_watchdog wd;
	int ready[2];
	char c = 0;
	pid_t pid;

	if (pipe(ready) != 0)
		return -1;
	if ((pid = fork()) != 0) {
		close(ready[1]);
		if (pid > 0 && read(ready[0], &c, 1) != 1)
			c = 0;
		close(ready[0]);
		return pid;
	}
	close(ready[0]);
	if (mh_watchdog_start(&wd, 60 * 1000) != 0)
		_exit(2);
	mh_watchdog_joined(&wd, home, mh_store_region(home));
	mh_watchdog_enter(&wd);
	if (state == IDLE)
		mh_watchdog_leave(&wd);
	if (write(ready[1], "j", 1) != 1)
		_exit(2);
	sleep(30);
	_exit(0);
}

/* How the child ended within seconds: its exit code, or -1 still there. */
static int
ended_within(pid_t pid, int seconds)
{
	int status;

	for (int i = 0; i < seconds * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(100 * 1000);
	}
	return -1;
}

int
main(void)
{
	char dir[256], from[256], to[256];
	uint64_t before;
	pid_t same, busy, idle;

	if (mkdtemp(home) == NULL)
		return 1;
	snprintf(dir, sizeof(dir), "%s/db", home);
	mkdir(dir, 0700);
	ok(mh_store_region(home) == 0, "no environment: no region");
	region_file("__db.001");
	before = mh_store_region(home);
	ok(before != 0, "an environment's region has an identity");

	same = child(BUSY);
	/* A recovery removes the region file and makes a new one. */
	region_file("__db.new");
	snprintf(from, sizeof(from), "%s/db/__db.new", home);
	snprintf(to, sizeof(to), "%s/db/__db.001", home);
	ok(rename(from, to) == 0 && mh_store_region(home) != before,
	    "the environment made anew has another identity");
	busy = child(BUSY);
	idle = child(IDLE);
	/* Made anew again, under busy and idle, which joined the second. */
	region_file("__db.new");
	ok(rename(from, to) == 0, "made anew again");

	/* Within 3 s and a tick of the making; the bound is for a loaded
	 * machine, and a child that ends sooner is seen at once. */
	ok(ended_within(same, 15) == 75, "a request in the environment before "
	    "the one there now ends its process within seconds (exit 75)");
	ok(ended_within(busy, 15) == 75, "so does one that joined the second "
	    "making, when a third is made");
	ok(ended_within(idle, 1) == -1, "a process between requests stays");
	kill(idle, SIGKILL);
	waitpid(idle, NULL, 0);

	busy = child(BUSY);
	ok(ended_within(busy, 6) == -1, "a request of 6 s in the environment "
	    "it joined is left alone (the long limit is 60 s here)");
	kill(busy, SIGKILL);
	waitpid(busy, NULL, 0);

	unlink(to);
	rmdir(dir);
	rmdir(home);
	return done_testing();
}

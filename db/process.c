/*
 * Whether a process is there: failchk asks it of the processes that hold a
 * slot in the environment, and a drain of the inbox's claims.
 */
#include <errno.h>
#include <signal.h>

#include "store-private.h"

int
mh_process_alive(pid_t pid)
{
	/* EPERM: there, under another user. */
	return kill(pid, 0) == 0 || errno == EPERM;
}

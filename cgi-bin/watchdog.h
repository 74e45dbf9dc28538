/*
 * watchdog.c: a request that never returns ends the FastCGI process.
 */
#ifndef MH_WATCHDOG_H
#define MH_WATCHDOG_H

#include <stdatomic.h>
#include <stdint.h>

struct mh_watchdog {
	_Atomic int64_t busy_since;	/* ms, monotonic; 0 between requests */
	int64_t limit_ms;
};
/* Watches the accept loop from a thread of its own; -1 when it cannot
 * start. wd must outlive the process's loop. */
int mh_watchdog_start(struct mh_watchdog *wd, int64_t limit_ms);
/* A request begins (or, writing its answer, makes progress), or ends. */
void mh_watchdog_enter(struct mh_watchdog *wd);
void mh_watchdog_leave(struct mh_watchdog *wd);

#endif

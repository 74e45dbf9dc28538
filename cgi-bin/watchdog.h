/*
 * watchdog.c: a request that never returns ends the FastCGI process.
 */
#ifndef MH_WATCHDOG_H
#define MH_WATCHDOG_H

#include <stdatomic.h>
#include <stdint.h>

struct mh_watchdog {
	_Atomic int64_t busy_since;	/* ms, monotonic; 0 between requests */
	_Atomic uint64_t joined;	/* mh_store_joined's answer; 0: none */
	int64_t limit_ms;
	char home[4096];	/* set once, before joined is first not 0 */
};
/* Watches the accept loop from a thread of its own; -1 when it cannot
 * start. wd must outlive the process's loop. */
int mh_watchdog_start(struct mh_watchdog *wd, int64_t limit_ms);
/* A request begins (or, writing its answer, makes progress), or ends. */
void mh_watchdog_enter(struct mh_watchdog *wd);
void mh_watchdog_leave(struct mh_watchdog *wd);
/* The environment the accept loop works in now (mh_store_region's
 * answer when its handle was opened; 0: none), under home (the first
 * home given is the one watched). */
void mh_watchdog_joined(struct mh_watchdog *wd, const char *home,
    uint64_t joined);

#endif

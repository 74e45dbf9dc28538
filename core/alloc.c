/*
 * Allocation for a long-lived process: a failure is logged and reported to
 * the caller, which answers the request in flight with an error; it never
 * takes the process down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core.h"

void *
mh_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fprintf(stderr, "mailhooks: out of memory (%zu bytes)\n", n);
	return p;
}

void *
mh_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fprintf(stderr, "mailhooks: out of memory (%zu x %zu bytes)\n",
		    n, size);
	return p;
}

void *
mh_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fprintf(stderr, "mailhooks: out of memory (%zu bytes)\n", n);
	return q;
}

char *
mh_strndup(const char *s, size_t n)
{
	char *p = mh_malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
mh_strdup(const char *s)
{
	return mh_strndup(s, strlen(s));
}

/*
 * A long-lived process's resident size should follow what it holds. glibc
 * maps an allocation of 128 KiB or more apart and unmaps it when freed,
 * but after the first such free it raises that threshold, and the next
 * large buffers (an answer, a run of events being stored) come from the
 * heap, whose pages stay behind them: in the soak each FastCGI process's
 * private memory crept up by steps of a few hundred KiB. A fixed
 * threshold keeps them mapped apart. And the heap grows and shrinks by
 * what it needs, not by 128 KiB more (glibc's padding, a tenth of a
 * FastCGI process's private memory: each step showed as growth).
 */
void
mh_heap_setup(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TOP_PAD, 16 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024);
#endif
}

/*
 * glibc keeps the pages of freed memory for reuse, each thread's arena
 * its own. Called now and then (not per request: it walks every arena),
 * this gives the whole free pages back.
 */
void
mh_heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

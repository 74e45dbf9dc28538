/*
 * Allocation for a long-lived process: a failure is logged and reported to
 * the caller, which answers the request in flight with an error; it never
 * takes the process down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

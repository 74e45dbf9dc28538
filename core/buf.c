/*
 * A growing text (struct mh_buf): what an answer, a report or a log line
 * is built in; once an allocation fails it stays failed, and the text is
 * not used.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

void
mh_buf_add(struct mh_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = mh_realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
mh_buf_str(struct mh_buf *b, const char *s)
{
	mh_buf_add(b, s, strlen(s));
}

void
mh_buf_printf(struct mh_buf *b, const char *fmt, ...)
{
	char text[256], *big;
	va_list ap, again;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		b->failed = 1;
	else if ((size_t)n < sizeof(text))
		mh_buf_add(b, text, (size_t)n);
	else if ((big = mh_malloc((size_t)n + 1)) == NULL)
		b->failed = 1;
	else {
		vsnprintf(big, (size_t)n + 1, fmt, again);
		mh_buf_add(b, big, (size_t)n);
		free(big);
	}
	va_end(again);
	va_end(ap);
}

/*
 * Numbers as text: whole numbers as settings, query parameters, headers
 * and arguments give them (decimal digits only, no sign, no space, within
 * a bound), and hex digits (percent-escapes, string escapes).
 */
#include <errno.h>
#include <stdlib.h>

#include "core.h"

int
mh_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

int
mh_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

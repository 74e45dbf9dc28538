/*
 * Whole numbers as settings, query parameters, headers and arguments give
 * them: decimal digits only (no sign, no space), within a bound.
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

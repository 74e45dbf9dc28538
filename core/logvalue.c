/*
 * A value from outside (a request's method, an upstream's error) written
 * into a log line: it can neither end the line nor pass for another field.
 */
#include <stdio.h>

#include "logvalue.h"

void
mh_log_value(char *out, size_t size, const char *s)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (; *s != '\0' && o + 4 < size && o < MH_LOG_VALUE_MAX; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", c);
	}
	out[o] = '\0';
}

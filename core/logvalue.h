/*
 * logvalue.c: a value from outside (a request's method, an upstream's
 * error) written into a log line.
 */
#ifndef MH_LOGVALUE_H
#define MH_LOGVALUE_H

#include <stddef.h>

#define MH_LOG_VALUE_MAX 96	/* bytes of a value kept, before escapes */
/* s as a log field's value into out (4 x MH_LOG_VALUE_MAX + 1 bytes serve
 * any): printable ASCII as it is, but for space, quote, backslash and '%',
 * which are percent-escaped like every other byte, so that no value can
 * end the field or the line; cut at MH_LOG_VALUE_MAX bytes. */
void mh_log_value(char *out, size_t size, const char *s);

#endif

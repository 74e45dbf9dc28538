/*
 * Times: now, the ISO 8601 form answers show (UTC, milliseconds),
 * reading the ISO 8601 forms providers and clients send, and whether an
 * event's time is within a window.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core.h"

int64_t
mh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mh_iso_from_ms(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	size_t n;

	if (gmtime_r(&secs, &tm) == NULL ||
	    (n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms - (int64_t)secs * 1000));
}

/* The days of a month (1 to 12) of a year. */
static int
mh_month_days(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[month - 1] + (month == 2 && leap);
}

/*
 * Parses an ISO 8601 time as Infobip writes it ("2024-07-16T17:26:54.966-0300",
 * also with "Z" or "+03:00") into Unix seconds. -1 when it is not one.
 */
int
mh_iso_time(const char *s, int64_t *out)
{
	struct tm tm;
	int off = 0, n = 0;
	const char *p;
	long frac_digits = 0;
	time_t t;

	/* Digits where the form has them (sscanf alone would take a sign
	 * or a space in a field). */
	if (s == NULL || strnlen(s, 19) < 19)
		return -1;
	for (int i = 0; i < 19; i++)
		if (!isdigit((unsigned char)s[i]) != (i == 4 || i == 7 ||
		    i == 10 || i == 13 || i == 16))
			return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			frac_digits++;
	if (*p == 'Z' && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2])) {
		int hh = (p[1] - '0') * 10 + (p[2] - '0'), mm = 0;
		const char *q = p + 3;

		if (*q == ':')
			q++;
		if (isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1])) {
			mm = (q[0] - '0') * 10 + (q[1] - '0');
			q += 2;
		}
		if (*q != '\0' || hh > 23 || mm > 59)
			return -1;
		off = (hh * 60 + mm) * 60 * (*p == '-' ? -1 : 1);
	} else
		return -1;
	/* Every field within its range: timegm would roll 02-31 into March. */
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > mh_month_days(tm.tm_year, tm.tm_mon) ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 ||
	    (*(s + n) == '.' && frac_digits == 0))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	*out = (int64_t)t - off;
	return 0;
}

/*
 * Sending windows in a place's own time: when a daily window of local
 * time next opens in a time zone, and whether it opens at all between two
 * times. The C library knows the zones only through the TZ variable, so
 * these change the process's environment: they run only where no other
 * thread does (the sender's helper process, a child forked to ask).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core.h"

int64_t
mh_window_next(const char *zone, int64_t now_s, int from_min, int to_min)
{
	char tz[256];
	struct tm tm;
	time_t t = (time_t)now_s, open;
	int m, inside;

	snprintf(tz, sizeof(tz), ":%s", zone);
	if (setenv("TZ", tz, 1) != 0)
		return -1;
	tzset();
	if (localtime_r(&t, &tm) == NULL)
		return -1;
	m = tm.tm_hour * 60 + tm.tm_min;
	inside = from_min < to_min ? m >= from_min && m < to_min :
	    m >= from_min || m < to_min;
	if (inside)
		return 0;
	/* The next opening: today's when it is still to come, else
	 * tomorrow's; mktime moves one in a DST gap to just after it. */
	for (int day = m < from_min ? 0 : 1; day < 3; day++) {
		struct tm o = tm;

		o.tm_mday += day;
		o.tm_hour = from_min / 60;
		o.tm_min = from_min % 60;
		o.tm_sec = 0;
		o.tm_isdst = -1;
		if ((open = mktime(&o)) != (time_t)-1 && open > t)
			return (int64_t)open;
	}
	return -1;
}

int
mh_window_opens(const char *zone, int64_t from_s, int64_t until_s,
    int from_min, int to_min)
{
	int64_t next = mh_window_next(zone, from_s, from_min, to_min);

	if (next < 0)
		return -1;
	return next == 0 || next < until_s;
}

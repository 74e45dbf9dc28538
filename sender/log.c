/*
 * The sender's log: stderr, a line at a time, each led by the program's
 * name. Every file of the sender says what it did through it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "sender.h"

void
mh_say(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One line whatever a value held: a control byte that reached here
	 * unescaped is written as '?' (values from outside are escaped with
	 * mh_log_value where they are said). */
	for (n = 0; line[n] != '\0'; n++)
		if ((unsigned char)line[n] < 0x20 || line[n] == 0x7f)
			line[n] = '?';
	fprintf(stderr, "mailhooks-sender: %s\n", line);
}

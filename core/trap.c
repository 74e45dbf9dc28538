/*
 * The trap link: an invisible link put in the HTML of mail mailhooks
 * sends (MAILHOOKS_TRAP_LINK=1), that no person sees and so no person
 * follows. Security scanners follow every link of a mail: a click on it
 * is a machine's with certainty (verdict.c). It points at the site's
 * /api/trap, which answers an empty page.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

int
mh_trap_url(const char *public_url, char *out, size_t cap)
{
	size_t len;
	int n;

	if (public_url == NULL || *public_url == '\0')
		return -1;
	len = strlen(public_url);
	while (len > 0 && public_url[len - 1] == '/')
		len--;
	n = snprintf(out, cap, "%.*s/api/trap", (int)len, public_url);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The last "</body>" of html, any case; NULL when none. */
static const char *
mh_body_end(const char *html)
{
	const char *p, *last = NULL;

	for (p = html; (p = strchr(p, '<')) != NULL; p++)
		if (strncasecmp(p, "</body>", 7) == 0)
			last = p;
	return last;
}

char *
mh_trap_html(const char *html, const char *trap_url)
{
	static const char before[] = "<a href=\"", after[] = "\" style=\""
	    "display:none!important\" aria-hidden=\"true\" tabindex=\"-1\">"
	    "&#8203;</a>";
	const char *end = mh_body_end(html);
	size_t at = end != NULL ? (size_t)(end - html) : strlen(html);
	size_t len = strlen(html) + strlen(trap_url) + sizeof(before) +
	    sizeof(after);
	char *out;

	if (strpbrk(trap_url, "\"<>&") != NULL ||
	    (out = mh_malloc(len)) == NULL)
		return NULL;
	snprintf(out, len, "%.*s%s%s%s%s", (int)at, html, before, trap_url,
	    after, html + at);
	return out;
}

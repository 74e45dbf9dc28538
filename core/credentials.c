/*
 * What a request carries to say who sends it, read by small pure
 * functions: the session cookie, a bearer token, the scopes a token may
 * hold, and whether an Origin (or a Referer) is the site's own.
 */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "core.h"

const struct mh_scope mh_scopes[] = {
	{ "events:read", MH_SCOPE_EVENTS_READ },
	{ "notifications:write", MH_SCOPE_NOTIFICATIONS_WRITE },
	{ "mail:send", MH_SCOPE_MAIL_SEND },
	{ "campaigns:write", MH_SCOPE_CAMPAIGNS_WRITE },
	{ "metrics:read", MH_SCOPE_METRICS_READ },
	{ NULL, 0 },
};

int
mh_scopes_parse(const char *list, unsigned *out)
{
	const struct mh_scope *s;
	size_t len;

	*out = 0;
	if (list == NULL || *list == '\0')
		return -1;
	for (const char *p = list;; p += len + 1) {
		len = strcspn(p, ",");
		for (s = mh_scopes; s->name != NULL; s++)
			if (strlen(s->name) == len && memcmp(s->name, p, len) == 0)
				break;
		if (s->name == NULL)
			return -1;
		*out |= s->bit;
		if (p[len] == '\0')
			return 0;
	}
}

void
mh_scopes_format(unsigned bits, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (const struct mh_scope *s = mh_scopes; s->name != NULL; s++)
		if ((bits & s->bit) != 0 && used < outlen)
			used += (size_t)snprintf(out + used, outlen - used,
			    "%s%s", used ? "," : "", s->name);
}

int
mh_cookie_get(const char *header, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name), len;
	int found = 0;

	for (const char *p = header; p != NULL && *p != '\0';) {
		p += strspn(p, " \t;");
		len = strcspn(p, ";");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			/* Two of the same name: which is meant cannot be told. */
			if (found++ || len - n - 1 >= outlen)
				return -1;
			memcpy(out, p + n + 1, len - n - 1);
			out[len - n - 1] = '\0';
		}
		p += len;
	}
	return found ? 0 : -1;
}

const char *
mh_bearer(const char *authorization)
{
	if (authorization == NULL ||
	    strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	authorization += 7;
	authorization += strspn(authorization, " ");
	return *authorization != '\0' ? authorization : NULL;
}

size_t
mh_url_origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL || p == url)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

int
mh_origin_allowed(const char *origin, const char *referer, const char *own,
    const char *allowed)
{
	const char *from = origin != NULL ? origin : referer;
	size_t n, len;

	if (from == NULL || (n = mh_url_origin_len(from)) == 0 ||
	    (origin != NULL && origin[n] != '\0'))
		return 0;
	if (strlen(own) == n && strncasecmp(from, own, n) == 0)
		return 1;
	for (const char *p = allowed; p != NULL && *p != '\0'; p += len) {
		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len == n && strncasecmp(from, p, n) == 0)
			return 1;
	}
	return 0;
}

int
mh_public_url_valid(const char *url)
{
	const char *host, *p;
	size_t hlen;

	if (strlen(url) > 512)
		return 0;
	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return 0;
	hlen = strcspn(host, ":/");
	if (*host == '[')
		hlen = strcspn(host, "]") + 1;
	if (hlen == 0 || (*host == '[' && host[hlen - 1] != ']'))
		return 0;
	for (p = host; p < host + hlen; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-[]:", *p) == NULL)
			return 0;
	if (*p == ':') {
		size_t digits = strspn(p + 1, "0123456789");

		if (digits == 0 || digits > 5)
			return 0;
		p += 1 + digits;
	}
	if (*p != '\0' && *p != '/')
		return 0;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' ||
		    *p == '#' || *p == '@' || *p == '\\')
			return 0;
	return 1;
}

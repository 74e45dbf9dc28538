/*
 * A machine's open or click told from a person's, pure: the rules (a data
 * file, core/machine-rules.txt, or the admin's own) parsed into user-agent
 * patterns and address ranges, and an event's user agent and address
 * judged against them: Apple's prefetch, a security scanner, or a mail
 * service's image proxy (a person's open, its place unknown).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define MH_RULES_MAX 512
#define MH_RULE_TEXT_MAX 120

enum mh_rule_kind {
	MH_RULE_APPLE_AGENT,	/* the user agent is exactly text */
	MH_RULE_APPLE_MAIL,	/* Apple Mail's own agent, no browser's */
	MH_RULE_APPLE_RANGE,
	MH_RULE_SCANNER_AGENT,	/* the user agent holds text, any case */
	MH_RULE_SCANNER_RANGE,
	MH_RULE_PROXY_AGENT,	/* holds text: name's proxy */
};

struct mh_mrule {
	enum mh_rule_kind kind;
	char text[MH_RULE_TEXT_MAX + 1];
	char name[16];			/* a proxy's */
	unsigned char net[16];		/* a range: its address, v4 mapped */
	int bits;			/* and its prefix, of 128 */
};

struct mh_machine_rules {
	struct mh_mrule rule[MH_RULES_MAX];
	size_t n;
	int burst_s, prefetch_s;
};

/* An address as 16 bytes (IPv4 mapped into IPv6): 0, or -1. */
static int
mh_addr16(const char *s, unsigned char out[16])
{
	unsigned char v4[4];

	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, v4) != 1)
		return -1;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
	return 0;
}

/* A range, "ADDR/BITS", into r: 0, or -1. */
static int
mh_range_parse(const char *s, struct mh_mrule *r)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	unsigned long long bits;
	int v4;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	v4 = strchr(addr, ':') == NULL;
	if (mh_addr16(addr, r->net) != 0 || mh_parse_uint(slash + 1,
	    v4 ? 32 : 128, &bits) != 0)
		return -1;
	r->bits = (int)bits + (v4 ? 96 : 0);
	return 0;
}

static int
mh_in_range(const struct mh_mrule *r, const unsigned char a[16])
{
	int whole = r->bits / 8, rest = r->bits % 8;

	if (memcmp(a, r->net, (size_t)whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ r->net[whole]) &
	    (0xff << (8 - rest))) == 0;
}

/* One line's rule (its words: kind and values) into rules: 0, or -1
 * with why. */
static int
mh_rule_line(struct mh_machine_rules *rs, char *kind, char *a, char *b,
    char *why, size_t whylen)
{
	static const struct { const char *name; enum mh_rule_kind kind;
	    int args; } kinds[] = {
		{ "apple-agent", MH_RULE_APPLE_AGENT, 1 },
		{ "apple-mail-agent", MH_RULE_APPLE_MAIL, 0 },
		{ "apple-range", MH_RULE_APPLE_RANGE, 1 },
		{ "scanner-agent", MH_RULE_SCANNER_AGENT, 1 },
		{ "scanner-range", MH_RULE_SCANNER_RANGE, 1 },
		{ "proxy-agent", MH_RULE_PROXY_AGENT, 2 },
	};
	unsigned long long n;
	struct mh_mrule *r;

	if (strcmp(kind, "burst-seconds") == 0 ||
	    strcmp(kind, "prefetch-seconds") == 0) {
		if (a == NULL || b != NULL || mh_parse_uint(a, 3600, &n) != 0) {
			snprintf(why, whylen, "%s takes a number of seconds",
			    kind);
			return -1;
		}
		*(kind[0] == 'b' ? &rs->burst_s : &rs->prefetch_s) = (int)n;
		return 0;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kind, kinds[i].name) != 0)
			continue;
		if ((kinds[i].args >= 1) != (a != NULL) ||
		    (kinds[i].args >= 2) != (b != NULL)) {
			snprintf(why, whylen, "%s takes %d value%s", kind,
			    kinds[i].args, kinds[i].args == 1 ? "" : "s");
			return -1;
		}
		if (rs->n == MH_RULES_MAX) {
			snprintf(why, whylen, "more than %d rules", MH_RULES_MAX);
			return -1;
		}
		r = &rs->rule[rs->n];
		memset(r, 0, sizeof(*r));
		r->kind = kinds[i].kind;
		if ((r->kind == MH_RULE_APPLE_RANGE ||
		    r->kind == MH_RULE_SCANNER_RANGE) && mh_range_parse(a, r) != 0) {
			snprintf(why, whylen, "%.40s is no address range (CIDR)", a);
			return -1;
		}
		if (r->kind == MH_RULE_PROXY_AGENT)
			snprintf(r->name, sizeof(r->name), "%s", a);
		if (a != NULL && snprintf(r->text, sizeof(r->text), "%s",
		    b != NULL ? b : a) > MH_RULE_TEXT_MAX) {
			snprintf(why, whylen, "a value is at most %d bytes",
			    MH_RULE_TEXT_MAX);
			return -1;
		}
		/* Matched in any case: kept lower-cased, as the agent is. */
		if (r->kind == MH_RULE_SCANNER_AGENT ||
		    r->kind == MH_RULE_PROXY_AGENT)
			for (char *p = r->text; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
		rs->n++;
		return 0;
	}
	snprintf(why, whylen, "%.40s is no kind of rule", kind);
	return -1;
}

struct mh_machine_rules *
mh_machine_rules_parse(const char *text, size_t len, char *why, size_t whylen)
{
	struct mh_machine_rules *rs = mh_calloc(1, sizeof(*rs));
	size_t lineno = 0;
	char line[512], inner[200];

	if (rs == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	rs->burst_s = 2;
	rs->prefetch_s = 5;
	for (const char *p = text, *end = text + len; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl != NULL ? nl : end) - p);
		char *save = NULL, *kind, *a, *b, *c;

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ?
		    n : sizeof(line) - 1), p);
		p = nl != NULL ? nl + 1 : end;
		line[strcspn(line, "#\r")] = '\0';
		if ((kind = strtok_r(line, " \t", &save)) == NULL)
			continue;
		a = strtok_r(NULL, " \t", &save);
		b = strtok_r(NULL, " \t", &save);
		c = strtok_r(NULL, " \t", &save);
		if (c != NULL || mh_rule_line(rs, kind, a, b, inner,
		    sizeof(inner)) != 0) {
			snprintf(why, whylen, "line %zu: %s", lineno + 1, c != NULL ?
			    "too many values" : inner);
			free(rs);
			return NULL;
		}
	}
	return rs;
}

void
mh_machine_rules_free(struct mh_machine_rules *rs)
{
	free(rs);
}

int
mh_machine_burst_s(const struct mh_machine_rules *rs)
{
	return rs != NULL ? rs->burst_s : 2;
}

int
mh_machine_prefetch_s(const struct mh_machine_rules *rs)
{
	return rs != NULL ? rs->prefetch_s : 5;
}

/* Apple Mail's own agent: WebKit, with no browser's version after it. */
static int
mh_apple_mail_agent(const char *ua)
{
	return strstr(ua, "AppleWebKit/") != NULL &&
	    strstr(ua, "Version/") == NULL && strstr(ua, "Safari/") == NULL &&
	    strstr(ua, "Chrome/") == NULL && strstr(ua, "Mobile/") == NULL &&
	    strstr(ua, "Edg") == NULL;
}

/* The agent lower-cased into out (cut at its size), for the rules'
 * any-case matches. */
static void
mh_lower_agent(const char *ua, char *out, size_t cap)
{
	size_t i = 0;

	for (; ua != NULL && ua[i] != '\0' && i + 1 < cap; i++)
		out[i] = (char)tolower((unsigned char)ua[i]);
	out[i] = '\0';
}

void
mh_machine_classify(const struct mh_machine_rules *rs, int open,
    const char *ua, const char *ip, struct mh_machine_verdict *v)
{
	unsigned char a[16];
	char lower[512];
	int have_ip = ip != NULL && mh_addr16(ip, a) == 0;

	mh_lower_agent(ua, lower, sizeof(lower));
	v->machine = NULL;
	v->proxy = NULL;
	for (size_t i = 0; rs != NULL && i < rs->n; i++) {
		const struct mh_mrule *r = &rs->rule[i];

		switch (r->kind) {
		case MH_RULE_PROXY_AGENT:
			if (ua != NULL && strstr(lower, r->text) != NULL)
				v->proxy = r->name;
			break;
		case MH_RULE_APPLE_AGENT:
			if (open && ua != NULL && strcmp(ua, r->text) == 0)
				v->machine = "apple_mpp";
			break;
		case MH_RULE_APPLE_MAIL:
			if (open && ua != NULL && mh_apple_mail_agent(ua))
				v->machine = "apple_mpp";
			break;
		case MH_RULE_APPLE_RANGE:
			if (have_ip && mh_in_range(r, a))
				v->machine = "apple_mpp";
			break;
		case MH_RULE_SCANNER_AGENT:
			if (ua != NULL && strstr(lower, r->text) != NULL &&
			    v->machine == NULL)
				v->machine = "scanner";
			break;
		case MH_RULE_SCANNER_RANGE:
			if (have_ip && mh_in_range(r, a) && v->machine == NULL)
				v->machine = "scanner";
			break;
		}
	}
	/* A service's proxy fetches for the person who opened the mail. */
	if (v->proxy != NULL)
		v->machine = NULL;
}

/* A rules file is at most this long. */
#define MH_RULES_FILE_MAX (1024 * 1024)

struct mh_machine_rules *
mh_machine_rules_load(const char *path, char *why, size_t whylen)
{
	struct mh_machine_rules *rules = NULL;
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;

	if (f != NULL && (text = mh_malloc(MH_RULES_FILE_MAX + 1)) != NULL)
		len = fread(text, 1, MH_RULES_FILE_MAX + 1, f);
	if (f == NULL || text == NULL || ferror(f))
		snprintf(why, whylen, "cannot be read");
	else if (len > MH_RULES_FILE_MAX)
		snprintf(why, whylen, "is over 1 MiB");
	else
		rules = mh_machine_rules_parse(text, len, why, whylen);
	if (f != NULL)
		fclose(f);
	free(text);
	return rules;
}

struct mh_machine_rules *
mh_machine_rules_for(const char *path, char *why, size_t whylen)
{
	struct mh_machine_rules *rules = NULL;

	why[0] = '\0';
	if (path != NULL && *path != '\0')
		rules = mh_machine_rules_load(path, why, whylen);
	return rules != NULL ? rules : mh_machine_rules_builtin();
}

struct mh_machine_rules *
mh_machine_rules_builtin(void)
{
	char why[200];

	return mh_machine_rules_parse(mh_machine_rules_default,
	    mh_machine_rules_default_len, why, sizeof(why));
}

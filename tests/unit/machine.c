/*
 * A machine's open or click told from a person's (core/machine.c) with
 * the rules shipped (core/machine-rules.txt): a table of real user agents
 * and addresses from each source (Apple's prefetch, Gmail's and Yahoo's
 * image proxies, security scanners, people in their browsers and mail
 * apps); and rules files that do not parse, refused saying where.
 */
#include <stdlib.h>

#include "tap.h"
#include "core/core.h"

struct agent_case {
	const char *name, *ua, *ip;
	int open;
	const char *machine, *proxy;	/* NULL: a person's, no proxy */
};

static const struct agent_case cases[] = {
	{ "Apple's prefetch: a bare agent", "Mozilla/5.0", "17.58.63.101", 1,
	    "apple_mpp", NULL },
	{ "Apple's prefetch: a bare agent, another address", "Mozilla/5.0",
	    "104.28.43.12", 1, "apple_mpp", NULL },
	{ "Apple's prefetch: Mail's agent from Apple", "Mozilla/5.0 (Macintosh; "
	    "Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
	    "17.57.146.20", 1, "apple_mpp", NULL },
	{ "Apple's address space, whatever the agent", "Mozilla/5.0 (iPhone; CPU "
	    "iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
	    "Gecko) Mobile/15E148", "17.0.0.1", 1, "apple_mpp", NULL },
	{ "Gmail's image proxy: a person's", "Mozilla/5.0 (Windows NT 5.1; "
	    "rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
	    "66.249.84.36", 1, NULL, "gmail" },
	{ "Yahoo's proxy: a person's", "YahooMailProxy; https://help.yahoo.com/"
	    "kb/yahoo-mail-proxy-SLN28749.html", "98.137.34.11", 1, NULL,
	    "yahoo" },
	{ "a person in Chrome", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
	    "Safari/537.36", "203.0.113.7", 0, NULL, NULL },
	{ "a person in Safari", "Mozilla/5.0 (Macintosh; Intel Mac OS X "
	    "10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
	    "Safari/605.1.15", "198.51.100.4", 0, NULL, NULL },
	{ "a person in iOS Mail, clicking (a click is not Mail's prefetch)",
	    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
	    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	    "198.51.100.5", 0, NULL, NULL },
	{ "a person in Outlook (its own agent fetches the images)",
	    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)", "203.0.113.8", 1,
	    NULL, NULL },
	{ "Thunderbird", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) "
	    "Gecko/20100101 Thunderbird/115.5.0", "203.0.113.9", 1, NULL, NULL },
	{ "Microsoft's Safe Links, by address", "Mozilla/5.0 (Windows NT 10.0; "
	    "Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
	    "Chrome/120.0.0.0 Safari/537.36", "40.93.31.7", 0, "scanner", NULL },
	{ "Barracuda's link protection", "Barracuda Sentinel (EE)",
	    "64.235.150.1", 0, "scanner", NULL },
	{ "Proofpoint's URL Defense", "Mozilla/5.0 (compatible; urldefense/"
	    "1.0)", "148.163.128.3", 0, "scanner", NULL },
	{ "a script", "python-requests/2.31.0", "192.0.2.55", 0, "scanner",
	    NULL },
	{ "a headless browser", "Mozilla/5.0 (X11; Linux x86_64) "
	    "AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
	    "Safari/537.36", "192.0.2.56", 0, "scanner", NULL },
	{ "an IPv6 person", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
	    "Gecko/20100101 Firefox/120.0", "2001:db8::1", 0, NULL, NULL },
	{ "no agent, no address", NULL, NULL, 1, NULL, NULL },
};

static void
test_agents(struct mh_machine_rules *rs)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct agent_case *c = &cases[i];
		struct mh_machine_verdict v;

		mh_machine_classify(rs, c->open, c->ua, c->ip, &v);
		ok((v.machine == NULL && c->machine == NULL) || (v.machine &&
		    c->machine && strcmp(v.machine, c->machine) == 0), "%s: %s",
		    c->name, c->machine ? c->machine : "a person");
		ok((v.proxy == NULL && c->proxy == NULL) || (v.proxy &&
		    c->proxy && strcmp(v.proxy, c->proxy) == 0), "... proxy %s",
		    c->proxy ? c->proxy : "none");
	}
}

static void
test_files(void)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "apple-range 17.0.0.0/33\n", "line 1: 17.0.0.0/33 is no address "
		    "range" },
		{ "# ok\nscanner-agent\n", "line 2: scanner-agent takes 1 value" },
		{ "proxy-agent gmail\n", "line 1: proxy-agent takes 2 values" },
		{ "scanner-agent a b c\n", "line 1: too many values" },
		{ "robots yes\n", "line 1: robots is no kind of rule" },
		{ "burst-seconds soon\n", "line 1: burst-seconds takes a number" },
	};
	struct mh_machine_rules *rs;
	struct mh_machine_verdict v;
	char why[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rs = mh_machine_rules_parse(bad[i].text, strlen(bad[i].text), why,
		    sizeof(why));
		ok(rs == NULL && strncmp(why, bad[i].why, strlen(bad[i].why)) ==
		    0, "refused: %s (%s)", bad[i].why, why);
		mh_machine_rules_free(rs);
	}
	static const char own[] = "scanner-agent FooBot\nscanner-range "
	    "2001:db8:ff::/48\nburst-seconds 3\n";

	rs = mh_machine_rules_parse(own, sizeof(own) - 1, why, sizeof(why));
	ok(rs != NULL, "an admin's own rules");
	mh_machine_classify(rs, 1, "FooBot/1.0", NULL, &v);
	ok(v.machine && strcmp(v.machine, "scanner") == 0, "... its agent");
	mh_machine_classify(rs, 1, "x", "2001:db8:ff:1::9", &v);
	ok(v.machine && strcmp(v.machine, "scanner") == 0, "... its IPv6 range");
	mh_machine_classify(rs, 1, "Mozilla/5.0", "17.1.1.1", &v);
	ok(v.machine == NULL, "... and only those: Apple's are not in it");
	ok(mh_machine_burst_s(rs) == 3 && mh_machine_prefetch_s(rs) == 5,
	    "... its burst window, the prefetch's default");
	mh_machine_rules_free(rs);
}

int
main(void)
{
	struct mh_machine_rules *rs = mh_machine_rules_builtin();

	ok(rs != NULL, "the rules shipped parse");
	test_agents(rs);
	mh_machine_rules_free(rs);
	test_files();
	return done_testing();
}

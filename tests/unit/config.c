/* The settings: defaults, the environment before the request's
 * parameters, and every malformed number refused. */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "core/core.h"

static const char *const names[] = { "MAILHOOKS_HOME", "MANDRILL_WEBHOOK_KEY",
	"MANDRILL_WEBHOOK_URL", "INFOBIP_WEBHOOK_TOKEN", "MAILHOOKS_MAX_BODY",
	"MAILHOOKS_TEST_EVENTS", "MAILHOOKS_FSYNC", "MAILHOOKS_RAW_MAX_AGE_DAYS",
	"MAILHOOKS_RAW_MAX_MB", "MAILHOOKS_PUBLIC_URL", NULL };

/* Reads the settings from one parameter (or none); 0 when they read. */
static int
read_with(struct mh_config *cfg, const char *param)
{
	char *params[] = { (char *)param, NULL };

	return mh_config_read(cfg, param ? params : NULL);
}

static void
test_numbers(void)
{
	unsigned long long v;

	ok(mh_parse_uint("0", 10, &v) == 0 && v == 0, "0");
	ok(mh_parse_uint("18446744073709551615", UINT64_MAX, &v) == 0 &&
	    v == UINT64_MAX, "the largest");
	ok(mh_parse_uint("18446744073709551616", UINT64_MAX, &v) != 0,
	    "one past it");
	ok(mh_parse_uint("11", 10, &v) != 0, "over the bound");
	ok(mh_parse_uint("+5", 10, &v) != 0, "a sign");
	ok(mh_parse_uint("-5", 10, &v) != 0, "a minus");
	ok(mh_parse_uint(" 5", 10, &v) != 0 && mh_parse_uint("5 ", 10, &v) != 0,
	    "spaces");
	ok(mh_parse_uint("", 10, &v) != 0 && mh_parse_uint(NULL, 10, &v) != 0,
	    "nothing");
	ok(mh_parse_uint("0x5", 10, &v) != 0 && mh_parse_uint("5e1", 10, &v) != 0,
	    "other notations");
}

static void
test_read(void)
{
	struct mh_config cfg = { 0 }, copy = { 0 };
	static const char *const bad[] = { "MAILHOOKS_MAX_BODY=0",
	    "MAILHOOKS_MAX_BODY=-1", "MAILHOOKS_MAX_BODY=+5",
	    "MAILHOOKS_MAX_BODY=1k", "MAILHOOKS_MAX_BODY=99999999999999999999",
	    "MAILHOOKS_RAW_MAX_AGE_DAYS=36501", "MAILHOOKS_RAW_MAX_MB=x",
	    "MAILHOOKS_PUBLIC_URL=mail.example.com",
	    "MAILHOOKS_PUBLIC_URL=ftp://mail.example.com",
	    "MAILHOOKS_PUBLIC_URL=https://",
	    "MAILHOOKS_PUBLIC_URL=https://mail.example.com?x=1",
	    "MAILHOOKS_PUBLIC_URL=https://mail.example.com/#a",
	    "MAILHOOKS_PUBLIC_URL=https://eve@mail.example.com",
	    "MAILHOOKS_PUBLIC_URL=https://mail.example.com:99999x",
	    "MAILHOOKS_PUBLIC_URL=https://mail example.com",
	    "MAILHOOKS_PUBLIC_URL=https://[::1", NULL };
	static const char *const good[] = { "https://mail.example.com",
	    "https://mail.example.com/", "http://127.0.0.1:8080",
	    "https://example.com/mail/", "https://[::1]:8443/x", NULL };

	ok(read_with(&cfg, NULL) == 0, "no settings at all");
	is_str(cfg.home, "./var", "MAILHOOKS_HOME defaults to ./var");
	ok(cfg.mandrill_keys == NULL && cfg.infobip_token == NULL &&
	    cfg.mandrill_url == NULL, "no secrets by default");
	ok(cfg.max_body == MH_MAX_BODY_DEFAULT, "the body limit's default");
	ok(cfg.fsync == 1 && cfg.test_events == 0, "fsync on, test events off");
	ok(cfg.raw_max_age == MH_RAW_MAX_AGE_DAYS * 86400LL &&
	    cfg.raw_max_bytes == MH_RAW_MAX_MB * 1024ULL * 1024,
	    "retention defaults, in seconds and bytes");

	ok(read_with(&cfg, "MAILHOOKS_HOME=/srv/h") == 0, "from a parameter");
	is_str(cfg.home, "/srv/h", "the request's parameter");
	setenv("MAILHOOKS_HOME", "/from/env", 1);
	ok(read_with(&cfg, "MAILHOOKS_HOME=/srv/h") == 0 &&
	    strcmp(cfg.home, "/from/env") == 0, "the environment comes first");
	setenv("MAILHOOKS_HOME", "", 1);
	ok(read_with(&cfg, "MAILHOOKS_HOME=/srv/h") == 0 &&
	    strcmp(cfg.home, "/srv/h") == 0, "an empty variable is unset");
	unsetenv("MAILHOOKS_HOME");
	ok(read_with(&cfg, "MANDRILL_WEBHOOK_KEY=") == 0 &&
	    cfg.mandrill_keys == NULL, "an empty secret is none");
	ok(read_with(&cfg, "MAILHOOKS_FSYNC=0") == 0 && cfg.fsync == 0,
	    "MAILHOOKS_FSYNC=0");
	ok(read_with(&cfg, "MAILHOOKS_FSYNC=no") == 0 && cfg.fsync == 1,
	    "anything else keeps fsync");
	ok(read_with(&cfg, "MAILHOOKS_TEST_EVENTS=1") == 0 &&
	    cfg.test_events == 1, "test events on");
	ok(read_with(&cfg, "MAILHOOKS_MAX_BODY=1") == 0 && cfg.max_body == 1,
	    "the smallest body limit");
	ok(read_with(&cfg, "MAILHOOKS_RAW_MAX_AGE_DAYS=0") == 0 &&
	    cfg.raw_max_age == 0, "retention may be 0 days");
	for (size_t i = 0; bad[i] != NULL; i++)
		ok(read_with(&cfg, bad[i]) != 0, "refused: %s", bad[i]);
	for (size_t i = 0; good[i] != NULL; i++)
		ok(mh_public_url_valid(good[i]), "a public URL: %s", good[i]);

	ok(read_with(&cfg, "MAILHOOKS_RAW_MAX_MB=2") == 0 &&
	    mh_config_copy_drain(&copy, &cfg) == 0 &&
	    strcmp(copy.home, cfg.home) == 0 && copy.raw_max_bytes == 2 << 20 &&
	    copy.mandrill_keys == NULL, "a drain's copy: home and retention");
	mh_config_free(&copy);
	mh_config_free(&cfg);
	ok(cfg.home == NULL, "freed and cleared");
}

int
main(void)
{
	char *params[] = { "A=1", "AB=2", "B=", NULL };

	for (size_t i = 0; names[i] != NULL; i++)
		unsetenv(names[i]);
	is_str(mh_param_get(params, "AB"), "2", "a parameter by name");
	ok(mh_param_get(params, "C") == NULL && mh_param_get(NULL, "A") == NULL,
	    "absent, or no parameters");
	is_str(mh_param_get(params, "B"), "", "empty");
	test_numbers();
	test_read();
	return done_testing();
}

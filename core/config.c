/*
 * The process configuration: each setting from the environment or, where
 * none can be set for the program (an .htaccess may only SetEnv, which
 * reaches it with each request), from the request's parameters.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "core.h"

const char *
mh_param_get(char **params, const char *name)
{
	size_t n = strlen(name);

	for (; params != NULL && *params != NULL; params++)
		if (strncmp(*params, name, n) == 0 && (*params)[n] == '=')
			return *params + n + 1;
	return NULL;
}

/* A setting from the process environment or, for a process that cannot be
 * given one (an .htaccess may only SetEnv, per request), from the
 * parameters the server passes with the request. */
static const char *
mh_setting(char **envp, const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		v = mh_param_get(envp, name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Whether a switch is set to 1. */
static int
mh_setting_on(char **envp, const char *name)
{
	const char *v = mh_setting(envp, name);

	return v != NULL && strcmp(v, "1") == 0;
}

static int
mh_config_set(char **field, const char *value)
{
	char *copy = NULL;

	if (value != NULL && (copy = mh_strdup(value)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int
mh_setting_number(char **envp, const char *name, unsigned long long dflt,
    unsigned long long min, unsigned long long max, unsigned long long *out)
{
	const char *v = mh_setting(envp, name);

	*out = dflt;
	if (v == NULL)
		return 0;
	if (mh_parse_uint(v, max, out) != 0 || *out < min) {
		fprintf(stderr, "mailhooks: %s=%s is out of range: a whole "
		    "number from %llu to %llu\n", name, v, min, max);
		return -1;
	}
	return 0;
}

/* The region phones written nationally are read in: two letters (ru is
 * RU), or none. Whether libphonenumber knows it is the program's to ask
 * (the relay, which reads no phone, does not link it). */
static int
mh_config_region(struct mh_config *cfg, const char *v)
{
	cfg->default_region[0] = '\0';
	if (v == NULL || *v == '\0')
		return 0;
	if (strlen(v) == 2 && isalpha((unsigned char)v[0]) &&
	    isalpha((unsigned char)v[1])) {
		cfg->default_region[0] = (char)toupper((unsigned char)v[0]);
		cfg->default_region[1] = (char)toupper((unsigned char)v[1]);
		cfg->default_region[2] = '\0';
		return 0;
	}
	fprintf(stderr, "mailhooks: MAILHOOKS_DEFAULT_REGION=%s: a country's "
	    "two letters (ISO 3166: RU, US, GB), or unset\n", v);
	cfg->default_region[0] = '\0';
	return -1;
}

/* Reads the configuration for a request; the strings are owned by cfg,
 * since drains run after the request's parameters are gone. */
int
mh_config_read(struct mh_config *cfg, char **envp)
{
	const char *v = mh_setting(envp, "MAILHOOKS_HOME");
	unsigned long long max_body, idle;

	if (mh_config_set(&cfg->home, v ? v : "./var") != 0 ||
	    mh_config_set(&cfg->mandrill_keys,
	    mh_setting(envp, "MANDRILL_WEBHOOK_KEY")) != 0 ||
	    mh_config_set(&cfg->mandrill_url,
	    mh_setting(envp, "MANDRILL_WEBHOOK_URL")) != 0 ||
	    mh_config_set(&cfg->infobip_token,
	    mh_setting(envp, "INFOBIP_WEBHOOK_TOKEN")) != 0 ||
	    mh_config_set(&cfg->allowed_origins,
	    mh_setting(envp, "MAILHOOKS_ALLOWED_ORIGINS")) != 0 ||
	    mh_config_set(&cfg->public_url,
	    mh_setting(envp, "MAILHOOKS_PUBLIC_URL")) != 0 ||
	    mh_config_set(&cfg->machine_rules,
	    mh_setting(envp, "MAILHOOKS_MACHINE_RULES")) != 0)
		return -1;
	if (cfg->public_url != NULL && !mh_public_url_valid(cfg->public_url)) {
		fprintf(stderr, "mailhooks: MAILHOOKS_PUBLIC_URL=%s: the URL "
		    "people and providers use, http:// or https://, a host, "
		    "perhaps a port and a path, no query\n", cfg->public_url);
		return -1;
	}
	if (mh_trap_url(cfg->public_url, cfg->trap_url,
	    sizeof(cfg->trap_url)) != 0)
		cfg->trap_url[0] = '\0';
	cfg->test_events = mh_setting_on(envp, "MAILHOOKS_TEST_EVENTS");
	v = mh_setting(envp, "MAILHOOKS_FSYNC");
	cfg->fsync = v == NULL || strcmp(v, "0") != 0;
	cfg->trust_remote_user = mh_setting_on(envp,
	    "MAILHOOKS_TRUST_REMOTE_USER");
	cfg->remote_user_create = mh_setting_on(envp,
	    "MAILHOOKS_REMOTE_USER_CREATE");
	cfg->metrics_public = mh_setting_on(envp, "MAILHOOKS_METRICS_PUBLIC");
	cfg->notify_machine = mh_setting_on(envp, "MAILHOOKS_NOTIFY_MACHINE");
	if (mh_setting_number(envp, "MAILHOOKS_SESSION_IDLE",
	    MH_SESSION_IDLE_DEFAULT, 60, MH_SESSION_MAX, &idle) != 0)
		return -1;
	cfg->notify_types = mh_notify_types_default();
	if ((v = mh_setting(envp, "MAILHOOKS_NOTIFY_ON")) != NULL &&
	    mh_notify_types_parse(v, &cfg->notify_types) != 0) {
		fprintf(stderr, "mailhooks: MAILHOOKS_NOTIFY_ON=%s: a list of "
		    "open and click types (open,click), or none\n", v);
		return -1;
	}
	cfg->session_idle = (int64_t)idle;
	if (mh_config_region(cfg, mh_setting(envp, "MAILHOOKS_DEFAULT_REGION"))
	    != 0)
		return -1;
	if (mh_config_retention(cfg, envp) != 0 ||
	    mh_setting_number(envp, "MAILHOOKS_MAX_BODY", MH_MAX_BODY_DEFAULT,
	    1, SIZE_MAX, &max_body) != 0)
		return -1;
	cfg->max_body = (size_t)max_body;
	return 0;
}

int
mh_config_retention(struct mh_config *cfg, char **envp)
{
	unsigned long long days, mb, event_days;

	if (mh_setting_number(envp, "MAILHOOKS_RAW_MAX_AGE_DAYS",
	    MH_RAW_MAX_AGE_DAYS, 0, 36500, &days) != 0 ||
	    mh_setting_number(envp, "MAILHOOKS_RAW_MAX_MB", MH_RAW_MAX_MB, 0,
	    1024ULL * 1024 * 1024, &mb) != 0 ||
	    mh_setting_number(envp, "MAILHOOKS_EVENT_MAX_AGE_DAYS", 0, 0,
	    36500, &event_days) != 0)
		return -1;
	cfg->event_max_age = (int64_t)event_days * 86400;
	cfg->raw_max_age = (int64_t)days * 86400;
	cfg->raw_max_bytes = (uint64_t)mb * 1024 * 1024;
	return 0;
}

int
mh_config_copy_drain(struct mh_config *to, const struct mh_config *from)
{
	if (to->home == NULL || strcmp(to->home, from->home) != 0) {
		char *home = mh_strdup(from->home);

		if (home == NULL)
			return -1;
		free(to->home);
		to->home = home;
	}
	if ((to->machine_rules == NULL) != (from->machine_rules == NULL) ||
	    (to->machine_rules != NULL && strcmp(to->machine_rules,
	    from->machine_rules) != 0)) {
		char *path = from->machine_rules != NULL ?
		    mh_strdup(from->machine_rules) : NULL;

		if (from->machine_rules != NULL && path == NULL)
			return -1;
		free(to->machine_rules);
		to->machine_rules = path;
	}
	to->raw_max_age = from->raw_max_age;
	to->notify_types = from->notify_types;
	to->notify_machine = from->notify_machine;
	memcpy(to->trap_url, from->trap_url, sizeof(to->trap_url));
	to->raw_max_bytes = from->raw_max_bytes;
	to->event_max_age = from->event_max_age;
	return 0;
}

void
mh_config_free(struct mh_config *cfg)
{
	free(cfg->home);
	free(cfg->mandrill_keys);
	free(cfg->mandrill_url);
	free(cfg->infobip_token);
	free(cfg->allowed_origins);
	free(cfg->public_url);
	free(cfg->machine_rules);
	memset(cfg, 0, sizeof(*cfg));
}


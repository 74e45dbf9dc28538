/*
 * The process configuration: each setting from the environment or, where
 * none can be set for the program (an .htaccess may only SetEnv, which
 * reaches it with each request), from the request's parameters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"

/* A setting from the process environment or, for a process that cannot be
 * given one (an .htaccess may only SetEnv, per request), from the
 * parameters the server passes with the request. */
static const char *
mh_setting(char **envp, const char *name)
{
	const char *v = getenv(name);

	if ((v == NULL || *v == '\0') && envp != NULL)
		v = FCGX_GetParam(name, envp);
	return v != NULL && *v != '\0' ? v : NULL;
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

/* Reads the configuration for a request; the strings are owned by cfg,
 * since drains run after the request's parameters are gone. */
int
mh_config_read(struct mh_config *cfg, char **envp)
{
	const char *v = mh_setting(envp, "MAILHOOKS_HOME");

	if (mh_config_set(&cfg->home, v ? v : "./var") != 0 ||
	    mh_config_set(&cfg->mandrill_keys,
	    mh_setting(envp, "MANDRILL_WEBHOOK_KEY")) != 0 ||
	    mh_config_set(&cfg->mandrill_url,
	    mh_setting(envp, "MANDRILL_WEBHOOK_URL")) != 0 ||
	    mh_config_set(&cfg->infobip_token,
	    mh_setting(envp, "INFOBIP_WEBHOOK_TOKEN")) != 0)
		return -1;
	v = mh_setting(envp, "MAILHOOKS_TEST_EVENTS");
	cfg->test_events = v != NULL && strcmp(v, "1") == 0;
	v = mh_setting(envp, "MAILHOOKS_FSYNC");
	cfg->fsync = v == NULL || strcmp(v, "0") != 0;
	if (mh_config_retention(cfg, envp) != 0)
		return -1;
	cfg->max_body = MH_MAX_BODY_DEFAULT;
	if ((v = mh_setting(envp, "MAILHOOKS_MAX_BODY")) != NULL) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno != 0 || *end != '\0' || n == 0 || *v == '-') {
			fprintf(stderr, "mailhooks: MAILHOOKS_MAX_BODY=%s is not "
			    "a positive number of bytes\n", v);
			return -1;
		}
		cfg->max_body = (size_t)n;
	}
	return 0;
}

/* A whole number setting within [0, max], or dflt when unset. */
static int
mh_setting_number(char **envp, const char *name, unsigned long long dflt,
    unsigned long long max, unsigned long long *out)
{
	const char *v = mh_setting(envp, name);
	unsigned long long n;
	char *end;

	*out = dflt;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || *v == '-' || n > max) {
		fprintf(stderr, "mailhooks: %s=%s is not a whole number from 0 "
		    "to %llu\n", name, v, max);
		return -1;
	}
	*out = n;
	return 0;
}

int
mh_config_retention(struct mh_config *cfg, char **envp)
{
	unsigned long long days, mb;

	if (mh_setting_number(envp, "MAILHOOKS_RAW_MAX_AGE_DAYS",
	    MH_RAW_MAX_AGE_DAYS, 36500, &days) != 0 ||
	    mh_setting_number(envp, "MAILHOOKS_RAW_MAX_MB", MH_RAW_MAX_MB,
	    1024ULL * 1024 * 1024, &mb) != 0)
		return -1;
	cfg->raw_max_age = (int64_t)days * 86400;
	cfg->raw_max_bytes = (uint64_t)mb * 1024 * 1024;
	return 0;
}

void
mh_config_free(struct mh_config *cfg)
{
	free(cfg->home);
	free(cfg->mandrill_keys);
	free(cfg->mandrill_url);
	free(cfg->infobip_token);
	memset(cfg, 0, sizeof(*cfg));
}


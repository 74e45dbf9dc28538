/*
 * The machine rules a drain derives with: the ones built in, or the
 * admin's file (MAILHOOKS_MACHINE_RULES), read again when it changes
 * (looked at every few seconds at most). A file that cannot be read or
 * parsed is said on stderr, and the rules before it stay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mailhooks.h"

#define MH_RULES_LOOK_S 2		/* how often the file is looked at */

/* Puts rules in place of the drainer's, from path (NULL: built in). */
static void
mh_rules_use(struct mh_drainer *dr, struct mh_machine_rules *rules,
    const char *path)
{
	mh_machine_rules_free(dr->rules);
	dr->rules = rules;
	free(dr->rules_from);
	dr->rules_from = path != NULL ? mh_strdup(path) : NULL;
}

/* Reads the admin's file when it changed since it was read. */
static void
mh_rules_look(struct mh_drainer *dr, const char *path)
{
	struct mh_machine_rules *rules;
	struct stat sb;
	char why[300];

	if (stat(path, &sb) != 0) {
		if (dr->rules_mtime != -1)
			fprintf(stderr, "mailhooks: MAILHOOKS_MACHINE_RULES=%s "
			    "cannot be read: the rules before it stay\n", path);
		dr->rules_mtime = -1;
		return;
	}
	if (dr->rules_from != NULL && strcmp(dr->rules_from, path) == 0 &&
	    sb.st_mtime == dr->rules_mtime && sb.st_size == dr->rules_size)
		return;
	dr->rules_mtime = sb.st_mtime;
	dr->rules_size = sb.st_size;
	if ((rules = mh_machine_rules_load(path, why, sizeof(why))) == NULL) {
		fprintf(stderr, "mailhooks: MAILHOOKS_MACHINE_RULES=%s: %s: the "
		    "rules before it stay\n", path, why);
		return;
	}
	mh_rules_use(dr, rules, path);
}

const struct mh_machine_rules *
mh_drainer_rules(struct mh_drainer *dr)
{
	const char *path = dr->cfg.machine_rules;
	int64_t now = (int64_t)time(NULL);

	if (path == NULL) {
		if (dr->rules == NULL || dr->rules_from != NULL)
			mh_rules_use(dr, mh_machine_rules_builtin(), NULL);
		return dr->rules;
	}
	if (dr->rules_from == NULL || strcmp(dr->rules_from, path) != 0 ||
	    now - dr->rules_looked >= MH_RULES_LOOK_S) {
		dr->rules_looked = now;
		mh_rules_look(dr, path);
	}
	if (dr->rules == NULL)	/* the file never read: the built-in ones */
		mh_rules_use(dr, mh_machine_rules_builtin(), NULL);
	return dr->rules;
}

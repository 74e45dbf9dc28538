/*
 * mailhooks-db notify USER TITLE [--identifier ID] [--description TEXT]
 * [--link URL]: one notification, stored as the API stores them (the same
 * checks), and sent to the relay for the user's page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "core/core.h"

/* The notification's JSON of the arguments; NULL, said, when one is not
 * an option. */
static struct json_object *
mh_notify_args(struct mh_cmd_ctx *c)
{
	struct json_object *o = json_object_new_object();

	mh_json_set_str(o, "user_id", c->argv[0]);
	mh_json_set_str(o, "title", c->argv[1]);
	mh_json_set_str(o, "identifier", "TEST");
	for (int i = 2; i < c->argc; i += 2) {
		const char *opt = c->argv[i], *val = i + 1 < c->argc ?
		    c->argv[i + 1] : NULL;

		if (val == NULL || (strcmp(opt, "--identifier") != 0 &&
		    strcmp(opt, "--description") != 0 &&
		    strcmp(opt, "--link") != 0)) {
			fprintf(stderr, "mailhooks-db: notify USER TITLE "
			    "[--identifier ID] [--description TEXT] "
			    "[--link URL]\n");
			json_object_put(o);
			return NULL;
		}
		mh_json_set_str(o, opt + 2, val);
	}
	return o;
}

int
cmd_notify(struct mh_cmd_ctx *c)
{
	struct mh_notifier relay = { .home = c->home, .fd = -1 };
	struct json_object *o = mh_notify_args(c);
	struct mh_record rec;
	enum mh_idem_result res;
	enum mh_store_err err;
	uint64_t unread = 0;
	char why[200], *text = NULL, frame[16384];
	int ret = 1;

	if (o == NULL)
		return 2;
	if (mh_notification_make(o, mh_now_ms(), &rec, why, sizeof(why)) != 0) {
		fprintf(stderr, "mailhooks-db: notify: %s\n", why);
		json_object_put(o);
		return 2;
	}
	err = mh_store_notifications_add(c->st, &rec, 1, NULL, mh_record_answer,
	    &(struct mh_added){ &rec, 0 }, &text, &res);
	if (err == MH_STORE_OK && text != NULL) {
		printf("%s\n", text);
		if (mh_store_unread(c->st, rec.notification.user,
		    &unread) == MH_STORE_OK &&
		    snprintf(frame, sizeof(frame), "{\"kind\":\"notification\","
		    "\"unread\":%" PRIu64 ",%s", unread, text + 1) <
		    (int)sizeof(frame))
			mh_notify_event(&relay, 0, frame, strlen(frame));
		mh_notify_done(&relay);
		ret = 0;
	} else
		fprintf(stderr, "mailhooks-db: notify: storage failed (%d)\n",
		    (int)err);
	free(text);
	mh_record_free(&rec);
	json_object_put(o);
	return ret;
}

/*
 * The mail the sender itself puts in the outbox, from MAILHOOKS_MAIL_FROM:
 * a campaign's message on the mail channel, and the daily report. Each is
 * checked as the API checks a mail and added under an idempotency key of
 * its own (the message's id, the report's day), so that adding it again
 * after a crash never queues it twice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "sender.h"
#include "core/access.h"

int
mh_own_mail(struct mh_store *st, const struct mh_send_config *cfg,
    const char *key, struct json_object *in, uint64_t *mail_id, char *why,
    size_t whylen)
{
	struct mh_mail_sender who = { "sender", "mailhooks-sender" };
	struct mh_record rec = { .json = NULL };
	struct mh_idem idem = { key, strlen(key), { 0 }, time(NULL), 86400 * 7 };
	enum mh_idem_result res;
	enum mh_store_err err;
	int64_t now = mh_now_ms(), due;
	char *answer = NULL;
	unsigned long long id = 0;
	int ret = -1;

	if (cfg->mail_from == NULL) {
		snprintf(why, whylen, "MAILHOOKS_MAIL_FROM is not set: mailhooks "
		    "sends no mail of its own");
		goto out;
	}
	mh_json_set_str(in, "from_email", cfg->mail_from);
	if (mh_mail_check(in, now, &due, why, whylen) != 0)
		goto out;
	/* Its key alone is hashed: made again with other words (a report's
	 * counts moved), it is still the one made first. */
	mh_sha256(key, strlen(key), idem.hash);
	if (mh_mail_make(in, &who, now, due, &rec) != 0) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	err = mh_store_mail_add(st, &rec, due, &idem, mh_record_answer,
	    &(struct mh_added){ &rec, 0 }, &answer, &res);
	if (err != MH_STORE_OK || answer == NULL ||
	    sscanf(answer, "{\"id\":%llu", &id) != 1) {
		snprintf(why, whylen, "storage error %d", (int)err);
		goto out;
	}
	*mail_id = id;
	ret = 0;
out:
	mh_record_free(&rec);
	free(answer);
	return ret;
}

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

/* Subjects are kept to one line of this many bytes at most. */
#define MH_SUBJECT_MAX 78

/* The first line of text, cut on a character's boundary, into out. */
static void
mh_subject_of(const char *text, char *out, size_t cap)
{
	size_t n = strcspn(text, "\r\n");

	if (n > MH_SUBJECT_MAX)
		n = MH_SUBJECT_MAX;
	if (n >= cap)
		n = cap - 1;
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;		/* not inside a UTF-8 sequence */
	memcpy(out, text, n);
	out[n] = '\0';
}

int
mh_own_mail(struct mh_store *st, const struct mh_send_config *cfg,
    const char *key, const char *to, const char *subject, const char *text,
    uint64_t *mail_id, char *why, size_t whylen)
{
	struct json_object *in = json_object_new_object(), *rcpt;
	struct mh_mail_sender who = { "sender", "mailhooks-sender" };
	struct mh_record rec = { .json = NULL };
	struct mh_idem idem = { key, strlen(key), { 0 }, time(NULL), 86400 * 7 };
	enum mh_idem_result res;
	enum mh_store_err err;
	int64_t now = mh_now_ms(), due;
	char *answer = NULL, line[MH_SUBJECT_MAX + 1];
	unsigned long long id = 0;
	int ret = -1;

	if (cfg->mail_from == NULL) {
		snprintf(why, whylen, "MAILHOOKS_MAIL_FROM is not set: mailhooks "
		    "sends no mail of its own");
		goto out;
	}
	mh_subject_of(subject, line, sizeof(line));
	mh_json_set_str(in, "from_email", cfg->mail_from);
	mh_json_set_str(in, "subject", line[0] ? line : "(no subject)");
	mh_json_set_str(in, "text", text);
	rcpt = json_object_new_object();
	mh_json_set_str(rcpt, "email", to);
	json_object_object_add(in, "to", json_object_new_array());
	json_object_array_add(mh_json_get(in, "to"), rcpt);
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
	json_object_put(in);
	return ret;
}

/*
 * mailhooks-db mail list [--status S] | show ID | retry ID | cancel ID:
 * the outbox from the shell. A retry queues a failed or cancelled mail
 * again (a mail failed as possibly sent, once its events were looked
 * for); a cancel takes a queued one out, as the API's does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "core/core.h"

static int
mh_mail_usage(void)
{
	fprintf(stderr, "mailhooks-db: mail list [--status STATUS] | mail show "
	    "ID | mail retry ID | mail cancel ID\n");
	return 2;
}

/* A mail in the list: one JSON line of what a row shows; ctx (a
 * uint64_t) keeps the last id, for the next page. */
static int
mh_mail_line(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct json_object *m = json_tokener_parse(json), *o, *rc, *to;

	*(uint64_t *)ctx = id;
	if (m == NULL) {
		printf("{\"id\":%" PRIu64 ",\"unreadable\":%zu}\n", id, len);
		return 0;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_uint64(id));
	mh_json_copy(o, "status", m, "status", 1);
	mh_json_copy(o, "created_at", m, "created_at", 1);
	mh_json_copy(o, "subject", mh_json_get(m, "message"), "subject", 1);
	to = json_object_new_array();
	rc = mh_json_get(m, "recipients");
	for (size_t i = 0; rc != NULL && i < json_object_array_length(rc); i++)
		json_object_array_add(to, json_object_get(mh_json_get(
		    json_object_array_get_idx(rc, i), "email")));
	json_object_object_add(o, "to", to);
	mh_json_copy(o, "next_attempt_at", m, "next_attempt_at", 1);
	mh_json_copy(o, "error", m, "error", 1);
	printf("%s\n", mh_json_text(o));
	json_object_put(o);
	json_object_put(m);
	return ferror(stdout) ? -1 : 0;
}

static int
mh_mail_list(struct mh_cmd_ctx *c)
{
	struct mh_query q = { .table = MH_TABLE_MAIL, .has_after = 1,
	    .limit = 500 };
	int more = 1;

	if (c->argc == 3 && strcmp(c->argv[1], "--status") == 0 &&
	    mh_in_list(c->argv[2], mh_mail_statuses) != NULL)
		q.where.mail.status = c->argv[2];
	else if (c->argc != 1)
		return mh_mail_usage();
	while (more)
		if (mh_store_query(c->st, &q, mh_mail_line, &q.after, &more) !=
		    MH_STORE_OK)
			return 1;
	return 0;
}

int
cmd_mail(struct mh_cmd_ctx *c)
{
	struct mh_mail_op op = { .now_ms = mh_now_ms() };
	unsigned long long n;
	uint64_t id;
	enum mh_store_err err;
	char *json = NULL;

	if (strcmp(c->argv[0], "list") == 0)
		return mh_mail_list(c);
	if (c->argc != 2 || mh_parse_uint(c->argv[1], UINT64_MAX, &n) != 0)
		return mh_mail_usage();
	id = n;
	if (strcmp(c->argv[0], "show") == 0)
		err = mh_store_queued_get(c->st, MH_SENDQ_MAIL,
		    id, &json, NULL, NULL);
	else if (strcmp(c->argv[0], "retry") == 0 ||
	    strcmp(c->argv[0], "cancel") == 0) {
		op.retry = strcmp(c->argv[0], "retry") == 0;
		err = mh_store_queued_change(c->st, MH_SENDQ_MAIL,
		    &id, 1, mh_mail_op_change,
		    &op, &json);
	} else
		return mh_mail_usage();
	if (err == MH_STORE_NOTFOUND)
		fprintf(stderr, "mailhooks-db: no mail %" PRIu64 "\n", id);
	else if (err != MH_STORE_OK)
		fprintf(stderr, "mailhooks-db: storage error %d\n", (int)err);
	else if (op.refused)
		fprintf(stderr, "mailhooks-db: %s\n", op.why);
	else {
		printf("%s\n", json);
		if (strcmp(c->argv[0], "show") != 0)
			mh_notify_mail(c->home, id, op.retry ? "queued" :
			    "cancelled");
	}
	free(json);
	return err == MH_STORE_OK && !op.refused ? 0 : 1;
}

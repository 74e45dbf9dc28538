/*
 * What the sender writes of its attempts, a batch to a transaction (one
 * flush for all): their beginning, before any request goes out, and
 * their end, with what came back. A mail found with an attempt begun and
 * never ended (its sender stopped during the request) is failed there
 * and not sent: at most once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sender.h"

struct mh_begin_ctx {
	const struct mh_send_config *cfg;
	const uint64_t *ids;
	struct mh_begun *out;
};

static int
mh_begin_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next)
{
	struct mh_begin_ctx *b = ctx;
	struct mh_begun *o = &b->out[i];
	struct json_object *mail = json_tokener_parse(json);
	int64_t now = mh_now_ms();
	char why[100];
	int ret = 0;

	free(o->request);
	o->request = NULL;
	o->interrupted = 0;
	if (mail == NULL)
		return 0;	/* unreadable: left as it is */
	if (mh_attempt_open(mail)) {
		mh_attempt_interrupted(mail, now);
		o->interrupted = 1;
		next->queue = MH_QUEUE_OFF;
	} else if (mh_attempt_begin(mail, now, why, sizeof(why)) != 0) {
		next->queue = MH_QUEUE_OFF;	/* cancelled meanwhile */
		json_object_put(mail);
		return 0;
	} else {
		if ((o->request = mh_mandrill_request(mail, b->ids[i],
		    b->cfg->trap_url, b->cfg->api_key)) == NULL)
			ret = ENOMEM;
		next->queue = MH_QUEUE_AT;
		next->due_ms = lease != NULL ? lease->due_ms : now;
		next->hold = 1;
	}
	if (ret == 0 && mh_mail_record(mail, &next->rec) != 0)
		ret = ENOMEM;
	json_object_put(mail);
	return ret;
}

enum mh_store_err
mh_record_begin(struct mh_store *st, const struct mh_send_config *cfg,
    const uint64_t *ids, size_t n, struct mh_begun *out)
{
	struct mh_begin_ctx b = { cfg, ids, out };
	char **json = mh_calloc(n, sizeof(*json));
	enum mh_store_err err = MH_STORE_NOMEM;

	memset(out, 0, n * sizeof(*out));
	if (json != NULL)
		err = mh_store_queued_change(st, MH_SENDQ_MAIL,
		    ids, n, mh_begin_change, &b, json);
	for (size_t i = 0; i < n; i++) {
		if (err == MH_STORE_OK)
			out[i].json = json != NULL ? json[i] : NULL;
		else {
			free(out[i].request);
			out[i].request = NULL;
		}
	}
	free(json);
	return err;
}

void
mh_begun_free(struct mh_begun *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(b[i].request);
		free(b[i].json);
	}
}

struct mh_end_ctx {
	const struct mh_send_config *cfg;
	struct mh_ended *e;
	unsigned *seed;
	char ***remote;		/* each one's provider ids, NULL-terminated */
};

static int
mh_end_change(void *ctx, size_t i, const char *json,
    const struct mh_lease *lease, struct mh_queued_next *next)
{
	struct mh_end_ctx *c = ctx;
	struct mh_ended *e = &c->e[i];
	struct json_object *mail = json_tokener_parse(json);
	size_t k = 0;
	int ret = 0;

	(void)lease;
	e->written = 0;
	if (mail == NULL || !mh_attempt_open(mail)) {
		json_object_put(mail);
		return 0;	/* ended elsewhere (an admin's retry...) */
	}
	mh_attempt_end(mail, c->cfg, &e->a, &e->r, mh_now_ms(),
	    (unsigned)rand_r(c->seed), &e->due);
	next->queue = e->due < 0 ? MH_QUEUE_OFF : MH_QUEUE_AT;
	next->due_ms = e->due;
	for (size_t r = 0; r < e->r.nrcpt; r++)
		if (e->r.rcpt[r].id[0] != '\0')
			c->remote[i][k++] = e->r.rcpt[r].id;
	c->remote[i][k] = NULL;
	next->remote = c->remote[i];
	if (mh_mail_record(mail, &next->rec) != 0)
		ret = ENOMEM;
	else
		e->written = 1;
	json_object_put(mail);
	return ret;
}

enum mh_store_err
mh_record_end(struct mh_store *st, const struct mh_send_config *cfg,
    struct mh_ended *e, size_t n, unsigned *seed)
{
	struct mh_end_ctx c = { cfg, e, seed, mh_calloc(n, sizeof(char **)) };
	uint64_t *ids = mh_calloc(n, sizeof(*ids));
	char **json = mh_calloc(n, sizeof(*json));
	enum mh_store_err err = MH_STORE_NOMEM;
	size_t i;

	for (i = 0; c.remote != NULL && i < n; i++) {
		ids[i] = e[i].id;
		if ((c.remote[i] = mh_calloc(e[i].r.nrcpt + 1,
		    sizeof(char *))) == NULL)
			break;
	}
	if (ids != NULL && json != NULL && c.remote != NULL && i == n)
		err = mh_store_queued_change(st, MH_SENDQ_MAIL,
		    ids, n, mh_end_change, &c, json);
	for (i = 0; i < n; i++) {
		e[i].json = err == MH_STORE_OK && json != NULL ? json[i] : NULL;
		if (c.remote != NULL)
			free(c.remote[i]);
	}
	free(c.remote);
	free(ids);
	free(json);
	return err;
}

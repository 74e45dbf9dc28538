/*
 * After the answer: turn what waits in the inbox into events (the storage
 * layer's drain with derive.c's deriver), tell the relay about each new
 * one, take a checkpoint unless a thread of its own does, and apply the
 * retention now and then (raw bodies, events, idempotency keys).
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "mailhooks.h"

/* Events past MAILHOOKS_EVENT_MAX_AGE_DAYS go, with what is theirs. */
static enum mh_store_err
mh_drain_expire(struct mh_drainer *dr)
{
	struct mh_erased n;
	enum mh_store_err err = mh_store_events_expire(dr->store,
	    dr->pruned_at - dr->cfg.event_max_age, &n);

	if (err == MH_STORE_OK && n.events > 0)
		fprintf(stderr, "mailhooks: retention removed %" PRIu64 " events "
		    "older than %" PRId64 " days, and %" PRIu64 " summaries\n",
		    n.events, dr->cfg.event_max_age / 86400, n.summaries);
	return err;
}

enum mh_store_err
mh_drain(struct mh_drainer *dr, const uint64_t *own, size_t nown, int walk)
{
	struct mh_deriver d;
	enum mh_store_err err;
	size_t stored = 0, pruned;

	if (dr->store == NULL)
		return MH_STORE_OK;
	dr->relay.home = dr->cfg.home;
	mh_deriver_init(&d, mh_notify_event, &dr->relay);
	d.notify_types = dr->cfg.notify_types;
	d.notify_machine = dr->cfg.notify_machine;
	d.machine_rules = mh_drainer_rules(dr);
	d.trap_url = dr->cfg.trap_url;
	err = mh_store_drain(dr->store, own, nown, walk, &d, &stored);
	mh_notify_done(&dr->relay);
	if (err == MH_STORE_OK && !dr->checkpoint_apart)
		err = mh_store_checkpoint(dr->store, 0);
	/* Bodies only come with new entries: retention follows them. */
	if (err == MH_STORE_OK && stored > 0 &&
	    time(NULL) - dr->pruned_at >= MH_PRUNE_EVERY) {
		dr->pruned_at = time(NULL);
		err = mh_store_prune(dr->store, dr->pruned_at,
		    dr->cfg.raw_max_age, dr->cfg.raw_max_bytes, &pruned);
		if (err == MH_STORE_OK && dr->cfg.event_max_age > 0)
			err = mh_drain_expire(dr);
		/* A store-wide clock: one walk an hour among the processes. */
		if (err == MH_STORE_OK)
			err = mh_store_idem_expire(dr->store, dr->pruned_at,
			    MH_IDEM_TTL, MH_KEYS_PRUNE_EVERY, &pruned);
	}
	if (err != MH_STORE_OK && err != MH_STORE_RECOVER)
		fprintf(stderr, "mailhooks: drain stopped: storage error %d; "
		    "the entries wait for the next try\n", (int)err);
	return err;
}

void
mh_drainer_free(struct mh_drainer *dr)
{
	mh_notify_done(&dr->relay);
	mh_machine_rules_free(dr->rules);
	free(dr->rules_from);
	dr->rules = NULL;
	dr->rules_from = NULL;
	mh_config_free(&dr->cfg);
}

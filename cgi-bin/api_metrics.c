/*
 * GET /metrics: Prometheus' text format (0.0.4). Three sources, each
 * exact in its own way: the tallies storage keeps in the transactions
 * that stored the events (events, duplicates); storage's state now
 * (inbox, disk); and the counters every process shares in a mapped file
 * (requests, their durations, the relay's subscribers and frames). Every
 * series a label set can have is written, zeros too, so that a rate()
 * sees a series from its first increment.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"
#include "core/providers.h"

/* A metric's HELP and TYPE lines. */
static void
mh_metric_head(struct mh_buf *b, const char *name, const char *type,
    const char *help)
{
	mh_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* The events stored by provider and type, and the duplicates. */
struct mh_event_tallies {
	uint64_t events[MH_PROVIDERS_MAX][32];
	uint64_t duplicates[MH_PROVIDERS_MAX];
};

static int
mh_tally_take(void *ctx, const struct mh_store_tally *t)
{
	struct mh_event_tallies *et = ctx;
	int p = mh_provider_index(t->provider);
	int ty = mh_event_type_index(t->type, strlen(t->type));

	if (p < 0 || p >= MH_PROVIDERS_MAX)
		return 0;
	if (strcmp(t->kind, "events") == 0 && ty >= 0 && ty < 32)
		et->events[p][ty] = t->count;
	else if (strcmp(t->kind, "duplicates") == 0)
		et->duplicates[p] = t->count;
	return 0;
}

/* What storage says: the tallies, the inbox, the disk. 0 when it could
 * not be read (mailhooks_storage_up 0). */
static int
mh_metrics_store(struct mh_buf *b, struct mh_store *st)
{
	struct mh_event_tallies et;
	struct mh_store_stats stats;
	struct mh_store_sizes files;
	uint64_t queued, due;

	memset(&et, 0, sizeof(et));
	if (st == NULL || mh_store_tallies(st, mh_tally_take, &et) !=
	    MH_STORE_OK || mh_store_stats(st, &stats) != MH_STORE_OK ||
	    mh_store_files(st, &files) != MH_STORE_OK ||
	    mh_store_queue_count(st, MH_SENDQ_MAIL,
	    mh_now_ms(), &queued, &due) !=
	    MH_STORE_OK)
		return 0;
	mh_metric_head(b, "mailhooks_events_total", "counter",
	    "Events stored, by provider and type.");
	for (int p = 0; mh_providers[p].name != NULL && p < MH_PROVIDERS_MAX; p++)
		for (int t = 0; mh_event_types[t].name != NULL && t < 32; t++)
			mh_buf_printf(b, "mailhooks_events_total{provider=\"%s\","
			    "type=\"%s\"} %" PRIu64 "\n", mh_providers[p].name,
			    mh_event_types[t].name, et.events[p][t]);
	mh_metric_head(b, "mailhooks_duplicates_total", "counter",
	    "Events dropped as already stored (a provider's retry), by "
	    "provider.");
	for (int p = 0; mh_providers[p].name != NULL && p < MH_PROVIDERS_MAX; p++)
		mh_buf_printf(b, "mailhooks_duplicates_total{provider=\"%s\"} %"
		    PRIu64 "\n", mh_providers[p].name, et.duplicates[p]);
	mh_metric_head(b, "mailhooks_last_seq", "gauge",
	    "The seq of the newest stored event.");
	mh_buf_printf(b, "mailhooks_last_seq %" PRIu64 "\n", stats.last_seq);
	mh_metric_head(b, "mailhooks_inbox_pending", "gauge",
	    "Webhook bodies acknowledged and not yet made into events.");
	mh_buf_printf(b, "mailhooks_inbox_pending %" PRIu64 "\n",
	    stats.inbox_pending);
	mh_metric_head(b, "mailhooks_inbox_set_aside", "gauge",
	    "Webhook bodies set aside: they could not be made into events.");
	mh_buf_printf(b, "mailhooks_inbox_set_aside %" PRIu64 "\n",
	    stats.set_aside);
	mh_metric_head(b, "mailhooks_notifications_total", "counter",
	    "Users' notifications stored (by the API, the admin tool, and "
	    "mail activity).");
	mh_buf_printf(b, "mailhooks_notifications_total %" PRIu64 "\n",
	    stats.notifications_made);
	mh_metric_head(b, "mailhooks_mail_total", "counter",
	    "Outgoing mails queued (POST /api/mail).");
	mh_buf_printf(b, "mailhooks_mail_total %" PRIu64 "\n", stats.mail_made);
	mh_metric_head(b, "mailhooks_outbox_queued", "gauge",
	    "Mails in the outbox: to be sent, or sent again after a failure.");
	mh_buf_printf(b, "mailhooks_outbox_queued %" PRIu64 "\n", queued);
	mh_metric_head(b, "mailhooks_outbox_due", "gauge",
	    "Of them, due now: more than a few for long means no sender runs, "
	    "or it is paused.");
	mh_buf_printf(b, "mailhooks_outbox_due %" PRIu64 "\n", due);
	mh_metric_head(b, "mailhooks_storage_bytes", "gauge",
	    "Bytes the Berkeley DB environment's files take.");
	mh_buf_printf(b, "mailhooks_storage_bytes %" PRIu64 "\n",
	    files.db_bytes);
	return 1;
}

/* Every campaign's messages, summed by status (the first 8 statuses). */
static void
mh_campaign_sum(void *ctx, uint64_t campaign, const char *status, uint64_t n)
{
	uint64_t *by = ctx;

	(void)campaign;
	for (size_t i = 0; mh_cmessage_statuses[i] != NULL && i < 8; i++)
		if (strcmp(mh_cmessage_statuses[i], status) == 0)
			by[i] += n;
}

/* The campaigns' messages by status, and their send queue. */
static void
mh_metrics_campaigns(struct mh_buf *b, struct mh_store *st)
{
	uint64_t by[8] = { 0 }, queued, due;

	if (mh_store_cmessages_count(st, 0, mh_campaign_sum, by) != MH_STORE_OK ||
	    mh_store_queue_count(st, MH_SENDQ_CAMPAIGN, mh_now_ms(), &queued,
	    &due) != MH_STORE_OK)
		return;
	mh_metric_head(b, "mailhooks_campaign_messages", "gauge",
	    "Campaigns' messages, all campaigns together, by status.");
	for (size_t i = 0; mh_cmessage_statuses[i] != NULL && i < 8; i++)
		mh_buf_printf(b, "mailhooks_campaign_messages{status=\"%s\"} %"
		    PRIu64 "\n", mh_cmessage_statuses[i], by[i]);
	mh_metric_head(b, "mailhooks_campaign_queue_due", "gauge",
	    "Campaigns' messages due now: more than a few for long means no "
	    "sender runs, or CAMPAIGN_RATE holds them.");
	mh_buf_printf(b, "mailhooks_campaign_queue_due %" PRIu64 "\n", due);
}

/* One route's histogram of request durations (none counted yet: rc
 * NULL). */
static void
mh_metrics_route(struct mh_buf *b, const char *route,
    const struct mh_route_counts *rc)
{
	static const struct mh_route_counts zero;
	uint64_t below = 0;

	if (rc == NULL)
		rc = &zero;

	for (int i = 0; i < MH_BUCKETS; i++) {
		below += atomic_load(&rc->bucket[i]);
		mh_buf_printf(b, "mailhooks_request_duration_seconds_bucket{"
		    "route=\"%s\",le=\"%g\"} %" PRIu64 "\n", route,
		    mh_duration_bounds[i], below);
	}
	mh_buf_printf(b, "mailhooks_request_duration_seconds_bucket{route=\"%s\","
	    "le=\"+Inf\"} %" PRIu64 "\n", route, atomic_load(&rc->count));
	mh_buf_printf(b, "mailhooks_request_duration_seconds_sum{route=\"%s\"} "
	    "%.6f\n", route, (double)atomic_load(&rc->sum_us) / 1e6);
	mh_buf_printf(b, "mailhooks_request_duration_seconds_count{route=\"%s\"} "
	    "%" PRIu64 "\n", route, atomic_load(&rc->count));
}

/* What the processes counted together: requests, durations, the relay. */
static void
mh_metrics_shared(struct mh_buf *b, struct mh_counter_file *f)
{
	const struct mh_provider_slot *ps;
	const struct mh_route_slot *rs;

	mh_metric_head(b, "mailhooks_webhook_requests_total", "counter",
	    "POSTs to the webhooks, by provider and outcome.");
	for (int p = 0; mh_providers[p].name != NULL && p < MH_PROVIDERS_MAX; p++) {
		ps = MH_PROVIDER_SLOT(f, mh_providers[p].name, 0);
		for (int o = 0; o < MH_OUTCOME_COUNT; o++)
			mh_buf_printf(b, "mailhooks_webhook_requests_total{"
			    "provider=\"%s\",outcome=\"%s\"} %" PRIu64 "\n",
			    mh_providers[p].name, mh_outcome_names[o],
			    ps != NULL ? atomic_load(&ps->outcome[o]) : 0);
	}
	mh_metric_head(b, "mailhooks_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its answer, by route (\"none\": "
	    "a path no route takes).");
	/* Each path once (its rows are together), its counts by name. */
	for (const struct mh_route *rt = mh_routes; rt->path != NULL; rt++) {
		if (rt != mh_routes && strcmp(rt[-1].path, rt->path) == 0)
			continue;
		rs = MH_ROUTE_SLOT(f, rt->path, 0);
		mh_metrics_route(b, rt->path, rs != NULL ? &rs->counts : NULL);
	}
	rs = MH_ROUTE_SLOT(f, "none", 0);
	mh_metrics_route(b, "none", rs != NULL ? &rs->counts : NULL);
	mh_metric_head(b, "mailhooks_ws_connections", "gauge",
	    "WebSocket subscribers the relay holds now.");
	mh_buf_printf(b, "mailhooks_ws_connections %" PRIu64 "\n",
	    atomic_load(&f->ws_connections));
	mh_metric_head(b, "mailhooks_ws_frames_total", "counter",
	    "Event frames the relay wrote to its subscribers.");
	mh_buf_printf(b, "mailhooks_ws_frames_total %" PRIu64 "\n",
	    atomic_load(&f->ws_frames));
	mh_metric_head(b, "mailhooks_mail_attempts_total", "counter",
	    "The sender's requests to Mandrill, by how they ended.");
	for (int o = 0; o < MH_ATTEMPT_COUNT; o++)
		mh_buf_printf(b, "mailhooks_mail_attempts_total{outcome=\"%s\"} %"
		    PRIu64 "\n", mh_attempt_names[o],
		    atomic_load(&f->mail_attempts[o]));
	mh_metric_head(b, "mailhooks_ws_refused_total", "counter",
	    "WebSocket handshakes the relay refused (bad types, or past a "
	    "limit).");
	mh_buf_printf(b, "mailhooks_ws_refused_total %" PRIu64 "\n",
	    atomic_load(&f->ws_refused));
}

void
mh_api_metrics(struct mh_app *app, struct mh_request *r)
{
	struct mh_counter_file *f;
	struct mh_buf b = { 0 };
	int up;

	mh_metric_head(&b, "mailhooks_build_info", "gauge",
	    "The version running, as a label; always 1.");
	mh_buf_printf(&b, "mailhooks_build_info{version=\"%s\"} 1\n",
	    MH_VERSION);
	if ((up = mh_metrics_store(&b, app->store)) != 0)
		mh_metrics_campaigns(&b, app->store);
	mh_metric_head(&b, "mailhooks_storage_up", "gauge",
	    "1 when storage could be read for this scrape.");
	mh_buf_printf(&b, "mailhooks_storage_up %d\n", up);
	if ((f = mh_counters_file(mh_app_counters(app))) != NULL)
		mh_metrics_shared(&b, f);
	if (b.failed || b.p == NULL)
		mh_respond_nomem(r);
	else
		mh_respond_body(r, 200, "text/plain; version=0.0.4; "
		    "charset=utf-8", b.p, b.len);
	free(b.p);
}

/*
 * The daily report: once a day, from MAILHOOKS_DAILY_REPORT_HOUR (UTC) on,
 * the statistics of the campaigns that ran in the last 24 hours go to
 * MAILHOOKS_DAILY_REPORT_TO as a mail through the outbox, made once a day
 * however many senders or cron runs look (its key is the day).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "sender.h"

#define MH_DAY_MS 86400000LL

struct mh_report {
	struct mh_store *st;
	int64_t now_ms;
	struct mh_buf text;
	size_t campaigns;
};

static void
mh_report_count(void *ctx, uint64_t campaign, const char *status, uint64_t n)
{
	struct mh_buf *b = ctx;

	(void)campaign;
	mh_buf_printf(b, " %s %" PRIu64 ",", status, n);
}

/* One campaign's lines, when it ran in the 24 hours. */
static int
mh_report_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_report *r = ctx;
	struct mh_campaign_plan p;
	size_t mark;

	(void)len;
	if (mh_campaign_plan_read(json, &p) != 0)
		return 0;
	if (p.start_ms < r->now_ms && p.end_ms > r->now_ms - MH_DAY_MS) {
		mh_buf_printf(&r->text, "Campaign %" PRIu64 " (%s, %s to %s):\n "
		    " messages:", id, mh_campaign_status(p.obj, r->now_ms),
		    mh_json_str(p.obj, "start_at"), mh_json_str(p.obj, "end_at"));
		mark = r->text.len;
		if (mh_store_cmessages_count(r->st, id, mh_report_count,
		    &r->text) != MH_STORE_OK)
			mh_buf_str(&r->text, " (not counted: storage error)");
		else if (r->text.len == mark)
			mh_buf_str(&r->text, " none");
		else
			r->text.len--;	/* the last comma */
		mh_buf_str(&r->text, "\n\n");
		r->campaigns++;
	}
	mh_campaign_plan_free(&p);
	return 0;
}

void
mh_report_maybe(struct mh_store *st, const struct mh_send_config *cfg,
    int64_t now_ms, char done_day[16])
{
	struct mh_report r = { st, now_ms, { 0 }, 0 };
	struct mh_query q = { .table = MH_TABLE_CAMPAIGNS, .limit = 100 };
	time_t now = (time_t)(now_ms / 1000);
	char day[16], key[48], subject[96], why[300], at[32];
	struct json_object *msg = NULL;
	uint64_t mail_id;
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (cfg->report_to == NULL || (unsigned)tm.tm_hour < cfg->report_hour ||
	    strcmp(done_day, day) == 0)
		return;
	mh_iso_from_ms(now_ms, at);
	mh_buf_printf(&r.text, "Campaigns that ran in the 24 hours to %s:\n\n",
	    at);
	if (mh_store_query_all(st, &q, mh_report_one, &r) != MH_STORE_OK) {
		free(r.text.p);
		return;		/* again at the next turn */
	}
	if (r.campaigns == 0)
		mh_buf_str(&r.text, "None ran.\n");
	snprintf(key, sizeof(key), "daily-report:%s", day);
	snprintf(subject, sizeof(subject), "mailhooks: the campaigns of %s "
	    "(%zu)", day, r.campaigns);
	if (r.text.failed)
		mh_say("the daily report of %s not made: out of memory", day);
	else if ((msg = mh_mail_to_one(cfg->report_to, subject, r.text.p)),
	    mh_own_mail(st, cfg, key, msg, &mail_id, why, sizeof(why)) != 0)
		mh_say("the daily report of %s not sent: %s", day, why);
	else
		mh_say("the daily report of %s (%zu campaigns) is mail=%" PRIu64,
		    day, r.campaigns, mail_id);
	json_object_put(msg);
	snprintf(done_day, 16, "%s", day);
	free(r.text.p);
}

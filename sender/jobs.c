/*
 * The sender's loop and its list of jobs. Each job has a period (0: every
 * turn) and says whether it begins work (then it is not run once the
 * sender stops taking: --once after its time, or a stop). A turn runs the
 * jobs that are due, in the list's order, then moves the requests in
 * flight on until a job is due again, and has each job that posts write
 * what ended. The jobs share the storage handle, the requests and the
 * time zone helper held here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "sender.h"
#include "core/counters.h"

struct mh_sender {
	const struct mh_send_config *cfg;
	struct mh_store *store;		/* reopened by the jobs after a failure */
	struct mh_http *http;
	struct mh_counters *counters;	/* /metrics', NULL when unavailable */
	struct mh_tzwin *tz;		/* the time zone helper */
	struct mh_mailer *mail;
	struct mh_campaigns *campaigns;
	struct mh_schedule *schedule;
	char report_day[16];		/* the last day reported */
	int64_t ran_ms[8];		/* when each job last ran, 0: never */
};

/* Room for requests: the concurrency left. */
static size_t
mh_sender_room(const struct mh_sender *s)
{
	size_t running = mh_http_running(s->http);

	return running < s->cfg->concurrency ? s->cfg->concurrency - running :
	    0;
}

static int
mh_job_note(struct mh_sender *s, int64_t now_ms)
{
	mh_mail_note(s->mail, now_ms);
	return 0;
}

static int
mh_job_mail(struct mh_sender *s, int64_t now_ms)
{
	return mh_mail_take(s->mail, mh_sender_room(s), now_ms);
}

static void
mh_job_mail_finish(struct mh_sender *s)
{
	mh_mail_finish(s->mail);
}

static int
mh_job_schedule(struct mh_sender *s, int64_t now_ms)
{
	if (mh_schedule_run(s->schedule, s->store, now_ms) != MH_STORE_OK)
		mh_say("campaigns not looked at: storage error; again in a "
		    "moment");
	return 0;
}

static int
mh_job_campaigns(struct mh_sender *s, int64_t now_ms)
{
	return (int)mh_campaigns_take(s->campaigns, mh_sender_room(s), now_ms);
}

static int64_t
mh_job_campaigns_wake(const struct mh_sender *s)
{
	return mh_campaigns_wake_ms(s->campaigns);
}

static void
mh_job_campaigns_finish(struct mh_sender *s)
{
	mh_campaigns_finish(s->campaigns);
}

static int
mh_job_report(struct mh_sender *s, int64_t now_ms)
{
	mh_report_maybe(s->store, s->cfg, now_ms, s->report_day);
	return 0;
}

struct mh_job {
	const char *name;
	int64_t every_ms;	/* its period; 0: every turn */
	int begins_work;	/* not run once the sender stops taking */
	/* The work it began (so many taken), or -1: storage failed for
	 * good. */
	int (*run)(struct mh_sender *s, int64_t now_ms);
	/* NULL, or how long until it may begin work again. */
	int64_t (*wake_ms)(const struct mh_sender *s);
	/* NULL, or writes the ends of its requests that ended this turn. */
	void (*finish)(struct mh_sender *s);
};

/* The note every 10 s (the health calls a sender not heard of for 150 s
 * gone: cron's runs come a minute apart); campaigns looked at twice a
 * second, to start one within a second of its time. */
static const struct mh_job mh_jobs[] = {
	{ "note", 10000, 0, mh_job_note, NULL, NULL },
	{ "mail", 0, 1, mh_job_mail, NULL, mh_job_mail_finish },
	{ "campaign scheduling", 500, 1, mh_job_schedule, NULL, NULL },
	{ "campaign sends", 0, 1, mh_job_campaigns, mh_job_campaigns_wake,
	    mh_job_campaigns_finish },
	{ "daily report", 1000, 1, mh_job_report, NULL, NULL },
};
#define MH_JOBS (sizeof(mh_jobs) / sizeof(mh_jobs[0]))
_Static_assert(MH_JOBS <= sizeof(((struct mh_sender *)0)->ran_ms) /
    sizeof(int64_t), "a job without a slot for when it ran");

struct mh_sender *
mh_sender_new(const struct mh_send_config *cfg)
{
	struct mh_sender *s = mh_calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	/* The helper first: forked before libcurl may start a thread. */
	if ((s->tz = mh_tzwin_start()) == NULL ||
	    (s->http = mh_http_new(cfg)) == NULL ||
	    mh_store_open(cfg->home, &s->store) != MH_STORE_OK ||
	    (s->schedule = mh_schedule_new()) == NULL ||
	    (s->mail = mh_mailer_new(cfg, &s->store, s->http,
	    s->counters = mh_counters_open(cfg->home))) == NULL ||
	    (s->campaigns = mh_campaigns_new(cfg, &s->store, s->http,
	    s->tz)) == NULL) {
		mh_say("cannot start: %s", s->store == NULL ? "the storage under "
		    "MAILHOOKS_HOME would not open" : "out of memory, or "
		    "libcurl or the time zone helper would not start");
		mh_sender_free(s);
		return NULL;
	}
	return s;
}

/* Has each job that posts write what ended. */
static void
mh_sender_finish(struct mh_sender *s)
{
	for (size_t i = 0; i < MH_JOBS; i++)
		if (mh_jobs[i].finish != NULL)
			mh_jobs[i].finish(s);
}

/* How long until a job is due again, or may begin work (at most
 * wait_ms). */
static long
mh_sender_wait_ms(const struct mh_sender *s, int64_t now_ms, long wait_ms,
    int take)
{
	for (size_t i = 0; i < MH_JOBS; i++) {
		const struct mh_job *j = &mh_jobs[i];
		int64_t due = j->every_ms > 0 ?
		    s->ran_ms[i] + j->every_ms - now_ms : INT64_MAX, wake;

		if (j->begins_work && !take)
			continue;
		if (j->wake_ms != NULL && (wake = j->wake_ms(s)) < due)
			due = wake;
		if (due < wait_ms)
			wait_ms = due < 0 ? 0 : (long)due;
	}
	return wait_ms;
}

int
mh_sender_turn(struct mh_sender *s, long wait_ms, int take)
{
	int64_t now_ms = mh_now_ms();
	size_t running;
	int begun = 0, n;

	for (size_t i = 0; i < MH_JOBS; i++) {
		const struct mh_job *j = &mh_jobs[i];

		if ((j->begins_work && !take) || (s->ran_ms[i] != 0 &&
		    now_ms - s->ran_ms[i] < j->every_ms))
			continue;
		s->ran_ms[i] = now_ms;
		if ((n = j->run(s, now_ms)) < 0) {
			mh_say("%s: the storage failed for good; stopping",
			    j->name);
			return -1;
		}
		begun += n;
		now_ms = mh_now_ms();
	}
	if ((running = mh_http_running(s->http)) > 0) {
		mh_http_run(s->http, mh_sender_wait_ms(s, now_ms, wait_ms,
		    take));
		mh_sender_finish(s);
		/* What ended made room: more may be due. */
		begun += (int)(running - mh_http_running(s->http));
	}
	return begun;
}

void
mh_sender_idle(const struct mh_sender *s, long wait_ms)
{
	wait_ms = mh_sender_wait_ms(s, mh_now_ms(), wait_ms, 1);
	if (wait_ms > 0)
		nanosleep(&(struct timespec){ wait_ms / 1000,
		    (wait_ms % 1000) * 1000000L }, NULL);
}

size_t
mh_sender_running(const struct mh_sender *s)
{
	return mh_http_running(s->http);
}

void
mh_sender_stop(struct mh_sender *s)
{
	mh_http_abort(s->http);
	mh_sender_finish(s);
	mh_store_queue_release(s->store);
}

void
mh_sender_free(struct mh_sender *s)
{
	if (s == NULL)
		return;
	mh_campaigns_free(s->campaigns);
	mh_mailer_free(s->mail);
	mh_schedule_free(s->schedule);
	mh_http_free(s->http);
	mh_tzwin_stop(s->tz);
	mh_counters_close(s->counters);
	if (s->store != NULL)
		mh_store_close(s->store);
	free(s);
}

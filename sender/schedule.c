/*
 * Starting campaigns: each running campaign (start_at <= now < end_at,
 * not deleted) has the clients matching its filter selected and a
 * message made for each that has none (made once, by the storage), when
 * it starts, when it changes, and when the clients change (one added
 * while it runs is included). A campaign deleted or ended is let go, its
 * waiting messages made due at once, so that they are cancelled or
 * expired now rather than at their turn.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sender.h"

#define MH_SELECT_PAGE 500
#define MH_MAKE_BATCH 250

/* What was selected for a running campaign, to see when to again. */
struct mh_sched_memo {
	uint64_t id;
	char updated[40];
	uint64_t clients;	/* the clients' version then */
	int seen;		/* still running, this pass */
};

struct mh_schedule {
	struct mh_sched_memo *memo;
	size_t n, cap;
};

/* Clients of one campaign, selected, waiting to have messages made. */
struct mh_select {
	struct mh_store *st;
	const struct mh_campaign_plan *plan;
	uint64_t ids[MH_MAKE_BATCH];
	struct mh_record recs[MH_MAKE_BATCH];
	size_t n;
	uint64_t matched, made;
	int64_t now_ms;
	enum mh_store_err err;
};

struct mh_schedule *
mh_schedule_new(void)
{
	return mh_calloc(1, sizeof(struct mh_schedule));
}

void
mh_schedule_free(struct mh_schedule *sc)
{
	if (sc != NULL)
		free(sc->memo);
	free(sc);
}

/* Makes the messages of the clients gathered, logging each new one. */
static void
mh_select_flush(struct mh_select *s)
{
	uint64_t made[MH_MAKE_BATCH];

	if (s->n > 0 && s->err == MH_STORE_OK)
		s->err = mh_store_cmessages_make(s->st, s->plan->id, s->ids,
		    s->recs, s->n, s->now_ms, made);
	for (size_t i = 0; i < s->n; i++) {
		if (s->err == MH_STORE_OK && made[i] != 0) {
			mh_say("campaign=%" PRIu64 " message=%" PRIu64 " client=%"
			    PRIu64 " made", s->plan->id, made[i], s->ids[i]);
			s->made++;
		}
		mh_record_free(&s->recs[i]);
	}
	s->n = 0;
}

static int
mh_select_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_select *s = ctx;
	struct json_object *client = json_tokener_parse(json);

	(void)len;
	if (client != NULL && mh_campaign_matches(s->plan, client)) {
		s->matched++;
		if (mh_cmessage_make(s->plan->id, id, s->now_ms,
		    &s->recs[s->n]) == 0)
			s->ids[s->n++] = id;
		if (s->n == MH_MAKE_BATCH)
			mh_select_flush(s);
	}
	json_object_put(client);
	return s->err != MH_STORE_OK;
}

/* Selects the campaign's clients, oldest first, page by page. */
static enum mh_store_err
mh_select(struct mh_store *st, const struct mh_campaign_plan *p,
    int64_t now_ms)
{
	struct mh_select *s = mh_calloc(1, sizeof(*s));
	struct mh_query q = { .table = MH_TABLE_CLIENTS,
	    .limit = MH_SELECT_PAGE };
	enum mh_store_err err;

	if (s == NULL)
		return MH_STORE_NOMEM;
	s->st = st;
	s->plan = p;
	s->now_ms = now_ms;
	if ((err = mh_store_query_all(st, &q, mh_select_one, s)) !=
	    MH_STORE_OK && s->err == MH_STORE_OK)
		s->err = err;
	mh_select_flush(s);
	if (s->made > 0 || s->err != MH_STORE_OK)
		mh_say("campaign=%" PRIu64 " selected: %" PRIu64 " clients match, "
		    "%" PRIu64 " new messages%s", p->id, s->matched, s->made,
		    s->err != MH_STORE_OK ? " (storage failed: again later)" : "");
	err = s->err;
	free(s);
	return err;
}

/* The memo of campaign id, made when absent; NULL out of memory. */
static struct mh_sched_memo *
mh_memo_of(struct mh_schedule *sc, uint64_t id)
{
	struct mh_sched_memo *m;

	for (size_t i = 0; i < sc->n; i++)
		if (sc->memo[i].id == id)
			return &sc->memo[i];
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 16;

		if ((m = mh_realloc(sc->memo, cap * sizeof(*m))) == NULL)
			return NULL;
		sc->memo = m;
		sc->cap = cap;
	}
	m = &sc->memo[sc->n++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	return m;
}

struct mh_sched_pass {
	struct mh_schedule *sc;
	struct mh_store *st;
	int64_t now_ms;
	uint64_t clients;
	enum mh_store_err err;
};

static int
mh_sched_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_sched_pass *ps = ctx;
	struct mh_campaign_plan p;
	struct mh_sched_memo *m;

	(void)len;
	if (mh_campaign_plan_read(json, &p) != 0)
		return 0;
	if (!p.deleted && p.start_ms <= ps->now_ms && ps->now_ms < p.end_ms &&
	    (m = mh_memo_of(ps->sc, id)) != NULL) {
		m->seen = 1;
		if (m->updated[0] == '\0')
			mh_say("campaign=%" PRIu64 " running: sending until %s",
			    id, mh_json_str(p.obj, "end_at"));
		if (strcmp(m->updated, p.updated ? p.updated : "") != 0 ||
		    m->clients != ps->clients) {
			if ((ps->err = mh_select(ps->st, &p, ps->now_ms)) ==
			    MH_STORE_OK) {
				snprintf(m->updated, sizeof(m->updated), "%s",
				    p.updated ? p.updated : "");
				m->clients = ps->clients;
			}
		}
	}
	mh_campaign_plan_free(&p);
	return ps->err != MH_STORE_OK;
}

/* Lets go of the campaigns no longer running: their messages still
 * waiting are due now (to be cancelled or expired). */
static void
mh_sched_let_go(struct mh_schedule *sc, struct mh_store *st, int64_t now_ms)
{
	for (size_t i = 0; i < sc->n;) {
		if (sc->memo[i].seen) {
			sc->memo[i++].seen = 0;
			continue;
		}
		mh_say("campaign=%" PRIu64 " no longer running (ended or "
		    "deleted): its waiting messages end now", sc->memo[i].id);
		mh_cm_due_now(st, sc->memo[i].id, now_ms);
		sc->memo[i] = sc->memo[--sc->n];
	}
}

enum mh_store_err
mh_schedule_run(struct mh_schedule *sc, struct mh_store *st, int64_t now_ms)
{
	struct mh_sched_pass ps = { sc, st, now_ms, 0, MH_STORE_OK };
	struct mh_query q = { .table = MH_TABLE_CAMPAIGNS, .limit = 100 };
	enum mh_store_err err;

	if ((err = mh_store_record_changes(st, MH_TABLE_CLIENTS,
	    &ps.clients)) != MH_STORE_OK)
		return err;
	err = mh_store_query_all(st, &q, mh_sched_one, &ps);
	if (ps.err != MH_STORE_OK)
		return ps.err;
	if (err != MH_STORE_OK)
		return err;
	mh_sched_let_go(sc, st, now_ms);
	return MH_STORE_OK;
}

/*
 * The campaigns' pace, pure: a circuit breaker for each campaign that
 * pauses its sending after failures in a row and lets one probe through
 * when the pause ends, the pause doubling while the probes fail; and a
 * token bucket holding the requests to CAMPAIGN_RATE a second.
 */
#include <string.h>

#include "sender.h"

/* The campaign's breaker, or a free one for it; NULL when all are held by
 * other campaigns (that one then goes unguarded). */
static struct mh_breaker *
mh_breaker_of(struct mh_breakers *bs, uint64_t campaign)
{
	struct mh_breaker *idle = NULL;

	for (size_t i = 0; i < MH_BREAKERS; i++) {
		if (bs->b[i].campaign == campaign)
			return &bs->b[i];
		if (idle == NULL && bs->b[i].fails == 0 && !bs->b[i].open)
			idle = &bs->b[i];
	}
	if (idle != NULL) {
		memset(idle, 0, sizeof(*idle));
		idle->campaign = campaign;
	}
	return idle;
}

int64_t
mh_breaker_gate(struct mh_breakers *bs, uint64_t campaign, int64_t now_ms)
{
	struct mh_breaker *b = mh_breaker_of(bs, campaign);

	if (b == NULL || !b->open)
		return 0;
	if (now_ms < b->until_ms)
		return b->until_ms;
	/* The probe's answer decides: wait for it (a probe never answered,
	 * not begun after all, gives way to another in time). */
	if (b->probing && now_ms < b->probe_ms + bs->probe_ms)
		return now_ms + bs->pause_ms / 2 + 1;
	b->probing = 1;
	b->probe_ms = now_ms;
	return 0;
}

int
mh_breaker_note(struct mh_breakers *bs, uint64_t campaign, int failed,
    int64_t now_ms)
{
	struct mh_breaker *b = mh_breaker_of(bs, campaign);
	int64_t pause;

	if (b == NULL)
		return MH_BREAKER_SAME;
	if (!failed) {
		int was = b->open;

		b->fails = b->opened = 0;
		b->open = b->probing = 0;
		return was ? MH_BREAKER_CLOSED : MH_BREAKER_SAME;
	}
	if (b->open && !b->probing)
		return MH_BREAKER_SAME;	/* sent before it opened */
	if (!b->open && ++b->fails < bs->threshold)
		return MH_BREAKER_SAME;
	pause = bs->pause_ms;
	for (unsigned i = 0; i < b->opened && pause < bs->pause_max_ms; i++)
		pause *= 2;
	b->until_ms = now_ms + (pause < bs->pause_max_ms ? pause :
	    bs->pause_max_ms);
	b->opened++;
	b->open = 1;
	b->probing = 0;
	return MH_BREAKER_OPENED;
}

int64_t
mh_breaker_until(const struct mh_breakers *bs, uint64_t campaign)
{
	for (size_t i = 0; i < MH_BREAKERS; i++)
		if (bs->b[i].campaign == campaign && bs->b[i].open)
			return bs->b[i].until_ms;
	return 0;
}

void
mh_rate_init(struct mh_rate *r, unsigned per_s, int64_t now_ms)
{
	r->per_s = per_s;
	/* A tenth of a second's worth at once, at least one: steady, not in
	 * bursts of a second's worth. */
	r->cap = per_s >= 10 ? per_s / 10.0 : 1.0;
	r->tokens = r->cap;
	r->at_ms = now_ms;
}

size_t
mh_rate_allow(struct mh_rate *r, int64_t now_ms, size_t want)
{
	if (r->per_s == 0)
		return want;
	r->tokens += (double)(now_ms - r->at_ms) * r->per_s / 1000.0;
	if (r->tokens > r->cap)
		r->tokens = r->cap;
	r->at_ms = now_ms;
	return r->tokens >= (double)want ? want : (size_t)r->tokens;
}

void
mh_rate_spend(struct mh_rate *r, size_t n)
{
	if (r->per_s != 0)
		r->tokens -= (double)n;
}

int64_t
mh_rate_wait_ms(const struct mh_rate *r)
{
	if (r->per_s == 0 || r->tokens >= 1.0)
		return 0;
	return (int64_t)((1.0 - r->tokens) * 1000.0 / r->per_s) + 1;
}

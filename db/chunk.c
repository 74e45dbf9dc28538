/*
 * How much of a batch one transaction takes. A transaction holds a lock on
 * every page it writes until it ends, and Berkeley DB keeps those locks
 * (and the transaction's own record) in one shared region of bounded size:
 * a full Mandrill batch of a thousand events whose addresses and subjects
 * share nothing wrote about 40 000 trigram records and ran the region out
 * (BDB2055, then BDB4525 for every other process), so that acknowledged
 * batches were set aside. An event's work is counted as the pages it may
 * write: a few for the event, its indexes and its message's summary, and
 * one for each trigram of its address and subject that the run does not
 * hold yet (a run of one customer's mail shares most of them); a run stops
 * before the event that would take it past the budget.
 */
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* Slots of the set of trigrams a run holds: a power of two, at least
 * twice the most a run can count. */
static size_t
mh_chunk_slots(size_t budget)
{
	size_t n = 64;

	while (n < 2 * budget + 2 * MH_SEARCH_TEXT_MAX)
		n *= 2;
	return n;
}

/* Adds gram to the set (open addressing; a slot holds gram + 1, so that
 * 0 is empty); 1 when it was not there. */
static int
mh_chunk_add(uint32_t *slot, size_t mask, uint32_t gram)
{
	size_t i = (gram * 2654435761u) & mask;

	while (slot[i] != 0) {
		if (slot[i] == gram + 1)
			return 0;
		i = (i + 1) & mask;
	}
	slot[i] = gram + 1;
	return 1;
}

size_t
mh_chunk_end(const struct mh_event *ev, size_t n, size_t from, size_t budget,
    size_t *work)
{
	uint32_t g[2 * MH_SEARCH_TEXT_MAX];
	struct mh_event_keys k;
	size_t slots = mh_chunk_slots(budget), end;
	uint32_t *slot;

	*work = 0;
	if (from >= n)
		return n;
	/* Without room to count, one event a transaction. */
	if ((slot = calloc(slots, sizeof(*slot))) == NULL) {
		*work = MH_EVENT_WORK;
		return from + 1;
	}
	for (end = from; end < n; end++) {
		size_t cost = MH_EVENT_WORK, ng;

		mh_event_keys_of(&k, &ev[end], 0);
		ng = mh_grams(k.email, k.subject, g);
		for (size_t i = 0; i < ng; i++)
			cost += mh_chunk_add(slot, slots - 1, g[i]);
		if (end > from && *work + cost > budget)
			break;
		*work += cost;
	}
	free(slot);
	return end;
}

/* The relay's memory of the tickets used (ws-relay/tickets.c, reached by
 * including its file): a ticket serves one handshake, is forgotten once
 * it expired, and no more are remembered than the relay may hold. */
#include "tap.h"
#include "ws-relay/tickets.c"

int
main(void)
{
	static struct mh_tickets t;
	char nonce[33];
	int refused = 0;

	mh_tickets_init(&t, "/nonexistent");
	ok(mh_tickets_use(&t, "0123456789abcdef0123456789abcdef", 100, 50) == 0,
	    "a ticket's first use");
	ok(mh_tickets_use(&t, "0123456789abcdef0123456789abcdef", 100, 60) == -1,
	    "its second is refused");
	ok(mh_tickets_use(&t, "fedcba9876543210fedcba9876543210", 100, 60) == 0,
	    "another ticket's is not");
	ok(t.count == 2, "two remembered");
	/* Past their expiry, the bucket each sits in forgets them. */
	ok(mh_tickets_use(&t, "0123456789abcdef0123456789abcdef", 300, 200) == 0,
	    "a nonce seen before but expired since is new again (it could not "
	    "be used anyway: the ticket checks its expiry first)");
	for (int i = 0; i < MH_USED_MAX + 10; i++) {
		snprintf(nonce, sizeof(nonce), "%032x", i + 1000);
		if (mh_tickets_use(&t, nonce, 1000, 500) == -2)
			refused++;
	}
	ok(refused > 0 && t.count <= MH_USED_MAX,
	    "no more than MH_USED_MAX remembered at once (%d refused)", refused);
	mh_tickets_free(&t);
	ok(t.count == 0, "all forgotten at the end");
	return done_testing();
}

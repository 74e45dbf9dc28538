/* The relay's count of subscribers by address (ws-relay/peers.c, included
 * to build it alone): the address the proxy wrote last in
 * X-Forwarded-For, and the count each address holds. */
#include "tap.h"
#include "ws-relay/peers.c"

static const struct {
	const char *header, *want;	/* want NULL: refused */
} forwarded[] = {
	{ "203.0.113.9", "203.0.113.9" },
	{ "10.0.0.1, 203.0.113.9", "203.0.113.9" },
	{ "forged,203.0.113.9 ", "203.0.113.9" },
	{ "10.0.0.1,\t2001:db8::1", "2001:db8::1" },
	{ "203.0.113.9, ", NULL },
	{ "", NULL },
	{ "203.0.113.9:443", NULL },
	{ "example.com", NULL },
	{ "203.0.113.9 203.0.113.8", NULL },
	{ "1111:2222:3333:4444:5555:6666:123.123.123.123",
	    "1111:2222:3333:4444:5555:6666:123.123.123.123" },
};

int
main(void)
{
	struct mh_peers peers = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char out[MH_ADDR_LEN], tiny[8];
	size_t i;

	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		int rc = mh_forwarded_last(forwarded[i].header, out, sizeof(out));

		if (forwarded[i].want == NULL)
			ok(rc == -1, "'%s' is refused", forwarded[i].header);
		else if (ok(rc == 0, "'%s' is read", forwarded[i].header))
			is_str(out, forwarded[i].want, "as its last address");
	}
	ok(mh_forwarded_last("203.0.113.9", tiny, sizeof(tiny)) == -1,
	    "an address longer than the room is refused, not cut");

	ok(mh_peers_take(&peers, "203.0.113.9", 2) == 0 &&
	    mh_peers_take(&peers, "203.0.113.9", 2) == 0, "two taken");
	ok(mh_peers_take(&peers, "203.0.113.9", 2) == -1, "a third refused");
	ok(mh_peers_count(&peers, "203.0.113.9") == 2, "the count stays 2");
	ok(mh_peers_take(&peers, "203.0.113.8", 2) == 0,
	    "another address has its own count");
	mh_peers_give(&peers, "203.0.113.9");
	ok(mh_peers_take(&peers, "203.0.113.9", 2) == 0, "a place given back");
	mh_peers_give(&peers, "203.0.113.8");
	ok(mh_peers_count(&peers, "203.0.113.8") == 0, "an address at 0");
	mh_peers_give(&peers, "198.51.100.1");
	ok(mh_peers_count(&peers, "198.51.100.1") == 0,
	    "giving back what was not taken counts nothing");
	mh_peers_free(&peers);
	ok(mh_peers_count(&peers, "203.0.113.9") == 0, "freed");
	return done_testing();
}

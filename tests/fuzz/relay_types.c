/* The relay's handshake parameter (?types=), the proxy's X-Forwarded-For
 * it takes a subscriber's address from, and the datagrams it reads into
 * its rings (the events', the users'). */
#include "ws-relay/ring.c"
#include "ws-relay/peers.c"
#include "ws-relay/users.c"
#include "ws-relay/frame.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mh_relay relay = {
	.ring = { .lock = PTHREAD_RWLOCK_INITIALIZER },
	.users = { .lock = PTHREAD_RWLOCK_INITIALIZER },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	unsigned all = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (int i = 0; mh_event_types[i].name != NULL; i++)
		all |= 1u << i;
	if (strcmp(text, "all") != 0 && strcmp(text, "*") != 0 &&
	    (mh_parse_types(text) & ~all) != 0)
		abort();	/* a bit no type has */
	char addr[MH_ADDR_LEN];
	if (mh_forwarded_last(text, addr, sizeof(addr)) == 0 &&
	    (strlen(addr) == 0 || strpbrk(addr, ", \t") != NULL))
		abort();	/* not one address */
	mh_ring_push(&relay, text, size);
	free(text);
	return 0;
}

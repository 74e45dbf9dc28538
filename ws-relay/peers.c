/*
 * Subscribers by address: one address may hold at most so many at once
 * (MAILHOOKS_RELAY_MAX_PER_ADDRESS), so that one client cannot take every
 * place the relay has (about 1 365 idle sockets from one address once
 * stopped lighttpd accepting the webhooks). The threads share the count,
 * under its lock.
 *
 * The relay listens on loopback only, behind the web server: its peer is
 * the proxy, and the subscriber's address is the last X-Forwarded-For
 * entry, the one the proxy appended (lighttpd's mod_proxy and Apache's
 * mod_proxy_http both do). Earlier entries came from the client and are
 * not believed.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

/* An address's count; chained in its bucket, freed at zero. */
struct mh_peer {
	struct mh_peer *next;
	int count;
	char addr[MH_ADDR_LEN];
};

/* Addresses are short, and come from the proxy. */
static unsigned
mh_addr_hash(const char *addr)
{
	return mh_str_hash(addr) % MH_PEER_BUCKETS;
}

int
mh_forwarded_last(const char *header, char *out, size_t outlen)
{
	const char *start = strrchr(header, ',');
	size_t len;
	unsigned char bin[sizeof(struct in6_addr)];

	start = start == NULL ? header : start + 1;
	start += strspn(start, " \t");
	len = strcspn(start, " \t");
	if (len == 0 || len >= outlen || start[len + strspn(start + len,
	    " \t")] != '\0')
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	/* Only an address, as a proxy writes it: no port, no name. */
	if (inet_pton(AF_INET, out, bin) != 1 &&
	    inet_pton(AF_INET6, out, bin) != 1)
		return -1;
	return 0;
}

/* addr's count in its bucket, or the link to add it at; under the lock. */
static struct mh_peer **
mh_peer_slot(struct mh_peers *peers, const char *addr)
{
	struct mh_peer **slot;

	for (slot = &peers->bucket[mh_addr_hash(addr)]; *slot != NULL;
	    slot = &(*slot)->next)
		if (strcmp((*slot)->addr, addr) == 0)
			break;
	return slot;
}

int
mh_peers_count(struct mh_peers *peers, const char *addr)
{
	struct mh_peer *p;
	int n;

	pthread_mutex_lock(&peers->lock);
	p = *mh_peer_slot(peers, addr);
	n = p == NULL ? 0 : p->count;
	pthread_mutex_unlock(&peers->lock);
	return n;
}

int
mh_peers_take(struct mh_peers *peers, const char *addr, int max)
{
	struct mh_peer **slot, *p;
	int ret = 0;

	pthread_mutex_lock(&peers->lock);
	slot = mh_peer_slot(peers, addr);
	if ((p = *slot) == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			ret = -1;
			goto out;
		}
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
		*slot = p;
	}
	if (p->count >= max) {
		ret = -1;
		if (p->count == 0) {	/* max is 0: nothing to keep */
			*slot = p->next;
			free(p);
		}
	} else
		p->count++;
out:
	pthread_mutex_unlock(&peers->lock);
	return ret;
}

void
mh_peers_give(struct mh_peers *peers, const char *addr)
{
	struct mh_peer **slot, *p;

	pthread_mutex_lock(&peers->lock);
	slot = mh_peer_slot(peers, addr);
	if ((p = *slot) != NULL && --p->count <= 0) {
		*slot = p->next;
		free(p);
	}
	pthread_mutex_unlock(&peers->lock);
}

void
mh_peers_free(struct mh_peers *peers)
{
	struct mh_peer *p, *next;

	for (size_t i = 0; i < MH_PEER_BUCKETS; i++)
		for (p = peers->bucket[i]; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	memset(peers->bucket, 0, sizeof(peers->bucket));
}

int
mh_client_address(struct lws *wsi, char *out, size_t outlen)
{
	char peer[MH_ADDR_LEN], xff[1024];
	unsigned char bin[sizeof(struct in6_addr)];
	int n;

	if (lws_get_peer_simple(wsi, peer, sizeof(peer)) == NULL)
		return -1;
	/* Only the proxy on this host is believed: a peer on loopback. */
	if ((inet_pton(AF_INET, peer, bin) == 1 && bin[0] == 127) ||
	    strcmp(peer, "::1") == 0 || strncmp(peer, "::ffff:127.", 11) == 0) {
		n = lws_hdr_copy(wsi, xff, sizeof(xff), WSI_TOKEN_X_FORWARDED_FOR);
		if (n > 0)
			return mh_forwarded_last(xff, out, outlen);
		/* A header too long for xff: refused, not skipped. */
		if (n < 0 || lws_hdr_total_length(wsi,
		    WSI_TOKEN_X_FORWARDED_FOR) > 0)
			return -1;
	}
	if (strlen(peer) >= outlen)
		return -1;
	strcpy(out, peer);
	return 0;
}

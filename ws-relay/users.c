/*
 * Each user's own channel, /ws/notifications/{user_id}: the program sends
 * a datagram for each change of a user's notifications ({"kind": ...,
 * "user_id": ...}); the first thread puts it in the users' ring, and each
 * thread hands it to the connections of that user it holds, found through
 * its map from user to connections, never by walking every connection.
 * A connection's frames wait in its own buffer until its socket takes
 * them; one whose buffer passes MH_USER_PENDING_MAX is closed (it should
 * catch up with GET /api/notifications/{user_id}?after=ID).
 */
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "core/counters.h"

static unsigned
mh_user_hash(const char *user)
{
	return mh_str_hash(user) % MH_USER_BUCKETS;
}

int
mh_uring_push(struct mh_uring *ring, const char *user, const char *data,
    size_t len)
{
	struct mh_umsg *slot, old;
	char *copy = malloc(len), *who = strdup(user);

	if (copy == NULL || who == NULL) {
		free(copy);
		free(who);
		return -1;
	}
	memcpy(copy, data, len);
	pthread_rwlock_wrlock(&ring->lock);
	slot = &ring->slot[ring->head % MH_RING];
	old = *slot;
	slot->data = copy;
	slot->len = len;
	slot->user = who;
	ring->head++;
	pthread_rwlock_unlock(&ring->lock);
	free(old.data);
	free(old.user);
	return 0;
}

int
mh_client_channel(struct lws *wsi, char *user, size_t size)
{
	static const char prefix[] = "/ws/notifications/";
	char path[512];
	int n = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI);

	if (n <= 0)
		return -1;
	if (strcmp(path, "/ws") == 0 || strcmp(path, "/ws/") == 0)
		return 0;
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	n = (int)strlen(path + sizeof(prefix) - 1);
	if (n == 0 || (size_t)n >= size || n > MH_NT_USER_MAX ||
	    strchr(path + sizeof(prefix) - 1, '/') != NULL)
		return -1;
	memcpy(user, path + sizeof(prefix) - 1, (size_t)n + 1);
	for (char *p = user; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	return 1;
}

void
mh_users_add(struct mh_shard *shard, struct mh_client *c)
{
	unsigned h = mh_user_hash(c->user);

	c->next_same = shard->users[h];
	shard->users[h] = c;
}

void
mh_users_remove(struct mh_shard *shard, struct mh_client *c)
{
	struct mh_client **pp = &shard->users[mh_user_hash(c->user)];

	for (; *pp != NULL; pp = &(*pp)->next_same)
		if (*pp == c) {
			*pp = c->next_same;
			break;
		}
	free(c->pending);
	free(c->user);
	c->pending = NULL;
	c->user = NULL;
	c->plen = c->pcap = 0;
}

/* Appends one text frame of data to c's buffer; -1 when it would pass
 * the limit (or memory ran out). */
static int
mh_pending_add(struct mh_client *c, const char *data, size_t len)
{
	size_t need = c->plen + MH_FRAME_HEAD + len;
	unsigned char *p;

	if (need > MH_USER_PENDING_MAX)
		return -1;
	if (need > c->pcap) {
		size_t cap = c->pcap ? c->pcap * 2 : 4096;

		while (cap < need)
			cap *= 2;
		if ((p = realloc(c->pending, cap)) == NULL)
			return -1;
		c->pending = p;
		c->pcap = cap;
	}
	mh_frame(c->pending, &c->plen, (const unsigned char *)data, len);
	return 0;
}

int
mh_user_write(struct mh_shard *shard, struct lws *wsi, struct mh_client *c)
{
	struct mh_counter_file *counted = mh_counters_file(shard->relay->counters);
	size_t n = c->plen < MH_COALESCE ? c->plen : MH_COALESCE;

	if (c->dropping)
		return -1;
	if (n == 0 || lws_partial_buffered(wsi)) {
		if (n > 0)
			lws_callback_on_writable(wsi);
		return 0;
	}
	memcpy(shard->out + LWS_PRE, c->pending, n);
	if (lws_write(wsi, shard->out + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
		return -1;
	memmove(c->pending, c->pending + n, c->plen - n);
	c->plen -= n;
	if (counted != NULL)
		atomic_fetch_add(&counted->ws_frames, 1);
	if (c->plen > 0)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Hands one message to the connections of its user this thread holds. */
static void
mh_user_deliver(struct mh_shard *shard, const struct mh_umsg *m)
{
	for (struct mh_client *c = shard->users[mh_user_hash(m->user)];
	    c != NULL; c = c->next_same) {
		if (c->dropping || strcmp(c->user, m->user) != 0)
			continue;
		if (mh_pending_add(c, m->data, m->len) != 0) {
			lwsl_warn("relay: a notification subscriber fell "
			    "behind; closing\n");
			c->dropping = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
			continue;
		}
		if (mh_user_write(shard, c->wsi, c) != 0) {
			c->dropping = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
		}
	}
}

void
mh_users_new(struct mh_shard *shard)
{
	struct mh_uring *ring = &shard->relay->users;
	uint64_t head;

	pthread_rwlock_rdlock(&ring->lock);
	head = ring->head;
	/* Those the ring no longer holds are lost to this thread's
	 * subscribers; they catch up when they reconnect. */
	if (shard->users_seen + MH_RING < head)
		shard->users_seen = head - MH_RING;
	for (; shard->users_seen < head; shard->users_seen++)
		mh_user_deliver(shard, &ring->slot[shard->users_seen % MH_RING]);
	pthread_rwlock_unlock(&ring->lock);
}

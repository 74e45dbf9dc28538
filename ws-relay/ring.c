/*
 * The ring of recent events the threads share (the first thread writes,
 * all read, under the lock), and the subscriptions: a bit per event type,
 * its place in the one table of types (core/event_types.c).
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "relay.h"
#include "core/core.h"

/* The kinds of frame beside events, each a subscription of its own:
 * "mail", the outbox's changes of state; "campaign", its messages';
 * "erased", a recipient's events erased. */
static const struct {
	const char *name;
	unsigned bit;
} mh_kinds[] = {
	{ "mail", MH_MAIL_BIT },
	{ "campaign", MH_CAMPAIGN_BIT },
	{ "erased", MH_ERASED_BIT },
};

/* A kind's bit, or 0. */
static unsigned
mh_kind_bit(const char *name, size_t len)
{
	for (size_t k = 0; k < sizeof(mh_kinds) / sizeof(mh_kinds[0]); k++)
		if (strlen(mh_kinds[k].name) == len &&
		    memcmp(name, mh_kinds[k].name, len) == 0)
			return mh_kinds[k].bit;
	return 0;
}

/* A type's subscription bit: its place in the one table of types; or a
 * kind's. */
static unsigned
mh_type_bit(const char *name, size_t len)
{
	int i = mh_event_type_index(name, len);

	return i < 0 ? mh_kind_bit(name, len) : 1u << i;
}

unsigned
mh_parse_types(const char *list)
{
	unsigned mask = 0, bit;

	if (strcmp(list, "all") == 0 || strcmp(list, "*") == 0)
		return ~0u;
	while (*list != '\0') {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if (len > 0) {
			if ((bit = mh_type_bit(list, len)) == 0)
				return 0;
			mask |= bit;
		}
		if (comma == NULL)
			break;
		list = comma + 1;
	}
	return mask;
}

/* Larger than all the headers libwebsockets keeps of a request, so that
 * no fragment of the query is too long to be read (one that was, once,
 * ended the reading and left a bad type after it unchecked). */
#define MH_QUERY_MAX 8192

unsigned
mh_client_types(struct lws *wsi)
{
	char arg[MH_QUERY_MAX];
	unsigned types = mh_type_bit("open", 4);
	int seen = 0;

	for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof(arg),
	    WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
		if (strncmp(arg, "types=", 6) != 0)
			continue;
		if (seen++ > 0)
			return 0;	/* given twice: which is meant? */
		types = mh_parse_types(arg + 6);
	}
	return types;
}

void
mh_ring_push(struct mh_relay *relay, const char *data, size_t len)
{
	struct mh_ring *ring = &relay->ring;
	struct json_object *ev, *type, *user;
	struct mh_msg *slot, old;
	unsigned bit = 0;
	unsigned char *buf;

	if ((ev = json_tokener_parse(data)) == NULL)
		return;
	if (json_object_object_get_ex(ev, "kind", NULL) &&
	    json_object_object_get_ex(ev, "user_id", &user) &&
	    json_object_is_type(user, json_type_string)) {
		mh_uring_push(&relay->users, json_object_get_string(user), data,
		    len);
		json_object_put(ev);
		return;
	}
	if (json_object_object_get_ex(ev, "type", &type) &&
	    json_object_is_type(type, json_type_string))
		bit = mh_type_bit(json_object_get_string(type),
		    (size_t)json_object_get_string_len(type));
	else if (json_object_object_get_ex(ev, "kind", &type) &&
	    json_object_is_type(type, json_type_string))
		bit = mh_kind_bit(json_object_get_string(type),
		    (size_t)json_object_get_string_len(type));
	json_object_put(ev);
	if (bit == 0 || (buf = malloc(LWS_PRE + len)) == NULL)
		return;
	memcpy(buf + LWS_PRE, data, len);
	pthread_rwlock_wrlock(&ring->lock);
	slot = &ring->slot[ring->head % MH_RING];
	old = *slot;
	slot->buf = buf;
	slot->len = len;
	slot->type_bit = bit;
	ring->head++;
	pthread_rwlock_unlock(&ring->lock);
	free(old.buf);
}

uint64_t
mh_ring_head(struct mh_ring *ring)
{
	uint64_t head;

	pthread_rwlock_rdlock(&ring->lock);
	head = ring->head;
	pthread_rwlock_unlock(&ring->lock);
	return head;
}

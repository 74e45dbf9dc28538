/*
 * The state campaigns.c and campaign_end.c share: the sender's campaigns,
 * the messages taken in a turn, those in flight, those ended.
 */
#ifndef MH_CAMPAIGNS_H
#define MH_CAMPAIGNS_H

#include "sender.h"

/* A message taken: as read, what was decided, and its request. */
struct mh_cm_taken {
	uint64_t id, campaign, client;
	char *json;		/* as read before deciding */
	struct mh_cm_decision d;
	int stale;		/* changed since it was read: left as it is */
	int64_t end_ms;		/* its campaign's */
	char *request;		/* with MH_CM_SEND, the API's channel: its
				 * body */
	int by_mail;		/* with MH_CM_SEND, the mail channel: */
	struct json_object *mail;	/* its mail (NULL: out of memory) */
};

/* A message whose request is out. */
struct mh_cm_flight {
	uint64_t id, campaign, client;
	int64_t end_ms;
};

/* A request that ended, to be written with the turn's others. */
struct mh_cm_ended {
	struct mh_cm_flight f;
	struct mh_http_answer a;	/* its body left out */
	enum mh_send_outcome outcome;
	char error[300];
	int64_t due;		/* after writing: when again, -1 done */
	char status[16];	/* after writing: its status */
	uint64_t mail_id;	/* the mail channel: the mail made of it */
	int written;
};

struct mh_campaigns {
	const struct mh_send_config *cfg;
	struct mh_store **store;
	struct mh_http *http;
	struct mh_tzwin *tz;
	struct mh_breakers breakers;
	struct mh_rate rate;
	unsigned seed;
	struct mh_cm_flight flight[MH_SEND_BATCH];
	size_t nflight;
	struct mh_cm_ended ended[MH_SEND_BATCH];
	size_t nended;
	/* The key of the mail channel's unsubscribe links, read at its first
	 * use (home/unsubscribe.key, shared with the FastCGI program). */
	unsigned char unsub_key[MH_SECRET_BYTES];
	int unsub_key_read;
};

#endif

/*
 * A campaign's message to one client, kept, pure: made pending, and its
 * record's fields (campaign "/" status, campaign, client) read from its
 * object whenever it changes, so that the indexes follow its status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

const char *const mh_cmessage_statuses[] = { "pending", "sending", "sent",
	"retrying", "failed", "expired", "deferred", "cancelled", NULL };

int
mh_cmessage_record(struct json_object *m, struct mh_record *out)
{
	uint64_t campaign = (uint64_t)mh_json_int(m, "campaign_id");
	uint64_t client = (uint64_t)mh_json_int(m, "client_id");
	const char *status = mh_json_str(m, "status");
	char by_status[64], by_campaign[32], by_client[32];

	memset(out, 0, sizeof(*out));
	if (status == NULL || campaign == 0)
		return -1;
	snprintf(by_status, sizeof(by_status), "%" PRIu64 "/%.30s", campaign,
	    status);
	snprintf(by_campaign, sizeof(by_campaign), "%" PRIu64, campaign);
	snprintf(by_client, sizeof(by_client), "%" PRIu64, client);
	out->cmessage.campaign_status = mh_strdup(by_status);
	out->cmessage.campaign = mh_strdup(by_campaign);
	out->cmessage.client = mh_strdup(by_client);
	out->json = mh_strdup(mh_json_text(m));
	if (out->cmessage.campaign_status == NULL ||
	    out->cmessage.campaign == NULL || out->cmessage.client == NULL ||
	    out->json == NULL) {
		mh_record_free(out);
		return -1;
	}
	return 0;
}

int
mh_cmessage_make(uint64_t campaign, uint64_t client, int64_t now_ms,
    struct mh_record *out)
{
	struct json_object *m = json_object_new_object();
	char at[32];
	int ret;

	mh_iso_from_ms(now_ms, at);
	mh_json_set_str(m, "created_at", at);
	mh_json_set_str(m, "status", "pending");
	json_object_object_add(m, "campaign_id",
	    json_object_new_int64((int64_t)campaign));
	json_object_object_add(m, "client_id",
	    json_object_new_int64((int64_t)client));
	json_object_object_add(m, "attempts", json_object_new_array());
	mh_json_set_str(m, "next_attempt_at", NULL);
	ret = mh_cmessage_record(m, out);
	json_object_put(m);
	return ret;
}

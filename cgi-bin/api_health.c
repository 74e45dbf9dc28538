/*
 * GET /api/health: whether storage answers and the relay listens, and the
 * numbers a monitor watches (last seq, inbox waiting, set aside). To
 * whom did not say who they are, only whether it is up.
 */
#include <inttypes.h>
#include <stdio.h>

#include "mailhooks.h"

void
mh_api_health(struct mh_app *app, struct mh_request *r)
{
	struct mh_store_stats st;
	enum mh_store_err err = MH_STORE_FAILED;
	int relay = mh_relay_up(app->cfg->home);
	char out[256];

	if (app->store != NULL)
		err = mh_store_stats(app->store, &st);
	if (err == MH_STORE_OK && mh_identify(app, r) != 0)
		return;
	if (err == MH_STORE_OK && r->who.kind == MH_WHO_NOBODY) {
		mh_respond_json(r, 200, "{\"status\":\"ok\"}");
		return;
	}
	if (err != MH_STORE_OK) {
		r->store_err = err;
		snprintf(out, sizeof(out), "{\"error\":\"storage_unavailable\","
		    "\"detail\":\"the database cannot be read\","
		    "\"status\":\"degraded\",\"storage\":\"unavailable\","
		    "\"relay\":\"%s\"}",
		    relay ? "up" : "down");
		mh_respond_json(r, 503, out);
		return;
	}
	snprintf(out, sizeof(out), "{\"status\":\"ok\",\"storage\":\"ok\","
	    "\"relay\":\"%s\",\"last_seq\":%" PRIu64 ",\"inbox_pending\":%"
	    PRIu64 ",\"set_aside\":%" PRIu64 ",\"test_events\":%s}",
	    relay ? "up" : "down", st.last_seq, st.inbox_pending, st.set_aside,
	    app->cfg->test_events ? "true" : "false");
	mh_respond_json(r, 200, out);
}

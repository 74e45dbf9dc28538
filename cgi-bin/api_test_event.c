/*
 * POST /api/test-event: when MAILHOOKS_TEST_EVENTS=1, a sample Mandrill open
 * goes through the same inbox, storage and relay as a real one. JSON only,
 * so that no other site's form can post it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mailhooks.h"

void
mh_api_test_event(struct mh_app *app, struct mh_request *r)
{
	static const char *const places[][2] = { { "Lisbon", "Portugal" },
	    { "Oslo", "Norway" }, { "Osaka", "Japan" }, { "Quito", "Ecuador" } };
	struct json_object *ev = json_object_new_object(), *msg, *loc;
	struct timespec now;
	char id[64], *enc = NULL;
	const char *text;
	size_t n, i;

	if (!app->cfg->test_events) {
		mh_respond_error(r, MH_ERR_NOT_FOUND, "test events are off "
		    "(MAILHOOKS_TEST_EVENTS=1 turns them on)");
		goto out;
	}
	if (!mh_media_type_is(mh_param(r, "CONTENT_TYPE"), "application/json")) {
		mh_respond_error(r, MH_ERR_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/json");
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(id, sizeof(id), "mailhooks-test-%lld%06ld",
	    (long long)now.tv_sec, now.tv_nsec / 1000);
	msg = json_object_new_object();
	json_object_object_add(msg, "_id", json_object_new_string(id));
	json_object_object_add(msg, "email",
	    json_object_new_string("test@example.com"));
	json_object_object_add(msg, "subject",
	    json_object_new_string("mailhooks test event"));
	json_object_object_add(msg, "tags", json_object_new_array());
	loc = json_object_new_object();
	i = (size_t)(now.tv_nsec / 1000) % (sizeof(places) / sizeof(places[0]));
	json_object_object_add(loc, "city", json_object_new_string(places[i][0]));
	json_object_object_add(loc, "country",
	    json_object_new_string(places[i][1]));
	json_object_object_add(ev, "event", json_object_new_string("open"));
	json_object_object_add(ev, "ts", json_object_new_int64(now.tv_sec));
	json_object_object_add(ev, "msg", msg);
	json_object_object_add(ev, "location", loc);
	json_object_object_add(ev, "ip", json_object_new_string("192.0.2.1"));
	text = mh_json_text(ev);
	/* The raw body a Mandrill POST of it would have: form-encoded. */
	n = strlen(text);
	if ((enc = mh_malloc(sizeof("mandrill_events=[") + (n + 1) * 3)) == NULL) {
		mh_respond_nomem(r);
		goto out;
	}
	strcpy(enc, "mandrill_events=[");
	for (size_t k = 0, o = strlen(enc); k <= n; k++) {
		unsigned char c = k < n ? (unsigned char)text[k] : ']';

		if (isalnum(c) || c == '-' || c == '_' || c == '.')
			enc[o++] = (char)c;
		else
			o += (size_t)sprintf(enc + o, "%%%02X", c);
		enc[o] = '\0';
	}
	free(r->body);
	r->body = enc;
	r->body_len = strlen(enc);
	enc = NULL;
	mh_ingest_commit(app, r, "mandrill", 1);
out:
	free(enc);
	json_object_put(ev);
}

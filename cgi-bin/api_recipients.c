/*
 * DELETE /api/recipients/{email} (admins): erases every event of that
 * address, the providers' records beside them, their messages'
 * summaries, the raw bodies they came from and the notifications naming
 * it, and answers with what went (all 0 for an address with none). The
 * log line names the address by a digest, so that the log keeps no more
 * of it than the store, yet an auditor holding the address can match it.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mailhooks.h"

/* The longest address (RFC 5321's path less its brackets). */

/* The first bytes of the SHA-256 of lower(email), in hex, into out. */
static void
mh_email_digest(const char *email, char out[17])
{
	char lower[MH_RECIPIENT_MAX + 1];
	unsigned char md[32];
	size_t i;

	for (i = 0; email[i] != '\0' && i < MH_RECIPIENT_MAX; i++)
		lower[i] = (char)tolower((unsigned char)email[i]);
	lower[i] = '\0';
	mh_sha256(lower, i, md);
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
mh_api_recipient_erase(struct mh_app *app, struct mh_request *r)
{
	struct mh_erased n;
	enum mh_store_err err;
	char digest[17], answer[320];

	if (!mh_recipient_ok(r->param)) {
		mh_respond_error(r, MH_ERR_BAD_PARAMETER,
		    "the recipient must be "
		    "an email address of at most %d bytes", MH_RECIPIENT_MAX);
		return;
	}
	err = app->store == NULL ? MH_STORE_FAILED :
	    mh_store_erase(app->store, r->param, mh_notification_names,
	    r->param, &n);
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	if (n.events > 0)
		mh_notify_erased(app->cfg->home, r->param);
	mh_email_digest(r->param, digest);
	mh_log(r, "recipient sha256:%s erased by %s: %" PRIu64 " events, %"
	    PRIu64 " summaries, %" PRIu64 " raw bodies, %" PRIu64
	    " notifications", digest, r->who.name, n.events, n.summaries,
	    n.raw_bodies, n.notifications);
	snprintf(answer, sizeof(answer), "{\"erased\":{\"events\":%" PRIu64
	    ",\"email_callbacks\":%" PRIu64 ",\"summaries\":%" PRIu64
	    ",\"raw_bodies\":%" PRIu64 ",\"notifications\":%" PRIu64 "}}",
	    n.events, n.callbacks, n.summaries, n.raw_bodies, n.notifications);
	mh_respond_json(r, 200, answer);
}

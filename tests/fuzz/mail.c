/* What a client and Mandrill send the outbox: the input as a mail to
 * queue (checked, made into its record, cancelled and retried), and as
 * Mandrill's answer to messages/send (read, under each status a remote
 * may give). */
#include "fuzz.h"
#include "sender/sender.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 302, 429, 500, 503 };
	struct mh_mail_sender who = { "user", "fuzz" };
	struct json_object *o;
	struct mh_record rec;
	struct mh_send_result r;
	struct mh_http_answer a = { .retry_after_s = -1 };
	char why[512], detail[128];
	int64_t due;

	if ((a.body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(a.body, data, size);
	a.body[size] = '\0';
	a.body_len = size;
	if ((o = mh_json_parse(a.body, size, detail, sizeof(detail))) != NULL &&
	    mh_mail_check(o, 1800000000000LL, &due, why, sizeof(why)) == 0) {
		if (mh_mail_make(o, &who, 1800000000000LL, due, &rec) != 0)
			abort();	/* a checked mail is always kept */
		mh_record_free(&rec);
	}
	json_object_put(o);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		a.status = statuses[i];
		if (mh_mandrill_answer(&a, &r) != 0)
			continue;
		if (r.outcome == MH_OUT_SENT && (r.nrcpt == 0 || a.status != 200))
			abort();	/* sent only with results, on a 2xx */
		mh_send_result_free(&r);
	}
	free(a.body);
	return 0;
}

/* What reaches the campaigns from outside: the external API's answer to a
 * message (read under each status it may give: sent only on a 200 with
 * {"code": 0}), and the input as a campaign a client sends (checked, its
 * record made and read back as the sender reads it, a client matched
 * against its filter) and as a client (checked and made). */
#include "fuzz.h"
#include "sender/sender.h"

/* The input as a campaign: one that is checked is kept, and its record
 * reads back as a plan. */
static void
campaign(struct json_object *o)
{
	struct json_object *client = json_tokener_parse("{\"tag\":\"vip\","
	    "\"operator_code\":\"900\",\"email\":\"a@x.io\"}");
	struct mh_campaign_plan p;
	static const struct mh_making mk = { 1800000000000LL, NULL };
	static const struct mh_making mk_ru = { 1800000000000LL, "RU" };
	struct mh_record rec;
	char why[512];

	if (mh_campaign_make(o, &mk, &rec, why, sizeof(why)) == 0) {
		if (mh_campaign_plan_read(rec.json, &p) != 0 ||
		    p.end_ms <= p.start_ms)
			abort();	/* a campaign kept is one to send */
		(void)mh_campaign_matches(&p, client);
		mh_campaign_plan_free(&p);
		mh_record_free(&rec);
	}
	if (mh_json_get(o, "filter") != NULL &&
	    json_object_is_type(mh_json_get(o, "filter"), json_type_object) &&
	    mh_check_filter(mh_json_get(o, "filter"), why, sizeof(why)) == 0)
		(void)mh_filter_matches(mh_json_get(o, "filter"), 0, client);
	if (mh_client_make(o, &mk, &rec, why, sizeof(why)) == 0) {
		/* A phone kept is E.164's digits; the region changes only how
		 * a national one is read. */
		if (!mh_client_phone_ok(rec.client.phone))
			abort();
		mh_record_free(&rec);
	}
	if (mh_client_make(o, &mk_ru, &rec, why, sizeof(why)) == 0)
		mh_record_free(&rec);
	json_object_put(client);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 204, 302, 400, 429, 500 };
	struct mh_http_answer a = { .retry_after_s = -1 };
	struct json_object *o;
	char error[300], detail[128];

	if ((a.body = malloc(size + 1)) == NULL)
		return 0;
	memcpy(a.body, data, size);
	a.body[size] = '\0';
	a.body_len = size;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		a.status = statuses[i];
		if (mh_capi_answer(&a, error, sizeof(error)) == MH_OUT_SENT &&
		    (a.status != 200 || error[0] != '\0'))
			abort();	/* sent only on a 200 */
	}
	if ((o = mh_json_parse(a.body, size, detail, sizeof(detail))) != NULL)
		campaign(o);
	json_object_put(o);
	free(a.body);
	return 0;
}

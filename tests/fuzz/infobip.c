/* An Infobip callback body: its shape checks, then every report or
 * tracking event normalised, the event and the email_callback printing as
 * JSON. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *items;
	struct mh_normal n;
	char why[256];

	if (mh_infobip_parse((const char *)data, size, &items, why,
	    sizeof(why)) != 0)
		return 0;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		if (mh_infobip_normalise(json_object_array_get_idx(items, i),
		    "2026-01-01T00:00:00.000Z", 1, &n) != 0)
			continue;
		fuzz_valid_json(n.event);
		fuzz_valid_json(n.entity);
		json_object_put(n.event);
		json_object_put(n.entity);
		free(n.identity);
	}
	json_object_put(items);
	return 0;
}

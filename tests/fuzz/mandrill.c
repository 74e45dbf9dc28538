/* A mandrill_events value: its shape checks, then every event normalised,
 * each printing as JSON, with an identity. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *events;
	struct mh_normal n;
	char why[256];

	if (mh_mandrill_parse((const char *)data, size, &events, why,
	    sizeof(why)) != 0)
		return 0;
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		if (mh_mandrill_normalise(json_object_array_get_idx(events, i),
		    "2026-01-01T00:00:00.000Z", 1, &n) != 0)
			continue;
		if (n.identity == NULL)
			abort();
		fuzz_valid_json(n.event);
		json_object_put(n.event);
		free(n.identity);
	}
	json_object_put(events);
	return 0;
}

/* Strict JSON: what the check takes json-c parses, and what json-c then
 * prints is JSON by its RFC again. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o;
	char why[160];

	if ((o = mh_json_parse((const char *)data, size, why,
	    sizeof(why))) == NULL)
		return 0;
	fuzz_valid_json(o);
	json_object_put(o);
	return 0;
}

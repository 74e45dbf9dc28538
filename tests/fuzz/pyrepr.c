/* Python literals (Infobip's callbackData): what parses prints as JSON. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL;

	if (mh_pyrepr_parse((const char *)data, size, &o) == 0 && o != NULL)
		fuzz_valid_json(o);
	json_object_put(o);
	return 0;
}

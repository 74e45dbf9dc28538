/* The API's query parameters as the handlers read them: each value, the
 * numbers (limit, the cursors) and the times (since, until). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "limit", "before", "after",
	    "since", "until", "type", "email", "message_id" };
	char *text = malloc(size + 1), *v;
	unsigned long long n;
	int64_t t;
	int bad;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((v = mh_query_get(text, names[i], &bad)) == NULL)
			continue;
		if (mh_parse_uint(v, UINT64_MAX, &n) == 0 && (*v < '0' ||
		    *v > '9'))
			abort();
		if (mh_iso_time(v, &t) == 0 && strlen(v) < 20)
			abort();
		(void)mh_event_type_index(v, strlen(v));
		free(v);
	}
	free(text);
	return 0;
}

/* Form decoding and the query string, as webhooks and the API read them. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "mandrill_events", "type", "limit",
	    "token", "since", "" };
	struct mh_form form = { 0 };
	char *text = malloc(size + 1), *v;
	int bad;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mh_form_parse(text, size, &form) == MH_FORM_OK)
		for (size_t i = 0; i + 1 < form.count; i++) {
			const struct mh_form_field *a = &form.fields[i];
			const struct mh_form_field *b = &form.fields[i + 1];
			size_t n = a->key_len < b->key_len ? a->key_len :
			    b->key_len;
			int c = memcmp(a->key, b->key, n);

			/* Sorted bytewise (keys may hold NULs), none twice. */
			if (c > 0 || (c == 0 && a->key_len >= b->key_len))
				abort();
		}
	mh_form_free(&form);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = mh_query_get(text, names[i], &bad);
		if (v != NULL && bad)
			abort();
		free(v);
	}
	free(text);
	return 0;
}

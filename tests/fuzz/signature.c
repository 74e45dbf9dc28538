/* The Mandrill signature's base string over a form, and the basic-auth
 * password of an Authorization header. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mh_form form = { 0 };
	char *text = malloc(size + 1), sig[29], *pw;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (mh_form_parse(text, size, &form) == MH_FORM_OK) {
		if (mh_signature_compute("key", 3, "https://h.example/w", &form,
		    sig) == 0 && strlen(sig) != 28)
			abort();
		mh_signature_verify(" k1, ,k2 ", "https://h.example/w", &form,
		    text);
	}
	mh_form_free(&form);
	pw = mh_basic_password(text);
	free(pw);
	free(text);
	return 0;
}

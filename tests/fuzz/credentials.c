/* What a request carries to say who sends it: the Cookie, Authorization
 * and Origin headers, a list of scopes, and a WebSocket ticket (checked
 * under a fixed key, so that a mutation of a good one gets past the
 * signature only where the fuzzer finds a collision). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[MH_SECRET_BYTES], raw[600];
	char *text = malloc(size + 1), value[128];
	struct mh_ticket t;
	unsigned bits;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(key, 1, sizeof(key));
	if (mh_cookie_get(text, "mh_session", value, sizeof(value)) == 0 &&
	    strlen(value) >= sizeof(value))
		abort();
	mh_secret_shaped(mh_bearer(text), MH_TOKEN_PREFIX);
	mh_origin_allowed(text, text, "http://h.example:8080", text);
	if (mh_scopes_parse(text, &bits) == 0 && (bits & ~MH_SCOPES_ALL) != 0)
		abort();
	if (mh_b64url_decode(text, size, raw, sizeof(raw)) > (long)sizeof(raw))
		abort();
	if (mh_ticket_read(key, text, 0, &t) == MH_TICKET_OK &&
	    (strlen(t.nonce) != 32 || t.expires < 0))
		abort();
	free(text);
	return 0;
}

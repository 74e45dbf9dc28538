/*
 * An event's identity, for the duplicate check: providers retry whole
 * batches, and a retry repeats each event byte for byte, so two events are
 * one when what the provider sent of them is the same (a click on another
 * link, an open from another address, in the same second, is another
 * event). The identity is the provider's name, what it is taken from, and
 * the SHA-256 of that text: of fixed form, so no two texts can make one
 * (a separator inside a value once could).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "core.h"

char *
mh_identity(const char *provider, const char *kind, const char *text,
    size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t plen = strlen(provider), klen = strlen(kind);
	char *id;

	if (plen > 32 || klen > 32 ||
	    EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    (id = mh_malloc(plen + klen + 2 + mdlen * 2 + 1)) == NULL)
		return NULL;
	memcpy(id, provider, plen);
	id[plen] = ':';
	memcpy(id + plen + 1, kind, klen);
	id[plen + 1 + klen] = ':';
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(id + plen + klen + 2 + i * 2, 3, "%02x", md[i]);
	return id;
}

char *
mh_identity_of(const char *provider, const char *kind, struct json_object *o)
{
	const char *text = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN);

	return text != NULL ? mh_identity(provider, kind, text,
	    strlen(text)) : NULL;
}

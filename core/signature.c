/*
 * Webhook authentication: X-Mandrill-Signature (base64(HMAC-SHA1(key,
 * URL + key1 + value1 + ...)), the POST fields in key order with their
 * decoded values), and the shared token Infobip callbacks carry.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core.h"

/* The signed text: url followed by each field's key and value. */
static char *
mh_signed_text(const char *url, const struct mh_form *form, size_t *len)
{
	size_t n = strlen(url), off;
	char *buf;

	for (size_t i = 0; i < form->count; i++)
		n += form->fields[i].key_len + form->fields[i].value_len;
	if ((buf = mh_malloc(n)) == NULL)
		return NULL;
	off = strlen(url);
	memcpy(buf, url, off);
	for (size_t i = 0; i < form->count; i++) {
		memcpy(buf + off, form->fields[i].key, form->fields[i].key_len);
		off += form->fields[i].key_len;
		memcpy(buf + off, form->fields[i].value,
		    form->fields[i].value_len);
		off += form->fields[i].value_len;
	}
	*len = n;
	return buf;
}

static void
mh_hmac_b64(const char *key, size_t key_len, const unsigned char *text,
    size_t len, char out[29])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	HMAC(EVP_sha1(), key, (int)key_len, text, len, mac, &maclen);
	EVP_EncodeBlock((unsigned char *)out, mac, (int)maclen);
}

int
mh_signature_compute(const char *key, size_t key_len, const char *url,
    const struct mh_form *form, char out[29])
{
	size_t len;
	char *text = mh_signed_text(url, form, &len);

	if (text == NULL)
		return -1;
	mh_hmac_b64(key, key_len, (unsigned char *)text, len, out);
	free(text);
	return 0;
}

int
mh_signature_verify(const char *keys, const char *url,
    const struct mh_form *form, const char *header)
{
	char expect[29];
	const char *k = keys;
	size_t len, hlen;
	char *text;
	int ok = 0;

	if (header == NULL || keys == NULL)
		return 0;
	hlen = strlen(header);
	if ((text = mh_signed_text(url, form, &len)) == NULL)
		return 0;
	while (*k != '\0') {
		const char *comma = strchr(k, ',');
		size_t klen = comma ? (size_t)(comma - k) : strlen(k);

		/* Keys may be written "a, b": spaces around them are not part
		 * of any key Mandrill issues. */
		while (klen > 0 && (*k == ' ' || *k == '\t')) {
			k++;
			klen--;
		}
		while (klen > 0 && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
			klen--;
		if (klen > 0) {
			mh_hmac_b64(k, klen, (unsigned char *)text, len, expect);
			if (hlen == 28 && CRYPTO_memcmp(expect, header, 28) == 0)
				ok = 1;
		}
		if (comma == NULL)
			break;
		k = comma + 1;
	}
	free(text);
	return ok;
}

int
mh_secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];

	/* Digests first, so that neither the content nor the length of the
	 * secret shows in the time the comparison takes. */
	SHA256((const unsigned char *)a, alen, da);
	SHA256((const unsigned char *)b, blen, db);
	return CRYPTO_memcmp(da, db, sizeof(da)) == 0;
}

char *
mh_basic_password(const char *authorization)
{
	size_t n, pad = 0;
	unsigned char *raw;
	char *colon, *pw;
	int len;

	if (authorization == NULL || strncasecmp(authorization, "Basic ", 6) != 0)
		return NULL;
	authorization += 6;
	while (*authorization == ' ')
		authorization++;
	n = strlen(authorization);
	if (n == 0 || n % 4 != 0 || n > 4096)
		return NULL;
	if (authorization[n - 1] == '=')
		pad = authorization[n - 2] == '=' ? 2 : 1;
	if ((raw = mh_malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	len = EVP_DecodeBlock(raw, (const unsigned char *)authorization, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(raw);
		return NULL;
	}
	raw[len - pad] = '\0';
	colon = memchr(raw, ':', (size_t)len - pad);
	pw = colon ? mh_strndup(colon + 1, (size_t)len - pad -
	    (size_t)(colon + 1 - (char *)raw)) : NULL;
	free(raw);
	return pw;
}

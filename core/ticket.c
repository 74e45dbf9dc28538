/*
 * WebSocket tickets: what the program hands a signed-in user for one
 * WebSocket handshake, and the relay checks. The relay never sees a
 * password or a cookie. A ticket is
 *
 *     base64url(payload) "." base64url(HMAC-SHA256(key, first part))
 *
 * with payload "v1\nUSER\nROLE\nCHANNELS\nEXPIRES\nNONCE": CHANNELS
 * comma separated, EXPIRES in Unix seconds, NONCE 16 random bytes in hex
 * (the relay remembers it, so that a ticket serves one handshake). The
 * signature is over the text as sent, checked before anything is decoded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core.h"

#define MH_TICKET_PAYLOAD_MAX 512

static void
mh_ticket_mac(const unsigned char key[MH_SECRET_BYTES], const char *text,
    size_t len, unsigned char mac[MH_HASH_LEN])
{
	unsigned int maclen = MH_HASH_LEN;

	HMAC(EVP_sha256(), key, MH_SECRET_BYTES, (const unsigned char *)text,
	    len, mac, &maclen);
}

int
mh_ticket_make(const unsigned char key[MH_SECRET_BYTES],
    struct mh_ticket *t, char *out, size_t outlen)
{
	char payload[MH_TICKET_PAYLOAD_MAX];
	unsigned char nonce[16], mac[MH_HASH_LEN];
	size_t n, o;
	int len;

	if (mh_random(nonce, sizeof(nonce)) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(nonce); i++)
		snprintf(t->nonce + 2 * i, 3, "%02x", nonce[i]);
	len = snprintf(payload, sizeof(payload), "v1\n%s\n%s\n%s\n%" PRId64
	    "\n%s", t->user, t->role, t->channels, t->expires, t->nonce);
	if (len < 0 || (size_t)len >= sizeof(payload) ||
	    outlen < ((size_t)len + 2) / 3 * 4 + 1 + 44)
		return -1;
	o = mh_b64url((const unsigned char *)payload, (size_t)len, out);
	mh_ticket_mac(key, out, o, mac);
	out[o++] = '.';
	n = mh_b64url(mac, sizeof(mac), out + o);
	out[o + n] = '\0';
	return 0;
}

/* Copies the next line of *p into out (of size outlen); -1 when there
 * is none, it is empty or too long. */
static int
mh_ticket_field(char **p, char *out, size_t outlen, int last)
{
	char *end = last ? *p + strlen(*p) : strchr(*p, '\n');
	size_t n;

	if (end == NULL || (n = (size_t)(end - *p)) == 0 || n >= outlen)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p = last ? end : end + 1;
	return 0;
}

/* The fields of a decoded payload into t. */
static enum mh_ticket_err
mh_ticket_parse(char *payload, struct mh_ticket *t)
{
	char *p = payload, expires[24];
	unsigned long long ex;

	if (strncmp(p, "v1\n", 3) != 0)
		return MH_TICKET_MALFORMED;
	p += 3;
	if (mh_ticket_field(&p, t->user, sizeof(t->user), 0) != 0 ||
	    mh_ticket_field(&p, t->role, sizeof(t->role), 0) != 0 ||
	    mh_ticket_field(&p, t->channels, sizeof(t->channels), 0) != 0 ||
	    mh_ticket_field(&p, expires, sizeof(expires), 0) != 0 ||
	    mh_ticket_field(&p, t->nonce, sizeof(t->nonce), 1) != 0 ||
	    strlen(t->nonce) != 32 || mh_parse_uint(expires, INT64_MAX,
	    &ex) != 0)
		return MH_TICKET_MALFORMED;
	t->expires = (int64_t)ex;
	return MH_TICKET_OK;
}

enum mh_ticket_err
mh_ticket_read(const unsigned char key[MH_SECRET_BYTES], const char *text,
    int64_t now, struct mh_ticket *t)
{
	unsigned char mac[MH_HASH_LEN], given[MH_HASH_LEN + 1];
	char payload[MH_TICKET_PAYLOAD_MAX];
	const char *dot = strchr(text, '.');
	size_t head;
	long n;

	memset(t, 0, sizeof(*t));
	if (dot == NULL || (head = (size_t)(dot - text)) == 0 ||
	    head > MH_TICKET_PAYLOAD_MAX * 4 / 3 + 4 ||
	    mh_b64url_decode(dot + 1, strlen(dot + 1), given,
	    sizeof(given)) != MH_HASH_LEN)
		return MH_TICKET_MALFORMED;
	mh_ticket_mac(key, text, head, mac);
	if (CRYPTO_memcmp(mac, given, MH_HASH_LEN) != 0)
		return MH_TICKET_FORGED;
	n = mh_b64url_decode(text, head, (unsigned char *)payload,
	    sizeof(payload) - 1);
	if (n < 0 || memchr(payload, '\0', (size_t)n) != NULL)
		return MH_TICKET_MALFORMED;
	payload[n] = '\0';
	if (mh_ticket_parse(payload, t) != MH_TICKET_OK)
		return MH_TICKET_MALFORMED;
	return now > t->expires ? MH_TICKET_EXPIRED : MH_TICKET_OK;
}

int
mh_ticket_has_channel(const struct mh_ticket *t, const char *channel)
{
	size_t n = strlen(channel);

	for (const char *p = t->channels; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && memcmp(p, channel, n) == 0)
			return 1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

/*
 * The link a campaign's mail carries to opt its client out (RFC 8058's
 * one-click, and RFC 2369's List-Unsubscribe): a token that names the
 * client and the campaign, signed with the site's unsubscribe key, so that
 * a link altered or made up names no one. Pure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core.h"

/* The MAC of client and campaign, as base64url text (43 characters) into
 * out. */
static void
mh_unsub_mac(const unsigned char key[MH_SECRET_BYTES], uint64_t client,
    uint64_t campaign, char out[48])
{
	unsigned char mac[MH_HASH_LEN];
	unsigned int maclen = MH_HASH_LEN;
	char text[64];
	int len;

	len = snprintf(text, sizeof(text), "unsubscribe\n%" PRIu64 "\n%" PRIu64,
	    client, campaign);
	HMAC(EVP_sha256(), key, MH_SECRET_BYTES, (const unsigned char *)text,
	    (size_t)len, mac, &maclen);
	out[mh_b64url(mac, sizeof(mac), out)] = '\0';
}

int
mh_unsub_token(const unsigned char key[MH_SECRET_BYTES], uint64_t client,
    uint64_t campaign, char out[MH_UNSUB_TOKEN_MAX])
{
	char mac[48];
	int len;

	mh_unsub_mac(key, client, campaign, mac);
	len = snprintf(out, MH_UNSUB_TOKEN_MAX, "%" PRIu64 ".%" PRIu64 ".%s",
	    client, campaign, mac);
	return len > 0 && len < MH_UNSUB_TOKEN_MAX ? 0 : -1;
}

/* A whole number from 1 of text, up to the dot at *p; moves *p past it. */
static int
mh_unsub_number(const char **p, uint64_t *out)
{
	const char *dot = strchr(*p, '.');
	char digits[24];
	unsigned long long v;
	size_t n;

	if (dot == NULL || (n = (size_t)(dot - *p)) == 0 || n >= sizeof(digits) ||
	    **p == '0')
		return -1;
	memcpy(digits, *p, n);
	digits[n] = '\0';
	if (mh_parse_uint(digits, UINT64_MAX, &v) != 0)
		return -1;
	*out = v;
	*p = dot + 1;
	return 0;
}

int
mh_unsub_read(const unsigned char key[MH_SECRET_BYTES], const char *token,
    uint64_t *client, uint64_t *campaign)
{
	const char *p = token;
	char mac[48];

	if (token == NULL || strlen(token) >= MH_UNSUB_TOKEN_MAX ||
	    mh_unsub_number(&p, client) != 0 ||
	    mh_unsub_number(&p, campaign) != 0)
		return -1;
	mh_unsub_mac(key, *client, *campaign, mac);
	if (strlen(p) != strlen(mac) || CRYPTO_memcmp(p, mac, strlen(mac)) != 0)
		return -1;
	return 0;
}

int
mh_list_unsubscribe(const char *site, const char *token,
    const char *mail_from, char *out, size_t outlen)
{
	size_t sl = site != NULL ? strlen(site) : 0;
	int len;

	/* The site's URL without its trailing slash: the API is under it. */
	while (sl > 0 && site[sl - 1] == '/')
		sl--;
	if (site != NULL && mail_from != NULL)
		len = snprintf(out, outlen, "<%.*s/api/unsubscribe/%s>, "
		    "<mailto:%s?subject=unsubscribe%%20%s>", (int)sl, site, token,
		    mail_from, token);
	else if (site != NULL)
		len = snprintf(out, outlen, "<%.*s/api/unsubscribe/%s>", (int)sl,
		    site, token);
	else if (mail_from != NULL)
		len = snprintf(out, outlen, "<mailto:%s?subject=unsubscribe%%20%s>",
		    mail_from, token);
	else
		return -1;
	return len > 0 && (size_t)len < outlen ? 0 : -1;
}

/*
 * The raw record of an inbox entry, kept in raw.db by receipt: the
 * entry's metadata (struct mh_entry_meta), then the request's body as it
 * came. Retention reads the head alone (MH_ENTRY_HEAD_MAX bytes).
 *
 *   byte 0        MH_ENTRY_V1
 *   bytes 1-8     received_ms, big-endian (two's complement)
 *   bytes 9-16    bytes (the body's size), big-endian
 *   byte 17       n, the provider's length; then n bytes
 *   byte          m, the remote address's length; then m bytes
 *   the body
 *
 * Records written before this layout start with '{': one line of the
 * fixed form {"provider":"P","received_at":"T","remote_addr":"A",
 * "received_ts":N,"bytes":N}, then '\n' and the body. They are read by
 * their fixed form, so that bodies kept across an upgrade can still be
 * pruned and derived again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

#define MH_ENTRY_V1 0x01
#define MH_ENTRY_FIXED 18	/* version, two numbers, the first length */

int
mh_entry_encode(const struct mh_entry_meta *meta, const void *body,
    size_t body_len, void **rec, size_t *len)
{
	size_t plen = strnlen(meta->provider, sizeof(meta->provider));
	size_t alen = strnlen(meta->remote_addr, sizeof(meta->remote_addr));
	size_t head = MH_ENTRY_FIXED + plen + 1 + alen;
	unsigned char *p;

	if (plen == sizeof(meta->provider) || alen == sizeof(meta->remote_addr)
	    || body_len > UINT32_MAX - head)
		return EINVAL;
	if ((p = malloc(head + body_len + 1)) == NULL)
		return ENOMEM;
	p[0] = MH_ENTRY_V1;
	mh_be64_put(p + 1, (uint64_t)meta->received_ms);
	mh_be64_put(p + 9, meta->bytes);
	p[17] = (unsigned char)plen;
	memcpy(p + MH_ENTRY_FIXED, meta->provider, plen);
	p[MH_ENTRY_FIXED + plen] = (unsigned char)alen;
	memcpy(p + MH_ENTRY_FIXED + plen + 1, meta->remote_addr, alen);
	if (body_len > 0)
		memcpy(p + head, body, body_len);
	*rec = p;
	*len = head + body_len;
	return 0;
}

/* Copies the string value of "key":"..." in line into out (cut to its
 * size; empty when absent). */
static void
mh_legacy_str(const char *line, const char *key, char *out, size_t outlen)
{
	const char *p = strstr(line, key), *end;

	out[0] = '\0';
	if (p == NULL || (end = strchr(p += strlen(key), '"')) == NULL)
		return;
	snprintf(out, outlen, "%.*s", (int)(end - p), p);
}

/* The number of "key":N in line, or 0. */
static int64_t
mh_legacy_num(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p != NULL ? strtoll(p + strlen(key), NULL, 10) : 0;
}

static int
mh_entry_decode_legacy(const char *rec, size_t len, struct mh_entry *e)
{
	const char *nl = memchr(rec, '\n', len);
	char line[MH_ENTRY_HEAD_MAX];

	if (nl == NULL || (size_t)(nl - rec) >= sizeof(line))
		return -1;
	memcpy(line, rec, (size_t)(nl - rec));
	line[nl - rec] = '\0';
	mh_legacy_str(line, "\"provider\":\"", e->meta.provider,
	    sizeof(e->meta.provider));
	mh_legacy_str(line, "\"remote_addr\":\"", e->meta.remote_addr,
	    sizeof(e->meta.remote_addr));
	e->meta.received_ms = mh_legacy_num(line, "\"received_ts\":") * 1000;
	e->meta.bytes = (uint64_t)mh_legacy_num(line, "\"bytes\":");
	e->body = nl + 1;
	e->body_len = len - (size_t)(nl - rec) - 1;
	return 0;
}

int
mh_entry_decode(const void *rec, size_t len, struct mh_entry *e)
{
	const unsigned char *p = rec;
	size_t plen, alen;

	memset(&e->meta, 0, sizeof(e->meta));
	e->sent_as = NULL;
	e->sent_ctx = NULL;
	if (len > 0 && p[0] == '{')
		return mh_entry_decode_legacy(rec, len, e);
	if (len < MH_ENTRY_FIXED || p[0] != MH_ENTRY_V1 ||
	    (plen = p[17]) >= sizeof(e->meta.provider) ||
	    len < MH_ENTRY_FIXED + plen + 1 ||
	    (alen = p[MH_ENTRY_FIXED + plen]) >= sizeof(e->meta.remote_addr) ||
	    len < MH_ENTRY_FIXED + plen + 1 + alen)
		return -1;
	e->meta.received_ms = (int64_t)mh_be64_get(p + 1);
	e->meta.bytes = mh_be64_get(p + 9);
	memcpy(e->meta.provider, p + MH_ENTRY_FIXED, plen);
	memcpy(e->meta.remote_addr, p + MH_ENTRY_FIXED + plen + 1, alen);
	e->body = (const char *)p + MH_ENTRY_FIXED + plen + 1 + alen;
	e->body_len = len - (MH_ENTRY_FIXED + plen + 1 + alen);
	return 0;
}

/*
 * Random secrets and what is kept of them: a session id or an API token
 * is 256 random bits in URL-safe base64 (a token behind its prefix, so
 * that a leaked one is recognised); only its SHA-256 is stored. The key
 * the WebSocket tickets are signed with lives in the data directory,
 * created once, readable by its owner alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "core.h"

static const char mh_b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
mh_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t got;

	while (n > 0) {
		if ((got = getrandom(p, n, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

size_t
mh_b64url(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	uint32_t v;

	for (size_t i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = mh_b64url_chars[v >> 18 & 63];
		out[o++] = mh_b64url_chars[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = mh_b64url_chars[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = mh_b64url_chars[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int
mh_b64url_value(int c)
{
	const char *p = c != '\0' ? strchr(mh_b64url_chars, c) : NULL;

	return p != NULL ? (int)(p - mh_b64url_chars) : -1;
}

long
mh_b64url_decode(const char *in, size_t len, unsigned char *out, size_t max)
{
	size_t o = 0, i;
	uint32_t v = 0;
	int bits = 0, d;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = mh_b64url_value((unsigned char)in[i])) < 0)
			return -1;
		v = (v << 6) | (uint32_t)d;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o == max)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	/* The bits left over are zero in the one text of these bytes. */
	return v == 0 ? (long)o : -1;
}

void
mh_sha256(const void *data, size_t n, unsigned char out[MH_HASH_LEN])
{
	SHA256(data, n, out);
}

int
mh_secret_new(const char *prefix, char *out, size_t outlen)
{
	unsigned char raw[MH_SECRET_BYTES];
	size_t plen = strlen(prefix);

	if (outlen < plen + MH_SECRET_B64 + 1 || mh_random(raw, sizeof(raw)))
		return -1;
	memcpy(out, prefix, plen);
	mh_b64url(raw, sizeof(raw), out + plen);
	return 0;
}

int
mh_secret_shaped(const char *text, const char *prefix)
{
	size_t plen = strlen(prefix);

	return text != NULL && strncmp(text, prefix, plen) == 0 &&
	    strlen(text + plen) == MH_SECRET_B64 &&
	    strspn(text + plen, mh_b64url_chars) == MH_SECRET_B64;
}

/* Reads the key at path; -1 with errno. */
static int
mh_key_read(const char *path, unsigned char key[MH_SECRET_BYTES])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, key, MH_SECRET_BYTES);
	close(fd);
	if (n != MH_SECRET_BYTES) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Creates the key at path whole (written apart, then linked to its name,
 * so that no reader sees half of one); another process may have been
 * first, and its key is the one. */
static int
mh_key_create(const char *path, unsigned char key[MH_SECRET_BYTES])
{
	char tmp[4200];
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if (mh_random(key, MH_SECRET_BYTES) != 0 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	ok = write(fd, key, MH_SECRET_BYTES) == MH_SECRET_BYTES &&
	    fsync(fd) == 0;
	close(fd);
	if (ok && link(tmp, path) != 0 && errno != EEXIST)
		ok = 0;
	unlink(tmp);
	return ok ? mh_key_read(path, key) : -1;
}

int
mh_key_file(const char *home, const char *name,
    unsigned char key[MH_SECRET_BYTES])
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", home, name) >=
	    sizeof(path))
		return -1;
	if (mh_key_read(path, key) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return mh_key_create(path, key);
}

int
mh_ticket_key(const char *home, unsigned char key[MH_SECRET_BYTES])
{
	return mh_key_file(home, "ticket.key", key);
}

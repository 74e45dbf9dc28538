/*
 * A WebSocket text frame as the relay sends it (server to client: not
 * masked), built in its own buffers so that several go out in one write.
 */
#include <string.h>

#include "relay.h"

void
mh_frame(unsigned char *out, size_t *used, const unsigned char *data,
    size_t len)
{
	unsigned char *p = out + *used;

	*p++ = 0x81;		/* FIN, text */
	if (len < 126) {
		*p++ = (unsigned char)len;
	} else if (len <= 0xffff) {
		*p++ = 126;
		*p++ = (unsigned char)(len >> 8);
		*p++ = (unsigned char)len;
	} else {
		*p++ = 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			*p++ = (unsigned char)((uint64_t)len >> shift);
	}
	memcpy(p, data, len);
	*used = (size_t)(p - out) + len;
}

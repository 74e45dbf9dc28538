/*
 * A small record's binary layout, declared as a table of its fields
 * (struct mh_layout): big-endian numbers and fixed bytes in the table's
 * order, then at most one NUL-terminated text. The accounts' records
 * (users, sessions, tokens) and the sender's note are each one table
 * here, encoded and checked by the same two functions.
 */
#include <string.h>

#include "store-private.h"

/* The stored size of a slot (a text: its most, its NUL included). */
static size_t
mh_slot_size(const struct mh_slot *s)
{
	switch (s->kind) {
	case MH_SLOT_BYTE:
	case MH_SLOT_FLAG:
		return 1;
	case MH_SLOT_U32:
		return 4;
	case MH_SLOT_I64:
		return 8;
	case MH_SLOT_BYTES:
	case MH_SLOT_TEXT:
		return s->max;
	}
	return 0;
}

size_t
mh_layout_offset(const struct mh_layout *l, size_t slot)
{
	size_t at = 0;

	for (size_t i = 0; i < slot && i < l->n; i++)
		at += mh_slot_size(&l->slot[i]);
	return at;
}

size_t
mh_layout_size(const struct mh_layout *l)
{
	return mh_layout_offset(l, l->n);
}

size_t
mh_layout_encode(const struct mh_layout *l, const void *rec,
    unsigned char *buf)
{
	const unsigned char *r = rec;
	size_t at = 0, n;

	for (size_t i = 0; i < l->n; i++) {
		const struct mh_slot *s = &l->slot[i];
		const void *f = r + s->at;

		switch (s->kind) {
		case MH_SLOT_BYTE:
			buf[at] = (unsigned char)*(const int *)f;
			break;
		case MH_SLOT_FLAG:
			buf[at] = *(const int *)f != 0;
			break;
		case MH_SLOT_U32:
			mh_be32_put(buf + at, *(const uint32_t *)f);
			break;
		case MH_SLOT_I64:
			mh_be64_put(buf + at, (uint64_t)*(const int64_t *)f);
			break;
		case MH_SLOT_BYTES:
			memcpy(buf + at, f, s->max);
			break;
		case MH_SLOT_TEXT:
			n = strnlen(f, s->max - 1);
			memcpy(buf + at, f, n);
			buf[at + n] = '\0';
			return at + n + 1;
		}
		at += mh_slot_size(s);
	}
	return at;
}

int
mh_layout_decode(const struct mh_layout *l, const unsigned char *buf,
    size_t len, void *rec)
{
	unsigned char *r = rec;
	size_t at = 0, n;

	for (size_t i = 0; i < l->n; i++) {
		const struct mh_slot *s = &l->slot[i];
		void *f = r + s->at;

		if (s->kind == MH_SLOT_TEXT) {
			/* The rest: one text, its NUL last, none before. */
			if (len <= at || len - at > s->max ||
			    buf[len - 1] != '\0' ||
			    (n = strlen((const char *)buf + at)) != len - at - 1 ||
			    (n == 0 && s->max > 0 && l->text_required))
				return -1;
			memcpy(f, buf + at, n + 1);
			return 0;
		}
		if (len < at + mh_slot_size(s))
			return -1;
		switch (s->kind) {
		case MH_SLOT_BYTE:
			if (buf[at] > s->max)
				return -1;
			*(int *)f = buf[at];
			break;
		case MH_SLOT_FLAG:
			*(int *)f = buf[at];
			break;
		case MH_SLOT_U32:
			*(uint32_t *)f = mh_be32_get(buf + at);
			break;
		case MH_SLOT_I64:
			*(int64_t *)f = (int64_t)mh_be64_get(buf + at);
			break;
		case MH_SLOT_BYTES:
			memcpy(f, buf + at, s->max);
			break;
		case MH_SLOT_TEXT:
			break;
		}
		at += mh_slot_size(s);
	}
	return len == at ? 0 : -1;
}

/*
 * JSON's syntax (RFC 8259), checked strictly before json-c parses the text:
 * json-c's strict mode still takes NaN, Infinity, single-quoted strings and
 * \u0000 (which cuts a string short), and a number too large for a double
 * becomes Infinity, which it then prints as no JSON parser reads. Pure: a
 * walk over the bytes, no allocation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct mh_jc {
	const unsigned char *p, *end, *start;
	int depth, max_depth;
	char *why;
	size_t whylen;
};

static int mh_jc_value(struct mh_jc *c);

/* Says what is wrong at the current byte; returns -1. */
static int
mh_jc_fail(struct mh_jc *c, const char *what)
{
	if (c->p >= c->end)
		snprintf(c->why, c->whylen, "JSON is truncated: it ends inside "
		    "a value at byte %zu", (size_t)(c->end - c->start));
	else
		snprintf(c->why, c->whylen, "invalid JSON at byte %zu: %s",
		    (size_t)(c->p - c->start), what);
	return -1;
}

static void
mh_jc_space(struct mh_jc *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* Four hex digits into *v. */
static int
mh_jc_hex4(struct mh_jc *c, unsigned *v)
{
	*v = 0;
	if (c->end - c->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = mh_hexval(c->p[i]);

		if (h < 0)
			return -1;
		*v = *v << 4 | (unsigned)h;
	}
	c->p += 4;
	return 0;
}

/* An escape after the backslash; \u0000 and unpaired surrogates refused. */
static int
mh_jc_escape(struct mh_jc *c)
{
	unsigned u, lo;

	if (c->p >= c->end)
		return mh_jc_fail(c, "a string ends inside an escape");
	if (strchr("\"\\/bfnrt", *c->p) != NULL && *c->p != '\0') {
		c->p++;
		return 0;
	}
	if (*c->p++ != 'u' || mh_jc_hex4(c, &u) != 0)
		return mh_jc_fail(c, "a malformed escape");
	if (u == 0)
		return mh_jc_fail(c, "\\u0000 in a string");
	if (u >= 0xdc00 && u <= 0xdfff)
		return mh_jc_fail(c, "an unpaired surrogate escape");
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
		return mh_jc_fail(c, "an unpaired surrogate escape");
	c->p += 2;
	if (mh_jc_hex4(c, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
		return mh_jc_fail(c, "an unpaired surrogate escape");
	return 0;
}

/* One UTF-8 sequence starting at a byte of 0x80 or more: shortest form,
 * no surrogates, at most U+10FFFF. */
static int
mh_jc_utf8(struct mh_jc *c)
{
	unsigned char b = *c->p;
	unsigned cp, n;

	if (b >= 0xc2 && b <= 0xdf)
		n = 1, cp = b & 0x1f;
	else if (b >= 0xe0 && b <= 0xef)
		n = 2, cp = b & 0x0f;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 3, cp = b & 0x07;
	else
		return mh_jc_fail(c, "invalid UTF-8");
	if ((size_t)(c->end - c->p) <= n)
		return mh_jc_fail(c, "invalid UTF-8");
	for (unsigned i = 1; i <= n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return mh_jc_fail(c, "invalid UTF-8");
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return mh_jc_fail(c, "invalid UTF-8");
	c->p += n + 1;
	return 0;
}

static int
mh_jc_string(struct mh_jc *c)
{
	c->p++;		/* the opening quote */
	while (c->p < c->end) {
		unsigned char b = *c->p;

		if (b == '"') {
			c->p++;
			return 0;
		}
		if (b < 0x20)
			return mh_jc_fail(c, "a control character in a string");
		if (b == '\\') {
			c->p++;
			if (mh_jc_escape(c) != 0)
				return -1;
		} else if (b >= 0x80) {
			if (mh_jc_utf8(c) != 0)
				return -1;
		} else
			c->p++;
	}
	return mh_jc_fail(c, "a string is not closed");
}

static void
mh_jc_digits(struct mh_jc *c)
{
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
		c->p++;
}

/* Whether the integer of n digits at p (after any minus) is one json-c
 * keeps as it is: within int64 when negative, uint64 otherwise. It clamps
 * the rest, and two ids past the limit would become one. */
static int
mh_jc_integer_fits(const unsigned char *p, size_t n, int negative)
{
	const char *max = negative ? "9223372036854775808" :
	    "18446744073709551615";
	size_t mlen = strlen(max);

	return n < mlen || (n == mlen && memcmp(p, max, n) <= 0);
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, finite as a double, and
 * an integer within what json-c keeps. */
static int
mh_jc_number(struct mh_jc *c)
{
	const unsigned char *start = c->p, *digits;
	int negative = *c->p == '-', integer = 1;
	char buf[64];
	size_t n;

	if (*c->p == '-')
		c->p++;
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return mh_jc_fail(c, "not a value");
	digits = c->p;
	if (*c->p++ != '0')
		mh_jc_digits(c);
	if ((c->p >= c->end || (*c->p != '.' && *c->p != 'e' &&
	    *c->p != 'E')) && !mh_jc_integer_fits(digits,
	    (size_t)(c->p - digits), negative))
		return mh_jc_fail(c, "an integer too large");
	if (c->p < c->end && *c->p == '.') {
		integer = 0;
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return mh_jc_fail(c, "a number without digits after '.'");
		mh_jc_digits(c);
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		integer = 0;
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return mh_jc_fail(c, "a number without exponent digits");
		mh_jc_digits(c);
	}
	if (integer)
		return 0;
	/* Too large for a double: long numbers are read whole. */
	n = (size_t)(c->p - start);
	if (n >= sizeof(buf))
		return mh_jc_fail(c, "a number too long");
	memcpy(buf, start, n);
	buf[n] = '\0';
	if (!isfinite(strtod(buf, NULL)))
		return mh_jc_fail(c, "a number too large");
	return 0;
}

static int
mh_jc_word(struct mh_jc *c, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return mh_jc_fail(c, "not a value");
	c->p += n;
	return 0;
}

/* An array or object's members, after the opening bracket. */
static int
mh_jc_members(struct mh_jc *c, int object)
{
	unsigned char close = object ? '}' : ']';

	if (++c->depth > c->max_depth)
		return mh_jc_fail(c, "nested too deep");
	c->p++;
	mh_jc_space(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return 0;
	}
	for (;;) {
		mh_jc_space(c);
		if (object) {
			if (c->p >= c->end || *c->p != '"')
				return mh_jc_fail(c, "a member's name must be a "
				    "string");
			if (mh_jc_string(c) != 0)
				return -1;
			mh_jc_space(c);
			if (c->p >= c->end || *c->p++ != ':')
				return mh_jc_fail(c, "':' expected");
		}
		if (mh_jc_value(c) != 0)
			return -1;
		mh_jc_space(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			c->depth--;
			return 0;
		}
		return mh_jc_fail(c, object ? "',' or '}' expected" :
		    "',' or ']' expected");
	}
}

static int
mh_jc_value(struct mh_jc *c)
{
	mh_jc_space(c);
	if (c->p >= c->end)
		return mh_jc_fail(c, "the text ends where a value should be");
	switch (*c->p) {
	case '{':
		return mh_jc_members(c, 1);
	case '[':
		return mh_jc_members(c, 0);
	case '"':
		return mh_jc_string(c);
	case 't':
		return mh_jc_word(c, "true");
	case 'f':
		return mh_jc_word(c, "false");
	case 'n':
		return mh_jc_word(c, "null");
	default:
		return mh_jc_number(c);
	}
}

int
mh_json_check(const char *text, size_t len, int max_depth, char *why,
    size_t whylen)
{
	struct mh_jc c = { (const unsigned char *)text,
	    (const unsigned char *)text + len, (const unsigned char *)text, 0,
	    max_depth, why, whylen };

	if (mh_jc_value(&c) != 0)
		return -1;
	mh_jc_space(&c);
	if (c.p != c.end)
		return mh_jc_fail(&c, "unexpected data after the value");
	return 0;
}

/* Walks len bytes of text as UTF-8: 1 when all of it is; with scrub,
 * each byte that begins no valid sequence becomes '?' and the walk goes
 * on (text is then the caller's to change). */
static int
mh_utf8_walk(const char *text, size_t len, int scrub)
{
	struct mh_jc c = { (const unsigned char *)text,
	    (const unsigned char *)text + len, (const unsigned char *)text, 0, 0,
	    NULL, 0 };
	char why[8];
	int valid = 1;

	c.why = why;
	c.whylen = sizeof(why);
	while (c.p < c.end) {
		const unsigned char *at = c.p;

		if (*c.p < 0x80)
			c.p++;
		else if (mh_jc_utf8(&c) != 0) {
			valid = 0;
			if (!scrub)
				break;
			((char *)text)[at - (const unsigned char *)text] = '?';
			c.p = at + 1;
		}
	}
	return valid;
}

int
mh_utf8_valid(const char *text, size_t len)
{
	return mh_utf8_walk(text, len, 0);
}

void
mh_utf8_scrub(char *text)
{
	mh_utf8_walk(text, strlen(text), 1);
}

size_t
mh_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int
mh_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

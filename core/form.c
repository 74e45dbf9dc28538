/*
 * application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte,
 * anything else after '%' is an error rather than a guess. A key seen twice
 * is refused: the signature and the parser must agree on one value. A
 * query string is read the same way, one field at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

long
mh_percent_decode(char *s, size_t len, int plus)
{
	size_t in = 0, out = 0;

	while (in < len) {
		if (s[in] == '%') {
			int hi, lo;

			if (len - in < 3 ||
			    (hi = mh_hexval((unsigned char)s[in + 1])) < 0 ||
			    (lo = mh_hexval((unsigned char)s[in + 2])) < 0)
				return -1;
			s[out++] = (char)(hi << 4 | lo);
			in += 3;
		} else {
			s[out++] = (plus && s[in] == '+') ? ' ' : s[in];
			in++;
		}
	}
	s[out] = '\0';
	return (long)out;
}

static int
mh_field_cmp(const void *a, const void *b)
{
	const struct mh_form_field *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

enum mh_form_err
mh_form_parse(const char *body, size_t len, struct mh_form *out)
{
	size_t pos = 0, cap = 0;
	struct mh_form_field *nf;

	out->fields = NULL;
	out->count = 0;
	while (pos < len) {
		const char *amp = memchr(body + pos, '&', len - pos);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + pos, '=', end - pos);
		size_t klen = eq ? (size_t)(eq - body) - pos : end - pos;
		size_t vstart = eq ? (size_t)(eq - body) + 1 : end;
		struct mh_form_field *f;
		long n;

		if (end == pos) {	/* "a=1&&b=2": an empty pair is skipped */
			pos++;
			continue;
		}
		if (klen == 0)
			return MH_FORM_EMPTY_KEY;
		if (out->count == cap) {
			cap = cap ? cap * 2 : 4;
			nf = mh_realloc(out->fields, cap * sizeof(*nf));
			if (nf == NULL)
				return MH_FORM_NOMEM;
			out->fields = nf;
		}
		f = &out->fields[out->count];
		f->key_len = f->value_len = 0;	/* what an error leaves is whole */
		f->key = mh_strndup(body + pos, klen);
		f->value = mh_strndup(body + vstart, end - vstart);
		if (f->key == NULL || f->value == NULL) {
			free(f->key);
			free(f->value);
			return MH_FORM_NOMEM;
		}
		out->count++;
		if ((n = mh_percent_decode(f->key, klen, 1)) < 0)
			return MH_FORM_BAD_ESCAPE;
		f->key_len = (size_t)n;
		if ((n = mh_percent_decode(f->value, end - vstart, 1)) < 0)
			return MH_FORM_BAD_ESCAPE;
		f->value_len = (size_t)n;
		if (f->key_len == 0)
			return MH_FORM_EMPTY_KEY;
		pos = amp ? end + 1 : len;
	}
	if (out->count > 1)
		qsort(out->fields, out->count, sizeof(*out->fields),
		    mh_field_cmp);
	for (size_t i = 1; i < out->count; i++)
		if (mh_field_cmp(&out->fields[i - 1], &out->fields[i]) == 0)
			return MH_FORM_DUP_KEY;
	return MH_FORM_OK;
}

const struct mh_form_field *
mh_form_get(const struct mh_form *f, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < f->count; i++)
		if (f->fields[i].key_len == klen &&
		    memcmp(f->fields[i].key, key, klen) == 0)
			return &f->fields[i];
	return NULL;
}

void
mh_form_free(struct mh_form *f)
{
	for (size_t i = 0; i < f->count; i++) {
		free(f->fields[i].key);
		free(f->fields[i].value);
	}
	free(f->fields);
	f->fields = NULL;
	f->count = 0;
}

const char *
mh_form_strerror(enum mh_form_err err)
{
	switch (err) {
	case MH_FORM_OK:
		return "ok";
	case MH_FORM_BAD_ESCAPE:
		return "malformed percent-escape: '%' must be followed by two hex digits";
	case MH_FORM_EMPTY_KEY:
		return "a form field has an empty name";
	case MH_FORM_DUP_KEY:
		return "a form field appears more than once";
	case MH_FORM_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}

/* Whether the field p (len bytes, "key=value" or "key") is name's: 1, 0,
 * or -1 out of memory. */
static int
mh_query_field_is(const char *p, size_t len, const char *name)
{
	const char *eq = memchr(p, '=', len);
	size_t klen = eq ? (size_t)(eq - p) : len;
	char *key = mh_strndup(p, klen);
	long k;
	int is;

	if (key == NULL)
		return -1;
	k = mh_percent_decode(key, klen, 1);
	is = k >= 0 && (size_t)k == strlen(name) && memcmp(key, name,
	    (size_t)k) == 0;
	free(key);
	return is;
}

char *
mh_query_get(const char *query, const char *name, int *bad)
{
	const char *p = query, *found = NULL, *eq;
	size_t flen = 0, vlen;
	char *val;

	*bad = 0;
	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		int is = mh_query_field_is(p, len, name);

		if (is < 0 || (is > 0 && found != NULL)) {
			*bad = is < 0 ? MH_QUERY_MALFORMED : MH_QUERY_REPEATED;
			return NULL;
		}
		if (is > 0) {
			found = p;
			flen = len;
		}
		p = amp ? amp + 1 : NULL;
	}
	if (found == NULL)
		return NULL;
	eq = memchr(found, '=', flen);
	vlen = eq ? flen - (size_t)(eq - found) - 1 : 0;
	if ((val = mh_strndup(eq ? eq + 1 : "", vlen)) == NULL ||
	    mh_percent_decode(val, vlen, 1) < 0) {
		free(val);
		*bad = MH_QUERY_MALFORMED;
		return NULL;
	}
	return val;
}

int
mh_media_type_is(const char *ctype, const char *type)
{
	size_t n = strlen(type);

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	if (strncasecmp(ctype, type, n) != 0)
		return 0;
	ctype += n;
	while (*ctype == ' ')
		ctype++;
	return *ctype == '\0' || *ctype == ';';
}

/*
 * Python literals, as repr() writes them, parsed into JSON values: senders
 * put str(dict) where JSON was meant (Infobip's callbackData in the wild).
 * Dicts, lists, tuples, str ('...' or "...", with \\, \', \n, \xHH, \uXXXX
 * and \UXXXXXXXX escapes, surrogate pairs joined), int, float, True, False
 * and None. Anything else is refused, never guessed. Pure: no I/O.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"

#define MH_PY_MAX_DEPTH 32

struct mh_py {
	const char *p, *end;
	int depth;
};

static int mh_py_value(struct mh_py *py, struct json_object **out);

static void
mh_py_space(struct mh_py *py)
{
	while (py->p < py->end && strchr(" \t\r\n", *py->p) != NULL)
		py->p++;
}

static int
mh_py_hex(struct mh_py *py, int digits, uint32_t *out)
{
	uint32_t v = 0;

	if (py->end - py->p < digits)
		return -1;
	for (int i = 0; i < digits; i++) {
		int h = mh_hexval((unsigned char)py->p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	py->p += digits;
	*out = v;
	return 0;
}

/* Appends code point cp as UTF-8; surrogates and values past U+10FFFF are
 * not characters. */
static int
mh_utf8_put(struct printbuf *pb, uint32_t cp)
{
	char b[4];
	int n;

	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	printbuf_memappend(pb, b, n);
	return 0;
}

/* One escape after a backslash, appended to pb. */
static int
mh_py_escape(struct mh_py *py, struct printbuf *pb)
{
	static const char simple[] = "\\\\''\"\"n\nr\rt\tb\bf\fv\va\a";
	uint32_t cp, lo;
	char c;

	if (py->p >= py->end)
		return -1;
	c = *py->p++;
	for (size_t i = 0; simple[i] != '\0'; i += 2)
		if (simple[i] == c) {
			printbuf_memappend(pb, &simple[i + 1], 1);
			return 0;
		}
	if (c == 'x')
		return mh_py_hex(py, 2, &cp) ? -1 : mh_utf8_put(pb, cp);
	if (c == 'U')
		return mh_py_hex(py, 8, &cp) ? -1 : mh_utf8_put(pb, cp);
	if (c != 'u' || mh_py_hex(py, 4, &cp) != 0)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate is a character only with its low half. */
		if (py->end - py->p < 6 || py->p[0] != '\\' || py->p[1] != 'u')
			return -1;
		py->p += 2;
		if (mh_py_hex(py, 4, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return mh_utf8_put(pb, cp);
}

static struct json_object *
mh_py_string(struct mh_py *py)
{
	struct printbuf *pb;
	struct json_object *s = NULL;
	char quote;

	if (*py->p == 'u' || *py->p == 'U')
		py->p++;
	if (py->p >= py->end || (*py->p != '\'' && *py->p != '"'))
		return NULL;
	quote = *py->p++;
	if ((pb = printbuf_new()) == NULL)
		return NULL;
	while (py->p < py->end && *py->p != quote) {
		if (*py->p == '\n')
			goto out;
		if (*py->p == '\\') {
			py->p++;
			if (mh_py_escape(py, pb) != 0)
				goto out;
		} else
			printbuf_memappend(pb, py->p++, 1);
	}
	if (py->p >= py->end)
		goto out;
	py->p++;
	s = json_object_new_string_len(pb->buf, pb->bpos);
out:
	printbuf_free(pb);
	return s;
}

static struct json_object *
mh_py_number(struct mh_py *py)
{
	const char *start = py->p;
	char buf[64], *end;
	int is_float = 0;
	size_t n;

	if (py->p < py->end && (*py->p == '-' || *py->p == '+'))
		py->p++;
	while (py->p < py->end && strchr("0123456789.eE+-_", *py->p) != NULL) {
		if (strchr(".eE", *py->p) != NULL)
			is_float = 1;
		py->p++;
	}
	n = (size_t)(py->p - start);
	if (n == 0 || n >= sizeof(buf) || memchr(start, '_', n) != NULL)
		return NULL;
	memcpy(buf, start, n);
	buf[n] = '\0';
	errno = 0;
	if (!is_float) {
		long long v = strtoll(buf, &end, 10);

		if (errno == 0 && *end == '\0' && end != buf)
			return json_object_new_int64(v);
	}
	errno = 0;
	{
		double d = strtod(buf, &end);

		if (errno != 0 || *end != '\0' || !isfinite(d))
			return NULL;
		return json_object_new_double(d);
	}
}

/* A dict, list or tuple: items separated by commas, a trailing comma
 * allowed; dicts have key: value items. */
static int
mh_py_container(struct mh_py *py, char close, int dict,
    struct json_object **out)
{
	struct json_object *c, *k = NULL, *v;

	if (++py->depth > MH_PY_MAX_DEPTH)
		return -1;
	c = dict ? json_object_new_object() : json_object_new_array();
	py->p++;
	for (;;) {
		mh_py_space(py);
		if (py->p < py->end && *py->p == close) {
			py->p++;
			py->depth--;
			*out = c;
			return 0;
		}
		if (dict) {
			if (mh_py_value(py, &k) != 0 || k == NULL)
				goto err;
			mh_py_space(py);
			if (py->p >= py->end || *py->p != ':')
				goto err;
			py->p++;
		}
		if (mh_py_value(py, &v) != 0)
			goto err;
		if (dict) {
			/* JSON keys are strings: 3 and '3' name the same. */
			json_object_object_add(c, json_object_get_string(k), v);
			json_object_put(k);
			k = NULL;
		} else
			json_object_array_add(c, v);
		mh_py_space(py);
		if (py->p < py->end && *py->p == ',')
			py->p++;
		else if (py->p >= py->end || *py->p != close)
			goto err;
	}
err:
	json_object_put(k);
	json_object_put(c);
	return -1;
}

static int
mh_py_word(struct mh_py *py, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(py->end - py->p) < n || memcmp(py->p, w, n) != 0)
		return 0;
	if ((size_t)(py->end - py->p) > n &&
	    strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
	    py->p[n]) != NULL)
		return 0;
	py->p += n;
	return 1;
}

/* Parses one value into *out (NULL for None, which is JSON's null);
 * returns -1 when the text is no Python literal. */
static int
mh_py_value(struct mh_py *py, struct json_object **out)
{
	*out = NULL;
	mh_py_space(py);
	if (py->p >= py->end)
		return -1;
	switch (*py->p) {
	case '{':
		return mh_py_container(py, '}', 1, out);
	case '[':
		return mh_py_container(py, ']', 0, out);
	case '(':
		return mh_py_container(py, ')', 0, out);
	case '\'':
	case '"':
	case 'u':
	case 'U':
		*out = mh_py_string(py);
		return *out == NULL ? -1 : 0;
	default:
		break;
	}
	if (mh_py_word(py, "True"))
		*out = json_object_new_boolean(1);
	else if (mh_py_word(py, "False"))
		*out = json_object_new_boolean(0);
	else if (mh_py_word(py, "None"))
		return 0;
	else
		*out = mh_py_number(py);
	return *out == NULL ? -1 : 0;
}

int
mh_pyrepr_parse(const char *text, size_t len, struct json_object **out)
{
	struct mh_py py = { text, text + len, 0 };

	/* What it makes is JSON text: UTF-8, with no NUL (which would cut a
	 * string short where it is read). */
	*out = NULL;
	if (!mh_utf8_valid(text, len) || memchr(text, '\0', len) != NULL ||
	    mh_py_value(&py, out) != 0)
		return -1;
	mh_py_space(&py);
	if (py.p != py.end) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

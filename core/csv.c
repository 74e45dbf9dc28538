/*
 * CSV both ways (RFC 4180), pure: a field written for a spreadsheet to
 * read as text, and the next record of an uploaded file read into its
 * fields.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"

void
mh_csv_field(struct mh_buf *b, const char *v, int first)
{
	if (!first)
		mh_buf_str(b, ",");
	if (v == NULL)
		return;
	if (v[0] != '\0' && strchr("=+-@\t\r", v[0]) != NULL) {
		mh_buf_str(b, "\"'");
	} else if (strpbrk(v, ",\"\r\n") != NULL) {
		mh_buf_str(b, "\"");
	} else {
		mh_buf_str(b, v);
		return;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"')
			mh_buf_str(b, "\"");	/* a quote doubled */
		mh_buf_add(b, p, 1);
	}
	mh_buf_str(b, "\"");
}

/* Reads one quoted field's body from just past its opening quote: into
 * out, up to its closing quote; *lines counts the line breaks in it. -1
 * when it never closes. */
static int
mh_csv_quoted(const char **p, const char *end, struct mh_buf *out,
    size_t *lines)
{
	const char *s = *p;

	for (;;) {
		const char *q = memchr(s, '"', (size_t)(end - s));

		if (q == NULL)
			return -1;
		for (const char *c = s; c < q; c++)
			*lines += *c == '\n';
		mh_buf_add(out, s, (size_t)(q - s));
		if (q + 1 < end && q[1] == '"') {
			mh_buf_add(out, "\"", 1);
			s = q + 2;
			continue;
		}
		*p = q + 1;
		return 0;
	}
}

int
mh_csv_next(const char **p, const char *end, struct mh_csv_record *rec,
    char *why, size_t whylen)
{
	const char *s = *p;
	size_t starts[MH_CSV_FIELDS_MAX];

	rec->buf.len = 0;
	rec->n = 0;
	rec->lines = 0;
	if (s >= end)
		return 0;
	for (;;) {
		if (rec->n == MH_CSV_FIELDS_MAX) {
			snprintf(why, whylen, "has more than %d fields",
			    MH_CSV_FIELDS_MAX);
			goto bad;
		}
		starts[rec->n++] = rec->buf.len;
		if (s < end && *s == '"') {
			s++;
			if (mh_csv_quoted(&s, end, &rec->buf, &rec->lines) != 0) {
				snprintf(why, whylen, "has a quoted field that "
				    "never closes");
				goto bad;
			}
		} else {
			size_t n = 0;

			while (s + n < end && s[n] != ',' && s[n] != '\r' &&
			    s[n] != '\n')
				n++;
			if (memchr(s, '"', n) != NULL) {
				snprintf(why, whylen, "has a quote inside a field "
				    "that is not quoted");
				goto bad;
			}
			mh_buf_add(&rec->buf, s, n);
			s += n;
		}
		mh_buf_add(&rec->buf, "", 1);	/* each field NUL-ended */
		if (s < end && *s == ',') {
			s++;
			continue;
		}
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n')
			s++;
		else if (s < end) {
			snprintf(why, whylen, "has text after a quoted field");
			goto bad;
		}
		break;
	}
	rec->lines++;
	if (rec->buf.failed) {
		snprintf(why, whylen, "could not be read (out of memory)");
		goto bad;
	}
	for (size_t i = 0; i < rec->n; i++)
		rec->cell[i] = rec->buf.p + starts[i];
	*p = s;
	return 1;
bad:
	/* The rest of the line is skipped: the next record follows it. */
	while (s < end && *s != '\n')
		s++;
	*p = s < end ? s + 1 : end;
	rec->lines++;
	return -1;
}

/*
 * CSV both ways (core/csv.c) and an import's rows (core/client_import.c):
 * records read with quotes, doubled quotes, line breaks inside quotes,
 * CRLF and a last line without one; malformed records refused with why
 * and the reading going on at the next line; the header's columns; rows
 * made into clients' objects; and a field written back read the same.
 */
#include <stdlib.h>

#include <json-c/json.h>

#include "tap.h"
#include "core/core.h"

/* Reads every record of text; their fields joined by '|', records by
 * '/', a malformed one as '!'. */
static void
read_all(const char *text, char *out, size_t cap)
{
	const char *p = text, *end = text + strlen(text);
	struct mh_csv_record rec = { .buf = { 0 } };
	char why[200];
	size_t o = 0;
	int got;

	out[0] = '\0';
	while ((got = mh_csv_next(&p, end, &rec, why, sizeof(why))) != 0) {
		if (o > 0)
			o += (size_t)snprintf(out + o, cap - o, "/");
		if (got < 0)
			o += (size_t)snprintf(out + o, cap - o, "!");
		for (size_t i = 0; got > 0 && i < rec.n; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "|" :
			    "", rec.cell[i]);
	}
	free(rec.buf.p);
}

static void
test_read(void)
{
	static const struct { const char *in, *want, *name; } cases[] = {
		{ "a,b,c\n1,2,3\n", "a|b|c/1|2|3", "plain, LF" },
		{ "a,b\r\n1,2", "a|b/1|2", "CRLF, the last line without one" },
		{ "\"x, y\",\"say \"\"hi\"\"\"\n", "x, y|say \"hi\"",
		    "quoted: a comma, doubled quotes" },
		{ "\"two\nlines\",z\nnext,1\n", "two\nlines|z/next|1",
		    "a line break inside quotes" },
		{ ",,\n", "||", "empty fields" },
		{ "a\"b,c\nok,1\n", "!/ok|1", "a quote in an unquoted field: "
		    "refused, the next line read" },
		{ "\"x\"y,1\nok\n", "!/ok", "text after a closing quote" },
		{ "\"never,1\nok\n", "!/ok", "a quote that never closes: "
		    "refused, the next line read" },
	};
	char got[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_all(cases[i].in, got, sizeof(got));
		is_str(got, cases[i].want, "%s", cases[i].name);
	}
}

static void
test_lines(void)
{
	const char *text = "h\n\"a\nb\"\nc\n";
	const char *p = text, *end = text + strlen(text);
	struct mh_csv_record rec = { .buf = { 0 } };
	char why[200];
	size_t lines[3];

	for (int i = 0; i < 3; i++) {
		mh_csv_next(&p, end, &rec, why, sizeof(why));
		lines[i] = rec.lines;
	}
	ok(lines[0] == 1 && lines[1] == 2 && lines[2] == 1,
	    "each record counts the lines it takes (%zu %zu %zu)", lines[0],
	    lines[1], lines[2]);
	free(rec.buf.p);
}

/* The client object of one row under a header; NULL with why. */
static struct json_object *
row(const char *header, const char *line, char *why, size_t whylen)
{
	char text[512];
	const char *p = text, *end;
	struct mh_csv_record rec = { .buf = { 0 } };
	struct mh_import_header h;
	struct json_object *c = NULL;

	snprintf(text, sizeof(text), "%s\n%s\n", header, line);
	end = text + strlen(text);
	mh_csv_next(&p, end, &rec, why, whylen);
	if (mh_import_header(&rec, &h, why, whylen) == 0 &&
	    mh_csv_next(&p, end, &rec, why, whylen) == 1)
		c = mh_import_csv_client(&h, &rec, why, whylen);
	free(rec.buf.p);
	return c;
}

static void
test_rows(void)
{
	struct json_object *c;
	char why[300];

	c = row("Phone,tags,timezone,email,operator_code,id",
	    "+7 900 555 12 34, vip ; beta;;,UTC,,,42", why, sizeof(why));
	ok(c != NULL, "a row under the import's header (any case, the "
	    "export's id passed over)");
	is_str(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN),
	    "{\"phone\":\"+7 900 555 12 34\",\"tags\":[\"vip\",\"beta\"],"
	    "\"timezone\":\"UTC\"}", "... tags ; apart and trimmed, empty cells "
	    "not given");
	json_object_put(c);
	c = row("phone,timezone,opted_out", "1,UTC,maybe", why, sizeof(why));
	ok(c == NULL && strstr(why, "opted_out is true or false") != NULL,
	    "opted_out neither true nor false: refused (%s)", why);
	c = row("phone,timezone", "1,UTC,extra", why, sizeof(why));
	ok(c == NULL && strstr(why, "has 3 fields where the header has 2"),
	    "a row of another width: refused (%s)", why);
	c = row("phone,timezone", "\xd3x,UTC", why, sizeof(why));
	ok(c == NULL && strstr(why, "phone is not UTF-8") != NULL,
	    "a cell that is not UTF-8: refused (%s)", why);
	c = row("phone,mobile,timezone", "1,2,UTC", why, sizeof(why));
	ok(c == NULL && strstr(why, "column 2, \"mobile\", is not one of"),
	    "a column of another name: refused (%s)", why);
	c = row("phone,tags", "1,x", why, sizeof(why));
	ok(c == NULL && strstr(why, "names no timezone column"),
	    "no time zone column: refused (%s)", why);
}

static void
test_write(void)
{
	struct mh_buf b = { 0 };
	char got[256];

	mh_csv_field(&b, "plain", 1);
	mh_csv_field(&b, "a, \"b\"", 0);
	mh_csv_field(&b, "=cmd()", 0);
	mh_csv_field(&b, NULL, 0);
	mh_buf_add(&b, "\n", 2);
	is_str(b.p, "plain,\"a, \"\"b\"\"\",\"'=cmd()\",\n", "fields written: "
	    "quoted when they must be, a formula made text");
	read_all(b.p, got, sizeof(got));
	is_str(got, "plain|a, \"b\"|'=cmd()|", "... and read back the same");
	free(b.p);
	snprintf(got, sizeof(got), "ok \xd0\x96 \xd0 cut \xff");
	mh_utf8_scrub(got);
	is_str(got, "ok \xd0\x96 ? cut ?", "a text scrubbed to UTF-8");
}

int
main(void)
{
	test_read();
	test_lines();
	test_rows();
	test_write();
	return done_testing();
}

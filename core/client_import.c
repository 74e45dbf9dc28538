/*
 * An import's lines as clients, pure: a CSV's header read into the
 * columns it holds (the import's own, phone,tags,timezone,email,
 * operator_code and opted_out, and those of /api/clients.csv that are not
 * a client's to give, which are passed over), and each row, or each
 * NDJSON line, made into the object POST /api/clients takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core.h"

/* The columns by name: the field each fills, or NULL for one passed
 * over (the export's). */
static const struct {
	const char *name;
	const char *field;
} mh_import_cols[] = {
	{ "phone", "phone" }, { "tags", "tags" }, { "tag", "tags" },
	{ "timezone", "timezone" }, { "email", "email" },
	{ "operator_code", "operator_code" }, { "opted_out", "opted_out" },
	{ "id", NULL }, { "region", NULL }, { "phone_type", NULL },
	{ "opted_out_at", NULL }, { "created_at", NULL },
	{ "updated_at", NULL },
};
#define MH_IMPORT_NCOLS (sizeof(mh_import_cols) / sizeof(mh_import_cols[0]))

int
mh_import_header(const struct mh_csv_record *rec, struct mh_import_header *h,
    char *why, size_t whylen)
{
	int phone = 0, tz = 0;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < rec->n; i++) {
		size_t c;

		for (c = 0; c < MH_IMPORT_NCOLS; c++)
			if (strcasecmp(rec->cell[i], mh_import_cols[c].name) == 0)
				break;
		if (c == MH_IMPORT_NCOLS) {
			snprintf(why, whylen, "the header's column %zu, \"%.40s\", "
			    "is not one of phone, tags, timezone, email, "
			    "operator_code, opted_out", i + 1, rec->cell[i]);
			return -1;
		}
		h->field[i] = mh_import_cols[c].field;
		phone |= h->field[i] != NULL && strcmp(h->field[i], "phone") == 0;
		tz |= h->field[i] != NULL && strcmp(h->field[i], "timezone") == 0;
	}
	h->n = rec->n;
	if (phone && tz)
		return 0;
	snprintf(why, whylen, "the header row names no %s column: it is "
	    "phone,tags,timezone,email,operator_code", phone ? "timezone" :
	    "phone");
	return -1;
}

/* The tags of a cell, ';' apart, each trimmed, the empty left out. */
static struct json_object *
mh_import_tags(const char *cell)
{
	struct json_object *list = json_object_new_array();

	while (*cell != '\0') {
		size_t n = strcspn(cell, ";");
		const char *s = cell, *e = cell + n;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s)
			json_object_array_add(list, json_object_new_string_len(s,
			    (int)(e - s)));
		cell += n + (cell[n] == ';');
	}
	return list;
}

/* A cell of opted_out: true, false, or -1. */
static int
mh_import_bool(const char *cell)
{
	static const char *const yes[] = { "true", "1", "yes", NULL };
	static const char *const no[] = { "false", "0", "no", NULL };

	for (size_t i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(cell, yes[i]) == 0)
			return 1;
		if (strcasecmp(cell, no[i]) == 0)
			return 0;
	}
	return -1;
}

struct json_object *
mh_import_csv_client(const struct mh_import_header *h,
    const struct mh_csv_record *rec, char *why, size_t whylen)
{
	struct json_object *c;

	if (rec->n != h->n) {
		snprintf(why, whylen, "has %zu fields where the header has %zu",
		    rec->n, h->n);
		return NULL;
	}
	c = json_object_new_object();
	for (size_t i = 0; i < rec->n; i++) {
		const char *f = h->field[i], *cell = rec->cell[i];
		int b;

		if (f == NULL || *cell == '\0')
			continue;	/* passed over, or not given */
		if (!mh_utf8_valid(cell, strlen(cell))) {
			snprintf(why, whylen, "%s is not UTF-8 text", f);
			json_object_put(c);
			return NULL;
		}
		if (strcmp(f, "tags") == 0)
			json_object_object_add(c, f, mh_import_tags(cell));
		else if (strcmp(f, "opted_out") != 0)
			json_object_object_add(c, f, json_object_new_string(cell));
		else if ((b = mh_import_bool(cell)) >= 0)
			json_object_object_add(c, f, json_object_new_boolean(b));
		else {
			snprintf(why, whylen, "opted_out is true or false: %.20s",
			    cell);
			json_object_put(c);
			return NULL;
		}
	}
	return c;
}

struct json_object *
mh_import_ndjson_client(const char *line, size_t len, char *why,
    size_t whylen)
{
	char detail[200];
	struct json_object *c = mh_json_parse(line, len, detail,
	    sizeof(detail));

	if (c == NULL)
		snprintf(why, whylen, "is not JSON: %s", detail);
	else if (!json_object_is_type(c, json_type_object)) {
		snprintf(why, whylen, "is not a JSON object: a client is one");
		json_object_put(c);
		c = NULL;
	}
	return c;
}

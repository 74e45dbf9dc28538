/* An import's body, as POST /api/clients/import reads it: as CSV (each
 * record read, the first as the header, each row made into a client's
 * object, and a client made of it) and as NDJSON lines. A record read
 * holds no more fields than it may, and what each row makes is JSON. */
#include "fuzz.h"
#include "db/store.h"

static void
rows(const char *p, const char *end)
{
	static const struct mh_making mk = { 1800000000000LL, "RU" };
	struct mh_csv_record rec = { .buf = { 0 } };
	struct mh_import_header h;
	struct json_object *c;
	struct mh_record made;
	char why[300];
	int got, header = 0;

	while ((got = mh_csv_next(&p, end, &rec, why, sizeof(why))) != 0) {
		if (p > end || rec.n > MH_CSV_FIELDS_MAX || (got == 1 &&
		    rec.lines == 0))
			abort();	/* past the end, or no progress */
		if (got != 1)
			continue;
		if (!header) {
			header = mh_import_header(&rec, &h, why, sizeof(why)) == 0;
			if (!header)
				break;
			continue;
		}
		if ((c = mh_import_csv_client(&h, &rec, why, sizeof(why))) == NULL)
			continue;
		fuzz_valid_json(c);
		if (mh_client_make(c, &mk, &made, why, sizeof(why)) == 0)
			mh_record_free(&made);
		json_object_put(c);
	}
	free(rec.buf.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct json_object *c;
	char why[300];

	rows(p, end);
	for (const char *line = p; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = (size_t)((nl != NULL ? nl : end) - line);

		if ((c = mh_import_ndjson_client(line, len, why, sizeof(why))) !=
		    NULL) {
			if (!json_object_is_type(c, json_type_object))
				abort();
			json_object_put(c);
		}
		line = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

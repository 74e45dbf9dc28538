/*
 * A table's records as a file (events.csv, clients.csv, events.ndjson):
 * every record a query keeps, oldest first, read a page at a time and
 * written as it is read, so that a million rows take the memory of one
 * page. A failure after the first byte can no longer change the status:
 * the file then ends short, without its last line's newline.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mailhooks.h"

#define MH_EXPORT_PAGE 1000

struct mh_export {
	const struct mh_export_spec *spec;
	struct mh_buf buf;	/* the page being written */
	uint64_t last;
	size_t rows;
};

static int
mh_export_one(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_export *x = ctx;

	x->last = id;
	x->rows++;
	if (x->spec->row(&x->buf, id, json, len) != 0)
		return -1;
	return x->buf.failed ? -1 : 0;
}

int
mh_export_ndjson_row(struct mh_buf *b, uint64_t id, const char *json,
    size_t len)
{
	char stand_in[64];

	json = mh_json_stored(json, &len, id, stand_in);
	mh_buf_add(b, json, len);
	mh_buf_str(b, "\n");
	return 0;
}

/* Starts the answer: its name, its type. -1 when nothing more is to be
 * written (HEAD, or the client gone). */
static int
mh_export_start(struct mh_request *r, const struct mh_export_spec *spec)
{
	mh_respond_header(r, "Content-Disposition: attachment; "
	    "filename=\"%s.%s\"", spec->name, spec->ext);
	return mh_respond_start(r, 200, spec->ctype) != 0 ||
	    r->verb == MH_HEAD ? -1 : 0;
}

void
mh_export(struct mh_app *app, struct mh_request *r, struct mh_query *q,
    const struct mh_export_spec *spec)
{
	struct mh_export x = { .spec = spec };
	enum mh_store_err err = MH_STORE_OK;
	int more = 1, started = 0;

	if (app->store == NULL) {
		mh_respond_store_error(r, MH_STORE_FAILED);
		return;
	}
	q->has_after = 1;	/* oldest first, from the first */
	q->limit = MH_EXPORT_PAGE;
	for (int i = 0; spec->header != NULL && spec->header[i] != NULL; i++)
		mh_csv_field(&x.buf, spec->header[i], i == 0);
	if (spec->header != NULL)
		mh_buf_str(&x.buf, "\r\n");
	while (more && err == MH_STORE_OK && !x.buf.failed) {
		q->after = x.last;
		err = mh_store_query(app->store, q, mh_export_one, &x, &more);
		if (err != MH_STORE_OK || x.buf.failed)
			break;
		if (!started && mh_export_start(r, spec) != 0)
			goto out;
		started = 1;
		if (x.buf.len > 0 && mh_write(r, x.buf.p, x.buf.len) != 0)
			goto out;	/* the client is gone */
		x.buf.len = 0;
	}
	if (!started)
		mh_respond_store_error(r, err != MH_STORE_OK ? err :
		    MH_STORE_NOMEM);
	else if (err != MH_STORE_OK || x.buf.failed)
		mh_log(r, "export cut short after %zu rows: %s", x.rows,
		    err != MH_STORE_OK ? "storage error" : "out of memory");
out:
	free(x.buf.p);
}

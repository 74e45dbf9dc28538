/*
 * The clients in bulk. POST /api/clients/import takes a CSV (text/csv,
 * its header row naming the columns: phone,tags,timezone,email,
 * operator_code) or NDJSON (application/x-ndjson, one client a line):
 * each good line is added, or, when its phone is a client's already, laid
 * over that client; each bad one is reported by its line number, and
 * nothing of it stored. The lines go to storage a batch at a time, each
 * batch one transaction, so that 100 000 lines never make one huge one.
 * GET /api/clients.csv is every client, oldest first, in the columns the
 * import reads back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

#define MH_IMPORT_BATCH 500	/* lines a transaction */
#define MH_IMPORT_ERRORS_MAX 1000	/* errors listed; the rest counted */

/* A batch of good lines, waiting for its transaction. */
struct mh_import {
	struct mh_request *r;	/* told of each batch stored (progress) */
	struct mh_making mk;
	struct mh_record rec[MH_IMPORT_BATCH];
	struct json_object *in[MH_IMPORT_BATCH];	/* as sent: the merge's */
	size_t line[MH_IMPORT_BATCH];
	char why[MH_IMPORT_BATCH][200];
	enum mh_upsert_outcome outcome[MH_IMPORT_BATCH];
	size_t n;
	uint64_t added, updated, failed;
	struct mh_buf errors;	/* the JSON array's items, ',' apart */
};

/* Notes a refused line. */
static void
mh_import_error(struct mh_import *im, size_t line, const char *error,
    const char *why)
{
	struct json_object *e;
	char detail[300];

	if (im->failed++ >= MH_IMPORT_ERRORS_MAX)
		return;
	e = json_object_new_object();
	json_object_object_add(e, "line", json_object_new_int64((int64_t)line));
	mh_json_set_str(e, "error", error);
	snprintf(detail, sizeof(detail), "%s", why);
	mh_utf8_scrub(detail);	/* it may quote the line */
	mh_json_set_str(e, "detail", detail);
	if (im->errors.len > 0)
		mh_buf_str(&im->errors, ",");
	mh_buf_str(&im->errors, mh_json_text(e));
	json_object_put(e);
}

/* An mh_merge_fn: line i laid over the client holding its phone. */
static int
mh_import_merge(void *ctx, size_t i, const union mh_fields_ref *f,
    const char *json, struct mh_record *out)
{
	struct mh_import *im = ctx;

	(void)f;
	im->why[i][0] = '\0';
	return mh_client_patch(json, im->in[i], &im->mk, out, im->why[i],
	    sizeof(im->why[i])) == 0 ? MH_CHANGE_WRITE : MH_CHANGE_KEEP;
}

/* Lets go of the batch's lines. */
static void
mh_import_drop(struct mh_import *im)
{
	for (size_t i = 0; i < im->n; i++) {
		mh_record_free(&im->rec[i]);
		json_object_put(im->in[i]);
	}
	im->n = 0;
}

/* Writes the batch; its lines counted, or reported. */
static enum mh_store_err
mh_import_flush(struct mh_app *app, struct mh_import *im)
{
	enum mh_store_err err = MH_STORE_OK;

	if (im->n > 0)
		err = mh_store_record_upsert(app->store, MH_TABLE_CLIENTS,
		    im->rec, im->n, mh_import_merge, im, im->outcome);
	/* 100 000 lines take longer than a request may go silent. */
	mh_request_progress(im->r);
	if (err != MH_STORE_OK)
		return err;	/* none of the batch was stored */
	for (size_t i = 0; i < im->n; i++) {
		if (im->outcome[i] == MH_UPSERT_ADDED)
			im->added++;
		else if (im->outcome[i] == MH_UPSERT_UPDATED)
			im->updated++;
		else
			mh_import_error(im, im->line[i], "bad_client",
			    im->why[i][0] ? im->why[i] : "not stored");
	}
	mh_import_drop(im);
	return err;
}

/* Answers what became of the lines: 200 with the counts and the errors,
 * or, when storage failed, its error (the batches before it stay). */
static void
mh_import_answer(struct mh_request *r, struct mh_import *im,
    enum mh_store_err err)
{
	struct mh_buf b = { 0 };

	mh_log(r, "clients import: %" PRIu64 " added, %" PRIu64 " updated, %"
	    PRIu64 " refused%s", im->added, im->updated, im->failed,
	    err != MH_STORE_OK ? ", then storage failed: the rest not stored" :
	    "");
	if (err != MH_STORE_OK) {
		mh_respond_store_error(r, err);
		return;
	}
	mh_buf_printf(&b, "{\"added\":%" PRIu64 ",\"updated\":%" PRIu64
	    ",\"failed\":%" PRIu64 ",\"errors\":[", im->added, im->updated,
	    im->failed);
	if (im->errors.len > 0)
		mh_buf_add(&b, im->errors.p, im->errors.len);
	mh_buf_str(&b, "]}");
	if (b.failed || im->errors.failed)
		mh_respond_nomem(r);
	else
		mh_respond_json(r, 200, b.p);
	free(b.p);
}

/* Takes one line's client (NULL: refused, why said), into the batch. */
static enum mh_store_err
mh_import_line(struct mh_app *app, struct mh_import *im, size_t line,
    struct json_object *in, const char *why)
{
	char made[300];

	if (in == NULL) {
		mh_import_error(im, line, "bad_line", why);
		return MH_STORE_OK;
	}
	if (mh_client_make(in, &im->mk, &im->rec[im->n], made,
	    sizeof(made)) != 0) {
		mh_import_error(im, line, "bad_client", made);
		json_object_put(in);
		return MH_STORE_OK;
	}
	im->in[im->n] = in;
	im->line[im->n++] = line;
	return im->n == MH_IMPORT_BATCH ? mh_import_flush(app, im) :
	    MH_STORE_OK;
}

/* The CSV's rows, its header first; *refused when the header does not
 * do (answered). */
static enum mh_store_err
mh_import_csv(struct mh_app *app, struct mh_request *r, struct mh_import *im,
    int *refused)
{
	const char *p = r->body, *end = r->body + r->body_len;
	struct mh_csv_record rec = { .buf = { 0 } };
	struct mh_import_header h;
	enum mh_store_err err = MH_STORE_OK;
	size_t line = 1;
	char why[300];
	int got;

	if ((got = mh_csv_next(&p, end, &rec, why, sizeof(why))) != 1 ||
	    mh_import_header(&rec, &h, why, sizeof(why)) != 0) {
		mh_respond_error(r, MH_ERR_BAD_BODY, "%s", got == 0 ? "the CSV is "
		    "empty: its first line names the columns, phone,tags,"
		    "timezone,email,operator_code" : why);
		*refused = 1;
		goto out;
	}
	line += rec.lines;
	while (err == MH_STORE_OK &&
	    (got = mh_csv_next(&p, end, &rec, why, sizeof(why))) != 0) {
		size_t at = line;

		line += rec.lines;
		if (got == 1 && rec.n == 1 && rec.cell[0][0] == '\0')
			continue;	/* a blank line */
		err = mh_import_line(app, im, at, got == 1 ?
		    mh_import_csv_client(&h, &rec, why, sizeof(why)) : NULL, why);
	}
out:
	free(rec.buf.p);
	return err;
}

/* Whether the len bytes at p are only spaces and tabs. */
static int
mh_import_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* The NDJSON's lines, a blank one passed over. */
static enum mh_store_err
mh_import_ndjson(struct mh_app *app, struct mh_request *r,
    struct mh_import *im)
{
	const char *p = r->body, *end = r->body + r->body_len;
	enum mh_store_err err = MH_STORE_OK;
	char why[300];

	for (size_t line = 1; p < end && err == MH_STORE_OK; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (!mh_import_blank(p, len))
			err = mh_import_line(app, im, line,
			    mh_import_ndjson_client(p, len, why, sizeof(why)), why);
		p = nl != NULL ? nl + 1 : end;
	}
	return err;
}

void
mh_api_clients_import(struct mh_app *app, struct mh_request *r)
{
	const char *ctype = mh_param(r, "CONTENT_TYPE");
	struct mh_import *im;
	enum mh_store_err err;
	int csv = mh_media_type_is(ctype, "text/csv"), refused = 0;

	if (!csv && !mh_media_type_is(ctype, "application/x-ndjson") &&
	    !mh_media_type_is(ctype, "application/ndjson")) {
		mh_respond_error(r, MH_ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type "
		    "must be text/csv or application/x-ndjson");
		return;
	}
	if (mh_body(r, app->cfg->max_body) != 0)
		return;
	if ((im = mh_calloc(1, sizeof(*im))) == NULL) {
		mh_respond_nomem(r);
		return;
	}
	im->r = r;
	im->mk = (struct mh_making){ mh_now_ms(), app->cfg->default_region };
	err = csv ? mh_import_csv(app, r, im, &refused) :
	    mh_import_ndjson(app, r, im);
	if (err == MH_STORE_OK && !refused)
		err = mh_import_flush(app, im);
	mh_import_drop(im);
	if (!refused)
		mh_import_answer(r, im, err);
	free(im->errors.p);
	free(im);
}

/* The export's columns: the import's, then what the import passes over. */
static const char *const mh_clients_cols[] = { "phone", "tags", "timezone",
	"email", "operator_code", "opted_out", "id", "region", "phone_type",
	"created_at", "updated_at", NULL };

/* A client's row, its tags ';' apart. */
static int
mh_client_csv_row(struct mh_buf *b, uint64_t id, const char *json, size_t len)
{
	struct json_object *c = json_tokener_parse(json), *tags;
	struct mh_buf list = { 0 };
	char num[24];

	(void)len;
	if (c == NULL)
		return 0;	/* not one of ours: left out */
	tags = mh_json_get(c, "tags");
	for (size_t i = 0; tags != NULL && json_object_is_type(tags,
	    json_type_array) && i < json_object_array_length(tags); i++)
		mh_buf_printf(&list, "%s%s", i > 0 ? ";" : "",
		    json_object_get_string(json_object_array_get_idx(tags, i)));
	if (tags == NULL)
		mh_buf_str(&list, mh_json_str(c, "tag") ? mh_json_str(c, "tag") :
		    "");
	snprintf(num, sizeof(num), "%" PRIu64, id);
	mh_csv_field(b, mh_json_str(c, "phone"), 1);
	mh_csv_field(b, list.p != NULL ? list.p : "", 0);
	mh_csv_field(b, mh_json_str(c, "timezone"), 0);
	mh_csv_field(b, mh_json_str(c, "email"), 0);
	mh_csv_field(b, mh_json_str(c, "operator_code"), 0);
	mh_csv_field(b, mh_client_opted_out(c) ? "true" : "false", 0);
	mh_csv_field(b, num, 0);
	mh_csv_field(b, mh_json_str(c, "region"), 0);
	mh_csv_field(b, mh_json_str(c, "phone_type"), 0);
	mh_csv_field(b, mh_json_str(c, "created_at"), 0);
	mh_csv_field(b, mh_json_str(c, "updated_at"), 0);
	mh_buf_str(b, "\r\n");
	free(list.p);
	json_object_put(c);
	return 0;
}

static const struct mh_export_spec mh_clients_csv = { "clients", "csv",
	"text/csv; charset=utf-8", mh_clients_cols, mh_client_csv_row };

void
mh_api_clients_csv(struct mh_app *app, struct mh_request *r)
{
	struct mh_query q = { .table = MH_TABLE_CLIENTS };

	mh_export(app, r, &q, &mh_clients_csv);
}

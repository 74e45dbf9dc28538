/*
 * A batch of records of an indexed table whose descriptor declares a
 * unique field (the clients' phone), written in one flushed transaction:
 * each record whose unique value no record holds is added under the next
 * id of the table's counter; one whose value another holds is laid over
 * that one as the application's merge says. An import goes through here a
 * batch at a time, so that its transactions stay bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

struct mh_upsert {
	enum mh_table table;
	int field;		/* the unique field's place */
	const struct mh_record *recs;
	size_t n;
	mh_merge_fn merge;
	void *ctx;
	enum mh_upsert_outcome *outcome;
};

/* Record i of the batch, as the change of the record it meets. */
struct mh_upsert_one {
	struct mh_upsert *u;
	size_t i;
};

static int
mh_upsert_change(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	struct mh_upsert_one *one = ctx;

	return one->u->merge(one->u->ctx, one->i, f, json, out) ==
	    MH_CHANGE_WRITE ? MH_CHANGE_WRITE : MH_CHANGE_KEEP;
}

/* Lays record i over the stored record id, as the merge says. */
static int
mh_upsert_merge(struct mh_store *st, DB_TXN *txn, struct mh_upsert *u,
    size_t i, uint64_t id)
{
	struct mh_upsert_one one = { u, i };
	int what, ret;

	ret = mh_record_alter(st, txn, u->table, id, mh_upsert_change, &one,
	    &what, NULL);
	if (ret == DB_NOTFOUND)
		return EINVAL;	/* the unique map names a record astray */
	if (ret == 0)
		u->outcome[i] = what == MH_CHANGE_WRITE ? MH_UPSERT_UPDATED :
		    MH_UPSERT_REFUSED;
	return ret;
}

static int
mh_upsert_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_upsert *u = ctx;
	const struct mh_table_def *def = &mh_tables[u->table];
	int dbi = def->field[u->field].unique, ret = 0;
	uint64_t id;

	for (size_t i = 0; i < u->n && ret == 0; i++) {
		const char *value = u->recs[i].at[u->field];

		u->outcome[i] = MH_UPSERT_REFUSED;
		if (value == NULL || *value == '\0')
			continue;
		if ((ret = mh_unique_holder(st, txn, dbi, value, &id)) != 0)
			break;
		if (id != 0)
			ret = mh_upsert_merge(st, txn, u, i, id);
		else if ((ret = mh_counter(st->db[MH_DB_META], txn,
		    def->counter, 1, DB_RMW, &id)) == 0 &&
		    (ret = mh_indexed_put(st, txn, u->table, &u->recs[i], NULL,
		    id + 1, NULL)) == 0)
			u->outcome[i] = MH_UPSERT_ADDED;
	}
	return ret;
}

enum mh_store_err
mh_store_record_upsert(struct mh_store *st, enum mh_table table,
    const struct mh_record *recs, size_t n, mh_merge_fn merge, void *ctx,
    enum mh_upsert_outcome *outcome)
{
	struct mh_upsert u = { table, -1, recs, n, merge, ctx, outcome };

	for (int i = 0; i < MH_FIELDS; i++)
		if (mh_tables[table].field[i].unique >= 0) {
			u.field = i;
			break;
		}
	if (u.field < 0 || mh_tables[table].counter == NULL)
		return MH_STORE_FAILED;
	return mh_store_error(mh_txn_run(st, 0, 0, mh_upsert_txn, &u));
}

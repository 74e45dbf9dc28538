/*
 * One record of an indexed table by its id (indexed.c's layout), for the
 * tables that keep nothing beside what their descriptor declares
 * (campaigns, clients): added under the next id of its counter, read, or
 * changed or deleted as the application says, each in one transaction;
 * its indexes, unique values and changes counter follow (indexed.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

struct mh_record_add {
	enum mh_table table;
	const struct mh_record *rec;
};

static int
mh_record_add_work(struct mh_store *st, DB_TXN *txn, void *ctx, uint64_t id)
{
	struct mh_record_add *a = ctx;

	return mh_indexed_put(st, txn, a->table, a->rec, NULL, id, NULL);
}

enum mh_store_err
mh_store_record_add(struct mh_store *st, enum mh_table table,
    const struct mh_record *rec, mh_answer_fn answer, void *ctx,
    char **text)
{
	struct mh_record_add a = { table, rec };
	enum mh_idem_result res;

	return mh_idem_add(st, mh_tables[table].counter, 1, mh_record_add_work,
	    &a, NULL, answer, ctx, text, &res);
}

static int
mh_record_changes_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	const void **a = ctx;
	const enum mh_table *t = a[0];

	return mh_counter(st->db[MH_DB_META], txn, mh_tables[*t].changes, 0,
	    0, (uint64_t *)a[1]);
}

enum mh_store_err
mh_store_record_changes(struct mh_store *st, enum mh_table table,
    uint64_t *changes)
{
	const void *a[2] = { &table, changes };

	*changes = 0;
	if (mh_tables[table].changes == NULL)
		return MH_STORE_OK;
	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_record_changes_txn, a));
}

struct mh_record_op {
	enum mh_table table;
	uint64_t id;
	mh_change_fn change;	/* NULL: read it */
	void *ctx;
	char *json;		/* as it is after (NULL once deleted) */
	int found;
};

int
mh_record_alter(struct mh_store *st, DB_TXN *txn, enum mh_table t,
    uint64_t id, mh_change_fn change, void *ctx, int *what, char **json)
{
	DB *db = st->db[mh_tables[t].records];
	struct mh_record next = { .json = NULL };
	union mh_fields_ref f;
	const char *stored;
	unsigned char k[8];
	DBT key, data;
	int ret;

	*what = MH_CHANGE_KEEP;
	if (json != NULL)
		*json = NULL;
	mh_key64(&key, k, id);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = db->get(db, txn, &key, &data, change ? DB_RMW : 0)) != 0)
		return ret;
	if (mh_indexed_parse(&data, &f, &stored) != 0) {
		free(data.data);
		return DB_NOTFOUND;	/* not one of ours: as good as none */
	}
	if (change != NULL)
		*what = change(ctx, &f, stored, &next);
	if (*what == MH_CHANGE_DELETE)
		ret = mh_indexed_del(st, txn, t, id, &f);
	else if (*what == MH_CHANGE_WRITE)
		ret = next.json == NULL ? ENOMEM : mh_indexed_put(st, txn, t,
		    &next, &f, id, json);
	else if (json != NULL && (*json = strdup(stored)) == NULL)
		ret = ENOMEM;
	mh_record_free(&next);
	free(data.data);
	return ret;
}

/* o's record, read (with a write lock when it is to change) and changed
 * as o says, in one transaction. */
static int
mh_record_op_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_record_op *o = ctx;
	int what, ret;

	free(o->json);
	o->json = NULL;
	ret = mh_record_alter(st, txn, o->table, o->id, o->change, o->ctx,
	    &what, &o->json);
	if (ret == DB_NOTFOUND)
		return MH_TXN_DISCARD;
	o->found = 1;
	return ret;
}

/* Runs o, read-committed when it only reads. */
static enum mh_store_err
mh_record_op_run(struct mh_store *st, struct mh_record_op *o, char **json)
{
	int ret = mh_txn_run(st, o->change ? 0 : DB_READ_COMMITTED, 0,
	    mh_record_op_txn, o);

	if (json != NULL)
		*json = NULL;
	if (ret != 0 || !o->found) {
		free(o->json);
		return ret == 0 ? MH_STORE_NOTFOUND : mh_store_error(ret);
	}
	if (json != NULL)
		*json = o->json;
	else
		free(o->json);
	return MH_STORE_OK;
}

enum mh_store_err
mh_store_record_get(struct mh_store *st, enum mh_table table, uint64_t id,
    char **json)
{
	struct mh_record_op o = { table, id, NULL, NULL, NULL, 0 };

	return mh_record_op_run(st, &o, json);
}

enum mh_store_err
mh_store_record_change(struct mh_store *st, enum mh_table table, uint64_t id,
    mh_change_fn change, void *ctx, char **json)
{
	struct mh_record_op o = { table, id, change, ctx, NULL, 0 };

	return mh_record_op_run(st, &o, json);
}

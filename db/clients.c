/*
 * The campaigns' clients (clients.db), an indexed table (indexed.c's
 * record: tag, operator code, phone, then the JSON text led by its id),
 * and the one-client-a-phone map (client-phones.db: phone -> id), kept in
 * the same transactions. Ids come from the counter "client" in meta.db.
 * The application makes the records and their changes; the storage never
 * reads their JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* Gives phone to client id (DB_KEYEXIST when it is another's), or takes
 * it back (id 0). */
static int
mh_phone_put(struct mh_store *st, DB_TXN *txn, const char *phone,
    uint64_t id)
{
	DB *db = st->db[MH_DB_CLIENT_PHONES];
	unsigned char v[8];
	DBT key, data;
	int ret;

	memset(&key, 0, sizeof(key));
	key.data = (void *)phone;
	key.size = (u_int32_t)strlen(phone);
	if (id == 0) {
		ret = db->del(db, txn, &key, 0);
		return ret == DB_NOTFOUND ? 0 : ret;
	}
	mh_be64_put(v, id);
	memset(&data, 0, sizeof(data));
	data.data = v;
	data.size = sizeof(v);
	return db->put(db, txn, &key, &data, DB_NOOVERWRITE);
}

/* Counts a change to the clients in meta.db: a campaign running selects
 * its clients again when the count moves (mh_store_clients_version). */
#define MH_CLIENTS_CHANGED "clients_changed"

static int
mh_clients_touch(struct mh_store *st, DB_TXN *txn)
{
	uint64_t before;

	return mh_counter(st->db[MH_DB_META], txn, MH_CLIENTS_CHANGED, 1, 0,
	    &before);
}

static int
mh_clients_version_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_counter(st->db[MH_DB_META], txn, MH_CLIENTS_CHANGED, 0, 0,
	    ctx);
}

enum mh_store_err
mh_store_clients_version(struct mh_store *st, uint64_t *version)
{
	*version = 0;
	return mh_store_error(mh_txn_run(st, DB_READ_COMMITTED, 0,
	    mh_clients_version_txn, version));
}

struct mh_client_add {
	const struct mh_record *rec;
};

static int
mh_client_add_work(struct mh_store *st, DB_TXN *txn, void *ctx, uint64_t id)
{
	struct mh_client_add *a = ctx;
	int ret;

	if ((ret = mh_phone_put(st, txn, a->rec->client.phone, id)) != 0 ||
	    (ret = mh_clients_touch(st, txn)) != 0)
		return ret;
	return mh_indexed_put(st, txn, MH_TABLE_CLIENTS, a->rec,
	    MH_PUT_NUMBERED, id, NULL);
}

enum mh_store_err
mh_store_client_add(struct mh_store *st, const struct mh_record *rec,
    mh_answer_fn answer, void *ctx, char **text)
{
	struct mh_client_add a = { rec };
	enum mh_idem_result res;

	if (rec->client.phone == NULL || rec->client.phone[0] == '\0')
		return MH_STORE_FAILED;
	return mh_idem_add(st, "client", 1, mh_client_add_work, &a, NULL,
	    answer, ctx, text, &res);
}

struct mh_client_change {
	uint64_t id;
	mh_change_fn change;
	void *ctx;
	char *json;		/* as stored after */
	int found;
};

/* Applies the change to the record read (data), keeping the phone map. */
static int
mh_client_apply(struct mh_store *st, DB_TXN *txn, struct mh_client_change *c,
    const DBT *data)
{
	struct mh_record next = { .json = NULL };
	union mh_fields_ref f;
	const char *json;
	int ret = 0, what;

	if (mh_indexed_parse(data, &f, &json) != 0)
		return 0;	/* not one of ours: as good as none */
	c->found = 1;
	what = c->change(c->ctx, &f, json, &next);
	if (what != MH_CHANGE_KEEP && (ret = mh_clients_touch(st, txn)) != 0)
		goto out;
	if (what == MH_CHANGE_KEEP)
		ret = (c->json = strdup(json)) == NULL ? ENOMEM : 0;
	else if (what == MH_CHANGE_DELETE) {
		unsigned char k[8];
		DBT key;

		mh_key64(&key, k, c->id);
		if ((ret = mh_phone_put(st, txn, f.client.phone, 0)) == 0)
			ret = st->db[MH_DB_CLIENTS]->del(st->db[MH_DB_CLIENTS],
			    txn, &key, 0);
	} else if (next.json == NULL || next.client.phone == NULL)
		ret = ENOMEM;
	else {
		if (strcmp(next.client.phone, f.client.phone) != 0 &&
		    ((ret = mh_phone_put(st, txn, f.client.phone, 0)) != 0 ||
		    (ret = mh_phone_put(st, txn, next.client.phone, c->id)) !=
		    0))
			goto out;
		ret = mh_indexed_put(st, txn, MH_TABLE_CLIENTS, &next,
		    MH_PUT_WHOLE, c->id, &c->json);
	}
out:
	mh_record_free(&next);
	return ret;
}

static int
mh_client_change_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_client_change *c = ctx;
	DB *db = st->db[MH_DB_CLIENTS];
	unsigned char k[8];
	DBT key, data;
	int ret;

	free(c->json);
	c->json = NULL;
	c->found = 0;
	mh_key64(&key, k, c->id);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = db->get(db, txn, &key, &data, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? MH_TXN_DISCARD : ret;
	ret = mh_client_apply(st, txn, c, &data);
	free(data.data);
	return ret == 0 && !c->found ? MH_TXN_DISCARD : ret;
}

enum mh_store_err
mh_store_client_change(struct mh_store *st, uint64_t id, mh_change_fn change,
    void *ctx, char **json)
{
	struct mh_client_change c = { .id = id, .change = change, .ctx = ctx };
	int ret = mh_txn_run(st, 0, 0, mh_client_change_txn, &c);

	if (json != NULL)
		*json = NULL;
	if (ret != 0 || !c.found) {
		free(c.json);
		return ret == 0 ? MH_STORE_NOTFOUND : mh_store_error(ret);
	}
	if (json != NULL)
		*json = c.json;
	else
		free(c.json);
	return MH_STORE_OK;
}

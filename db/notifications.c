/*
 * Users' notifications (notifications.db), an indexed table (events.c's
 * record: three header fields, then the JSON text led by its id): the
 * user's id, the identifier, and the user's id again while it is unread
 * (empty once read: the unread index holds only the unread). Ids come
 * from the counter "notification" in meta.db, taken in the transaction
 * that stores them; each user's unread count is a counter there too. The application makes the records and their changes;
 * the storage never reads their JSON.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

/* The count of user's unread, kept in meta.db under "unread\0USER" and
 * moved in the transactions that change it: reading it costs the same
 * however many a user has. *n gets it as it was; delta moves it. */
#define MH_UNREAD_KEY_MAX (7 + MH_NOTICE_USER_MAX)

/* The counter's key of user into key; its length, or 0 when too long. */
static size_t
mh_unread_key(const char *user, char key[MH_UNREAD_KEY_MAX])
{
	size_t len = strlen(user);

	if (len > MH_NOTICE_USER_MAX)
		return 0;
	memcpy(key, "unread", 7);
	memcpy(key + 7, user, len);
	return 7 + len;
}

static int
mh_unread(struct mh_store *st, DB_TXN *txn, const char *user, int64_t delta,
    uint64_t *n)
{
	char key[MH_UNREAD_KEY_MAX];
	size_t len = mh_unread_key(user, key);

	return len == 0 ? EINVAL : mh_counter_key(st->db[MH_DB_META], txn, key,
	    len, delta, DB_RMW, n);
}

/* Whether a record's header fields say it is unread (its third field,
 * the unread index's key, is set). */
static int
mh_is_unread(const struct mh_record *r)
{
	return r->notification.unread_user != NULL &&
	    r->notification.unread_user[0] != '\0';
}

int
mh_notice_put(struct mh_store *st, DB_TXN *txn, const struct mh_record *r,
    struct mh_noticed *nt)
{
	uint64_t before;
	int ret;

	if ((ret = mh_counter(st->db[MH_DB_META], txn,
	    mh_tables[MH_TABLE_NOTIFICATIONS].counter, 1, DB_RMW,
	    &before)) != 0 || (ret = mh_indexed_put(st, txn,
	    MH_TABLE_NOTIFICATIONS, r, NULL, before + 1, &nt->json)) != 0 ||
	    (ret = mh_unread(st, txn, r->notification.user, mh_is_unread(r),
	    &nt->unread)) != 0)
		return ret;
	nt->id = before + 1;
	nt->unread += mh_is_unread(r);
	return 0;
}

struct mh_nt_add {
	const struct mh_record *recs;
	size_t n;
};

static int
mh_nt_add_work(struct mh_store *st, DB_TXN *txn, void *ctx, uint64_t first)
{
	struct mh_nt_add *a = ctx;
	int ret;

	for (size_t i = 0; i < a->n; i++)
		if ((ret = mh_indexed_put(st, txn, MH_TABLE_NOTIFICATIONS,
		    &a->recs[i], NULL, first + i, NULL)) != 0 ||
		    (mh_is_unread(&a->recs[i]) && (ret = mh_unread(st, txn,
		    a->recs[i].notification.user, 1, NULL)) != 0))
			return ret;
	return 0;
}

enum mh_store_err
mh_store_notifications_add(struct mh_store *st, const struct mh_record *recs,
    size_t n, const struct mh_idem *idem, mh_answer_fn answer, void *ctx,
    char **text, enum mh_idem_result *res)
{
	struct mh_nt_add a = { recs, n };

	return mh_idem_add(st, mh_tables[MH_TABLE_NOTIFICATIONS].counter, n,
	    mh_nt_add_work, &a, idem,
	    answer, ctx, text, res);
}

struct mh_nt_change {
	uint64_t id;
	mh_change_fn change;
	void *ctx;
	char *json, *user;	/* as stored after, and whose it is */
	uint64_t unread;
	int found;
};

/* Applies c->change to the notification of id c->id, inside txn. */
static int
mh_nt_change_one(struct mh_store *st, DB_TXN *txn, struct mh_nt_change *c)
{
	DB *db = st->db[MH_DB_NOTIFICATIONS];
	struct mh_record next = { .json = NULL };
	unsigned char k[8];
	union mh_fields_ref f;
	const char *json;
	DBT key, data;
	int ret, what, was, now;

	mh_key64(&key, k, c->id);
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_MALLOC;
	if ((ret = db->get(db, txn, &key, &data, DB_RMW)) != 0)
		return ret == DB_NOTFOUND ? 0 : ret;
	if (mh_indexed_parse(&data, &f, &json) != 0) {
		free(data.data);
		return 0;	/* not one of ours: as good as none */
	}
	c->found = 1;
	free(c->user);
	c->user = strdup(f.notification.user);
	was = f.notification.unread_user[0] != '\0';
	what = c->change(c->ctx, &f, json, &next);
	if (c->user == NULL)
		ret = ENOMEM;
	else if (what == MH_CHANGE_DELETE)
		ret = mh_indexed_del(st, txn, MH_TABLE_NOTIFICATIONS, c->id, &f);
	else if (what == MH_CHANGE_WRITE)
		ret = next.json == NULL ? ENOMEM : mh_indexed_put(st, txn,
		    MH_TABLE_NOTIFICATIONS, &next, &f, c->id, &c->json);
	else if ((c->json = strdup(json)) == NULL)
		ret = ENOMEM;
	/* The count follows: what was unread and is no more, or again. */
	now = what == MH_CHANGE_DELETE ? 0 : what == MH_CHANGE_WRITE ?
	    mh_is_unread(&next) : was;
	if (ret == 0)
		ret = mh_unread(st, txn, c->user, now - was, &c->unread);
	c->unread = now - was < 0 && c->unread == 0 ? 0 :
	    c->unread + (uint64_t)(int64_t)(now - was);
	mh_record_free(&next);
	free(data.data);
	return ret;
}

static int
mh_nt_delete_it(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	(void)ctx;
	(void)f;
	(void)json;
	(void)out;
	return MH_CHANGE_DELETE;
}

/* Deletes the notification id (its user's unread count follows). */
static int
mh_notice_del(struct mh_store *st, DB_TXN *txn, uint64_t id)
{
	struct mh_nt_change c = { .id = id, .change = mh_nt_delete_it };
	int ret = mh_nt_change_one(st, txn, &c);

	free(c.json);
	free(c.user);
	return ret;
}

#define MH_NT_ERASE_LOOK 1000	/* notifications read a transaction */

struct mh_nt_erase {
	int (*names)(void *ctx, const char *json);
	void *ctx;
	uint64_t from;		/* the first id not looked at */
	uint64_t erased;	/* by this transaction */
	int done;
};

/* Looks at up to MH_NT_ERASE_LOOK notifications from e->from on, and
 * deletes those named. */
static int
mh_nt_erase_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_nt_erase *e = ctx;
	DB *db = st->db[MH_DB_NOTIFICATIONS];
	uint64_t ids[MH_NT_ERASE_LOOK], next = e->from;
	union mh_fields_ref f;
	const char *json;
	unsigned char kb[8];
	size_t n = 0, looked = 0;
	DBC *cur = NULL;
	DBT key, data;
	int ret;

	e->erased = 0;
	e->done = 1;
	if ((ret = db->cursor(db, txn, &cur, 0)) != 0)
		return ret;
	mh_key64(&key, kb, e->from);
	key.ulen = sizeof(kb);
	key.flags = DB_DBT_USERMEM;
	memset(&data, 0, sizeof(data));
	data.flags = DB_DBT_REALLOC;
	for (ret = cur->get(cur, &key, &data, DB_SET_RANGE); ret == 0;
	    ret = cur->get(cur, &key, &data, DB_NEXT)) {
		if (looked++ == MH_NT_ERASE_LOOK) {
			e->done = 0;
			break;
		}
		next = mh_be64_get(kb) + 1;
		if (mh_indexed_parse(&data, &f, &json) == 0 &&
		    e->names(e->ctx, json))
			ids[n++] = next - 1;
	}
	cur->close(cur);
	free(data.data);
	if (ret != 0 && ret != DB_NOTFOUND)
		return ret;
	for (size_t i = 0; i < n; i++)
		if ((ret = mh_notice_del(st, txn, ids[i])) != 0)
			return ret;
	e->erased = n;
	e->from = next;
	return 0;
}

int
mh_notices_erase(struct mh_store *st,
    int (*names)(void *ctx, const char *json), void *ctx, uint64_t *n)
{
	struct mh_nt_erase e = { names, ctx, 1, 0, 0 };
	int ret;

	do {
		if ((ret = mh_txn_run(st, 0, 0, mh_nt_erase_txn, &e)) != 0)
			return ret;
		*n += e.erased;
	} while (!e.done);
	return 0;
}

static int
mh_nt_change_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_nt_change *c = ctx;
	int ret;

	free(c->json);
	c->json = NULL;
	c->found = 0;
	if ((ret = mh_nt_change_one(st, txn, c)) != 0 || !c->found)
		return ret != 0 ? ret : MH_TXN_DISCARD;
	return 0;
}

enum mh_store_err
mh_store_notification_change(struct mh_store *st, uint64_t id,
    mh_change_fn change, void *ctx, struct mh_nt_changed *out)
{
	struct mh_nt_change c = { .id = id, .change = change, .ctx = ctx };
	int ret = mh_txn_run(st, 0, 0, mh_nt_change_txn, &c);

	memset(out, 0, sizeof(*out));
	if (ret == 0 && c.found) {
		out->json = c.json;
		out->user = c.user;
		out->unread = c.unread;
		return MH_STORE_OK;
	}
	free(c.json);
	free(c.user);
	return ret == 0 ? MH_STORE_NOTFOUND : mh_store_error(ret);
}

struct mh_nt_unread {
	const char *user;
	uint64_t n;
};

static int
mh_nt_unread_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	struct mh_nt_unread *u = ctx;
	char key[MH_UNREAD_KEY_MAX];
	size_t len = mh_unread_key(u->user, key);

	return len == 0 ? EINVAL : mh_counter_key(st->db[MH_DB_META], txn, key,
	    len, 0, 0, &u->n);
}

enum mh_store_err
mh_store_unread(struct mh_store *st, const char *user, uint64_t *n)
{
	struct mh_nt_unread u = { user, 0 };
	int ret = mh_txn_run(st, DB_READ_COMMITTED, 0, mh_nt_unread_txn, &u);

	*n = u.n;
	return mh_store_error(ret);
}

/*
 * The databases of the environment, once: their files, and which of them
 * are secondary indexes of which (opening, closing, verifying and
 * counting read this table); each indexed table's descriptor, which says
 * which database indexes which of its fields (opening associates them,
 * and the writer and the queries read it); and the send queues.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-private.h"

#define MH_FILE_MODE 0640

const struct mh_db_def mh_dbs[MH_DB_COUNT] = {
	[MH_DB_EVENTS] = { "events.db", -1 },
	[MH_DB_BY_TYPE] = { "events-by-type.db", MH_DB_EVENTS },
	[MH_DB_BY_EMAIL] = { "events-by-email.db", MH_DB_EVENTS },
	[MH_DB_BY_MESSAGE] = { "events-by-message.db", MH_DB_EVENTS },
	[MH_DB_CALLBACKS] = { "callbacks.db", -1 },
	[MH_DB_CB_BY_STATUS] = { "callbacks-by-status.db", MH_DB_CALLBACKS },
	[MH_DB_CB_BY_EMAIL] = { "callbacks-by-email.db", MH_DB_CALLBACKS },
	[MH_DB_CB_BY_EXTERNAL] = { "callbacks-by-external-id.db",
	    MH_DB_CALLBACKS },
	[MH_DB_DEDUPE] = { "dedupe.db", -1 },
	[MH_DB_MESSAGES] = { "messages.db", -1 },
	[MH_DB_META] = { "meta.db", -1 },
	[MH_DB_INBOX] = { "inbox.db", -1 },
	[MH_DB_RAW] = { "raw.db", -1 },
	[MH_DB_SET_ASIDE] = { "set-aside.db", -1 },
	[MH_DB_REFUSED] = { "refused.db", -1 },
	[MH_DB_RECEIPTS] = { "receipts.db", -1 },
	[MH_DB_USERS] = { "users.db", -1 },
	[MH_DB_SESSIONS] = { "sessions.db", -1 },
	[MH_DB_SESSIONS_BY_USER] = { "sessions-by-user.db", -1 },
	[MH_DB_TOKENS] = { "tokens.db", -1 },
	[MH_DB_SIGNIN] = { "signin.db", -1 },
	[MH_DB_NOTIFICATIONS] = { "notifications.db", -1 },
	[MH_DB_NT_BY_USER] = { "notifications-by-user.db", MH_DB_NOTIFICATIONS },
	[MH_DB_NT_BY_IDENTIFIER] = { "notifications-by-identifier.db",
	    MH_DB_NOTIFICATIONS },
	[MH_DB_NT_UNREAD] = { "notifications-unread.db", MH_DB_NOTIFICATIONS },
	[MH_DB_IDEMPOTENCY] = { "idempotency.db", -1 },
	[MH_DB_MAIL] = { "mail.db", -1 },
	[MH_DB_MAIL_BY_STATUS] = { "mail-by-status.db", MH_DB_MAIL },
	[MH_DB_MAIL_BY_TO] = { "mail-by-to.db", MH_DB_MAIL },
	[MH_DB_MAIL_BY_TAG] = { "mail-by-tag.db", MH_DB_MAIL },
	[MH_DB_MAIL_BY_REMOTE] = { "mail-by-remote-id.db", -1 },
	[MH_DB_OUTBOX] = { "outbox.db", -1 },
	[MH_DB_OUTBOX_DUE] = { "outbox-due.db", MH_DB_OUTBOX },
	[MH_DB_CLIENTS] = { "clients.db", -1 },
	[MH_DB_CLIENTS_BY_TAG] = { "clients-by-tag.db", MH_DB_CLIENTS },
	[MH_DB_CLIENTS_BY_OPERATOR] = { "clients-by-operator.db", MH_DB_CLIENTS },
	[MH_DB_CLIENTS_BY_PHONE] = { "clients-by-phone.db", MH_DB_CLIENTS },
	[MH_DB_CLIENT_PHONES] = { "client-phones.db", -1 },
	[MH_DB_CAMPAIGNS] = { "campaigns.db", -1 },
	[MH_DB_CAMPAIGNS_BY_STATE] = { "campaigns-by-state.db", MH_DB_CAMPAIGNS },
	[MH_DB_CAMPAIGNS_BY_CHANNEL] = { "campaigns-by-channel.db",
	    MH_DB_CAMPAIGNS },
	[MH_DB_CMESSAGES] = { "campaign-messages.db", -1 },
	[MH_DB_CM_BY_STATE] = { "campaign-messages-by-state.db",
	    MH_DB_CMESSAGES },
	[MH_DB_CM_BY_CAMPAIGN] = { "campaign-messages-by-campaign.db",
	    MH_DB_CMESSAGES },
	[MH_DB_CM_BY_CLIENT] = { "campaign-messages-by-client.db",
	    MH_DB_CMESSAGES },
	[MH_DB_CM_MADE] = { "campaign-messages-made.db", -1 },
	[MH_DB_CQUEUE] = { "campaign-queue.db", -1 },
	[MH_DB_CQUEUE_DUE] = { "campaign-queue-due.db", MH_DB_CQUEUE },
	[MH_DB_EV_KEYS] = { "events-keys.db", -1 },
	[MH_DB_EV_BY_TIME] = { "events-by-time.db", -1 },
	[MH_DB_EV_BY_GRAM] = { "events-by-gram.db", -1 },
	[MH_DB_EV_PER_HOUR] = { "events-per-hour.db", -1 },
	[MH_DB_NOTES] = { "notes.db", -1 },
};

const struct mh_sendq_def mh_sendqs[] = {
	[MH_SENDQ_MAIL] = { MH_TABLE_MAIL, MH_DB_MAIL, MH_DB_OUTBOX,
	    MH_DB_OUTBOX_DUE },
	[MH_SENDQ_CAMPAIGN] = { MH_TABLE_CMESSAGES, MH_DB_CMESSAGES,
	    MH_DB_CQUEUE, MH_DB_CQUEUE_DUE },
};

/* The indexed tables. A field's index here is the one mh_dbs says indexes
 * that field of that table (tests/unit/tables.c holds the two equal). */
const struct mh_table_def mh_tables[] = {
	[MH_TABLE_EVENTS] = { .name = "events", .records = MH_DB_EVENTS,
	    .key = "seq", .field = {
	    { "type", MH_DB_BY_TYPE, 0, -1 },
	    { "email", MH_DB_BY_EMAIL, MH_FIELD_FOLDED, -1 },
	    { "message_id", MH_DB_BY_MESSAGE, 0, -1 } } },
	/* Numbered by the event they came with. */
	[MH_TABLE_CALLBACKS] = { .name = "callbacks",
	    .records = MH_DB_CALLBACKS, .key = "id", .field = {
	    { "status", MH_DB_CB_BY_STATUS, 0, -1 },
	    { "email", MH_DB_CB_BY_EMAIL, MH_FIELD_FOLDED, -1 },
	    { "external_id", MH_DB_CB_BY_EXTERNAL, 0, -1 } } },
	[MH_TABLE_NOTIFICATIONS] = { .name = "notifications",
	    .records = MH_DB_NOTIFICATIONS, .key = "id",
	    .counter = "notification", .field = {
	    { "user", MH_DB_NT_BY_USER, 0, -1 },
	    { "identifier", MH_DB_NT_BY_IDENTIFIER, MH_FIELD_FOLDED, -1 },
	    { "unread_user", MH_DB_NT_UNREAD, 0, -1 } } },
	[MH_TABLE_MAIL] = { .name = "mail", .records = MH_DB_MAIL,
	    .key = "id", .counter = "mail", .field = {
	    { "status", MH_DB_MAIL_BY_STATUS, 0, -1 },
	    { "recipients", MH_DB_MAIL_BY_TO, MH_FIELD_FOLDED, -1 },
	    { "tags", MH_DB_MAIL_BY_TAG, 0, -1 } } },
	/* A running campaign selects its clients again when they change. */
	[MH_TABLE_CLIENTS] = { .name = "clients", .records = MH_DB_CLIENTS,
	    .key = "id", .counter = "client", .changes = "clients_changed",
	    .field = {
	    { "tag", MH_DB_CLIENTS_BY_TAG, 0, -1 },
	    { "operator_code", MH_DB_CLIENTS_BY_OPERATOR, 0, -1 },
	    { "phone", MH_DB_CLIENTS_BY_PHONE, 0, MH_DB_CLIENT_PHONES } } },
	[MH_TABLE_CAMPAIGNS] = { .name = "campaigns",
	    .records = MH_DB_CAMPAIGNS, .key = "id", .counter = "campaign",
	    .field = {
	    { "deleted", MH_DB_CAMPAIGNS_BY_STATE, 0, -1 },
	    { "channel", MH_DB_CAMPAIGNS_BY_CHANNEL, 0, -1 },
	    { NULL, -1, 0, -1 } } },
	[MH_TABLE_CMESSAGES] = { .name = "campaign-messages",
	    .records = MH_DB_CMESSAGES, .key = "id",
	    .counter = "campaign_message", .field = {
	    { "campaign_status", MH_DB_CM_BY_STATE, 0, -1 },
	    { "campaign", MH_DB_CM_BY_CAMPAIGN, 0, -1 },
	    { "client", MH_DB_CM_BY_CLIENT, 0, -1 } } },
};
const size_t mh_table_count = sizeof(mh_tables) / sizeof(mh_tables[0]);

/*
 * Index callbacks: a record starts with three NUL-terminated fields (see
 * indexed.c); the secondary key is the field, a NUL, and the 8-byte id,
 * so that each index is ordered by id. A field of several values
 * (MH_VALUE_SEP apart) gives a key for each, the same value once.
 */

/* The key of one value (len bytes) of the record under pkey into *k. */
static int
mh_index_key(const char *v, size_t len, const DBT *pkey, DBT *k)
{
	unsigned char *buf;

	if ((buf = malloc(len + 9)) == NULL)
		return ENOMEM;
	memcpy(buf, v, len);
	buf[len] = '\0';
	memcpy(buf + len + 1, pkey->data, 8);
	memset(k, 0, sizeof(*k));
	k->data = buf;
	k->size = (u_int32_t)(len + 9);
	k->flags = DB_DBT_APPMALLOC;
	return 0;
}

/* Whether the value v (len bytes) came before in the field at p. */
static int
mh_value_seen(const char *p, const char *v, size_t len)
{
	for (const char *s = p; s < v;) {
		const char *e = memchr(s, MH_VALUE_SEP, (size_t)(v - s));
		size_t n = e != NULL ? (size_t)(e - s) : (size_t)(v - s);

		if (n == len && memcmp(s, v, len) == 0)
			return 1;
		s += n + 1;
	}
	return 0;
}

/* Keys for each value of the field p (len bytes) in skey. */
static int
mh_index_values(const char *p, size_t len, const DBT *pkey, DBT *skey)
{
	size_t count = 1, n = 0;
	DBT *keys;
	int ret = 0;

	for (size_t i = 0; i < len; i++)
		count += p[i] == MH_VALUE_SEP;
	if (count == 1)
		return mh_index_key(p, len, pkey, skey);
	if ((keys = calloc(count, sizeof(*keys))) == NULL)
		return ENOMEM;
	for (const char *v = p, *end = p + len; v <= end && ret == 0;) {
		const char *e = memchr(v, MH_VALUE_SEP, (size_t)(end - v));
		size_t vlen = e != NULL ? (size_t)(e - v) : (size_t)(end - v);

		if (vlen > 0 && !mh_value_seen(p, v, vlen))
			ret = mh_index_key(v, vlen, pkey, &keys[n++]);
		v += vlen + 1;
	}
	if (ret != 0 || n == 0) {
		for (size_t i = 0; i < n; i++)
			free(keys[i].data);
		free(keys);
		return ret != 0 ? ret : DB_DONOTINDEX;
	}
	memset(skey, 0, sizeof(*skey));
	skey->data = keys;
	skey->size = (u_int32_t)n;
	skey->flags = DB_DBT_MULTIPLE | DB_DBT_APPMALLOC;
	return 0;
}

static int
mh_index_field(const DBT *pkey, const DBT *pdata, DBT *skey, int field)
{
	const char *p = pdata->data, *end;
	size_t n = pdata->size;

	for (int i = 0; i < field; i++) {
		end = memchr(p, '\0', n);
		if (end == NULL)
			return DB_DONOTINDEX;
		n -= (size_t)(end - p) + 1;
		p = end + 1;
	}
	end = memchr(p, '\0', n);
	if (end == NULL || end == p || pkey->size != 8)
		return DB_DONOTINDEX;
	return mh_index_values(p, (size_t)(end - p), pkey, skey);
}

/* The outbox's due index: a lease's due time (its first 8 bytes, see
 * lease.c) and the mail's id, so that what is due first comes first. */
static int
mh_index_due(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	unsigned char *k;

	(void)db;
	if (pkey->size != 8 || pdata->size < 8)
		return DB_DONOTINDEX;
	if ((k = malloc(16)) == NULL)
		return ENOMEM;
	memcpy(k, pdata->data, 8);
	memcpy(k + 8, pkey->data, 8);
	memset(skey, 0, sizeof(*skey));
	skey->data = k;
	skey->size = 16;
	skey->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int
mh_index_field0(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	(void)db;
	return mh_index_field(pkey, pdata, skey, 0);
}

static int
mh_index_field1(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	(void)db;
	return mh_index_field(pkey, pdata, skey, 1);
}

static int
mh_index_field2(DB *db, const DBT *pkey, const DBT *pdata, DBT *skey)
{
	(void)db;
	return mh_index_field(pkey, pdata, skey, 2);
}

static int (*const mh_index_of[MH_FIELDS])(DB *, const DBT *, const DBT *,
    DBT *) = {
	mh_index_field0, mh_index_field1, mh_index_field2,
};

static int
mh_db_open(DB_ENV *env, DB **out, const char *file, u_int32_t create)
{
	DB *db;
	int ret;

	*out = NULL;
	if ((ret = db_create(&db, env, 0)) != 0)
		return ret;
	ret = db->open(db, NULL, file, NULL, DB_BTREE,
	    create | DB_AUTO_COMMIT | DB_THREAD, MH_FILE_MODE);
	if (ret != 0) {
		db->close(db, 0);
		return ret;
	}
	*out = db;
	return 0;
}

/* Associates index with primary through the key callback. */
static int
mh_associate(DB *primary, DB *index,
    int (*key)(DB *, const DBT *, const DBT *, DBT *), u_int32_t create)
{
	return primary->associate(primary, NULL, index, key,
	    create | DB_AUTO_COMMIT);
}

int
mh_tables_open(DB_ENV *env, DB *db[MH_DB_COUNT], u_int32_t create)
{
	int ret;

	for (int i = 0; i < MH_DB_COUNT; i++)
		if ((ret = mh_db_open(env, &db[i], mh_dbs[i].file, create)) != 0)
			return ret;
	/* Each indexed table's fields, as its descriptor declares them. */
	for (size_t t = 0; t < mh_table_count; t++)
		for (int f = 0; f < MH_FIELDS; f++)
			if (mh_tables[t].field[f].index >= 0 &&
			    (ret = mh_associate(db[mh_tables[t].records],
			    db[mh_tables[t].field[f].index], mh_index_of[f],
			    create)) != 0)
				return ret;
	/* Each send queue's due times. */
	for (int q = 0; q < MH_SENDQ_COUNT; q++)
		if ((ret = mh_associate(db[mh_sendqs[q].queue],
		    db[mh_sendqs[q].due], mh_index_due, create)) != 0)
			return ret;
	return 0;
}

void
mh_tables_close(DB *db[MH_DB_COUNT])
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < MH_DB_COUNT; i++) {
			if (db[i] == NULL || (pass == 0) != (mh_dbs[i].indexes >= 0))
				continue;
			db[i]->close(db[i], 0);
			db[i] = NULL;
		}
}

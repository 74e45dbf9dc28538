/*
 * The tables' declarations. The indexed tables' descriptors (db/tables.c's
 * mh_tables) against the databases' table (mh_dbs): each declared field's
 * index is a secondary of that table's records, every secondary is a
 * declared field's index or a send queue's due times, and the send queues
 * name their records' table. And the layouts (db/layout.c): the bytes a
 * user, a session, a token and the sender's note are stored as are those
 * the hand-made codecs before them wrote, so that what is stored reads
 * the same.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "core/core.h"
#include "db/store-private.h"

/* The stored record of key in database dbi, into buf; its length, or 0. */
static size_t
raw_get(struct mh_store *st, int dbi, const void *key, size_t klen,
    unsigned char *buf, size_t cap)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	d.data = buf;
	d.ulen = (u_int32_t)cap;
	d.flags = DB_DBT_USERMEM;
	return st->db[dbi]->get(st->db[dbi], NULL, &k, &d, 0) == 0 ? d.size : 0;
}

static void
raw_put(struct mh_store *st, int dbi, const void *key, size_t klen,
    const void *rec, size_t len)
{
	DBT k, d;

	memset(&k, 0, sizeof(k));
	memset(&d, 0, sizeof(d));
	k.data = (void *)key;
	k.size = (u_int32_t)klen;
	d.data = (void *)rec;
	d.size = (u_int32_t)len;
	st->db[dbi]->put(st->db[dbi], NULL, &k, &d, 0);
}

static void
layouts(void)
{
	char home[] = "/tmp/mh-tables-XXXXXX", cmd[64];
	struct mh_user u = { .name = "vera", .role = MH_ROLE_ADMIN,
	    .disabled = 1, .created = 0x0102030405060708, .generation =
	    0x0a0b0c0d, .hash = "$y$j9T$x" }, got;
	struct mh_session s = { .key = { 1 }, .user = "vera",
	    .generation = 7, .user_created = 9, .created = 100, .seen = 200 },
	    sgot;
	struct mh_token t = { .hash = { 2 }, .name = "grafana", .scopes = 5,
	    .created = 300, .last_used = 0 }, tgot;
	/* As the hand-made codecs wrote them: numbers big-endian in the
	 * struct's order, then the text and its NUL. */
	static const unsigned char user_rec[] = { 1, 1, 1, 2, 3, 4, 5, 6, 7, 8,
	    0x0a, 0x0b, 0x0c, 0x0d, '$', 'y', '$', 'j', '9', 'T', '$', 'x', 0 };
	static const unsigned char session_rec[] = { 0, 0, 0, 7,
	    0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 100,
	    0, 0, 0, 0, 0, 0, 0, 200, 'v', 'e', 'r', 'a', 0 };
	static const unsigned char token_rec[] = { 0, 0, 0, 5,
	    0, 0, 0, 0, 0, 0, 1, 44, 0, 0, 0, 0, 0, 0, 0, 0,
	    'g', 'r', 'a', 'f', 'a', 'n', 'a', 0 };
	static const unsigned char bad_role[] = { 9, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 'h', 0 };
	unsigned char buf[256];
	struct mh_store *st;
	size_t n;

	if (mkdtemp(home) == NULL || mh_store_open(home, &st) != MH_STORE_OK) {
		ok(0, "a store to write accounts into");
		return;
	}
	ok(mh_store_user_add(st, &u, 0) == MH_STORE_OK &&
	    (n = raw_get(st, MH_DB_USERS, "vera", 4, buf, sizeof(buf))) ==
	    sizeof(user_rec) && memcmp(buf, user_rec, n) == 0,
	    "a user is stored as before: role, disabled, created, generation, "
	    "hash");
	ok(mh_store_session_add(st, &s) == MH_STORE_OK &&
	    (n = raw_get(st, MH_DB_SESSIONS, s.key, MH_KEY_HASH_LEN, buf,
	    sizeof(buf))) == sizeof(session_rec) &&
	    memcmp(buf, session_rec, n) == 0, "a session is stored as before");
	ok(mh_store_session_seen(st, s.key, 0x1234) == MH_STORE_OK &&
	    mh_store_session_get(st, s.key, &sgot) == MH_STORE_OK &&
	    sgot.seen == 0x1234 && sgot.created == 100 &&
	    strcmp(sgot.user, "vera") == 0,
	    "its last use is written in its place");
	ok(mh_store_token_add(st, &t) == MH_STORE_OK &&
	    (n = raw_get(st, MH_DB_TOKENS, t.hash, MH_KEY_HASH_LEN, buf,
	    sizeof(buf))) == sizeof(token_rec) &&
	    memcmp(buf, token_rec, n) == 0, "a token is stored as before");
	ok(mh_store_token_used(st, t.hash, 77) == MH_STORE_OK &&
	    mh_store_token_get(st, t.hash, &tgot) == MH_STORE_OK &&
	    tgot.last_used == 77 && tgot.scopes == 5 &&
	    strcmp(tgot.name, "grafana") == 0, "its last use too");
	{
		struct mh_sender_note note = { .seen_ms = 0x0102030405060708,
		    .pid = 77, .key_state = 2, .key_hash = { 1, 2, 3, 4, 5, 6,
		    7, 8 }, .since_ms = 300 }, back;
		/* As outbox.c's hand-made codec wrote it: seen, pid, key
		 * state, the key's hash, since. */
		static const unsigned char note_rec[] = { 1, 2, 3, 4, 5, 6, 7,
		    8, 0, 0, 0, 77, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8,
		    0, 0, 0, 0, 0, 0, 1, 44 };

		ok(mh_store_sender_note_put(st, &note) == MH_STORE_OK &&
		    (n = raw_get(st, MH_DB_META, "sender", 6, buf,
		    sizeof(buf))) == sizeof(note_rec) &&
		    memcmp(buf, note_rec, n) == 0 &&
		    mh_store_sender_note_get(st, &back) == MH_STORE_OK &&
		    memcmp(&back, &note, sizeof(note)) == 0,
		    "the sender's note is stored as before, and read back whole");
		raw_put(st, MH_DB_META, "sender", 6, note_rec, 31);
		ok(mh_store_sender_note_get(st, &back) == MH_STORE_NOTFOUND,
		    "a note cut short is none");
	}
	raw_put(st, MH_DB_USERS, "old", 3, user_rec, sizeof(user_rec));
	ok(mh_store_user_get(st, "old", &got) == MH_STORE_OK &&
	    got.role == MH_ROLE_ADMIN && got.disabled == 1 &&
	    got.created == 0x0102030405060708 && got.generation ==
	    0x0a0b0c0d && strcmp(got.hash, "$y$j9T$x") == 0,
	    "a user stored by the codec before is read whole");
	raw_put(st, MH_DB_USERS, "bad", 3, bad_role, sizeof(bad_role));
	ok(mh_store_user_get(st, "bad", &got) != MH_STORE_OK,
	    "a record with no role of ours is no user");
	raw_put(st, MH_DB_USERS, "cut", 3, user_rec, sizeof(user_rec) - 1);
	ok(mh_store_user_get(st, "cut", &got) != MH_STORE_OK,
	    "nor is one whose hash lost its NUL");
	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
}

/* A change that gives a client the phone ctx. */
static int
to_phone(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	out->client.tag = strdup(f->client.tag);
	out->client.operator_code = strdup(f->client.operator_code);
	out->client.phone = strdup(ctx);
	out->json = strdup(json);
	return MH_CHANGE_WRITE;
}

static int
delete_it(void *ctx, const union mh_fields_ref *f, const char *json,
    struct mh_record *out)
{
	(void)ctx;
	(void)f;
	(void)json;
	(void)out;
	return MH_CHANGE_DELETE;
}

/* Adds a client: what the storage said. */
static enum mh_store_err
add_client(struct mh_store *st, const struct mh_record *rec)
{
	char *text = NULL;
	enum mh_store_err err = mh_store_record_add(st, MH_TABLE_CLIENTS, rec,
	    mh_record_answer, &(struct mh_added){ rec, 0 }, &text);

	free(text);
	return err;
}

/* A unique field, as the clients' descriptor declares the phone: one
 * record a value, moved with a change, given back with a delete. */
static void
unique(void)
{
	char home[] = "/tmp/mh-unique-XXXXXX", cmd[64];
	struct mh_record a = { .client = { (char *)"t", (char *)"900",
	    (char *)"79000000001" }, .json = (char *)"{}" };
	struct mh_record b = { .client = { (char *)"t", (char *)"900",
	    (char *)"79000000002" }, .json = (char *)"{}" };
	struct mh_store *st;
	uint64_t changes = 0;

#define ADD(rec) add_client(st, (rec))
	if (mkdtemp(home) == NULL || mh_store_open(home, &st) != MH_STORE_OK) {
		ok(0, "a store for the clients");
		return;
	}
	ok(ADD(&a) == MH_STORE_OK && ADD(&b) == MH_STORE_OK,
	    "two clients of two phones");
	ok(ADD(&a) == MH_STORE_EXISTS, "a third with the first's phone: "
	    "exists");
	ok(mh_store_record_change(st, MH_TABLE_CLIENTS, 2, to_phone,
	    (void *)"79000000001", NULL) == MH_STORE_EXISTS,
	    "the second changed to the first's phone: exists");
	ok(mh_store_record_change(st, MH_TABLE_CLIENTS, 1, to_phone,
	    (void *)"79000000003", NULL) == MH_STORE_OK && ADD(&a) ==
	    MH_STORE_OK, "the first moved to another: its phone is free");
	ok(mh_store_record_change(st, MH_TABLE_CLIENTS, 2, delete_it, NULL,
	    NULL) == MH_STORE_OK && ADD(&b) == MH_STORE_OK,
	    "the second deleted: its phone is free");
	if (mh_store_record_changes(st, MH_TABLE_CLIENTS, &changes) !=
	    MH_STORE_OK)
		changes = 0;
	ok(changes == 6, "each write moved the changes counter: %" PRIu64
	    " (4 added, 1 changed, 1 deleted)", changes);
	for (size_t t = 0; t < mh_table_count; t++)
		for (int i = 0; i < MH_FIELDS; i++)
			if (mh_tables[t].field[i].unique >= 0)
				ok(!(mh_tables[t].field[i].flags &
				    MH_FIELD_FOLDED), "%s.%s: a unique field "
				    "is kept as given, not folded",
				    mh_tables[t].name, mh_tables[t].field[i].name);
	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", home);
#undef ADD
}

int
main(void)
{
	int declared = 0, indexes = 0;

	for (size_t t = 0; t < mh_table_count; t++) {
		const struct mh_table_def *def = &mh_tables[t];

		ok(def->name != NULL && def->records >= 0 &&
		    mh_dbs[def->records].indexes < 0, "%s: its records are a "
		    "primary database (%s)", def->name,
		    mh_dbs[def->records].file);
		for (int i = 0; i < MH_FIELDS; i++) {
			int ix = def->field[i].index;

			if (ix < 0)
				continue;
			declared++;
			ok(def->field[i].name != NULL &&
			    mh_dbs[ix].indexes == def->records,
			    "%s.%s is indexed by %s, a secondary of its records",
			    def->name, def->field[i].name, mh_dbs[ix].file);
		}
	}
	for (int d = 0; d < MH_DB_COUNT; d++)
		indexes += mh_dbs[d].indexes >= 0;
	ok(declared + MH_SENDQ_COUNT == indexes, "every secondary database is "
	    "a declared field's index or a send queue's due times (%d + %d "
	    "declared, %d in mh_dbs)", declared, MH_SENDQ_COUNT, indexes);
	for (int q = 0; q < MH_SENDQ_COUNT; q++)
		ok(mh_dbs[mh_sendqs[q].due].indexes == mh_sendqs[q].queue,
		    "the send queue %s's due times index it",
		    mh_dbs[mh_sendqs[q].queue].file);
	ok(mh_tables[mh_sendqs[MH_SENDQ_MAIL].table].records ==
	    mh_sendqs[MH_SENDQ_MAIL].records &&
	    mh_tables[mh_sendqs[MH_SENDQ_CAMPAIGN].table].records ==
	    mh_sendqs[MH_SENDQ_CAMPAIGN].records,
	    "each send queue's records are its table's");
	ok(strcmp(mh_tables[MH_TABLE_EVENTS].key, "seq") == 0 &&
	    strcmp(mh_tables[MH_TABLE_MAIL].key, "id") == 0,
	    "events are numbered by seq, the rest by id");
	layouts();
	unique();
	return done_testing();
}

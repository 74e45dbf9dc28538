/*
 * The indexed tables' descriptors (db/tables.c's mh_tables) against the
 * databases' table (mh_dbs): each declared field's index is the database
 * that indexes that field of that table, every such database is declared
 * by its table, and the send queues name their records' table.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "db/store-private.h"

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
			    mh_dbs[ix].indexes == def->records &&
			    mh_dbs[ix].field == i, "%s.%s is indexed by %s",
			    def->name, def->field[i].name, mh_dbs[ix].file);
		}
	}
	for (int d = 0; d < MH_DB_COUNT; d++)
		if (mh_dbs[d].indexes >= 0 && mh_dbs[d].field < MH_FIELDS)
			indexes++;
	ok(declared == indexes, "every index of a header field is declared "
	    "by its table (%d declared, %d in mh_dbs)", declared, indexes);
	ok(mh_tables[mh_sendqs[MH_SENDQ_MAIL].table].records ==
	    mh_sendqs[MH_SENDQ_MAIL].records &&
	    mh_tables[mh_sendqs[MH_SENDQ_CAMPAIGN].table].records ==
	    mh_sendqs[MH_SENDQ_CAMPAIGN].records,
	    "each send queue's records are its table's");
	ok(strcmp(mh_tables[MH_TABLE_EVENTS].key, "seq") == 0 &&
	    strcmp(mh_tables[MH_TABLE_MAIL].key, "id") == 0,
	    "events are numbered by seq, the rest by id");
	return done_testing();
}

/*
 * mailhooks-db client list [--tag TAG] | client show ID, and campaign
 * list | campaign show ID: the campaigns' clients and the campaigns from
 * the shell, as JSON (a list one record a line, oldest first). A
 * campaign comes with its status now and its messages counted by
 * status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "core/core.h"

/* A listing: its query, whose cursor each line moves, and whether its
 * records are campaigns (each shown with its status now). */
struct mh_list {
	struct mh_query q;
	int campaigns;
};

/* A record's line: its JSON as stored (a campaign's with its status). */
static int
mh_record_line(void *ctx, uint64_t id, const char *json, size_t len)
{
	struct mh_list *l = ctx;
	struct json_object *c;
	char stand_in[64];

	l->q.after = id;
	if (l->campaigns && (c = json_tokener_parse(json)) != NULL) {
		mh_json_set_str(c, "status", mh_campaign_status(c, mh_now_ms()));
		printf("%s\n", mh_json_text(c));
		json_object_put(c);
	} else {
		json = mh_json_stored(json, &len, id, stand_in);
		printf("%.*s\n", (int)len, json);
	}
	return ferror(stdout) ? -1 : 0;
}

/* The records of a table, oldest first. */
static int
mh_records_list(struct mh_cmd_ctx *c, struct mh_list *l)
{
	int more = 1;

	l->q.has_after = 1;
	l->q.limit = 500;
	while (more)
		if (mh_store_query(c->st, &l->q, mh_record_line, l, &more) !=
		    MH_STORE_OK) {
			fprintf(stderr, "mailhooks-db: storage error\n");
			return 1;
		}
	return 0;
}

static void
mh_count_into(void *ctx, uint64_t campaign, const char *status, uint64_t n)
{
	(void)campaign;
	json_object_object_add(ctx, status, json_object_new_int64((int64_t)n));
}

/* One record, by the id in argv[1]: a campaign with its status and its
 * messages counted. */
static int
mh_record_show(struct mh_cmd_ctx *c, enum mh_table table, const char *what)
{
	unsigned long long n;
	struct json_object *o, *counts;
	char *json = NULL;
	enum mh_store_err err;

	if (mh_parse_uint(c->argv[1], UINT64_MAX, &n) != 0 || n == 0) {
		fprintf(stderr, "mailhooks-db: %s show ID: ID is a whole number "
		    "from 1\n", what);
		return 2;
	}
	if ((err = mh_store_record_get(c->st, table, n, &json)) != MH_STORE_OK) {
		fprintf(stderr, err == MH_STORE_NOTFOUND ? "mailhooks-db: no %s "
		    "%llu\n" : "mailhooks-db: storage error reading %s %llu\n",
		    what, n);
		return 1;
	}
	if (table == MH_TABLE_CAMPAIGNS && (o = json_tokener_parse(json)) !=
	    NULL) {
		mh_json_set_str(o, "status", mh_campaign_status(o, mh_now_ms()));
		counts = json_object_new_object();
		if (mh_store_cmessages_count(c->st, n, mh_count_into, counts) ==
		    MH_STORE_OK)
			json_object_object_add(o, "messages", counts);
		else
			json_object_put(counts);
		printf("%s\n", mh_json_text(o));
		json_object_put(o);
	} else
		printf("%s\n", json);
	free(json);
	return 0;
}

int
cmd_client(struct mh_cmd_ctx *c)
{
	struct mh_list l = { .q = { .table = MH_TABLE_CLIENTS } };

	if (strcmp(c->argv[0], "list") == 0 && c->argc == 1)
		return mh_records_list(c, &l);
	if (strcmp(c->argv[0], "list") == 0 && c->argc == 3 &&
	    strcmp(c->argv[1], "--tag") == 0) {
		l.q.where.client.tag = c->argv[2];
		return mh_records_list(c, &l);
	}
	if (strcmp(c->argv[0], "show") == 0 && c->argc == 2)
		return mh_record_show(c, MH_TABLE_CLIENTS, "client");
	fprintf(stderr, "mailhooks-db: client list [--tag TAG] | client show "
	    "ID\n");
	return 2;
}

int
cmd_campaign(struct mh_cmd_ctx *c)
{
	struct mh_list l = { .q = { .table = MH_TABLE_CAMPAIGNS },
	    .campaigns = 1 };

	if (strcmp(c->argv[0], "list") == 0 && c->argc == 1)
		return mh_records_list(c, &l);
	if (strcmp(c->argv[0], "show") == 0 && c->argc == 2)
		return mh_record_show(c, MH_TABLE_CAMPAIGNS, "campaign");
	fprintf(stderr, "mailhooks-db: campaign list | campaign show ID\n");
	return 2;
}

/*
 * Idempotency keys expire: mh_store_idem_expire deletes the keys older
 * than their time, across several transactions, keeps the young ones
 * (which still answer with their first answer), and does its walk once
 * in `every` seconds among all the store's users.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "core/core.h"
#include "db/store-private.h"

static char *
answer(void *ctx, uint64_t first, size_t n)
{
	char *s = malloc(32);

	(void)ctx;
	if (s != NULL)
		snprintf(s, 32, "{\"id\":%llu,\"n\":%zu}",
		    (unsigned long long)first, n);
	return s;
}

/* Adds a mail under key i, first used at when; how it was taken. */
static enum mh_idem_result
add_keyed(struct mh_store *st, int i, int64_t when, char **text)
{
	struct mh_record r = { .mail = { (char *)"queued", (char *)"a@x.io",
	    (char *)"" }, .json = (char *)"{\"subject\":\"s\"}" };
	struct mh_idem idem = { NULL, 0, { 0 }, when, MH_IDEM_TTL };
	enum mh_idem_result res = MH_IDEM_CONFLICT;
	char key[32];

	idem.klen = (size_t)snprintf(key, sizeof(key), "asker\037key-%d", i);
	idem.key = key;
	memset(idem.hash, i & 0xff, sizeof(idem.hash));
	*text = NULL;
	if (mh_store_mail_add(st, &r, -1, &idem, answer, NULL, text, &res) !=
	    MH_STORE_OK)
		return MH_IDEM_CONFLICT;
	return res;
}

static uint64_t
keys(struct mh_store *st)
{
	uint64_t n = 0;

	return mh_db_count(st->db[MH_DB_IDEMPOTENCY], NULL, &n) == 0 ? n :
	    UINT64_MAX;
}

int
main(void)
{
	char home[] = "/tmp/mh-idem-XXXXXX", cmd[256], *first = NULL,
	    *again = NULL;
	struct mh_store *st;
	enum mh_store_err err;
	int64_t now = 1800000000;
	size_t n = 99, added = 0;

	if (mkdtemp(home) == NULL)
		return 1;
	alarm(30);
	ok(mh_store_open(home, &st) == MH_STORE_OK, "environment opens");
	/* 700 keys, over several walking transactions: every other one two
	 * days old, the rest a minute. */
	for (int i = 0; i < 700; i++) {
		char *text;

		added += add_keyed(st, i, now - (i % 2 ? 60 : 2 * 86400),
		    &text) == MH_IDEM_NEW;
		if (i == 7)
			first = text;
		else
			free(text);
	}
	ok(added == 700 && keys(st) == 700, "700 keys kept (%zu)", added);
	err = mh_store_idem_expire(st, now, MH_IDEM_TTL, 3600, &n);
	ok(err == MH_STORE_OK && n == 350 && keys(st) == 350,
	    "the 350 older than a day deleted (%zu)", n);
	ok(add_keyed(st, 7, now, &again) == MH_IDEM_REPLAY && first != NULL &&
	    again != NULL && strcmp(first, again) == 0,
	    "a young key still gives its first answer");
	free(again);
	for (int i = 700; i < 710; i++) {
		char *text;

		add_keyed(st, i, now - 2 * 86400, &text);
		free(text);
	}
	err = mh_store_idem_expire(st, now + 60, MH_IDEM_TTL, 3600, &n);
	ok(err == MH_STORE_OK && n == 0 && keys(st) == 360,
	    "a minute later the walk is not due: none deleted");
	err = mh_store_idem_expire(st, now + 3600, MH_IDEM_TTL, 3600, &n);
	ok(err == MH_STORE_OK && n == 10 && keys(st) == 350,
	    "an hour later it is: the 10 new old ones go (%zu)", n);
	err = mh_store_idem_expire(st, now + 2 * 86400, MH_IDEM_TTL, 0, &n);
	ok(err == MH_STORE_OK && n == 350 && keys(st) == 0,
	    "asked whatever the time (mailhooks-db prune): all, once old");
	free(first);
	mh_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		printf("# %s failed\n", cmd);
	return done_testing();
}

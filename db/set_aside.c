/*
 * The inbox entries given up on (poison: they could not be derived, or
 * killed every process that tried), kept by receipt with why:
 *
 *   byte 0       MH_SET_ASIDE_V1
 *   bytes 1-4    attempts, big-endian
 *   bytes 5-12   when, Unix seconds, big-endian
 *   the reason, as text
 *
 * Records written before this layout are a JSON text with its NUL; they
 * are handed out as they are (struct mh_set_aside's legacy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store-private.h"

#define MH_SET_ASIDE_V1 0x01
#define MH_SET_ASIDE_HEAD 13

int
mh_set_aside(struct mh_store *st, DB_TXN *txn, uint64_t receipt,
    uint32_t attempts, const char *reason)
{
	unsigned char kbuf[8], rec[MH_SET_ASIDE_HEAD + 255];
	size_t rlen = strnlen(reason, sizeof(rec) - MH_SET_ASIDE_HEAD);
	DBT key, data;
	int ret;

	rec[0] = MH_SET_ASIDE_V1;
	mh_be32_put(rec + 1, attempts);
	mh_be64_put(rec + 5, (uint64_t)time(NULL));
	memcpy(rec + MH_SET_ASIDE_HEAD, reason, rlen);
	mh_key64(&key, kbuf, receipt);
	memset(&data, 0, sizeof(data));
	data.data = rec;
	data.size = (u_int32_t)(MH_SET_ASIDE_HEAD + rlen);
	fprintf(stderr, "mailhooks: receipt=%llu set aside: %s\n",
	    (unsigned long long)receipt, reason);
	ret = st->db[MH_DB_SET_ASIDE]->put(st->db[MH_DB_SET_ASIDE], txn, &key,
	    &data, 0);
	if (ret == 0)
		ret = st->db[MH_DB_INBOX]->del(st->db[MH_DB_INBOX], txn, &key, 0);
	return ret;
}

/* Decodes a record kept under receipt; -1 when it is not one. */
static int
mh_set_aside_decode(uint64_t receipt, const unsigned char *p, size_t len,
    struct mh_set_aside *s)
{
	memset(s, 0, sizeof(*s));
	s->receipt = receipt;
	if (len > 0 && p[0] == '{' && p[len - 1] == '\0') {
		s->legacy = (const char *)p;
		return 0;
	}
	if (len < MH_SET_ASIDE_HEAD || p[0] != MH_SET_ASIDE_V1)
		return -1;
	s->attempts = mh_be32_get(p + 1);
	s->at = (int64_t)mh_be64_get(p + 5);
	snprintf(s->reason, sizeof(s->reason), "%.*s",
	    (int)(len - MH_SET_ASIDE_HEAD), (const char *)p + MH_SET_ASIDE_HEAD);
	return 0;
}

struct mh_set_aside_walk {
	int (*list)(void *ctx, const struct mh_set_aside *s);
	void *ctx;
};

static int
mh_set_aside_one(void *ctx, const DBT *key, const DBT *data)
{
	struct mh_set_aside_walk *w = ctx;
	struct mh_set_aside s;

	return key->size == 8 && mh_set_aside_decode(mh_be64_get(key->data),
	    data->data, data->size, &s) == 0 && w->list(w->ctx, &s) != 0;
}

static int
mh_set_aside_txn(struct mh_store *st, DB_TXN *txn, void *ctx)
{
	return mh_db_walk(st->db[MH_DB_SET_ASIDE], txn, NULL, 0,
	    mh_set_aside_one, ctx);
}

enum mh_store_err
mh_store_set_aside_list(struct mh_store *st,
    int (*list)(void *ctx, const struct mh_set_aside *s), void *ctx)
{
	struct mh_set_aside_walk w = { list, ctx };

	/* Once: what was handed out cannot be taken back. */
	return mh_store_error(mh_txn_once(st, DB_READ_COMMITTED, 0,
	    mh_set_aside_txn, &w));
}

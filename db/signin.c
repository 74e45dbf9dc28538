/*
 * Failed sign-ins (signin.db), counted by a key the application makes (a
 * user's name, an address): failures in a row (4) and the time of the
 * last (8). A sign-in that succeeds clears its user's count.
 */
#include <string.h>

#include "store-private.h"

#define MH_SIGNIN_REC 12

static void
mh_signin_decode(const unsigned char *rec, size_t len, struct mh_signin *s)
{
	memset(s, 0, sizeof(*s));
	if (len != MH_SIGNIN_REC)
		return;
	s->failures = mh_be32_get(rec);
	s->last = (int64_t)mh_be64_get(rec + 4);
}

static size_t
mh_signin_key_len(const char *key)
{
	return strnlen(key, MH_SIGNIN_KEY_MAX);
}

enum mh_store_err
mh_store_signin_get(struct mh_store *st, const char *key,
    struct mh_signin *s)
{
	unsigned char rec[MH_SIGNIN_REC];
	enum mh_store_err err;
	size_t len = 0;

	err = mh_keyed_get(st, MH_DB_SIGNIN, key, mh_signin_key_len(key), rec,
	    sizeof(rec), &len);
	mh_signin_decode(rec, err == MH_STORE_OK ? len : 0, s);
	return err == MH_STORE_NOTFOUND ? MH_STORE_OK : err;
}

struct mh_signin_fail {
	int64_t now, forget_before;
	struct mh_signin *out;
};

static int
mh_signin_fail_fn(void *ctx, unsigned char *rec, size_t *len, size_t cap,
    int found)
{
	struct mh_signin_fail *f = ctx;
	struct mh_signin s;

	(void)cap;
	mh_signin_decode(rec, found ? *len : 0, &s);
	if (s.last < f->forget_before)
		s.failures = 0;
	if (s.failures < UINT32_MAX)
		s.failures++;
	s.last = f->now;
	mh_be32_put(rec, s.failures);
	mh_be64_put(rec + 4, (uint64_t)s.last);
	*len = MH_SIGNIN_REC;
	*f->out = s;
	return MH_KEYED_WRITE;
}

enum mh_store_err
mh_store_signin_failed(struct mh_store *st, const char *key, int64_t now,
    int64_t forget_before, struct mh_signin *s)
{
	struct mh_signin_fail f = { now, forget_before, s };

	return mh_keyed_update(st, MH_DB_SIGNIN, key, mh_signin_key_len(key),
	    MH_SIGNIN_REC, mh_signin_fail_fn, &f, DB_TXN_WRITE_NOSYNC);
}

enum mh_store_err
mh_store_signin_clear(struct mh_store *st, const char *key)
{
	enum mh_store_err err = mh_keyed_del(st, MH_DB_SIGNIN, key,
	    mh_signin_key_len(key));

	return err == MH_STORE_NOTFOUND ? MH_STORE_OK : err;
}

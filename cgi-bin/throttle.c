/*
 * Failed sign-ins slow down: counted for the address they came from, and
 * for the user's name from that address (whether or not that user exists,
 * so that the answer cannot tell); the first MH_FREE_TRIES are free; after
 * them each try must wait 1, 2, 4... seconds after the last failure, at
 * most MH_WAIT_MAX. A count for the name alone, from any address, let
 * anyone lock any user out (five failures, then one every few minutes):
 * the right password from an address with no failures always gets in. A
 * count is forgotten a day after its last failure; a sign-in that succeeds
 * forgets its name's from its address. Times are in milliseconds: in whole
 * seconds a wait of 1 s could end at once, the failure made late in one
 * second and the next try early in the next.
 */
#include <stdio.h>

#include "mailhooks.h"

#define MH_FREE_TRIES 5
#define MH_WAIT_MAX (300 * 1000)
#define MH_FORGET_AFTER (86400 * 1000)

/* The throttle's keys for a name from an address, and for the address.
 * (A name is at most 64 bytes and an address 45: both fit.) */
static void
mh_throttle_keys(const char *user, const char *addr,
    char ukey[MH_SIGNIN_KEY_MAX], char akey[MH_SIGNIN_KEY_MAX])
{
	snprintf(ukey, MH_SIGNIN_KEY_MAX, "from:%s:%s", addr ? addr : "",
	    user);
	snprintf(akey, MH_SIGNIN_KEY_MAX, "addr:%s", addr ? addr : "");
}

/* How long after its last failure a key's next try waits, in ms. */
static int64_t
mh_throttle_wait(const struct mh_signin *s, int64_t now)
{
	uint32_t over;

	if (s->failures < MH_FREE_TRIES || s->last < now - MH_FORGET_AFTER)
		return 0;
	over = s->failures - MH_FREE_TRIES;
	return over >= 9 ? MH_WAIT_MAX : (int64_t)1000 << over;
}

int
mh_throttle_check(struct mh_app *app, struct mh_request *r, const char *user)
{
	char ukey[MH_SIGNIN_KEY_MAX], akey[MH_SIGNIN_KEY_MAX];
	const char *keys[2] = { ukey, akey };
	int64_t now = mh_now_ms(), left = 0;
	struct mh_signin s;
	enum mh_store_err err;

	mh_throttle_keys(user, mh_param(r, "REMOTE_ADDR"), ukey, akey);
	for (int i = 0; i < 2; i++) {
		if ((err = mh_store_signin_get(app->store, keys[i], &s)) !=
		    MH_STORE_OK) {
			mh_respond_store_error(r, err);
			return -1;
		}
		if (s.last + mh_throttle_wait(&s, now) - now > left)
			left = s.last + mh_throttle_wait(&s, now) - now;
	}
	if (left <= 0)
		return 0;
	left = (left + 999) / 1000;	/* whole seconds, rounded up */
	mh_respond_header(r, "Retry-After: %lld", (long long)left);
	mh_respond_error(r, MH_ERR_TOO_MANY_ATTEMPTS, "too many failed "
	    "sign-ins for this user or from this address: try again in %lld "
	    "s", (long long)left);
	return -1;
}

void
mh_throttle_failed(struct mh_app *app, struct mh_request *r,
    const char *user)
{
	char ukey[MH_SIGNIN_KEY_MAX], akey[MH_SIGNIN_KEY_MAX];
	int64_t now = mh_now_ms();
	struct mh_signin s;

	mh_throttle_keys(user, mh_param(r, "REMOTE_ADDR"), ukey, akey);
	mh_store_signin_failed(app->store, ukey, now, now - MH_FORGET_AFTER,
	    &s);
	mh_store_signin_failed(app->store, akey, now, now - MH_FORGET_AFTER,
	    &s);
}

void
mh_throttle_passed(struct mh_app *app, struct mh_request *r,
    const char *user)
{
	char ukey[MH_SIGNIN_KEY_MAX], akey[MH_SIGNIN_KEY_MAX];

	mh_throttle_keys(user, mh_param(r, "REMOTE_ADDR"), ukey, akey);
	mh_store_signin_clear(app->store, ukey);
}

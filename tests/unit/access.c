/* What a request carries to say who sends it, and the WebSocket tickets
 * (core/credentials.c, ticket.c, secrets.c): pure functions, each fed
 * what a client may send. */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "core/core.h"

static void
test_b64url(void)
{
	unsigned char in[7] = { 0xfb, 0xff, 0x00, 'a', 'b', 0x80, 0x7f };
	unsigned char back[8];
	char text[16];

	for (size_t n = 0; n <= sizeof(in); n++) {
		mh_b64url(in, n, text);
		ok(mh_b64url_decode(text, strlen(text), back, sizeof(back)) ==
		    (long)n && memcmp(in, back, n) == 0,
		    "base64url of %zu bytes comes back", n);
	}
	ok(strchr(text, '+') == NULL && strchr(text, '/') == NULL &&
	    strchr(text, '=') == NULL, "URL-safe, unpadded: %s", text);
	ok(mh_b64url_decode("a", 1, back, sizeof(back)) < 0,
	    "a length no bytes have is refused");
	ok(mh_b64url_decode("ab+c", 4, back, sizeof(back)) < 0,
	    "a character of the other alphabet is refused");
	ok(mh_b64url_decode("ab", 2, back, sizeof(back)) < 0,
	    "left-over bits that are not zero are refused (one text a value)");
	ok(mh_b64url_decode("AAAAAAAAAAAA", 12, back, 8) < 0,
	    "more bytes than fit are refused");
}

static void
test_secrets(void)
{
	char a[MH_TOKEN_LEN + 1], b[MH_TOKEN_LEN + 1];

	ok(mh_secret_new(MH_TOKEN_PREFIX, a, sizeof(a)) == 0 &&
	    mh_secret_new(MH_TOKEN_PREFIX, b, sizeof(b)) == 0 &&
	    strcmp(a, b) != 0, "two tokens differ");
	ok(strlen(a) == MH_TOKEN_LEN && strncmp(a, "mhk_", 4) == 0,
	    "a token is mhk_ and 43 characters (256 bits)");
	ok(mh_secret_shaped(a, MH_TOKEN_PREFIX), "it has a token's shape");
	ok(!mh_secret_shaped(a + 4, MH_TOKEN_PREFIX), "without its prefix not");
	a[10] = '.';
	ok(!mh_secret_shaped(a, MH_TOKEN_PREFIX), "nor with a foreign character");
	ok(mh_secret_new(MH_TOKEN_PREFIX, b, MH_TOKEN_LEN) != 0,
	    "a buffer too small is refused");
}

static void
test_credentials(void)
{
	char v[160];
	unsigned bits;

	ok(mh_cookie_get("a=1; mh_session=xyz; b=2", "mh_session", v,
	    sizeof(v)) == 0 && strcmp(v, "xyz") == 0, "the cookie of its name");
	ok(mh_cookie_get("xmh_session=1", "mh_session", v, sizeof(v)) != 0,
	    "not one whose name ends with it");
	ok(mh_cookie_get("mh_session=1; mh_session=2", "mh_session", v,
	    sizeof(v)) != 0, "given twice: none (which is meant?)");
	ok(mh_cookie_get(NULL, "mh_session", v, sizeof(v)) != 0 &&
	    mh_cookie_get("", "mh_session", v, sizeof(v)) != 0, "no header");
	ok(mh_cookie_get("mh_session=0123456789", "mh_session", v, 4) != 0,
	    "too long for the buffer: none");
	is_str(mh_bearer("Bearer  mhk_x"), "mhk_x", "a bearer token");
	is_str(mh_bearer("bearer mhk_x"), "mhk_x", "the scheme in any case");
	ok(mh_bearer("Basic eDp5") == NULL && mh_bearer("Bearer ") == NULL &&
	    mh_bearer(NULL) == NULL, "not basic, not empty");

	ok(mh_scopes_parse("events:read,metrics:read", &bits) == 0 &&
	    bits == (MH_SCOPE_EVENTS_READ | MH_SCOPE_METRICS_READ),
	    "scopes, comma separated");
	ok(mh_scopes_parse("events:read,root", &bits) != 0 &&
	    mh_scopes_parse("", &bits) != 0 &&
	    mh_scopes_parse("events:read,", &bits) != 0 &&
	    mh_scopes_parse("events:rea", &bits) != 0,
	    "an unknown, empty or cut scope is refused");
	mh_scopes_format(MH_SCOPES_ALL, v, sizeof(v));
	ok(mh_scopes_parse(v, &bits) == 0 && bits == MH_SCOPES_ALL,
	    "formatted scopes parse back: %s", v);

	ok(mh_origin_allowed("http://h:8080", NULL, "http://h:8080", NULL),
	    "the site's own Origin");
	ok(mh_origin_allowed("HTTP://H:8080", NULL, "http://h:8080", NULL),
	    "in any case");
	ok(!mh_origin_allowed("http://h:8081", NULL, "http://h:8080", NULL) &&
	    !mh_origin_allowed("https://h:8080", NULL, "http://h:8080", NULL) &&
	    !mh_origin_allowed("http://h:8080.evil", NULL, "http://h:8080",
	    NULL), "another port, scheme or host is not");
	ok(!mh_origin_allowed("null", NULL, "http://h", NULL) &&
	    !mh_origin_allowed("http://h/path", NULL, "http://h", NULL),
	    "an opaque Origin, or one with a path, is not");
	ok(mh_origin_allowed(NULL, "http://h/page?x=1", "http://h", NULL),
	    "lacking an Origin, the Referer's");
	ok(!mh_origin_allowed("http://evil", "http://h/", "http://h", NULL),
	    "an Origin is not overruled by a Referer");
	ok(!mh_origin_allowed(NULL, NULL, "http://h", NULL),
	    "neither: not the site's");
	ok(mh_origin_allowed("https://ops.example", NULL, "http://h",
	    "https://a.example, https://ops.example"),
	    "one of the allowed origins");
	ok(!mh_origin_allowed("https://ops.exam", NULL, "http://h",
	    "https://ops.example"), "not a part of one");
}

static void
test_tickets(void)
{
	unsigned char key[MH_SECRET_BYTES], other[MH_SECRET_BYTES];
	struct mh_ticket t = { .user = "alice", .role = "viewer",
	    .channels = "events,user:alice", .expires = 1000 }, got;
	char text[MH_TICKET_MAX], copy[MH_TICKET_MAX];
	char *dot;

	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	ok(mh_ticket_make(key, &t, text, sizeof(text)) == 0, "a ticket is made");
	ok(mh_ticket_read(key, text, 999, &got) == MH_TICKET_OK &&
	    strcmp(got.user, "alice") == 0 && strcmp(got.role, "viewer") == 0 &&
	    got.expires == 1000 && strcmp(got.nonce, t.nonce) == 0,
	    "and read back");
	ok(mh_ticket_has_channel(&got, "events") &&
	    mh_ticket_has_channel(&got, "user:alice") &&
	    !mh_ticket_has_channel(&got, "user:bob") &&
	    !mh_ticket_has_channel(&got, "event"), "its channels, whole");
	ok(mh_ticket_read(key, text, 1001, &got) == MH_TICKET_EXPIRED,
	    "after it expires: expired");
	ok(mh_ticket_read(other, text, 999, &got) == MH_TICKET_FORGED,
	    "under another key: forged");
	for (size_t i = 0, n = strlen(text); i < n; i += 7) {
		strcpy(copy, text);
		copy[i] ^= 1;
		if (!ok(mh_ticket_read(key, copy, 999, &got) != MH_TICKET_OK,
		    "one bit changed at %zu: refused", i)) {
			printf("# %s\n", copy);
			break;
		}
	}
	strcpy(copy, text);
	dot = strchr(copy, '.');
	*dot = '\0';
	ok(mh_ticket_read(key, copy, 999, &got) == MH_TICKET_MALFORMED &&
	    mh_ticket_read(key, "", 999, &got) == MH_TICKET_MALFORMED &&
	    mh_ticket_read(key, ".", 999, &got) == MH_TICKET_MALFORMED,
	    "without its signature: malformed");
	ok(mh_ticket_make(key, &t, text, 20) != 0, "too small a buffer: none");
}

int
main(void)
{
	test_b64url();
	test_secrets();
	test_credentials();
	test_tickets();
	return done_testing();
}

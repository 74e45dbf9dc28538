/*
 * Who may ask what: the secrets (secrets.c), the WebSocket tickets
 * (ticket.c, shared with the relay) and the credentials a request
 * carries (credentials.c). Pure, or reading only the ticket key's file:
 * every program links them.
 */
#ifndef MH_ACCESS_H
#define MH_ACCESS_H

#include <stddef.h>
#include <stdint.h>

/* A secret's random bytes, their URL-safe base64 text's length, and the
 * length of a SHA-256 (what is kept of a session id or a token). */
#define MH_SECRET_BYTES 32
#define MH_SECRET_B64 43
#define MH_HASH_LEN 32
/* An API token's prefix: a leaked token is recognised by it. */
#define MH_TOKEN_PREFIX "mhk_"
#define MH_TOKEN_LEN (4 + MH_SECRET_B64)

/* --- secrets.c */
/* n bytes from the system's random source: 0, or -1. */
int mh_random(void *buf, size_t n);
/* The URL-safe base64 of n bytes, unpadded, into out (at least
 * (n + 2) / 3 * 4 + 1 bytes); its length. */
size_t mh_b64url(const unsigned char *in, size_t n, char *out);
/* The bytes of len characters of URL-safe base64 into out (at most max);
 * their count, or -1 when the text is not one, or they do not fit. */
long mh_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t max);
void mh_sha256(const void *data, size_t n, unsigned char out[MH_HASH_LEN]);
/* A new secret: prefix, then 256 random bits in base64; 0, or -1. */
int mh_secret_new(const char *prefix, char *out, size_t outlen);
/* Whether text has the shape of a secret of that prefix. */
int mh_secret_shaped(const char *text, const char *prefix);
/* The key in the file home/name (mode 0600), made at its first use by
 * whichever process comes first; 0, or -1 (errno) when it cannot be read
 * or made. */
int mh_key_file(const char *home, const char *name,
    unsigned char key[MH_SECRET_BYTES]);
/* The key tickets are signed with: home/ticket.key. */
int mh_ticket_key(const char *home, unsigned char key[MH_SECRET_BYTES]);

/* --- unsubscribe.c: a campaign mail's link to opt its client out. */
/* The key its links are signed with: home/unsubscribe.key (not the
 * tickets': the relay holds that one). */
#define MH_UNSUB_KEY_FILE "unsubscribe.key"
/* A link's token: CLIENT "." CAMPAIGN "." base64url(HMAC-SHA256(key,
 * "unsubscribe\nCLIENT\nCAMPAIGN")), at most this long with its NUL. */
#define MH_UNSUB_TOKEN_MAX 96
/* The token for client and campaign into out; 0, or -1. */
int mh_unsub_token(const unsigned char key[MH_SECRET_BYTES], uint64_t client,
    uint64_t campaign, char out[MH_UNSUB_TOKEN_MAX]);
/* Checks a token's signature (in constant time) and reads its client and
 * campaign: 0, or -1 when it is malformed, forged or altered. */
int mh_unsub_read(const unsigned char key[MH_SECRET_BYTES], const char *token,
    uint64_t *client, uint64_t *campaign);
/* The value of a mail's List-Unsubscribe header (RFC 2369) into out: the
 * link under site (MAILHOOKS_PUBLIC_URL; NULL: none), and a mailto: at
 * mail_from (NULL: none). 0, or -1 when there is neither or no room. */
int mh_list_unsubscribe(const char *site, const char *token,
    const char *mail_from, char *out, size_t outlen);

/* --- ticket.c: one WebSocket handshake's permission. */
struct mh_ticket {
	char user[65];
	char role[8];		/* "admin", "viewer", or "token" */
	char channels[160];	/* "events", "user:NAME"; comma separated */
	int64_t expires;	/* Unix seconds */
	char nonce[33];		/* hex; set by mh_ticket_make */
};
/* How long a ticket is good for, in seconds. */
#define MH_TICKET_TTL 60
/* A ticket's text is at most this long, with its NUL. */
#define MH_TICKET_MAX 800
enum mh_ticket_err {
	MH_TICKET_OK = 0,
	MH_TICKET_MALFORMED,
	MH_TICKET_FORGED,	/* its signature is not the key's */
	MH_TICKET_EXPIRED,
};
/* Signs t (given a fresh nonce) into out; 0, or -1. */
int mh_ticket_make(const unsigned char key[MH_SECRET_BYTES],
    struct mh_ticket *t, char *out, size_t outlen);
/* Checks a ticket's signature, form and expiry at now, filling t. */
enum mh_ticket_err mh_ticket_read(const unsigned char key[MH_SECRET_BYTES],
    const char *text, int64_t now, struct mh_ticket *t);
/* Whether the ticket names that channel. */
int mh_ticket_has_channel(const struct mh_ticket *t, const char *channel);

/* --- credentials.c: what a request carries, read by pure functions. */
#define MH_SCOPE_EVENTS_READ 1u
#define MH_SCOPE_NOTIFICATIONS_WRITE 2u
#define MH_SCOPE_MAIL_SEND 4u
#define MH_SCOPE_CAMPAIGNS_WRITE 8u
#define MH_SCOPE_METRICS_READ 16u
#define MH_SCOPES_ALL 31u
/* Every scope a token may hold, with its bit; name NULL ends it. */
extern const struct mh_scope { const char *name; unsigned bit; } mh_scopes[];
/* "events:read,metrics:read" into bits; -1 when empty or a name is not
 * a scope. */
int mh_scopes_parse(const char *list, unsigned *out);
/* The names of bits, comma separated, into out. */
void mh_scopes_format(unsigned bits, char *out, size_t outlen);
/* The value of the cookie of that name in a Cookie header into out; -1
 * when it is absent, given twice or too long. */
int mh_cookie_get(const char *header, const char *name, char *out,
    size_t outlen);
/* The token of an "Authorization: Bearer TOKEN" header, or NULL. */
const char *mh_bearer(const char *authorization);
/* Whether the request comes from a page of the site: its Origin (or,
 * lacking one, its Referer's scheme://host[:port]) is own, or one of the
 * comma-separated allowed. */
int mh_origin_allowed(const char *origin, const char *referer,
    const char *own, const char *allowed);
/* The length of the scheme://host[:port] that a URL starts with, or 0. */
size_t mh_url_origin_len(const char *url);
/* Whether url can be MAILHOOKS_PUBLIC_URL: http:// or https://, a host of
 * letters, digits, dots, dashes (or a [v6] address), perhaps a port and a
 * path, no query, fragment, credentials or space; at most 512 bytes. */
int mh_public_url_valid(const char *url);

#endif

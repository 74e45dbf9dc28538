/*
 * Who may subscribe: a handshake brings a ticket (?ticket=, made by the
 * program for a signed-in user, ticket.c) that is signed with the key in
 * the data directory, not expired, for the channel asked, and not used
 * before: each ticket's nonce is remembered until it expires. A browser's
 * handshake also brings its Origin, which must be the site's own (the
 * Host it asked for) or one of MAILHOOKS_ALLOWED_ORIGINS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"

struct mh_used {
	struct mh_used *next;
	int64_t expires;
	char nonce[33];
};

static unsigned
mh_used_bucket(const char *nonce)
{
	return mh_str_hash(nonce) % MH_USED_BUCKETS;
}

int
mh_tickets_use(struct mh_tickets *t, const char *nonce, int64_t expires,
    int64_t now)
{
	struct mh_used **pp, *u;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	pp = &t->bucket[mh_used_bucket(nonce)];
	while ((u = *pp) != NULL) {
		if (u->expires < now) {	/* it could not be used anyway */
			*pp = u->next;
			free(u);
			t->count--;
			continue;
		}
		if (strcmp(u->nonce, nonce) == 0)
			ret = -1;
		pp = &u->next;
	}
	if (ret == 0 && (t->count >= MH_USED_MAX ||
	    (u = calloc(1, sizeof(*u))) == NULL))
		ret = -2;
	if (ret == 0) {
		snprintf(u->nonce, sizeof(u->nonce), "%s", nonce);
		u->expires = expires;
		u->next = t->bucket[mh_used_bucket(nonce)];
		t->bucket[mh_used_bucket(nonce)] = u;
		t->count++;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void
mh_tickets_init(struct mh_tickets *t, const char *home)
{
	pthread_mutex_init(&t->lock, NULL);
	t->home = home;
	t->allowed = getenv("MAILHOOKS_ALLOWED_ORIGINS");
	t->public_url = getenv("MAILHOOKS_PUBLIC_URL");
	if (t->public_url != NULL && !mh_public_url_valid(t->public_url)) {
		fprintf(stderr, "mailhooks-relay: MAILHOOKS_PUBLIC_URL=%s is not "
		    "a URL of a site; the Host asked for is the site's\n",
		    t->public_url);
		t->public_url = NULL;
	}
}

void
mh_tickets_free(struct mh_tickets *t)
{
	struct mh_used *u, *next;

	for (size_t i = 0; i < MH_USED_BUCKETS; i++)
		for (u = t->bucket[i]; u != NULL; u = next) {
			next = u->next;
			free(u);
		}
	memset(t->bucket, 0, sizeof(t->bucket));
	t->count = 0;
	explicit_bzero(t->key, sizeof(t->key));
}

/* The signing key, read (or made) at its first use. */
static int
mh_tickets_key(struct mh_tickets *t, unsigned char key[MH_SECRET_BYTES])
{
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (!t->has_key)
		t->has_key = (ret = mh_ticket_key(t->home, t->key)) == 0;
	if (t->has_key)
		memcpy(key, t->key, MH_SECRET_BYTES);
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* The handshake's ?ticket=, given once, into out; -1 when absent. */
static int
mh_ticket_arg(struct lws *wsi, char *out, size_t outlen)
{
	char arg[MH_TICKET_MAX + 8];
	int seen = 0;

	for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof(arg),
	    WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
		if (strncmp(arg, "ticket=", 7) != 0)
			continue;
		if (seen++ > 0 || strlen(arg + 7) >= outlen)
			return -1;
		strcpy(out, arg + 7);
	}
	return seen ? 0 : -1;
}

int
mh_origin_ok(struct lws *wsi, const struct mh_tickets *t)
{
	char origin[512], host[512], own[600];
	size_t len;
	int n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return 1;	/* not a browser: the ticket is enough */
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	/* The URL people use names the site, whatever the proxies say. */
	if (t->public_url != NULL &&
	    (len = mh_url_origin_len(t->public_url)) < sizeof(own)) {
		memcpy(own, t->public_url, len);
		own[len] = '\0';
		return mh_origin_allowed(origin, NULL, own, t->allowed);
	}
	/* The Host the browser asked for: behind Apache's proxy, which
	 * names the relay in Host, its X-Forwarded-Host. */
	n = lws_hdr_custom_copy(wsi, host, sizeof(host), "x-forwarded-host:",
	    17);
	if (n <= 0 && (n = lws_hdr_copy(wsi, host, sizeof(host),
	    WSI_TOKEN_HOST)) <= 0)
		return 0;
	host[strcspn(host, ",")] = '\0';	/* the first proxy's */
	snprintf(own, sizeof(own), "%s://%s", strncmp(origin, "https://",
	    8) == 0 ? "https" : "http", host);
	return mh_origin_allowed(origin, NULL, own, t->allowed);
}

int
mh_ticket_admit(struct mh_tickets *t, struct lws *wsi, const char *channel,
    const char **detail)
{
	unsigned char key[MH_SECRET_BYTES];
	char text[MH_TICKET_MAX];
	int64_t now = (int64_t)time(NULL);
	struct mh_ticket tk;
	enum mh_ticket_err err;

	if (mh_ticket_arg(wsi, text, sizeof(text)) != 0) {
		*detail = "a subscription needs a ticket (GET /api/ws-ticket, "
		    "then /ws?ticket=...), given once";
		return 401;
	}
	if (mh_tickets_key(t, key) != 0) {
		*detail = "the relay cannot read its ticket key";
		return 503;
	}
	err = mh_ticket_read(key, text, now, &tk);
	explicit_bzero(key, sizeof(key));
	if (err != MH_TICKET_OK) {
		*detail = err == MH_TICKET_EXPIRED ? "the ticket expired: ask "
		    "for a new one" : "the ticket is not one this site made";
		return 401;
	}
	/* An admin's ticket opens any user's channel. */
	if (!mh_ticket_has_channel(&tk, channel) &&
	    !(strncmp(channel, "user:", 5) == 0 &&
	    strcmp(tk.role, "admin") == 0)) {
		*detail = "the ticket is not for this channel";
		return 403;
	}
	if (!mh_origin_ok(wsi, t)) {
		*detail = "the page's Origin is not this site's (nor one of "
		    "MAILHOOKS_ALLOWED_ORIGINS)";
		return 403;
	}
	switch (mh_tickets_use(t, tk.nonce, tk.expires, now)) {
	case 0:
		return 0;
	case -1:
		*detail = "the ticket was used already: each serves one "
		    "connection; ask for a new one";
		return 401;
	default:
		*detail = "too many tickets at once; try again shortly";
		return 503;
	}
}

/*
 * The verdicts on an open or a click that need more than the event: its
 * message's history (the summary's "recent", the message's last clicks,
 * and "sent_ts", when it was sent or delivered), its recipient's usual
 * addresses and the addresses learned to be scanners' (the storage's
 * notes). Judged in the fold, in the transaction that stores the event,
 * where the event's rules (machine.c) left it a person's:
 *  - a click on the trap link is a scanner's, with certainty: the
 *    message's earlier clicks from that address become a scanner's too,
 *    and the address is a scanner's for a day;
 *  - an address so learned is a scanner's;
 *  - burst: a click on another link of the message from the same address
 *    within burst-seconds of an earlier one: both are a machine's;
 *  - prefetch: an open or a click within prefetch-seconds of the
 *    message's sending from an address its recipient never opened from.
 * Every time compared is the events' own, so that judging the events
 * again in their order (mailhooks-db reclassify) comes to the same.
 * A batch's own clicks are judged together before any is stored (a
 * scanner's burst mostly comes in one batch), so that none of them
 * notifies; a burst spread over two batches is seen by the fold, which
 * amends the earlier clicks (whose notifications are already made).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"
#include "db/store.h"

#define MH_RECENT_MAX 20	/* clicks a summary keeps for the verdicts */
#define MH_USUAL_MAX 8		/* addresses a recipient's note keeps */
#define MH_LEARNED_S 86400	/* how long a trapped address is a scanner */

static int mh_is_trap(const struct mh_deriver *d, const char *url);

/* A recent click: [seq, ts, address, link's hash, machine or null]. */
enum { MH_R_SEQ, MH_R_TS, MH_R_IP, MH_R_LINK, MH_R_MACHINE };

/* The length of o when it is an array, else 0 (json-c asserts). */
static size_t
mh_len(struct json_object *o)
{
	return json_object_is_type(o, json_type_array) ?
	    json_object_array_length(o) : 0;
}

/* FNV-1a of a link: clicks on one link told from clicks on others. */
static int64_t
mh_link_hash(const char *url)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (int64_t)h;
}

static const char *
mh_recent_str(struct json_object *r, int i)
{
	struct json_object *v = (size_t)i < mh_len(r) ?
	    json_object_array_get_idx(r, (size_t)i) : NULL;

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int64_t
mh_recent_int(struct json_object *r, int i)
{
	return (size_t)i < mh_len(r) ?
	    json_object_get_int64(json_object_array_get_idx(r, (size_t)i)) : 0;
}

/* The notes' get and put; without notes (a fold outside a store) none
 * is found and none kept. */
static int
mh_note_get(struct mh_notes *n, enum mh_note_kind kind, const char *value,
    char **text)
{
	*text = NULL;
	return n != NULL ? n->get(n, kind, value, text) : 0;
}

static int
mh_note_put(struct mh_notes *n, enum mh_note_kind kind, const char *value,
    const char *text)
{
	return n != NULL ? n->put(n, kind, value, text) : 0;
}

/* Counts a click of the summary a machine's that was a person's. */
static void
mh_recount_click(struct json_object *sum)
{
	int64_t person = mh_json_int(sum, "person_clicks");

	json_object_object_add(sum, "person_clicks",
	    json_object_new_int64(person > 0 ? person - 1 : 0));
	json_object_object_add(sum, "machine_clicks",
	    json_object_new_int64(mh_json_int(sum, "machine_clicks") + 1));
}

/*
 * Marks as machine's, for why, the recent clicks of the summary from ip
 * that match (within window seconds of ts and on another link than link,
 * when window >= 0; any, when it is -1), naming them in f to be amended.
 * Returns how many matched.
 */
static int
mh_recent_mark(struct json_object *sum, const char *ip, int64_t ts,
    int window, int64_t link, const char *why, struct mh_fold *f)
{
	struct json_object *recent = mh_json_get(sum, "recent"), *r;
	const char *rip, *was;
	size_t n = mh_len(recent);
	int matched = 0;

	for (size_t i = 0; i < n; i++) {
		r = json_object_array_get_idx(recent, i);
		if ((rip = mh_recent_str(r, MH_R_IP)) == NULL ||
		    strcmp(rip, ip) != 0 || (window >= 0 &&
		    (llabs(mh_recent_int(r, MH_R_TS) - ts) > window ||
		    mh_recent_int(r, MH_R_LINK) == link)))
			continue;
		matched++;
		if ((was = mh_recent_str(r, MH_R_MACHINE)) != NULL &&
		    (window >= 0 || strcmp(was, why) == 0))
			continue;	/* a burst stays what it was */
		if (was == NULL)
			mh_recount_click(sum);
		json_object_array_put_idx(r, MH_R_MACHINE,
		    json_object_new_string(why));
		if (f->namend < MH_FOLD_AMEND)
			f->amend[f->namend++] = (uint64_t)mh_recent_int(r,
			    MH_R_SEQ);
	}
	return matched;
}

/* Keeps the click in the summary's recent ones (the oldest go). */
static void
mh_recent_add(struct json_object *sum, uint64_t seq, int64_t ts,
    const char *ip, int64_t link, const char *machine)
{
	struct json_object *recent = mh_json_get(sum, "recent"), *r, *keep;
	size_t n;

	if (!json_object_is_type(recent, json_type_array)) {
		recent = json_object_new_array();
		json_object_object_add(sum, "recent", recent);
	}
	if ((n = mh_len(recent)) >= MH_RECENT_MAX) {
		keep = json_object_new_array();
		for (size_t i = n - MH_RECENT_MAX + 1; i < n; i++)
			json_object_array_add(keep, json_object_get(
			    json_object_array_get_idx(recent, i)));
		json_object_object_add(sum, "recent", keep);
		recent = keep;
	}
	r = json_object_new_array();
	json_object_array_add(r, json_object_new_int64((int64_t)seq));
	json_object_array_add(r, json_object_new_int64(ts));
	json_object_array_add(r, json_object_new_string(ip));
	json_object_array_add(r, json_object_new_int64(link));
	json_object_array_add(r, machine != NULL ?
	    json_object_new_string(machine) : NULL);
	json_object_array_add(recent, r);
}

/* Whether ip is a scanner's as of ts (a trap taught it); a lesson past
 * its day is forgotten. 1, 0, or -1 when the notes fail. */
static int
mh_learned(struct mh_notes *notes, const char *ip, int64_t ts)
{
	struct json_object *o;
	char *text;
	int64_t until;

	if (mh_note_get(notes, MH_NOTE_ADDRESS, ip, &text) != 0)
		return -1;
	if (text == NULL)
		return 0;
	o = json_tokener_parse(text);
	free(text);
	until = mh_json_int(o, "scanner_until");
	json_object_put(o);
	if (until >= ts)
		return 1;
	return mh_note_put(notes, MH_NOTE_ADDRESS, ip, NULL) == 0 ? 0 : -1;
}

static int
mh_learn(struct mh_notes *notes, const char *ip, int64_t ts)
{
	char text[64];

	snprintf(text, sizeof(text), "{\"scanner_until\":%lld}",
	    (long long)(ts + MH_LEARNED_S));
	return mh_note_put(notes, MH_NOTE_ADDRESS, ip, text);
}

/*
 * The recipient's usual addresses: whether ip is one (*usual), and, with
 * add, ip kept as one (the latest first). 0, or -1 when the notes fail.
 */
static int
mh_usual(struct mh_notes *notes, const char *email, const char *ip, int add,
    int *usual)
{
	struct json_object *o = NULL, *ips, *next;
	char *text;
	int ret = 0;

	*usual = 0;
	if (mh_note_get(notes, MH_NOTE_RECIPIENT, email, &text) != 0)
		return -1;
	if (text != NULL)
		o = json_tokener_parse(text);
	free(text);
	ips = mh_json_get(o, "ips");
	if (json_object_is_type(ips, json_type_array))
		*usual = mh_json_list_has(ips, ip);
	else
		ips = NULL;
	if (add && !*usual) {
		next = json_object_new_array();
		json_object_array_add(next, json_object_new_string(ip));
		for (size_t i = 0; i < mh_len(ips) &&
		    i + 1 < MH_USUAL_MAX; i++)
			json_object_array_add(next, json_object_get(
			    json_object_array_get_idx(ips, i)));
		json_object_put(o);
		o = json_object_new_object();
		json_object_object_add(o, "ips", next);
		ret = mh_note_put(notes, MH_NOTE_RECIPIENT, email,
		    mh_json_text(o));
	}
	json_object_put(o);
	return ret;
}

/* What the message's history says of an open or a click the rules left a
 * person's (ip its address, link its link's hash for a click, else -1):
 * a static reason, or NULL; *failed when the notes failed. */
static const char *
mh_history_says(const struct mh_deriver *d, struct json_object *sum,
    struct json_object *ev, const char *ip, int64_t link, struct mh_fold *f,
    int *failed)
{
	const struct mh_machine_rules *rs = d->machine_rules;
	const char *email = mh_json_str(ev, "email");
	int64_t ts = mh_json_int(ev, "ts");
	struct json_object *sent = mh_json_get(sum, "sent_ts");
	int learned, early, usual = 0;

	if ((learned = mh_learned(f->notes, ip, ts)) != 0) {
		*failed = learned < 0;
		return learned > 0 ? "scanner" : NULL;
	}
	if (link >= 0 && mh_recent_mark(sum, ip, ts, mh_machine_burst_s(rs),
	    link, "burst", f) > 0)
		return "burst";
	if (email == NULL || *email == '\0')
		return NULL;
	early = sent != NULL && ts - json_object_get_int64(sent) >= 0 &&
	    ts - json_object_get_int64(sent) <= mh_machine_prefetch_s(rs);
	/* A person's address becomes one of the recipient's usual ones; an
	 * early one from elsewhere is a prefetch's, and does not. */
	if (mh_usual(f->notes, email, ip, !early, &usual) != 0)
		*failed = 1;
	return early && !usual ? "prefetch" : NULL;
}

int
mh_verdict_judge(const struct mh_deriver *d, struct json_object *sum,
    struct json_object *ev, struct mh_fold *f)
{
	const char *type = mh_json_str(ev, "type"), *ip, *url, *machine, *was;
	unsigned flags = type != NULL ? mh_event_type_flags(type) : 0;
	int64_t ts = mh_json_int(ev, "ts"), link = -1;
	int failed = 0;

	if ((flags & MH_TYPE_SENT) && (mh_json_get(sum, "sent_ts") == NULL ||
	    ts < mh_json_int(sum, "sent_ts")))
		json_object_object_add(sum, "sent_ts",
		    json_object_new_int64(ts));
	if (!(flags & (MH_TYPE_OPEN | MH_TYPE_CLICK)))
		return 0;
	machine = was = mh_json_str(ev, "machine");
	ip = mh_json_str(ev, "ip");
	url = mh_json_str(ev, "url");
	if ((flags & MH_TYPE_CLICK) && url != NULL)
		link = mh_link_hash(url);
	if (ip != NULL && *ip != '\0') {
		if (link >= 0 && mh_is_trap(d, url)) {
			machine = "scanner";
			mh_recent_mark(sum, ip, ts, -1, link, machine, f);
			failed = mh_learn(f->notes, ip, ts) != 0;
		} else if (machine == NULL)
			machine = mh_history_says(d, sum, ev, ip, link, f,
			    &failed);
		if (link >= 0)
			mh_recent_add(sum, f->seq, ts, ip, link, machine);
	}
	if (machine != was) {
		mh_json_set_str(ev, "machine", machine);
		if ((f->json = mh_strdup(mh_json_text(ev))) == NULL)
			failed = 1;
	}
	if (machine != NULL) {
		snprintf(f->counted, sizeof(f->counted), MH_MACHINE_COUNTED "%s",
		    type);
		f->silence = !d->notify_machine;
	}
	return failed ? -1 : 0;
}

/* A click of a batch the rules left a person's. */
struct mh_bclick {
	const char *message, *ip, *url;
	int64_t ts;
	struct json_object *ev;
};

static int
mh_bclick_cmp(const void *a, const void *b)
{
	const struct mh_bclick *x = a, *y = b;
	int c = strcmp(x->message, y->message);

	if (c == 0)
		c = strcmp(x->ip, y->ip);
	return c != 0 ? c : x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int
mh_is_trap(const struct mh_deriver *d, const char *url)
{
	return d->trap_url != NULL && *d->trap_url != '\0' &&
	    strncmp(url, d->trap_url, strlen(d->trap_url)) == 0;
}

/* One message's clicks from one address, c[0..n), in time order: all a
 * scanner's when one is on the trap link, else a burst's those on
 * different links within burst-seconds of each other. */
static void
mh_bclick_group(const struct mh_deriver *d, struct mh_bclick *c, size_t n)
{
	int window = mh_machine_burst_s(d->machine_rules), trap = 0;

	for (size_t i = 0; i < n; i++)
		trap |= mh_is_trap(d, c[i].url);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n && c[j].ts - c[i].ts <= window;
		    j++)
			if (trap || strcmp(c[i].url, c[j].url) != 0) {
				mh_json_set_str(c[i].ev, "machine",
				    trap ? "scanner" : "burst");
				mh_json_set_str(c[j].ev, "machine",
				    trap ? "scanner" : "burst");
			}
	for (size_t i = 0; trap && i < n; i++)
		mh_json_set_str(c[i].ev, "machine", "scanner");
}

int
mh_verdict_batch(const struct mh_deriver *d, struct mh_normal *n,
    size_t count)
{
	struct mh_bclick *c = mh_calloc(count ? count : 1, sizeof(*c));
	size_t m = 0, from;
	const char *type;

	if (c == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		struct json_object *ev = n[i].event;

		if ((type = mh_json_str(ev, "type")) == NULL ||
		    !(mh_event_type_flags(type) & MH_TYPE_CLICK) ||
		    mh_json_str(ev, "machine") != NULL)
			continue;
		c[m] = (struct mh_bclick){ mh_json_str(ev, "message_id"),
		    mh_json_str(ev, "ip"), mh_json_str(ev, "url"),
		    mh_json_int(ev, "ts"), ev };
		if (c[m].message != NULL && c[m].ip != NULL && *c[m].ip &&
		    c[m].url != NULL)
			m++;
	}
	qsort(c, m, sizeof(*c), mh_bclick_cmp);
	for (size_t i = 0; i < m; i = from) {
		for (from = i + 1; from < m && strcmp(c[from].message,
		    c[i].message) == 0 && strcmp(c[from].ip, c[i].ip) == 0;
		    from++)
			;
		if (from - i > 1)
			mh_bclick_group(d, c + i, from - i);
	}
	free(c);
	return 0;
}

int
mh_verdict_amend(const struct mh_deriver *d, const char *summary,
    const char *json, char **amended, char *counted)
{
	struct json_object *sum = json_tokener_parse(summary);
	struct json_object *ev = json_tokener_parse(json), *recent, *r;
	const char *now = NULL, *was, *type;
	int64_t seq = mh_json_int(ev, "seq");
	int ret = 0, found = 0;

	(void)d;
	*amended = NULL;
	counted[0] = '\0';
	recent = mh_json_get(sum, "recent");
	for (size_t i = 0; i < mh_len(recent); i++) {
		r = json_object_array_get_idx(recent, i);
		if (mh_recent_int(r, MH_R_SEQ) == seq) {
			now = mh_recent_str(r, MH_R_MACHINE);
			found = 1;
		}
	}
	was = mh_json_str(ev, "machine");
	type = mh_json_str(ev, "type");
	if (found && ev != NULL && type != NULL && ((now == NULL) !=
	    (was == NULL) || (now != NULL && strcmp(now, was) != 0))) {
		mh_json_set_str(ev, "machine", now);
		if ((*amended = mh_strdup(mh_json_text(ev))) == NULL)
			ret = -1;
		if (now != NULL)
			snprintf(counted, MH_COUNTED_MAX + 1, MH_MACHINE_COUNTED "%s",
			    type);
	}
	json_object_put(sum);
	json_object_put(ev);
	return ret;
}

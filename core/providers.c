/*
 * The one table of providers (providers.h): each row's name, how a call
 * of its webhook is checked, and how its bodies become events. The
 * webhook handler runs its checks (cgi-bin/ingest.c), the drain and
 * reprocess read bodies through it (derive.c), /api/messages/{id} looks
 * through each provider's messages, and /metrics labels each provider's
 * counts with its name.
 */
#include <string.h>

#include "core.h"
#include "providers.h"

const struct mh_provider mh_providers[] = {
	{ "mandrill", mh_mandrill_accept, mh_mandrill_check,
	    mh_mandrill_items, mh_mandrill_normalise },
	{ "infobip", mh_infobip_accept, mh_infobip_check, mh_infobip_parse,
	    mh_infobip_normalise },
	{ NULL, NULL, NULL, NULL, NULL },
};

int
mh_provider_index(const char *name)
{
	for (int i = 0; name != NULL && mh_providers[i].name != NULL; i++)
		if (strcmp(name, mh_providers[i].name) == 0)
			return i;
	return -1;
}

const struct mh_provider *
mh_provider_find(const char *name)
{
	int i = mh_provider_index(name);

	return i >= 0 ? &mh_providers[i] : NULL;
}

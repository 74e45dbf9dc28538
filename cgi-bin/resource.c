/*
 * What the API's record resources (clients, campaigns) do alike, each
 * declared once as a struct mh_resource: a POST makes the record from its
 * body and stores it, answering 201 with it as stored.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mailhooks.h"

void
mh_resource_create(struct mh_app *app, struct mh_request *r,
    const struct mh_resource *res)
{
	struct json_object *body = NULL;
	struct mh_record rec;
	enum mh_store_err err;
	char why[300], *text = NULL;
	struct mh_added added = { &rec, 0 };
	struct mh_making mk = { mh_now_ms(), app->cfg->default_region };
	int made;

	memset(&rec, 0, sizeof(rec));
	if (mh_json_body(r, app->cfg->max_body, &body) != 0)
		return;
	if ((made = res->make(body, &mk, &rec, why, sizeof(why))) !=
	    MH_PATCH_OK)
		mh_respond_error(r, made == MH_PATCH_ENDED ?
		    MH_ERR_ALREADY_ENDED : res->refused, "%s", why);
	else if ((err = mh_store_record_add(app->store, res->table, &rec,
	    mh_record_answer, &added, &text)) != MH_STORE_OK)
		res->store_error(r, err);
	else {
		r->about = res->what;
		r->about_id = added.id;
		mh_log(r, "%s=%" PRIu64 " created", res->what, added.id);
		res->respond(app, r, 201, added.id, text);
	}
	mh_record_free(&rec);
	free(text);
	json_object_put(body);
}

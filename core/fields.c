/*
 * A JSON object's fields checked against the table that declares them
 * (a mail's parts, a client's, a campaign's), pure: no field the table
 * does not name, each of its types and passing its check, the required
 * ones there. What is wrong is said naming the field.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"

/* The field of fields named name, or NULL. */
static const struct mh_field *
mh_field_named(const struct mh_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

int
mh_fields_check(struct json_object *o, const struct mh_field *fields,
    size_t n, int all, const char *what, const char *where, char *why,
    size_t whylen)
{
	char inner[300];

	json_object_object_foreach(o, key, val) {
		(void)val;
		if (mh_field_named(fields, n, key) == NULL) {
			snprintf(why, whylen, "%s%.64s is not %s", where, key,
			    what);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct mh_field *f = &fields[i];
		struct json_object *v = NULL;
		int there = json_object_object_get_ex(o, f->name, &v);

		if (all && f->required && (v == NULL ||
		    (json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) == 0))) {
			snprintf(why, whylen, "%s%s is required", where, f->name);
			return -1;
		}
		if (there && !(f->types & MH_T(json_object_get_type(v)))) {
			snprintf(why, whylen, "%s%s is of another type, not %s",
			    where, f->name, mh_type_name(json_object_get_type(v)));
			return -1;
		}
		if (v != NULL && f->check != NULL &&
		    f->check(v, inner, sizeof(inner)) != 0) {
			snprintf(why, whylen, "%s%s%s%s", where, f->name,
			    inner[0] == '[' ? "" : " ", inner);
			return -1;
		}
	}
	return 0;
}

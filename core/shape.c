/*
 * Shape checks for untrusted JSON, declared as tables of rules (see struct
 * mh_rule in core.h). Pure: no I/O.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core.h"

const char *
mh_type_name(enum json_type t)
{
	switch (t) {
	case json_type_string:
		return "a string";
	case json_type_int:
	case json_type_double:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_boolean:
		return "a boolean";
	case json_type_null:
		return "null";
	}
	return "unknown";
}

const char *
mh_in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return list[i];
	return NULL;
}

int
mh_shape_check(struct json_object *obj, const struct mh_rule *rules,
    size_t nrules, int shape, const char *kind, char *why, size_t whylen)
{
	for (size_t i = 0; i < nrules; i++) {
		const struct mh_rule *r = &rules[i];
		struct json_object *holder = obj, *v;
		const char *dot = r->parent ? "." : "";
		const char *parent = r->parent ? r->parent : "";

		if (r->shape != shape || (r->only_for != NULL &&
		    (kind == NULL || strcmp(r->only_for, kind) != 0)))
			continue;
		if (r->parent != NULL &&
		    (!json_object_object_get_ex(obj, r->parent, &holder) ||
		    !json_object_is_type(holder, json_type_object)))
			continue;	/* the parent's own rule reports it */
		if (!json_object_object_get_ex(holder, r->field, &v)) {
			if (!r->required)
				continue;
			snprintf(why, whylen, "%s%s%s is missing", parent, dot,
			    r->field);
			return -1;
		}
		if ((r->types & MH_T(json_object_get_type(v))) == 0) {
			snprintf(why, whylen, "%s%s%s must not be %s", parent,
			    dot, r->field, mh_type_name(json_object_get_type(v)));
			return -1;
		}
		if (r->required && json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) == 0) {
			snprintf(why, whylen, "%s%s%s is empty", parent, dot,
			    r->field);
			return -1;
		}
	}
	return 0;
}

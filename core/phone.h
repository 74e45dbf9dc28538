/*
 * Telephone numbers as people write them, read by libphonenumber: the C
 * face of core/phone.cc, the project's only C++ (included by core.h and
 * by that file).
 */
#ifndef MH_PHONE_H
#define MH_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MH_PHONE_DIGITS_MAX 15	/* E.164's longest number */
#define MH_PHONE_TEXT_MAX 40	/* the longest a person may type */

/* A number read and checked. */
struct mh_phone {
	char digits[MH_PHONE_DIGITS_MAX + 1];	/* E.164, without its '+' */
	char region[4];		/* ISO 3166 alpha-2; "001" non-geographic */
	/* The national destination code (the operator's or the area's; may
	 * be "" where the country has none). */
	char ndc[MH_PHONE_DIGITS_MAX + 1];
	const char *type;	/* "mobile", "fixed_line", ...: static */
};

/* Reads text as a person typed it (digits, a leading '+', spaces, dashes,
 * dots, parentheses) into *out. A number without '+' is read in region
 * (two letters, or NULL/"": none) and, when that does not make a valid
 * number, as E.164 digits (79001234567). 0, or -1 with why (what follows
 * "phone "), which says what is wrong. Safe from any thread. */
int mh_phone_parse(const char *text, const char *region, struct mh_phone *out,
    char *why, size_t whylen);
/* Whether region (two capital letters) is one whose numbers
 * libphonenumber knows. */
int mh_phone_region_ok(const char *region);

#ifdef __cplusplus
}
#endif

#endif

/* User names and passwords (cgi-bin/password.c): what is accepted, and
 * the yescrypt hash kept of a password. */
#include <string.h>

#include "tap.h"
#include "core/core.h"
#include "db/store.h"

int
main(void)
{
	char h1[MH_PASSWORD_HASH_MAX + 1], h2[MH_PASSWORD_HASH_MAX + 1];
	char huge[MH_PASSWORD_MAX + 2], name[MH_USER_NAME_MAX + 2];

	ok(mh_user_name_ok("alice") && mh_user_name_ok("ops.team-1@x"),
	    "names of letters, digits and ._@-");
	ok(!mh_user_name_ok("") && !mh_user_name_ok("a b") &&
	    !mh_user_name_ok("a\"b") && !mh_user_name_ok("é"),
	    "not empty, no space, quote or other byte");
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ok(!mh_user_name_ok(name), "at most 64");
	name[MH_USER_NAME_MAX] = '\0';
	ok(mh_user_name_ok(name), "64 is fine");

	ok(mh_password_problem("seven77") != NULL, "7 characters are too few");
	ok(mh_password_problem("eight888") == NULL, "8 will do");
	memset(huge, 'p', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	ok(mh_password_problem(huge) != NULL, "over 1024 bytes is refused");
	ok(mh_password_hash(huge, h1, sizeof(h1)) == -1, "and not hashed");

	ok(mh_password_hash("correct horse", h1, sizeof(h1)) == 0 &&
	    strncmp(h1, "$y$", 3) == 0, "a yescrypt hash: %s", h1);
	ok(strstr(h1, "correct") == NULL, "which does not hold the password");
	ok(mh_password_hash("correct horse", h2, sizeof(h2)) == 0 &&
	    strcmp(h1, h2) != 0, "salted: the same password hashes apart");
	ok(mh_password_check("correct horse", h1) &&
	    mh_password_check("correct horse", h2), "each checks");
	ok(!mh_password_check("correct horsE", h1), "a wrong one does not");
	ok(!mh_password_check("", h1), "nor an empty one");
	ok(!mh_password_check(huge, h1), "nor a huge one");
	ok(!mh_password_check("correct horse", "") &&
	    !mh_password_check("correct horse", "*0") &&
	    !mh_password_check("correct horse", "$y$broken"),
	    "a hash that is not one matches nothing");
	ok(mh_password_hash("short", h1, sizeof(h1)) == -1,
	    "a password too short is not hashed");
	ok(mh_password_hash("correct horse", h1, 10) == -1,
	    "nor into room too small");
	return done_testing();
}

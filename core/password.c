/*
 * Passwords and user names: what is accepted, and the hash kept of a
 * password (yescrypt, through libcrypt's crypt_gensalt_rn and crypt_rn,
 * the salt from the system's random source). Checking compares the whole
 * hash in constant time.
 */
#include <crypt.h>
#include <string.h>

#include "core.h"
#include "db/store.h"

int
mh_user_name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-");

	return n > 0 && n <= MH_USER_NAME_MAX && name[n] == '\0';
}

const char *
mh_password_problem(const char *pw)
{
	size_t n = strlen(pw);

	if (n < MH_PASSWORD_MIN)
		return "a password has at least 8 characters";
	if (n > MH_PASSWORD_MAX)
		return "a password has at most 1024 bytes";
	return NULL;
}

int
mh_password_hash(const char *pw, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;
	const char *hash;

	memset(&data, 0, sizeof(data));
	/* NULL random bytes: libcrypt reads the system's random source. */
	if (mh_password_problem(pw) != NULL ||
	    crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) ==
	    NULL || (hash = crypt_rn(pw, setting, &data, sizeof(data))) ==
	    NULL || hash[0] == '*' || strlen(hash) >= outlen)
		return -1;
	strcpy(out, hash);
	explicit_bzero(&data, sizeof(data));
	return 0;
}

int
mh_password_check(const char *pw, const char *hash)
{
	struct crypt_data data;
	const char *got;
	size_t n = strlen(hash);
	unsigned char diff = 0;

	memset(&data, 0, sizeof(data));
	if (n == 0 || hash[0] != '$' || strlen(pw) > MH_PASSWORD_MAX ||
	    (got = crypt_rn(pw, hash, &data, sizeof(data))) == NULL ||
	    strlen(got) != n) {
		explicit_bzero(&data, sizeof(data));
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(got[i] ^ hash[i]);
	explicit_bzero(&data, sizeof(data));
	return diff == 0;
}

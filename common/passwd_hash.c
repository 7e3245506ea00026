#include "common/passwd_hash.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"

enum hash_check passwd_hash_check(const char *password, const char *stored)
{
	/* struct crypt_data is large (~32 KiB); keep it off the stack and wipe it after. */
	struct crypt_data *data = calloc(1, sizeof(*data));
	enum hash_check result = HASH_UNUSABLE;

	if (data == NULL)
		return HASH_UNUSABLE;
	/* A locked ("!..."), disabled ("*", "x") or empty entry can never match; libxcrypt
	 * would return a "*0"-style failure token, which we must not compare against. */
	if (stored[0] != '\0' && stored[0] != '!' && stored[0] != '*') {
		const char *computed = crypt_rn(password, stored, data, (int)sizeof(*data));
		if (computed != NULL && computed[0] != '*')
			result = secret_equal_str(computed, stored) ? HASH_MATCH : HASH_MISMATCH;
	}
	secret_wipe(data, sizeof(*data));
	free(data);
	return result;
}

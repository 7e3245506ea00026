/* sh_crypt_check: crypt(3) verification in every scheme libxcrypt offers, and unusable entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <crypt.h>
#include <string.h>

#include "common/stored_hash.h"
#include "common/secret.h"

static const char *const prefixes[] = { "$y$", "$6$", "$5$", "$1$", "$2b$", "", "$7$", "$gy$" };

static void every_scheme_matches_and_mismatches(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		char setting[CRYPT_GENSALT_OUTPUT_SIZE];
		struct crypt_data data;
		memset(&data, 0, sizeof(data));
		if (crypt_gensalt_rn(prefixes[i], 0, NULL, 0, setting, sizeof(setting)) == NULL)
			continue; /* scheme disabled in this libxcrypt build */
		const char *hash = crypt_rn("correct horse", setting, &data, sizeof(data));
		assert_non_null(hash);
		/* DES looks at 8 characters only, so the wrong password differs early. */
		char stored[CRYPT_OUTPUT_SIZE];
		strcpy(stored, hash);
		assert_int_equal(sh_crypt_check("correct horse", stored), SH_MATCH);
		assert_int_equal(sh_crypt_check("Correct horse", stored), SH_MISMATCH);
		assert_int_equal(sh_crypt_check("", stored), SH_MISMATCH);
	}
}

static void unusable_entries_never_match(void **state)
{
	(void)state;
	assert_int_equal(sh_crypt_check("x", "x"), SH_UNSUPPORTED);
	assert_int_equal(sh_crypt_check("", ""), SH_UNSUPPORTED);
	assert_int_equal(sh_crypt_check("pw", "*"), SH_UNSUPPORTED);
	assert_int_equal(sh_crypt_check("pw", "!"), SH_UNSUPPORTED);
	assert_int_equal(sh_crypt_check("pw", "!$6$abc$def"), SH_UNSUPPORTED);
	assert_int_not_equal(sh_crypt_check("pw", "$6$"), SH_MATCH); /* valid setting, empty salt */
	assert_int_equal(sh_crypt_check("pw", "$99$garbage"), SH_UNSUPPORTED);
}

static void constant_time_compare(void **state)
{
	(void)state;
	assert_true(secret_equal("abc", 3, "abc", 3));
	assert_false(secret_equal("abc", 3, "abd", 3));
	assert_false(secret_equal("abc", 3, "abc\0", 4));
	assert_false(secret_equal("", 0, "a", 1));
	assert_true(secret_equal("", 0, "", 0));
	assert_true(secret_equal_str("pässwörd", "pässwörd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_scheme_matches_and_mismatches),
		cmocka_unit_test(unusable_entries_never_match),
		cmocka_unit_test(constant_time_compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

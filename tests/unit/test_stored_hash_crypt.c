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

/* Hash upgrades: every scheme sh_make creates verifies, and has the strength it claims;
 * stored values rank by method. */
static void make_and_rank(void **state)
{
	static const char *const targets[] = { "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT", "ARGON2ID" };
	struct sh_policy p;
	char out[512], why[SH_WHY_MAX];
	(void)state;

	sh_policy_defaults(&p);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		assert_true(sh_make(targets[i], "new pw", out, sizeof(out), why, sizeof(why)));
		assert_int_equal(out[0], '{');
		assert_int_equal(sh_verify(out, strlen(out), "new pw", &p, why, sizeof(why)), SH_MATCH);
		assert_int_equal(sh_verify(out, strlen(out), "new pW", &p, why, sizeof(why)), SH_MISMATCH);
		assert_int_equal(sh_strength(out, strlen(out), &p), sh_make_strength(targets[i]));
	}
	assert_false(sh_make("MD5-CRYPT", "x", out, sizeof(out), why, sizeof(why)));
	assert_false(sh_make("SHA512-CRYPT", "x", out, 8, why, sizeof(why)));
	assert_int_equal(sh_make_strength("PLAIN"), -1);

	const char *plain = "{PLAIN}x", *ssha = "{SSHA}AAAAAAAAAAAAAAAAAAAAAAAAAAA=", *md5c = "$1$salt$hash";
	assert_int_equal(sh_strength(plain, strlen(plain), &p), SH_STRENGTH_CLEAR);
	assert_int_equal(sh_strength("{SHA}x", 6, &p), SH_STRENGTH_DIGEST);
	assert_int_equal(sh_strength(ssha, strlen(ssha), &p), SH_STRENGTH_SALTED);
	/* no prefix: the default scheme decides (PLAIN here, CRYPT for sql) */
	assert_int_equal(sh_strength(md5c, strlen(md5c), &p), SH_STRENGTH_CLEAR);
	strcpy(p.default_scheme, "CRYPT");
	assert_int_equal(sh_strength(md5c, strlen(md5c), &p), SH_STRENGTH_MD5_CRYPT);
	assert_int_equal(sh_strength("{MD5}$1$a$b", 11, &p), SH_STRENGTH_MD5_CRYPT);
	assert_int_equal(sh_strength("$y$j9T$a$b", 10, &p), SH_STRENGTH_SLOW);
	assert_int_equal(sh_strength("{ROT13}x", 8, &p), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_scheme_matches_and_mismatches),
		cmocka_unit_test(unusable_entries_never_match),
		cmocka_unit_test(constant_time_compare),
		cmocka_unit_test(make_and_rank),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

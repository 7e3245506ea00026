/* ldap custom method: userPassword scheme verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mechanisms/ldap_scheme.h"

static enum ldap_scheme_result verify(const char *stored, const char *pw)
{
	return ldap_scheme_verify(stored, strlen(stored), pw);
}

static void check_pair(const char *stored)
{
	assert_int_equal(verify(stored, "secret"), LDAP_SCHEME_MATCH);
	assert_int_equal(verify(stored, "Secret"), LDAP_SCHEME_MISMATCH);
	assert_int_equal(verify(stored, "secret "), LDAP_SCHEME_MISMATCH);
}

static void cyrus_schemes(void **state)
{
	(void)state;
	check_pair("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=");
	check_pair("{SSHA}1G904nLkTkGWjKNnQuB/hpWXC/hzYWx0c2FsdA==");
	check_pair("{ssha}NlUwc1S27Dc6zEBMLV4Xmk8omOCSL6dc"); /* slappasswd; prefix case-insensitive */
	check_pair("{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==");
	check_pair("{SMD5}VAfQ6nCkaw9o3u+x706wnXNhbHRzYWx0");
	check_pair("{CRYPT}$6$pSZbNA..wh7fnHSA$4c3TmGgKw8HwCCsLDZoMuq0ZoIAVR4cAbkbk1m0L3uUnaRbph3pINfkN2HW.BIrtxnWNxJSvL0x0aW.d0OH1V1");
	check_pair("{UNIX}$6$pSZbNA..wh7fnHSA$4c3TmGgKw8HwCCsLDZoMuq0ZoIAVR4cAbkbk1m0L3uUnaRbph3pINfkN2HW.BIrtxnWNxJSvL0x0aW.d0OH1V1");
	check_pair("secret"); /* cleartext */
}

static void sha2_and_argon2(void **state)
{
	(void)state;
	check_pair("{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=");
	check_pair("{SSHA512}aCu7JRc+kLsuEmFs1zTY+AiP7DSGnjjG+dH28Dp+E5usqoAixeTPihKqZmkWal4mUfp63tqvCAkFV1LKTDFH6XNhbHRzYWx0");
	check_pair("{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$+s9TTVp7Nco3fgG05MF0IA$zHfSKgHG8S8BjfWe3oFtv8fuNuTG7CkJuPp6pQu2YlA");
}

static void refusals(void **state)
{
	(void)state;
	/* Cyrus compares unknown schemes as cleartext: the hash string itself would work. */
	assert_int_equal(verify("{PBKDF2-SHA512}10000$abc$def", "{PBKDF2-SHA512}10000$abc$def"),
	                 LDAP_SCHEME_UNSUPPORTED);
	assert_int_equal(verify("{SHA}notbase64!!", "secret"), LDAP_SCHEME_UNSUPPORTED);
	assert_int_equal(verify("{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"), LDAP_SCHEME_UNSUPPORTED); /* no salt */
	assert_int_equal(verify("{CRYPT}x", "x"), LDAP_SCHEME_UNSUPPORTED);
	assert_int_equal(verify("{ARGON2}$bogus$", "secret"), LDAP_SCHEME_UNSUPPORTED);
	assert_int_equal(ldap_scheme_verify("", 0, "secret"), LDAP_SCHEME_UNSUPPORTED);
	assert_int_equal(ldap_scheme_verify("sec\0ret", 7, "sec"), LDAP_SCHEME_UNSUPPORTED);
	/* a brace that is no scheme stays cleartext */
	assert_int_equal(verify("{not a scheme", "{not a scheme"), LDAP_SCHEME_MATCH);
}

static void base64(void **state)
{
	unsigned char out[8];
	(void)state;
	assert_int_equal(ldap_base64_decode("YWJj", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(ldap_base64_decode("YQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(ldap_base64_decode("YQ", 2, out, sizeof(out)), 1);
	assert_int_equal(ldap_base64_decode("Y*==", 4, out, sizeof(out)), -1);
	assert_int_equal(ldap_base64_decode("YWJjZGVmZ2hp", 12, out, sizeof(out)), -1); /* 9 > 8 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cyrus_schemes),
		cmocka_unit_test(sha2_and_argon2),
		cmocka_unit_test(refusals),
		cmocka_unit_test(base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

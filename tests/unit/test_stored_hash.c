/* The stored-hash verifier: every scheme right, wrong and malformed; cost caps refused
 * before anything is computed; Dovecot's suffixes; base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/clock.h"
#include "common/stored_hash.h"

/* An over-cap hash must be refused without being computed: far below one computation. */
#define REFUSAL_MAX_MS 50

static struct sh_policy policy;

static enum sh_result verify(const char *stored, const char *pw)
{
	return sh_verify(stored, strlen(stored), pw, &policy, NULL, 0);
}

static int setup(void **state)
{
	(void)state;
	sh_policy_defaults(&policy);
	return 0;
}

static void check_pair(const char *stored)
{
	assert_int_equal(verify(stored, "secret"), SH_MATCH);
	assert_int_equal(verify(stored, "Secret"), SH_MISMATCH);
	assert_int_equal(verify(stored, "secret "), SH_MISMATCH);
	assert_int_equal(verify(stored, ""), SH_MISMATCH);
}

static void over_cap(const char *stored, const char *expect_in_why)
{
	char why[SH_WHY_MAX];
	int64_t start = sa_clock_ms();

	enum sh_result r = sh_verify(stored, strlen(stored), "secret", &policy, why, sizeof(why));
	if (r != SH_OVER_CAP)
		print_message("%s: result %d (%s)\n", stored, (int)r, why);
	assert_int_equal(r, SH_OVER_CAP);
	assert_true(sa_clock_ms() - start < REFUSAL_MAX_MS);
	assert_non_null(strstr(why, expect_in_why));
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
	check_pair("secret"); /* cleartext: the default scheme is PLAIN */
}

static void sha2_digests(void **state)
{
	(void)state;
	check_pair("{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=");
	check_pair("{SSHA256}8XIhSJZRj0INgSGLzyODGo5rVCNzVTlCYUvMR2IkmCRb+7aM"); /* doveadm pw */
	check_pair("{SSHA256}oBmrdHcA6OZEkkCLeXh71YAerbvhXz1qqwjrPsXmEtNzYWx0c2FsdA==");
	check_pair("{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==");
	check_pair("{SSHA512}aCu7JRc+kLsuEmFs1zTY+AiP7DSGnjjG+dH28Dp+E5usqoAixeTPihKqZmkWal4mUfp63tqvCAkFV1LKTDFH6XNhbHRzYWx0");
	assert_int_equal(verify("{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unol", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{SHA512}vSsar3708Jvp9Szi", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{SSHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=", "secret"), SH_MALFORMED);
}

static void dovecot_suffixes(void **state)
{
	(void)state;
	check_pair("{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");
	check_pair("{SHA256}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"); /* hex length */
	check_pair("{SSHA512.hex}c4f05cc415e2ee5e0c58bddb0bac2cc93f5d50c2ff0b67aad5880898886a11ee815de82d10f980a973a421ea56f94ff448134eb329cae90a2adfb92ebc1696158e50736e");
	check_pair("{SHA.b64}5en6G6MezRroT3XKqkdPOmY/BfQ=");
	check_pair("{PLAIN.B64}c2VjcmV0");
	check_pair("{PLAIN}secret");
	check_pair("{CLEARTEXT}secret");
	check_pair("{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69");
	check_pair("{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==");
	assert_int_equal(verify("{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{PLAIN.B64}c2Vj*mV0", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{SHA.rot13}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"), SH_UNSUPPORTED);
	assert_int_equal(verify("{SHA512-CRYPT.hex}$6$abc$def", "secret"), SH_UNSUPPORTED);
}

static void crypt_schemes(void **state)
{
	(void)state;
	/* Without a prefix a crypt hash is cleartext for ldap (Cyrus)... */
	assert_int_equal(verify("$1$.oyA/W4C$S1px.z9JRvY0B0vbpEekC0", "secret"), SH_MISMATCH);
	/* ...and a crypt hash with sql_default_scheme CRYPT. */
	strcpy(policy.default_scheme, "CRYPT");
	check_pair("$y$j9T$fvblpnp5s.ogOUiasCC5e.$rN2xnFWSuj.Zua/XOR705BOPaddsBigRf/MuK42gpvB");
	check_pair("$gy$j9T$1mR7xZp/MEgwMiQnq.Y6m.$B6m7s.dnWUjhs0GeGX4FDRtvhvp4uvO5DtYU6W.SuIC");
	check_pair("$7$CU..../....jouKR0ehXohpqCKLxg7V1.$1tDQx5KKL84z3yQ1oDNSTYxlOKQARhWahcAJu9qAoR9");
	check_pair("$6$4zzwZs1MNi4ZUc6A$p2mzVB.f4REn673YuR6lmWm95FQVx.0QgBvKWyZawxV7d6RTh0QTnu/n0lThOLSJsvvOsPxDuG3i52.xQabs41");
	check_pair("$6$rounds=6000$nO.zHMb6cbPSRdHf$XM/2ob3HRMLbI/eIfO4TaRtIqynDgjmIpXuM0UVVpYI19Un53FitLaZI10KnCVsOrUtnw9vk0LgUycaBi4g1l0");
	check_pair("$5$.6sj3mS.vglHsYpC$ec61KpYLOqrLQPWHEB2sDsPEAhokOpLlzAfiJhMCb45");
	check_pair("$2b$05$DgpBUhOGlrGwrDaXaOi4MODK7VJUrUor/vA38.O72ouUdFvNwwyme");
	check_pair("$1$.oyA/W4C$S1px.z9JRvY0B0vbpEekC0");
	check_pair("{SHA512-CRYPT}$6$4zzwZs1MNi4ZUc6A$p2mzVB.f4REn673YuR6lmWm95FQVx.0QgBvKWyZawxV7d6RTh0QTnu/n0lThOLSJsvvOsPxDuG3i52.xQabs41");
	check_pair("{SHA256-CRYPT}$5$.6sj3mS.vglHsYpC$ec61KpYLOqrLQPWHEB2sDsPEAhokOpLlzAfiJhMCb45");
	check_pair("{BLF-CRYPT}$2y$05$spG2L7QoSuLkmqn4effPxeZGceLTgbXQd3K1KerMV6W.1ZnGbTXtq");
	check_pair("{MD5-CRYPT}$1$.oyA/W4C$S1px.z9JRvY0B0vbpEekC0");
	check_pair("{MD5}$1$.oyA/W4C$S1px.z9JRvY0B0vbpEekC0"); /* Dovecot's {MD5} */
	assert_int_equal(verify("Zrl9SjnItBk36", "secret"), SH_MATCH);        /* DES */
	assert_int_equal(verify("Zrl9SjnItBk36", "Secret"), SH_MISMATCH);
	/* The scheme named must be the one stored. */
	assert_int_equal(verify("{SHA512-CRYPT}$5$.6sj3mS.vglHsYpC$ec61KpYLOqrLQPWHEB2sDsPEAhokOpLlzAfiJhMCb45", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{BLF-CRYPT}$1$.oyA/W4C$S1px.z9JRvY0B0vbpEekC0", "secret"), SH_MALFORMED);
	/* Malformed settings and methods whose cost we cannot bound. */
	assert_int_equal(verify("$2b$5$DgpBUhOGlrGwrDaXaOi4MODK7VJUrUor/vA38.O72ouUdFvNwwyme", "secret"), SH_MALFORMED);
	assert_int_equal(verify("$6$rounds=x$abc$def", "secret"), SH_MALFORMED);
	assert_int_equal(verify("$y$!!$abc$def", "secret"), SH_MALFORMED);
	assert_int_not_equal(verify("$6$", "secret"), SH_MATCH); /* a setting, no hash */
	assert_int_equal(verify("$sha1$40000$abcdefgh$abcdefghijklmnopqrstuvwxyzab", "secret"), SH_UNSUPPORTED);
	assert_int_equal(verify("_J9..abcd", "secret"), SH_UNSUPPORTED);
	assert_int_equal(verify("!$6$locked", "secret"), SH_UNSUPPORTED);
	assert_int_equal(verify("x", "x"), SH_MALFORMED);
}

static void argon2(void **state)
{
	(void)state;
	check_pair("{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$+s9TTVp7Nco3fgG05MF0IA$zHfSKgHG8S8BjfWe3oFtv8fuNuTG7CkJuPp6pQu2YlA");
	check_pair("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$2vJOe1jvqs4s/ZCZRtaZ6Q$FKFrCGUrjOrd0z5q4e//k3hD8+n/whiTR2+joR35hNU");
	check_pair("{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$TBSP1vSP75SA7s/i2BwE+A$Gw8Zjplf+loffGAbLaeA7P7ft+yZLo0EQhLVgMkrBNY");
	assert_int_equal(verify("{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$2vJOe1jvqs4s/ZCZRtaZ6Q$FKFrCGUrjOrd0z5q4e//k3hD8+n/whiTR2+joR35hNU", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{ARGON2}$bogus$", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{ARGON2ID}$argon2id$v=19$m=65536,t=3$2vJOe1jvqs4s/ZCZRtaZ6Q$FKFr", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$c2FsdA$", "secret"), SH_MALFORMED);
}

/* Hardening finding 5: these were computed (4 GiB, days of bcrypt); now refused at once. */
static void cost_caps(void **state)
{
	(void)state;
	over_cap("{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$2vJOe1jvqs4s/ZCZRtaZ6Q$FKFrCGUrjOrd0z5q4e//k3hD8+n/whiTR2+joR35hNU",
	         "password_max_memory");
	over_cap("{ARGON2ID}$argon2id$v=19$m=65536,t=1000,p=1$2vJOe1jvqs4s/ZCZRtaZ6Q$FKFrCGUrjOrd0z5q4e//k3hD8+n/whiTR2+joR35hNU",
	         "password_max_time_cost");
	over_cap("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=64$2vJOe1jvqs4s/ZCZRtaZ6Q$FKFrCGUrjOrd0z5q4e//k3hD8+n/whiTR2+joR35hNU",
	         "password_max_parallelism");
	over_cap("{CRYPT}$2b$31$DgpBUhOGlrGwrDaXaOi4MODK7VJUrUor/vA38.O72ouUdFvNwwyme", "bcrypt cost 31");
	over_cap("{BLF-CRYPT}$2y$13$iB5.1MPLHaESqCcrs2Mb/OJmZeASZq8iakEbPDj39UBeET48lbx1W", "password_max_bcrypt_cost 12");
	over_cap("{SHA512-CRYPT}$6$rounds=999999999$nO.zHMb6cbPSRdHf$XM/2ob3HRMLbI/eIfO4TaRtIqynDgjmIpXuM0UVVpYI19Un53FitLaZI10KnCVsOrUtnw9vk0LgUycaBi4g1l0",
	         "password_max_sha_crypt_rounds");
	over_cap("{CRYPT}$5$rounds=500001$abc$def", "sha-crypt rounds 500001");
	/* yescrypt cost 11 (mkpasswd -R 11): N=2^18, r=32: 1 GiB. */
	over_cap("{CRYPT}$y$jFT$Uesuk6kCHnUHMN00.EQKN.$uTJp0IYGvCBvy.VJmL4PfCIOMDYqVW8GvZeKa3pMl8A", "yescrypt memory 1048576 KiB");
	/* scrypt: mkpasswd's default N=2^14, r=32 is 64 MiB; -R 11 gives N=2^18, 1 GiB. */
	over_cap("{CRYPT}$7$GU..../....gT8Qp5DKeA7xLCVdUUyOv0$2V8WAbPLVxCrsZ8Blkzqk1HyWq8QValMUhWAT9N.4O4", "scrypt memory 1048576 KiB");
	policy.max_memory_kib = 16384;
	over_cap("{CRYPT}$7$CU..../....jouKR0ehXohpqCKLxg7V1.$1tDQx5KKL84z3yQ1oDNSTYxlOKQARhWahcAJu9qAoR9", "scrypt memory 65536 KiB");
	/* A cap raised in the configuration lets the same hash through. */
	char err[SH_WHY_MAX];
	assert_int_equal(sh_policy_apply(&policy, "password_max_bcrypt_cost", "13", err, sizeof(err)), 1);
	assert_int_equal(policy.max_bcrypt_cost, 13);
	assert_int_equal(verify("{CRYPT}$2b$13$iB5.1MPLHaESqCcrs2Mb/OJmZeASZq8iakEbPDj39UBeET48lbx1W", "secret"), SH_MATCH);
	assert_int_equal(sh_policy_apply(&policy, "password_max_bcrypt_cost", "32", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4 to 31"));
	assert_int_equal(sh_policy_apply(&policy, "PASSWORD_MAX_MEMORY", "lots", err, sizeof(err)), -1);
	assert_int_equal(sh_policy_apply(&policy, "password_max_memory", "262144", err, sizeof(err)), 1);
	assert_int_equal(policy.max_memory_kib, 262144);
	assert_int_equal(sh_policy_apply(&policy, "ldap_servers", "x", err, sizeof(err)), 0);
}

static void refusals(void **state)
{
	(void)state;
	char why[SH_WHY_MAX];
	/* Cyrus compares unknown schemes as cleartext: the hash string itself would work. */
	assert_int_equal(verify("{PBKDF2-SHA512}10000$abc$def", "{PBKDF2-SHA512}10000$abc$def"), SH_UNSUPPORTED);
	assert_int_equal(sh_verify("{NOPE}x", 7, "x", &policy, why, sizeof(why)), SH_UNSUPPORTED);
	assert_string_equal(why, "unsupported password scheme {NOPE}");
	assert_int_equal(verify("{SHA}notbase64!!", "secret"), SH_MALFORMED);
	assert_int_equal(verify("{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret"), SH_MALFORMED); /* no salt */
	assert_int_equal(verify("{CRYPT}x", "x"), SH_MALFORMED);
	assert_int_equal(sh_verify("", 0, "secret", &policy, NULL, 0), SH_MALFORMED);
	assert_int_equal(sh_verify("sec\0ret", 7, "sec", &policy, NULL, 0), SH_MALFORMED);
	/* a brace that is no scheme stays cleartext */
	assert_int_equal(verify("{not a scheme", "{not a scheme"), SH_MATCH);
	/* an unknown default scheme never matches */
	strcpy(policy.default_scheme, "ROT13");
	assert_int_equal(verify("secret", "secret"), SH_UNSUPPORTED);
	assert_true(sh_scheme_known("ssha256.HEX"));
	assert_true(sh_scheme_known("CRYPT"));
	assert_false(sh_scheme_known("CRYPT.hex"));
	assert_false(sh_scheme_known("ROT13"));
}

static void base64(void **state)
{
	unsigned char out[8];
	char text[16];
	(void)state;
	assert_int_equal(sh_base64_decode("YWJj", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(sh_base64_decode("YQ==", 4, out, sizeof(out)), 1);
	assert_int_equal(sh_base64_decode("YQ", 2, out, sizeof(out)), 1);
	assert_int_equal(sh_base64_decode("Y*==", 4, out, sizeof(out)), -1);
	assert_int_equal(sh_base64_decode("YWJjZGVmZ2hp", 12, out, sizeof(out)), -1); /* 9 > 8 */
	assert_int_equal(sh_base64_encode((const unsigned char *)"ab", 2, text, sizeof(text)), 4);
	assert_string_equal(text, "YWI=");
	assert_int_equal(sh_base64_encode((const unsigned char *)"abcdefghijkl", 12, text, 16), -1);
	assert_int_equal(sh_base64_encode((const unsigned char *)"", 0, text, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(cyrus_schemes, setup),
		cmocka_unit_test_setup(sha2_digests, setup),
		cmocka_unit_test_setup(dovecot_suffixes, setup),
		cmocka_unit_test_setup(crypt_schemes, setup),
		cmocka_unit_test_setup(argon2, setup),
		cmocka_unit_test_setup(cost_caps, setup),
		cmocka_unit_test_setup(refusals, setup),
		cmocka_unit_test_setup(base64, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

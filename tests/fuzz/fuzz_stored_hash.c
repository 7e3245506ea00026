/* Fuzz target for the stored-hash verifier. Properties:
 *  - any stored text is classified (one of the sh_result values) without a crash, and a
 *    cost above the (tight) caps is never computed; its upgrade strength is -1 or a rank;
 *  - a hash we make from the input (salted SHA-2 digests in base64 and hex, {PLAIN.b64},
 *    sha256-crypt) verifies its password and not another;
 *  - base64 encoding round-trips. */
#include <crypt.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stored_hash.h"

#define FUZZ_TEXT_MAX 1100
#define FUZZ_PASSWORD_MAX 64
#define FUZZ_SALT_MAX 16
#define FUZZ_CRYPT_EVERY 16 /* crypt is slow: one input in 16 */

static void tight_policy(struct sh_policy *p, const char *default_scheme)
{
	sh_policy_defaults(p);
	p->max_bcrypt_cost = 5;
	p->max_sha_crypt_rounds = 5000;
	p->max_memory_kib = 1024;
	p->max_time_cost = 2;
	p->max_parallelism = 1;
	snprintf(p->default_scheme, sizeof(p->default_scheme), "%s", default_scheme);
}

static void expect(bool ok)
{
	if (!ok)
		abort();
}

static void any_text_is_classified(const uint8_t *data, size_t size)
{
	struct sh_policy p;
	char why[SH_WHY_MAX];
	size_t n = size < FUZZ_TEXT_MAX ? size : FUZZ_TEXT_MAX;

	for (int i = 0; i < 2; i++) {
		tight_policy(&p, i == 0 ? "PLAIN" : "CRYPT");
		enum sh_result r = sh_verify((const char *)data, n, "pw", &p, why, sizeof(why));
		expect(r == SH_MATCH || r == SH_MISMATCH || r == SH_UNSUPPORTED ||
		       r == SH_MALFORMED || r == SH_OVER_CAP);
		expect(strlen(why) < sizeof(why));
		int st = sh_strength((const char *)data, n, &p);
		expect(st >= -1 && st <= SH_STRENGTH_SLOW);
	}
}

/* {SSHA256}/{SSHA512.hex}-style value of password+salt, made here. */
static void digest_round_trip(const char *pw, const uint8_t *salt, size_t saltlen, bool hex,
                              const EVP_MD *md, const char *name)
{
	unsigned char raw[EVP_MAX_MD_SIZE + FUZZ_SALT_MAX];
	unsigned int len = 0;
	char stored[2 * sizeof(raw) + 64], wrong[FUZZ_PASSWORD_MAX + 2];
	struct sh_policy p;

	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	expect(ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	       EVP_DigestUpdate(ctx, pw, strlen(pw)) == 1 &&
	       EVP_DigestUpdate(ctx, salt, saltlen) == 1 && EVP_DigestFinal_ex(ctx, raw, &len) == 1);
	EVP_MD_CTX_free(ctx);
	memcpy(raw + len, salt, saltlen);
	len += (unsigned int)saltlen;
	int off = snprintf(stored, sizeof(stored), "{%s%s}", name, hex ? ".hex" : "");
	if (hex) {
		for (unsigned int i = 0; i < len; i++)
			off += snprintf(stored + off, sizeof(stored) - (size_t)off, "%02x", raw[i]);
	} else {
		expect(sh_base64_encode(raw, len, stored + off, sizeof(stored) - (size_t)off) > 0);
	}
	tight_policy(&p, "PLAIN");
	expect(sh_verify(stored, strlen(stored), pw, &p, NULL, 0) == SH_MATCH);
	snprintf(wrong, sizeof(wrong), "%sx", pw);
	expect(sh_verify(stored, strlen(stored), wrong, &p, NULL, 0) == SH_MISMATCH);
}

static void plain_b64_round_trip(const char *pw)
{
	char stored[FUZZ_PASSWORD_MAX * 2 + 16];
	struct sh_policy p;

	strcpy(stored, "{PLAIN.b64}");
	expect(sh_base64_encode((const unsigned char *)pw, strlen(pw), stored + 11,
	                        sizeof(stored) - 11) >= 0);
	tight_policy(&p, "PLAIN");
	expect(sh_verify(stored, strlen(stored), pw, &p, NULL, 0) == SH_MATCH);
	expect(sh_verify(stored, strlen(stored), "", &p, NULL, 0) == (pw[0] == '\0' ? SH_MATCH : SH_MISMATCH));
}

static void crypt_round_trip(const char *pw, const uint8_t *salt, size_t saltlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], stored[CRYPT_OUTPUT_SIZE + 16];
	struct crypt_data data;
	struct sh_policy p;

	memset(&data, 0, sizeof(data));
	expect(crypt_gensalt_rn("$5$", 1000, (const char *)salt, (int)saltlen, setting,
	                        sizeof(setting)) != NULL);
	const char *h = crypt_rn(pw, setting, &data, sizeof(data));
	expect(h != NULL && h[0] == '$');
	snprintf(stored, sizeof(stored), "{SHA256-CRYPT}%s", h);
	tight_policy(&p, "CRYPT");
	expect(sh_verify(stored, strlen(stored), pw, &p, NULL, 0) == SH_MATCH);
	expect(sh_verify(h, strlen(h), pw, &p, NULL, 0) == SH_MATCH);
	expect(sh_verify(stored, strlen(stored), "not-the-password", &p, NULL, 0) ==
	       (strcmp(pw, "not-the-password") == 0 ? SH_MATCH : SH_MISMATCH));
}

static void base64_round_trip(const uint8_t *data, size_t size)
{
	static char text[(FUZZ_TEXT_MAX + 2) / 3 * 4 + 1];
	static unsigned char back[FUZZ_TEXT_MAX];
	size_t n = size < FUZZ_TEXT_MAX ? size : FUZZ_TEXT_MAX;

	long len = sh_base64_encode(data, n, text, sizeof(text));
	expect(len >= 0 && (size_t)len == strlen(text));
	expect(sh_base64_decode(text, (size_t)len, back, sizeof(back)) == (long)n);
	expect(memcmp(back, data, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pw[FUZZ_PASSWORD_MAX + 1];
	size_t pwlen = 0;

	any_text_is_classified(data, size);
	base64_round_trip(data, size);
	/* The password: the input's first bytes up to a NUL; the salt: what follows. */
	while (pwlen < size && pwlen < FUZZ_PASSWORD_MAX && data[pwlen] != 0) {
		pw[pwlen] = (char)data[pwlen];
		pwlen++;
	}
	pw[pwlen] = '\0';
	/* Salted schemes need a salt, crypt_gensalt a full one: pad with a constant. */
	uint8_t salt[FUZZ_SALT_MAX];
	size_t saltlen = size - pwlen < FUZZ_SALT_MAX ? size - pwlen : FUZZ_SALT_MAX;
	memset(salt, 'S', sizeof(salt));
	memcpy(salt, data + pwlen, saltlen);
	saltlen = saltlen > 0 ? saltlen : 1;
	digest_round_trip(pw, salt, saltlen, size % 2 == 0, EVP_sha256(), "SSHA256");
	digest_round_trip(pw, salt, saltlen, size % 3 == 0, EVP_sha512(), "SSHA512");
	plain_b64_round_trip(pw);
	if (size % FUZZ_CRYPT_EVERY == 0)
		crypt_round_trip(pw, salt, sizeof(salt));
	return 0;
}

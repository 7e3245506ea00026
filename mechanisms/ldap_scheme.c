/* userPassword scheme verification for ldap_auth_method: custom (saslauthd.conf(5), LDAP Password schemes). */
#include "mechanisms/ldap_scheme.h"

#include <argon2.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/passwd_hash.h"
#include "common/secret.h"

/* Longest stored value we look at: far above any real hash (argon2 with a 64-byte salt and
 * hash is ~200 bytes), small enough for the stack. */
#define STORED_MAX 1024
#define CRYPT_MIN_SETTING 2 /* Cyrus: the rest must have at least 2 characters */
#define SCHEME_NAME_MAX 32

enum scheme_kind { KIND_CRYPT, KIND_DIGEST, KIND_SALTED, KIND_ARGON2 };

struct scheme {
	const char *prefix;
	enum scheme_kind kind;
	const EVP_MD *(*md)(void);
};

static const struct scheme schemes[] = {
	{ "{CRYPT}", KIND_CRYPT, NULL },      { "{UNIX}", KIND_CRYPT, NULL },
	{ "{MD5}", KIND_DIGEST, EVP_md5 },    { "{SMD5}", KIND_SALTED, EVP_md5 },
	{ "{SHA}", KIND_DIGEST, EVP_sha1 },   { "{SSHA}", KIND_SALTED, EVP_sha1 },
	{ "{SHA256}", KIND_DIGEST, EVP_sha256 }, { "{SSHA256}", KIND_SALTED, EVP_sha256 },
	{ "{SHA384}", KIND_DIGEST, EVP_sha384 }, { "{SSHA384}", KIND_SALTED, EVP_sha384 },
	{ "{SHA512}", KIND_DIGEST, EVP_sha512 }, { "{SSHA512}", KIND_SALTED, EVP_sha512 },
	{ "{ARGON2}", KIND_ARGON2, NULL },
};

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long ldap_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	unsigned long acc = 0;
	int bits = 0;
	size_t n = 0;

	while (inlen > 0 && in[inlen - 1] == '=')
		inlen--;
	for (size_t i = 0; i < inlen; i++) {
		int v = b64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outsz)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	return (long)n;
}

/* digest(password || salt) compared with expect, constant-time. */
static bool digest_matches(const EVP_MD *md, const char *password, const unsigned char *salt,
                           size_t saltlen, const unsigned char *expect, size_t expectlen)
{
	unsigned char got[EVP_MAX_MD_SIZE];
	unsigned int gotlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	          EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
	          (saltlen == 0 || EVP_DigestUpdate(ctx, salt, saltlen) == 1) &&
	          EVP_DigestFinal_ex(ctx, got, &gotlen) == 1;

	EVP_MD_CTX_free(ctx);
	ok = ok && secret_equal(got, gotlen, expect, expectlen);
	secret_wipe(got, sizeof(got));
	return ok;
}

static enum ldap_scheme_result check_digest(const struct scheme *sc, const char *rest,
                                            const char *password)
{
	unsigned char raw[STORED_MAX];
	const EVP_MD *md = sc->md();
	size_t mdlen = (size_t)EVP_MD_get_size(md);
	long n = ldap_base64_decode(rest, strlen(rest), raw, sizeof(raw));

	if (n < 0 || (size_t)n < mdlen)
		return LDAP_SCHEME_UNSUPPORTED;
	if (sc->kind == KIND_DIGEST && (size_t)n != mdlen)
		return LDAP_SCHEME_UNSUPPORTED;
	if (sc->kind == KIND_SALTED && (size_t)n == mdlen)
		return LDAP_SCHEME_UNSUPPORTED; /* salted scheme without a salt */
	bool ok = digest_matches(md, password, raw + mdlen, (size_t)n - mdlen, raw, mdlen);
	return ok ? LDAP_SCHEME_MATCH : LDAP_SCHEME_MISMATCH;
}

static enum ldap_scheme_result check_crypt(const char *rest, const char *password)
{
	if (strlen(rest) < CRYPT_MIN_SETTING)
		return LDAP_SCHEME_UNSUPPORTED;
	switch (passwd_hash_check(password, rest)) {
	case HASH_MATCH:
		return LDAP_SCHEME_MATCH;
	case HASH_MISMATCH:
		return LDAP_SCHEME_MISMATCH;
	case HASH_UNUSABLE:
		break;
	}
	return LDAP_SCHEME_UNSUPPORTED;
}

/* OpenLDAP's argon2 module stores libargon2's encoded form: $argon2id$v=19$m=..,t=..,p=..$salt$hash */
static enum ldap_scheme_result check_argon2(const char *rest, const char *password)
{
	argon2_type type;

	if (strncmp(rest, "$argon2id$", 10) == 0)
		type = Argon2_id;
	else if (strncmp(rest, "$argon2i$", 9) == 0)
		type = Argon2_i;
	else if (strncmp(rest, "$argon2d$", 9) == 0)
		type = Argon2_d;
	else
		return LDAP_SCHEME_UNSUPPORTED;
	switch (argon2_verify(rest, password, strlen(password), type)) {
	case ARGON2_OK:
		return LDAP_SCHEME_MATCH;
	case ARGON2_VERIFY_MISMATCH:
		return LDAP_SCHEME_MISMATCH;
	default:
		return LDAP_SCHEME_UNSUPPORTED;
	}
}

/* "{NAME}..." with a plausible scheme name: such a value is a hash we do not know, never a
 * cleartext password. */
static bool looks_like_scheme(const char *v)
{
	if (v[0] != '{')
		return false;
	for (size_t i = 1; i < SCHEME_NAME_MAX && v[i] != '\0'; i++) {
		if (v[i] == '}')
			return i > 1;
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '.' && v[i] != '_')
			return false;
	}
	return false;
}

static enum ldap_scheme_result verify_string(const char *value, const char *password)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		const struct scheme *sc = &schemes[i];
		size_t plen = strlen(sc->prefix);
		if (strncasecmp(value, sc->prefix, plen) != 0)
			continue;
		const char *rest = value + plen;
		switch (sc->kind) {
		case KIND_CRYPT:
			return check_crypt(rest, password);
		case KIND_ARGON2:
			return check_argon2(rest, password);
		case KIND_DIGEST:
		case KIND_SALTED:
			return check_digest(sc, rest, password);
		}
	}
	if (looks_like_scheme(value))
		return LDAP_SCHEME_UNSUPPORTED;
	return secret_equal_str(value, password) ? LDAP_SCHEME_MATCH : LDAP_SCHEME_MISMATCH;
}

enum ldap_scheme_result ldap_scheme_verify(const char *stored, size_t stored_len,
                                           const char *password)
{
	char value[STORED_MAX];

	if (stored_len == 0 || stored_len >= sizeof(value) || memchr(stored, '\0', stored_len))
		return LDAP_SCHEME_UNSUPPORTED;
	memcpy(value, stored, stored_len);
	value[stored_len] = '\0';
	enum ldap_scheme_result r = verify_string(value, password);
	secret_wipe(value, sizeof(value));
	return r;
}

/* Stored-hash verification shared by every mechanism (saslauthd.conf(5), PASSWORD SCHEMES). */
#include "common/stored_hash.h"

#include <argon2.h>
#include <crypt.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "common/secret.h"
#include "common/strutil.h"

/* Longest stored value we look at: far above any real hash (argon2 with a 64-byte salt and
 * hash is ~200 bytes), small enough for the stack. */
#define STORED_MAX 1024
#define CRYPT_MIN_SETTING 2 /* Cyrus: a {CRYPT} value has at least 2 characters */
#define DES_CRYPT_LEN 13
#define BCRYPT_COST_DIGITS 2
#define ROUNDS_DIGITS_MAX 10
#define YESCRYPT_N_LOG2_MAX 40
#define SCRYPT_FIELD_CHARS 5
#define KIB 1024UL
#define SCRYPT_BLOCK_BYTES 128UL /* scrypt/yescrypt memory: 128 * r * N bytes */
/* What sh_make creates: libxcrypt's default rounds for SHA-crypt; bcrypt and argon2id a
 * little above the usual generators' defaults and well under the default caps. */
#define MAKE_BCRYPT_COST 10
#define MAKE_ARGON2_T 3
#define MAKE_ARGON2_M_KIB 65536
#define MAKE_ARGON2_P 1
#define MAKE_ARGON2_SALT 16
#define MAKE_ARGON2_HASH 32
#define MAKE_SETTING_MAX 128

static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

enum scheme_kind { KIND_PLAIN, KIND_CRYPT, KIND_DIGEST, KIND_SALTED, KIND_ARGON2 };
enum encoding { ENC_RAW, ENC_B64, ENC_HEX };

struct scheme {
	const char *name;
	enum scheme_kind kind;
	const EVP_MD *(*md)(void);
	enum encoding enc;    /* digests: the encoding without a suffix */
	const char *required; /* crypt/argon2: the value must start with this; NULL: any */
};

static const struct scheme schemes[] = {
	{ "PLAIN", KIND_PLAIN, NULL, ENC_RAW, NULL },
	{ "CLEAR", KIND_PLAIN, NULL, ENC_RAW, NULL },
	{ "CLEARTEXT", KIND_PLAIN, NULL, ENC_RAW, NULL },
	{ "CRYPT", KIND_CRYPT, NULL, ENC_RAW, NULL },
	{ "UNIX", KIND_CRYPT, NULL, ENC_RAW, NULL },
	{ "SHA512-CRYPT", KIND_CRYPT, NULL, ENC_RAW, "$6$" },
	{ "SHA256-CRYPT", KIND_CRYPT, NULL, ENC_RAW, "$5$" },
	{ "BLF-CRYPT", KIND_CRYPT, NULL, ENC_RAW, "$2" },
	{ "MD5-CRYPT", KIND_CRYPT, NULL, ENC_RAW, "$1$" },
	{ "MD5", KIND_DIGEST, EVP_md5, ENC_B64, NULL },
	{ "LDAP-MD5", KIND_DIGEST, EVP_md5, ENC_B64, NULL },
	{ "PLAIN-MD5", KIND_DIGEST, EVP_md5, ENC_HEX, NULL },
	{ "SMD5", KIND_SALTED, EVP_md5, ENC_B64, NULL },
	{ "SHA", KIND_DIGEST, EVP_sha1, ENC_B64, NULL },
	{ "SHA1", KIND_DIGEST, EVP_sha1, ENC_B64, NULL },
	{ "SSHA", KIND_SALTED, EVP_sha1, ENC_B64, NULL },
	{ "SHA256", KIND_DIGEST, EVP_sha256, ENC_B64, NULL },
	{ "SSHA256", KIND_SALTED, EVP_sha256, ENC_B64, NULL },
	{ "SHA384", KIND_DIGEST, EVP_sha384, ENC_B64, NULL },
	{ "SSHA384", KIND_SALTED, EVP_sha384, ENC_B64, NULL },
	{ "SHA512", KIND_DIGEST, EVP_sha512, ENC_B64, NULL },
	{ "SSHA512", KIND_SALTED, EVP_sha512, ENC_B64, NULL },
	{ "ARGON2", KIND_ARGON2, NULL, ENC_RAW, "$argon2" },
	{ "ARGON2I", KIND_ARGON2, NULL, ENC_RAW, "$argon2i$" },
	{ "ARGON2ID", KIND_ARGON2, NULL, ENC_RAW, "$argon2id$" },
};

struct cap_key {
	const char *name;
	size_t offset;
	long min, max;
};

#define CAP(name, field, lo, hi) { name, offsetof(struct sh_policy, field), lo, hi }
static const struct cap_key cap_keys[] = {
	CAP("password_max_bcrypt_cost", max_bcrypt_cost, 4, 31),
	CAP("password_max_sha_crypt_rounds", max_sha_crypt_rounds, 1000, 999999999),
	CAP("password_max_memory", max_memory_kib, 8, 1L << 30),
	CAP("password_max_time_cost", max_time_cost, 1, 1L << 20),
	CAP("password_max_parallelism", max_parallelism, 1, (1L << 24) - 1),
};

/* A parsed scheme: which one, how its value is encoded, and the value after the prefix. */
struct parsed {
	const struct scheme *sc;
	enum encoding enc;
	const char *rest;
};

static void set_why(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whysz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

void sh_policy_defaults(struct sh_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_bcrypt_cost = SH_DEFAULT_MAX_BCRYPT_COST;
	p->max_sha_crypt_rounds = SH_DEFAULT_MAX_SHA_CRYPT_ROUNDS;
	p->max_memory_kib = SH_DEFAULT_MAX_MEMORY_KIB;
	p->max_time_cost = SH_DEFAULT_MAX_TIME_COST;
	p->max_parallelism = SH_DEFAULT_MAX_PARALLELISM;
	str_copy(p->default_scheme, sizeof(p->default_scheme), "PLAIN");
}

int sh_policy_apply(struct sh_policy *p, const char *key, const char *value, char *err,
                    size_t errsz)
{
	for (size_t i = 0; i < sizeof(cap_keys) / sizeof(cap_keys[0]); i++) {
		const struct cap_key *k = &cap_keys[i];
		long v;
		if (strcasecmp(key, k->name) != 0)
			continue;
		if (!str_to_long(value, k->min, k->max, &v)) {
			set_why(err, errsz, "%s must be a number from %ld to %ld", k->name, k->min,
			        k->max);
			return -1;
		}
		*(long *)(void *)((char *)p + k->offset) = v;
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- encodings */

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

long sh_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz)
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

long sh_base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outsz)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t need = (inlen + 2) / 3 * 4 + 1;
	size_t n = 0;

	if (outsz < need)
		return -1;
	for (size_t i = 0; i < inlen; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;
		size_t left = inlen - i;
		if (left > 1)
			v |= (unsigned long)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[n++] = alphabet[(v >> 18) & 63];
		out[n++] = alphabet[(v >> 12) & 63];
		out[n++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		out[n++] = left > 2 ? alphabet[v & 63] : '=';
	}
	out[n] = '\0';
	return (long)n;
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static long hex_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	if (inlen % 2 != 0 || inlen / 2 > outsz)
		return -1;
	for (size_t i = 0; i < inlen; i += 2) {
		int hi = hex_value((unsigned char)in[i]), lo = hex_value((unsigned char)in[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(inlen / 2);
}

static long decode(enum encoding enc, const char *in, unsigned char *out, size_t outsz)
{
	size_t len = strlen(in);

	if (enc == ENC_HEX)
		return hex_decode(in, len, out, outsz);
	if (enc == ENC_B64)
		return sh_base64_decode(in, len, out, outsz);
	if (len > outsz)
		return -1;
	memcpy(out, in, len);
	return (long)len;
}

/* ---------------------------------------------------------------- scheme names */

static bool parse_name(const char *name, size_t len, const struct scheme **sc, enum encoding *enc)
{
	const char *dot = memchr(name, '.', len);
	size_t base = dot != NULL ? (size_t)(dot - name) : len;

	*sc = NULL;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == base && strncasecmp(name, schemes[i].name, base) == 0)
			*sc = &schemes[i];
	}
	if (*sc == NULL)
		return false;
	*enc = (*sc)->enc;
	if (dot == NULL)
		return true;
	/* Dovecot's encoding suffixes apply to binary digests and to cleartext. */
	const char *suffix = dot + 1;
	size_t slen = len - base - 1;
	if ((*sc)->kind == KIND_CRYPT || (*sc)->kind == KIND_ARGON2)
		return false;
	if ((slen == 3 && strncasecmp(suffix, "b64", 3) == 0) ||
	    (slen == 6 && strncasecmp(suffix, "base64", 6) == 0))
		*enc = ENC_B64;
	else if (slen == 3 && strncasecmp(suffix, "hex", 3) == 0)
		*enc = ENC_HEX;
	else
		return false;
	return true;
}

bool sh_scheme_known(const char *name)
{
	const struct scheme *sc;
	enum encoding enc;

	return parse_name(name, strlen(name), &sc, &enc);
}

/* "{NAME}..." with a plausible scheme name: its length, else 0. Such a value is a hash,
 * known or not, never a cleartext password. */
static size_t scheme_prefix_len(const char *v)
{
	if (v[0] != '{')
		return 0;
	for (size_t i = 1; i < SH_SCHEME_NAME_MAX && v[i] != '\0'; i++) {
		if (v[i] == '}')
			return i > 1 ? i + 1 : 0;
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '.' && v[i] != '_')
			return 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- cost caps */

static int itoa64_value(char c)
{
	const char *p = c != '\0' ? strchr(itoa64, c) : NULL;
	return p != NULL ? (int)(p - itoa64) : -1;
}

/* yescrypt's variable-length integer (decode64_uint32 in libxcrypt's yescrypt-common.c). */
static const char *yescrypt_uint(const char *src, uint32_t min, uint32_t *dst)
{
	uint32_t start = 0, end = 47, chars = 1, bits = 0;
	int c = itoa64_value(*src);
	uint64_t v = min;

	if (c < 0)
		return NULL;
	src++;
	while ((uint32_t)c > end) {
		v += (uint64_t)(end + 1 - start) << bits;
		start = end + 1;
		end = start + (62 - end) / 2;
		chars++;
		bits += 6;
	}
	v += (uint64_t)((uint32_t)c - start) << bits;
	while (--chars > 0) {
		c = itoa64_value(*src);
		if (c < 0)
			return NULL;
		src++;
		bits -= 6;
		v += (uint64_t)c << bits;
	}
	if (v > UINT32_MAX)
		return NULL;
	*dst = (uint32_t)v;
	return src;
}

static enum sh_result memory_cap(const char *what, uint32_t n_log2, uint64_t r,
                                 const struct sh_policy *p, char *why, size_t whysz)
{
	if (n_log2 > YESCRYPT_N_LOG2_MAX || r == 0 || r > UINT32_MAX) {
		set_why(why, whysz, "malformed %s parameters", what);
		return SH_MALFORMED;
	}
	uint64_t kib = (SCRYPT_BLOCK_BYTES * r << n_log2) / KIB;
	if (kib > (uint64_t)p->max_memory_kib) {
		set_why(why, whysz, "%s memory %llu KiB above password_max_memory %ld", what,
		        (unsigned long long)kib, p->max_memory_kib);
		return SH_OVER_CAP;
	}
	return SH_MATCH;
}

static enum sh_result over(const char *what, unsigned long long v, const char *key, long cap,
                           char *why, size_t whysz)
{
	set_why(why, whysz, "%s %llu above %s %ld", what, v, key, cap);
	return SH_OVER_CAP;
}

static enum sh_result yescrypt_admissible(const char *s, const struct sh_policy *p, char *why,
                                          size_t whysz)
{
	uint32_t flavor, n_log2, r, have = 0, par = 1, t = 0, g = 0;

	s = yescrypt_uint(s, 0, &flavor);
	s = s != NULL ? yescrypt_uint(s, 1, &n_log2) : NULL;
	s = s != NULL ? yescrypt_uint(s, 1, &r) : NULL;
	if (s != NULL && *s != '$')
		s = yescrypt_uint(s, 1, &have);
	if (s != NULL && (have & 1))
		s = yescrypt_uint(s, 2, &par);
	if (s != NULL && (have & 2))
		s = yescrypt_uint(s, 1, &t);
	if (s != NULL && (have & 4))
		s = yescrypt_uint(s, 1, &g);
	if (s == NULL) {
		set_why(why, whysz, "malformed yescrypt parameters");
		return SH_MALFORMED;
	}
	enum sh_result m = memory_cap("yescrypt", n_log2, r, p, why, whysz);
	if (m != SH_MATCH)
		return m;
	if ((uint64_t)t + g > (uint64_t)p->max_time_cost)
		return over("yescrypt time cost", (uint64_t)t + g, "password_max_time_cost",
		            p->max_time_cost, why, whysz);
	if (par > (uint64_t)p->max_parallelism)
		return over("yescrypt parallelism", par, "password_max_parallelism",
		            p->max_parallelism, why, whysz);
	return SH_MATCH;
}

/* $7$: one character log2(N), then r and p as 30-bit little-endian fields of 5 characters. */
static bool scrypt_field(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < SCRYPT_FIELD_CHARS; i++) {
		int c = itoa64_value(s[i]);
		if (c < 0)
			return false;
		v |= (uint32_t)c << (6 * i);
	}
	*out = v;
	return true;
}

static enum sh_result scrypt_admissible(const char *s, const struct sh_policy *p, char *why,
                                        size_t whysz)
{
	int n_log2 = itoa64_value(s[0]);
	uint32_t r, par;

	if (n_log2 < 1 || !scrypt_field(s + 1, &r) ||
	    !scrypt_field(s + 1 + SCRYPT_FIELD_CHARS, &par)) {
		set_why(why, whysz, "malformed scrypt parameters");
		return SH_MALFORMED;
	}
	enum sh_result m = memory_cap("scrypt", (uint32_t)n_log2, r, p, why, whysz);
	if (m != SH_MATCH)
		return m;
	if (par > (uint64_t)p->max_parallelism)
		return over("scrypt parallelism", par, "password_max_parallelism",
		            p->max_parallelism, why, whysz);
	return SH_MATCH;
}

/* Digits up to a terminator, into [0, max]. Advances *s past them. */
static bool parse_number(const char **s, size_t max_digits, unsigned long long *out)
{
	size_t n = 0;
	unsigned long long v = 0;

	while (isdigit((unsigned char)(*s)[n]) && n < max_digits) {
		v = v * 10 + (unsigned long long)((*s)[n] - '0');
		n++;
	}
	if (n == 0 || isdigit((unsigned char)(*s)[n]))
		return false;
	*s += n;
	*out = v;
	return true;
}

static enum sh_result sha_crypt_admissible(const char *s, const struct sh_policy *p, char *why,
                                           size_t whysz)
{
	unsigned long long rounds;

	if (strncmp(s, "rounds=", 7) != 0)
		return SH_MATCH; /* the default 5000 */
	s += 7;
	if (!parse_number(&s, ROUNDS_DIGITS_MAX, &rounds) || *s != '$') {
		set_why(why, whysz, "malformed sha-crypt rounds");
		return SH_MALFORMED;
	}
	if (rounds > (unsigned long long)p->max_sha_crypt_rounds)
		return over("sha-crypt rounds", rounds, "password_max_sha_crypt_rounds",
		            p->max_sha_crypt_rounds, why, whysz);
	return SH_MATCH;
}

static enum sh_result bcrypt_admissible(const char *s, const struct sh_policy *p, char *why,
                                        size_t whysz)
{
	unsigned long long cost;

	if (!parse_number(&s, BCRYPT_COST_DIGITS, &cost) || *s != '$') {
		set_why(why, whysz, "malformed bcrypt cost");
		return SH_MALFORMED;
	}
	if (cost > (unsigned long long)p->max_bcrypt_cost)
		return over("bcrypt cost", cost, "password_max_bcrypt_cost", p->max_bcrypt_cost, why,
		            whysz);
	return SH_MATCH;
}

static bool is_des_crypt(const char *s)
{
	if (strlen(s) != DES_CRYPT_LEN)
		return false;
	for (size_t i = 0; i < DES_CRYPT_LEN; i++) {
		if (itoa64_value(s[i]) < 0)
			return false;
	}
	return true;
}

/* Only the crypt(3) methods whose cost we can bound run; the others libxcrypt knows
 * ($sha1$, $md5, _ BSDi with their unbounded rounds; NT) are refused. */
static enum sh_result crypt_admissible(const char *h, const struct sh_policy *p, char *why,
                                       size_t whysz)
{
	if (strncmp(h, "$y$", 3) == 0)
		return yescrypt_admissible(h + 3, p, why, whysz);
	if (strncmp(h, "$gy$", 4) == 0)
		return yescrypt_admissible(h + 4, p, why, whysz);
	if (strncmp(h, "$7$", 3) == 0)
		return scrypt_admissible(h + 3, p, why, whysz);
	if (strncmp(h, "$6$", 3) == 0 || strncmp(h, "$5$", 3) == 0)
		return sha_crypt_admissible(h + 3, p, why, whysz);
	if (h[0] == '$' && h[1] == '2' && h[2] != '\0' && strchr("abxy", h[2]) != NULL && h[3] == '$')
		return bcrypt_admissible(h + 4, p, why, whysz);
	if (strncmp(h, "$1$", 3) == 0 || is_des_crypt(h))
		return SH_MATCH;
	set_why(why, whysz, "unsupported crypt method");
	return SH_UNSUPPORTED;
}

/* m=,t=,p= of libargon2's encoded form: $argon2id$v=19$m=65536,t=3,p=1$salt$hash */
static enum sh_result argon2_admissible(const char *s, const struct sh_policy *p, char *why,
                                        size_t whysz)
{
	unsigned long long v, m, t, par;

	s = strchr(s + 1, '$');
	if (s != NULL && strncmp(s, "$v=", 3) == 0) {
		s += 3;
		if (!parse_number(&s, ROUNDS_DIGITS_MAX, &v))
			s = NULL;
	}
	if (s == NULL || strncmp(s, "$m=", 3) != 0)
		goto malformed;
	s += 3;
	if (!parse_number(&s, ROUNDS_DIGITS_MAX, &m) || strncmp(s, ",t=", 3) != 0)
		goto malformed;
	s += 3;
	if (!parse_number(&s, ROUNDS_DIGITS_MAX, &t) || strncmp(s, ",p=", 3) != 0)
		goto malformed;
	s += 3;
	if (!parse_number(&s, ROUNDS_DIGITS_MAX, &par) || *s != '$')
		goto malformed;
	if (m > (unsigned long long)p->max_memory_kib)
		return over("argon2 memory KiB", m, "password_max_memory", p->max_memory_kib, why,
		            whysz);
	if (t > (unsigned long long)p->max_time_cost)
		return over("argon2 time cost", t, "password_max_time_cost", p->max_time_cost, why,
		            whysz);
	if (par > (unsigned long long)p->max_parallelism)
		return over("argon2 parallelism", par, "password_max_parallelism",
		            p->max_parallelism, why, whysz);
	return SH_MATCH;
malformed:
	set_why(why, whysz, "malformed argon2 parameters");
	return SH_MALFORMED;
}

/* ---------------------------------------------------------------- verification */

enum sh_result sh_crypt_check(const char *password, const char *stored)
{
	/* struct crypt_data is large (~32 KiB); keep it off the stack and wipe it after. */
	struct crypt_data *data = calloc(1, sizeof(*data));
	enum sh_result result = SH_UNSUPPORTED;

	if (data == NULL)
		return SH_UNSUPPORTED;
	/* A locked ("!..."), disabled ("*", "x") or empty entry can never match; libxcrypt
	 * would return a "*0"-style failure token, which we must not compare against. */
	if (stored[0] != '\0' && stored[0] != '!' && stored[0] != '*') {
		const char *computed = crypt_rn(password, stored, data, (int)sizeof(*data));
		if (computed != NULL && computed[0] != '*')
			result = secret_equal_str(computed, stored) ? SH_MATCH : SH_MISMATCH;
	}
	secret_wipe(data, sizeof(*data));
	free(data);
	return result;
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

static bool all_hex(const char *s)
{
	for (; *s != '\0'; s++) {
		if (hex_value((unsigned char)*s) < 0)
			return false;
	}
	return true;
}

static enum sh_result check_digest(const struct parsed *pv, const char *password, char *why,
                                   size_t whysz)
{
	unsigned char raw[STORED_MAX];
	const EVP_MD *md = pv->sc->md();
	size_t mdlen = (size_t)EVP_MD_get_size(md);
	enum encoding enc = pv->enc;

	/* Dovecot reads a base64 digest of exactly the hex length as hex. */
	if (pv->sc->kind == KIND_DIGEST && enc == ENC_B64 && strlen(pv->rest) == 2 * mdlen &&
	    all_hex(pv->rest))
		enc = ENC_HEX;
	long n = decode(enc, pv->rest, raw, sizeof(raw));
	bool bad = n < 0 || (size_t)n < mdlen ||
	           (pv->sc->kind == KIND_DIGEST && (size_t)n != mdlen) ||
	           (pv->sc->kind == KIND_SALTED && (size_t)n == mdlen); /* salted without salt */
	if (bad) {
		set_why(why, whysz, "malformed {%s} value", pv->sc->name);
		return SH_MALFORMED;
	}
	bool ok = digest_matches(md, password, raw + mdlen, (size_t)n - mdlen, raw, mdlen);
	secret_wipe(raw, sizeof(raw));
	return ok ? SH_MATCH : SH_MISMATCH;
}

static enum sh_result check_plain(const struct parsed *pv, const char *password, char *why,
                                  size_t whysz)
{
	unsigned char raw[STORED_MAX];
	long n = decode(pv->enc, pv->rest, raw, sizeof(raw));

	if (n < 0) {
		set_why(why, whysz, "malformed {%s} value", pv->sc->name);
		return SH_MALFORMED;
	}
	bool ok = secret_equal(raw, (size_t)n, password, strlen(password));
	secret_wipe(raw, sizeof(raw));
	return ok ? SH_MATCH : SH_MISMATCH;
}

static enum sh_result check_crypt(const struct parsed *pv, const char *password,
                                  const struct sh_policy *p, char *why, size_t whysz)
{
	const char *h = pv->rest;

	if (strlen(h) < CRYPT_MIN_SETTING ||
	    (pv->sc->required != NULL && strncmp(h, pv->sc->required, strlen(pv->sc->required)) != 0)) {
		set_why(why, whysz, "malformed {%s} value", pv->sc->name);
		return SH_MALFORMED;
	}
	enum sh_result r = crypt_admissible(h, p, why, whysz);
	if (r != SH_MATCH)
		return r;
	r = sh_crypt_check(password, h);
	if (r == SH_UNSUPPORTED) {
		set_why(why, whysz, "malformed {%s} value", pv->sc->name);
		r = SH_MALFORMED;
	}
	return r;
}

static enum sh_result check_argon2(const struct parsed *pv, const char *password,
                                   const struct sh_policy *p, char *why, size_t whysz)
{
	const char *h = pv->rest;
	argon2_type type;

	if (strncmp(h, "$argon2id$", 10) == 0)
		type = Argon2_id;
	else if (strncmp(h, "$argon2i$", 9) == 0)
		type = Argon2_i;
	else if (strncmp(h, "$argon2d$", 9) == 0)
		type = Argon2_d;
	else
		h = NULL;
	if (h == NULL || strncmp(h, pv->sc->required, strlen(pv->sc->required)) != 0) {
		set_why(why, whysz, "malformed {%s} value", pv->sc->name);
		return SH_MALFORMED;
	}
	enum sh_result r = argon2_admissible(h, p, why, whysz);
	if (r != SH_MATCH)
		return r;
	switch (argon2_verify(h, password, strlen(password), type)) {
	case ARGON2_OK:
		return SH_MATCH;
	case ARGON2_VERIFY_MISMATCH:
		return SH_MISMATCH;
	default:
		set_why(why, whysz, "malformed {%s} value", pv->sc->name);
		return SH_MALFORMED;
	}
}

static enum sh_result check_parsed(const struct parsed *pv, const char *password,
                                   const struct sh_policy *p, char *why, size_t whysz)
{
	switch (pv->sc->kind) {
	case KIND_PLAIN:
		return check_plain(pv, password, why, whysz);
	case KIND_CRYPT:
		return check_crypt(pv, password, p, why, whysz);
	case KIND_ARGON2:
		return check_argon2(pv, password, p, why, whysz);
	case KIND_DIGEST:
	case KIND_SALTED:
		break;
	}
	/* Dovecot's {MD5} is MD5-CRYPT; RFC 2307's is a base64 digest. '$' tells them apart. */
	if (pv->sc->md == EVP_md5 && strncmp(pv->rest, "$1$", 3) == 0) {
		struct parsed crypt_pv = { NULL, ENC_RAW, pv->rest };
		(void)parse_name("CRYPT", 5, &crypt_pv.sc, &crypt_pv.enc);
		return check_crypt(&crypt_pv, password, p, why, whysz);
	}
	return check_digest(pv, password, why, whysz);
}

static enum sh_result verify_string(const char *value, const char *password,
                                    const struct sh_policy *p, char *why, size_t whysz)
{
	struct parsed pv = { NULL, ENC_RAW, value };
	size_t plen = scheme_prefix_len(value);
	const char *name = plen > 0 ? value + 1 : p->default_scheme;
	size_t namelen = plen > 0 ? plen - 2 : strlen(p->default_scheme);

	if (!parse_name(name, namelen, &pv.sc, &pv.enc)) {
		set_why(why, whysz, "unsupported password scheme {%.*s}", (int)namelen, name);
		return SH_UNSUPPORTED;
	}
	pv.rest = value + plen;
	return check_parsed(&pv, password, p, why, whysz);
}

enum sh_result sh_verify(const char *stored, size_t stored_len, const char *password,
                         const struct sh_policy *policy, char *why, size_t whysz)
{
	char value[STORED_MAX];

	set_why(why, whysz, "%s", "");
	if (stored_len == 0 || stored_len >= sizeof(value) || memchr(stored, '\0', stored_len)) {
		set_why(why, whysz, stored_len == 0 ? "empty stored password"
		                                    : "stored password too long or with a NUL byte");
		return SH_MALFORMED;
	}
	memcpy(value, stored, stored_len);
	value[stored_len] = '\0';
	enum sh_result r = verify_string(value, password, policy, why, whysz);
	secret_wipe(value, sizeof(value));
	return r;
}

/* ---------------------------------------------------------------- upgrades */

static int crypt_strength(const char *h)
{
	if (strncmp(h, "$1$", 3) == 0)
		return SH_STRENGTH_MD5_CRYPT;
	if (strncmp(h, "$5$", 3) == 0)
		return SH_STRENGTH_SHA256_CRYPT;
	if (strncmp(h, "$6$", 3) == 0)
		return SH_STRENGTH_SHA512_CRYPT;
	if (strncmp(h, "$y$", 3) == 0 || strncmp(h, "$gy$", 4) == 0 || strncmp(h, "$7$", 3) == 0 ||
	    strncmp(h, "$2", 2) == 0)
		return SH_STRENGTH_SLOW;
	return is_des_crypt(h) ? SH_STRENGTH_SALTED : -1;
}

static int parsed_strength(const struct parsed *pv)
{
	switch (pv->sc->kind) {
	case KIND_PLAIN:
		return SH_STRENGTH_CLEAR;
	case KIND_CRYPT:
		return crypt_strength(pv->rest);
	case KIND_ARGON2:
		return SH_STRENGTH_SLOW;
	case KIND_DIGEST:
		/* Dovecot's {MD5} holding an MD5-CRYPT value (see check_parsed). */
		return strncmp(pv->rest, "$1$", 3) == 0 ? SH_STRENGTH_MD5_CRYPT : SH_STRENGTH_DIGEST;
	case KIND_SALTED:
		return SH_STRENGTH_SALTED;
	}
	return -1;
}

int sh_strength(const char *stored, size_t stored_len, const struct sh_policy *policy)
{
	char value[STORED_MAX];
	struct parsed pv = { NULL, ENC_RAW, value };

	if (stored_len == 0 || stored_len >= sizeof(value))
		return -1;
	memcpy(value, stored, stored_len);
	value[stored_len] = '\0';
	size_t plen = scheme_prefix_len(value);
	const char *name = plen > 0 ? value + 1 : policy->default_scheme;
	size_t namelen = plen > 0 ? plen - 2 : strlen(policy->default_scheme);
	int r = -1;
	if (parse_name(name, namelen, &pv.sc, &pv.enc)) {
		pv.rest = value + plen;
		r = parsed_strength(&pv);
	}
	secret_wipe(value, sizeof(value));
	return r;
}

struct make_target {
	const char *name;
	int strength;
	const char *prefix; /* crypt_gensalt prefix; NULL: argon2id */
	unsigned long count;
};

static const struct make_target make_targets[] = {
	{ "SHA256-CRYPT", SH_STRENGTH_SHA256_CRYPT, "$5$", 0 },
	{ "SHA512-CRYPT", SH_STRENGTH_SHA512_CRYPT, "$6$", 0 },
	{ "BLF-CRYPT", SH_STRENGTH_SLOW, "$2b$", MAKE_BCRYPT_COST },
	{ "ARGON2ID", SH_STRENGTH_SLOW, NULL, 0 },
};

static const struct make_target *make_target_of(const char *name)
{
	for (size_t i = 0; i < sizeof(make_targets) / sizeof(make_targets[0]); i++) {
		if (strcasecmp(name, make_targets[i].name) == 0)
			return &make_targets[i];
	}
	return NULL;
}

int sh_make_strength(const char *name)
{
	const struct make_target *t = make_target_of(name);
	return t != NULL ? t->strength : -1;
}

static bool make_crypt(const struct make_target *t, const char *password, char *out,
                       size_t outsz, char *why, size_t whysz)
{
	char setting[MAKE_SETTING_MAX];
	struct crypt_data *data = calloc(1, sizeof(*data)); /* ~32 KiB: not on the stack */
	bool ok = false;

	if (data == NULL) {
		set_why(why, whysz, "out of memory");
		return false;
	}
	if (crypt_gensalt_rn(t->prefix, t->count, NULL, 0, setting, (int)sizeof(setting)) == NULL) {
		set_why(why, whysz, "crypt_gensalt failed for %s", t->name);
	} else {
		const char *h = crypt_rn(password, setting, data, (int)sizeof(*data));
		if (h == NULL || h[0] == '*')
			set_why(why, whysz, "crypt failed for %s", t->name);
		else if (!(ok = str_format(out, outsz, "{%s}%s", t->name, h)))
			set_why(why, whysz, "new %s value too long", t->name);
	}
	secret_wipe(data, sizeof(*data));
	free(data);
	return ok;
}

static bool make_argon2id(const char *password, char *out, size_t outsz, char *why,
                          size_t whysz)
{
	unsigned char salt[MAKE_ARGON2_SALT];
	char encoded[STORED_MAX];
	const char prefix[] = "{ARGON2ID}";

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt)) {
		set_why(why, whysz, "no random salt");
		return false;
	}
	int rc = argon2id_hash_encoded(MAKE_ARGON2_T, MAKE_ARGON2_M_KIB, MAKE_ARGON2_P, password,
	                               strlen(password), salt, sizeof(salt), MAKE_ARGON2_HASH,
	                               encoded, sizeof(encoded));
	if (rc != ARGON2_OK) {
		set_why(why, whysz, "argon2id: %s", argon2_error_message(rc));
		return false;
	}
	if (!str_format(out, outsz, "%s%s", prefix, encoded)) {
		set_why(why, whysz, "new ARGON2ID value too long");
		return false;
	}
	return true;
}

bool sh_make(const char *scheme, const char *password, char *out, size_t outsz, char *why,
             size_t whysz)
{
	const struct make_target *t = make_target_of(scheme);

	if (t == NULL) {
		set_why(why, whysz, "cannot make {%s} values", scheme);
		return false;
	}
	return t->prefix != NULL ? make_crypt(t, password, out, outsz, why, whysz)
	                         : make_argon2id(password, out, outsz, why, whysz);
}

/* Verifying a password against a stored hash: the one place for it (shadow and getpwent
 * through crypt(3); ldap custom and sql through {SCHEME} prefixes, saslauthd.conf(5),
 * PASSWORD SCHEMES).
 *
 * Schemes: {PLAIN} {CLEAR} {CLEARTEXT}; crypt(3) as {CRYPT} {UNIX} {SHA512-CRYPT}
 * {SHA256-CRYPT} {BLF-CRYPT} {MD5-CRYPT} ($y$ $gy$ $7$ $6$ $5$ $2a/b/x/y$ $1$ and DES);
 * RFC 2307 digests {MD5} {SMD5} {SHA} {SSHA} {SHA256} {SSHA256} {SHA384} {SSHA384}
 * {SHA512} {SSHA512}, {LDAP-MD5}, {PLAIN-MD5}, with Dovecot's .b64/.hex suffixes;
 * {ARGON2} {ARGON2I} {ARGON2ID}. A value with an unknown {SCHEME} prefix never matches
 * (Cyrus compared it as cleartext: the hash string itself was a working password). All
 * comparisons are constant-time. Expensive stored parameters are checked against caps
 * before anything is computed. */
#ifndef SASLAUTHD_STORED_HASH_H
#define SASLAUTHD_STORED_HASH_H

#include <stdbool.h>
#include <stddef.h>

enum sh_result {
	SH_MATCH,
	SH_MISMATCH,
	SH_UNSUPPORTED, /* unknown {SCHEME}, or a crypt(3) method we do not run */
	SH_MALFORMED,   /* a known scheme, but a value it cannot hold */
	SH_OVER_CAP,    /* a stored cost parameter above the configured cap: not computed */
};

/* Default caps: each allows about 0.1-0.5 s and 128 MiB per check on a small server
 * and stays well above what the usual hash generators produce (see saslauthd.conf(5)). */
#define SH_DEFAULT_MAX_BCRYPT_COST 12
#define SH_DEFAULT_MAX_SHA_CRYPT_ROUNDS 500000L
#define SH_DEFAULT_MAX_MEMORY_KIB 131072L
#define SH_DEFAULT_MAX_TIME_COST 8L
#define SH_DEFAULT_MAX_PARALLELISM 4L
#define SH_SCHEME_NAME_MAX 32
#define SH_WHY_MAX 160

struct sh_policy {
	long max_bcrypt_cost;      /* password_max_bcrypt_cost: log2 of bcrypt's rounds */
	long max_sha_crypt_rounds; /* password_max_sha_crypt_rounds: $5$ / $6$ rounds= */
	long max_memory_kib;       /* password_max_memory: argon2 m, yescrypt/scrypt 128*N*r */
	long max_time_cost;        /* password_max_time_cost: argon2 t, yescrypt t */
	long max_parallelism;      /* password_max_parallelism: argon2/yescrypt/scrypt p */
	/* What a value without a {SCHEME} prefix is: "PLAIN" (ldap, as Cyrus) or any scheme
	 * name, e.g. "CRYPT" (sql_default_scheme). */
	char default_scheme[SH_SCHEME_NAME_MAX];
};

void sh_policy_defaults(struct sh_policy *p);

/* If key is one of the password_max_* keys, set it from value: 1 when set, 0 when key is
 * none of them, -1 (with a message in err) when the value is no number in range. */
int sh_policy_apply(struct sh_policy *p, const char *key, const char *value, char *err,
                    size_t errsz);

/* True when name (e.g. "SHA512-CRYPT", "ssha256.hex") is a scheme we verify. */
bool sh_scheme_known(const char *name);

/* stored: the value (not NUL-terminated, stored_len bytes). why (may be NULL) receives a
 * short reason for anything but SH_MATCH / SH_MISMATCH, never containing the password. */
enum sh_result sh_verify(const char *stored, size_t stored_len, const char *password,
                         const struct sh_policy *policy, char *why, size_t whysz);

/* crypt(3) without caps, for the system's own passwd/shadow entries. SH_UNSUPPORTED for
 * an entry crypt cannot verify (locked "!", "*", "x", empty). */
enum sh_result sh_crypt_check(const char *password, const char *stored);

/* Hash upgrades (sql_upgrade_scheme): how strong a stored value's method is, by rank
 * (cost parameters are not compared), and making a new value. */
enum sh_strength {
	SH_STRENGTH_CLEAR,     /* {PLAIN} and friends */
	SH_STRENGTH_DIGEST,    /* unsalted digests: {MD5} {SHA} {SHA256} ... */
	SH_STRENGTH_SALTED,    /* salted digests {SSHA*} {SMD5}, DES crypt */
	SH_STRENGTH_MD5_CRYPT, /* $1$ */
	SH_STRENGTH_SHA256_CRYPT,
	SH_STRENGTH_SHA512_CRYPT,
	SH_STRENGTH_SLOW, /* bcrypt, scrypt, yescrypt, argon2: memory- or cost-hard */
};

/* The strength of a stored value (read as sh_verify reads it); -1 when no known scheme. */
int sh_strength(const char *stored, size_t stored_len, const struct sh_policy *policy);

/* The schemes sh_make creates: SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT, ARGON2ID. -1 when
 * name is none of them, else its strength. */
int sh_make_strength(const char *name);

/* A new "{SCHEME}..." value for password, with a fresh random salt. False (reason in why,
 * never the password) when the library fails or out is too small. */
bool sh_make(const char *scheme, const char *password, char *out, size_t outsz, char *why,
             size_t whysz);

/* Standard base64 (padding optional on input, no whitespace). decode returns the length,
 * or -1 on bad input or when out is too small; encode returns the length written (with
 * padding and a terminating NUL), or -1 when out is too small. */
long sh_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outsz);
long sh_base64_encode(const unsigned char *in, size_t inlen, char *out, size_t outsz);

#endif

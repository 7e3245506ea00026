/* HMAC-SHA256 over a list of NUL-separated parts under a key of our own, for anything
 * that must remember a secret or a name without keeping it (the policy layer's recent
 * wrong passwords and its counter keys). */
#ifndef SASLAUTHD_KEYED_HASH_H
#define SASLAUTHD_KEYED_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define SA_HMAC_LEN 32
#define SA_HMAC_KEY_LEN 32

struct sa_hmac_key {
	unsigned char key[SA_HMAC_KEY_LEN];
	void *keyed; /* an EVP_MAC_CTX keyed once, reset per use */
};

/* A fresh random key (getrandom), replacing k's (k zeroed or set before: static storage).
 * False (errno set) when there is no randomness. */
bool sa_hmac_key_random(struct sa_hmac_key *k);
/* Use the given bytes as the key (e.g. a key shared by a fleet). */
void sa_hmac_key_set(struct sa_hmac_key *k, const unsigned char key[SA_HMAC_KEY_LEN]);

/* Key the context now (in the master before forking: workers then inherit it ready,
 * not paying OpenSSL's start-up each time one is replaced). */
bool sa_hmac_prepare(struct sa_hmac_key *k);

/* HMAC over the parts, each with its terminating NUL so "ab"+"c" != "a"+"bc". */
bool sa_hmac(struct sa_hmac_key *k, const char *const *parts, int nparts,
             unsigned char out[SA_HMAC_LEN]);

#endif

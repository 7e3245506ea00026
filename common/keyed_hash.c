#include "common/keyed_hash.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>
#include <sys/random.h>

#include "common/secret.h"

bool sa_hmac_key_random(struct sa_hmac_key *k)
{
	EVP_MAC_CTX_free(k->keyed); /* a context keyed with the previous key */
	memset(k, 0, sizeof(*k));
	return getrandom(k->key, sizeof(k->key), 0) == (ssize_t)sizeof(k->key);
}

void sa_hmac_key_set(struct sa_hmac_key *k, const unsigned char key[SA_HMAC_KEY_LEN])
{
	EVP_MAC_CTX_free(k->keyed);
	memset(k, 0, sizeof(*k));
	memcpy(k->key, key, SA_HMAC_KEY_LEN);
}

/* Keying an OpenSSL 3 MAC context costs more than the hashing, and the first fetch in a
 * process loads the provider: done once, in the master before the fork where possible
 * (sa_hmac_prepare). A context inherited over fork() is the child's private copy, holds
 * no descriptor, lock or thread state, and stays usable. */
static EVP_MAC_CTX *keyed_context(struct sa_hmac_key *k)
{
	if (k->keyed != NULL)
		return k->keyed;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if (ctx == NULL || EVP_MAC_init(ctx, k->key, sizeof(k->key), params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	k->keyed = ctx;
	return ctx;
}

bool sa_hmac_prepare(struct sa_hmac_key *k)
{
	return keyed_context(k) != NULL;
}

bool sa_hmac(struct sa_hmac_key *k, const char *const *parts, int nparts,
             unsigned char out[SA_HMAC_LEN])
{
	EVP_MAC_CTX *ctx = keyed_context(k);
	size_t len = 0;

	/* Re-initialised without a key, HMAC keeps the one it has: a tenth of the cost of
	 * copying the context per use (our processes are single-threaded). */
	bool ok = ctx != NULL && EVP_MAC_init(ctx, NULL, 0, NULL) == 1;
	for (int i = 0; ok && i < nparts; i++)
		ok = EVP_MAC_update(ctx, (const unsigned char *)parts[i], strlen(parts[i]) + 1) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &len, SA_HMAC_LEN) == 1 && len == SA_HMAC_LEN;
	if (!ok)
		secret_wipe(out, SA_HMAC_LEN);
	return ok;
}

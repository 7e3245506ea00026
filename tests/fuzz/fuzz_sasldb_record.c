/* Fuzz target for sasldb key decoding (common/sasldb_store.c), "<user>\0<realm>\0<property>":
 * - the input as a stored key, from an exact-size copy (ASan sees any over-read), decoded
 *   into buffers of input-chosen sizes: accepted means exactly two NULs, every part fits
 *   its buffer whole (never truncated) and re-encodes to the same bytes; refused leaves
 *   every buffer empty;
 * - the input split into three names: whatever encodes decodes back to them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sasldb_store.h"

#define FUZZ_KEY_MAX (3 * SASLDB_NAME_MAX + 2)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_decode(const char *key, size_t len, size_t usersz, size_t realmsz,
                         size_t propsz)
{
	static char user[SASLDB_NAME_MAX + 2], realm[SASLDB_NAME_MAX + 2], prop[SASLDB_NAME_MAX + 2];
	static char again[FUZZ_KEY_MAX + 16];

	memset(user, 'U', sizeof(user));
	memset(realm, 'R', sizeof(realm));
	memset(prop, 'P', sizeof(prop));
	bool ok = sasldb_key_decode(key, len, user, usersz, realm, realmsz, prop, propsz);
	size_t nuls = 0;
	for (size_t i = 0; i < len; i++)
		nuls += key[i] == '\0';
	if (!ok) {
		if (user[0] != '\0' || realm[0] != '\0' || prop[0] != '\0')
			abort();
		return;
	}
	if (nuls != 2 || strlen(user) >= usersz || strlen(realm) >= realmsz || strlen(prop) >= propsz)
		abort();
	size_t n = sasldb_key_encode(again, sizeof(again), user, realm, prop);
	if (n != len || memcmp(again, key, len) != 0)
		abort(); /* decoded parts are not the whole key */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char parts[3][SASLDB_NAME_MAX + 1];
	static char key[FUZZ_KEY_MAX + 16];
	static char u[SASLDB_NAME_MAX + 1], r[SASLDB_NAME_MAX + 1], p[SASLDB_NAME_MAX + 1];

	if (size < 3)
		return 0;
	/* Buffer sizes: small ones exercise refusal, 0 means the full size. */
	size_t sizes[3];
	for (int i = 0; i < 3; i++)
		sizes[i] = data[i] == 0 ? SASLDB_NAME_MAX + 1 : data[i];
	data += 3;
	size -= 3;
	if (size > FUZZ_KEY_MAX + 8)
		size = FUZZ_KEY_MAX + 8;
	char *copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	check_decode(copy, size, sizes[0], sizes[1], sizes[2]);
	free(copy);

	size_t pos = 0;
	for (int i = 0; i < 3; i++) {
		size_t n = 0;
		while (pos < size && data[pos] != 0) {
			if (n < SASLDB_NAME_MAX)
				parts[i][n++] = (char)data[pos];
			pos++;
		}
		parts[i][n] = '\0';
		if (pos < size)
			pos++;
	}
	size_t len = sasldb_key_encode(key, sizeof(key), parts[0], parts[1], parts[2]);
	if (len == 0)
		abort(); /* names within SASLDB_NAME_MAX always encode */
	if (!sasldb_key_decode(key, len, u, sizeof(u), r, sizeof(r), p, sizeof(p)) ||
	    strcmp(u, parts[0]) != 0 || strcmp(r, parts[1]) != 0 || strcmp(p, parts[2]) != 0)
		abort();
	return 0;
}

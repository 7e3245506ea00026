/* Fuzz target for the privsep message codec (saslauthd/privsep.c), both directions:
 * - the input as a message from the other side, decoded as a 5-field request and as a
 *   3-field verdict, from an exact-size copy (ASan sees any over-read): an accepted message
 *   has fields within PRIVSEP_FIELD_MAX and, when no field holds a NUL, encodes back to
 *   exactly the same bytes;
 * - the input split at NUL bytes into up to 5 strings: whatever encodes decodes back to
 *   the same strings, and only strings the decoder would refuse fail to encode. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saslauthd/privsep.h"

#define FUZZ_FIELDS_MAX 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fields[FUZZ_FIELDS_MAX][PRIVSEP_FIELD_MAX + 1];
static unsigned char again[PRIVSEP_MESSAGE_MAX];

static void check_decode(const unsigned char *msg, size_t len, int n)
{
	if (!privsep_decode(msg, len, fields, n))
		return;
	const char *parts[FUZZ_FIELDS_MAX];
	size_t expected = 0;
	bool has_nul = false;
	for (int i = 0; i < n; i++) {
		size_t flen = ((size_t)msg[expected] << 8) | msg[expected + 1];
		if (flen > PRIVSEP_FIELD_MAX || strlen(fields[i]) > flen)
			abort();
		has_nul |= strlen(fields[i]) != flen;
		parts[i] = fields[i];
		expected += 2 + flen;
	}
	if (expected != len)
		abort(); /* accepted trailing bytes */
	if (has_nul)
		return;
	size_t w = privsep_encode(again, sizeof(again), parts, n);
	if (w != len || memcmp(again, msg, len) != 0)
		abort();
}

static void check_round_trip(const uint8_t *data, size_t size)
{
	static char split[FUZZ_FIELDS_MAX][PRIVSEP_FIELD_MAX + 64];
	const char *parts[FUZZ_FIELDS_MAX];
	int n = 0;
	size_t pos = 0;
	bool too_long = false;

	while (n < FUZZ_FIELDS_MAX) {
		const uint8_t *end = memchr(data + pos, 0, size - pos);
		size_t flen = end != NULL ? (size_t)(end - (data + pos)) : size - pos;
		size_t keep = flen < sizeof(split[n]) - 1 ? flen : sizeof(split[n]) - 1;
		memcpy(split[n], data + pos, keep);
		split[n][keep] = '\0';
		too_long |= keep > PRIVSEP_FIELD_MAX;
		parts[n] = split[n];
		n++;
		pos += flen;
		if (end == NULL)
			break;
		pos++;
	}
	size_t w = privsep_encode(again, sizeof(again), parts, n);
	if (w == 0) {
		size_t total = 0;
		for (int i = 0; i < n; i++)
			total += 2 + strlen(parts[i]);
		if (!too_long && total <= sizeof(again))
			abort(); /* refused something the decoder takes */
		return;
	}
	if (too_long || !privsep_decode(again, w, fields, n))
		abort();
	for (int i = 0; i < n; i++) {
		if (strcmp(fields[i], parts[i]) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PRIVSEP_MESSAGE_MAX)
		size = PRIVSEP_MESSAGE_MAX;
	unsigned char *msg = malloc(size > 0 ? size : 1);
	if (msg == NULL)
		return 0;
	memcpy(msg, data, size);
	check_decode(msg, size, 5);
	check_decode(msg, size, 3);
	free(msg);
	check_round_trip(data, size);
	return 0;
}

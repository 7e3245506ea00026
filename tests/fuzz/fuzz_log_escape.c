/* Fuzz target for log_escape (common/log.c): no control byte, bracket or bare backslash
 * survives; the output fits the buffer and never ends inside an escape; and it decodes
 * back to the input (or to a prefix of it when the buffer was too small). The first byte
 * chooses the output buffer size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define FUZZ_IN_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode \xNN; abort on anything that is not a valid escaped form. */
static size_t decode(const char *s, char *out)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '[' || c == ']')
			abort();
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		if (s[i + 1] != 'x' || hex_value(s[i + 2]) < 0 || hex_value(s[i + 3]) < 0)
			abort(); /* a bare backslash, or an escape cut short */
		out[o++] = (char)(hex_value(s[i + 2]) << 4 | hex_value(s[i + 3]));
		i += 3;
	}
	out[o] = '\0';
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char in[FUZZ_IN_MAX + 1];
	static char out[LOG_ESCAPED_MAX(FUZZ_IN_MAX) + 16];
	static char back[FUZZ_IN_MAX + 1];

	if (size == 0)
		return 0;
	/* 0 means "exactly big enough", else a small buffer to exercise truncation. */
	size_t in_len = size - 1 < FUZZ_IN_MAX ? size - 1 : FUZZ_IN_MAX;
	memcpy(in, data + 1, in_len);
	in[in_len] = '\0';
	in_len = strlen(in);
	size_t outsz = data[0] == 0 ? LOG_ESCAPED_MAX(in_len) : (size_t)data[0];

	memset(out, 'Z', sizeof(out));
	if (log_escape(in, out, outsz) != out)
		abort();
	if (memchr(out, '\0', outsz) == NULL)
		abort(); /* not terminated within the buffer */
	for (size_t i = outsz; i < sizeof(out); i++) {
		if (out[i] != 'Z')
			abort(); /* wrote past outsz */
	}
	size_t n = decode(out, back);
	if (n > in_len || memcmp(back, in, n) != 0)
		abort();
	if (data[0] == 0 && n != in_len)
		abort(); /* with room for everything, everything is kept */
	return 0;
}

/* Fuzz target for log_escape and log_escape_capped (common/log.c): no control byte,
 * bracket or bare backslash survives; the output fits the buffer and never ends inside an
 * escape; and it decodes back to the input, or to a prefix of it when the buffer was too
 * small — for the capped form, a prefix followed by the cut mark that counts exactly the
 * bytes left out. The first byte chooses the function and the output buffer size. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* The capped form: everything, or a decoded prefix plus a mark counting the rest. */
static void check_capped(const char *in, size_t in_len, char *out, size_t cap, char *back)
{
	static char full[LOG_ESCAPED_MAX(FUZZ_IN_MAX)];
	char mark[LOG_CUT_MARK_MAX];

	if (log_escape_capped(in, out, cap) != out || memchr(out, '\0', cap) == NULL)
		abort();
	log_escape(in, full, sizeof(full));
	if (strlen(full) < cap) {
		if (strcmp(out, full) != 0)
			abort(); /* it fitted: nothing may be cut */
		return;
	}
	const char *m = strstr(out, "...(+");
	while (m != NULL && strstr(m + 1, "...(+") != NULL)
		m = strstr(m + 1, "...(+");
	if (m == NULL)
		abort(); /* cut without a mark */
	size_t kept_escaped = (size_t)(m - out);
	char prefix[LOG_ESCAPED_MAX(FUZZ_IN_MAX)];
	memcpy(prefix, out, kept_escaped);
	prefix[kept_escaped] = '\0';
	size_t n = decode(prefix, back);
	if (n > in_len || memcmp(back, in, n) != 0)
		abort();
	snprintf(mark, sizeof(mark), LOG_CUT_MARK_FORMAT, in_len - n);
	if (strcmp(m, mark) != 0)
		abort(); /* the mark must count exactly what was left out */
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
	memset(out, 'Z', sizeof(out));
	if (data[0] >= 0x80) {
		size_t cap = LOG_CUT_MARK_MAX + 1 + (size_t)(data[0] - 0x80) * 8;
		check_capped(in, in_len, out, cap, back);
		for (size_t i = cap; i < sizeof(out); i++) {
			if (out[i] != 'Z')
				abort(); /* wrote past cap */
		}
		return 0;
	}
	size_t outsz = data[0] == 0 ? LOG_ESCAPED_MAX(in_len) : (size_t)data[0];

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

#include "common/secret.h"

#include <string.h>

void secret_wipe(void *buf, size_t len)
{
	if (buf != NULL && len > 0)
		explicit_bzero(buf, len);
}

bool secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char *pa = a;
	const volatile unsigned char *pb = b;
	/* Walk the longer length so the time leaks only the lengths, never the position
	 * of the first difference. */
	size_t n = alen > blen ? alen : blen;
	unsigned char diff = (unsigned char)(alen != blen);

	for (size_t i = 0; i < n; i++) {
		unsigned char ca = i < alen ? pa[i] : 0;
		unsigned char cb = i < blen ? pb[i] : 0;
		diff |= ca ^ cb;
	}
	return diff == 0;
}

bool secret_equal_str(const char *a, const char *b)
{
	return secret_equal(a, strlen(a), b, strlen(b));
}

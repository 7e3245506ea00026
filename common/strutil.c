#include "common/strutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool str_copy(char *dst, size_t dstsz, const char *src)
{
	if (dstsz == 0)
		return false;
	size_t n = strnlen(src, dstsz);
	if (n == dstsz) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

bool str_format(char *dst, size_t dstsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, dstsz, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < dstsz;
}

bool str_to_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;

	if (s == NULL || *s == '\0')
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool str_parse_switch(const char *s, bool *out)
{
	if (s == NULL)
		return false;
	if (s[0] == '1' || s[0] == 'y' || s[0] == 't' || strncmp(s, "on", 2) == 0) {
		*out = true;
		return true;
	}
	if (s[0] == '0' || s[0] == 'n' || s[0] == 'f' || strncmp(s, "of", 2) == 0) {
		*out = false;
		return true;
	}
	return false;
}

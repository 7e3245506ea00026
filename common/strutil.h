/* Small bounded string helpers. */
#ifndef SASLAUTHD_STRUTIL_H
#define SASLAUTHD_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Copy src into dst (size dstsz), always NUL-terminating. Returns false if truncated. */
bool str_copy(char *dst, size_t dstsz, const char *src);

/* snprintf that reports truncation as false. */
bool str_format(char *dst, size_t dstsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse a whole decimal string into [min, max]. Returns false on junk, overflow or range. */
bool str_to_long(const char *s, long min, long max, long *out);

#endif

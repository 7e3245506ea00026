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

/* The one yes/no rule of the tree, Cyrus's "switch" (libsasl2's config reader): a value
 * starting with 1, y, t or "on" is true; with 0, n, f or "of" false (case-sensitive, as
 * Cyrus). Returns false, leaving *out alone, for anything else. */
bool str_parse_switch(const char *s, bool *out);

#endif

/* Handling of secrets: wiping and constant-time comparison. */
#ifndef SASLAUTHD_SECRET_H
#define SASLAUTHD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Zero memory in a way the compiler may not optimise away. */
void secret_wipe(void *buf, size_t len);

/* Compare two byte strings in time that depends only on their lengths. */
bool secret_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Same, for NUL-terminated strings. */
bool secret_equal_str(const char *a, const char *b);

#endif

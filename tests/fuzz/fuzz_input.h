/* Helpers shared by the fuzz targets for carving one input into several values. */
#ifndef SASLAUTHD_FUZZ_INPUT_H
#define SASLAUTHD_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The next NUL-separated part of data from *pos into out (outsz > 0, always terminated;
 * bytes that do not fit are skipped), *pos moved past the NUL. Returns the length kept. */
static inline size_t fuzz_take_part(const uint8_t *data, size_t size, size_t *pos, char *out,
                                    size_t outsz)
{
	size_t n = 0;

	while (*pos < size && data[*pos] != 0) {
		if (n + 1 < outsz)
			out[n++] = (char)data[*pos];
		(*pos)++;
	}
	if (*pos < size)
		(*pos)++;
	out[n] = '\0';
	return n;
}

#endif

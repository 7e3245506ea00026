/* The one monotonic clock of the tree, and the unit conversions that go with it.
 * Deadlines everywhere are absolute values of sa_clock_ms(). */
#ifndef SASLAUTHD_CLOCK_H
#define SASLAUTHD_CLOCK_H

#include <stdint.h>

#define SA_MS_PER_S 1000L
#define SA_US_PER_MS 1000L
#define SA_NS_PER_US 1000L
#define SA_NS_PER_MS 1000000L

/* CLOCK_MONOTONIC in milliseconds and in microseconds. */
int64_t sa_clock_ms(void);
int64_t sa_clock_us(void);

/* Milliseconds from now until deadline_ms (a sa_clock_ms() value); 0 once it has passed. */
int64_t sa_ms_until(int64_t deadline_ms);

#endif

#include "common/clock.h"

#include <time.h>

static struct timespec monotonic_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

int64_t sa_clock_ms(void)
{
	struct timespec ts = monotonic_now();
	return (int64_t)ts.tv_sec * SA_MS_PER_S + ts.tv_nsec / SA_NS_PER_MS;
}

int64_t sa_clock_us(void)
{
	struct timespec ts = monotonic_now();
	return (int64_t)ts.tv_sec * SA_MS_PER_S * SA_US_PER_MS + ts.tv_nsec / SA_NS_PER_US;
}

int64_t sa_ms_until(int64_t deadline_ms)
{
	int64_t left = deadline_ms - sa_clock_ms();
	return left > 0 ? left : 0;
}

/* clock.h - CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds. Any thread. */
#ifndef IG_CORE_CLOCK_H
#define IG_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t ig_clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t ig_clock_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps until the CLOCK_MONOTONIC deadline (absolute ns). */
static inline void ig_clock_sleep_until_ns(int64_t deadline_ns)
{
	struct timespec ts;
	ts.tv_sec = deadline_ns / 1000000000;
	ts.tv_nsec = deadline_ns % 1000000000;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

#endif

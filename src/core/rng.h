/*
 * rng.h - splitmix64, the engine's one seedable generator: every 64-bit
 * state is valid, and the same seed gives the same sequence on every
 * machine (paper-venue latency draws, random sweeps, exchange-sim's flow).
 * Not for secrets.
 *
 * Owner: whoever holds the state; no shared state here.
 */
#ifndef IG_CORE_RNG_H
#define IG_CORE_RNG_H

#include <stdint.h>

/* Advances *state and returns the next value of its sequence. */
static inline uint64_t ig_rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

#endif

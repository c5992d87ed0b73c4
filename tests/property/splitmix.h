/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * splitmix.h - the property tests' random numbers: splitmix64, a small,
 * well-mixed generator whose state advances by a constant, so that a run
 * replays exactly from its seed on every ABI.  Test code only.
 */
#ifndef GPSPPS_SPLITMIX_H
#define GPSPPS_SPLITMIX_H

#include <stdint.h>

/* The next 64 random bits; *state is the seed at first. */
static inline uint64_t splitmix_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 bits. */
static inline double splitmix_unif(uint64_t *state)
{
	return (double)(splitmix_next(state) >> 11) *
	       (1.0 / 9007199254740992.0);
}

#endif

/*
 * testseed.h - replayable random seeds for the unit tests (as chrony's
 * test/unit -s).  The seed comes from GPSPPS_TEST_SEED, or the clock; it is
 * printed so that any failure can be replayed with the same seed.
 */
#ifndef GPSPPS_TESTSEED_H
#define GPSPPS_TESTSEED_H

#include <stdint.h>

/* Seed the generator once; prints "seed: N (GPSPPS_TEST_SEED=N to replay)". */
uint64_t test_seed_init(void);
/* For a test whose bound is statistical (a coverage over many runs): seed
 * with GPSPPS_TEST_SEED when set, else with the fixed seed given, so that
 * the bound is checked on a known sequence and never flakes; prints it
 * as test_seed_init does. */
uint64_t test_seed_fixed(uint64_t seed);
/* xorshift64* generator: deterministic for a seed, independent of libc. */
uint64_t test_rand(void);
/* Uniform double in [0, 1). */
double test_uniform(void);
/* Uniform integer in [lo, hi]. */
int64_t test_range(int64_t lo, int64_t hi);

#endif

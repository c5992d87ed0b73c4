/* testseed.c - see testseed.h. */
#include "testseed.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t state = 88172645463325252ull;

uint64_t test_seed_init(void)
{
	const char *env = getenv("GPSPPS_TEST_SEED");
	uint64_t seed;

	if (env != NULL && *env != '\0') {
		seed = strtoull(env, NULL, 0);
	} else {
		seed = (uint64_t)time(NULL);
	}
	state = seed ? seed : 1;
	printf("seed: %llu (GPSPPS_TEST_SEED=%llu to replay)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

uint64_t test_seed_fixed(uint64_t seed)
{
	const char *env = getenv("GPSPPS_TEST_SEED");

	if (env != NULL && *env != '\0') {
		seed = strtoull(env, NULL, 0);
	}
	state = seed ? seed : 1;
	printf("seed: %llu (GPSPPS_TEST_SEED=%llu to replay)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

uint64_t test_rand(void)
{
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 2685821657736338717ull;
}

double test_uniform(void)
{
	return (double)(test_rand() >> 11) * (1.0 / 9007199254740992.0);
}

int64_t test_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(test_rand() % (uint64_t)(hi - lo + 1));
}

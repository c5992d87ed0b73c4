/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_rolling.c - the rolling window of the status report: expiry by
 * time and by capacity, and the statistics against values worked by hand
 * and against a direct computation on random samples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "rolling.h"
#include "testseed.h"

#define SEC 1000000000LL

static void test_empty(void **state)
{
	struct rolling *r = rolling_create(8, 64 * SEC);
	struct rolling_summary s;

	(void)state;
	assert_non_null(r);
	assert_int_equal(rolling_summary(r, 100 * SEC, &s), 0);
	assert_int_equal(s.last_t, 0);
	assert_true(s.median == 0 && s.spread == 0 && s.stddev == 0);
	assert_null(rolling_create(0, SEC));
	assert_null(rolling_create(4, 0));
	rolling_destroy(r);
	rolling_destroy(NULL);
}

/* 1..9: median 5, quartiles 3 and 7 (type 7), spread 4 / 1.349, mean 5,
 * sample standard deviation sqrt(7.5). */
static void test_known_values(void **state)
{
	static const double v[] = { 9, 1, 8, 2, 7, 3, 6, 4, 5 };
	struct rolling *r = rolling_create(16, 64 * SEC);
	struct rolling_summary s;
	int i;

	(void)state;
	for (i = 0; i < 9; i++) {
		rolling_add(r, i * SEC, v[i]);
	}
	assert_int_equal(rolling_summary(r, 9 * SEC, &s), 9);
	assert_true(s.median == 5);
	assert_float_equal(s.spread, 4 / 1.349, 1e-12);
	assert_float_equal(s.mean, 5, 1e-12);
	assert_float_equal(s.stddev, sqrt(7.5), 1e-12);
	assert_true(s.last == 5 && s.last_t == 8 * SEC);
	/* An even count interpolates: 1, 2, 3, 4 -> median 2.5. */
	rolling_destroy(r);
	r = rolling_create(4, 64 * SEC);
	for (i = 1; i <= 4; i++) {
		rolling_add(r, i, i);
	}
	rolling_summary(r, 4, &s);
	assert_float_equal(s.median, 2.5, 1e-12);
	assert_float_equal(s.spread, (3.25 - 1.75) / 1.349, 1e-12);
	rolling_destroy(r);
}

/* Samples older than the span are forgotten; the last value is kept. */
static void test_expiry_by_time(void **state)
{
	struct rolling *r = rolling_create(128, 64 * SEC);
	struct rolling_summary s;
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		rolling_add(r, i * SEC, i);
	}
	/* At 99 s the window is [35 s, 99 s]: 65 samples. */
	assert_int_equal(rolling_summary(r, 99 * SEC, &s), 65);
	assert_float_equal(s.median, 67, 1e-12);
	assert_int_equal(rolling_summary(r, 200 * SEC, &s), 0);
	assert_true(s.last == 99 && s.last_t == 99 * SEC);
	rolling_destroy(r);
}

/* A full window forgets its oldest sample. */
static void test_expiry_by_capacity(void **state)
{
	struct rolling *r = rolling_create(10, 64 * SEC);
	struct rolling_summary s;
	int i;

	(void)state;
	for (i = 0; i < 25; i++) {
		rolling_add(r, i, i);
	}
	assert_int_equal(rolling_summary(r, 25, &s), 10);
	assert_float_equal(s.mean, 19.5, 1e-12);
	assert_float_equal(s.median, 19.5, 1e-12);
	rolling_destroy(r);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Random samples: median and spread against a sort done here. */
static void test_random_against_sort(void **state)
{
	struct rolling *r = rolling_create(300, 1000);
	struct rolling_summary s;
	double v[300], sorted[300];
	int n, i, round;

	(void)state;
	for (round = 0; round < 50; round++) {
		n = (int)test_range(1, 300);
		for (i = 0; i < n; i++) {
			v[i] = test_uniform() * 2 - 1;
			rolling_add(r, round * 10000 + i, v[i]);
			sorted[i] = v[i];
		}
		qsort(sorted, (size_t)n, sizeof(double), cmp);
		assert_int_equal(rolling_summary(r, round * 10000 + n - 1, &s),
				 n);
		if (n % 2 == 1) {
			assert_true(s.median == sorted[n / 2]);
		} else {
			assert_float_equal(s.median, (sorted[n / 2 - 1] +
					   sorted[n / 2]) / 2, 1e-12);
		}
		assert_true(s.spread >= 0 &&
			    s.spread <= (sorted[n - 1] - sorted[0]) / 1.349);
	}
	rolling_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_expiry_by_time),
		cmocka_unit_test(test_expiry_by_capacity),
		cmocka_unit_test(test_random_against_sort),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

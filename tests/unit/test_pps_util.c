/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pps_util.c - polarity from the pulse width, clock conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "pps_util.h"
#include "testseed.h"
#include "timeutil.h"

#define MS TU_NS_PER_MS
#define T0 (INT64_C(1700000000) * TU_NS_PER_SEC)

/* Feed n seconds of a pulse of width w starting on the second with edge
 * `on`; returns the on-second edges reported (and checks the others). */
static int feed_pulses(struct pps_util_polarity *d, enum pps_polarity on,
		       int64_t width, int n, int64_t jitter)
{
	enum pps_polarity off = on == PPS_EDGE_RISING ? PPS_EDGE_FALLING
						      : PPS_EDGE_RISING;
	int kept = 0, i;
	bool changed;

	for (i = 0; i < n; i++) {
		int64_t sec = T0 + i * TU_NS_PER_SEC;
		struct pps_edge a = { sec + test_range(-jitter, jitter), 0, 0,
				      on, 0 };
		struct pps_edge b = { sec + width + test_range(-jitter, jitter),
				      0, 0, off, 0 };

		kept += pps_util_polarity_feed(d, &a, &changed);
		/* the trailing edge is never reported */
		assert_false(pps_util_polarity_feed(d, &b, &changed));
	}
	return kept;
}

static void test_rising_100ms(void **state)
{
	struct pps_util_polarity d;

	(void)state;
	pps_util_polarity_init(&d);
	/* each interval votes: high 100 ms, low 900 ms, high 100 ms decide
	 * at the second falling edge, so pulses 3..10 are reported */
	assert_int_equal(feed_pulses(&d, PPS_EDGE_RISING, 100 * MS, 10, 0), 8);
	assert_int_equal(d.decided, PPS_EDGE_RISING);
}

/* An inverted receiver (active low, 100 ms): the falling edge is on the
 * second, for any width up to 400 ms and with jitter. */
static void test_falling_random_width(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < 1000; k++) {
		struct pps_util_polarity d;
		int64_t w = test_range(1 * MS, 400 * MS);

		pps_util_polarity_init(&d);
		feed_pulses(&d, PPS_EDGE_FALLING, w, 8, 50 * TU_NS_PER_US);
		assert_int_equal(d.decided, PPS_EDGE_FALLING);
	}
}

/* A square wave (50 % duty cycle) never decides: either edge could be
 * the one on the second. */
static void test_square_wave_undecided(void **state)
{
	struct pps_util_polarity d;

	(void)state;
	pps_util_polarity_init(&d);
	assert_int_equal(feed_pulses(&d, PPS_EDGE_RISING, 500 * MS, 20, 0), 0);
	assert_int_equal(d.decided, PPS_EDGE_AUTO);
}

/* A device that captures only assert: taken after PPS_UTIL_POL_VOTES edges. */
static void test_one_kind_only(void **state)
{
	struct pps_util_polarity d;
	bool changed, any = false;
	int i, kept = 0;

	(void)state;
	pps_util_polarity_init(&d);
	for (i = 0; i < 6; i++) {
		struct pps_edge e = { T0 + i * TU_NS_PER_SEC, 0, 0,
				      PPS_EDGE_RISING, 0 };

		kept += pps_util_polarity_feed(&d, &e, &changed);
		any |= changed;
	}
	assert_true(any);
	assert_int_equal(d.decided, PPS_EDGE_RISING);
	assert_int_equal(kept, 6 - PPS_UTIL_POL_VOTES + 1);
}

/* A missing trailing edge (gap) casts no vote and does not flip. */
static void test_gap_no_flip(void **state)
{
	struct pps_util_polarity d;
	bool changed;
	int i;

	(void)state;
	pps_util_polarity_init(&d);
	feed_pulses(&d, PPS_EDGE_RISING, 100 * MS, 5, 0);
	for (i = 0; i < 5; i++) {   /* only rising edges 1 s apart */
		struct pps_edge e = { T0 + (10 + i) * TU_NS_PER_SEC, 0, 0,
				      PPS_EDGE_RISING, 0 };

		assert_true(pps_util_polarity_feed(&d, &e, &changed));
		assert_false(changed);
	}
}

static void test_clock_convert(void **state)
{
	struct pps_util_clock_pair p[3] = {
		{ 1000, 5000000, 1400 },    /* bracket 400 */
		{ 2000, 5001010, 2020 },    /* bracket 20: the best */
		{ 3000, 5002000, 3100 },
	};
	const struct pps_util_clock_pair *best;
	int64_t bound;

	(void)state;
	best = pps_util_clock_best(p, 3);
	assert_ptr_equal(best, &p[1]);
	/* offset = 5001010 - 2010 = 4999000 */
	assert_int_equal(pps_util_clock_convert(best, 1500, &bound), 5000500);
	assert_int_equal(bound, 10);
}

/* Random brackets around a true offset: the converted time is always
 * within the bound of the truth. */
static void test_clock_convert_bound(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		int64_t off = test_range(-(INT64_C(1) << 50), INT64_C(1) << 50);
		int64_t a = test_range(0, INT64_C(1) << 50);
		int64_t w1 = test_range(0, 5000), w2 = test_range(0, 5000);
		struct pps_util_clock_pair p = { a, a + w1 + off, a + w1 + w2 };
		int64_t t = a - test_range(0, TU_NS_PER_SEC), bound;
		int64_t got = pps_util_clock_convert(&p, t, &bound);

		assert_true(llabs(got - (t + off)) <= bound);
	}
}

static void test_clock_step(void **state)
{
	struct pps_util_clock_pair a = { 0, 1000 * MS, 1000 };
	struct pps_util_clock_pair slew = { TU_NS_PER_SEC, 2000 * MS + 400000,
					    TU_NS_PER_SEC + 1000 };
	struct pps_util_clock_pair step = { TU_NS_PER_SEC, 2000 * MS + 2 * MS,
					    TU_NS_PER_SEC + 1000 };

	(void)state;
	/* 0.4 ms in 1 s is within 500 ppm: a slew */
	assert_false(pps_util_clock_stepped(&a, &slew));
	/* 2 ms in 1 s is not */
	assert_true(pps_util_clock_stepped(&a, &step));
}

static void test_missed(void **state)
{
	(void)state;
	assert_int_equal(pps_util_seq_missed(10, 11), 0);
	assert_int_equal(pps_util_seq_missed(10, 14), 3);
	assert_int_equal(pps_util_seq_missed(10, 3), 0);
	assert_int_equal(pps_util_gap_missed(T0, T0 + TU_NS_PER_SEC), 0);
	assert_int_equal(pps_util_gap_missed(T0, T0 + 1400 * MS), 0);
	assert_int_equal(pps_util_gap_missed(T0, T0 + 2 * TU_NS_PER_SEC + MS),
			 1);
	assert_int_equal(pps_util_gap_missed(T0, T0 + 5 * TU_NS_PER_SEC - MS),
			 4);
	/* with both: the sequence gap, bounded by the time gap */
	assert_int_equal(pps_util_seq_gap_missed(10, 13, T0,
						 T0 + 3 * TU_NS_PER_SEC), 2);
	assert_int_equal(pps_util_seq_gap_missed(10, 11, T0,
						 T0 + 3 * TU_NS_PER_SEC), 0);
	/* 10 kHz for a second: 9999 extra pulses, none missed */
	assert_int_equal(pps_util_seq_gap_missed(10, 10010, T0,
						 T0 + TU_NS_PER_SEC + MS), 0);
	assert_int_equal(pps_util_seq_gap_missed(10, 30010, T0,
						 T0 + 3 * TU_NS_PER_SEC), 2);
	/* the rest are extra: none for a 1 Hz source, missed pulses or not */
	assert_int_equal(pps_util_seq_extra(10, 11, T0, T0 + TU_NS_PER_SEC), 0);
	assert_int_equal(pps_util_seq_extra(10, 13, T0,
					    T0 + 3 * TU_NS_PER_SEC + MS), 0);
	assert_int_equal(pps_util_seq_extra(10, 11, T0,
					    T0 + 3 * TU_NS_PER_SEC), 0);
	assert_int_equal(pps_util_seq_extra(10, 3, T0, T0 + TU_NS_PER_SEC), 0);
	assert_int_equal(pps_util_seq_extra(10, 10010, T0,
					    T0 + TU_NS_PER_SEC + MS), 9999);
	assert_int_equal(pps_util_seq_extra(10, 12, T0,
					    T0 + TU_NS_PER_SEC - MS), 1);
}

/* The edge filter keeps the configured edge, counts the pulses missing
 * between kept ones, and with auto learns the polarity first. */
static void test_edge_filter(void **state)
{
	struct pps_util_edge_filter f;
	uint64_t missed = 0;
	bool decided, any = false;
	int64_t sec;
	int kept = 0;

	(void)state;
	pps_util_edge_filter_init(&f, PPS_EDGE_FALLING);
	for (sec = 1; sec <= 10; sec++) {
		struct pps_edge up = { sec * TU_NS_PER_SEC - 100 * MS, 0, 0,
				       PPS_EDGE_RISING, 0 };
		struct pps_edge down = { sec * TU_NS_PER_SEC, 0, 0,
					 PPS_EDGE_FALLING, 0 };

		if (sec == 4 || sec == 5) {
			continue;   /* two pulses lost */
		}
		assert_false(pps_util_edge_filter_keep(&f, &up, &missed,
						       &decided));
		assert_true(pps_util_edge_filter_keep(&f, &down, &missed,
						      &decided));
		assert_false(decided);
	}
	assert_int_equal(missed, 2);

	pps_util_edge_filter_init(&f, PPS_EDGE_AUTO);
	missed = 0;
	for (sec = 1; sec <= 10; sec++) {
		struct pps_edge up = { sec * TU_NS_PER_SEC, 0, 0,
				       PPS_EDGE_RISING, 0 };
		struct pps_edge down = { sec * TU_NS_PER_SEC + 100 * MS, 0, 0,
					 PPS_EDGE_FALLING, 0 };

		kept += pps_util_edge_filter_keep(&f, &up, &missed, &decided);
		any |= decided;
		assert_false(pps_util_edge_filter_keep(&f, &down, &missed,
						       &decided));
		any |= decided;
	}
	assert_true(any);
	assert_int_equal(f.auto_pol.decided, PPS_EDGE_RISING);
	assert_int_equal(kept, 8);
	assert_int_equal(missed, 0);
}

/* The kernel backend's use: missed pulses come from sequence numbers, so
 * no gap count (missed NULL); the kept edges and the learnt polarity are
 * those of the counting filter, and on_second tells which kind is on the
 * second (AUTO until learnt). */
static void test_edge_filter_seq_source(void **state)
{
	struct pps_util_edge_filter counting, seq;
	uint64_t missed = 0;
	bool d1, d2;
	int64_t sec;
	int kept = 0;

	(void)state;
	pps_util_edge_filter_init(&counting, PPS_EDGE_AUTO);
	pps_util_edge_filter_init(&seq, PPS_EDGE_AUTO);
	assert_int_equal(pps_util_edge_filter_on_second(&seq), PPS_EDGE_AUTO);
	for (sec = 1; sec <= 12; sec++) {
		/* inverted receiver: falling on the second, 200 ms low */
		struct pps_edge down = { sec * TU_NS_PER_SEC, 0, 0,
					 PPS_EDGE_FALLING, 0 };
		struct pps_edge up = { sec * TU_NS_PER_SEC + 200 * MS, 0, 0,
				       PPS_EDGE_RISING, 0 };
		bool k1, k2;

		if (sec >= 7 && sec <= 9) {
			continue;   /* three pulses lost */
		}
		k1 = pps_util_edge_filter_keep(&counting, &down, &missed, &d1);
		k2 = pps_util_edge_filter_keep(&seq, &down, NULL, &d2);
		assert_int_equal(k1, k2);
		assert_int_equal(d1, d2);
		kept += k2;
		k1 = pps_util_edge_filter_keep(&counting, &up, &missed, &d1);
		k2 = pps_util_edge_filter_keep(&seq, &up, NULL, &d2);
		assert_false(k1);
		assert_false(k2);
		assert_int_equal(d1, d2);
	}
	assert_int_equal(pps_util_edge_filter_on_second(&seq),
			 PPS_EDGE_FALLING);
	assert_int_equal(missed, 3);
	assert_int_equal(kept, 9 - 2);   /* decided on the 3rd pulse */

	pps_util_edge_filter_init(&seq, PPS_EDGE_RISING);
	assert_int_equal(pps_util_edge_filter_on_second(&seq), PPS_EDGE_RISING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rising_100ms),
		cmocka_unit_test(test_falling_random_width),
		cmocka_unit_test(test_square_wave_undecided),
		cmocka_unit_test(test_one_kind_only),
		cmocka_unit_test(test_gap_no_flip),
		cmocka_unit_test(test_clock_convert),
		cmocka_unit_test(test_clock_convert_bound),
		cmocka_unit_test(test_clock_step),
		cmocka_unit_test(test_missed),
		cmocka_unit_test(test_edge_filter),
		cmocka_unit_test(test_edge_filter_seq_source),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

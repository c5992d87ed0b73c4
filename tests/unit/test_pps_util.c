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

/* ---- the realtime clock's rate while chronyd slews it ----------------- */

#define US TU_NS_PER_US
#define RAW0 (INT64_C(100) * TU_NS_PER_SEC)   /* CLOCK_MONOTONIC_RAW at T0 */
#define SLEW_MAX 6

/* CLOCK_REALTIME as chronyd slews it: from raw time from[i] on (from[0] =
 * RAW0), it runs (1e9 + ppb[i]) / 1e9 times CLOCK_MONOTONIC_RAW. */
struct slewed {
	int n;
	int64_t from[SLEW_MAX];
	int64_t ppb[SLEW_MAX];
};

static int64_t slewed_real(const struct slewed *c, int64_t raw)
{
	double slewed = 0.0;   /* what the slews added */
	int i;

	for (i = 0; i < c->n && c->from[i] < raw; i++) {
		int64_t end = i + 1 < c->n && c->from[i + 1] < raw ?
			      c->from[i + 1] : raw;

		slewed += (double)(end - c->from[i]) * (double)c->ppb[i] / 1e9;
	}
	return T0 + (raw - RAW0) + (int64_t)slewed;
}

/* The raw time at which the slewed clock reads real (bisection). */
static int64_t slewed_raw(const struct slewed *c, int64_t real)
{
	int64_t lo = RAW0, hi = RAW0 + INT64_C(1000) * TU_NS_PER_SEC;

	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (slewed_real(c, mid) < real) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	return hi;
}

/* A steady slew of -8.33 % (chronyd's maxslewrate, slowing the clock): an
 * edge read 90 ms after it is put on CLOCK_MONOTONIC_RAW within 1 us, from
 * a reading a second before it or none (the rate).  Without the rate, the
 * 90 ms measured on the slowed clock put it 7.5 ms late. */
static void test_rate_steady_slew(void **state)
{
	struct slewed c = { 1, { RAW0 }, { -83333333 } };
	struct pps_util_rate r, fresh;
	int k;

	(void)state;
	pps_util_rate_init(&r);
	assert_int_equal(r.ppb, 0);
	for (k = 1; k <= 5; k++) {
		int64_t edge = RAW0 + k * TU_NS_PER_SEC;
		int64_t read = edge + 90 * MS;
		int64_t real = slewed_real(&c, read);
		int64_t got = pps_util_rate_to_raw(&r, real, read,
						   slewed_real(&c, edge));

		if (k > 1) {   /* interpolated from the reading before */
			assert_true(llabs(got - edge) <= 1 * US);
		}
		pps_util_rate_feed(&r, real, read);
		/* extrapolated with the rate: no reading before the edge */
		fresh = r;
		fresh.real = slewed_real(&c, edge + 10 * MS);
		fresh.raw = edge + 10 * MS;
		got = pps_util_rate_to_raw(&fresh, real, read,
					   slewed_real(&c, edge));
		if (k > 1) {
			assert_true(llabs(got - edge) <= 1 * US);
		}
	}
	assert_true(llabs(r.ppb + 83333333) <= 10);
}

/* Readings closer than PPS_UTIL_RATE_MIN_NS do not move the rate's base
 * but are the last reading; a step between two readings (date -s) is not
 * taken for a slew: the rate is kept, and no edge is interpolated across
 * it. */
static void test_rate_step_kept(void **state)
{
	struct pps_util_rate r;
	int64_t real = T0, raw = RAW0;

	(void)state;
	pps_util_rate_init(&r);
	pps_util_rate_feed(&r, real, raw);
	pps_util_rate_feed(&r, real + 1050 * MS, raw + TU_NS_PER_SEC);
	assert_true(llabs(r.ppb - 50000000) <= 1);          /* +5 % */
	pps_util_rate_feed(&r, real + 1060 * MS + 500 * US, raw + 1010 * MS);
	assert_true(llabs(r.ppb - 50000000) <= 1);
	assert_int_equal(r.base_raw, raw + TU_NS_PER_SEC);
	assert_int_equal(r.raw, raw + 1010 * MS);
	/* stepped by +1 s in the next second: +100 %, not a slew; an edge
	 * between the readings is extrapolated from the later one */
	assert_int_equal(pps_util_rate_to_raw(&r, real + 3100 * MS,
					      raw + 2 * TU_NS_PER_SEC,
					      real + 3100 * MS - 105 * MS),
			 raw + 2 * TU_NS_PER_SEC - 100 * MS);
	pps_util_rate_feed(&r, real + 3100 * MS, raw + 2 * TU_NS_PER_SEC);
	assert_true(llabs(r.ppb - 50000000) <= 1);
	assert_int_equal(r.base_raw, raw + 2 * TU_NS_PER_SEC);
	/* and the next second measures from the new reading */
	pps_util_rate_feed(&r, real + 4100 * MS, raw + 3 * TU_NS_PER_SEC);
	assert_true(llabs(r.ppb) <= 1);
}

/* The next edge is expected a second of CLOCK_MONOTONIC_RAW after the
 * last: on a clock slowed by 8.33 % 0.917 s of it (expecting 1 s read 90
 * ms after the edge), on one sped up by 8.33 % 1.083 s (expecting 1 s
 * read before it, then searched every 200 ms).  The clocks are read 100
 * ms before it, then 5 ms after it. */
static void test_rate_expect(void **state)
{
	struct pps_util_rate slow = { true, T0, RAW0, T0, RAW0, -83333333 };
	struct pps_util_rate fast = { true, T0, RAW0, T0, RAW0, 83333333 };
	int64_t last = T0, now = T0 + 10 * MS;

	(void)state;
	assert_int_equal(pps_util_rate_expect(&slow, last, now, 100 * MS,
					      5 * MS), last + 816666667);
	assert_int_equal(pps_util_rate_expect(&slow, last, last + 817 * MS,
					      100 * MS, 5 * MS),
			 last + 916666667 + 5 * MS);
	assert_int_equal(pps_util_rate_expect(&fast, last, now, 100 * MS,
					      5 * MS), last + 983333333);
	assert_int_equal(pps_util_rate_expect(&fast, last, last + 990 * MS,
					      100 * MS, 5 * MS),
			 last + 1083333333 + 5 * MS);
	/* none yet, late, missed */
	assert_int_equal(pps_util_rate_expect(&slow, 0, now, 100 * MS, 5 * MS),
			 0);
	assert_int_equal(pps_util_rate_expect(&slow, last, last + 922 * MS,
					      100 * MS, 5 * MS), 0);
	assert_int_equal(pps_util_rate_expect(&fast, last - 3 * TU_NS_PER_SEC,
					      now, 100 * MS, 5 * MS), 0);
}

/* One read as the kernel backend does it, at raw time t: the edge at raw
 * time edge is converted if it has come, then the reading fed.  Returns
 * the realtime of the read. */
static int64_t slew_read(const struct slewed *c, struct pps_util_rate *r,
			 int64_t t, int64_t edge, int64_t *err)
{
	int64_t real = slewed_real(c, t);

	if (edge <= t) {
		*err = pps_util_rate_to_raw(r, real, t,
					    slewed_real(c, edge)) - edge;
	}
	pps_util_rate_feed(r, real, t);
	return real;
}

/* The reads of one edge, planned as kpps_deadline does (100 ms before the
 * edge expected, 5 ms after it, else every 200 ms), each up to 2 ms late
 * (timer latency), and a read 350 ms after each edge (the NMEA burst);
 * returns the edge's conversion error, *late how long after the edge it
 * was read. */
static int64_t slew_edge(const struct slewed *c, struct pps_util_rate *r,
			 int64_t *last_real, int64_t edge, int64_t *late)
{
	int64_t real = slewed_real(c, edge - 650 * MS);
	int64_t t, err = INT64_MAX;

	while (err == INT64_MAX) {
		int64_t next = pps_util_rate_expect(r, *last_real, real,
						    100 * MS, 5 * MS);

		t = slewed_raw(c, next != 0 ? next : real + 200 * MS) +
		    test_range(0, 2 * MS);
		real = slew_read(c, r, t, edge, &err);
	}
	*last_real = slewed_real(c, edge);
	*late = t - edge;
	slew_read(c, r, edge + 350 * MS, edge - TU_NS_PER_SEC, &t);
	return err;
}

/* Whether the slew of c changes within (edge - before, edge]. */
static bool slew_changed(const struct slewed *c, int64_t edge,
			 int64_t before)
{
	int i;

	for (i = 1; i < c->n; i++) {
		if (c->from[i] <= edge && c->from[i] > edge - before) {
			return true;
		}
	}
	return false;
}

/* The slews of the vm-leap run that starved chronyd (tick 9662, 9318,
 * 9391, 10833: -3.4 %, -6.8 %, -6.1 %, +8.3 %, with pauses), changing at
 * random times.  Every edge is put on CLOCK_MONOTONIC_RAW within 20 us
 * (the pairing's period check allows 500 us) unless the slew changed
 * between the reading 100 ms before it and the read that found it, and
 * then within 100 ms times the change; it is read within 10 ms unless
 * the slew changed in the second before it, and then within the search
 * (every 200 ms of the slowed clock).  Before the rate, the edges came
 * 35-90 ms late (200 ms when the clock ran fast) and 1-8 ms off the pulse
 * grid: the period check refused four seconds of them after each change
 * of the slew. */
static void test_rate_slews(void **state)
{
	static const int64_t ppb[] = { 0, -34000000, 0, -68000000, -61000000,
				       83333333 };
	struct slewed c = { 6, { RAW0 }, { 0 } };
	int64_t last_real, late, err;
	struct pps_util_rate r;
	int i, k, trial;

	(void)state;
	for (trial = 0; trial < 200; trial++) {
		for (i = 1; i < 6; i++) {
			c.from[i] = RAW0 + i * 8 * TU_NS_PER_SEC +
				    test_range(0, TU_NS_PER_SEC);
			c.ppb[i] = ppb[i];
		}
		pps_util_rate_init(&r);
		last_real = 0;
		for (k = 1; k <= 50; k++) {
			int64_t edge = RAW0 + k * TU_NS_PER_SEC;

			err = slew_edge(&c, &r, &last_real, edge, &late);
			if (k <= 2) {
				continue;   /* no rate yet */
			}
			assert_true(llabs(err) <= 100 * MS * 152 / 1000);
			assert_true(late <= 230 * MS);
			if (!slew_changed(&c, edge + late, 100 * MS + late)) {
				assert_true(llabs(err) <= 20 * US);
			}
			if (!slew_changed(&c, edge, 1100 * MS)) {
				assert_true(late <= 10 * MS);
			}
		}
	}
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
		cmocka_unit_test(test_rate_steady_slew),
		cmocka_unit_test(test_rate_step_kept),
		cmocka_unit_test(test_rate_expect),
		cmocka_unit_test(test_rate_slews),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

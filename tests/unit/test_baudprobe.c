/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_baudprobe.c - the auto-baud probe: the order of the rates (the
 * last that worked first, a skipped rate left out), settling, dwell,
 * exhausted passes, bad checksums that keep a rate from settling, and the
 * report-only probe's returns to the configured rate (home).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "baudprobe.h"
#include "testseed.h"

#define MS INT64_C(1000000)

static struct baudprobe *make(long first, long skip)
{
	struct baudprobe_config c;
	struct baudprobe *p;

	baudprobe_config_default(&c);
	c.first = first;
	c.skip = skip;
	p = baudprobe_create(&c);
	assert_non_null(p);
	return p;
}

static void check_order(struct baudprobe *p, const long *want, int n)
{
	long got[BAUDPROBE_MAX_RATES];
	int i;

	assert_int_equal(baudprobe_order(p, got), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(got[i], want[i]);
	}
}

static void test_order(void **state)
{
	static const long plain[] = { 9600, 115200, 38400, 4800, 57600, 19200,
				      230400, 460800, 921600 };
	static const long first[] = { 38400, 9600, 115200, 4800, 57600, 19200,
				      230400, 460800, 921600 };
	static const long skip[] = { 115200, 38400, 4800, 57600, 19200,
				     230400, 460800, 921600 };
	struct baudprobe *p;

	(void)state;
	p = make(0, 0);
	check_order(p, plain, 9);
	baudprobe_destroy(p);
	p = make(38400, 0);
	check_order(p, first, 10 - 1);
	baudprobe_destroy(p);
	p = make(12345, 0);             /* not a rate: ignored */
	check_order(p, plain, 9);
	baudprobe_destroy(p);
	p = make(9600, 9600);           /* report mode: the fixed rate */
	check_order(p, skip, 8);
	baudprobe_destroy(p);
}

/* Walk the pass with no sentences: each rate lasts the dwell. */
static void test_dwell_and_exhaust(void **state)
{
	struct baudprobe *p = make(57600, 0);
	long order[BAUDPROBE_MAX_RATES];
	int64_t t = 1000 * MS;
	int n = baudprobe_order(p, order), i;

	(void)state;
	assert_int_equal(baudprobe_begin(p, t), 57600);
	for (i = 1; i < n; i++) {
		assert_int_equal(baudprobe_tick(p, baudprobe_deadline(p) - 1),
				 BAUDPROBE_LISTEN);
		assert_int_equal(baudprobe_feed(p, 0, 3, baudprobe_deadline(p) -
						1), BAUDPROBE_LISTEN);
		t = baudprobe_deadline(p);
		assert_int_equal(baudprobe_tick(p, t), BAUDPROBE_SWITCH);
		assert_int_equal(baudprobe_rate(p), order[i]);
		assert_int_equal(baudprobe_deadline(p), t + 2200 * MS);
	}
	assert_int_equal(baudprobe_passes(p), 0);
	assert_int_equal(baudprobe_tick(p, baudprobe_deadline(p)),
			 BAUDPROBE_EXHAUSTED);
	assert_int_equal(baudprobe_passes(p), 1);
	assert_int_equal(baudprobe_rate(p), 57600);
	baudprobe_destroy(p);
}

static void test_settle(void **state)
{
	struct baudprobe *p = make(0, 0);
	int64_t t = 0;

	(void)state;
	baudprobe_begin(p, t);
	t = baudprobe_deadline(p);
	assert_int_equal(baudprobe_tick(p, t), BAUDPROBE_SWITCH);
	assert_int_equal(baudprobe_rate(p), 115200);
	/* one sentence is not enough; the counts of 9600 are forgotten */
	assert_int_equal(baudprobe_feed(p, 1, 0, t + 100 * MS),
			 BAUDPROBE_LISTEN);
	assert_int_equal(baudprobe_feed(p, 1, 0, t + 900 * MS),
			 BAUDPROBE_SETTLED);
	assert_int_equal(baudprobe_rate(p), 115200);
	/* settled stays settled */
	assert_int_equal(baudprobe_tick(p, t + 100000 * MS), BAUDPROBE_SETTLED);
	/* a new probe starts over */
	assert_int_equal(baudprobe_begin(p, t), 9600);
	assert_int_equal(baudprobe_tick(p, t + MS), BAUDPROBE_LISTEN);
	baudprobe_destroy(p);
}

/* Mostly bad checksums with the odd lucky sentence: not a rate. */
static void test_bad_outweighs(void **state)
{
	struct baudprobe *p = make(0, 0);
	int i;

	(void)state;
	baudprobe_begin(p, 0);
	assert_int_equal(baudprobe_feed(p, 0, 5, MS), BAUDPROBE_LISTEN);
	assert_int_equal(baudprobe_feed(p, 2, 0, 2 * MS), BAUDPROBE_LISTEN);
	assert_int_equal(baudprobe_feed(p, 3, 0, 3 * MS), BAUDPROBE_SETTLED);
	baudprobe_destroy(p);
	/* random reports that never reach need at any rate never settle */
	p = make(0, 0);
	baudprobe_begin(p, 0);
	for (i = 0; i < 10000; i++) {
		enum baudprobe_step s = baudprobe_feed(p, (unsigned)test_range(0,
				1) * (i % 50 == 0), (unsigned)test_range(0, 3),
				(int64_t)i * 10 * MS);

		assert_int_not_equal(s, BAUDPROBE_SETTLED);
	}
	assert_true(baudprobe_passes(p) >= 4);
	baudprobe_destroy(p);
}

static struct baudprobe *make_home(long home)
{
	struct baudprobe_config c;
	struct baudprobe *p;

	baudprobe_config_default(&c);
	c.home = home;
	c.home_dwell_ns = 4400 * MS;
	p = baudprobe_create(&c);
	assert_non_null(p);
	return p;
}

/* Between two candidates the port goes home for the home dwell; home is
 * never a candidate and the pass ends after the last candidate. */
static void test_home_between(void **state)
{
	static const long want[] = { 9600, 38400, 4800, 57600, 19200,
				     230400, 460800, 921600 };
	struct baudprobe *p = make_home(115200);
	int64_t t = 0;
	int i;

	(void)state;
	check_order(p, want, 8);
	assert_int_equal(baudprobe_begin(p, t), 9600);
	assert_false(baudprobe_at_home(p));
	for (i = 1; i < 8; i++) {
		t = baudprobe_deadline(p);
		assert_int_equal(baudprobe_tick(p, t), BAUDPROBE_SWITCH);
		assert_true(baudprobe_at_home(p));
		assert_int_equal(baudprobe_rate(p), 115200);
		assert_int_equal(baudprobe_deadline(p), t + 4400 * MS);
		/* no sentence at home: it stays there for the home dwell */
		assert_int_equal(baudprobe_feed(p, 0, 9, t + 4399 * MS),
				 BAUDPROBE_LISTEN);
		t = baudprobe_deadline(p);
		assert_int_equal(baudprobe_tick(p, t), BAUDPROBE_SWITCH);
		assert_false(baudprobe_at_home(p));
		assert_int_equal(baudprobe_rate(p), want[i]);
		assert_int_equal(baudprobe_deadline(p), t + 2200 * MS);
	}
	assert_int_equal(baudprobe_tick(p, baudprobe_deadline(p)),
			 BAUDPROBE_EXHAUSTED);
	assert_int_equal(baudprobe_rate(p), 9600);
	assert_false(baudprobe_at_home(p));
	baudprobe_destroy(p);
}

/* The configured rate decodes again (a flood ended): the probe settles
 * at home at once; a candidate's counts do not carry over to home. */
static void test_home_settles(void **state)
{
	struct baudprobe *p = make_home(921600);
	int64_t t;

	(void)state;
	baudprobe_begin(p, 0);
	assert_int_equal(baudprobe_feed(p, 1, 0, 100 * MS), BAUDPROBE_LISTEN);
	t = baudprobe_deadline(p);
	assert_int_equal(baudprobe_tick(p, t), BAUDPROBE_SWITCH);
	assert_true(baudprobe_at_home(p));
	assert_int_equal(baudprobe_feed(p, 1, 0, t + 10 * MS),
			 BAUDPROBE_LISTEN);
	assert_int_equal(baudprobe_feed(p, 1, 0, t + 20 * MS),
			 BAUDPROBE_SETTLED);
	assert_int_equal(baudprobe_rate(p), 921600);
	assert_true(baudprobe_at_home(p));
	/* a new pass starts at the first candidate, not at home */
	assert_int_equal(baudprobe_begin(p, t), 9600);
	assert_false(baudprobe_at_home(p));
	/* a candidate that decodes still settles, away from home */
	assert_int_equal(baudprobe_feed(p, 2, 0, t + MS), BAUDPROBE_SETTLED);
	assert_int_equal(baudprobe_rate(p), 9600);
	assert_false(baudprobe_at_home(p));
	baudprobe_destroy(p);
}

/* Without home (baud auto) the pass never visits one. */
static void test_no_home(void **state)
{
	struct baudprobe *p = make(0, 0);
	int64_t t = 0;
	int i;

	(void)state;
	baudprobe_begin(p, t);
	for (i = 0; i < 8; i++) {
		t = baudprobe_deadline(p);
		assert_int_equal(baudprobe_tick(p, t), BAUDPROBE_SWITCH);
		assert_false(baudprobe_at_home(p));
	}
	baudprobe_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_dwell_and_exhaust),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_bad_outweighs),
		cmocka_unit_test(test_home_between),
		cmocka_unit_test(test_home_settles),
		cmocka_unit_test(test_no_home),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

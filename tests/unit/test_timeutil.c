/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_timeutil.c - civil dates, ISO formatting, durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "testseed.h"
#include "timeutil.h"

/* Against glibc's timegm/gmtime_r over random dates, 1900-2200, or with a
 * 32-bit time_t (armhf) the 1901-2038 that gmtime_r can take. */
static void test_civil_matches_libc(void **state)
{
	int64_t lo = sizeof(time_t) < 8 ? -24855 : -25567;
	int64_t hi = sizeof(time_t) < 8 ? 24855 : 84000;
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		int64_t days = test_range(lo, hi), y;
		time_t t = (time_t)(days * 86400);
		struct tm tm;
		int m, d;

		gmtime_r(&t, &tm);
		tu_civil_from_days(days, &y, &m, &d);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, tm.tm_mon + 1);
		assert_int_equal(d, tm.tm_mday);
		assert_int_equal(tu_days_from_civil(y, m, d), days);
	}
}

static void test_date_valid(void **state)
{
	(void)state;
	assert_true(tu_date_valid(2024, 2, 29));
	assert_false(tu_date_valid(2023, 2, 29));
	assert_false(tu_date_valid(2100, 2, 29));
	assert_true(tu_date_valid(2000, 2, 29));
	assert_false(tu_date_valid(2024, 13, 1));
	assert_false(tu_date_valid(2024, 4, 31));
	assert_false(tu_date_valid(2024, 1, 0));
}

static void test_format_iso(void **state)
{
	char buf[40];
	int64_t t = INT64_C(1428956800) * TU_NS_PER_SEC;

	(void)state;
	assert_int_equal(tu_format_iso(t, false, buf, sizeof(buf)), 24);
	assert_string_equal(buf, "2015-04-13T20:26:40.000Z");
	tu_format_iso(t + 250 * TU_NS_PER_MS, false, buf, sizeof(buf));
	assert_string_equal(buf, "2015-04-13T20:26:40.250Z");
	/* 2016-12-31T23:59:60: POSIX time of 2017-01-01T00:00:00 */
	tu_format_iso(INT64_C(1483228800) * TU_NS_PER_SEC, true, buf, sizeof(buf));
	assert_string_equal(buf, "2016-12-31T23:59:60.000Z");
	assert_int_equal(tu_format_iso(t, false, buf, 10), -1);
}

static void test_parse_duration(void **state)
{
	int64_t ns;

	(void)state;
	assert_int_equal(tu_parse_duration("0.35", &ns), 0);
	assert_int_equal(ns, 350 * TU_NS_PER_MS);
	assert_int_equal(tu_parse_duration("350ms", &ns), 0);
	assert_int_equal(ns, 350 * TU_NS_PER_MS);
	assert_int_equal(tu_parse_duration("2us", &ns), 0);
	assert_int_equal(ns, 2000);
	assert_int_equal(tu_parse_duration("1.5h", &ns), 0);
	assert_int_equal(ns, 5400 * TU_NS_PER_SEC);
	assert_int_equal(tu_parse_duration("1d", &ns), 0);
	assert_int_equal(ns, 86400 * TU_NS_PER_SEC);
	assert_int_equal(tu_parse_duration("-20ms", &ns), 0);
	assert_int_equal(ns, -20 * TU_NS_PER_MS);
	assert_int_equal(tu_parse_duration("", &ns), -EINVAL);
	assert_int_equal(tu_parse_duration("5 s", &ns), -EINVAL);
	assert_int_equal(tu_parse_duration("abc", &ns), -EINVAL);
	assert_int_equal(tu_parse_duration("3x", &ns), -EINVAL);
	assert_int_equal(tu_parse_duration("1e30", &ns), -ERANGE);
}

static void test_floor(void **state)
{
	(void)state;
	assert_int_equal(tu_floor_div(-1, 1000), -1);
	assert_int_equal(tu_floor_mod(-1, 1000), 999);
	assert_int_equal(tu_floor_div(1999, 1000), 1);
	assert_int_equal(tu_floor_mod(-2000, 1000), 0);
	{
		struct timespec ts = tu_ns_to_ts(-1);

		assert_int_equal(ts.tv_sec, -1);
		assert_int_equal(ts.tv_nsec, 999999999);
		assert_int_equal(tu_ts_to_ns(&ts), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_matches_libc),
		cmocka_unit_test(test_date_valid),
		cmocka_unit_test(test_format_iso),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_floor),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

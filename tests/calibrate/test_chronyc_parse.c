/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of chronyc_parse: the chronyc -c formats, saved snapshots and
 * refclocks.log lines, on lines printed by chrony 4.3 and on bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chronyc_parse.h"
#include "testseed.h"

#define S(x) x, strlen(x)

static void test_sources_line(void **state)
{
	struct cp_source s;

	(void)state;
	assert_int_equal(cp_parse_source_line(
		S("#,?,NMEA,0,2,377,3,0.204703480,0.204703480,0.004892319\n"),
		&s), 0);
	assert_int_equal(s.mode, '#');
	assert_int_equal(s.state, '?');
	assert_string_equal(s.name, "NMEA");
	assert_int_equal(s.poll, 2);
	assert_int_equal(s.reach, 0377);
	assert_true(fabs(s.lastrx - 3) < 1e-12);
	assert_true(fabs(s.offset - 0.204703480) < 1e-12);
	assert_true(fabs(s.error - 0.004892319) < 1e-12);
	/* negative poll, CR LF, an IPv6 address as name */
	assert_int_equal(cp_parse_source_line(
		S("^,*,2001:db8::1,2,-3,17,-,-0.5,-0.5,1e-3\r\n"), &s), 0);
	assert_int_equal(s.poll, -3);
	assert_int_equal(s.reach, 017);
	assert_true(isnan(s.lastrx));
	assert_string_equal(s.name, "2001:db8::1");
}

static void test_sources_bad(void **state)
{
	struct cp_source s;
	static const char *const bad[] = {
		"#,?,NMEA,0,2,377,3,0.2,0.2",            /* 9 fields */
		"#,?,NMEA,0,2,377,3,0.2,0.2,0.1,9",      /* 11 fields */
		"#,?,NMEA,0,2,378,3,0.2,0.2,0.1",        /* reach not octal */
		"#,?,NMEA,0,2,400,3,0.2,0.2,0.1",        /* reach > 8 bits */
		"#,?,NMEA,0,2,377,3,nan,0.2,0.1",        /* nan */
		"#,?,NMEA,0,2,377,3,0x1p3,0.2,0.1",      /* hex float */
		"#,?,NMEA,0,2,377,3,inf,0.2,0.1",
		"#,?,,0,2,377,3,0.2,0.2,0.1",            /* empty name */
		"##,?,NMEA,0,2,377,3,0.2,0.2,0.1",       /* mode */
		"#,!,NMEA,0,2,377,3,0.2,0.2,0.1",        /* state */
		"#,?,NMEA,0,2,377,3,1e999,0.2,0.1",      /* overflow */
		"#,?,NMEA,0,2,377,3,.,0.2,0.1",
		"#,?,NMEA,0,2,377,3,1e,0.2,0.1",
		"",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cp_parse_source_line(S(bad[i]), &s),
				 CP_ERR_FORMAT);
	}
}

static void test_sourcestats(void **state)
{
	const char *out =
		"PPS,9,9,34,0.000,0.000,0.000000000,0.000000001\n"
		"NMEA,9,5,34,245.672,307.367,0.206312552,0.002111218\n";
	struct cp_sourcestats ss;

	(void)state;
	assert_int_equal(cp_find_sourcestats(S(out), "NMEA", &ss), 0);
	assert_int_equal(ss.np, 9);
	assert_int_equal(ss.nr, 5);
	assert_true(fabs(ss.offset - 0.206312552) < 1e-12);
	assert_true(fabs(ss.sd - 0.002111218) < 1e-12);
	assert_true(fabs(ss.freq - 245.672) < 1e-9);
	assert_int_equal(cp_find_sourcestats(S(out), "PPS", &ss), 0);
	assert_true(ss.offset == 0.0);
	assert_int_equal(cp_find_sourcestats(S(out), "NME", &ss),
			 CP_ERR_NOT_FOUND);
	assert_int_equal(cp_find_sourcestats(S(""), "NMEA", &ss),
			 CP_ERR_NOT_FOUND);
	/* a garbage line before the right one is skipped */
	assert_int_equal(cp_find_sourcestats(
		S("506 Cannot talk to daemon\nNMEA,2,0,4,0.000,2000.000,"
		  "0.500000000,4.000000000"), "NMEA", &ss), 0);
	assert_int_equal(ss.np, 2);
	assert_int_equal(cp_parse_sourcestats_line(
		S("NMEA,-1,5,34,245.672,307.367,0.2,0.002"), &ss),
		CP_ERR_FORMAT);
}

static void test_tracking(void **state)
{
	struct cp_tracking t;

	(void)state;
	assert_int_equal(cp_parse_tracking(S(
		"50505300,PPS,1,1795769479.823479762,0.000000000,0.000000000,"
		"0.000000000,0.000,0.000,0.000,0.000000001,0.000003363,4.0,"
		"Normal\n"), &t), 0);
	assert_string_equal(t.refid_hex, "50505300");
	assert_string_equal(t.refname, "PPS");
	assert_int_equal(t.stratum, 1);
	assert_int_equal(t.leap, CP_LEAP_NORMAL);
	assert_true(fabs(t.update_interval - 4.0) < 1e-12);
	assert_int_equal(cp_parse_tracking(S(
		"00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,"
		"0.000,0.000,0.000,1.000000000,1.000000000,0.0,"
		"Not synchronised\r\n"), &t), 0);
	assert_int_equal(t.leap, CP_LEAP_UNSYNC);
	assert_string_equal(t.refname, "");
	assert_string_equal(cp_leap_name(t.leap), "not synchronised");
	assert_int_equal(cp_parse_tracking(S(
		"5050530,PPS,1,1.0,0,0,0,0,0,0,0,0,4.0,Normal"), &t),
		CP_ERR_FORMAT);
	assert_int_equal(cp_parse_tracking(S(
		"5050530G,PPS,1,1.0,0,0,0,0,0,0,0,0,4.0,Normal"), &t),
		CP_ERR_FORMAT);
	assert_int_equal(cp_parse_tracking(S(
		"50505300,PPS,1,1.0,0,0,0,0,0,0,0,0,4.0,Bogus"), &t), 0);
	assert_int_equal(t.leap, CP_LEAP_UNKNOWN);
}

static void test_snapshot_lines(void **state)
{
	const char *rec = "NMEA,64,30,1008,0.010,0.200,0.487000000,0.004000000";
	struct cp_sourcestats ss;
	char line[256];
	double t;

	(void)state;
	assert_int_equal(cp_parse_snapshot_line(S(rec), &t, &ss), 0);
	assert_true(isnan(t));
	assert_true(fabs(ss.offset - 0.487) < 1e-12);
	snprintf(line, sizeof(line), "1795769479.5 %s\n", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss), 0);
	assert_true(fabs(t - 1795769479.5) < 1e-6);
	snprintf(line, sizeof(line), "1795769479,%s", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss), 0);
	assert_true(fabs(t - 1795769479.0) < 1e-6);
	/* 2026-11-27T08:51:19Z = 1795769479 */
	snprintf(line, sizeof(line), "2026-11-27T08:51:19Z\t%s\r\n", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss), 0);
	assert_true(fabs(t - 1795769479.0) < 1e-6);
	snprintf(line, sizeof(line), "2026-11-27 09:51:19.25+01:00,%s", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss), 0);
	assert_true(fabs(t - 1795769479.25) < 1e-6);
	snprintf(line, sizeof(line), "2026-11-27 08:51:19 %s", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss), 0);
	assert_true(fabs(t - 1795769479.0) < 1e-6);
	assert_int_equal(cp_parse_snapshot_line(S("  \r\n"), &t, &ss), 1);
	assert_int_equal(cp_parse_snapshot_line(S("# chronyc -c sourcestats"),
						&t, &ss), 1);
	snprintf(line, sizeof(line), "yesterday %s", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss),
			 CP_ERR_FORMAT);
	snprintf(line, sizeof(line), "2026-02-30T00:00:00Z %s", rec);
	assert_int_equal(cp_parse_snapshot_line(S(line), &t, &ss),
			 CP_ERR_FORMAT);
	assert_int_equal(cp_parse_snapshot_line(S("NMEA,64,30"), &t, &ss),
			 CP_ERR_FORMAT);
}

static void test_refclocks_lines(void **state)
{
	struct cp_refclock_sample s;

	(void)state;
	assert_int_equal(cp_parse_refclocks_line(S(
		"=============================================================="
		"=================\n"), &s), 1);
	assert_int_equal(cp_parse_refclocks_line(S(
		"   Date (UTC) Time         Refid  DP L P  Raw offset   Cooked "
		"offset      Disp.\n"), &s), 1);
	assert_int_equal(cp_parse_refclocks_line(S(
		"2026-11-27 08:59:03.789237 NMEA    - N -       -       "
		"-1.892370e-01  1.161e-02\n"), &s), 1);
	assert_int_equal(cp_parse_refclocks_line(S(
		"2026-11-27 08:50:44.295775 NMEA    0 N 0 -2.957749e-01 "
		"-1.957749e-01  1.000e-03\n"), &s), 0);
	assert_string_equal(s.refid, "NMEA");
	assert_int_equal(s.dpoll, 0);
	assert_int_equal(s.leap, 'N');
	assert_true(fabs(s.raw + 0.2957749) < 1e-12);
	assert_true(fabs(s.cooked + 0.1957749) < 1e-12);
	/* 2026-11-27 08:50:44 UTC = 1795769444 */
	assert_true(fabs(s.t - 1795769444.295775) < 1e-5);
	assert_int_equal(cp_parse_refclocks_line(S(
		"2026-11-27 08:50:44.295775 NMEA    0 X 0 -2.9e-01 -1.9e-01 "
		"1.000e-03"), &s), CP_ERR_FORMAT);
	assert_int_equal(cp_parse_refclocks_line(S(
		"2026-13-27 08:50:44.295775 NMEA    0 N 0 -2.9e-01 -1.9e-01 "
		"1.000e-03"), &s), CP_ERR_FORMAT);
	assert_int_equal(cp_parse_refclocks_line(S(
		"2026-11-27 08:50:44.295775 NMEA    0 N 0 -2.9e-01"), &s),
		CP_ERR_FORMAT);
}

/* Random and mutated input: never a crash, never a read past len (run
 * under the sanitizers in CI), and a parse either fails or gives sane
 * numbers. */
static void test_random_input(void **state)
{
	const char *seed_line =
		"#,?,NMEA,0,2,377,3,0.204703480,0.204703480,0.004892319";
	char buf[128];
	struct cp_source s;
	struct cp_sourcestats ss;
	struct cp_tracking t;
	struct cp_refclock_sample rs;
	double ts;
	int i, ok = 0;

	(void)state;
	test_seed_init();
	for (i = 0; i < 200000; i++) {
		size_t len = strlen(seed_line);
		int k, muts = (int)test_range(1, 3);

		memcpy(buf, seed_line, len);
		for (k = 0; k < muts; k++) {
			buf[test_range(0, (int64_t)len - 1)] =
				(char)test_range(0, 255);
		}
		if (cp_parse_source_line(buf, len, &s) == 0) {
			ok++;
			assert_true(isfinite(s.offset) && s.reach <= 0377);
		}
		cp_parse_sourcestats_line(buf, len, &ss);
		cp_parse_tracking_line(buf, len, &t);
		cp_parse_snapshot_line(buf, len, &ts, &ss);
		cp_parse_refclocks_line(buf, len, &rs);
	}
	assert_true(ok > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources_line),
		cmocka_unit_test(test_sources_bad),
		cmocka_unit_test(test_sourcestats),
		cmocka_unit_test(test_tracking),
		cmocka_unit_test(test_snapshot_lines),
		cmocka_unit_test(test_refclocks_lines),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_log.c - what log.c writes to stderr: the two line formats, the
 * level filter, and log_limited's rate limit with its suppressed count.
 * stderr is redirected to a temporary file and read back.  A window's end
 * is reached by moving window_start (a field of the public struct) back by
 * one interval, so that no test waits on the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

#define HOUR (3600 * TU_NS_PER_SEC)

static int saved_stderr = -1;
static FILE *capture;

static void capture_begin(void)
{
	fflush(stderr);
	capture = tmpfile();
	assert_non_null(capture);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

/* Everything written since capture_begin; the caller frees it. */
static char *capture_end(void)
{
	long len;
	char *buf;

	fflush(stderr);
	assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
	close(saved_stderr);
	len = ftell(capture);
	assert_true(len >= 0);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	rewind(capture);
	assert_int_equal(fread(buf, 1, (size_t)len, capture), (size_t)len);
	fclose(capture);
	return buf;
}

static void expect_output(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fail_msg("stderr was:\n%s\nexpected:\n%s", got, want);
	}
}

static void test_text_format(void **state)
{
	char *out;

	(void)state;
	log_init("gpsppsd", LOG_LVL_INFO, false);
	capture_begin();
	log_err("no %s", "device");
	log_warn("late");
	log_notice("started");
	log_info("detail %d", 42);
	log_debug("hidden");
	out = capture_end();
	expect_output(out, "gpsppsd: error: no device\n"
			   "gpsppsd: warning: late\n"
			   "gpsppsd: started\n"
			   "gpsppsd: detail 42\n");
	free(out);
}

/* journald reads the level from "<N>"; no program name, no level word. */
static void test_prefix_format(void **state)
{
	char *out;

	(void)state;
	log_init("gpsppsd", LOG_LVL_DEBUG, true);
	capture_begin();
	log_err("e");
	log_warn("w");
	log_debug("d");
	out = capture_end();
	expect_output(out, "<3>e\n<4>w\n<7>d\n");
	free(out);
}

static void test_level_filter(void **state)
{
	char *out;

	(void)state;
	log_init("x", LOG_LVL_NOTICE, true);
	assert_true(log_enabled(LOG_LVL_ERR));
	assert_true(log_enabled(LOG_LVL_NOTICE));
	assert_false(log_enabled(LOG_LVL_INFO));
	log_set_level(LOG_LVL_ERR);
	assert_false(log_enabled(LOG_LVL_WARN));
	capture_begin();
	log_warn("dropped");
	log_err("kept");
	log_set_level(LOG_LVL_DEBUG);
	log_debug("now kept");
	out = capture_end();
	expect_output(out, "<3>kept\n<7>now kept\n");
	free(out);
}

/* Within one window, burst messages pass and the rest are counted. */
static void test_burst_then_suppressed(void **state)
{
	struct log_ratelimit rl = { .interval_ns = HOUR, .burst = 3 };
	char *out;
	int i;

	(void)state;
	log_init("x", LOG_LVL_INFO, true);
	capture_begin();
	for (i = 0; i < 10; i++) {
		log_limited(&rl, LOG_LVL_WARN, "edge %d", i);
	}
	out = capture_end();
	expect_output(out, "<4>edge 0\n<4>edge 1\n<4>edge 2\n");
	assert_int_equal(rl.printed, 3);
	assert_int_equal(rl.suppressed, 7);
	free(out);
}

/*
 * In the next window the first message passes and is followed by the
 * count of those suppressed since the last one printed; the count then
 * starts again from zero.
 */
static void test_next_window_reports_count(void **state)
{
	struct log_ratelimit rl = { .interval_ns = HOUR, .burst = 2 };
	char *out;
	int i;

	(void)state;
	log_init("x", LOG_LVL_INFO, true);
	capture_begin();
	for (i = 0; i < 7; i++) {
		log_limited(&rl, LOG_LVL_WARN, "a%d", i);
	}
	rl.window_start -= HOUR;
	log_limited(&rl, LOG_LVL_WARN, "b");
	log_limited(&rl, LOG_LVL_WARN, "c");
	log_limited(&rl, LOG_LVL_WARN, "d");
	out = capture_end();
	expect_output(out, "<4>a0\n<4>a1\n"
			   "<4>b\n<4>(5 similar messages suppressed)\n"
			   "<4>c\n");
	assert_int_equal(rl.suppressed, 1);
	free(out);
}

/* A minute short of the interval is still the same window. */
static void test_window_edge(void **state)
{
	struct log_ratelimit rl = { .interval_ns = HOUR, .burst = 1 };
	char *out;

	(void)state;
	log_init("x", LOG_LVL_INFO, true);
	capture_begin();
	log_limited(&rl, LOG_LVL_WARN, "first");
	rl.window_start -= HOUR - 60 * TU_NS_PER_SEC;
	log_limited(&rl, LOG_LVL_WARN, "same window");
	rl.window_start -= 60 * TU_NS_PER_SEC;
	log_limited(&rl, LOG_LVL_WARN, "next window");
	out = capture_end();
	expect_output(out, "<4>first\n<4>next window\n"
			   "<4>(1 similar messages suppressed)\n");
	assert_int_equal(rl.suppressed, 0);
	free(out);
}

/*
 * A level that is filtered out prints neither the message nor the count,
 * and keeps the count for when the level is enabled again.
 */
static void test_count_kept_while_filtered(void **state)
{
	struct log_ratelimit rl = { .interval_ns = HOUR, .burst = 1 };
	char *out;

	(void)state;
	log_init("x", LOG_LVL_NOTICE, true);
	capture_begin();
	log_limited(&rl, LOG_LVL_INFO, "i0");
	log_limited(&rl, LOG_LVL_INFO, "i1");
	log_limited(&rl, LOG_LVL_INFO, "i2");
	rl.window_start -= HOUR;
	log_limited(&rl, LOG_LVL_INFO, "i3");
	assert_int_equal(rl.suppressed, 2);
	log_set_level(LOG_LVL_INFO);
	rl.window_start -= HOUR;
	log_limited(&rl, LOG_LVL_INFO, "i4");
	out = capture_end();
	expect_output(out, "<6>i4\n<6>(2 similar messages suppressed)\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_prefix_format),
		cmocka_unit_test(test_level_filter),
		cmocka_unit_test(test_burst_then_suppressed),
		cmocka_unit_test(test_next_window_reports_count),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_count_kept_while_filtered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

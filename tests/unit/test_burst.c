/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_burst.c - the burst pacer's read deadlines, exact and on random
 * lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>

#include "burst.h"
#include "testseed.h"

#define MS 1000000LL
#define CHAR_9600 1041666LL    /* 10 bits at 9600 baud */

/* No history: read every BURST_IDLE_NS until a read finds nothing. */
static void test_first_burst(void **state)
{
	struct burst_pacer *p = burst_pacer_create(CHAR_9600);
	int64_t t;

	(void)state;
	t = burst_pacer_start(p, 1000 * MS, 1);
	assert_int_equal(t, 1000 * MS + BURST_IDLE_NS);
	t = burst_pacer_next(p, t, 8);
	assert_int_equal(t, 1000 * MS + 2 * BURST_IDLE_NS);
	assert_int_equal(burst_pacer_next(p, t, 0), -1);
	assert_int_equal(burst_pacer_last_data(p), 1000 * MS + BURST_IDLE_NS);
	burst_pacer_destroy(p);
}

/* Called before the idle time is up: wait out the rest. */
static void test_early_call(void **state)
{
	struct burst_pacer *p = burst_pacer_create(CHAR_9600);

	(void)state;
	burst_pacer_start(p, 0, 1);
	assert_int_equal(burst_pacer_next(p, 3 * MS, 0), BURST_IDLE_NS);
	assert_int_equal(burst_pacer_next(p, BURST_IDLE_NS, 0), -1);
	burst_pacer_destroy(p);
}

/* One burst of len bytes at start, read at start + span. */
static void one_burst(struct burst_pacer *p, int64_t start, size_t len,
		      int64_t span)
{
	burst_pacer_start(p, start, 1);
	burst_pacer_next(p, start + span, len - 1);
	assert_int_equal(burst_pacer_next(p, start + span + BURST_IDLE_NS, 0),
			 -1);
}

/* A pacer that has read three bursts of len bytes starting at t[0..2],
 * each read once span after its start. */
static struct burst_pacer *after_three(int64_t char_ns, const int64_t *t,
				       size_t len, int64_t span)
{
	struct burst_pacer *p = burst_pacer_create(char_ns);
	int i;

	assert_non_null(p);
	for (i = 0; i < 3; i++) {
		one_burst(p, t[i], len, span);
	}
	return p;
}

/* At a steady 1 Hz, after 400-byte bursts, the next is read once
 * shortly before it should end, then every idle time. */
static void test_predicted(void **state)
{
	static const int64_t t[] = { 0, 1000 * MS, 2000 * MS };
	struct burst_pacer *p = after_three(CHAR_9600, t, 400, 450 * MS);
	int64_t next;

	(void)state;
	next = burst_pacer_start(p, 3000 * MS, 1);
	assert_int_equal(next, 3000 * MS + 399 * CHAR_9600 - BURST_IDLE_NS);
	assert_int_equal(burst_pacer_next(p, next, 395), next + BURST_IDLE_NS);
	burst_pacer_destroy(p);
}

/* An unsteady rate: read every idle time from the start. */
static void test_unsteady(void **state)
{
	static const int64_t t[] = { 0, 1000 * MS, 1600 * MS };
	struct burst_pacer *p = after_three(CHAR_9600, t, 400, 450 * MS);

	(void)state;
	assert_int_equal(burst_pacer_start(p, 2600 * MS, 1),
			 2600 * MS + BURST_IDLE_NS);
	burst_pacer_destroy(p);
}

/* Never later than half the interval between burst starts, less two idle
 * times. */
static void test_period_cap(void **state)
{
	static const int64_t t[] = { 0, 100 * MS, 200 * MS };
	struct burst_pacer *p = after_three(CHAR_9600, t, 200, 70 * MS);

	(void)state;
	assert_int_equal(burst_pacer_start(p, 300 * MS, 1),
			 350 * MS - 2 * BURST_IDLE_NS);
	burst_pacer_destroy(p);
}

/* Never more than BURST_MAX_CHARS characters ahead. */
static void test_buffer_cap(void **state)
{
	static const int64_t t[] = { 0, 1000 * MS, 2000 * MS };
	struct burst_pacer *p = after_three(100000, t, 100000, 500 * MS);

	(void)state;
	assert_int_equal(burst_pacer_start(p, 3000 * MS, 1),
			 3000 * MS + BURST_MAX_CHARS * 100000LL - BURST_IDLE_NS);
	burst_pacer_destroy(p);
}

/* A simulated line: bursts at a fixed rate (1 to 10 Hz, starts jittered
 * by up to 2 ms, as receivers send them), lengths varying by up to a
 * third, up to a saturated line, one byte every char_ns; the reader
 * follows the pacer with up to 1.5 ms of timer lateness.  Every burst
 * that follows a quiet spell of at least 20 ms (the decoder's burst gap)
 * must find the reader watching the port, so that its first byte wakes
 * it. */
struct line {
	int64_t char_ns;
	int64_t start[64];
	int len[64];
	int n;
};

static void line_make(struct line *l)
{
	static const int64_t bauds[] = { 4800, 9600, 38400, 115200, 921600 };
	int64_t period = 1000 * MS / test_range(1, 10);
	int base = (int)test_range(20, 1500), i;
	int64_t t = test_range(0, 999) * MS;

	l->char_ns = 10000000000LL / bauds[test_range(0, 4)];
	l->n = 64;
	for (i = 0; i < l->n; i++) {
		l->len[i] = base + (int)test_range(-base / 3, base / 3);
		l->start[i] = t + test_range(-2 * MS, 2 * MS);
		t += period;
		if (t < l->start[i] + l->len[i] * l->char_ns + 3 * MS) {
			t = l->start[i] + l->len[i] * l->char_ns + 3 * MS;
		}
	}
}

/* Bytes of burst i that arrived by t. */
static int64_t burst_bytes(const struct line *l, int i, int64_t t)
{
	int64_t k;

	if (t < l->start[i]) {
		return 0;
	}
	k = (t - l->start[i]) / l->char_ns + 1;
	return k < l->len[i] ? k : l->len[i];
}

/* Bytes of the line that arrived in (from, to]. */
static size_t line_bytes(const struct line *l, int64_t from, int64_t to)
{
	int64_t n = 0;
	int i;

	for (i = 0; i < l->n; i++) {
		n += burst_bytes(l, i, to) - burst_bytes(l, i, from);
	}
	return (size_t)n;
}

/* Follow burst i's gathering; returns when the reader watches again. */
static int64_t line_gather(const struct line *l, struct burst_pacer *p,
			   int i, int *reads)
{
	int64_t now = l->start[i], next;

	next = burst_pacer_start(p, now, 1);
	while (next >= 0) {
		int64_t at = next + test_range(0, 1500000);

		next = burst_pacer_next(p, at, line_bytes(l, now, at));
		now = at;
		(*reads)++;
	}
	return now;
}

static void test_random_lines(void **state)
{
	int run, i, reads = 0, bursts = 0;

	(void)state;
	for (run = 0; run < 1000; run++) {
		struct line l;
		struct burst_pacer *p;
		int64_t watching = 0;

		line_make(&l);
		p = burst_pacer_create(l.char_ns);
		for (i = 0; i < l.n; i++) {
			int64_t quiet = i == 0 ? 1 : l.start[i] -
				(l.start[i - 1] + (l.len[i - 1] - 1) * l.char_ns);

			if (l.start[i] < watching) {
				/* Missed: allowed only with no burst gap. */
				if (quiet >= 20 * MS) {
					fail_msg("run %d burst %d at %lld missed "
						 "(watching from %lld, quiet %lld, char %lld, len %d)",
						 run, i, (long long)l.start[i],
						 (long long)watching, (long long)quiet,
						 (long long)l.char_ns, l.len[i - 1]);
				}
				continue;
			}
			watching = line_gather(&l, p, i, &reads);
			bursts++;
		}
		burst_pacer_destroy(p);
	}
	printf("%d bursts, %.1f reads per burst\n", bursts,
	       (double)reads / bursts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_burst),
		cmocka_unit_test(test_early_call),
		cmocka_unit_test(test_predicted),
		cmocka_unit_test(test_unsteady),
		cmocka_unit_test(test_period_cap),
		cmocka_unit_test(test_buffer_cap),
		cmocka_unit_test(test_random_lines),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_pair.c - the pairing engine: exact cases and random ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pair.h"
#include "testseed.h"
#include "timeutil.h"

#define SEC TU_NS_PER_SEC
#define MS TU_NS_PER_MS
#define US TU_NS_PER_US
/* 2023-11-14 22:13:20 UTC: second 0 of every test. */
#define T0 (INT64_C(1700000000) * SEC)

/*
 * A receiver and a host.  Times are "true" UTC ns; the host's system clock
 * reads true + clk_off, its CLOCK_MONOTONIC_RAW reads true - T0 + MONO0
 * (or 0 when no_mono).
 */
#define MONO0 (INT64_C(5000) * SEC)

struct rig {
	struct pair_engine *pe;
	int64_t clk_off;
	bool no_mono;
	struct pair_sample out;
};

static void rig_open(struct rig *r, const struct pair_config *cfg)
{
	struct pair_config def;

	memset(r, 0, sizeof(*r));
	if (cfg == NULL) {
		pair_config_default(&def);
		cfg = &def;
	}
	r->pe = pair_create(cfg);
	assert_non_null(r->pe);
	r->clk_off = 3 * MS;
}

static void rig_close(struct rig *r)
{
	pair_destroy(r->pe);
}

static int64_t at(int64_t sec, int64_t frac_ns)
{
	return T0 + sec * SEC + frac_ns;
}

static enum pair_result edge_true(struct rig *r, int64_t t)
{
	struct pair_edge e = { t + r->clk_off, r->no_mono ? 0 : t - T0 + MONO0,
			       0, 0 };

	return pair_add_edge(r->pe, &e, &r->out);
}

/* The edge of second sec (jitter j). */
static enum pair_result edge(struct rig *r, int64_t sec, int64_t j)
{
	return edge_true(r, at(sec, j));
}

static struct nmea_epoch mkep(const struct rig *r, int64_t label, int64_t burst)
{
	struct nmea_epoch ep;

	memset(&ep, 0, sizeof(ep));
	ep.time_ns = label;
	ep.date_known = true;
	ep.valid = true;
	ep.sentences = NMEA_RMC;
	memcpy(ep.talker, "GP", 3);
	ep.burst_rx_ns = burst + r->clk_off;
	ep.burst_rx_mono_ns = r->no_mono ? 0 : burst - T0 + MONO0;
	ep.time_rx_ns = ep.burst_rx_ns;
	return ep;
}

static enum pair_result feed(struct rig *r, const struct nmea_epoch *ep)
{
	return pair_add_epoch(r->pe, ep, &r->out);
}

/* Epoch labelled with second `label`, its burst `delay` after second
 * `sec` began (sec == label unless garbled). */
static enum pair_result epoch_at(struct rig *r, int64_t label, int64_t sec,
				 int64_t delay)
{
	struct nmea_epoch ep = mkep(r, at(label, 0), at(sec, delay));

	return feed(r, &ep);
}

static enum pair_result epoch(struct rig *r, int64_t sec, int64_t delay)
{
	return epoch_at(r, sec, sec, delay);
}

/* One ordinary second: edge, then the epoch 300 ms later. */
static enum pair_result second(struct rig *r, int64_t sec)
{
	assert_int_equal(edge(r, sec, 0), PAIR_PENDING);
	return epoch(r, sec, 300 * MS);
}

static void assert_sample(const struct rig *r, int64_t sec)
{
	assert_int_equal(r->out.label_ns, at(sec, 0));
	assert_int_equal(r->out.edge_ns, at(sec, 0) + r->clk_off);
	assert_int_equal(r->out.offset_ns, -r->clk_off);
	assert_int_equal(r->out.leap, 0);
}

/* Seconds 0..4: warm-up, confirmation, first sample; returns next second. */
static int64_t rig_settle(struct rig *r)
{
	int64_t s;

	for (s = 0; s < 4; s++) {
		assert_int_not_equal(second(r, s), PAIR_SAMPLE);
	}
	assert_int_equal(second(r, 4), PAIR_SAMPLE);
	assert_sample(r, 4);
	return 5;
}

/* ---- configuration and names ---------------------------------------- */

static void test_config(void **state)
{
	struct pair_config c, d;

	(void)state;
	pair_config_default(&d);
	assert_null(pair_config_check(&d));
	assert_int_equal(d.window_min_ns, 0);
	assert_int_equal(d.window_max_ns, 950 * MS);
	assert_int_equal(d.stale_ns, 2 * SEC);
	assert_int_equal(d.min_valid, 3);
	assert_int_equal(d.guard_ns, 100 * MS);
	assert_int_equal(d.confirm, 3);
	assert_false(d.next_second);

	c = d;
	c.window_max_ns = SEC;
	assert_non_null(pair_config_check(&c));
	assert_null(pair_create(&c));
	c = d;
	c.window_min_ns = c.window_max_ns;
	assert_non_null(pair_config_check(&c));
	c = d;
	c.window_min_ns = -100 * MS;
	assert_non_null(pair_config_check(&c));  /* wider than 1 s */
	c.window_max_ns = 800 * MS;
	assert_null(pair_config_check(&c));
	c = d;
	c.stale_ns = 0;
	assert_non_null(pair_config_check(&c));
	c = d;
	c.min_valid = -1;
	assert_non_null(pair_config_check(&c));
	c = d;
	c.guard_ns = SEC / 2 + 1;
	assert_non_null(pair_config_check(&c));
	c = d;
	c.confirm = 0;
	assert_non_null(pair_config_check(&c));
	c = d;
	c.period_tol_ns = -1;
	assert_non_null(pair_config_check(&c));
}

static void test_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(pair_result_name(PAIR_AMBIGUOUS), "ambiguous");
	assert_string_equal(pair_result_name(PAIR_SAMPLE), "sample");
	assert_string_equal(pair_result_name(PAIR_UNTIMED), "untimed");
	assert_string_equal(pair_result_name(PAIR_RESULT_COUNT), "?");
	for (i = 0; i < PAIR_RESULT_COUNT; i++) {
		assert_non_null(pair_result_name(i));
		assert_string_not_equal(pair_result_name(i), "?");
		for (j = 0; j < i; j++) {
			assert_string_not_equal(pair_result_name(i),
						pair_result_name(j));
		}
	}
}

/* ---- ordinary operation --------------------------------------------- */

static void test_normal(void **state)
{
	const enum pair_result want[5] = { PAIR_WARMUP, PAIR_WARMUP, PAIR_GUARD,
					   PAIR_GUARD, PAIR_SAMPLE };
	const struct pair_stats *st;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	for (s = 0; s < 5; s++) {
		assert_int_equal(second(&r, s), want[s]);
		assert_int_equal(pair_nmea_usable(r.pe), s >= 2);
	}
	assert_sample(&r, 4);
	for (s = 5; s < 100; s++) {
		int64_t delay = 50 * MS + s * 9 * MS;  /* 0.095 .. 0.941 s */

		assert_int_equal(edge(&r, s, 0), PAIR_PENDING);
		assert_int_equal(epoch(&r, s, delay), PAIR_SAMPLE);
		assert_sample(&r, s);
	}
	st = pair_get_stats(r.pe);
	assert_int_equal(st->edges, 100);
	assert_int_equal(st->epochs, 100);
	assert_int_equal(st->samples, 96);
	assert_int_equal(st->held[PAIR_WARMUP], 2);
	assert_int_equal(st->held[PAIR_GUARD], 2);
	assert_int_equal(st->edges_aperiodic, 2);  /* the first two edges */
	assert_int_equal(st->ref_changes, 0);
	rig_close(&r);
}

/* Delays at both ends of the window; just beyond it, no edge. */
static void test_window_ends(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	assert_int_equal(epoch(&r, s, 0), PAIR_SAMPLE);
	s++;
	edge(&r, s, 0);
	assert_int_equal(epoch(&r, s, 950 * MS), PAIR_SAMPLE);
	assert_sample(&r, s);
	s++;
	edge(&r, s, 0);
	assert_int_equal(epoch(&r, s, 950 * MS + 1), PAIR_NO_EDGE);
	s++;
	/* 0.98 s after edge s is 0.02 s *before* edge s+1: neither is in the
	 * window, so the epoch labelled s cannot take edge s+1. */
	edge(&r, s, 0);
	edge(&r, s + 1, 0);
	assert_int_equal(epoch(&r, s, 980 * MS), PAIR_NO_EDGE);
	assert_int_equal(epoch(&r, s + 1, 300 * MS), PAIR_SAMPLE);
	assert_sample(&r, s + 1);
	rig_close(&r);
}

static void test_ten_hz(void **state)
{
	const struct pair_stats *st;
	struct rig r;
	int64_t s, k;

	(void)state;
	rig_open(&r, NULL);
	for (s = 0; s < 20; s++) {
		edge(&r, s, 0);
		for (k = 0; k < 10; k++) {
			struct nmea_epoch ep = mkep(&r, at(s, k * 100 * MS),
						    at(s, k * 100 * MS + 80 * MS));
			enum pair_result res = feed(&r, &ep);

			if (k > 0) {
				assert_int_equal(res, PAIR_NOT_WHOLE);
			} else if (s >= 4) {
				assert_int_equal(res, PAIR_SAMPLE);
				assert_sample(&r, s);
			}
			assert_int_equal(pair_nmea_usable(r.pe), s >= 2);
		}
	}
	st = pair_get_stats(r.pe);
	assert_int_equal(st->samples, 16);
	assert_int_equal(st->held[PAIR_NOT_WHOLE], 180);
	assert_int_equal(st->held[PAIR_WARMUP], 2);
	rig_close(&r);
}

/* ---- every reason ---------------------------------------------------- */

static void test_no_fix_and_warmup(void **state)
{
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	/* Fix lost for two seconds. */
	for (int i = 0; i < 2; i++, s++) {
		edge(&r, s, 0);
		ep = mkep(&r, at(s, 0), at(s, 300 * MS));
		ep.valid = false;
		assert_int_equal(feed(&r, &ep), PAIR_NO_FIX);
		assert_false(pair_nmea_usable(r.pe));
	}
	/* Back: min_valid (3) valid seconds, the third pairs at once
	 * because the offset still agrees with the reference. */
	assert_int_equal(second(&r, s), PAIR_WARMUP);
	assert_false(pair_nmea_usable(r.pe));
	s++;
	assert_int_equal(second(&r, s), PAIR_WARMUP);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_true(pair_nmea_usable(r.pe));
	assert_sample(&r, s);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_NO_FIX], 2);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_WARMUP], 4);
	rig_close(&r);
}

/* Warm-up counts consecutive seconds: one lost epoch is forgiven, a
 * longer silence restarts it; a second epoch within the same second is not
 * counted; a single inconsistent label is not counted and does not
 * restart it. */
static void test_warmup_gap(void **state)
{
	struct nmea_epoch ep;
	struct rig r;

	(void)state;
	rig_open(&r, NULL);
	assert_int_equal(second(&r, 0), PAIR_WARMUP);
	edge(&r, 1, 0);                         /* epoch 1 lost */
	assert_int_equal(second(&r, 2), PAIR_WARMUP);
	ep = mkep(&r, at(2, 0), at(2, 700 * MS)); /* same second again */
	assert_int_equal(feed(&r, &ep), PAIR_WARMUP);
	assert_false(pair_nmea_usable(r.pe));
	assert_int_equal(second(&r, 3), PAIR_GUARD);  /* 0, 2, 3: warm */
	assert_true(pair_nmea_usable(r.pe));
	edge(&r, 4, 0);
	edge(&r, 5, 0);
	edge(&r, 6, 0);                         /* 3 s silence */
	assert_int_equal(second(&r, 7), PAIR_WARMUP);
	assert_int_equal(second(&r, 8), PAIR_WARMUP);
	edge(&r, 9, 0);
	assert_int_equal(epoch_at(&r, 19, 9, 300 * MS), PAIR_WARMUP);
	assert_false(pair_nmea_usable(r.pe));
	assert_int_equal(second(&r, 10), PAIR_GUARD);  /* 7, 8, 10: warm */
	rig_close(&r);
}

/* While warming up, labels that jump and stay jumped restart the count
 * from the first two of them; one that jumps alone is passed over. */
static void test_warmup_jump(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, NULL);
	assert_int_equal(second(&r, 0), PAIR_WARMUP);
	assert_int_equal(second(&r, 1), PAIR_WARMUP);
	edge(&r, 2, 0);
	assert_int_equal(epoch_at(&r, 102, 2, 300 * MS), PAIR_WARMUP);
	edge(&r, 3, 0);
	assert_int_equal(epoch_at(&r, 203, 3, 300 * MS), PAIR_WARMUP);
	edge(&r, 4, 0);
	assert_int_equal(epoch_at(&r, 204, 4, 300 * MS), PAIR_WARMUP);
	edge(&r, 5, 0);                 /* 203, 204, 205: warm, held */
	assert_int_equal(epoch_at(&r, 205, 5, 300 * MS), PAIR_GUARD);
	rig_close(&r);
}

/* ---- later epochs standing in for a lost whole-second one ------------ */

/* Epoch k of second s at rate hz, its burst 300 ms after its instant. */
static enum pair_result sub_epoch(struct rig *r, int64_t s, int hz, int k)
{
	int64_t f = k * (SEC / hz);
	struct nmea_epoch ep = mkep(r, at(s, f), at(s, f + 300 * MS));

	return feed(r, &ep);
}

/* At 5 Hz, with the .000 epoch lost, the .200 one names the second (on
 * the edge before it by as much as .200 is after .000); the epochs after
 * it do not; with .000 there, none of the later ones does. */
static void test_stand_in(void **state)
{
	struct rig r;
	int64_t s;
	int k;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	assert_int_equal(sub_epoch(&r, s, 5, 1), PAIR_SAMPLE);
	assert_true(pair_stood_in(r.pe));
	assert_sample(&r, s);
	for (k = 2; k < 5; k++) {
		assert_int_equal(sub_epoch(&r, s, 5, k), PAIR_NOT_WHOLE);
		assert_false(pair_stood_in(r.pe));
	}
	s++;
	edge(&r, s, 0);
	assert_int_equal(sub_epoch(&r, s, 5, 0), PAIR_SAMPLE);
	assert_false(pair_stood_in(r.pe));
	for (k = 1; k < 5; k++) {
		assert_int_equal(sub_epoch(&r, s, 5, k), PAIR_NOT_WHOLE);
	}
	s++;
	edge(&r, s, 0);                 /* 10 Hz, .000 to .400 lost */
	assert_int_equal(sub_epoch(&r, s, 10, 5), PAIR_SAMPLE);
	assert_sample(&r, s);
	assert_int_equal(pair_get_stats(r.pe)->samples, 4);
	rig_close(&r);
}

/* An edge on the second's grid that the source says followed a faster
 * pulse (extra > 0: the last capture of a 10 kHz train read once a
 * second) is never paired; the next genuine edge is. */
static void test_edge_extra(void **state)
{
	struct rig r;
	int64_t s;
	struct pair_edge e;
	uint64_t aperiodic;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	aperiodic = pair_get_stats(r.pe)->edges_aperiodic;
	e = (struct pair_edge){ at(s, 0) + r.clk_off, at(s, 0) - T0 + MONO0,
				0, 9999 };
	assert_int_equal(pair_add_edge(r.pe, &e, &r.out), PAIR_PENDING);
	assert_int_not_equal(epoch(&r, s, 300 * MS), PAIR_SAMPLE);
	assert_int_equal(pair_get_stats(r.pe)->edges_aperiodic,
			 aperiodic + 1);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* A later epoch of the previous second that comes after the next edge
 * (late, or just slow) does not name its second again, even when it comes
 * so late that its mark is a second after the last one tried. */
static void test_stand_in_late(void **state)
{
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	assert_int_equal(sub_epoch(&r, s, 5, 0), PAIR_SAMPLE);
	edge(&r, s + 1, 0);
	/* s.600 at s + 1.25, s.800 at s + 1.85; s+1.000, .200 lost */
	ep = mkep(&r, at(s, 600 * MS), at(s + 1, 250 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_NOT_WHOLE);
	ep = mkep(&r, at(s, 800 * MS), at(s + 1, 850 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_NOT_WHOLE);
	assert_false(pair_stood_in(r.pe));
	/* s+1.400 at s + 1.9 names s+1 on its edge */
	ep = mkep(&r, at(s + 1, 400 * MS), at(s + 1, 900 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_SAMPLE);
	assert_sample(&r, s + 1);
	assert_int_equal(pair_get_stats(r.pe)->samples, 3);
	rig_close(&r);
}

/* A stand-in with a garbled label is held like a garbled whole-second
 * epoch; one without a mono stamp, without a fix or while warming up does
 * not stand in. */
static void test_stand_in_held(void **state)
{
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	edge(&r, 0, 0);
	assert_int_equal(sub_epoch(&r, 0, 5, 1), PAIR_NOT_WHOLE);
	s = 1;
	while (second(&r, s) != PAIR_SAMPLE) {
		s++;
	}
	s++;
	edge(&r, s, 0);
	ep = mkep(&r, at(s + 1, 200 * MS), at(s, 500 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_GUARD);
	assert_true(pair_stood_in(r.pe));
	s++;
	edge(&r, s, 0);
	ep = mkep(&r, at(s, 200 * MS), at(s, 500 * MS));
	ep.burst_rx_mono_ns = 0;
	assert_int_equal(feed(&r, &ep), PAIR_NOT_WHOLE);
	ep = mkep(&r, at(s, 400 * MS), at(s, 700 * MS));
	ep.valid = false;
	assert_int_equal(feed(&r, &ep), PAIR_NO_FIX);
	assert_false(pair_stood_in(r.pe));
	rig_close(&r);
}

/* next_second receivers: a later epoch precedes the instant it names by
 * the delay; the edge of its second came before it. */
static void test_stand_in_next_second(void **state)
{
	struct pair_config cfg;
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	pair_config_default(&cfg);
	cfg.next_second = true;
	rig_open(&r, &cfg);
	for (s = 0; s < 6; s++) {
		ep = mkep(&r, at(s, 0), at(s, -300 * MS));
		feed(&r, &ep);
		edge(&r, s, 0);
	}
	assert_int_equal(r.out.label_ns, at(5, 0));
	/* 6.000 lost: 6.200, sent at 5.9, waits for edge 6 */
	ep = mkep(&r, at(6, 200 * MS), at(6, -100 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_PENDING);
	assert_true(pair_stood_in(r.pe));
	assert_int_equal(edge(&r, 6, 0), PAIR_SAMPLE);
	assert_sample(&r, 6);
	/* 7.000 lost: 7.600, sent at 7.3, after edge 7 */
	edge(&r, 7, 0);
	ep = mkep(&r, at(7, 600 * MS), at(7, 300 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_SAMPLE);
	assert_sample(&r, 7);
	rig_close(&r);
}

/* Once warm, a garbled label is held by the guard and its NMEA sample is
 * not vouched for; the count goes on. */
static void test_warm_garbled_not_usable(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	assert_int_equal(epoch_at(&r, s + 1, s, 300 * MS), PAIR_GUARD);
	assert_false(pair_nmea_usable(r.pe));
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_true(pair_nmea_usable(r.pe));
	rig_close(&r);
}

static void test_no_date(void **state)
{
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	ep = mkep(&r, at(s, 0), at(s, 300 * MS));
	ep.date_known = false;
	assert_int_equal(feed(&r, &ep), PAIR_NO_DATE);
	assert_false(pair_nmea_usable(r.pe));
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_NO_DATE], 1);
	rig_close(&r);
}

static void test_leap_second(void **state)
{
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	/* 23:59:60: POSIX label = the next 00:00:00; the kernel repeats
	 * 23:59:59, so the edge reads one second behind the label. */
	edge_true(&r, at(s - 1, SEC));
	ep = mkep(&r, at(s, 0), at(s, 300 * MS));
	ep.leap_second = true;
	assert_int_equal(feed(&r, &ep), PAIR_LEAP_SECOND);
	assert_false(pair_nmea_usable(r.pe));
	/* 00:00:00, a second later on the monotonic clock. */
	r.clk_off -= SEC;
	{
		struct pair_edge e = { at(s, 0) + SEC + r.clk_off,
				       at(s, 0) + SEC - T0 + MONO0, 0, 0 };
		assert_int_equal(pair_add_edge(r.pe, &e, &r.out), PAIR_PENDING);
	}
	r.clk_off += SEC;
	ep = mkep(&r, at(s, 0), at(s, 300 * MS));
	ep.burst_rx_mono_ns += SEC;
	assert_int_equal(feed(&r, &ep), PAIR_SAMPLE);
	assert_int_equal(r.out.label_ns, at(s, 0));
	assert_int_equal(r.out.offset_ns, -r.clk_off);
	assert_int_equal(r.out.leap, 0);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_LEAP_SECOND], 1);
	rig_close(&r);
}

static void test_missing_edge(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_NO_EDGE);
	s++;
	/* The next edge is 2 s after the last one: still periodic. */
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_NO_EDGE], 1);
	assert_int_equal(pair_get_stats(r.pe)->edges_aperiodic, 2);
	rig_close(&r);
}

static void test_missing_epoch(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* The first two edges after a pulse outage longer than PAIR_PERIOD_SPAN
 * cannot be told from noise; the third can. */
static void test_pps_outage(void **state)
{
	struct rig r;
	int64_t s, i;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	for (i = 0; i < PAIR_PERIOD_SPAN; i++, s++) {
		assert_int_equal(epoch(&r, s, 300 * MS), PAIR_NO_EDGE);
	}
	assert_int_equal(second(&r, s), PAIR_NO_EDGE);
	s++;
	assert_int_equal(second(&r, s), PAIR_NO_EDGE);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_int_equal(pair_get_stats(r.pe)->edges_aperiodic, 4);
	rig_close(&r);
}

static void test_spurious_edge_filtered(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	edge(&r, s, 170 * MS);                  /* noise */
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_SAMPLE);
	assert_sample(&r, s);
	s++;
	/* Genuine edge missing, noise in the window: still no sample. */
	edge(&r, s, 20 * MS);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_NO_EDGE);
	s++;
	/* Small timestamp jitter on the genuine edge is within tolerance. */
	edge(&r, s, 150 * US);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_SAMPLE);
	assert_int_equal(r.out.label_ns, at(s, 0));
	assert_int_equal(pair_get_stats(r.pe)->edges_aperiodic, 4);
	/* A stamp at or before the last sample's edge is not on the grid,
	 * even though older edges are whole seconds before it. */
	edge(&r, s, 150 * US);
	edge(&r, s - 1, 0);
	assert_int_equal(pair_get_stats(r.pe)->edges_aperiodic, 6);
	rig_close(&r);
}

/* A bounce within the period tolerance makes two candidates. */
static void test_ambiguous_bounce(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	edge(&r, s, 200 * US);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_AMBIGUOUS);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* With the period check off every edge is a candidate: a noise edge in the
 * window makes the epoch ambiguous, and when the genuine edge is missing
 * the guard is what stops it. */
static void test_ambiguous_no_period_check(void **state)
{
	const struct pair_stats *st;
	struct pair_config c;
	struct rig r;
	int64_t s;

	(void)state;
	pair_config_default(&c);
	c.period_tol_ns = 0;
	rig_open(&r, &c);
	s = rig_settle(&r);
	edge(&r, s, 0);
	edge(&r, s, 170 * MS);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_AMBIGUOUS);
	s++;
	edge(&r, s, 200 * MS);                  /* genuine missing */
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_GUARD);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	st = pair_get_stats(r.pe);
	assert_int_equal(st->held[PAIR_AMBIGUOUS], 1);
	assert_int_equal(st->held[PAIR_GUARD], 3);
	assert_int_equal(st->edges_aperiodic, 0);
	rig_close(&r);
}

/* Without the period check, a noise edge accepted within guard_ns must
 * not move the reference, or noise could walk it a second away. */
static void test_no_walk_without_period_check(void **state)
{
	struct pair_config c;
	struct rig r;
	int64_t s, i;

	(void)state;
	pair_config_default(&c);
	c.period_tol_ns = 0;
	rig_open(&r, &c);
	s = rig_settle(&r);
	edge(&r, s, 80 * MS);                   /* genuine missing */
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_SAMPLE);
	assert_int_equal(r.out.offset_ns, -r.clk_off - 80 * MS);
	s++;
	for (i = 0; i < 5; i++, s++) {
		edge(&r, s, 160 * MS);          /* 80 ms from the last one */
		assert_int_equal(epoch(&r, s, 300 * MS), PAIR_GUARD);
		s++;
		assert_int_equal(second(&r, s), PAIR_SAMPLE);
		assert_sample(&r, s);
	}
	rig_close(&r);
}

static void test_two_epochs_one_edge(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_SAMPLE);
	assert_int_equal(epoch(&r, s, 500 * MS), PAIR_AMBIGUOUS);
	rig_close(&r);
}

static void test_stale(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	/* The daemon was blocked: three more edges were fed before the
	 * epoch of second s. */
	edge(&r, s, 0);
	edge(&r, s + 1, 0);
	edge(&r, s + 2, 0);
	edge(&r, s + 3, 0);
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_STALE);
	/* Fed before the stale limit, it would still pair by timestamps. */
	assert_int_equal(epoch(&r, s + 2, 300 * MS), PAIR_SAMPLE);
	assert_sample(&r, s + 2);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_STALE], 1);
	rig_close(&r);
}

/* Without CLOCK_MONOTONIC_RAW stamps nothing pairs. */
static void test_untimed(void **state)
{
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	ep = mkep(&r, at(s, 0), at(s, 300 * MS));
	ep.burst_rx_mono_ns = 0;
	assert_int_equal(feed(&r, &ep), PAIR_UNTIMED);
	assert_true(pair_nmea_usable(r.pe));
	s++;
	r.no_mono = true;
	assert_int_equal(edge(&r, s, 0), PAIR_PENDING);
	r.no_mono = false;
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_NO_EDGE);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_UNTIMED], 1);
	assert_int_equal(pair_get_stats(r.pe)->edges_untimed, 1);
	rig_close(&r);
}

/* ---- the consistency guard ------------------------------------------ */

/* The system clock is stepped by 37 s: two pairings are held, the third
 * confirms the new offset. */
static void test_guard_clock_step(void **state)
{
	const struct pair_stats *st;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	r.clk_off += 37 * SEC;
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	assert_int_equal(r.out.offset_ns, -37 * SEC - 3 * MS);
	s++;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	st = pair_get_stats(r.pe);
	assert_int_equal(st->ref_changes, 1);
	assert_int_equal(st->held[PAIR_GUARD], 4);
	rig_close(&r);
}

/* The guard state the status report shows: warming up until the first
 * sample, locked while pairings agree, confirming through a clock step's
 * held pairings, locked again once confirmed. */
static void test_guard_state(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	assert_int_equal(pair_guard_state(r.pe), PAIR_GUARD_WARMING_UP);
	assert_string_equal(pair_guard_state_name(PAIR_GUARD_WARMING_UP),
			    "warming-up");
	s = rig_settle(&r);
	assert_int_equal(pair_guard_state(r.pe), PAIR_GUARD_LOCKED);
	r.clk_off += 37 * SEC;
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(pair_guard_state(r.pe), PAIR_GUARD_CONFIRMING);
	assert_string_equal(pair_guard_state_name(pair_guard_state(r.pe)),
			    "confirming");
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_int_equal(pair_guard_state(r.pe), PAIR_GUARD_LOCKED);
	assert_string_equal(pair_guard_state_name(PAIR_GUARD_LOCKED), "locked");
	assert_string_equal(pair_guard_state_name((enum pair_guard_state)9),
			    "?");
	rig_close(&r);
}

/* After a step the system clock may be slewed fast (chronyd: up to 83 ms
 * per second): the run still confirms. */
static void test_guard_step_while_slewing(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	r.clk_off += 37 * SEC;
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	r.clk_off -= 80 * MS;
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	r.clk_off -= 80 * MS;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	s++;
	r.clk_off -= 80 * MS;
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* A garbled label (one second early) that coincides with a step of the
 * system clock back by one second gives the old system-clock offset; the
 * offset on CLOCK_MONOTONIC_RAW still shows the jump, so it is held. */
static void test_guard_step_and_garble(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	r.clk_off -= SEC;
	edge(&r, s, 0);
	assert_int_equal(epoch_at(&r, s - 1, s, 300 * MS), PAIR_GUARD);
	s++;
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* The receiver's labels jump for good (it learnt the GPS-UTC offset, say):
 * held, warm-up restarts after the silence of consistent labels, then the
 * new labels are confirmed. */
static void test_guard_label_jump(void **state)
{
	const enum pair_result want[] = { PAIR_GUARD, PAIR_GUARD, PAIR_WARMUP,
					  PAIR_WARMUP, PAIR_GUARD, PAIR_GUARD,
					  PAIR_SAMPLE };
	struct rig r;
	int64_t s;
	size_t i;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++, s++) {
		edge(&r, s, 0);
		assert_int_equal(epoch_at(&r, s - 18, s, 300 * MS), want[i]);
		assert_false(pair_nmea_usable(r.pe) && i < 4);
	}
	assert_int_equal(r.out.label_ns, at(s - 1 - 18, 0));
	assert_int_equal(pair_get_stats(r.pe)->ref_changes, 1);
	rig_close(&r);
}

/* A step between an edge and its burst does not move the burst into
 * another window: the interval is taken on CLOCK_MONOTONIC_RAW. */
static void test_step_between_edge_and_burst(void **state)
{
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	edge(&r, s, 0);
	r.clk_off -= 700 * MS;
	assert_int_equal(epoch(&r, s, 300 * MS), PAIR_SAMPLE);
	assert_int_equal(r.out.label_ns, at(s, 0));
	assert_int_equal(r.out.edge_ns, at(s, 0) + 3 * MS);
	s++;
	assert_int_equal(second(&r, s), PAIR_GUARD);
	rig_close(&r);
}

/* Slow drift of the offset (a slewing system clock) is followed. */
static void test_guard_follows_drift(void **state)
{
	struct rig r;
	int64_t s, i;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	for (i = 0; i < 50; i++, s++) {
		r.clk_off += 40 * MS;
		assert_int_equal(second(&r, s), PAIR_SAMPLE);
		assert_sample(&r, s);
	}
	rig_close(&r);
}

/* A garbled label is held; the next good second passes. */
static void test_guard_single_mispairing(void **state)
{
	static const int64_t shift[] = { 1, -1, 2, 60, -3600, 86400 };
	struct rig r;
	int64_t s;
	size_t i;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	for (i = 0; i < sizeof(shift) / sizeof(shift[0]); i++) {
		edge(&r, s, 0);
		assert_int_equal(epoch_at(&r, s + shift[i], s, 300 * MS),
				 PAIR_GUARD);
		s++;
		assert_int_equal(second(&r, s), PAIR_SAMPLE);
		assert_sample(&r, s);
		s++;
	}
	rig_close(&r);
}

/* Held pairings confirm only with consecutive labels. */
static void test_guard_needs_consecutive(void **state)
{
	struct rig r;
	int64_t s, i;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	r.clk_off += 5 * SEC;
	for (i = 0; i < 10; i++) {
		assert_int_equal(second(&r, s), PAIR_GUARD);
		s += 2;                 /* every other epoch lost */
		edge(&r, s - 1, 0);
	}
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s++), PAIR_GUARD);
	assert_int_equal(second(&r, s), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* An epoch labelled with the next second that reaches the edge before
 * the genuine epoch makes the genuine one ambiguous, and that ambiguity
 * ends the run: a repeated pattern never confirms a wrong second. */
static void test_stolen_edges_never_confirm(void **state)
{
	struct rig r;
	int64_t s, i;

	(void)state;
	rig_open(&r, NULL);
	s = rig_settle(&r);
	for (i = 0; i < 20; i++, s++) {
		edge(&r, s, 0);
		assert_int_equal(epoch_at(&r, s + 1, s, 100 * MS), PAIR_GUARD);
		assert_int_equal(epoch(&r, s, 300 * MS), PAIR_AMBIGUOUS);
	}
	assert_int_equal(pair_get_stats(r.pe)->samples, 1);
	rig_close(&r);
}

/* Before any reference exists, confirm mutually consistent pairings are
 * needed: a garbled second among them restarts the count. */
static void test_guard_start(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, NULL);
	second(&r, 0);
	second(&r, 1);
	assert_int_equal(second(&r, 2), PAIR_GUARD);
	assert_int_equal(second(&r, 3), PAIR_GUARD);
	edge(&r, 4, 0);
	assert_int_equal(epoch_at(&r, 5, 4, 300 * MS), PAIR_GUARD);
	assert_int_equal(second(&r, 5), PAIR_GUARD);
	assert_int_equal(second(&r, 6), PAIR_GUARD);
	assert_int_equal(second(&r, 7), PAIR_SAMPLE);
	assert_sample(&r, 7);
	rig_close(&r);
}

static void test_confirm_one(void **state)
{
	struct pair_config c;
	struct rig r;

	(void)state;
	pair_config_default(&c);
	c.confirm = 1;
	c.min_valid = 1;
	rig_open(&r, &c);
	assert_int_equal(second(&r, 0), PAIR_NO_EDGE);  /* first edges */
	assert_int_equal(second(&r, 1), PAIR_NO_EDGE);
	assert_int_equal(second(&r, 2), PAIR_SAMPLE);
	r.clk_off += 37 * SEC;
	assert_int_equal(second(&r, 3), PAIR_SAMPLE);
	assert_sample(&r, 3);
	rig_close(&r);
}

/* ---- next_second mode ----------------------------------------------- */

static struct pair_config next_cfg(void)
{
	struct pair_config c;

	pair_config_default(&c);
	c.next_second = true;
	return c;
}

/* Epoch labelled sec, sent `d` before edge sec. */
static enum pair_result next_epoch(struct rig *r, int64_t sec, int64_t d)
{
	struct nmea_epoch ep = mkep(r, at(sec, 0), at(sec, -d));

	return feed(r, &ep);
}

static void test_next_second(void **state)
{
	struct pair_config c = next_cfg();
	const struct pair_stats *st;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, &c);
	for (s = 0; s < 2; s++) {
		assert_int_equal(next_epoch(&r, s, 400 * MS), PAIR_WARMUP);
		edge(&r, s, 0);
	}
	assert_int_equal(next_epoch(&r, 2, 400 * MS), PAIR_PENDING);
	assert_int_equal(edge(&r, 2, 0), PAIR_GUARD);
	assert_int_equal(next_epoch(&r, 3, 400 * MS), PAIR_PENDING);
	assert_int_equal(edge(&r, 3, 0), PAIR_GUARD);
	for (s = 4; s < 50; s++) {
		assert_int_equal(next_epoch(&r, s, 50 * MS + s * 18 * MS),
				 PAIR_PENDING);
		assert_int_equal(edge(&r, s, 0), PAIR_SAMPLE);
		assert_sample(&r, s);
	}
	/* Missing edge: the epoch is given up when the next edge shows
	 * that its window has passed. */
	assert_int_equal(next_epoch(&r, s, 400 * MS), PAIR_PENDING);
	s++;
	assert_int_equal(next_epoch(&r, s, 400 * MS), PAIR_PENDING);
	assert_int_equal(edge(&r, s, 0), PAIR_SAMPLE);
	assert_sample(&r, s);
	s++;
	/* Missing edge, given up by the next epoch. */
	assert_int_equal(next_epoch(&r, s, 700 * MS), PAIR_PENDING);
	s++;
	assert_int_equal(next_epoch(&r, s, 200 * MS), PAIR_PENDING);
	st = pair_get_stats(r.pe);
	assert_int_equal(st->held[PAIR_NO_EDGE], 2);
	assert_int_equal(edge(&r, s, 0), PAIR_SAMPLE);
	assert_sample(&r, s);
	s++;
	/* The edge came while the burst was still arriving: it is fed
	 * before the epoch, which pairs as it is fed. */
	edge(&r, s, 0);
	assert_int_equal(next_epoch(&r, s, 60 * MS), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* A leap second the kernel inserts, with a receiver that names the
 * coming pulse: true second L is 23:59:60 (POSIX label at(L, 0), the next
 * 00:00:00); from it on the system clock reads one second behind true,
 * the monotonic clock does not.  Each epoch is sent 400 ms before its
 * edge. */
static enum pair_result next_after_leap(struct rig *r, int64_t label,
					int64_t true_sec, bool leap)
{
	struct nmea_epoch ep = mkep(r, at(label, 0), at(true_sec, -400 * MS));

	ep.leap_second = leap;
	if (true_sec > label) {         /* sent after the repeated second */
		ep.burst_rx_ns -= SEC;
	}
	return feed(r, &ep);
}

static enum pair_result edge_after_leap(struct rig *r, int64_t true_sec)
{
	struct pair_edge e = { at(true_sec, 0) + r->clk_off - SEC,
			       at(true_sec, 0) - T0 + MONO0, 0, 0 };

	return pair_add_edge(r->pe, &e, &r->out);
}

static void test_next_second_leap(void **state)
{
	struct pair_config c = next_cfg();
	struct rig r;
	int64_t s, l;

	(void)state;
	rig_open(&r, &c);
	for (s = 0; s < 4; s++) {
		next_epoch(&r, s, 400 * MS);
		assert_int_not_equal(edge(&r, s, 0), PAIR_SAMPLE);
	}
	for (; s < 8; s++) {
		assert_int_equal(next_epoch(&r, s, 400 * MS), PAIR_PENDING);
		assert_int_equal(edge(&r, s, 0), PAIR_SAMPLE);
		assert_sample(&r, s);
	}
	l = s;
	/* 23:59:60 is announced before its pulse, which the repeated
	 * 23:59:59 stamps: neither is sent. */
	assert_int_equal(next_after_leap(&r, l, l, true), PAIR_LEAP_SECOND);
	assert_int_equal(edge_after_leap(&r, l), PAIR_PENDING);
	/* 00:00:00 and after: samples at once, on time, leap 0. */
	for (s = l + 1; s < l + 6; s++) {
		assert_int_equal(next_after_leap(&r, s - 1, s, false),
				 PAIR_PENDING);
		assert_int_equal(edge_after_leap(&r, s), PAIR_SAMPLE);
		assert_int_equal(r.out.label_ns, at(s - 1, 0));
		assert_int_equal(r.out.offset_ns, -r.clk_off);
		assert_int_equal(r.out.leap, 0);
	}
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_LEAP_SECOND], 1);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_GUARD], 2);
	rig_close(&r);
}

static void test_next_second_ambiguous(void **state)
{
	struct pair_config c = next_cfg();
	struct nmea_epoch ep;
	struct rig r;
	int64_t s;

	(void)state;
	rig_open(&r, &c);
	for (s = 0; s < 5; s++) {
		next_epoch(&r, s, 400 * MS);
		edge(&r, s, 0);
	}
	assert_int_equal(r.out.label_ns, at(4, 0));
	/* A spurious epoch and the genuine one both wait for edge s. */
	ep = mkep(&r, at(s + 7, 0), at(s, -600 * MS));
	assert_int_equal(feed(&r, &ep), PAIR_PENDING);
	assert_int_equal(next_epoch(&r, s, 400 * MS), PAIR_PENDING);
	assert_int_equal(edge(&r, s, 0), PAIR_AMBIGUOUS);
	assert_int_equal(pair_get_stats(r.pe)->held[PAIR_AMBIGUOUS], 2);
	s++;
	assert_int_equal(next_epoch(&r, s, 400 * MS), PAIR_PENDING);
	assert_int_equal(edge(&r, s, 0), PAIR_SAMPLE);
	assert_sample(&r, s);
	rig_close(&r);
}

/* ---- random ---------------------------------------------------------- */

/*
 * Random seconds: delay, jitter, missing edges and epochs, noise edges,
 * both modes, events fed in time order.  Every sample, whichever call
 * produced it, must name the second its edge began and carry that edge's
 * timestamp; after warm-up most clean seconds must pair.
 */
struct rnd_event {
	int64_t t;              /* true time */
	bool is_edge;
	int64_t label;          /* epochs */
};

static int rnd_cmp(const void *a, const void *b)
{
	const struct rnd_event *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

static bool rnd_feed(struct rig *r, const struct rnd_event *ev, int64_t *good)
{
	enum pair_result res;
	int64_t et;

	if (ev->is_edge) {
		res = edge_true(r, ev->t);
	} else {
		struct nmea_epoch ep = mkep(r, ev->label, ev->t);

		res = feed(r, &ep);
	}
	if (res != PAIR_SAMPLE) {
		return false;
	}
	/* Genuine edges carry at most 20 us of jitter; a noise edge can
	 * pair only within the period tolerance (500 us) of a genuine one. */
	et = r->out.edge_ns - r->clk_off;
	assert_true(et - r->out.label_ns <= 520 * US);
	assert_true(r->out.label_ns - et <= 520 * US);
	assert_int_equal(r->out.offset_ns, r->out.label_ns - r->out.edge_ns);
	*good += 1;
	return true;
}

static void run_random(bool next_second, int seconds)
{
	struct pair_config c;
	struct rig r;
	int64_t base = test_range(50, 900) * MS;
	int64_t s, clean = 0, samples = 0;

	pair_config_default(&c);
	c.next_second = next_second;
	rig_open(&r, &c);
	r.clk_off = test_range(-2 * SEC, 2 * SEC);
	for (s = 0; s < seconds; s++) {
		struct rnd_event ev[3];
		int64_t d = base + test_range(-40, 40) * MS;
		bool e_ok = test_uniform() > 0.05, p_ok = test_uniform() > 0.05;
		int n = 0, i;

		d = d < 50 * MS ? 50 * MS : d > 950 * MS ? 950 * MS : d;
		if (e_ok) {
			ev[n++] = (struct rnd_event){ at(s, test_range(-20, 20) * US),
						      true, 0 };
		}
		if (p_ok) {
			ev[n++] = (struct rnd_event){
				next_second ? at(s + 1, -d) : at(s, d), false,
				next_second ? at(s + 1, 0) : at(s, 0) };
		}
		if (test_uniform() < 0.1) {     /* noise */
			ev[n++] = (struct rnd_event){ at(s, test_range(1, SEC - 1)),
						      true, 0 };
		}
		qsort(ev, (size_t)n, sizeof(ev[0]), rnd_cmp);
		for (i = 0; i < n; i++) {
			rnd_feed(&r, &ev[i], &samples);
		}
		clean += e_ok && p_ok && s >= 10;
	}
	assert_int_equal(pair_get_stats(r.pe)->samples, samples);
	assert_true(samples >= clean * 85 / 100);
	rig_close(&r);
}

static void test_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		run_random(i % 2 == 1, 300);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_window_ends),
		cmocka_unit_test(test_ten_hz),
		cmocka_unit_test(test_warmup_jump),
		cmocka_unit_test(test_stand_in),
		cmocka_unit_test(test_stand_in_late),
		cmocka_unit_test(test_stand_in_held),
		cmocka_unit_test(test_stand_in_next_second),
		cmocka_unit_test(test_no_fix_and_warmup),
		cmocka_unit_test(test_warmup_gap),
		cmocka_unit_test(test_warm_garbled_not_usable),
		cmocka_unit_test(test_no_date),
		cmocka_unit_test(test_leap_second),
		cmocka_unit_test(test_missing_edge),
		cmocka_unit_test(test_missing_epoch),
		cmocka_unit_test(test_pps_outage),
		cmocka_unit_test(test_spurious_edge_filtered),
		cmocka_unit_test(test_ambiguous_bounce),
		cmocka_unit_test(test_ambiguous_no_period_check),
		cmocka_unit_test(test_no_walk_without_period_check),
		cmocka_unit_test(test_two_epochs_one_edge),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_untimed),
		cmocka_unit_test(test_guard_clock_step),
		cmocka_unit_test(test_guard_state),
		cmocka_unit_test(test_guard_step_while_slewing),
		cmocka_unit_test(test_guard_step_and_garble),
		cmocka_unit_test(test_guard_label_jump),
		cmocka_unit_test(test_step_between_edge_and_burst),
		cmocka_unit_test(test_guard_follows_drift),
		cmocka_unit_test(test_guard_single_mispairing),
		cmocka_unit_test(test_guard_needs_consecutive),
		cmocka_unit_test(test_stolen_edges_never_confirm),
		cmocka_unit_test(test_guard_start),
		cmocka_unit_test(test_confirm_one),
		cmocka_unit_test(test_next_second),
		cmocka_unit_test(test_next_second_leap),
		cmocka_unit_test(test_next_second_ambiguous),
		cmocka_unit_test(test_edge_extra),
		cmocka_unit_test(test_random),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

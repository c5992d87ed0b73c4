/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_simgen.c - the receiver simulator's burst generator: framing and
 * checksums, shared labels, date formats, rates, every fault, replay.
 *
 * Dates are checked against the C library's gmtime_r, not timeutil, so the
 * oracle is independent of the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "simgen.h"
#include "testseed.h"
#include "timeutil.h"

#define NS TU_NS_PER_SEC
/* 2017-01-01 00:00:00 UTC: the end of the 2016 leap second. */
#define LEAP_2016 INT64_C(1483228800)

#define MAX_LINES 64

/* One burst split into lines ('$' .. '*HH', CR LF removed). */
struct lines {
	char text[SIMGEN_BURST_MAX + 1];
	char *line[MAX_LINES];
	int n;
};

static void split_lines(const char *buf, int len, struct lines *l)
{
	char *p;

	assert_true(len >= 0 && len <= SIMGEN_BURST_MAX);
	memcpy(l->text, buf, (size_t)len);
	l->text[len] = '\0';
	l->n = 0;
	for (p = l->text; *p != '\0' && l->n < MAX_LINES;) {
		char *end = strstr(p, "\r\n");

		assert_non_null(end);
		*end = '\0';
		l->line[l->n++] = p;
		p = end + 2;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* True when s is "$...*HH" with HH the XOR of the bytes between. */
static bool checksum_ok(const char *s)
{
	const char *star = strrchr(s, '*');
	unsigned sum = 0;
	const char *p;

	if (s[0] != '$' || star == NULL || strlen(star) != 3 ||
	    hexval(star[1]) < 0 || hexval(star[2]) < 0) {
		return false;
	}
	for (p = s + 1; p < star; p++) {
		sum ^= (unsigned char)*p;
	}
	return sum == (unsigned)(hexval(star[1]) * 16 + hexval(star[2]));
}

/* Field i of a sentence (0 is "$GPRMC"), copied into out. */
static void field(const char *s, int i, char *out, size_t len)
{
	const char *p = s;
	size_t n;

	while (i-- > 0) {
		p = strchr(p, ',');
		assert_non_null(p);
		p++;
	}
	n = strcspn(p, ",*");
	assert_true(n < len);
	memcpy(out, p, n);
	out[n] = '\0';
}

static const char *find_type(const struct lines *l, const char *type)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (strncmp(l->line[i] + 3, type, 3) == 0) {
			return l->line[i];
		}
	}
	return NULL;
}

static struct simgen *make(struct simgen_options *o)
{
	char err[160] = "";
	struct simgen *g = simgen_create(o, err, sizeof(err));

	if (g == NULL) {
		fail_msg("simgen_create: %s", err);
	}
	return g;
}

static void all_sentences(struct simgen_options *o)
{
	assert_int_equal(simgen_parse_sentences(o, "RMC,GGA,ZDA,GLL,GNS,GSA,GSV,VTG",
						NULL, 0), 0);
}

static int gen(const struct simgen *g, int64_t slot, struct lines *l,
	       struct simgen_epoch *ep)
{
	char buf[SIMGEN_BURST_MAX];
	int n = simgen_epoch(g, slot, buf, sizeof(buf), ep);

	assert_true(n >= 0);
	split_lines(buf, n, l);
	return n;
}

/* Expected hhmmss and dates of a POSIX second, from the C library.  A
 * 32-bit time_t (armhf) ends in 2038: later seconds go back by whole
 * 28-year cycles (10227 days, 1461 weeks), over which 1901-2099 repeats day
 * for day since every 4th year there is a leap year, and the year forward
 * again.  The tests draw seconds up to 2099-12-31. */
static void expect_tm(int64_t sec, struct tm *tm)
{
	const int64_t cycle = INT64_C(10227) * 86400;
	int years = 0;
	time_t t;

	assert_true(sec < INT64_C(4102444800));
	while ((int64_t)(time_t)sec != sec) {
		sec -= cycle;
		years += 28;
	}
	t = (time_t)sec;
	assert_non_null(gmtime_r(&t, tm));
	tm->tm_year += years;
}

static void assert_time_field(const char *got, const struct tm *tm,
			      const char *frac)
{
	char want[64];

	snprintf(want, sizeof(want), "%02d%02d%02d%s", tm->tm_hour, tm->tm_min,
		 tm->tm_sec, frac);
	assert_string_equal(got, want);
}

/* ---- framing, checksums, labels, dates ---- */

static void test_framing_and_checksums(void **state)
{
	static const char *talkers[] = { "GP", "GN", "GL", "GA", "BD" };
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	int k, i;

	for (k = 0; k < 200; k++) {
		int64_t sec = test_range(946684800, 4102444799);

		simgen_options_init(&o);
		all_sentences(&o);
		strcpy(o.talker, talkers[test_range(0, 4)]);
		g = make(&o);
		gen(g, sec * NS, &l, &ep);
		assert_int_equal(l.n, 10);  /* GSV is three sentences */
		assert_int_equal(ep.faults, 0);
		for (i = 0; i < l.n; i++) {
			assert_true(checksum_ok(l.line[i]));
			assert_memory_equal(l.line[i] + 1, o.talker, 2);
			/* 82 with CR LF is the standard's limit */
			assert_true(strlen(l.line[i]) + 2 <= 82);
		}
		simgen_destroy(g);
	}
}

static void test_labels_and_dates(void **state)
{
	static const struct {
		const char *type;
		int time_field;
	} timed[] = {
		{ "RMC", 1 }, { "GGA", 1 }, { "ZDA", 1 }, { "GLL", 5 },
		{ "GNS", 1 },
	};
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	char f[32], want[48];
	struct tm tm;
	size_t i;
	int k;

	simgen_options_init(&o);
	all_sentences(&o);
	g = make(&o);
	for (k = 0; k < 500; k++) {
		int64_t sec = test_range(946684800, 4102444799);

		gen(g, sec * NS, &l, &ep);
		assert_int_equal(ep.label_ns, sec * NS);
		expect_tm(sec, &tm);
		for (i = 0; i < sizeof(timed) / sizeof(timed[0]); i++) {
			field(find_type(&l, timed[i].type), timed[i].time_field,
			      f, sizeof(f));
			assert_time_field(f, &tm, ".000");
		}
		field(find_type(&l, "RMC"), 9, f, sizeof(f));
		snprintf(want, sizeof(want), "%02d%02d%02d", tm.tm_mday,
			 tm.tm_mon + 1, tm.tm_year % 100);
		assert_string_equal(f, want);
		field(find_type(&l, "ZDA"), 4, f, sizeof(f));
		assert_int_equal(atoi(f), tm.tm_year + 1900);
		assert_int_equal(strlen(f), 4);
		field(find_type(&l, "ZDA"), 3, f, sizeof(f));
		assert_int_equal(atoi(f), tm.tm_mon + 1);
		field(find_type(&l, "ZDA"), 2, f, sizeof(f));
		assert_int_equal(atoi(f), tm.tm_mday);
	}
	simgen_destroy(g);
}

static void test_fix_fields(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	char f[32];

	simgen_options_init(&o);
	all_sentences(&o);
	strcpy(o.talker, "GN");
	g = make(&o);
	gen(g, LEAP_2016 * NS, &l, &ep);
	field(find_type(&l, "RMC"), 2, f, sizeof(f));
	assert_string_equal(f, "A");
	field(find_type(&l, "RMC"), 12, f, sizeof(f));
	assert_string_equal(f, "A");
	field(find_type(&l, "GGA"), 6, f, sizeof(f));
	assert_string_equal(f, "1");
	field(find_type(&l, "GLL"), 6, f, sizeof(f));
	assert_string_equal(f, "A");
	field(find_type(&l, "GNS"), 6, f, sizeof(f));
	assert_string_equal(f, "AA");
	field(find_type(&l, "GSA"), 2, f, sizeof(f));
	assert_string_equal(f, "3");
	simgen_destroy(g);
}

/* ---- rates ---- */

static void check_rate(int rate, int decimals, const char *const *fracs)
{
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	int64_t base = test_range(946684800, 4102444799) * NS;
	char f[32];
	struct tm tm;
	int k;

	simgen_options_init(&o);
	o.rate_hz = rate;
	o.decimals = decimals;
	g = make(&o);
	assert_int_equal(simgen_interval_ns(g), NS / rate);
	expect_tm(base / NS, &tm);
	for (k = 0; k < rate; k++) {
		gen(g, base + k * simgen_interval_ns(g), &l, &ep);
		assert_int_equal(ep.label_ns, base + k * (NS / rate));
		field(find_type(&l, "RMC"), 1, f, sizeof(f));
		assert_time_field(f, &tm, fracs[k]);
		field(find_type(&l, "GGA"), 1, f, sizeof(f));
		assert_time_field(f, &tm, fracs[k]);
	}
	simgen_destroy(g);
}

static void test_rates(void **state)
{
	static const char *const one[] = { "" };
	static const char *const five[] = { ".000", ".200", ".400", ".600",
					    ".800" };
	static const char *const ten2[] = { ".00", ".10", ".20", ".30", ".40",
					    ".50", ".60", ".70", ".80", ".90" };

	check_rate(1, 0, one);
	check_rate(5, 3, five);
	check_rate(10, 2, ten2);
}

static void test_rate_ten_one_decimal(void **state)
{
	static const char *const ten[] = { ".0", ".1", ".2", ".3", ".4", ".5",
					   ".6", ".7", ".8", ".9" };

	check_rate(10, 1, ten);
}

/* ---- faults ---- */

static void test_badsum(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	int k, i, bad;

	simgen_options_init(&o);
	all_sentences(&o);
	o.seed = test_rand();
	o.fault_rate[SIMGEN_FAULT_BADSUM] = 1.0;
	g = make(&o);
	for (k = 0; k < 300; k++) {
		gen(g, (LEAP_2016 + k) * NS, &l, &ep);
		assert_true(ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_BADSUM));
		bad = -1;
		for (i = 0; i < l.n; i++) {
			if (!checksum_ok(l.line[i])) {
				assert_int_equal(bad, -1);
				bad = i;
			}
		}
		assert_int_equal(bad, ep.badsum_index);
	}
	simgen_destroy(g);
}

/* The garbage burst is the clean burst (same seed: the other decisions do
 * not change) with 1-16 bytes inserted after a sentence's LF. */
static void test_garbage(void **state)
{
	struct simgen_options o;
	struct simgen *clean, *dirty;
	char a[SIMGEN_BURST_MAX], b[SIMGEN_BURST_MAX];
	struct simgen_epoch ea, eb;
	bool nul = false, high = false;
	int k, na, nb, pre;

	simgen_options_init(&o);
	assert_int_equal(simgen_parse_sentences(&o, "RMC,GGA,GSV", NULL, 0), 0);
	o.seed = test_rand();
	clean = make(&o);
	o.fault_rate[SIMGEN_FAULT_GARBAGE] = 1.0;
	dirty = make(&o);
	for (k = 0; k < 500; k++) {
		na = simgen_epoch(clean, (LEAP_2016 + k) * NS, a, sizeof(a), &ea);
		nb = simgen_epoch(dirty, (LEAP_2016 + k) * NS, b, sizeof(b), &eb);
		assert_true(eb.faults & SIMGEN_FBIT(SIMGEN_FAULT_GARBAGE));
		assert_in_range(nb - na, 1, 16);
		assert_int_equal(b[0], '$');
		/* the common prefix may run into the garbage by chance: the
		 * insertion point is the line start at or before its end */
		for (pre = 0; pre < na && a[pre] == b[pre]; pre++) {
		}
		for (; pre > 0 && a[pre - 1] != '\n'; pre--) {
		}
		assert_true(pre > 0 && pre < na);
		assert_memory_equal(a + pre, b + pre + (nb - na), (size_t)(na - pre));
		nul |= memchr(b, '\0', (size_t)nb) != NULL;
		for (int i = 0; i < nb; i++) {
			high |= (unsigned char)b[i] >= 0x80;
		}
	}
	assert_true(nul);
	assert_true(high);
	simgen_destroy(clean);
	simgen_destroy(dirty);
}

static void test_fixloss_fields(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	char f[32];
	int i;

	simgen_options_init(&o);
	all_sentences(&o);
	o.fault_rate[SIMGEN_FAULT_FIXLOSS] = 1.0;
	g = make(&o);
	gen(g, LEAP_2016 * NS, &l, &ep);
	assert_true(ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_FIXLOSS));
	for (i = 0; i < l.n; i++) {
		assert_true(checksum_ok(l.line[i]));
	}
	field(find_type(&l, "RMC"), 2, f, sizeof(f));
	assert_string_equal(f, "V");
	field(find_type(&l, "RMC"), 12, f, sizeof(f));
	assert_string_equal(f, "N");
	field(find_type(&l, "RMC"), 9, f, sizeof(f));
	assert_string_equal(f, "010117");  /* the date is still sent */
	field(find_type(&l, "GGA"), 6, f, sizeof(f));
	assert_string_equal(f, "0");
	field(find_type(&l, "GLL"), 6, f, sizeof(f));
	assert_string_equal(f, "V");
	field(find_type(&l, "GNS"), 6, f, sizeof(f));
	assert_string_equal(f, "N");
	simgen_destroy(g);
}

/* Losses of fix come in runs of whole seconds, at least 2 s long, and
 * every epoch of a second agrees. */
static void test_fixloss_runs(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	char buf[SIMGEN_BURST_MAX];
	struct simgen_epoch ep;
	int64_t base = test_range(946684800, 4102444799);
	int k, j, run = 0, runs = 0, lost = 0;
	bool first_sub;

	simgen_options_init(&o);
	o.rate_hz = 5;
	o.seed = test_rand();
	o.fault_rate[SIMGEN_FAULT_FIXLOSS] = 0.05;
	g = make(&o);
	for (k = 0; k < 4000; k++) {
		simgen_epoch(g, (base + k) * NS, buf, sizeof(buf), &ep);
		first_sub = (ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_FIXLOSS)) != 0;
		for (j = 1; j < 5; j++) {
			simgen_epoch(g, (base + k) * NS + j * 200000000, buf,
				     sizeof(buf), &ep);
			assert_int_equal(first_sub,
				(ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_FIXLOSS)) != 0);
		}
		if (first_sub) {
			run++;
			lost++;
		} else {
			/* a run under way at k = 0 began before the window */
			if (run > 0 && run < k) {
				assert_true(run >= 2);
				runs++;
			}
			run = 0;
		}
	}
	/* about 4000 * 0.05 starts, 2-10 s each, some merged */
	assert_true(runs > 50);
	assert_true(lost > 400 && lost < 2400);
	simgen_destroy(g);
}

static void test_missing(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	char buf[SIMGEN_BURST_MAX];
	struct simgen_epoch ep;
	int k, n, missing = 0;

	simgen_options_init(&o);
	o.seed = test_rand();
	o.fault_rate[SIMGEN_FAULT_MISSING] = 0.3;
	g = make(&o);
	for (k = 0; k < 5000; k++) {
		n = simgen_epoch(g, (LEAP_2016 + k) * NS, buf, sizeof(buf), &ep);
		if (ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_MISSING)) {
			assert_int_equal(n, 0);
			assert_int_equal(ep.len, 0);
			missing++;
		} else {
			assert_true(n > 0);
			assert_int_equal(buf[0], '$');
		}
	}
	/* binomial(5000, 0.3): mean 1500, sd 32; 6 sd either side */
	assert_in_range(missing, 1500 - 195, 1500 + 195);
	simgen_destroy(g);
}

static void test_fault_rate_badsum(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	char buf[SIMGEN_BURST_MAX];
	struct simgen_epoch ep;
	int k, hits = 0;

	simgen_options_init(&o);
	o.seed = test_rand();
	o.rate_hz = 10;
	o.fault_rate[SIMGEN_FAULT_BADSUM] = 0.1;
	g = make(&o);
	for (k = 0; k < 10000; k++) {
		simgen_epoch(g, LEAP_2016 * NS + (int64_t)k * 100000000, buf, sizeof(buf),
			     &ep);
		hits += (ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_BADSUM)) != 0;
	}
	/* binomial(10000, 0.1): mean 1000, sd 30 */
	assert_in_range(hits, 1000 - 180, 1000 + 180);
	simgen_destroy(g);
}

static void test_rollover(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	struct lines l;
	struct simgen_epoch ep;
	char f[32], want[48];
	struct tm tm;
	int k;

	simgen_options_init(&o);
	all_sentences(&o);
	o.fault_rate[SIMGEN_FAULT_ROLLOVER] = 1.0;
	g = make(&o);
	for (k = 0; k < 200; k++) {
		int64_t sec = test_range(1577836800, 4102444799);

		gen(g, sec * NS, &l, &ep);
		assert_true(ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_ROLLOVER));
		assert_int_equal(ep.label_ns, sec * NS);
		expect_tm(sec - 7168 * INT64_C(86400), &tm);
		field(find_type(&l, "RMC"), 9, f, sizeof(f));
		snprintf(want, sizeof(want), "%02d%02d%02d", tm.tm_mday,
			 tm.tm_mon + 1, tm.tm_year % 100);
		assert_string_equal(f, want);
		field(find_type(&l, "ZDA"), 4, f, sizeof(f));
		assert_int_equal(atoi(f), tm.tm_year + 1900);
		field(find_type(&l, "RMC"), 1, f, sizeof(f));
		assert_time_field(f, &tm, ".000");
	}
	simgen_destroy(g);
}

/* ---- leap second ---- */

static void expect_epoch(const struct simgen *g, int64_t slot,
			 const char *time, const char *rmc_date,
			 const char *zda_date, bool leap, int64_t label)
{
	struct lines l;
	struct simgen_epoch ep;
	char f[32], d[8], m[8], y[8], z[64];

	gen(g, slot, &l, &ep);
	assert_int_equal(ep.leap, leap);
	assert_int_equal(ep.label_ns, label);
	assert_int_equal(ep.slot_ns, slot);
	assert_int_equal((ep.faults & SIMGEN_FBIT(SIMGEN_FAULT_LEAP)) != 0, leap);
	field(find_type(&l, "RMC"), 1, f, sizeof(f));
	assert_string_equal(f, time);
	field(find_type(&l, "GGA"), 1, f, sizeof(f));
	assert_string_equal(f, time);
	field(find_type(&l, "RMC"), 9, f, sizeof(f));
	assert_string_equal(f, rmc_date);
	field(find_type(&l, "ZDA"), 2, d, sizeof(d));
	field(find_type(&l, "ZDA"), 3, m, sizeof(m));
	field(find_type(&l, "ZDA"), 4, y, sizeof(y));
	snprintf(z, sizeof(z), "%s.%s.%s", d, m, y);
	assert_string_equal(z, zda_date);
}

static void test_leap_midnight(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	int64_t m = LEAP_2016 * NS;

	simgen_options_init(&o);
	assert_int_equal(simgen_parse_sentences(&o, "RMC,GGA,ZDA", NULL, 0), 0);
	o.leap = true;
	o.leap_ns = m;
	g = make(&o);
	expect_epoch(g, m - NS, "235959.000", "311216", "31.12.2016", false,
		     m - NS);
	expect_epoch(g, m, "235960.000", "311216", "31.12.2016", true, m);
	expect_epoch(g, m + NS, "000000.000", "010117", "01.01.2017", false, m);
	expect_epoch(g, m + 2 * NS, "000001.000", "010117", "01.01.2017", false,
		     m + NS);
	simgen_destroy(g);
}

static void test_leap_five_hz_other_minute(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	/* 2017-01-01 12:35:00, so the inserted second is 12:34:60 */
	int64_t m = (LEAP_2016 + 12 * 3600 + 35 * 60) * NS;

	simgen_options_init(&o);
	assert_int_equal(simgen_parse_sentences(&o, "RMC,GGA,ZDA", NULL, 0), 0);
	o.rate_hz = 5;
	o.leap = true;
	o.leap_ns = m;
	g = make(&o);
	expect_epoch(g, m - NS / 5, "123459.800", "010117", "01.01.2017", false,
		     m - NS / 5);
	expect_epoch(g, m + 2 * NS / 5, "123460.400", "010117", "01.01.2017",
		     true, m + 2 * NS / 5);
	expect_epoch(g, m + 4 * NS / 5, "123460.800", "010117", "01.01.2017",
		     true, m + 4 * NS / 5);
	expect_epoch(g, m + NS, "123500.000", "010117", "01.01.2017", false, m);
	simgen_destroy(g);
}

/* ---- replay and helpers ---- */

static void test_replay(void **state)
{
	struct simgen_options o;
	struct simgen *g1, *g2, *g3;
	char a[SIMGEN_BURST_MAX], b[SIMGEN_BURST_MAX];
	struct simgen_epoch ea, eb;
	int64_t base = test_range(946684800, 4102444799) * NS;
	int k, na, nb, differ = 0;

	simgen_options_init(&o);
	all_sentences(&o);
	o.seed = test_rand();
	for (k = 0; k < SIMGEN_FAULT_LEAP; k++) {
		o.fault_rate[k] = 0.3;
	}
	g1 = make(&o);
	g2 = make(&o);
	o.seed++;
	g3 = make(&o);
	/* g2 runs backwards: a burst does not depend on earlier ones */
	for (k = 0; k < 100; k++) {
		na = simgen_epoch(g1, base + k * NS, a, sizeof(a), &ea);
		nb = simgen_epoch(g2, base + k * NS, b, sizeof(b), &eb);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, (size_t)na);
		assert_int_equal(ea.faults, eb.faults);
		nb = simgen_epoch(g3, base + k * NS, b, sizeof(b), &eb);
		differ += na != nb || memcmp(a, b, (size_t)na) != 0;
	}
	for (k = 99; k >= 0; k--) {
		na = simgen_epoch(g1, base + k * NS, a, sizeof(a), &ea);
		nb = simgen_epoch(g2, base + k * NS, b, sizeof(b), &eb);
		assert_memory_equal(a, b, (size_t)na);
	}
	assert_true(differ > 50);
	simgen_destroy(g1);
	simgen_destroy(g2);
	simgen_destroy(g3);
}

static void test_options_rejected(void **state)
{
	struct simgen_options o;
	char err[160];

	simgen_options_init(&o);
	strcpy(o.talker, "g1");
	assert_null(simgen_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "talker"));
	simgen_options_init(&o);
	o.rate_hz = 2;
	assert_null(simgen_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "rate"));
	simgen_options_init(&o);
	o.rate_hz = 5;
	o.decimals = 0;
	assert_null(simgen_create(&o, err, sizeof(err)));
	simgen_options_init(&o);
	o.fault_rate[SIMGEN_FAULT_GARBAGE] = 1.5;
	assert_null(simgen_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "garbage"));
	simgen_options_init(&o);
	o.leap = true;
	o.leap_ns = LEAP_2016 * NS + NS;
	assert_null(simgen_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "minute"));
}

static void test_parse_sentences(void **state)
{
	struct simgen_options o;
	char err[160];

	simgen_options_init(&o);
	assert_int_equal(simgen_parse_sentences(&o, "zda,Rmc,GSV", err,
						sizeof(err)), 0);
	assert_int_equal(o.nsentences, 3);
	assert_int_equal(o.sentences[0], SIMGEN_ZDA);
	assert_int_equal(o.sentences[1], SIMGEN_RMC);
	assert_int_equal(o.sentences[2], SIMGEN_GSV);
	assert_int_equal(simgen_parse_sentences(&o, "RMC,XYZ", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "XYZ"));
	assert_int_equal(simgen_parse_sentences(&o, "RMC,,GGA", err,
						sizeof(err)), -EINVAL);
	assert_int_equal(simgen_parse_sentences(&o, "", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(simgen_parse_sentences(&o,
		"RMC,RMC,RMC,RMC,RMC,RMC,RMC,RMC,RMC,RMC,RMC,RMC,RMC", err,
		sizeof(err)), -EINVAL);
	assert_int_equal(o.nsentences, 3);  /* unchanged on error */
	assert_int_equal(simgen_fault_from_name("Garbage"),
			 SIMGEN_FAULT_GARBAGE);
	assert_int_equal(simgen_fault_from_name("nope"), -1);
}

/* Floods: each kind's bytes, and a fill cut anywhere gives the same
 * stream. */
static void test_flood(void **state)
{
	struct simgen_flood_state a, b;
	char x[3000], y[3000];
	size_t i, dollars = 0, nonzero = 0;

	(void)state;
	assert_int_equal(simgen_flood_from_name("LongLine"),
			 SIMGEN_FLOOD_LONGLINE);
	assert_int_equal(simgen_flood_from_name("flood"), -1);
	simgen_flood_init(&a, SIMGEN_FLOOD_LONGLINE, 1);
	simgen_flood_fill(&a, x, sizeof(x));
	for (i = 0; i < sizeof(x); i++) {
		assert_true(x[i] != '\r' && x[i] != '\n' && x[i] != '*');
		assert_true(x[i] >= 0x20 && x[i] < 0x7f);
		assert_int_equal(x[i] == '$', i % SIMGEN_FLOOD_LINE == 0);
	}
	simgen_flood_init(&a, SIMGEN_FLOOD_NUL, 1);
	simgen_flood_fill(&a, x, 100);
	simgen_flood_init(&b, SIMGEN_FLOOD_DOLLAR, 1);
	simgen_flood_fill(&b, y, 100);
	for (i = 0; i < 100; i++) {
		assert_int_equal(x[i], 0);
		assert_int_equal(y[i], '$');
	}
	simgen_flood_init(&a, SIMGEN_FLOOD_RANDOM, 7);
	simgen_flood_fill(&a, x, sizeof(x));
	simgen_flood_init(&b, SIMGEN_FLOOD_RANDOM, 7);
	simgen_flood_fill(&b, y, 5);
	simgen_flood_fill(&b, y + 5, 1001);
	simgen_flood_fill(&b, y + 1006, sizeof(y) - 1006);
	assert_memory_equal(x, y, sizeof(x));
	for (i = 0; i < sizeof(x); i++) {
		dollars += x[i] == '$';
		nonzero += x[i] != 0;
	}
	/* about 3000/256 of each value */
	assert_true(dollars >= 2 && dollars <= 30);
	assert_true(nonzero > 2900);
	simgen_flood_init(&b, SIMGEN_FLOOD_RANDOM, 8);
	simgen_flood_fill(&b, y, sizeof(y));
	assert_memory_not_equal(x, y, sizeof(x));
}

static void test_jitter_and_nominal(void **state)
{
	struct simgen_options o;
	struct simgen *g;
	char buf[SIMGEN_BURST_MAX];
	struct simgen_epoch ep;
	int64_t w = 20 * TU_NS_PER_MS, j, lo = w, hi = -w;
	double sum = 0;
	int k;

	simgen_options_init(&o);
	o.seed = test_rand();
	g = make(&o);
	for (k = 0; k < 10000; k++) {
		j = simgen_jitter_ns(g, (LEAP_2016 + k) * NS, w);
		assert_in_range(j + w / 2, 0, w);
		assert_int_equal(j, simgen_jitter_ns(g, (LEAP_2016 + k) * NS, w));
		lo = j < lo ? j : lo;
		hi = j > hi ? j : hi;
		sum += (double)j;
	}
	assert_true(lo < -w / 2 + w / 100 && hi > w / 2 - w / 100);
	assert_true(sum / 10000 > -0.02 * (double)w &&
		    sum / 10000 < 0.02 * (double)w);
	assert_int_equal(simgen_jitter_ns(g, LEAP_2016 * NS, 0), 0);
	assert_int_equal(simgen_nominal_len(g),
			 simgen_epoch(g, LEAP_2016 * NS, buf, sizeof(buf), &ep));
	assert_int_equal(simgen_epoch(g, LEAP_2016 * NS, buf, 10, &ep), -1);
	simgen_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_and_checksums),
		cmocka_unit_test(test_labels_and_dates),
		cmocka_unit_test(test_fix_fields),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_rate_ten_one_decimal),
		cmocka_unit_test(test_badsum),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_fixloss_fields),
		cmocka_unit_test(test_fixloss_runs),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_fault_rate_badsum),
		cmocka_unit_test(test_rollover),
		cmocka_unit_test(test_leap_midnight),
		cmocka_unit_test(test_leap_five_hz_other_minute),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_options_rejected),
		cmocka_unit_test(test_parse_sentences),
		cmocka_unit_test(test_jitter_and_nominal),
		cmocka_unit_test(test_flood),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

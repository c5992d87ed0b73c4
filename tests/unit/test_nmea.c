/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_nmea.c - the NMEA decoder: exact cases for every sentence kind,
 * framing faults, dating (midnight, leap second, rollover), bursts, and a
 * random round trip (GPSPPS_TEST_SEED replays it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "nmea.h"
#include "testseed.h"
#include "timeutil.h"

#define SEC TU_NS_PER_SEC
#define MS TU_NS_PER_MS
#define DAY (TU_SEC_PER_DAY * SEC)
#define ROLLOVER (TU_GPS_ROLLOVER_SEC * SEC)
#define MAX_EPOCHS 4096

/* ---- helpers ----------------------------------------------------------- */

static int64_t date_ns(int64_t y, int m, int d)
{
	return tu_days_from_civil(y, m, d) * DAY;
}

static int64_t utc_ns(int64_t y, int m, int d, int hh, int mm, int ss)
{
	return date_ns(y, m, d) + ((hh * 60 + mm) * 60 + ss) * SEC;
}

/* "$body*HH\r\n" with a correct checksum (lower-case hex if lower). */
static void render(char *out, size_t size, const char *body, bool lower)
{
	unsigned sum = 0;

	for (const char *p = body; *p; p++) {
		sum ^= (unsigned char)*p;
	}
	snprintf(out, size, lower ? "$%s*%02x\r\n" : "$%s*%02X\r\n", body, sum);
}

/* A rendered sentence from a printf-style body (a static buffer). */
static const char *sentence(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *sentence(const char *fmt, ...)
{
	static char out[512];
	char body[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	render(out, sizeof(out), body, false);
	return out;
}

static struct nmea_decoder *new_decoder(int64_t floor_y)
{
	struct nmea_options opt = {
		.rollover_floor = date_ns(floor_y, 1, 1) / SEC,
	};
	struct nmea_decoder *dec = nmea_decoder_create(&opt);

	assert_non_null(dec);
	return dec;
}

static void feed(struct nmea_decoder *dec, const char *s)
{
	nmea_feed(dec, s, strlen(s), 0, 0);
}

/* Flush and take every epoch; returns the count. */
static size_t drain(struct nmea_decoder *dec, struct nmea_epoch *ep,
		    size_t max)
{
	size_t n = 0;

	nmea_flush(dec);
	while (n < max && nmea_next_epoch(dec, &ep[n])) {
		n++;
	}
	return n;
}

/* Decode one string and expect exactly one epoch. */
static struct nmea_epoch one_epoch(struct nmea_decoder *dec, const char *s)
{
	struct nmea_epoch ep[4];

	feed(dec, s);
	assert_int_equal(drain(dec, ep, 4), 1);
	return ep[0];
}

/* ---- sentence kinds ---------------------------------------------------- */

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(nmea_kind_name(NMEA_RMC), "RMC");
	assert_string_equal(nmea_kind_name(NMEA_GGA), "GGA");
	assert_string_equal(nmea_kind_name(NMEA_ZDA), "ZDA");
	assert_string_equal(nmea_kind_name(NMEA_GLL), "GLL");
	assert_string_equal(nmea_kind_name(NMEA_GNS), "GNS");
	assert_string_equal(nmea_kind_name(NMEA_RMC | NMEA_GGA), "?");
	assert_string_equal(nmea_kind_name(0), "?");
}

/* The mt3339 capture's first epoch, as in the replay example. */
static void test_rmc_gga_zda_epoch(void **state)
{
	struct nmea_decoder *dec = new_decoder(2010);
	struct nmea_epoch ep;

	(void)state;
	feed(dec, "$GPGGA,202640.000,4404.1306,N,12118.8515,W,2,10,0.98,"
	     "1127.7,M,-19.6,M,0000,0000*6C\r\n");
	feed(dec, "$GPGSA,A,3,20,16,09,03,07,10,23,19,27,30,,,1.64,0.98,"
	     "1.31*05\r\n");
	feed(dec, "$GPRMC,202640.000,A,4404.1306,N,12118.8515,W,0.03,225.97,"
	     "130415,,,D*73\r\n");
	ep = one_epoch(dec, "$GPZDA,202640.000,13,04,2015,,*54\r\n");
	assert_true(ep.date_known);
	assert_true(ep.valid);
	assert_false(ep.leap_second);
	assert_false(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, utc_ns(2015, 4, 13, 20, 26, 40));
	assert_int_equal(ep.sentences, NMEA_GGA | NMEA_RMC | NMEA_ZDA);
	assert_string_equal(ep.talker, "GP");
	assert_int_equal(nmea_get_stats(dec)->sentences, 4);
	assert_int_equal(nmea_get_stats(dec)->epochs, 1);
	assert_int_equal(nmea_get_stats(dec)->dropped_bytes, 0);
	nmea_decoder_destroy(dec);
}

static const char *const talkers[] = {
	"GP", "GN", "GL", "GA", "GB", "BD", "GQ", "QZ", "GI",
};

/* Body of a sentence of one kind at 12:34:56 on 2030-07-15, with a fix. */
static void kind_body(char *body, size_t size, unsigned kind, const char *t)
{
	switch (kind) {
	case NMEA_RMC:
		snprintf(body, size, "%sRMC,123456.00,A,4807.038,N,01131.000,"
			 "E,022.4,084.4,150730,003.1,W,A", t);
		break;
	case NMEA_ZDA:
		snprintf(body, size, "%sZDA,123456.00,15,07,2030,00,00", t);
		break;
	case NMEA_GGA:
		snprintf(body, size, "%sGGA,123456.00,4807.038,N,01131.000,E,"
			 "1,08,0.9,545.4,M,46.9,M,,", t);
		break;
	case NMEA_GLL:
		snprintf(body, size, "%sGLL,4807.038,N,01131.000,E,123456.00,"
			 "A,A", t);
		break;
	default:
		snprintf(body, size, "%sGNS,123456.00,4807.038,N,01131.000,E,"
			 "AAN,12,0.9,545.4,46.9,,,V", t);
		break;
	}
}

/* Every kind with every talker: time-only kinds get the date of an RMC
 * one second earlier. */
static void test_every_kind_and_talker(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof(talkers) / sizeof(talkers[0]); t++) {
		for (unsigned k = 0; k < NMEA_KIND_COUNT; k++) {
			struct nmea_decoder *dec = new_decoder(2026);
			struct nmea_epoch ep[4];
			char body[200], line[256];

			feed(dec, sentence("GPRMC,123455.00,A,4807.038,N,"
					   "01131.000,E,0,0,150730,,,A"));
			kind_body(body, sizeof(body), 1u << k, talkers[t]);
			render(line, sizeof(line), body, false);
			feed(dec, line);
			assert_int_equal(drain(dec, ep, 4), 2);
			assert_int_equal(ep[1].sentences, 1u << k);
			assert_string_equal(ep[1].talker, talkers[t]);
			assert_true(ep[1].date_known);
			assert_true(ep[1].valid);
			assert_int_equal(ep[1].time_ns,
					 utc_ns(2030, 7, 15, 12, 34, 56));
			nmea_decoder_destroy(dec);
		}
	}
}

/* Time-of-day validity of each kind. */
static void check_valid(const char *body, bool valid)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;

	ep = one_epoch(dec, sentence("%s", body));
	if (ep.valid != valid) {
		fail_msg("%s: valid %d, expected %d", body, ep.valid, valid);
	}
	nmea_decoder_destroy(dec);
}

static void test_validity(void **state)
{
	(void)state;
	check_valid("GPRMC,120000,A,1,N,2,E,0,0,150730,,", true);
	check_valid("GPRMC,120000,V,1,N,2,E,0,0,150730,,", false);
	check_valid("GPRMC,120000,,1,N,2,E,0,0,150730,,", false);
	check_valid("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A", true);
	check_valid("GPRMC,120000,A,1,N,2,E,0,0,150730,,,D", true);
	check_valid("GPRMC,120000,A,1,N,2,E,0,0,150730,,,N", false);
	check_valid("GPGGA,120000,1,N,2,E,1,08,0.9,5,M,4,M,,", true);
	check_valid("GPGGA,120000,1,N,2,E,2,08,0.9,5,M,4,M,,", true);
	check_valid("GPGGA,120000,1,N,2,E,0,00,,,M,,M,,", false);
	check_valid("GPGGA,120000,,,,,,,,,,,,,", false);
	check_valid("GPGLL,1,N,2,E,120000,A,A", true);
	check_valid("GPGLL,1,N,2,E,120000,A", true);
	check_valid("GPGLL,1,N,2,E,120000,V,N", false);
	check_valid("GPGLL,1,N,2,E,120000,A,N", false);
	check_valid("GNGNS,120000,1,N,2,E,AN,12,0.9,5,4,,", true);
	check_valid("GNGNS,120000,1,N,2,E,NA,12,0.9,5,4,,", true);
	check_valid("GNGNS,120000,1,N,2,E,NN,00,,,,,", false);
	check_valid("GNGNS,120000,1,N,2,E,,00,,,,,", false);
	check_valid("GPZDA,120000,15,07,2030,,", true);
}

/* One "no fix" sentence makes the whole epoch invalid. */
static void test_validity_combined(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;

	(void)state;
	feed(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A"));
	ep = one_epoch(dec, sentence("GPGGA,120000,1,N,2,E,0,00,,,M,,M,,"));
	assert_false(ep.valid);
	assert_true(ep.date_known);
	nmea_decoder_destroy(dec);
}

/* ZDA's 4-digit year wins over RMC's date in the same epoch. */
static void test_zda_date_wins(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;

	(void)state;
	feed(dec, sentence("GPZDA,120000.00,16,07,2030,,"));
	ep = one_epoch(dec, sentence("GPRMC,120000.00,A,1,N,2,E,0,0,150730,,"));
	assert_int_equal(ep.time_ns, utc_ns(2030, 7, 16, 12, 0, 0));
	nmea_decoder_destroy(dec);
}

/* Other sentences are framed and counted but make no epoch. */
static void test_other_sentences(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep[4];
	const struct nmea_stats *st = nmea_get_stats(dec);

	(void)state;
	feed(dec, sentence("GPGSV,3,1,12,09,88,089,31,07,60,281,44"));
	feed(dec, sentence("PUBX,04,123456.00,150730,0,2000,,,,"));
	feed(dec, sentence("PGRMZ,1234,f,3"));
	feed(dec, sentence("GPVTG,318.0,T,341.9,M,000.0,N,0000.1,K,A"));
	feed(dec, "!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26\r\n");
	feed(dec, sentence("GPRMCX,120000,A,1,N,2,E,0,0,150730,,"));
	feed(dec, sentence("G1RMC,120000,A,1,N,2,E,0,0,150730,,"));
	assert_int_equal(drain(dec, ep, 4), 0);
	assert_int_equal(st->sentences, 7);
	assert_int_equal(st->bad_checksum, 0);
	assert_int_equal(st->dropped_bytes, 0);
	assert_int_equal(st->bad_fields + st->no_time, 0);
	nmea_decoder_destroy(dec);
}

/* Valid-checksum sentences by type (the status report's "sentences"):
 * the address less its talker, proprietary ones whole, unnamed ones and
 * bad checksums not counted by type. */
static uint64_t type_count(const struct nmea_stats *st, const char *name)
{
	for (int i = 0; i < NMEA_TYPE_SLOTS; i++) {
		if (strcmp(st->types[i].name, name) == 0) {
			return st->types[i].count;
		}
	}
	return 0;
}

static void test_sentence_types(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	char name[8];

	(void)state;
	feed(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,"));
	feed(dec, sentence("GNRMC,120001,A,1,N,2,E,0,0,150730,,"));
	feed(dec, sentence("GPGSV,3,1,12,09,88,089,31,07,60,281,44"));
	feed(dec, sentence("GPGSV,3,2,12,09,88,089,31,07,60,281,44"));
	feed(dec, sentence("PUBX,04,123456.00,150730,0,2000,,,,"));
	feed(dec, "!AIVDM,1,1,,A,13aEOK?P00PD2wVMdLDRhgvL289?,0*26\r\n");
	feed(dec, sentence("gprmc,1"));
	feed(dec, sentence("GP"));
	feed(dec, "$GPGGA,1*00\r\n");
	assert_int_equal(type_count(st, "RMC"), 2);
	assert_int_equal(type_count(st, "GSV"), 2);
	assert_int_equal(type_count(st, "PUBX"), 1);
	assert_int_equal(type_count(st, "VDM"), 1);
	assert_int_equal(type_count(st, "GGA"), 0);
	assert_int_equal(st->types_other, 2);
	assert_string_equal(st->types[0].name, "RMC");
	/* Beyond the slots, new types go to types_other. */
	for (int i = 0; i < NMEA_TYPE_SLOTS; i++) {
		snprintf(name, sizeof(name), "Q%02d", i);
		feed(dec, sentence("GP%s,1", name));
	}
	assert_int_equal(st->types_other, 2 + 4);
	assert_int_equal(st->types[NMEA_TYPE_SLOTS - 1].count, 1);
	nmea_decoder_destroy(dec);
}

/* ---- framing faults ---------------------------------------------------- */

static void test_checksum(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	struct nmea_epoch ep[4];
	char line[128];

	(void)state;
	/* Wrong by one bit. */
	feed(dec, "$GPZDA,202640.000,13,04,2015,,*55\r\n");
	/* None at all. */
	feed(dec, "$GPZDA,202641.000,13,04,2015,,\r\n");
	/* Not hex; one digit only. */
	feed(dec, "$GPZDA,202642.000,13,04,2015,,*5G\r\n");
	feed(dec, "$GPZDA,202643.000,13,04,2015,,*5\r\n");
	assert_int_equal(drain(dec, ep, 4), 0);
	assert_int_equal(st->bad_checksum, 4);
	assert_int_equal(st->sentences, 0);
	/* Lower-case hex is fine. */
	render(line, sizeof(line), "GPZDA,202644.000,13,04,2030,,", true);
	feed(dec, line);
	assert_int_equal(drain(dec, ep, 4), 1);
	assert_int_equal(ep[0].time_ns, utc_ns(2030, 4, 13, 20, 26, 44));
	assert_int_equal(st->bad_checksum, 4);
	nmea_decoder_destroy(dec);
}

/* Garbage (text, binary, stray '*') between sentences is skipped and
 * every byte of it counted; CR and LF are not counted. */
static void test_garbage_between(void **state)
{
	static const char junk1[] = "hello*12,GPRMC";
	static const unsigned char junk2[] = { 0xff, 0x00, 0x80, 0x7f, 'x' };
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	struct nmea_epoch ep[4];

	(void)state;
	feed(dec, junk1);
	feed(dec, sentence("GPZDA,120000,15,07,2030,,"));
	nmea_feed(dec, junk2, sizeof(junk2), 0, 0);
	feed(dec, "\r\n\r\n");
	feed(dec, sentence("GPZDA,120001,15,07,2030,,"));
	assert_int_equal(drain(dec, ep, 4), 2);
	assert_int_equal(ep[0].time_ns, utc_ns(2030, 7, 15, 12, 0, 0));
	assert_int_equal(ep[1].time_ns, utc_ns(2030, 7, 15, 12, 0, 1));
	assert_int_equal(st->dropped_bytes, strlen(junk1) + sizeof(junk2));
	assert_int_equal(st->binary_bytes, 4);
	assert_int_equal(st->bad_checksum, 0);
	nmea_decoder_destroy(dec);
}

/* A NUL (or any binary byte) inside a sentence cuts it; decoding resumes
 * at the next '$'.  A '$' inside a sentence starts a new one. */
static void test_nul_and_restart(void **state)
{
	static const char cut[] = "$GPZDA,12\0000000,15,07,2030,,*4B\r\n";
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	struct nmea_epoch ep[4];
	const char *good = sentence("GPZDA,120001,15,07,2030,,");
	size_t n;

	(void)state;

	/* "$GPZDA,12", NUL, then the rest of a ZDA at 12:00:00. */
	nmea_feed(dec, cut, sizeof(cut) - 1, 0, 0);
	/* A sentence cut by the start of the next one. */
	feed(dec, "$GPZDA,120000,15,07");
	feed(dec, good);
	n = drain(dec, ep, 4);
	assert_int_equal(n, 1);
	assert_int_equal(ep[0].time_ns, utc_ns(2030, 7, 15, 12, 0, 1));
	assert_int_equal(st->binary_bytes, 1);
	assert_int_equal(st->bad_checksum, 1);
	/* 9 bytes before the NUL and the NUL, 20 after it up to CR, and
	 * the 19 bytes of the sentence cut by '$'. */
	assert_int_equal(st->dropped_bytes, 10 + 20 + 19);
	nmea_decoder_destroy(dec);
}

/* Exactly NMEA_MAX_SENTENCE bytes from '$' to the checksum is accepted;
 * one more is overlong, and the next sentence still decodes. */
static void test_overlong(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	struct nmea_epoch ep[4];
	char body[400], line[512];
	size_t base;

	(void)state;
	snprintf(body, sizeof(body), "GPZDA,120000,15,07,2030,,");
	base = strlen(body);
	/* '$' + body + '*HH' = NMEA_MAX_SENTENCE */
	memset(body + base, 'X', NMEA_MAX_SENTENCE - 4 - base);
	body[NMEA_MAX_SENTENCE - 4] = '\0';
	render(line, sizeof(line), body, false);
	assert_int_equal(strlen(line), NMEA_MAX_SENTENCE + 2);
	feed(dec, line);
	assert_int_equal(drain(dec, ep, 4), 1);
	assert_int_equal(st->overlong, 0);

	body[NMEA_MAX_SENTENCE - 4] = 'X';
	body[NMEA_MAX_SENTENCE - 3] = '\0';
	body[7] = '1';  /* 11:00:00: a new epoch if it were taken */
	render(line, sizeof(line), body, false);
	feed(dec, line);
	feed(dec, sentence("GPZDA,120001,15,07,2030,,"));
	assert_int_equal(drain(dec, ep, 4), 1);
	assert_int_equal(ep[0].time_ns, utc_ns(2030, 7, 15, 12, 0, 1));
	assert_int_equal(st->overlong, 1);
	assert_int_equal(st->dropped_bytes, NMEA_MAX_SENTENCE + 1);
	nmea_decoder_destroy(dec);
}

static void test_bad_fields(void **state)
{
	static const char *const bad[] = {
		"GPRMC,12345,A,1,N,2,E,0,0,150730,,",      /* 5 digits */
		"GPRMC,240000,A,1,N,2,E,0,0,150730,,",     /* hour 24 */
		"GPRMC,126000,A,1,N,2,E,0,0,150730,,",     /* minute 60 */
		"GPRMC,120060,A,1,N,2,E,0,0,150730,,",     /* :60 not 23:59 */
		"GPRMC,235860,A,1,N,2,E,0,0,150730,,",
		"GPRMC,120000.x,A,1,N,2,E,0,0,150730,,",
		"GPRMC,120000,A,1,N,2,E,0,0,320730,,",     /* 32 July */
		"GPRMC,120000,A,1,N,2,E,0,0,290230,,",     /* 29 Feb 2030 */
		"GPRMC,120000,A,1,N,2,E,0,0,15073,,",
		"GPZDA,120000,15,13,2030,,",
		"GPZDA,120000,15,07,30,,",
		"GPZDA,120000,15,07,2201,,",               /* past 2200 */
		"GPZDA,120000,,07,2030,,",
		"GPGGA,1200,1,N,2,E,1,08,0.9,5,M,4,M,,",
	};
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	struct nmea_epoch ep[4];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		feed(dec, sentence("%s", bad[i]));
	}
	assert_int_equal(st->bad_fields, sizeof(bad) / sizeof(bad[0]));
	/* An empty time is "no time yet", not a malformed field. */
	feed(dec, sentence("GPRMC,,V,,,,,,,,,,N"));
	feed(dec, sentence("GPGGA,,,,,,0,00,99.99,,,,,,"));
	assert_int_equal(st->no_time, 2);
	assert_int_equal(drain(dec, ep, 4), 0);
	assert_int_equal(st->sentences, sizeof(bad) / sizeof(bad[0]) + 2);
	nmea_decoder_destroy(dec);
}

/* RMC without a date (no fix yet) still gives a time of day. */
static void test_time_without_date(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;

	(void)state;
	ep = one_epoch(dec, sentence("GPRMC,081530.50,V,,,,,,,,,,N"));
	assert_false(ep.date_known);
	assert_false(ep.valid);
	assert_int_equal(ep.time_ns, (8 * 3600 + 15 * 60 + 30) * SEC + 500 * MS);
	ep = one_epoch(dec, sentence("GPGGA,081531,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	assert_false(ep.date_known);
	nmea_decoder_destroy(dec);
}

/* ---- dating ------------------------------------------------------------ */

/* GGA at 00:00:00 after RMC at 23:59:59 is on the new day, and so are the
 * GGAs after it; an RMC then confirms the date. */
static void test_midnight_carry(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep[8];

	(void)state;
	feed(dec, sentence("GPRMC,235959,A,1,N,2,E,0,0,311230,,,A"));
	feed(dec, sentence("GPGGA,000000,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	feed(dec, sentence("GPGLL,1,N,2,E,000001,A,A"));
	feed(dec, sentence("GNGNS,000002,1,N,2,E,AA,12,0.9,5,4,,"));
	feed(dec, sentence("GPRMC,000003,A,1,N,2,E,0,0,010131,,,A"));
	assert_int_equal(drain(dec, ep, 8), 5);
	assert_int_equal(ep[0].time_ns, utc_ns(2030, 12, 31, 23, 59, 59));
	for (int i = 1; i < 5; i++) {
		assert_true(ep[i].date_known);
		assert_int_equal(ep[i].time_ns, utc_ns(2031, 1, 1, 0, 0, i - 1));
	}
	nmea_decoder_destroy(dec);
}

/* The other way: GGA at 23:59:59 after an RMC at 00:00:01 (time went
 * backwards) is on the previous day. */
static void test_carry_backwards(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep[4];

	(void)state;
	feed(dec, sentence("GPRMC,000001,A,1,N,2,E,0,0,010131,,,A"));
	feed(dec, sentence("GPGGA,235959,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	assert_int_equal(drain(dec, ep, 4), 2);
	assert_int_equal(ep[1].time_ns, utc_ns(2030, 12, 31, 23, 59, 59));
	nmea_decoder_destroy(dec);
}

/* No date is guessed more than 12 h of receiver time after the last one. */
static void test_carry_limit(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep[8];

	(void)state;
	feed(dec, sentence("GPRMC,000000,A,1,N,2,E,0,0,150730,,,A"));
	feed(dec, sentence("GPGGA,060000,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	feed(dec, sentence("GPGGA,115959,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	feed(dec, sentence("GPGGA,120001,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	feed(dec, sentence("GPGGA,180000,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	feed(dec, sentence("GPZDA,180001,15,07,2030,,"));
	assert_int_equal(drain(dec, ep, 8), 6);
	assert_true(ep[1].date_known);
	assert_int_equal(ep[1].time_ns, utc_ns(2030, 7, 15, 6, 0, 0));
	assert_true(ep[2].date_known);
	assert_int_equal(ep[2].time_ns, utc_ns(2030, 7, 15, 11, 59, 59));
	assert_false(ep[3].date_known);
	assert_int_equal(ep[3].time_ns, (12 * 3600 + 1) * SEC);
	assert_false(ep[4].date_known);
	assert_true(ep[5].date_known);
	nmea_decoder_destroy(dec);
}

/* 23:59:60 is the POSIX time of the next midnight, flagged; carried to a
 * GGA too; a bad :60 is refused. */
static void test_leap_second(void **state)
{
	struct nmea_decoder *dec = new_decoder(2016);
	struct nmea_epoch ep[8];
	int64_t midnight = date_ns(2017, 1, 1);

	(void)state;
	feed(dec, sentence("GPRMC,235959,A,1,N,2,E,0,0,311216,,,A"));
	feed(dec, sentence("GPRMC,235960,A,1,N,2,E,0,0,311216,,,A"));
	feed(dec, sentence("GPRMC,000000,A,1,N,2,E,0,0,010117,,,A"));
	feed(dec, sentence("GPZDA,235959.5,31,12,2016,,"));
	feed(dec, sentence("GPGGA,235960.5,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	feed(dec, sentence("GPGGA,000000.5,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	assert_int_equal(drain(dec, ep, 8), 6);
	assert_int_equal(ep[0].time_ns, midnight - SEC);
	assert_false(ep[0].leap_second);
	assert_int_equal(ep[1].time_ns, midnight);
	assert_true(ep[1].leap_second);
	assert_int_equal(ep[2].time_ns, midnight);
	assert_false(ep[2].leap_second);
	assert_int_equal(ep[3].time_ns, midnight - 500 * MS);
	assert_true(ep[4].date_known);
	assert_true(ep[4].leap_second);
	assert_int_equal(ep[4].time_ns, midnight + 500 * MS);
	assert_false(ep[5].leap_second);
	assert_int_equal(ep[5].time_ns, midnight + 500 * MS);
	nmea_decoder_destroy(dec);
}

/* A receiver 1024 weeks behind: 1999-08-22 (two-digit year) is really
 * 2019-04-07, and a ZDA date 1024 weeks before 2026-03-15 is 2026-03-15. */
static void test_rollover(void **state)
{
	struct nmea_decoder *dec = new_decoder(2010);
	struct nmea_epoch ep;
	int64_t y, old;
	int m, d;

	(void)state;
	ep = one_epoch(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,220899,,,A"));
	assert_true(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, utc_ns(2019, 4, 7, 12, 0, 0));
	nmea_decoder_destroy(dec);

	dec = new_decoder(2026);
	old = tu_days_from_civil(2026, 3, 15) - 1024 * 7;
	tu_civil_from_days(old, &y, &m, &d);
	ep = one_epoch(dec, sentence("GPZDA,081500,%02d,%02d,%04d,,", d, m,
				     (int)y));
	assert_true(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, utc_ns(2026, 3, 15, 8, 15, 0));
	/* Two rollovers behind. */
	tu_civil_from_days(old - 1024 * 7, &y, &m, &d);
	ep = one_epoch(dec, sentence("GPZDA,081501,%02d,%02d,%04d,,", d, m,
				     (int)y));
	assert_true(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, utc_ns(2026, 3, 15, 8, 15, 1));
	/* A GGA carried from a repaired date is repaired too. */
	ep = one_epoch(dec, sentence("GPGGA,081502,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	assert_true(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, utc_ns(2026, 3, 15, 8, 15, 2));
	assert_int_equal(nmea_get_stats(dec)->rollover_fixed, 3);
	nmea_decoder_destroy(dec);
}

/* The floor itself stays; one second before it moves. */
static void test_rollover_floor_edge(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;

	(void)state;
	ep = one_epoch(dec, sentence("GPZDA,000000,01,01,2026,,"));
	assert_false(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, date_ns(2026, 1, 1));
	ep = one_epoch(dec, sentence("GPZDA,235959,31,12,2025,,"));
	assert_true(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, date_ns(2026, 1, 1) - SEC + ROLLOVER);
	nmea_decoder_destroy(dec);
}

/* rollover_floor 0 is the floor meson compiled in. */
static void test_compiled_floor(void **state)
{
	struct nmea_decoder *dec = nmea_decoder_create(NULL);
	int64_t floor = date_ns(GPSPPS_ROLLOVER_FLOOR_Y, GPSPPS_ROLLOVER_FLOOR_M,
				GPSPPS_ROLLOVER_FLOOR_D);
	int64_t y, days = tu_floor_div(floor, DAY);
	struct nmea_epoch ep;
	int m, d;

	(void)state;
	assert_non_null(dec);
	tu_civil_from_days(days, &y, &m, &d);
	ep = one_epoch(dec, sentence("GPZDA,000000,%02d,%02d,%04d,,", d, m,
				     (int)y));
	assert_false(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, floor);
	tu_civil_from_days(days - 1, &y, &m, &d);
	ep = one_epoch(dec, sentence("GPZDA,000001,%02d,%02d,%04d,,", d, m,
				     (int)y));
	assert_true(ep.rollover_fixed);
	assert_int_equal(ep.time_ns, floor - DAY + SEC + ROLLOVER);
	nmea_decoder_destroy(dec);
}

/* Two-digit years are read within 50 years of the floor's year. */
static void test_two_digit_century(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;

	(void)state;
	ep = one_epoch(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150775,,,A"));
	assert_int_equal(ep.time_ns, utc_ns(2075, 7, 15, 12, 0, 0));
	assert_false(ep.rollover_fixed);
	nmea_decoder_destroy(dec);
	dec = new_decoder(2100);
	ep = one_epoch(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150705,,,A"));
	assert_int_equal(ep.time_ns, utc_ns(2105, 7, 15, 12, 0, 0));
	nmea_decoder_destroy(dec);
}

/* ---- rates, flush, late sentences -------------------------------------- */

static void check_rate(int hz)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep[64];
	int step = 1000 / hz;
	int n = 2 * hz;

	for (int i = 0; i < n; i++) {
		int ms = i * step;

		feed(dec, sentence("GNRMC,1200%02d.%03d,A,1,N,2,E,0,0,150730,,,A",
				   ms / 1000, ms % 1000));
		feed(dec, sentence("GNGGA,1200%02d.%03d,1,N,2,E,1,08,0.9,5,M,4,"
				   "M,,", ms / 1000, ms % 1000));
	}
	assert_int_equal(drain(dec, ep, 64), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(ep[i].time_ns, utc_ns(2030, 7, 15, 12, 0, 0) +
				 i * step * MS);
		assert_int_equal(ep[i].sentences, NMEA_RMC | NMEA_GGA);
	}
	nmea_decoder_destroy(dec);
}

static void test_rates(void **state)
{
	(void)state;
	check_rate(1);
	check_rate(5);
	check_rate(10);
}

/* An epoch closes on the next time or on flush; a sentence repeating the
 * closed epoch's time afterwards is late and opens nothing. */
static void test_flush_and_late(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	const struct nmea_stats *st = nmea_get_stats(dec);
	struct nmea_epoch ep;

	(void)state;
	feed(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A"));
	assert_false(nmea_next_epoch(dec, &ep));
	nmea_flush(dec);
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.sentences, NMEA_RMC);
	nmea_flush(dec);
	assert_false(nmea_next_epoch(dec, &ep));

	feed(dec, sentence("GPGGA,120000,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	nmea_flush(dec);
	assert_false(nmea_next_epoch(dec, &ep));
	assert_int_equal(st->late, 1);

	/* Closed by the next second; the old second's ZDA comes late. */
	feed(dec, sentence("GPRMC,120001,A,1,N,2,E,0,0,150730,,,A"));
	feed(dec, sentence("GPRMC,120002,A,1,N,2,E,0,0,150730,,,A"));
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.time_ns, utc_ns(2030, 7, 15, 12, 0, 1));
	feed(dec, sentence("GPZDA,120001,15,07,2030,,"));
	assert_int_equal(st->late, 2);
	nmea_flush(dec);
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.time_ns, utc_ns(2030, 7, 15, 12, 0, 2));
	assert_int_equal(ep.sentences, NMEA_RMC);
	assert_false(nmea_next_epoch(dec, &ep));
	assert_int_equal(st->epochs, 3);
	nmea_decoder_destroy(dec);
}

/* 32 epochs are kept; older ones are dropped and counted. */
static void test_queue_overflow(void **state)
{
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep[64];

	(void)state;
	for (int i = 0; i < 40; i++) {
		feed(dec, sentence("GPZDA,1200%02d,15,07,2030,,", i));
	}
	assert_int_equal(drain(dec, ep, 64), 32);
	assert_int_equal(ep[0].time_ns, utc_ns(2030, 7, 15, 12, 0, 8));
	assert_int_equal(ep[31].time_ns, utc_ns(2030, 7, 15, 12, 0, 39));
	assert_int_equal(nmea_get_stats(dec)->queue_overflow, 8);
	nmea_decoder_destroy(dec);
}

/* ---- burst timestamps -------------------------------------------------- */

#define CHAR_NS INT64_C(1041667)   /* 9600 baud, 8N1 */

static struct nmea_decoder *timed_decoder(void)
{
	struct nmea_options opt = {
		.rollover_floor = date_ns(2026, 1, 1) / SEC,
		.char_ns = CHAR_NS,
	};
	struct nmea_decoder *dec = nmea_decoder_create(&opt);

	assert_non_null(dec);
	return dec;
}

/* How far byte i of an n-byte chunk is dated back: char_ns per byte that
 * followed it, at most NMEA_MAX_BACKDATE_CHARS of them. */
static int64_t back(size_t n, size_t i)
{
	size_t chars = n - 1 - i;

	if (chars > NMEA_MAX_BACKDATE_CHARS) {
		chars = NMEA_MAX_BACKDATE_CHARS;
	}
	return (int64_t)chars * CHAR_NS;
}

/* One chunk holding junk, a GSV and an RMC: the burst starts at the GSV's
 * '$', dated back from the chunk's last byte by char_ns per byte, but by
 * no more than a FIFO's worth. */
static void test_burst_in_chunk(void **state)
{
	struct nmea_decoder *dec = timed_decoder();
	const int64_t rx = INT64_C(1900000000) * SEC + 123 * MS;
	const int64_t mono = INT64_C(5000) * SEC;
	struct nmea_epoch ep;
	char chunk[512];
	size_t gsv, rmc, len;

	(void)state;
	strcpy(chunk, "junk\r\n");
	gsv = strlen(chunk);
	strcat(chunk, sentence("GPGSV,1,1,01,09,88,089,31"));
	rmc = strlen(chunk);
	strcat(chunk, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A"));
	len = strlen(chunk);
	nmea_feed(dec, chunk, len, rx, mono);
	nmea_flush(dec);
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.burst_rx_ns, rx - back(len, gsv));
	assert_int_equal(ep.burst_rx_mono_ns, mono - back(len, gsv));
	assert_int_equal(ep.time_rx_ns, rx - back(len, rmc));
	assert_int_equal(back(len, gsv), NMEA_MAX_BACKDATE_CHARS * CHAR_NS);
	nmea_decoder_destroy(dec);
}

/* Feed s as a UART delivers it: in 16-byte reads at the line rate, its
 * first byte received at start.  Returns the time of its last byte. */
static int64_t feed_paced(struct nmea_decoder *dec, const char *s,
			  int64_t start)
{
	size_t n = strlen(s), off, len;
	int64_t t = start;

	for (off = 0; off < n; off += len) {
		len = n - off < 16 ? n - off : 16;
		t = start + (int64_t)(off + len - 1) * CHAR_NS;
		nmea_feed(dec, s + off, len, t, t);
	}
	return t;
}

/* Sentences in separate reads: a gap under burst_gap_ns continues the
 * burst, one of 20 ms or more starts a new one. */
static void test_burst_across_chunks(void **state)
{
	struct nmea_decoder *dec = timed_decoder();
	const int64_t t0 = INT64_C(1900000000) * SEC;
	struct nmea_epoch ep;
	int64_t t, gsv_start, rmc_start;

	(void)state;
	/* Second 1: GGA from t0, RMC 5 ms after it ended. */
	t = feed_paced(dec, sentence("GPGGA,120000,1,N,2,E,1,08,0.9,5,M,4,M,,"),
		       t0);
	t = feed_paced(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A"),
		       t + 5 * MS);
	/* Second 2: a GSV 25 ms after, then the RMC of 12:00:01 15 ms after
	 * the GSV's last byte. */
	gsv_start = t + 25 * MS;
	t = feed_paced(dec, sentence("GPGSV,1,1,01,09,88,089,31"), gsv_start);
	rmc_start = t + 15 * MS;
	feed_paced(dec, sentence("GPRMC,120001,A,1,N,2,E,0,0,150730,,,A"),
		   rmc_start);
	nmea_flush(dec);

	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.burst_rx_ns, t0);
	assert_int_equal(ep.time_rx_ns, t0);
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.burst_rx_ns, gsv_start);
	assert_int_equal(ep.burst_rx_mono_ns, gsv_start);
	assert_int_equal(ep.time_rx_ns, rmc_start);
	nmea_decoder_destroy(dec);
}

/* A USB receiver hands a whole burst (here ~500 bytes, read 80 ms after
 * the pulse) to one read: dated back by the line rate it would start
 * 0.44 s before its own pulse, next to the previous one.  The cap keeps
 * it after its pulse. */
static void test_burst_whole_in_one_read(void **state)
{
	struct nmea_decoder *dec = timed_decoder();
	const int64_t pulse = INT64_C(1900000000) * SEC;
	const int64_t rx = pulse + 80 * MS;
	struct nmea_epoch ep;
	char chunk[1024] = "";
	int i;

	(void)state;
	strcat(chunk, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A"));
	strcat(chunk, sentence("GPGGA,120000,1,N,2,E,1,08,0.9,5,M,4,M,,"));
	for (i = 0; i < 6; i++) {
		strcat(chunk, sentence("GPGSV,3,1,12,09,88,089,31,05,44,120,"
				       "40,12,33,200,38,22,10,300,25"));
	}
	assert_true(strlen(chunk) > 450);
	nmea_feed(dec, chunk, strlen(chunk), rx, rx);
	nmea_flush(dec);
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.burst_rx_ns, rx - NMEA_MAX_BACKDATE_CHARS * CHAR_NS);
	assert_true(ep.burst_rx_ns > pulse);
	nmea_decoder_destroy(dec);
}

/* RMC arriving after the idle flush closed its epoch (a receiver that
 * sends it long after GGA) is late, but its date still dates the
 * following epochs. */
static void test_late_rmc_still_dates(void **state)
{
	struct nmea_decoder *dec = nmea_decoder_create(NULL);
	struct nmea_epoch ep;
	int dated = 0, k;

	(void)state;
	for (k = 0; k < 5; k++) {
		char gga[96], rmc[96];

		snprintf(gga, sizeof(gga), "GPGGA,12000%d,1,N,2,E,1,08,0.9,5,"
			 "M,4,M,,", k);
		snprintf(rmc, sizeof(rmc), "GPRMC,12000%d,A,1,N,2,E,0,0,150730,"
			 ",,A", k);
		feed(dec, sentence("%s", gga));
		nmea_flush(dec);
		feed(dec, sentence("%s", rmc));
		while (nmea_next_epoch(dec, &ep)) {
			dated += ep.date_known;
		}
	}
	assert_int_equal(dated, 4);
	assert_true(nmea_get_stats(dec)->late >= 4);
	nmea_decoder_destroy(dec);
}

/* Reads that come faster than the line rate (a USB adapter handing over
 * a buffer at once) would date the next chunk's bytes before the last
 * one's: they are dated no earlier than it. */
static void test_burst_fast_reads(void **state)
{
	struct nmea_decoder *dec = timed_decoder();
	const int64_t t0 = INT64_C(1900000000) * SEC;
	const char *s;
	struct nmea_epoch ep;

	(void)state;
	s = sentence("GPGSV,1,1,01,09,88,089,31");
	nmea_feed(dec, s, strlen(s), t0, t0);
	s = sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,A");
	nmea_feed(dec, s, strlen(s), t0 + MS, t0 + MS);
	nmea_flush(dec);
	assert_true(nmea_next_epoch(dec, &ep));
	assert_int_equal(ep.time_rx_ns, t0);
	assert_int_equal(ep.burst_rx_ns,
			 t0 - (int64_t)(strlen(sentence("GPGSV,1,1,01,09,88,089,"
							 "31")) - 1) * CHAR_NS);
	nmea_decoder_destroy(dec);
}

/* A start character cuts the partial sentence before it: that one ended
 * at its own last byte, not at the '$' that cut it.  After a flood of
 * '$' (or of lines cut short) and an idle line, the clean burst starts a
 * burst of its own, not one dated at the flood's first byte. */
static void test_burst_after_cut_sentence(void **state)
{
	static const char *const floods[] = { "$$$$$$$$", "$GPRMC,01234" };
	const int64_t t0 = INT64_C(1900000000) * SEC;
	struct nmea_epoch ep;
	char flood[512];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(floods) / sizeof(floods[0]); k++) {
		struct nmea_decoder *dec = timed_decoder();
		int64_t t, clean;

		flood[0] = '\0';
		while (strlen(flood) + strlen(floods[k]) < sizeof(flood)) {
			strcat(flood, floods[k]);
		}
		t = feed_paced(dec, flood, t0);
		clean = t + 500 * MS;
		feed_paced(dec, sentence("GPRMC,120000,A,1,N,2,E,0,0,150730,,,"
					 "A"), clean);
		nmea_flush(dec);
		assert_true(nmea_next_epoch(dec, &ep));
		assert_int_equal(ep.burst_rx_ns, clean);
		assert_int_equal(ep.burst_rx_mono_ns, clean);
		nmea_decoder_destroy(dec);
	}
}

/* Untimed input gives zero times. */
static void test_untimed(void **state)
{
	struct nmea_decoder *dec = timed_decoder();
	struct nmea_epoch ep;

	(void)state;
	ep = one_epoch(dec, sentence("GPZDA,120000,15,07,2030,,"));
	assert_int_equal(ep.burst_rx_ns, 0);
	assert_int_equal(ep.burst_rx_mono_ns, 0);
	assert_int_equal(ep.time_rx_ns, 0);
	nmea_decoder_destroy(dec);
}

/* ---- random round trip ------------------------------------------------- */

struct expect {
	int64_t time_ns;
	unsigned sentences;
	char talker[3];
	bool valid;
};

struct stream {
	char *buf;
	size_t len, cap;
	size_t junk;
};

static void put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* Random junk that cannot start a sentence. */
static void put_junk(struct stream *s)
{
	int n = (int)test_range(0, 12);

	for (int i = 0; i < n; i++) {
		unsigned char c;

		do {
			c = (unsigned char)test_range(0, 255);
		} while (c == '$' || c == '!' || c == '\r' || c == '\n');
		put(s, &c, 1);
		s->junk++;
	}
}

/* The sentence of one kind for epoch time t. */
static void put_kind(struct stream *s, unsigned kind, const char *talker,
		     int64_t t, bool fix)
{
	int64_t days = tu_floor_div(t, DAY), y;
	int64_t tod = t - days * DAY;
	int m, d;
	char hms[32], body[200], line[256];

	tu_civil_from_days(days, &y, &m, &d);
	snprintf(hms, sizeof(hms), "%02d%02d%02d.%03d",
		 (int)(tod / (3600 * SEC)), (int)(tod / (60 * SEC) % 60),
		 (int)(tod / SEC % 60), (int)(tod % SEC / MS));
	switch (kind) {
	case NMEA_RMC:
		snprintf(body, sizeof(body), "%sRMC,%s,%c,1,N,2,E,0,0,"
			 "%02d%02d%02d,,,%c", talker, hms, fix ? 'A' : 'V', d,
			 m, (int)(y % 100), fix ? 'A' : 'N');
		break;
	case NMEA_ZDA:
		snprintf(body, sizeof(body), "%sZDA,%s,%02d,%02d,%04d,,",
			 talker, hms, d, m, (int)y);
		break;
	case NMEA_GGA:
		snprintf(body, sizeof(body), "%sGGA,%s,1,N,2,E,%d,08,0.9,5,M,"
			 "4,M,,", talker, hms, fix ? 1 : 0);
		break;
	case NMEA_GLL:
		snprintf(body, sizeof(body), "%sGLL,1,N,2,E,%s,%c,%c", talker,
			 hms, fix ? 'A' : 'V', fix ? 'A' : 'N');
		break;
	default:
		snprintf(body, sizeof(body), "%sGNS,%s,1,N,2,E,%s,08,0.9,5,4,,",
			 talker, hms, fix ? "AN" : "NN");
		break;
	}
	render(line, sizeof(line), body, test_range(0, 1));
	put(s, line, strlen(line));
}

/* One epoch: a random non-empty set of kinds (a dated one when needed),
 * in random order, with GSV filler and junk between them. */
static void put_epoch(struct stream *s, struct expect *e, bool need_date)
{
	unsigned kinds, order[NMEA_KIND_COUNT], n = 0;
	bool fix = test_range(0, 9) > 0;

	do {
		kinds = (unsigned)test_range(1, (1 << NMEA_KIND_COUNT) - 1);
	} while (need_date && !(kinds & (NMEA_RMC | NMEA_ZDA)));
	for (unsigned k = 0; k < NMEA_KIND_COUNT; k++) {
		if (kinds & (1u << k)) {
			order[n++] = 1u << k;
		}
	}
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = (unsigned)test_range(0, i), tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	e->sentences = kinds;
	/* ZDA-only epochs claim nothing: valid regardless of the fix. */
	e->valid = fix || kinds == NMEA_ZDA;
	strcpy(e->talker, talkers[test_range(0, 8)]);
	for (unsigned i = 0; i < n; i++) {
		put_junk(s);
		put_kind(s, order[i], i == 0 ? e->talker : talkers[test_range(0, 8)],
			 e->time_ns, fix);
		if (test_range(0, 3) == 0) {
			const char *gsv = sentence("GPGSV,1,1,01,09,88,089,31");

			put(s, gsv, strlen(gsv));
		}
	}
}

/* Random start (a third near midnight), rate 1, 5 or 10 Hz, random gaps
 * of up to an hour; returns the epoch count. */
static size_t make_stream(struct stream *s, struct expect *e, size_t max)
{
	static const int rates[] = { 1, 5, 10 };
	int64_t step = SEC / rates[test_range(0, 2)];
	int64_t day = tu_days_from_civil(2026, 1, 1) + test_range(0, 17000);
	int64_t t = day * DAY + (test_range(0, 2) == 0 ?
				 DAY - test_range(1, 20) * step :
				 test_range(0, 86399) * SEC);
	size_t n = (size_t)test_range(1, (int64_t)max);

	for (size_t i = 0; i < n; i++) {
		e[i].time_ns = t;
		put_epoch(s, &e[i], i == 0);
		t += test_range(0, 7) == 0 ? test_range(1, 3600) * step : step;
	}
	return n;
}

/* Feed s in random chunks, taking the epochs as they close; returns the
 * number taken. */
static size_t decode_in_chunks(struct nmea_decoder *dec,
			       const struct stream *s, struct nmea_epoch *ep,
			       size_t max)
{
	size_t pos = 0, got = 0;

	while (pos < s->len) {
		size_t n = (size_t)test_range(1, 300);

		if (n > s->len - pos) {
			n = s->len - pos;
		}
		nmea_feed(dec, s->buf + pos, n, 0, 0);
		pos += n;
		while (got < max && nmea_next_epoch(dec, &ep[got])) {
			got++;
		}
	}
	return got + drain(dec, ep + got, max - got);
}

static void test_random_round_trip(void **state)
{
	static struct expect e[200];
	static struct nmea_epoch ep[MAX_EPOCHS];

	(void)state;
	for (int iter = 0; iter < 300; iter++) {
		struct nmea_decoder *dec = new_decoder(2026);
		struct stream s = { 0 };
		size_t n = make_stream(&s, e, 200), got;

		got = decode_in_chunks(dec, &s, ep, MAX_EPOCHS);
		assert_int_equal(got, n);
		assert_int_equal(nmea_get_stats(dec)->queue_overflow, 0);
		for (size_t i = 0; i < n; i++) {
			if (ep[i].time_ns != e[i].time_ns || !ep[i].date_known) {
				fail_msg("iteration %d epoch %zu: %lld, expected "
					 "%lld", iter, i, (long long)ep[i].time_ns,
					 (long long)e[i].time_ns);
			}
			assert_int_equal(ep[i].sentences, e[i].sentences);
			assert_string_equal(ep[i].talker, e[i].talker);
			assert_int_equal(ep[i].valid, e[i].valid);
			assert_false(ep[i].rollover_fixed);
		}
		assert_int_equal(nmea_get_stats(dec)->dropped_bytes, s.junk);
		assert_int_equal(nmea_get_stats(dec)->bad_checksum, 0);
		free(s.buf);
		nmea_decoder_destroy(dec);
	}
}

/* Pure noise, in random chunks with random flushes: no crash, every byte
 * counted, and the epochs that come out have sane fields. */
static void test_random_noise(void **state)
{
	static unsigned char buf[1 << 20];
	struct nmea_decoder *dec = new_decoder(2026);
	struct nmea_epoch ep;
	size_t pos = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		/* Mostly NMEA-ish characters, so that sentences do form. */
		static const char alphabet[] = "$$*,,,,.0123456789GPRMCZDA\r\n";

		buf[i] = test_range(0, 3) == 0 ? (unsigned char)test_range(0, 255) :
			 (unsigned char)alphabet[test_range(0, sizeof(alphabet) - 2)];
	}
	while (pos < sizeof(buf)) {
		size_t n = (size_t)test_range(1, 4096);

		n = n > sizeof(buf) - pos ? sizeof(buf) - pos : n;
		nmea_feed(dec, buf + pos, n, 0, 0);
		pos += n;
		if (test_range(0, 9) == 0) {
			nmea_flush(dec);
		}
		while (nmea_next_epoch(dec, &ep)) {
			assert_true(ep.sentences != 0);
			assert_true(ep.time_ns >= 0);
		}
	}
	assert_int_equal(nmea_get_stats(dec)->bytes, sizeof(buf));
	nmea_decoder_destroy(dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_rmc_gga_zda_epoch),
		cmocka_unit_test(test_every_kind_and_talker),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_validity_combined),
		cmocka_unit_test(test_zda_date_wins),
		cmocka_unit_test(test_other_sentences),
		cmocka_unit_test(test_sentence_types),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_garbage_between),
		cmocka_unit_test(test_nul_and_restart),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_time_without_date),
		cmocka_unit_test(test_midnight_carry),
		cmocka_unit_test(test_carry_backwards),
		cmocka_unit_test(test_carry_limit),
		cmocka_unit_test(test_leap_second),
		cmocka_unit_test(test_rollover),
		cmocka_unit_test(test_rollover_floor_edge),
		cmocka_unit_test(test_compiled_floor),
		cmocka_unit_test(test_two_digit_century),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_flush_and_late),
		cmocka_unit_test(test_queue_overflow),
		cmocka_unit_test(test_burst_in_chunk),
		cmocka_unit_test(test_burst_across_chunks),
		cmocka_unit_test(test_burst_whole_in_one_read),
		cmocka_unit_test(test_late_rmc_still_dates),
		cmocka_unit_test(test_burst_fast_reads),
		cmocka_unit_test(test_burst_after_cut_sentence),
		cmocka_unit_test(test_untimed),
		cmocka_unit_test(test_random_round_trip),
		cmocka_unit_test(test_random_noise),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

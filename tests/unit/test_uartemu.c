/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_uartemu.c - the simulator's baud-mismatch model: identical rates
 * are the identity, hand-worked frames at half and double the rate, and
 * simulated bursts read at every other rate carry no sentence that
 * gpsppsd's own decoder accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nmea.h"
#include "simgen.h"
#include "testseed.h"
#include "uartemu.h"

static const long rates[] = { 4800, 9600, 19200, 38400, 57600, 115200,
			      230400, 460800, 921600 };
#define N_RATES (sizeof(rates) / sizeof(rates[0]))
#define NS INT64_C(1000000000)

static unsigned char out[UARTEMU_OUT_MAX(SIMGEN_BURST_MAX)];
static int64_t at[UARTEMU_OUT_MAX(SIMGEN_BURST_MAX)];

static void test_identity(void **state)
{
	unsigned char in[512];
	size_t i, r;
	int n;

	(void)state;
	for (r = 0; r < N_RATES; r++) {
		for (i = 0; i < sizeof(in); i++) {
			in[i] = (unsigned char)test_range(0, 255);
		}
		n = uartemu_resample(in, sizeof(in), rates[r], rates[r], out,
				     at, sizeof(out));
		assert_int_equal(n, (int)sizeof(in));
		assert_memory_equal(in, out, sizeof(in));
		for (i = 0; i < sizeof(in); i++) {
			assert_int_equal(at[i], (int64_t)i * 10 * NS /
					 rates[r]);
		}
	}
}

/* 0xFF sent at 4800, read at 9600: the start bit lasts two received bits,
 * so data bit 0 reads low and the rest high. */
static void test_half_bits(void **state)
{
	const unsigned char ff = 0xFF;

	(void)state;
	assert_int_equal(uartemu_resample(&ff, 1, 4800, 9600, out, at,
					  sizeof(out)), 1);
	assert_int_equal(out[0], 0xFE);
	assert_int_equal(at[0], 0);
}

/* 0x00 sent at 9600, read at 4800: each received bit spans two sent
 * bits; the stop bit, then idle, fill the upper data bits (a framing
 * error would still deliver them, but here the stop sample is high). */
static void test_double_bits(void **state)
{
	const unsigned char zero[2] = { 0x00, 0x00 };

	(void)state;
	assert_int_equal(uartemu_resample(zero, 1, 9600, 4800, out, at,
					  sizeof(out)), 1);
	assert_int_equal(out[0], 0xF8);
	/* Two NULs: the second start bit falls inside the first frame, whose
	 * data samples (sent bits 3, 5, .., 17) catch only the first stop
	 * bit (sent bit 9); its stop sample (sent bit 19) is the second stop
	 * bit, and no falling edge follows. */
	assert_int_equal(uartemu_resample(zero, 2, 9600, 4800, out, at,
					  sizeof(out)), 1);
	assert_int_equal(out[0], 0x08);
}

static void test_errors(void **state)
{
	const unsigned char b[4] = { 1, 2, 3, 4 };

	(void)state;
	assert_int_equal(uartemu_resample(b, 4, 0, 9600, out, at, 20), -1);
	assert_int_equal(uartemu_resample(b, 4, 9600, -1, out, at, 20), -1);
	assert_int_equal(uartemu_resample(b, 4, 9600, 4800, out, at, 19), -1);
	assert_int_equal(uartemu_resample(b, 0, 9600, 4800, out, NULL, 0), 0);
}

/* Frames start in order, never before the bits that make them. */
static void test_random_rates(void **state)
{
	unsigned char in[256];
	size_t i, a, b;
	int n, k;

	(void)state;
	for (a = 0; a < N_RATES; a++) {
		for (b = 0; b < N_RATES; b++) {
			for (i = 0; i < sizeof(in); i++) {
				in[i] = (unsigned char)test_range(0, 255);
			}
			n = uartemu_resample(in, sizeof(in), rates[a], rates[b],
					     out, at, sizeof(out));
			assert_true(n >= 0);
			for (k = 1; k < n; k++) {
				/* a frame lasts 9.5 received bits at least */
				assert_true(at[k] - at[k - 1] >=
					    9 * NS / rates[b]);
			}
			if (n > 0) {
				assert_true(at[n - 1] < (int64_t)sizeof(in) * 10 *
					    1000000000 / rates[a]);
			}
		}
	}
}

/* Valid sentences gpsppsd's decoder finds in the burst read at rx. */
static uint64_t decoded(const char *burst, int len, long tx, long rx)
{
	struct nmea_decoder *dec = nmea_decoder_create(NULL);
	uint64_t good;
	int n = uartemu_resample((const unsigned char *)burst, (size_t)len, tx,
				 rx, out, at, sizeof(out));

	assert_non_null(dec);
	assert_true(n >= 0);
	nmea_feed(dec, out, (size_t)n, 0, 0);
	nmea_flush(dec);
	good = nmea_get_stats(dec)->sentences;
	nmea_decoder_destroy(dec);
	return good;
}

/* Every pair of different rates: no sentence survives, over many bursts
 * (all sentence types, random labels).  The same rate: all do. */
static void test_bursts_at_other_rates(void **state)
{
	struct simgen_options o;
	struct simgen_epoch ep;
	char buf[SIMGEN_BURST_MAX];
	struct simgen *g;
	size_t a, b;
	int i, n;

	(void)state;
	simgen_options_init(&o);
	assert_int_equal(simgen_parse_sentences(&o, "RMC,GGA,ZDA,GSA,GSV,VTG",
						NULL, 0), 0);
	g = simgen_create(&o, NULL, 0);
	assert_non_null(g);
	for (i = 0; i < 20; i++) {
		n = simgen_epoch(g, test_range(0, INT64_C(4000000000)) *
				 1000000000, buf, sizeof(buf), &ep);
		assert_true(n > 0);
		for (a = 0; a < N_RATES; a++) {
			for (b = 0; b < N_RATES; b++) {
				uint64_t good = decoded(buf, n, rates[a],
							rates[b]);

				if (a == b) {
					assert_int_equal(good, 8);
				} else if (good != 0) {
					fail_msg("%ld read at %ld: %llu valid "
						 "sentences", rates[a], rates[b],
						 (unsigned long long)good);
				}
			}
		}
	}
	simgen_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_half_bits),
		cmocka_unit_test(test_double_bits),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_random_rates),
		cmocka_unit_test(test_bursts_at_other_rates),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_nmea.c - libFuzzer target for the NMEA decoder.
 *
 * Input: 8 bytes of seed, then the byte stream.  The seed drives a small
 * generator that cuts the stream into chunks of 1..128 bytes, spaces their
 * receive times 1 to 60 ms apart and now and then flushes, so that the
 * seed corpus stays readable NMEA and mutations reach both the bytes and
 * the chunking.  After every step all queued epochs are taken and checked;
 * any broken invariant aborts (a crash for libFuzzer).
 *
 * The seed corpus (corpus-nmea/) is "SEED000N" followed by lines of receiver
 * captures from tests/data/nmea-logs (GPSD project, BSD-2-Clause: see the
 * README.md there), plus one made-up leap-second case with noise.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmea.h"
#include "timeutil.h"

#define SEC TU_NS_PER_SEC
#define DAY (TU_SEC_PER_DAY * SEC)
#define CHAR_NS INT64_C(1041667)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct nmea_decoder *dec;
	uint64_t rng;
	int64_t now;           /* receive time of the last byte fed */
	uint64_t taken;
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "invariant broken: %s\n", what);
		abort();
	}
}

static uint64_t next_rand(struct run *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

static void check_epoch(const struct run *r, const struct nmea_epoch *ep)
{
	int64_t tod;

	check(ep->sentences != 0 && ep->sentences < (1u << NMEA_KIND_COUNT),
	      "sentence bits");
	check(ep->talker[0] >= 'A' && ep->talker[0] <= 'Z' &&
	      ep->talker[1] >= 'A' && ep->talker[1] <= 'Z' &&
	      ep->talker[2] == '\0', "talker");
	check(ep->burst_rx_ns <= ep->time_rx_ns, "burst after its sentence");
	check(ep->time_rx_ns <= r->now, "sentence received in the future");
	check(ep->time_rx_ns > 0, "time-bearing sentence undated");
	if (!ep->date_known) {
		check(ep->time_ns >= 0 && ep->time_ns < DAY + SEC,
		      "time of day out of range");
		check(!ep->rollover_fixed, "rollover without date");
		return;
	}
	/* Years 1970..2200, at most one rollover past the floor (<= 2200). */
	check(ep->time_ns >= 0 && ep->time_ns <
	      (tu_days_from_civil(2201, 1, 1) + 7168 + 1) * DAY,
	      "date out of range");
	tod = tu_floor_mod(ep->time_ns, DAY);
	check(!ep->leap_second || tod < SEC, "leap second not at midnight");
}

static void take_all(struct run *r)
{
	struct nmea_epoch ep;

	while (nmea_next_epoch(r->dec, &ep)) {
		check_epoch(r, &ep);
		r->taken++;
	}
}

static void check_stats(const struct run *r, size_t fed)
{
	const struct nmea_stats *st = nmea_get_stats(r->dec);

	check(st->bytes == fed, "bytes counted");
	check(st->dropped_bytes <= st->bytes, "dropped more than fed");
	check(st->binary_bytes <= st->dropped_bytes, "binary not dropped");
	check(st->epochs == r->taken + st->queue_overflow, "epochs lost");
	check(st->sentences * 4 + st->overlong * (NMEA_MAX_SENTENCE + 1) <= fed,
	      "more sentences than bytes allow");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nmea_options opt = { .char_ns = CHAR_NS };
	struct run r = { .now = INT64_C(1800000000) * SEC };
	size_t pos = 0;

	if (size >= 8) {
		memcpy(&r.rng, data, 8);
		pos = 8;
	}
	r.rng |= 1;
	r.dec = nmea_decoder_create(&opt);
	check(r.dec != NULL, "create");
	while (pos < size) {
		uint64_t x = next_rand(&r);
		size_t n = (size_t)(x % 128) + 1;

		n = n > size - pos ? size - pos : n;
		r.now += (int64_t)((x >> 8) % 60 + 1) * TU_NS_PER_MS;
		nmea_feed(r.dec, data + pos, n, r.now, r.now);
		pos += n;
		if ((x >> 16) % 8 == 0) {
			nmea_flush(r.dec);
		}
		take_all(&r);
	}
	nmea_flush(r.dec);
	take_all(&r);
	check_stats(&r, size >= 8 ? size - 8 : size);
	nmea_decoder_destroy(r.dec);
	return 0;
}

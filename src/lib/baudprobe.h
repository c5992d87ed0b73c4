/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * baudprobe.h - find the rate at which a receiver sends (pure logic: no
 * I/O, no clock reads; the caller passes the monotonic time).
 *
 * A probe is a pass over the candidate rates: the last rate that worked
 * (config.first, from the daemon's state directory), then 9600, 115200,
 * 38400, 4800, 57600, 19200, 230400, 460800, 921600 (the rates receivers
 * ship at, most common first), each once, config.skip left out.  The
 * caller sets its port to baudprobe_rate(), decodes what arrives with a
 * fresh NMEA decoder and reports the checksummed sentences it framed with
 * baudprobe_feed.  A rate settles as soon as it gave config.need valid
 * sentences and no more bad checksums than valid ones (wrong rates give
 * none: see uartemu.h); a rate that has not settled after config.dwell_ns
 * is left for the next.  After the last candidate the pass is exhausted
 * and the next pass starts over at the first.
 *
 * With config.home (report only: the rate the user configured) the port
 * goes back to home between two candidates, for config.home_dwell_ns, so
 * that a stream at the configured rate is not left unheard for a whole
 * pass (a flood at the right rate also brings bytes without sentences).
 * home is never a candidate.  While baudprobe_at_home() the caller feeds
 * its main decoder, as without a probe, and reports that decoder's
 * sentences; when they settle, baudprobe_rate() is home: the configured
 * rate decodes again and the probe is over.
 *
 * The caller drives it:
 *
 *   rate = baudprobe_begin(p, now);     set the port to rate
 *   on bytes:  step = baudprobe_feed(p, good, bad, now);
 *   at baudprobe_deadline(p):  step = baudprobe_tick(p, now);
 *
 * and acts on the step: LISTEN nothing; SWITCH set the port to
 * baudprobe_rate() (and start a fresh decoder); SETTLED baudprobe_rate()
 * decodes, the probe is over; EXHAUSTED no rate decoded in this pass, and
 * the port must be set to baudprobe_rate(), the first of the next pass.
 */
#ifndef GPSPPS_BAUDPROBE_H
#define GPSPPS_BAUDPROBE_H

#include <stdbool.h>
#include <stdint.h>

#define BAUDPROBE_MAX_RATES 10

struct baudprobe_config {
	long first;             /* tried first (the last rate that worked);
				 * 0 or not a candidate: none */
	long skip;              /* never tried (a rate known not to decode);
				 * 0: none */
	int64_t dwell_ns;       /* time at one rate before the next */
	unsigned need;          /* valid sentences that settle a rate */
	long home;              /* returned to between candidates; 0: none */
	int64_t home_dwell_ns;  /* time at home before the next candidate */
};

enum baudprobe_step {
	BAUDPROBE_LISTEN,
	BAUDPROBE_SWITCH,
	BAUDPROBE_SETTLED,
	BAUDPROBE_EXHAUSTED,
};

struct baudprobe;

/* Defaults: no first, no skip, dwell 2.2 s (a burst interval at 1 Hz and
 * a whole burst), need 2, no home, home dwell 2.2 s. */
void baudprobe_config_default(struct baudprobe_config *c);

/* NULL on allocation failure. */
struct baudprobe *baudprobe_create(const struct baudprobe_config *c);
void baudprobe_destroy(struct baudprobe *p);

/* Start a pass at the first candidate, at monotonic time now; returns its
 * rate. */
long baudprobe_begin(struct baudprobe *p, int64_t now);

/* Report good valid and bad checksummed sentences framed at the current
 * rate since the last call. */
enum baudprobe_step baudprobe_feed(struct baudprobe *p, unsigned good,
				   unsigned bad, int64_t now);

/* Time has passed: leaves a rate whose dwell is over. */
enum baudprobe_step baudprobe_tick(struct baudprobe *p, int64_t now);

/* The rate being tried (after SETTLED: the rate that decodes). */
long baudprobe_rate(const struct baudprobe *p);

/* The port is back at config.home between two candidates. */
bool baudprobe_at_home(const struct baudprobe *p);

/* When baudprobe_tick is due: the end of the current rate's dwell. */
int64_t baudprobe_deadline(const struct baudprobe *p);

/* The pass's rates in order; returns how many (<= BAUDPROBE_MAX_RATES). */
int baudprobe_order(const struct baudprobe *p, long *rates);

/* Passes exhausted since baudprobe_begin. */
unsigned baudprobe_passes(const struct baudprobe *p);

#endif

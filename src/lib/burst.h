/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * burst.h - when to read the rest of an NMEA burst (pure logic: no I/O,
 * no clock reads).
 *
 * A receiver sends its sentences in one burst per epoch, and a pty or a
 * USB adapter hands them over in many small chunks: a reader that polls
 * the port wakes for every chunk (about 400 times a second at 9600 baud).
 * gpsppsd instead wakes on the first byte of a burst, which dates it, then
 * stops watching the port and reads what has come at deadlines this
 * module chooses:
 *
 * - when bursts come at a steady rate (the last two intervals between
 *   burst starts agree to 1/8, and the last burst took at most 3/4 of an
 *   interval, so that no two of them were read as one), the first one
 *   shortly before the burst
 *   is expected to end: the previous burst's length at the line rate,
 *   less BURST_IDLE_NS, but never later than half an interval after the
 *   start less 2 * BURST_IDLE_NS (so that a shorter burst cannot hide the
 *   next one's first byte) nor more than BURST_MAX_CHARS character times
 *   away (the driver's buffer);
 * - then (and from the start when the rate is not steady) every
 *   BURST_IDLE_NS while bytes keep coming;
 * - the burst is over at the first read that finds nothing after
 *   BURST_IDLE_NS: the caller watches the port again, and the next byte
 *   wakes it at once.
 *
 * BURST_IDLE_NS is less than half the decoder's burst gap
 * (nmea_options.burst_gap_ns, 20 ms), with a timer's slack to spare: a
 * quiet spell that the decoder would take for the start of a new burst
 * always ends the gathering before that burst's first byte comes, so
 * every burst is still dated by a wake-up on its first byte.  (A burst
 * that starts less than half an interval after the previous one, after a
 * run of steady ones, is read with it, as by a late reader; receivers
 * send one burst per epoch, at a steady rate.)  Times are
 * CLOCK_MONOTONIC ns.
 */
#ifndef GPSPPS_BURST_H
#define GPSPPS_BURST_H

#include <stddef.h>
#include <stdint.h>

#define BURST_IDLE_NS (8 * 1000 * 1000LL)
#define BURST_MAX_CHARS 2048

struct burst_pacer;

/* char_ns: one character's time at the nominal line rate (10 bits / baud),
 * > 0.  Returns NULL only on allocation failure. */
struct burst_pacer *burst_pacer_create(int64_t char_ns);
void burst_pacer_destroy(struct burst_pacer *p);

/* The read on the wake-up at now got n > 0 bytes: a burst starts.
 * Returns the deadline of the next read. */
int64_t burst_pacer_start(struct burst_pacer *p, int64_t now, size_t n);

/* A read at now got n bytes (0: none).  Returns the deadline of the next
 * read, or -1: the burst is over, watch the port again. */
int64_t burst_pacer_next(struct burst_pacer *p, int64_t now, size_t n);

/* Time of the last read that got bytes (the burst's end, for the idle
 * flush). */
int64_t burst_pacer_last_data(const struct burst_pacer *p);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.h - decode an NMEA capture without timing and print the receiver
 * epochs the decoder finds (gpsppsd --replay FILE).
 *
 * Input: one sentence per line as the receiver sent it; lines starting
 * with '#' are comments.  Any bytes are accepted (they go through the
 * decoder's framing exactly as serial input would).  path "-" is stdin.
 *
 * Output on `out`: one JSON object per line (libjansson, compact, keys in
 * this order) for each epoch with a known UTC date and time:
 *
 *   {"time":"2015-04-13T20:26:40.000Z","sentences":["GGA","RMC","ZDA"],
 *    "valid":true,"talker":"GP","leap_second":false,"rollover_fixed":false}
 *
 *   time            UTC label, milliseconds, 23:59:60 printed as such
 *   sentences       time-bearing sentence kinds of the epoch, alphabetical
 *   valid           the receiver claimed a fix (see nmea.h)
 *   talker          talker ID of the epoch's first time sentence
 *   leap_second     the label was 23:59:60
 *   rollover_fixed  the date was moved forward by 1024 GPS weeks
 *
 * Epochs whose date is unknown (time-only sentences with no RMC/ZDA date
 * within 12 hours) are counted but not printed.
 *
 * Rollover floor: a capture is usually replayed long after it was made, so
 * the compiled-in floor (a date "now or later") would move every older
 * capture forward by 1024 weeks.  When the comment lines before the first
 * sentence name the capture date ("# Date: 2015-04-13" or
 * "# Date = 2015-3-18", as in GPSD's regression captures), the floor is put
 * 512 weeks before that date, so that dates within about 9.8 years of it
 * stand and an older receiver's dates are repaired towards it.  Without
 * such a line the compiled-in floor applies, as in the daemon.
 *
 * After the last epoch, one summary line goes to `err`: epochs (printed,
 * undated), sentences, bad checksums, dropped bytes, overlong sentences,
 * late sentences and rollover repairs.
 */
#ifndef GPSPPS_REPLAY_H
#define GPSPPS_REPLAY_H

#include <stdio.h>

/*
 * Returns 0 on success, a negative errno when the input cannot be opened
 * or read or the output cannot be written (with a message naming the file
 * on err).
 */
int replay_run(const char *path, FILE *out, FILE *err);

#endif

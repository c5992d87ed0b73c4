/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_watchline.h - `gpsppsctl watch`: one line per status object (one a
 * second), from its "last" member: the second's label, fix, the PPS
 * edge's offset, the NMEA delay, and what was sent to chronyd or why
 * not.  Pure: JSON in, text out.
 */
#ifndef GPSPPS_CTL_WATCHLINE_H
#define GPSPPS_CTL_WATCHLINE_H

#include <stdio.h>

#include <jansson.h>

/* The column titles, once before the lines. */
void ctl_watchline_header(FILE *out);
/* One line for one status object. */
void ctl_watchline_print(const json_t *st, FILE *out);

#endif

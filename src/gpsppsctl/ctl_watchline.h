/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_watchline.h - `gpsppsctl watch`: one line per status object (one a
 * second), from its "last" member: the second's label, fix, the PPS
 * edge's offset, the NMEA delay, and what was sent to chronyd or why
 * not.  Pure: JSON in, text out.
 */
#ifndef GPSPPS_CTL_WATCHLINE_H
#define GPSPPS_CTL_WATCHLINE_H

#include <jansson.h>

/* The column titles, once before the lines.  Both return one
 * newline-terminated line (the caller free()s it; NULL when out of
 * memory). */
char *ctl_watchline_header(void);
/* The line for one status object. */
char *ctl_watchline_render(const json_t *st);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_watchline.h - `gpsppsctl watch`: one line per status object (one a
 * second), from its "last" member: the second's label, fix, the PPS
 * edge's offset, the NMEA delay, and what was sent to chronyd or why
 * not.  Pure: JSON in, text out.
 */
#ifndef GPSPPS_CTL_WATCHLINE_H
#define GPSPPS_CTL_WATCHLINE_H

#include <stdbool.h>

#include <jansson.h>

/*
 * gpsppsd sends a watcher an object on its own once-a-second timer, not
 * at each epoch, so that two objects in a row may carry the same second
 * (the one sent at connection and the first tick; a tick just before the
 * next epoch).  The first repeat is not shown; a second one is (the
 * receiver stalled: the line repeats each second).  A second no object
 * carried is not shown.  Zero-initialise.
 */
struct ctl_watchline_state {
	char label[48];   /* last.time of the previous object, "" for null */
	int repeats;      /* objects in a row with that label, less one */
};

/* Whether the line for st is to be printed; updates s. */
bool ctl_watchline_show(struct ctl_watchline_state *s, const json_t *st);

/* The column titles, once before the lines.  Both return one
 * newline-terminated line (the caller free()s it; NULL when out of
 * memory). */
char *ctl_watchline_header(void);
/* The line for one status object. */
char *ctl_watchline_render(const json_t *st);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_metrics.h - `gpsppsctl metrics`: gpsppsd's status object in the
 * Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector.  Names take the prefix gpspps_,
 * counters end in _total, units are in the names (_seconds, _bytes);
 * labels: type (NMEA sentence), reason (held back), socket (pps, nmea),
 * errno, state.  A member the daemon reports as null (never, unknown)
 * gives no sample.  Pure: JSON in, text out.
 */
#ifndef GPSPPS_CTL_METRICS_H
#define GPSPPS_CTL_METRICS_H

#include <stddef.h>

#include <jansson.h>

/* Every family for one status object; gpspps_up is 1.  Both return the
 * exposition (the caller free()s it; NULL when out of memory). */
char *ctl_metrics_render(const json_t *st);
/* When gpsppsd did not answer: gpspps_up 0 alone. */
char *ctl_metrics_render_down(void);

/*
 * A label value escaped as the format wants it (backslash, double quote
 * and newline as \\, \" and \n) into buf; truncated at len - 1 bytes,
 * never inside an escape.  Returns buf.
 */
const char *ctl_metrics_escape(const char *value, char *buf, size_t len);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rolling.h - statistics of the samples of the last span_ns (pure logic:
 * the caller passes every time, no clock is read).  gpsppsd's status
 * report uses it for the epochs per second, the NMEA delay and the PPS
 * jitter of the last 64 s.
 *
 * Samples are (time, value) pairs added in time order.  A sample older
 * than now - span_ns is forgotten when the summary is taken; when the
 * window holds `capacity` samples, adding one forgets the oldest.
 */
#ifndef GPSPPS_ROLLING_H
#define GPSPPS_ROLLING_H

#include <stdint.h>

struct rolling;

/* capacity >= 1, span_ns > 0.  NULL on allocation failure. */
struct rolling *rolling_create(int capacity, int64_t span_ns);
void rolling_destroy(struct rolling *r);

/* Add a sample taken at t_ns (not before the previous one's time). */
void rolling_add(struct rolling *r, int64_t t_ns, double v);

struct rolling_summary {
	int count;         /* samples in the window */
	double last;       /* the newest one's value (also when expired) */
	int64_t last_t;    /* and its time; 0 when none was ever added */
	/* Over the window, 0 when count is 0 (median, spread) or < 2
	 * (stddev): */
	double mean;
	double stddev;     /* sample standard deviation (n - 1) */
	double median;
	double spread;     /* interquartile range / 1.349: the standard
			    * deviation of a normal distribution, robust
			    * against outliers */
};

/* Forget what is older than now_ns - span_ns, then summarise.  Returns
 * count. */
int rolling_summary(struct rolling *r, int64_t now_ns,
		    struct rolling_summary *out);

#endif

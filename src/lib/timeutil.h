/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timeutil.h - time arithmetic shared by every module.
 *
 * Times inside gpspps are int64_t nanoseconds: CLOCK_REALTIME values are
 * nanoseconds since 1970-01-01 00:00:00 UTC in POSIX time (no leap seconds),
 * CLOCK_MONOTONIC(_RAW) values are nanoseconds since an arbitrary origin.
 * int64_t nanoseconds reach the year 2262, which is far enough for a time
 * server and keeps all arithmetic exact.
 */
#ifndef GPSPPS_TIMEUTIL_H
#define GPSPPS_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TU_NS_PER_SEC INT64_C(1000000000)
#define TU_NS_PER_MS INT64_C(1000000)
#define TU_NS_PER_US INT64_C(1000)
#define TU_SEC_PER_DAY INT64_C(86400)
/* 1024 GPS weeks: what an old receiver's date lags behind after a rollover. */
#define TU_GPS_ROLLOVER_SEC (INT64_C(1024) * 7 * TU_SEC_PER_DAY)

int64_t tu_ts_to_ns(const struct timespec *ts);
struct timespec tu_ns_to_ts(int64_t ns);

/* Read a clock as nanoseconds; aborts on failure (cannot happen for the
 * clocks gpspps uses on Linux). */
int64_t tu_now(clockid_t clock);

/* Floor division and modulo that are correct for negative values. */
int64_t tu_floor_div(int64_t a, int64_t b);
int64_t tu_floor_mod(int64_t a, int64_t b);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day
 * 1-31, not validated here). */
int64_t tu_days_from_civil(int64_t year, int month, int day);
/* Inverse of tu_days_from_civil. */
void tu_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

/* True when year/month/day names a real Gregorian date. */
bool tu_date_valid(int64_t year, int month, int day);

/*
 * Format a realtime value as ISO 8601 UTC with milliseconds, e.g.
 * "2015-04-13T20:26:40.000Z".  When leap_second is true the value must be
 * the POSIX time of the second after 23:59:59 and is printed as 23:59:60.
 * Returns the length written, or -1 when buf is too small (at least 32
 * bytes always suffice).
 */
int tu_format_iso(int64_t ns, bool leap_second, char *buf, size_t len);
/* The same with nanoseconds, "2015-04-13T20:26:40.000000123Z" (at least
 * 40 bytes suffice). */
int tu_format_iso_ns(int64_t ns, char *buf, size_t len);

/*
 * Parse a duration with an optional unit suffix: "ns", "us", "ms", "s",
 * "m", "h", "d" (no suffix means seconds; fractions allowed, e.g. "0.35",
 * "1.5h").  Returns 0 and the value in ns, or -EINVAL.
 */
int tu_parse_duration(const char *s, int64_t *ns);

#endif

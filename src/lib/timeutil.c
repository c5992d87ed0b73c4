/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timeutil.c - see timeutil.h. */
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t tu_ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * TU_NS_PER_SEC + ts->tv_nsec;
}

struct timespec tu_ns_to_ts(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)tu_floor_div(ns, TU_NS_PER_SEC);
	ts.tv_nsec = (long)tu_floor_mod(ns, TU_NS_PER_SEC);
	return ts;
}

int64_t tu_now(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0) {
		abort();
	}
	return tu_ts_to_ns(&ts);
}

int64_t tu_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0))) {
		q--;
	}
	return q;
}

int64_t tu_floor_mod(int64_t a, int64_t b)
{
	return a - tu_floor_div(a, b) * b;
}

/* Howard Hinnant's days_from_civil algorithm (public domain description),
 * written out for int64_t. */
int64_t tu_days_from_civil(int64_t year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = tu_floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t mp = (month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void tu_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = tu_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*year = yoe + era * 400 + (m <= 2);
	*month = m;
	*day = d;
}

static bool is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool tu_date_valid(int64_t year, int month, int day)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
				       31, 31, 30, 31, 30, 31 };
	int max;

	if (month < 1 || month > 12 || day < 1) {
		return false;
	}
	max = mdays[month - 1] + (month == 2 && is_leap_year(year));
	return day <= max;
}

/* digits: 3 (milliseconds) or 9 (nanoseconds). */
static int format_iso(int64_t ns, bool leap_second, int digits, char *buf,
		      size_t len)
{
	int64_t t = leap_second ? ns - TU_NS_PER_SEC : ns;
	int64_t secs = tu_floor_div(t, TU_NS_PER_SEC);
	int64_t frac = tu_floor_mod(t, TU_NS_PER_SEC);
	int64_t days = tu_floor_div(secs, TU_SEC_PER_DAY);
	int64_t sod = secs - days * TU_SEC_PER_DAY;
	int64_t year;
	int month, day, n;

	if (digits == 3) {
		frac /= TU_NS_PER_MS;
	}
	tu_civil_from_days(days, &year, &month, &day);
	n = snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%0*lldZ",
		     (long long)year, month, day, (int)(sod / 3600),
		     (int)(sod / 60 % 60),
		     (int)(sod % 60) + (leap_second ? 1 : 0), digits,
		     (long long)frac);
	if (n < 0 || (size_t)n >= len) {
		return -1;
	}
	return n;
}

int tu_format_iso(int64_t ns, bool leap_second, char *buf, size_t len)
{
	return format_iso(ns, leap_second, 3, buf, len);
}

int tu_format_iso_ns(int64_t ns, char *buf, size_t len)
{
	return format_iso(ns, false, 9, buf, len);
}

static const struct {
	const char *suffix;
	int64_t scale;
} duration_units[] = {
	{ "ns", 1 },
	{ "us", TU_NS_PER_US },
	{ "ms", TU_NS_PER_MS },
	{ "s", TU_NS_PER_SEC },
	{ "m", 60 * TU_NS_PER_SEC },
	{ "h", 3600 * TU_NS_PER_SEC },
	{ "d", 86400 * TU_NS_PER_SEC },
	{ "", TU_NS_PER_SEC },
};

int tu_parse_duration(const char *s, int64_t *ns)
{
	char *end;
	double v;
	size_t i;

	if (s == NULL || *s == '\0') {
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v != v) {
		return -EINVAL;
	}
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strcmp(end, duration_units[i].suffix) == 0) {
			double r = v * (double)duration_units[i].scale;

			if (r > 9.2e18 || r < -9.2e18) {
				return -ERANGE;
			}
			*ns = (int64_t)(r < 0 ? r - 0.5 : r + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

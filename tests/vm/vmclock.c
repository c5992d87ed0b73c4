/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmclock - step the guest's system clock and measure it against the
 * reference clock of the VM tests (vmpps raw=1, gpspps-sim --raw-clock).
 *
 *   vmclock step SECONDS          add SECONDS (may be fractional or
 *                                 negative) to CLOCK_REALTIME, exactly,
 *                                 as an operator's `date -s` would, but
 *                                 without losing the fraction of a second
 *   vmclock error OFFSET LEAPS    print the system clock's error in
 *                                 seconds: CLOCK_REALTIME minus (CLOCK_
 *                                 MONOTONIC_RAW + OFFSET ns) plus LEAPS,
 *                                 the leap seconds inserted since OFFSET
 *                                 was taken (the reference counts them)
 *
 * The reference is what a GPS receiver's time is to a real host: neither
 * steps nor slews of the system clock move it, so this error is what an
 * NTP client of the guest's chronyd would see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

static int vmclock_step(const char *arg)
{
	int64_t delta = (int64_t)(strtod(arg, NULL) * 1e9);
	struct timespec ts = tu_ns_to_ts(tu_now(CLOCK_REALTIME) + delta);

	if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
		fprintf(stderr, "vmclock: clock_settime: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int vmclock_error(const char *offset, const char *leaps)
{
	int64_t raw = tu_now(CLOCK_MONOTONIC_RAW);
	int64_t real = tu_now(CLOCK_REALTIME);
	int64_t ref = raw + strtoll(offset, NULL, 10);

	printf("%.6f\n", (double)(real - ref) / 1e9 + atoi(leaps));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "step") == 0) {
		return vmclock_step(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "error") == 0) {
		return vmclock_error(argv[2], argv[3]);
	}
	fprintf(stderr, "usage: vmclock step SECONDS | "
		"vmclock error OFFSET LEAPS\n");
	return 2;
}

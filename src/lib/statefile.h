/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statefile.h - small values gpsppsd keeps across restarts in its state
 * directory (state-directory, /var/lib/gpspps; systemd's StateDirectory=):
 * one decimal number per file, e.g. "baud", the last rate that decoded.
 */
#ifndef GPSPPS_STATEFILE_H
#define GPSPPS_STATEFILE_H

#include <stddef.h>

/* Read the number in DIR/NAME (one line).  Returns 0, -ENOENT when there
 * is none yet, -EINVAL when it is not a number, or another -errno. */
int statefile_read_long(const char *dir, const char *name, long *out);

/*
 * Write v to DIR/NAME atomically (a temporary file in DIR, renamed over
 * NAME, so a crash leaves the old value or the new one).  Returns 0, or
 * a negative errno with one line in err naming the fix.
 */
int statefile_write_long(const char *dir, const char *name, long v,
			 char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_json.h - reading gpsppsd's status object (plan: status-schema.md,
 * gpsppsd(8)) without a NULL check at every level: a member is named by
 * a dotted path ("chronyd.pps.sent"); a missing member, a null or a value
 * of another type reads as absent.  Pure: no I/O.
 */
#ifndef GPSPPS_CTL_JSON_H
#define GPSPPS_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The member at path, or NULL (also for a JSON null). */
json_t *ctl_json_get(const json_t *root, const char *path);
/* A number (integer or real) at path into *out: true, else false. */
bool ctl_json_num(const json_t *root, const char *path, double *out);
/* The string at path, or NULL. */
const char *ctl_json_str(const json_t *root, const char *path);
/* The integer at path, or dflt. */
long long ctl_json_int(const json_t *root, const char *path, long long dflt);
/* The boolean at path, or dflt. */
bool ctl_json_bool(const json_t *root, const char *path, bool dflt);

/*
 * Seconds with a unit a reader takes in at a glance: "12 ns", "1.200 us",
 * "350.2 ms", "12.5 s".  Returns buf.
 */
const char *ctl_json_fmt_seconds(double s, char *buf, size_t len);

#endif

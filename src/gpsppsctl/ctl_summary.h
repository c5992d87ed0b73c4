/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_summary.h - `gpsppsctl status`: gpsppsd's status object as a human
 * summary in the spirit of `chronyc tracking`: a first line that says
 * "OK: ..." or "NOT OK: " and the first broken link of the chain
 * receiver -> PPS -> pairing -> chronyd, then one aligned "Name : value"
 * line per figure, with units.  Pure: JSON in, text out.
 */
#ifndef GPSPPS_CTL_SUMMARY_H
#define GPSPPS_CTL_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The first line (no newline) into buf.  Returns true when OK. */
bool ctl_summary_verdict(const json_t *st, char *buf, size_t len);

/* The whole summary, verdict first, newline-terminated lines (the caller
 * free()s it; NULL when out of memory). */
char *ctl_summary_render(const json_t *st);

#endif

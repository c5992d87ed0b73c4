/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor.h - `gpsppsctl doctor`: walks the chain receiver -> gpsppsd ->
 * chronyd in order and prints one line per check, PASS / WARN / FAIL,
 * each WARN or FAIL with the fix in one sentence (or, with o->json, one
 * JSON object).
 */
#ifndef GPSPPS_DOCTOR_H
#define GPSPPS_DOCTOR_H

#include <stdio.h>

#include "ctl.h"

/* Returns CTL_EXIT_OK (all pass), CTL_EXIT_WARN or CTL_EXIT_FAIL. */
int doctor_run(const struct ctl_options *o, FILE *out);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor_print.h - doctor's report as a user reads it, one line per
 * check:
 *
 *   PASS  gpsppsd      gpsppsd 0.1.0 running (pid 812, up 3600 s), ...
 *   FAIL  chronyd      chronyd is not running ...  Fix: start chronyd ...
 *
 * or as one JSON object for scripts:
 *
 *   {"version": 1, "result": "fail", "exit": 2, "checks": [
 *     {"check": "gpsppsd", "result": "pass", "message": "...",
 *      "fix": null}, ...]}
 */
#ifndef GPSPPS_DOCTOR_PRINT_H
#define GPSPPS_DOCTOR_PRINT_H

#include <stdio.h>

#include "doctor_judge.h"

void doctor_print_text(const struct doctor_report *rep, FILE *out);
/* Returns 0, or -ENOMEM. */
int doctor_print_json(const struct doctor_report *rep, FILE *out);

#endif

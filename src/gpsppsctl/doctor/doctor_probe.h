/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor_probe.h - gathering doctor's facts (the I/O): gpsppsd's status
 * socket, gpsppsd --check, the devices, /proc, chronyc and chrony.conf.
 * Every external command runs with o->timeout_ms.
 */
#ifndef GPSPPS_DOCTOR_PROBE_H
#define GPSPPS_DOCTOR_PROBE_H

#include "ctl.h"
#include "doctor_facts.h"

/* Fill *f (zeroed first); free with doctor_facts_clear. */
void doctor_probe(const struct ctl_options *o, struct doctor_facts *f);

/* chronyd's side (doctor_probe_chrony.c): chronyc tracking and sources,
 * chrony.conf, chronyd's age. */
void doctor_probe_chrony(const struct ctl_options *o, struct doctor_facts *f);

/* The port probe used while gpsppsd is not running (doctor_probe_port.c):
 * open the port read-only, count bytes and valid sentences at the
 * configured rate and, when none decode, find a rate that does. */
void doctor_probe_port(struct doctor_facts *f);

#endif

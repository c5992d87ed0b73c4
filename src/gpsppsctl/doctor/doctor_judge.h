/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor_judge.h - doctor's verdicts (pure logic: no I/O, no clocks).
 *
 * The chain is judged link by link, in order:
 *
 *   gpsppsd      running and answering on its status socket
 *   config       gpsppsd --check on its configuration
 *   port         the serial port present, not shared with another reader
 *   bytes        bytes arriving
 *   sentences    valid checksums (none: the baud rate, named if known)
 *   fix          the receiver reports a fix
 *   pps-device   PPS device present, readable, no other consumer
 *   pps-edges    edges at 1 Hz, the polarity in use
 *   pairing      samples produced, or why held back and the option to fix
 *   chronyd      chronyd answering chronyc
 *   chrony-conf  SOCK refclocks on exactly gpsppsd's paths
 *   sockets      they exist and gpsppsd's user may write them
 *   sends        gpsppsd's deliveries succeed
 *   reach        chronyd's reach for both refclocks
 *   selection    PPS selected, or why not
 *   clock        the system clock synchronised
 *
 * A check that cannot be judged because a link before it is broken is
 * DOCTOR_SKIP, so that the first WARN or FAIL names the cause.
 */
#ifndef GPSPPS_DOCTOR_JUDGE_H
#define GPSPPS_DOCTOR_JUDGE_H

#include <stddef.h>

#include "doctor_facts.h"

enum doctor_level {
	DOCTOR_PASS,
	DOCTOR_WARN,
	DOCTOR_FAIL,
	DOCTOR_SKIP,
};

#define DOCTOR_MAX_CHECKS 16
#define DOCTOR_MSG 400

struct doctor_result {
	const char *id;              /* stable name, e.g. "sentences" */
	enum doctor_level level;
	char msg[DOCTOR_MSG];        /* what was found */
	char fix[DOCTOR_MSG];        /* one sentence; "" on PASS and SKIP */
};

struct doctor_report {
	size_t n;
	struct doctor_result r[DOCTOR_MAX_CHECKS];
};

/* chronyd drops a locked pairing past this (chrony 4.1 and later). */
#define DOCTOR_LOCK_LIMIT_S 0.4
/* Seconds without a byte or an edge before the link counts as dead. */
#define DOCTOR_SILENCE_S 5.0

/* Judge every check, in the order above. */
void doctor_judge(const struct doctor_facts *f, struct doctor_report *rep);

/* Exit status for a report: 0 all pass (or skipped), 1 warnings,
 * 2 a failure. */
int doctor_judge_exit_status(const struct doctor_report *rep);

/* "PASS", "WARN", "FAIL", "SKIP". */
const char *doctor_judge_level_name(enum doctor_level l);

/* Whether a user (uid, groups) may do `want` (a mask of S_IRUSR-style
 * bits for the owner: 4 read, 2 write, 1 execute) on a file of that mode
 * and owner; root may always read and write, and execute when anyone
 * may. */
bool doctor_judge_user_may(const struct doctor_user *u, mode_t mode, uid_t uid,
			   gid_t gid, unsigned want);

#endif

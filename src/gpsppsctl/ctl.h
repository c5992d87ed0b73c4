/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl.h - what gpsppsctl's verbs share: the options, named as
 * gpspps-calibrate names them, and the exit statuses.
 */
#ifndef GPSPPS_CTL_H
#define GPSPPS_CTL_H

#include <stdbool.h>

#define CTL_DEFAULT_SOCKET GPSPPS_RUNDIR "/status.sock"
#define CTL_DEFAULT_CONF "/etc/chrony/chrony.conf"
#define CTL_DEFAULT_CHRONYC "chronyc"
#define CTL_DEFAULT_TIMEOUT_MS 3000

/* Exit statuses: doctor's 0 all pass, 1 warnings, 2 a failure; the other
 * verbs 0 or 2 (could not ask gpsppsd), 64 a usage error. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_WARN 1
#define CTL_EXIT_FAIL 2
#define CTL_EXIT_USAGE 64

struct ctl_options {
	const char *socket;       /* gpsppsd's status socket (--socket) */
	const char *conf;         /* chrony.conf, include/confdir followed (--conf) */
	const char *chronyc;      /* chronyc command line, split on blanks (--chronyc) */
	const char *gpsppsd_conf; /* gpsppsd.conf when the daemon does not say
				   * (NULL: the daemon's, else the default) */
	bool json;                /* --json */
	int timeout_ms;           /* for each question to gpsppsd or chronyc */
};

#endif

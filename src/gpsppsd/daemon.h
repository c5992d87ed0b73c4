/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon.h - gpsppsd's run time: the serial port, the PPS source, the
 * decoder, the pairing engine and the two chronyd sockets, wired together
 * in one event loop.
 *
 * Start-up order does not matter: the serial port is retried with back-off
 * when missing or lost, chronyd may be absent or restart at any time.  A
 * PPS source that cannot be opened at start-up is a configuration error;
 * one that fails later is reopened with back-off.
 */
#ifndef GPSPPS_DAEMON_H
#define GPSPPS_DAEMON_H

#include <stdio.h>

#include "conf.h"

/* Exit codes (sysexits.h values where one fits). */
#define EXIT_CONFIG 78     /* EX_CONFIG: bad configuration or device */
#define EXIT_SOFTWARE 70   /* EX_SOFTWARE: internal error */

/*
 * Run until SIGINT or SIGTERM.  With dump non-NULL, one JSON object per
 * epoch that named its second (the whole-second one, or a later one
 * standing in for it) is written there: the epoch, the edge and burst
 * timestamps, the offsets sent, or why nothing was sent.  Returns the
 * process exit code.
 */
int daemon_run(const struct gpsppsd_config *cfg, FILE *dump);

#endif

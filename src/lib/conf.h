/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * conf.h - gpsppsd settings: one table of keys (name, type, default,
 * range, help) serves the config file, the long options and --help, in
 * the manner of linuxptp's config.c.
 *
 * Config file: `key value` lines, '#' starts a comment, blank lines are
 * ignored; the keys are the long option names without "--".  Values given
 * on the command line win over the file.  Every error names file:line (or
 * the option) and the value, and all errors are reported, not just the
 * first.
 */
#ifndef GPSPPS_CONF_H
#define GPSPPS_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pps.h"

#define CONF_PATH_MAX 256
#define CONF_LINE_MAX 1022   /* bytes of a file line, without its newline */

struct gpsppsd_config {
	char device[CONF_PATH_MAX];      /* NMEA serial port */
	long baud;                       /* 0: auto (see baudprobe.h) */
	char pps[CONF_PATH_MAX];         /* --pps spec, "none" for NMEA only */
	long pps_edge;                   /* enum pps_polarity */
	char pps_socket[CONF_PATH_MAX];
	char nmea_socket[CONF_PATH_MAX];
	char status_socket[CONF_PATH_MAX]; /* "none": no status socket */
	bool nmea_samples;               /* send NMEA timing samples */
	int64_t window_min_ns;
	int64_t window_max_ns;
	bool next_second;
	long min_valid;
	int64_t guard_ns;
	long confirm;
	int64_t idle_flush_ns;           /* close an epoch after this idle */
	int64_t char_time_ns;            /* -1: auto (serial_line_char_ns) */
	long sched_priority;             /* SCHED_FIFO priority, 0: none */
	bool lock_memory;                /* mlockall */
	bool debug;
	char state_directory[CONF_PATH_MAX]; /* kept across restarts */
	char share_pty[CONF_PATH_MAX];   /* "none", or the symlink */
	char share_tcp[CONF_PATH_MAX];   /* "none", or ADDR:PORT */
	char rollover_floor[CONF_PATH_MAX]; /* YYYY-MM-DD, see conf_floor_s */
	/* Not a key: the config file that was read, "" when none (a missing
	 * default file); set by the program for the status report. */
	char config_file[CONF_PATH_MAX];
};

/* Fill *cfg with the compiled-in defaults. */
void conf_defaults(struct gpsppsd_config *cfg);

/*
 * Read a config file into *cfg.  Returns the number of errors (each
 * printed to err as "FILE:LINE: message"), or -1 when the file cannot be
 * opened (message printed too; with missing_ok, a missing file is not an
 * error and returns 0).
 */
int conf_load_file(struct gpsppsd_config *cfg, const char *path,
		   bool missing_ok, FILE *err);

/* The same from an open stream, named name in the messages ("FILE:LINE:
 * message", one line each, also for a line too long or holding a NUL
 * byte: each file line is judged alone).  Returns the number of errors. */
int conf_load_stream(struct gpsppsd_config *cfg, FILE *in, const char *name,
		     FILE *err);

/* Set one key from text (as an option or file line would).  Returns 0,
 * or -1 with a message (without location) in msg. */
int conf_set(struct gpsppsd_config *cfg, const char *key, const char *value,
	     char *msg, size_t msglen);

/* Cross-field checks (window order, ...).  Returns the number of errors
 * printed to err. */
int conf_validate(const struct gpsppsd_config *cfg, FILE *err);

/* rollover-floor as seconds since 1970 in *floor_s; -EINVAL when it is
 * not a date YYYY-MM-DD between 1980 and 2200. */
int conf_floor_s(const struct gpsppsd_config *cfg, int64_t *floor_s);

/* What the daemon would refuse at start-up (exit 78) but can be known
 * without opening anything: socket paths chronyd cannot take (see
 * sock_path_check).  For --check; each message starts with where the
 * value was set.  Returns the number of errors printed to err. */
int conf_check_startup(const struct gpsppsd_config *cfg, FILE *err);

/* Print "  --key VALUE   help (default: X)" for every key. */
void conf_print_help(FILE *out);

/* Iterate the table: name of key i, or NULL past the end; *takes_arg is
 * false for boolean switches on the command line. */
const char *conf_key_name(int i, bool *takes_arg);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chronyc_parse.h - parsers for the CSV output of `chronyc -c` (pure logic:
 * no I/O; fed text, returns records).  Used on chronyc's live output and on
 * saved snapshots, so every input is treated as untrusted: any bytes are
 * accepted, nothing is read past `len`, and a malformed line is an error,
 * never a crash (fuzzed by tests/fuzz/fuzz_chronyc.c).
 *
 * Formats (chrony 4.x, `chronyc -c`, see shared/notes/chrony.md):
 *
 *   sources      M,S,name,stratum,poll,reach(octal),lastrx,
 *                adjusted offset,measured offset,error        (10 fields)
 *   sourcestats  name,NP,NR,span,freq ppm,skew ppm,offset,sd  (8 fields)
 *   tracking     refid hex,name,stratum,ref time,system offset,last
 *                offset,RMS offset,freq ppm,resid freq ppm,skew ppm,root
 *                delay,root dispersion,update interval,leap status
 *                                                             (14 fields)
 *
 * Offsets are in seconds, "positive: the local clock is ahead of the
 * source" (chronyc's sign).  Lines end with LF or CR LF.
 */
#ifndef GPSPPS_CHRONYC_PARSE_H
#define GPSPPS_CHRONYC_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest source name kept (chronyc prints host names and addresses). */
#define CP_NAME_MAX 64

struct cp_source {
	char mode;               /* '^' server, '=' peer, '#' refclock */
	char state;              /* '*', '+', '-', 'x', '~', '?' */
	char name[CP_NAME_MAX];
	int stratum;
	int poll;                /* log2 seconds, may be negative */
	unsigned reach;          /* 8-bit register (printed in octal) */
	double lastrx;           /* seconds since the last sample, or NAN */
	double offset;           /* adjusted offset of the last sample, s */
	double measured;         /* measured offset of the last sample, s */
	double error;            /* its error bound, s */
};

struct cp_sourcestats {
	char name[CP_NAME_MAX];
	int np;                  /* samples in the regression */
	int nr;                  /* runs of residuals with the same sign */
	double span;             /* seconds between oldest and newest */
	double freq;             /* ppm */
	double skew;             /* ppm */
	double offset;           /* estimated offset now, s */
	double sd;               /* standard deviation of the samples, s */
};

enum cp_leap {
	CP_LEAP_NORMAL,
	CP_LEAP_INSERT,
	CP_LEAP_DELETE,
	CP_LEAP_UNSYNC,          /* "Not synchronised" */
	CP_LEAP_UNKNOWN,         /* any other word */
};

struct cp_tracking {
	char refid_hex[9];       /* "50505300" */
	char refname[CP_NAME_MAX]; /* "PPS", an address, or a host name */
	int stratum;
	double ref_time;         /* seconds since 1970 */
	double system_offset;
	double last_offset;
	double rms_offset;
	double freq;
	double resid_freq;
	double skew;
	double root_delay;
	double root_dispersion;
	double update_interval;
	enum cp_leap leap;
	char leap_word[32];      /* as printed, e.g. "Not synchronised" */
};

/* Result codes: 0 on success, or one of these negative values. */
enum {
	CP_ERR_FORMAT = -1,      /* wrong field count or a bad number */
	CP_ERR_NOT_FOUND = -2,   /* no line with the requested name */
};

/*
 * Parse one line (without or with its line ending; len bytes, need not
 * be NUL-terminated).  Return 0 or CP_ERR_FORMAT.
 */
int cp_parse_source_line(const char *line, size_t len, struct cp_source *out);
int cp_parse_sourcestats_line(const char *line, size_t len,
			      struct cp_sourcestats *out);
int cp_parse_tracking_line(const char *line, size_t len,
			   struct cp_tracking *out);

/*
 * Search a whole output (several lines) for the line whose name field
 * equals `name` (exact match; refclock names are refids such as "NMEA").
 * Lines that do not parse are skipped.  Return 0, CP_ERR_NOT_FOUND.
 */
int cp_find_source(const char *text, size_t len, const char *name,
		   struct cp_source *out);
int cp_find_sourcestats(const char *text, size_t len, const char *name,
			struct cp_sourcestats *out);

/* Parse the first line of a `chronyc -c tracking` output that parses.
 * Return 0 or CP_ERR_FORMAT. */
int cp_parse_tracking(const char *text, size_t len, struct cp_tracking *out);

/*
 * A saved snapshot for --from-file: one `chronyc -c sourcestats` line,
 * optionally preceded by a timestamp and white space or a comma:
 *
 *   NMEA,64,30,1008,...                       no time
 *   1795769479.5 NMEA,64,...                  seconds since 1970
 *   2026-11-27T08:51:19Z NMEA,64,...          ISO 8601 (also with a space
 *   2026-11-27 08:51:19.25+01:00,NMEA,...     for T; no zone means UTC)
 *
 * Returns 0 with *t (seconds since 1970, NAN without a timestamp), 1 for a
 * blank or comment ('#') line, CP_ERR_FORMAT otherwise.
 */
int cp_parse_snapshot_line(const char *line, size_t len, double *t,
			   struct cp_sourcestats *out);

/* One sample line of chronyd's refclocks.log. */
struct cp_refclock_sample {
	double t;                /* sample time, seconds since 1970 (UTC) */
	char refid[8];
	int dpoll;               /* driver poll counter */
	char leap;               /* 'N', '+', '-', '?' */
	int pps;                 /* PPS flag column */
	double raw;              /* reference - system, before the offset */
	double cooked;           /* raw + configured offset (+ corrections) */
	double dispersion;
};

/*
 * Parse one refclocks.log line:
 *   2026-11-27 08:50:44.295775 NMEA    0 N 0 -2.957749e-01 -1.957749e-01  1.000e-03
 * Returns 0 for a raw sample, 1 for a line to skip (the ===== rulers, the
 * column header, filtered samples with '-' in the DP and P columns, blank
 * lines), CP_ERR_FORMAT for anything else.
 */
int cp_parse_refclocks_line(const char *line, size_t len,
			    struct cp_refclock_sample *out);

/* Short name of a leap status for reports: "normal", "not synchronised". */
const char *cp_leap_name(enum cp_leap leap);

#endif

/*
 * chronyc_parse.h - parsers for the CSV output of `chronyc -c` (pure logic:
 * no I/O; fed text, returns records).  Used on chronyc's live output and on
 * saved snapshots, so every input is treated as untrusted: any bytes are
 * accepted, nothing is read past `len`, and a malformed line is an error,
 * never a crash (fuzzed by calibrate/fuzz_chronyc.c).
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

/* Short name of a leap status for reports: "normal", "not synchronised". */
const char *cp_leap_name(enum cp_leap leap);

#endif

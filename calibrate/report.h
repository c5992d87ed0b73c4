/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report.h - gpspps-calibrate's final report, for people (text with a
 * histogram) and for programs (--json, through libjansson).  Both print
 * the same facts from one struct cal_report.
 */
#ifndef GPSPPS_REPORT_H
#define GPSPPS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "confedit.h"
#include "estimate.h"

enum cal_mode {
	CAL_LIVE,        /* chronyc snapshots taken now */
	CAL_LOG,         /* --from-log refclocks.log */
	CAL_FILE,        /* --from-file saved sourcestats snapshots */
};

/* Why a snapshot (or a line of an input file) was not used. */
enum cal_reject {
	REJ_CHRONYC,     /* chronyc failed or printed nothing usable */
	REJ_UNSYNC,      /* tracking: "Not synchronised" (or unknown) */
	REJ_REF_SELF,    /* the system clock follows the NMEA source itself */
	REJ_NO_STATS,    /* no sourcestats line for the refid, or NP < 8 */
	REJ_UNREACHABLE, /* sources: reach register is 0 */
	REJ_BAD_LINE,    /* offline: a line that does not parse */
	REJ_COUNT
};

/* Stable short name ("not-synchronised") for JSON and the text report. */
const char *report_reject_name(enum cal_reject r);

/* Exit codes, documented in gpspps-calibrate(1). */
enum cal_exit {
	CAL_EXIT_OK = 0,
	CAL_EXIT_ERROR = 1,      /* run-time error (I/O, out of memory) */
	CAL_EXIT_USAGE = 2,      /* bad command line */
	CAL_EXIT_UNUSABLE = 3,   /* result unusable: nothing written */
	CAL_EXIT_NO_REFCLOCK = 4, /* chrony.conf unreadable, refclock absent */
	CAL_EXIT_WRITE = 5,      /* --write failed: file untouched */
	CAL_EXIT_APPLY = 6,      /* written, but `chronyc offset` failed */
};

struct cal_report {
	enum cal_mode mode;
	const char *input;         /* offline input file */
	const char *conf;          /* chrony.conf given with --conf */
	const char *refid;
	const struct ce_refclock *rc; /* NULL when the conf was not read */
	double configured;         /* offset in effect, NAN when unknown */
	double log_configured;     /* --from-log: median cooked - raw */
	double interval_s;         /* live: seconds between snapshots */
	double elapsed_s;          /* live: run time */
	bool interrupted;          /* live: ended by a signal */
	bool precision_reached;    /* live: stopped early by --precision */
	uint64_t rejected[REJ_COUNT];
	uint64_t other_lines;      /* offline: lines of other refids */
	bool have_result;
	struct est_result res;
	const struct est *est;     /* for the histogram */
	double new_offset;         /* res.median */
	double measured;           /* new_offset - configured */
	const char *unusable;      /* why nothing may be written, or NULL */
	/* Write-back outcome. */
	bool write_requested;
	bool written;
	char write_msg[512];
	bool apply_requested;
	bool applied;
	char apply_msg[512];
	int exit_code;
};

void report_text(FILE *f, const struct cal_report *r);
/* Returns 0, or -ENOMEM. */
int report_json(FILE *f, const struct cal_report *r);

/* Histogram width used by both reports. */
#define REPORT_BINS 12

#endif

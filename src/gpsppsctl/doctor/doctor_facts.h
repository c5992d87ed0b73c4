/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor_facts.h - what `gpsppsctl doctor` found out about the chain, as
 * plain data: filled by doctor_probe (the I/O), judged by doctor_judge
 * (pure logic), so that every verdict can be tested from fixtures.
 *
 * Strings are NUL-terminated and empty when unknown; numbers are valid
 * only where their flag says so.
 */
#ifndef GPSPPS_DOCTOR_FACTS_H
#define GPSPPS_DOCTOR_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "chronyc_parse.h"

#define DOCTOR_STR 256
#define DOCTOR_MAX_HOLDERS 4
#define DOCTOR_MAX_GROUPS 64
#define DOCTOR_MAX_SOCKS 4

/* A path as stat() saw it, and whether gpsppsd's user can reach it. */
struct doctor_file {
	bool probed;            /* false: not looked at */
	int err;                /* 0, or the errno of stat() (ENOENT) */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char owner[32];         /* user and group names (numbers if none) */
	char group[32];
	bool dirs_searchable;   /* every parent directory has x for the user */
};

/* A process other than gpsppsd that holds a device open. */
struct doctor_holder {
	pid_t pid;
	char comm[32];
};

/* The user gpsppsd runs as (daemon.user), resolved. */
struct doctor_user {
	bool known;
	char name[64];
	uid_t uid;
	size_t ngroups;         /* groups[0] is the primary group */
	gid_t groups[DOCTOR_MAX_GROUPS];
};

/* A SOCK refclock of chrony.conf. */
struct doctor_rc {
	bool found;
	char refid[5];
	char lock[5];
	bool noselect;
	char path[DOCTOR_STR];
	char where[DOCTOR_STR]; /* "FILE:LINE" */
};

/* gpsppsd's settings: from its status object when it answers, else from
 * its configuration file. */
struct doctor_setup {
	char device[DOCTOR_STR];
	long baud;
	char pps[DOCTOR_STR];          /* the --pps spec, "none" */
	char pps_socket[DOCTOR_STR];
	char nmea_socket[DOCTOR_STR];
	bool nmea_samples;
	double window_min_s, window_max_s;
	bool next_second;
};

struct doctor_facts {
	/* gpsppsd's status socket */
	char socket[DOCTOR_STR];
	json_t *status;                /* NULL: no answer */
	int status_rc;                 /* negative errno of the question */
	char status_err[DOCTOR_STR];
	struct doctor_setup setup;
	bool setup_known;              /* false: no status, no config */
	char setup_from[DOCTOR_STR];   /* where setup came from */

	/* gpsppsd --check */
	bool check_ran;
	int check_status;              /* exit status, -1 could not run */
	char check_what[DOCTOR_STR];   /* the file or command line checked */
	char check_out[DOCTOR_STR];    /* first line of its complaint */

	/* the serial port */
	struct doctor_file device;
	size_t n_dev_holders;
	struct doctor_holder dev_holders[DOCTOR_MAX_HOLDERS];
	/* read-only probe of the port, only while gpsppsd is not running */
	bool probed;
	int probe_err;                 /* negative errno of the open */
	char probe_errmsg[DOCTOR_STR];
	unsigned long probe_bytes;     /* at the configured rate */
	unsigned long probe_sentences; /* valid sentences at that rate */
	long probe_decoded_baud;       /* a rate that decoded, 0 none */

	/* the PPS device (kernel backend) */
	char pps_path[DOCTOR_STR];     /* "" when there is no device file */
	struct doctor_file pps_dev;
	size_t n_pps_holders;
	struct doctor_holder pps_holders[DOCTOR_MAX_HOLDERS];

	/* chronyd */
	bool chronyc_ran;              /* false: chronyc not runnable */
	int chronyc_status;            /* exit status of chronyc -c tracking */
	char chronyc_err[DOCTOR_STR];
	bool tracking_ok;
	struct cp_tracking tracking;
	double chronyd_age_s;          /* youngest chronyd process, < 0 none */
	char *sources;                 /* `chronyc -c sources` output */
	size_t sources_len;

	/* chrony.conf */
	char conf[DOCTOR_STR];
	bool conf_ok;
	char conf_err[DOCTOR_STR];
	size_t conf_files;
	struct doctor_rc pps_rc, nmea_rc;
	size_t n_socks;                /* every SOCK refclock path, in order */
	char socks[DOCTOR_MAX_SOCKS][DOCTOR_STR];

	/* chronyd's sockets, and who sends to them */
	struct doctor_file pps_sock, nmea_sock;
	struct doctor_user user;
};

/* Free what the facts own (status, sources); the struct itself is the
 * caller's. */
void doctor_facts_clear(struct doctor_facts *f);

#endif

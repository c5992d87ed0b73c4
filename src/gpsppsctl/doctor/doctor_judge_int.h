/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor_judge_int.h - what the judge's files share: the state carried
 * from link to link, result setters and status-object accessors.
 * Internal to doctor_judge*.c.
 */
#ifndef GPSPPS_DOCTOR_JUDGE_INT_H
#define GPSPPS_DOCTOR_JUDGE_INT_H

#include <stdbool.h>

#include "ctl_json.h"
#include "doctor_judge.h"

/* What the links judged so far allow the later ones to assume. */
struct doctor_judge_ctx {
	const struct doctor_facts *f;
	const json_t *st;            /* the status object, or NULL */
	bool port_ok, bytes_ok, sentences_ok, pps_ok;
	bool chronyd_up;
	const char *pps_refid, *nmea_refid;
	bool pps_reached;
};

void doctor_judge_say(struct doctor_result *r, enum doctor_level l,
		      const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));
void doctor_judge_fix(struct doctor_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "srwxr-xr-x root:root" for a stat()ed file. */
void doctor_judge_file_desc(const struct doctor_file *fl, char *buf,
			    size_t len);

/* The first source of `chronyc -c sources` for which pred is true, into
 * *out; false when none. */
bool doctor_judge_find_source(const struct doctor_facts *f,
			      bool (*pred)(const struct cp_source *,
					   const void *),
			      const void *arg, struct cp_source *out);

/* Receiver side, doctor_judge.c order. */
void doctor_judge_receiver(struct doctor_judge_ctx *c,
			   struct doctor_report *rep);
/* The PPS input and pairing (doctor_judge_pps.c). */
void doctor_judge_pps(struct doctor_judge_ctx *c, struct doctor_report *rep);
void doctor_judge_pairing(struct doctor_judge_ctx *c, struct doctor_result *r);
/* The chronyd side (doctor_judge_chrony.c). */
void doctor_judge_chrony(struct doctor_judge_ctx *c, struct doctor_report *rep);
/* PPS selection and the system clock (doctor_judge_select.c). */
void doctor_judge_selection(struct doctor_judge_ctx *c,
			    struct doctor_report *rep);

#endif

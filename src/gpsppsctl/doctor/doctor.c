/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor.c - see doctor.h: probe, judge, print. */
#include "doctor.h"
#include "doctor_judge.h"
#include "doctor_print.h"
#include "doctor_probe.h"

int doctor_run(const struct ctl_options *o, FILE *out)
{
	struct doctor_facts f;
	struct doctor_report rep;

	doctor_probe(o, &f);
	doctor_judge(&f, &rep);
	doctor_facts_clear(&f);
	if (o->json) {
		if (doctor_print_json(&rep, out) < 0) {
			return CTL_EXIT_FAIL;
		}
	} else {
		doctor_print_text(&rep, out);
	}
	return doctor_judge_exit_status(&rep);
}

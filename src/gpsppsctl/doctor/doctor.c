/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor.c - see doctor.h.  A placeholder until the checks land. */
#include "doctor.h"

int doctor_run(const struct ctl_options *o, FILE *out)
{
	(void)o;
	fprintf(out, "FAIL  doctor: not implemented yet\n");
	return CTL_EXIT_FAIL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_facts.c - see doctor_facts.h. */
#include <stdlib.h>

#include "doctor_facts.h"

void doctor_facts_clear(struct doctor_facts *f)
{
	json_decref(f->status);
	f->status = NULL;
	free(f->sources);
	f->sources = NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * doctor_proc.h - what /proc says about other processes: who holds a
 * device open, how long ago a program started, and a running program's
 * executable and command line.  Processes doctor may not look into
 * (another user's, without root) are passed over.
 */
#ifndef GPSPPS_DOCTOR_PROC_H
#define GPSPPS_DOCTOR_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "doctor_facts.h"

/* Processes other than `exclude` and doctor itself with an fd open on
 * `path` (symbolic links resolved; none for a pty, whose other holder is
 * the program behind it).  Returns how many were written. */
size_t doctor_proc_holders(const char *path, pid_t exclude,
			   struct doctor_holder *out, size_t max);

/* Seconds since the youngest process named `comm` started, or -1 when
 * none runs. */
double doctor_proc_youngest(const char *comm);

/* The executable of `pid` into exe, and its arguments (argv[1..]) as a
 * NULL-terminated malloc'ed vector pointing into one malloc'ed block
 * (*blob).  Returns 0 or a negative errno. */
int doctor_proc_cmdline(pid_t pid, char *exe, size_t exelen, char ***argv,
			char **blob);

#endif

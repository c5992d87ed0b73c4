/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * errmsg.h - the one line a failing function writes into its caller's
 * char *err, size_t errlen (doc/hacking.md, Errors).  Pure: no I/O.
 */
#ifndef GPSPPS_ERRMSG_H
#define GPSPPS_ERRMSG_H

#include <stddef.h>

/* printf into err, truncated to errlen - 1 characters; nothing when err
 * is NULL or errlen 0. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_output.h - replace a file atomically, as node_exporter's textfile
 * collector wants it: the text goes to a temporary file in the same
 * directory (FILE.XXXXXX, which the collector ignores), mode 0644, then
 * rename()s over FILE, so a reader sees the old or the new file whole.
 */
#ifndef GPSPPS_CTL_OUTPUT_H
#define GPSPPS_CTL_OUTPUT_H

#include <stddef.h>

/* 0, or a negative errno with err naming the file and the fix; on an
 * error FILE is untouched and no temporary file remains. */
int ctl_output_replace(const char *path, const char *text, size_t len,
		       char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_text.h - a growing string that gpsppsctl's renderers print into, so
 * that they stay pure (JSON in, text out, no FILE).  Out of memory is
 * remembered, not returned by each call: ctl_text_take() then gives NULL.
 */
#ifndef GPSPPS_CTL_TEXT_H
#define GPSPPS_CTL_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct ctl_text {
	char *buf;
	size_t len, cap;
	bool failed;
};

/* Start empty: struct ctl_text t = CTL_TEXT_INIT; */
#define CTL_TEXT_INIT { NULL, 0, 0, false }

void ctl_text_printf(struct ctl_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_text_vprintf(struct ctl_text *t, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* The text (NUL-terminated, "" if nothing was printed; the caller
 * free()s it), or NULL when memory ran out.  t is empty afterwards. */
char *ctl_text_take(struct ctl_text *t);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_text.c - see ctl_text.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_text.h"

#define CTL_TEXT_CHUNK 1024

static bool ctl_text_reserve(struct ctl_text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : CTL_TEXT_CHUNK;
	char *p;

	while (cap < t->len + more + 1) {
		cap *= 2;
	}
	if (cap == t->cap) {
		return true;
	}
	p = realloc(t->buf, cap);
	if (!p) {
		t->failed = true;
		return false;
	}
	t->buf = p;
	t->cap = cap;
	return true;
}

void ctl_text_vprintf(struct ctl_text *t, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (t->failed || n < 0 || !ctl_text_reserve(t, (size_t)n)) {
		t->failed = true;
		return;
	}
	vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	t->len += (size_t)n;
}

void ctl_text_printf(struct ctl_text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_text_vprintf(t, fmt, ap);
	va_end(ap);
}

char *ctl_text_take(struct ctl_text *t)
{
	char *out = t->buf;

	if (!t->failed && !out) {
		out = calloc(1, 1);
	}
	if (t->failed) {
		free(out);
		out = NULL;
	}
	*t = (struct ctl_text)CTL_TEXT_INIT;
	return out;
}

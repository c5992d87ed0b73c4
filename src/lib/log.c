/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c - see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "timeutil.h"

static const char *log_prog = "gpspps";
static enum log_level log_max = LOG_LVL_NOTICE;
static bool log_prefix;

void log_init(const char *progname, enum log_level max_level,
	      bool prefix_level)
{
	log_prog = progname;
	log_max = max_level;
	log_prefix = prefix_level;
}

void log_set_level(enum log_level max_level)
{
	log_max = max_level;
}

bool log_enabled(enum log_level level)
{
	return level <= log_max;
}

static const char *level_word(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERR:
		return "error: ";
	case LOG_LVL_WARN:
		return "warning: ";
	case LOG_LVL_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

__attribute__((format(printf, 2, 0)))
static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	if (!log_enabled(level)) {
		return;
	}
	if (log_prefix) {
		fprintf(stderr, "<%d>", (int)level);
	} else {
		fprintf(stderr, "%s: %s", log_prog, level_word(level));
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_ratelimit *rl, enum log_level level,
		 const char *fmt, ...)
{
	int64_t now = tu_now(CLOCK_MONOTONIC);
	va_list ap;

	if (rl->window_start == 0 || now - rl->window_start >= rl->interval_ns) {
		rl->window_start = now;
		rl->printed = 0;
	}
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		return;
	}
	rl->printed++;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
	if (rl->suppressed > 0 && log_enabled(level)) {
		log_msg(level, "(%llu similar messages suppressed)",
			(unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - leveled logging to stderr (systemd-journald picks the level up
 * from the "<N>" prefix when stderr is the journal) with rate limiting for
 * per-second events.
 */
#ifndef GPSPPS_LOG_H
#define GPSPPS_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Messages above max_level are discarded.  prefix_level: print "<N>"
 * prefixes (for journald) instead of "gpsppsd: warning: " text. */
void log_init(const char *progname, enum log_level max_level,
	      bool prefix_level);
void log_set_level(enum log_level max_level);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A rate limiter for one kind of message: at most `burst` messages per
 * `interval_ns` of CLOCK_MONOTONIC; when messages were suppressed, the
 * next one that passes says how many.  Zero-initialise, then set
 * interval_ns and burst.
 */
struct log_ratelimit {
	int64_t interval_ns;
	unsigned burst;
	int64_t window_start;
	unsigned printed;
	uint64_t suppressed;
};

void log_limited(struct log_ratelimit *rl, enum log_level level,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif

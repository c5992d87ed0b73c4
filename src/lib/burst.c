/* SPDX-License-Identifier: GPL-2.0-or-later */
/* burst.c - see burst.h. */
#include "burst.h"

#include <stdbool.h>
#include <stdlib.h>

#include "timeutil.h"

/* Burst starts further apart than this say nothing about the rate. */
#define PERIOD_MAX_NS (2 * TU_NS_PER_SEC)

struct burst_pacer {
	int64_t char_ns;
	int64_t start;        /* first byte of the current burst */
	int64_t last_data;    /* last read that got bytes */
	size_t got;           /* bytes of the current burst so far */
	size_t prev_len;      /* bytes of the previous burst, 0: unknown */
	int64_t period;       /* between the last two starts, 0: unknown */
	int64_t prev_period;  /* the one before */
	int64_t prev_dur;     /* first to last read of the previous burst */
	bool started;
};

struct burst_pacer *burst_pacer_create(int64_t char_ns)
{
	struct burst_pacer *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		p->char_ns = char_ns > 0 ? char_ns : 1;
	}
	return p;
}

void burst_pacer_destroy(struct burst_pacer *p)
{
	free(p);
}

/* Bursts come at a steady rate (the last two intervals agree to 1/8) and
 * the last took at most 3/4 of an interval.  The second rules out bursts
 * read together (quiet spells under the burst gap): an interval seen as
 * two or more real ones would otherwise allow a wait past the next burst's
 * start. */
static bool burst_pacer_steady(const struct burst_pacer *p)
{
	int64_t d = p->period - p->prev_period;

	return p->period > 0 && p->prev_period > 0 &&
	       (d < 0 ? -d : d) <= p->prev_period / 8 &&
	       p->prev_dur <= p->period / 4 * 3;
}

/* Wait from now for the rest of the burst, as the last one was long; only
 * at a steady rate, and up to two idle times short of half an interval
 * after the start.  Two bursts read as one (a quiet spell under the burst
 * gap) double the interval seen: half of it is then one real interval,
 * and the two idle times still find the line quiet before the next burst
 * (three or more read as one took over 3/4 of the interval seen). */
static int64_t burst_pacer_plan(const struct burst_pacer *p, int64_t now)
{
	size_t rem = p->prev_len > p->got ? p->prev_len - p->got : 0;
	int64_t wait, room;

	if (!burst_pacer_steady(p)) {
		return now + BURST_IDLE_NS;
	}
	if (rem > BURST_MAX_CHARS) {
		rem = BURST_MAX_CHARS;
	}
	wait = (int64_t)rem * p->char_ns - BURST_IDLE_NS;
	room = p->start + p->period / 2 - 2 * BURST_IDLE_NS - now;
	wait = wait < room ? wait : room;
	return now + (wait > BURST_IDLE_NS ? wait : BURST_IDLE_NS);
}

int64_t burst_pacer_start(struct burst_pacer *p, int64_t now, size_t n)
{
	int64_t since = now - p->start;

	p->prev_period = p->period;
	p->period = p->started && since > 0 && since < PERIOD_MAX_NS ?
		    since : 0;
	p->started = true;
	p->start = now;
	p->last_data = now;
	p->got = n;
	return burst_pacer_plan(p, now);
}

int64_t burst_pacer_next(struct burst_pacer *p, int64_t now, size_t n)
{
	if (n > 0) {
		p->got += n;
		p->last_data = now;
		return burst_pacer_plan(p, now);
	}
	if (now - p->last_data < BURST_IDLE_NS) {
		/* Called early: wait out the rest of the idle time. */
		return p->last_data + BURST_IDLE_NS;
	}
	p->prev_len = p->got;
	p->prev_dur = p->last_data - p->start;
	return -1;
}

int64_t burst_pacer_last_data(const struct burst_pacer *p)
{
	return p->last_data;
}

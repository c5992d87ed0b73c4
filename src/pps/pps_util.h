/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps_util.h - pure helpers shared by the real PPS backends (kernel PPS,
 * libgpiod, serial DCD): polarity detection from the pulse width, and the
 * conversion of a CLOCK_MONOTONIC event timestamp to CLOCK_REALTIME with a
 * bounded error.  No I/O and no clock reads, so both are unit-tested with
 * exact inputs.
 */
#ifndef GPSPPS_PPS_UTIL_H
#define GPSPPS_PPS_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "pps.h"

/*
 * Which edge is on the second, learnt from the pulse width (PPS_EDGE_AUTO).
 * Receivers hold the line in the active state for a short pulse (typically
 * 1-200 ms, at most 500 ms) that begins on the second, so the edge that
 * starts the shorter of the two intervals of a cycle is the on-second edge.
 * Every interval between two opposite edges votes; a decision needs
 * PPS_UTIL_POL_VOTES consecutive votes that agree (1.5 cycles); an interval
 * within 50 ms of half a second (a square wave) casts no vote.  When only one kind of
 * edge is ever seen (a device that captures one edge), that kind is taken
 * after PPS_UTIL_POL_VOTES edges.
 */
#define PPS_UTIL_POL_VOTES 3

struct pps_util_polarity {
	enum pps_polarity decided;    /* PPS_EDGE_AUTO until decided */
	enum pps_polarity candidate;
	int votes;
	int one_kind_edges;           /* edges seen without the other kind */
	bool have_prev;
	enum pps_polarity prev_pol;
	int64_t prev_ns;
	bool seen[2];
};

void pps_util_polarity_init(struct pps_util_polarity *d);

/*
 * Feed every edge (either polarity) in time order.  Returns true when e is
 * on the second under the decided polarity; false while undecided and for
 * the other edge.  A decision that changes later (PPS_UTIL_POL_VOTES contrary
 * votes in a row) is followed: *changed is set on the edge where it
 * happens.
 */
bool pps_util_polarity_feed(struct pps_util_polarity *d,
			    const struct pps_edge *e, bool *changed);

/*
 * One reading of two clocks: a and c read from clock A before and after
 * b from clock B.  The offset B - A at that moment is b - (a + c) / 2 with
 * an error of at most (c - a) / 2.
 */
struct pps_util_clock_pair {
	int64_t a_before;
	int64_t b;
	int64_t a_after;
};

/* The tightest of n readings (smallest a_after - a_before). */
const struct pps_util_clock_pair *
pps_util_clock_best(const struct pps_util_clock_pair *p, int n);

/* Convert a time t on clock A to clock B through pair p; *bound_ns
 * receives the error bound (half the bracket width). */
int64_t pps_util_clock_convert(const struct pps_util_clock_pair *p, int64_t t,
			       int64_t *bound_ns);

/*
 * Detect a step of clock B relative to clock A between two pair readings
 * (e.g. CLOCK_REALTIME stepped by chronyd's makestep or date -s).  A slew
 * moves the offset by at most 500 ppm of the elapsed time (adjtimex's
 * limit), plus both readings' error bounds; anything larger is a step.
 */
bool pps_util_clock_stepped(const struct pps_util_clock_pair *prev,
			    const struct pps_util_clock_pair *now);

/* Missed pulses between two sequence numbers of the same edge kind:
 * 0 for consecutive numbers, also 0 when seq went backwards (a reset). */
uint64_t pps_util_seq_missed(uint64_t prev_seq, uint64_t seq);

/* Missed pulses estimated from the interval between two on-second edges
 * (for sources without sequence numbers). */
uint64_t pps_util_gap_missed(int64_t prev_ns, int64_t ns);

/* Missed pulses between two captures of the same kind with sequence
 * numbers and times: the sequence gap, but never more than the interval
 * between them leaves room for.  A source that pulses faster than 1 Hz
 * (noise, a misconfigured output) advances the sequence by thousands a
 * second: those are extra pulses, not missed ones. */
uint64_t pps_util_seq_gap_missed(uint64_t prev_seq, uint64_t seq,
				 int64_t prev_ns, int64_t ns);

/* The other side of pps_util_seq_gap_missed: pulses counted between two
 * captures beyond what the interval between them leaves room for at 1 Hz
 * (0 for a 1 Hz source, missed pulses or not). */
uint64_t pps_util_seq_extra(uint64_t prev_seq, uint64_t seq,
			    int64_t prev_ns, int64_t ns);

/*
 * The on-second edges of a stream of both kinds: the configured polarity,
 * or the one learnt from the pulse width (PPS_EDGE_AUTO), with the pulses
 * missed between kept edges counted from their spacing.
 */
struct pps_util_edge_filter {
	enum pps_polarity want;
	struct pps_util_polarity auto_pol;
	int64_t last_on_ns;           /* last kept edge, 0 if none */
};

void pps_util_edge_filter_init(struct pps_util_edge_filter *f,
			       enum pps_polarity want);

/* True when e is on the second.  Adds the pulses missed before it
 * (estimated from the spacing) to *missed, unless missed is NULL (a source
 * with sequence numbers counts them exactly); sets *decided when the auto
 * polarity was (re)decided on e. */
bool pps_util_edge_filter_keep(struct pps_util_edge_filter *f,
			       const struct pps_edge *e, uint64_t *missed,
			       bool *decided);

/* The edge kind currently taken as on the second: the configured one, or
 * the learnt one (PPS_EDGE_AUTO while undecided). */
enum pps_polarity
pps_util_edge_filter_on_second(const struct pps_util_edge_filter *f);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps_util.h - pure helpers shared by the real PPS backends (kernel PPS,
 * libgpiod, serial DCD): polarity detection from the pulse width, and the
 * conversion of a CLOCK_MONOTONIC event timestamp to CLOCK_REALTIME with a
 * bounded error, and the rate of CLOCK_REALTIME against CLOCK_MONOTONIC_RAW
 * while chronyd slews it.  No I/O and no clock reads, so all are
 * unit-tested with exact inputs.
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

/*
 * The rate of CLOCK_REALTIME against CLOCK_MONOTONIC_RAW.  chronyd slews
 * the system clock by changing its frequency, up to 83,333 ppm (its
 * maxslewrate; the kernel's tick allows 10 %), and CLOCK_MONOTONIC with it;
 * CLOCK_MONOTONIC_RAW is never slewed.  A backend that learns an edge's
 * CLOCK_REALTIME stamp only when it reads it, some latency later, puts the
 * edge on CLOCK_MONOTONIC_RAW from both clocks read then: the latency on
 * the realtime clock has to be scaled by the rate, else a slew moves the
 * edge by the latency times the slew (100 ms at 8 % is 8 ms: off the pulse
 * grid that the pairing's period check holds to 0.5 ms).
 *
 * Each read takes one reading of both clocks.  The edge's time is
 * interpolated between the last reading before it and the one of the
 * read (exact while the rate was constant between them), else (no
 * reading before it) extrapolated back with the rate.  The rate is
 * measured over successive readings, across at least PPS_UTIL_RATE_MIN_NS
 * of CLOCK_MONOTONIC_RAW; it plans the next read (a second of
 * CLOCK_MONOTONIC_RAW after an edge, on the realtime clock).  No kernel
 * state is read (adjtimex is denied under systemd's ProtectClock).  What
 * is left: chronyd changing its slew between the last reading before an
 * edge and the edge moves that edge by up to that interval times the
 * change, once.  An apparent rate beyond PPS_UTIL_RATE_MAX_PPB between
 * two readings is a step of the clock (date -s), not a slew: the rate is
 * kept and neither reading is interpolated across.
 */
#define PPS_UTIL_RATE_MIN_NS (50 * INT64_C(1000000))
#define PPS_UTIL_RATE_MAX_PPB (150 * INT64_C(1000000))  /* 15 % */

struct pps_util_rate {
	bool have;               /* a reading was taken */
	int64_t real, raw;       /* the last reading */
	int64_t base_real;       /* where the rate's interval starts */
	int64_t base_raw;
	int64_t ppb;             /* realtime runs (1e9 + ppb) / 1e9 times raw */
};

/* No reading yet, rate 1 (ppb 0). */
void pps_util_rate_init(struct pps_util_rate *r);

/* One reading of both clocks, taken together. */
void pps_util_rate_feed(struct pps_util_rate *r, int64_t real, int64_t raw);

/* The CLOCK_MONOTONIC_RAW time of the realtime instant t, from a reading
 * (real, raw) taken at or after it and before it is fed. */
int64_t pps_util_rate_to_raw(const struct pps_util_rate *r, int64_t real,
			     int64_t raw, int64_t t);

/* When to read the clocks next for the edge that follows one at realtime
 * last (0: none yet), on the realtime clock: the edge is expected a
 * second of CLOCK_MONOTONIC_RAW after last; read before_ns before it
 * (a reading before the edge, to interpolate from) while that is still
 * ahead of now, else after_ns after it.  0 when that too is not after
 * now (the edge is late or was missed) or lies more than a second and
 * after_ns ahead. */
int64_t pps_util_rate_expect(const struct pps_util_rate *r, int64_t last,
			     int64_t now, int64_t before_ns, int64_t after_ns);

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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pair.h - pairing PPS edges with NMEA epochs (pure logic: no I/O, no
 * clock reads).
 *
 * A receiver starts each UTC second with a pulse and then sends sentences
 * labelled with that second.  The engine pairs each edge with the epoch
 * whose burst started inside an explicit window after the edge:
 *
 *   window_min <= burst_rx - edge <= window_max     (default 0 .. 0.95 s)
 *
 * and whose label is a whole second (at 5 or 10 Hz the .000 epoch).
 * With next_second set (receivers that announce the *next* pulse), the
 * window is read the other way round: the burst precedes the edge it
 * names, edge - burst_rx in [window_min, window_max].
 *
 * Later epochs: an epoch labelled s + f (0 < f < 1 s, e.g. .200 at 5 Hz)
 * names second s when no epoch has tried to pair for s yet (its
 * whole-second epoch was lost or garbled): it stands in for it, paired as
 * if its burst had come f earlier (its "mark"), i.e. with the window moved
 * later by f, and the sample is that of second s.  A second is tried once:
 * after an epoch (whole or standing in) sought an edge for it, whatever
 * came of it, a later epoch does not stand in when it names the same
 * second or its mark is within 0.5 s of that epoch's (a later epoch of the
 * previous second arriving late, after the next pulse, is thus not paired
 * again).  It must be timed, valid, dated, not a leap second, and come
 * after warm-up.  A garbled label of a stand-in is held by the guard like
 * that of a whole-second epoch.
 *
 * Clocks: windows and intervals are measured on CLOCK_MONOTONIC_RAW
 * (pair_edge.mono_ns, nmea_epoch.burst_rx_mono_ns), which is never stepped
 * or slewed.  Edges and epochs without it do not pair (an epoch is then
 * PAIR_UNTIMED, an edge is counted in edges_untimed): on CLOCK_REALTIME a
 * step of a whole number of seconds between a burst and the next edge
 * moves that edge into the burst's window with an offset equal to the old
 * one, and no check on realtime stamps can see it.  The sample itself is
 * in system time: offset = label - edge.real_ns.
 *
 * When a decision is made:
 *   - default mode: when the epoch is fed, from the edges fed before it
 *     (the daemon drains pending edges first).  With a negative window_min
 *     an edge later than the burst counts only if it was fed before the
 *     epoch.
 *   - next_second: the epoch waits; the first candidate edge completes the
 *     pairing at once (an edge already fed also counts, e.g. one that came
 *     while the burst was still arriving).  A second candidate later in
 *     the same window is not seen.  An epoch whose window has passed is
 *     given up (no_edge) when a later edge or epoch shows it.
 *
 * Exactly one candidate, or no sample: when two edges (one spurious) fall
 * in an epoch's window, two waiting epochs in an edge's window, or an
 * epoch's only edge was already taken by another epoch, nothing is
 * produced (PAIR_AMBIGUOUS).  History is short: the last PAIR_EDGE_HISTORY
 * edges and at most PAIR_PENDING_MAX waiting epochs.  An epoch whose burst
 * is older than stale_ns when it is paired (the newest edge fed is more
 * than stale_ns after the burst) is dropped.
 *
 * Spurious edges (period check): genuine pulses are a whole number of
 * seconds apart on CLOCK_MONOTONIC_RAW.  An edge is a candidate only if it
 * lies k whole seconds (k = 1 .. PAIR_PERIOD_SPAN) after the edge of the
 * last sample produced, within period_tol_ns (default 500 us: timestamp
 * latency plus the oscillator's error, 100 ppm over 4 s is 400 us).  A
 * noise edge therefore pairs only if it lands within about that tolerance
 * of where a genuine pulse would be.  When there was no sample in the last
 * PAIR_PERIOD_SPAN seconds (start, fix loss), the edge must instead lie
 * whole seconds after two edges of the history (three noise edges on one
 * grid can pass that; the guard is then what stands in the way).  Costs:
 * the first two edges after start or after a pulse outage of more than
 * PAIR_PERIOD_SPAN seconds are not candidates, nor is an edge timestamped
 * later than the tolerance (scheduling latency).  period_tol_ns = 0 turns
 * the check off: every edge is a candidate.
 *
 * Guards, so that a single mis-pairing never reaches chronyd:
 *   - warm-up: after start, after any epoch without a valid fix and
 *     after a silence (no valid, dated second seen, counted or not) of
 *     more than stale_ns + 0.5 s, min_valid consecutive valid, dated
 *     seconds are required before a sample is produced.  A second is
 *     counted by its first epoch (whole, or a timed later one with its
 *     label floored and its mark, as above).  Consecutive: each label is
 *     n whole seconds after the last counted one, n within a second of
 *     the interval between their marks on CLOCK_MONOTONIC_RAW (one less
 *     after a 23:59:60, whose POSIX label the next second repeats), so
 *     with the default one lost second is forgiven.  A second whole epoch
 *     within 0.5 s of the last counted one is not counted (a later epoch
 *     of the second counted agrees with it).  An inconsistent label
 *     (garbled, spurious, jumped) is not counted; while warming up, a
 *     single one does not restart the count either: it is remembered, and
 *     the count restarts from it (at 2) only when the next second follows
 *     it rather than the last one counted.  Once warm it is not counted
 *     and the guard deals with its pairing.  With the guard below, a
 *     receiver whose first valid labels after (re)acquisition are wrong
 *     is stopped when the wrong streak is at most min_valid + confirm - 2
 *     seconds long (4 with the defaults; epochs between them whose labels
 *     fit neither do not shorten the streak);
 *   - consistency: each pairing has two offsets, label - edge on the
 *     system clock (what chronyd gets) and label - edge on
 *     CLOCK_MONOTONIC_RAW (which only the oscillator's error moves, 100 ppm
 *     at most, whatever is done to the system clock).  Both are compared
 *     with the reference, the offsets last accepted.  A pairing where
 *     either differs by more than guard_ns is held back (PAIR_GUARD): the
 *     system clock was stepped, the receiver's labels jumped, a label is
 *     garbled, or the edge is the wrong one.  When `confirm` such pairings
 *     in a row agree with each other (consecutive labels, one second
 *     apart, the monotonic offset unchanged within period_tol_ns, i.e. the
 *     edges a whole second apart, and the system clock offset within
 *     guard_ns, which a clock slewed by chronyd stays within), the last of
 *     them is produced and becomes the new reference.  Before any reference
 *     exists, `confirm` such pairings are needed.  A pairing that agrees
 *     with the reference, or any ambiguity, ends the run of held pairings.
 *     Checking both offsets means a garbled label that happens to cancel a
 *     simultaneous whole-second clock step is still held.  A 23:59:60
 *     epoch moves the reference's monotonic offset back by one second, as
 *     the labels skip the second the leap inserts.  The reference
 *     follows accepted pairings (a slewed clock, the oscillator's drift),
 *     except with the period check off, when only a confirmed run moves
 *     it: noise edges accepted within guard_ns would otherwise let it
 *     wander.  confirm = 1 turns the guard off.
 *   What still gets through: a noise edge paired while the genuine one is
 *   missing (or, in next_second mode, before it), within the period
 *   tolerance of the pulse grid; and `confirm` consecutive wrong pairings
 *   that agree with each other, which is what a genuine jump of the
 *   receiver's labels looks like too (labels that stay one second off
 *   cannot be told from right ones).
 *
 * Order of calls: feed edges and epochs in the order they happened.  The
 * daemon drains pending edges before it feeds an epoch, so that in the
 * usual (edge first) case a sample is produced as the epoch arrives.
 */
#ifndef GPSPPS_PAIR_H
#define GPSPPS_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "nmea.h"

/* Edges remembered, waiting epochs remembered (next_second mode), and the
 * longest edge interval, in seconds, used by the period check. */
#define PAIR_EDGE_HISTORY 16
#define PAIR_PENDING_MAX 4
#define PAIR_PERIOD_SPAN 4

struct pair_config {
	int64_t window_min_ns;  /* default 0; > -1 s */
	int64_t window_max_ns;  /* default 950 ms; < 1 s, > window_min, and
				   window_max - window_min < 1 s */
	bool next_second;       /* bursts name the following edge */
	int64_t stale_ns;       /* default 2 s; 1 ms .. 60 s */
	int min_valid;          /* default 3; 0 .. 3600 (0: no warm-up) */
	int64_t guard_ns;       /* default 100 ms; 1 us .. 500 ms */
	int confirm;            /* default 3; 1 .. 60 (1: no guard) */
	int64_t period_tol_ns;  /* default 500 us; 0 .. 50 ms (0: no
				   period check) */
};

/* Fill *cfg with the defaults above. */
void pair_config_default(struct pair_config *cfg);

/* NULL when cfg is usable, else a message naming the bad field. */
const char *pair_config_check(const struct pair_config *cfg);

struct pair_edge {
	int64_t real_ns;   /* CLOCK_REALTIME timestamp of the edge */
	int64_t mono_ns;   /* CLOCK_MONOTONIC_RAW, 0 if unknown (no pairing) */
	uint64_t seq;      /* backend sequence number, 0 if none */
	uint64_t extra;    /* > 0: the source pulsed faster than 1 Hz before
			    * this edge (struct pps_edge): never a candidate */
};

/* Why an epoch or edge did (not) produce a PPS sample. */
enum pair_result {
	PAIR_SAMPLE = 0,     /* a sample was produced */
	PAIR_PENDING,        /* nothing decided yet (waiting for the partner) */
	PAIR_NOT_WHOLE,      /* epoch label is not on a whole second */
	PAIR_NO_DATE,        /* epoch without a date */
	PAIR_NO_FIX,         /* receiver reports no valid fix */
	PAIR_WARMUP,         /* fewer than min_valid consecutive valid epochs */
	PAIR_NO_EDGE,        /* no edge in the window */
	PAIR_AMBIGUOUS,      /* more than one edge (or epoch) in the window */
	PAIR_STALE,          /* epoch too old for its edge */
	PAIR_LEAP_SECOND,    /* labelled 23:59:60: not sent */
	PAIR_GUARD,          /* offset jumped; held until confirmed */
	PAIR_UNTIMED,        /* burst without a CLOCK_MONOTONIC_RAW stamp */
	PAIR_RESULT_COUNT
};

/* Short stable name, e.g. "ambiguous", for logs and JSON ("?" when r is
 * out of range). */
const char *pair_result_name(enum pair_result r);

struct pair_sample {
	int64_t edge_ns;     /* system time of the edge (tv for chronyd) */
	int64_t label_ns;    /* the UTC second it started, POSIX ns */
	int64_t offset_ns;   /* label_ns - edge_ns */
	int leap;            /* 0; reserved for a known leap warning */
};

struct pair_stats {
	uint64_t edges;
	uint64_t epochs;
	uint64_t samples;
	/* Per reason, one count per epoch given that outcome (held[0] and
	 * held[PAIR_PENDING] stay 0). */
	uint64_t held[PAIR_RESULT_COUNT];
	uint64_t edges_aperiodic; /* edges that failed the period check */
	uint64_t edges_untimed;   /* edges without mono_ns, ignored */
	uint64_t ref_changes;     /* references replaced by a confirmed jump
				     (clock steps, label jumps) */
};

struct pair_engine;

/* cfg must pass pair_config_check.  Returns NULL on allocation failure or
 * a bad cfg. */
struct pair_engine *pair_create(const struct pair_config *cfg);
void pair_destroy(struct pair_engine *pe);

/* Feed one edge.  Returns PAIR_SAMPLE and fills *out when the edge
 * completes a pairing (next_second mode); otherwise PAIR_PENDING or the
 * reason a waiting epoch was given up. */
enum pair_result pair_add_edge(struct pair_engine *pe,
			       const struct pair_edge *edge,
			       struct pair_sample *out);

/* Feed one closed epoch.  Returns PAIR_SAMPLE and fills *out when it pairs
 * with an edge already fed; otherwise the reason it did not (or
 * PAIR_PENDING in next_second mode). */
enum pair_result pair_add_epoch(struct pair_engine *pe,
				const struct nmea_epoch *ep,
				struct pair_sample *out);

/* True when the epoch just fed has a valid fix and a date, is not a leap
 * second, warm-up is complete and its label is consistent with the
 * labels before it (see warm-up above), i.e. NMEA timing samples of this
 * epoch may be sent.  Call after pair_add_epoch. */
bool pair_nmea_usable(const struct pair_engine *pe);

/* True when the epoch just fed has a label that is not a whole second and
 * sought an edge for its second in place of the whole-second epoch (see
 * "later epochs" above): its result is that second's.  Call after
 * pair_add_epoch. */
bool pair_stood_in(const struct pair_engine *pe);

const struct pair_stats *pair_get_stats(const struct pair_engine *pe);

/* Where the guards stand (for the status report; reading it changes
 * nothing). */
enum pair_guard_state {
	PAIR_GUARD_WARMING_UP = 0, /* warm-up not complete, or no pairing
				      accepted since start */
	PAIR_GUARD_LOCKED,         /* pairings agree with the reference */
	PAIR_GUARD_CONFIRMING,     /* held pairings that disagree with it,
				      waiting for `confirm` in a row */
};

enum pair_guard_state pair_guard_state(const struct pair_engine *pe);

/* "warming-up", "locked", "confirming" ("?" when g is out of range). */
const char *pair_guard_state_name(enum pair_guard_state g);

#endif

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
 * and whose label is a whole second.  With next_second set (receivers that
 * announce the *next* pulse), the window is read the other way round: the
 * burst precedes the edge it names, edge - burst_rx in [window_min,
 * window_max].
 *
 * Exactly one candidate, or no sample: when two edges (one spurious) fall
 * in an epoch's window, or two epochs in an edge's window, nothing is
 * produced and the reason is reported.  Epochs and edges are kept for a
 * few seconds only; an epoch whose burst is older than stale_ns when it is
 * paired is dropped.
 *
 * Guards, so that a single mis-pairing never reaches chronyd:
 *   - warm-up: after start and after any invalid/absent fix, min_valid
 *     consecutive valid epochs (one per second) are required before a
 *     sample is produced;
 *   - consistency: each pairing's offset (label - edge) is compared with
 *     the offsets accepted before.  One that jumps by more than guard_ns is
 *     held back; if `confirm` consecutive pairings agree with each other
 *     (the system clock was stepped, say), they become the new reference.
 *     Before any reference exists, `confirm` mutually consistent pairings
 *     are needed.
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

struct pair_config {
	int64_t window_min_ns;  /* default 0 */
	int64_t window_max_ns;  /* default 950 ms; < 1 s */
	bool next_second;       /* bursts name the following edge */
	int64_t stale_ns;       /* default 2 s */
	int min_valid;          /* default 3 */
	int64_t guard_ns;       /* default 100 ms */
	int confirm;            /* default 3 */
};

/* Fill *cfg with the defaults above. */
void pair_config_default(struct pair_config *cfg);

/* NULL when cfg is usable, else a message naming the bad field. */
const char *pair_config_check(const struct pair_config *cfg);

struct pair_edge {
	int64_t real_ns;   /* CLOCK_REALTIME timestamp of the edge */
	int64_t mono_ns;   /* CLOCK_MONOTONIC_RAW, 0 if unknown */
	uint64_t seq;      /* backend sequence number, 0 if none */
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
	PAIR_RESULT_COUNT
};

/* Short stable name, e.g. "ambiguous", for logs and JSON. */
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
	uint64_t held[PAIR_RESULT_COUNT]; /* per reason */
};

struct pair_engine;

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

/* True when the fix is valid and warm-up is complete, i.e. NMEA timing
 * samples of this epoch may be sent.  Call after pair_add_epoch. */
bool pair_nmea_usable(const struct pair_engine *pe);

const struct pair_stats *pair_get_stats(const struct pair_engine *pe);

#endif

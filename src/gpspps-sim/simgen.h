/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * simgen.h - NMEA 0183 receiver burst generator for gpspps-sim (pure logic:
 * no I/O, no clock reads).
 *
 * The generator turns an epoch slot (the POSIX time, by the system clock,
 * at which a receiver epoch begins: whole seconds at 1 Hz, every 200 ms or
 * 100 ms at 5 or 10 Hz) into the bytes a receiver sends for that epoch: the
 * configured sentences in order, each "$<talker><type>,...*HH\r\n" with a
 * correct checksum, all naming the same UTC label.  Sentence contents:
 *
 *   RMC  time, status A (V on loss of fix), position, speed, course,
 *        date ddmmyy (2-digit year), mode indicator A (N on loss of fix)
 *   GGA  time, position, quality 1 (0), satellites, HDOP, altitude
 *   ZDA  time, day, month, 4-digit year, zone 00,00
 *   GLL  position, time, status A (V), mode A (N)
 *   GNS  time, position, mode string "A" or "AA" for talker GN ("N"/"NN")
 *   GSA  filler: fix type 3 (1), satellites used, DOPs
 *   GSV  filler: three sentences describing ten satellites
 *   VTG  filler: course and speed, mode A (N)
 *
 * The time field is hhmmss followed by a '.' and `decimals` digits (none
 * when decimals is 0).
 *
 * Faults are decided per epoch from a PRNG keyed on (seed, label), so a
 * run replays exactly for the same seed, and a burst does not depend on
 * which epochs were generated before it:
 *
 *   badsum    one sentence of the burst gets a wrong checksum
 *   garbage   1-16 random bytes (any value 0-255, NUL, 8-bit, '$', CR, LF
 *             included) between two sentences of the burst (after the last
 *             one when the burst has a single sentence); never before the
 *             first sentence, so the burst still starts with its '$'
 *   fixloss   a loss of fix starts in a given second with probability RATE
 *             and lasts 2-10 s: RMC/GLL status V, mode N, GGA quality 0,
 *             empty position fields; the time and date are still sent
 *   missing   the whole epoch is skipped (zero bytes)
 *   rollover  the date is sent 1024 GPS weeks (7168 days) in the past, same
 *             time of day (old firmware after a week-number rollover)
 *   leap      not a rate: see leap_ns below
 *
 * Leap second: when opt.leap is set, the receiver inserts a second before
 * leap_ns (a whole UTC minute, normally a midnight).  The slot starting at
 * leap_ns is labelled hh:mm:60 of the minute before (leap = true, label_ns
 * = leap_ns, the convention of nmea.h), and every later slot is labelled
 * one second less than the slot: the receiver has inserted the second, the
 * system clock driving the slots has not.  Real leap seconds only occur at
 * 23:59:60 UTC at the end of a month; other minutes are a test convenience.
 */
#ifndef GPSPPS_SIMGEN_H
#define GPSPPS_SIMGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum simgen_sentence {
	SIMGEN_RMC,
	SIMGEN_GGA,
	SIMGEN_ZDA,
	SIMGEN_GLL,
	SIMGEN_GNS,
	SIMGEN_GSA,
	SIMGEN_GSV,
	SIMGEN_VTG,
	SIMGEN_SENTENCE_COUNT,
};

enum simgen_fault {
	SIMGEN_FAULT_BADSUM,
	SIMGEN_FAULT_GARBAGE,
	SIMGEN_FAULT_FIXLOSS,
	SIMGEN_FAULT_MISSING,
	SIMGEN_FAULT_ROLLOVER,
	SIMGEN_FAULT_LEAP,
	SIMGEN_FAULT_COUNT,
};

/* Bit of a fault in simgen_epoch.faults. */
#define SIMGEN_FBIT(fault) (1u << (fault))

/* Longest sentence list; the same type may appear more than once. */
#define SIMGEN_MAX_SENTENCES 12
/* A buffer of this size always holds a whole burst, faults included. */
#define SIMGEN_BURST_MAX 4096

struct simgen_options {
	char talker[3];         /* two characters, A-Z or 0-9: "GP" */
	enum simgen_sentence sentences[SIMGEN_MAX_SENTENCES];
	int nsentences;         /* 1..SIMGEN_MAX_SENTENCES */
	int rate_hz;            /* epochs per second: 1, 5 or 10 */
	int decimals;           /* digits after the seconds: 0-3 (>= 1 unless
				 * rate_hz is 1) */
	uint64_t seed;          /* PRNG seed: same seed, same bytes */
	/* Probability per epoch (per second for fixloss) in [0, 1]; 0 turns
	 * the fault off.  The SIMGEN_FAULT_LEAP entry is ignored. */
	double fault_rate[SIMGEN_FAULT_COUNT];
	bool leap;              /* insert a leap second before leap_ns */
	int64_t leap_ns;        /* POSIX ns of a whole UTC minute */
};

/* What simgen_epoch produced. */
struct simgen_epoch {
	int64_t slot_ns;        /* the slot asked for */
	int64_t label_ns;       /* UTC label as POSIX ns (see nmea.h) */
	bool leap;              /* label is hh:mm:60 */
	unsigned faults;        /* SIMGEN_FBIT() of each fault applied */
	int badsum_index;       /* physical sentence with the bad checksum
				 * (0 = first, GSV counts 3), or -1 */
	size_t len;             /* bytes of the burst (0 when missing) */
};

struct simgen;

/* Defaults: talker GP, sentences RMC,GGA, 1 Hz, 3 decimals, seed 1, no
 * faults. */
void simgen_options_init(struct simgen_options *opt);

/* Name <-> value ("RMC", "badsum"); names are matched ignoring case.
 * Lookups return -1 for an unknown name; names of bad values are "?". */
int simgen_sentence_from_name(const char *name);
const char *simgen_sentence_name(enum simgen_sentence s);
int simgen_fault_from_name(const char *name);
const char *simgen_fault_name(enum simgen_fault f);
/* Rate used by "--fault NAME" without "=RATE" (0 for leap). */
double simgen_fault_default_rate(enum simgen_fault f);

/* Parse a comma-separated sentence list ("RMC,GGA,ZDA") into opt.
 * Returns 0, or -EINVAL with one line naming the problem in err. */
int simgen_parse_sentences(struct simgen_options *opt, const char *list,
			   char *err, size_t errlen);

/* Validate opt and build a generator.  Returns NULL with one line in err
 * for bad options (or on allocation failure). */
struct simgen *simgen_create(const struct simgen_options *opt, char *err,
			     size_t errlen);
void simgen_destroy(struct simgen *g);

/* Epoch interval in ns (1 s / rate_hz). */
int64_t simgen_interval_ns(const struct simgen *g);

/* The UTC label of a slot (identity unless a leap second was inserted). */
void simgen_label(const struct simgen *g, int64_t slot_ns, int64_t *label_ns,
		  bool *leap);

/*
 * Write the burst of the epoch labelled (label_ns, leap) into buf (cap
 * bytes, SIMGEN_BURST_MAX always suffices) and describe it in *ep (ep's
 * slot_ns is set to label_ns).  label_ns is truncated to the stated
 * decimals.  Returns the burst length, or -1 when cap is too small.
 */
int simgen_burst(const struct simgen *g, int64_t label_ns, bool leap,
		 char *buf, size_t cap, struct simgen_epoch *ep);

/* simgen_label then simgen_burst: the burst sent in a slot. */
int simgen_epoch(const struct simgen *g, int64_t slot_ns, char *buf,
		 size_t cap, struct simgen_epoch *ep);

/* Length of the burst without faults (for timing checks). */
size_t simgen_nominal_len(const struct simgen *g);

/* A replayable uniform offset in [-width/2, +width/2] ns for a slot (the
 * simulator's jitter); 0 when width <= 0. */
int64_t simgen_jitter_ns(const struct simgen *g, int64_t slot_ns,
			 int64_t width_ns);

/*
 * Floods: what a broken or misconfigured line sends instead of NMEA, for
 * the flood tests (gpspps-sim --flood).  Byte streams without epochs:
 *
 *   random    uniformly random bytes 0-255 (a wrong baud rate, noise)
 *   longline  1024-byte "lines" with no CR LF: '$' and 1023 printable
 *             characters without '*', over and over
 *   nul       NUL bytes (a line held at space)
 *   dollar    nothing but '$'
 *
 * The stream depends on the kind, the seed and the byte position only, so
 * it replays and a fill may be cut anywhere.
 */
enum simgen_flood {
	SIMGEN_FLOOD_RANDOM,
	SIMGEN_FLOOD_LONGLINE,
	SIMGEN_FLOOD_NUL,
	SIMGEN_FLOOD_DOLLAR,
	SIMGEN_FLOOD_COUNT,
};

#define SIMGEN_FLOOD_LINE 1024

struct simgen_flood_state {
	enum simgen_flood kind;
	uint64_t seed;
	uint64_t pos;           /* bytes produced so far */
};

int simgen_flood_from_name(const char *name);
const char *simgen_flood_name(enum simgen_flood f);
void simgen_flood_init(struct simgen_flood_state *f, enum simgen_flood kind,
		       uint64_t seed);
/* The next len bytes of the stream. */
void simgen_flood_fill(struct simgen_flood_state *f, char *buf, size_t len);

#endif

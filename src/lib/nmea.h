/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nmea.h - NMEA 0183 time decoder (pure logic: no I/O, no clock reads).
 *
 * The decoder is fed the bytes read from a receiver together with the time
 * at which the read returned them, frames sentences out of the stream
 * (garbage between sentences is skipped and counted), verifies checksums,
 * and groups the time-bearing sentences of one receiver epoch into an
 * nmea_epoch record:
 *
 *   RMC  time, status A/V, date (2-digit year), mode indicator (NMEA 2.3+)
 *   ZDA  time, day, month, 4-digit year
 *   GGA  time, fix quality (0 = no fix)
 *   GLL  time, status A/V, mode indicator
 *   GNS  time, mode indicator string (all 'N' = no fix)
 *
 * with any two-letter talker ID (GP, GN, GL, GA, GB, BD, GQ, QZ, GI, ...).
 * Other sentences ($GPGSV, $PUBX, !AIVDM, ...) are framed, checked and
 * counted, and belong to whatever epoch is open.
 *
 * Framing: a sentence starts at '$' (or '!') and ends with the second hex
 * digit after '*' (no need to wait for CR LF).  Its checksum is the XOR of
 * the bytes between the start character and '*', two hex digits in either
 * case.  A sentence cut by CR, LF or a new start character before its
 * checksum is complete counts as bad_checksum; one longer than
 * NMEA_MAX_SENTENCE counts as overlong and the rest of it is skipped up to
 * the next start character; a byte outside printable ASCII (NUL, binary
 * noise) cuts the sentence it falls in.  The bytes of all these are
 * dropped_bytes, as is anything else outside a sentence except CR and LF.
 *
 * Validity (nmea_epoch.valid): each time sentence can say "no fix": RMC
 * status other than A or mode indicator N; GGA quality 0 or empty; GLL
 * status other than A or mode indicator N; GNS mode characters all N.  ZDA
 * says nothing either way.  An epoch is valid when none of its sentences
 * says "no fix".  A time sentence with an empty time field counts as
 * no_time, one with a malformed time or date as bad_fields; neither joins
 * an epoch.
 *
 * An epoch is closed (and becomes available from nmea_next_epoch) when a
 * time-bearing sentence with a different time of day arrives, or when the
 * caller calls nmea_flush() (the daemon does this when the line has been
 * idle for a while, so that an epoch need not wait for the next one).  A
 * time-bearing sentence that repeats the time of the epoch just closed is
 * counted as late and does not open a new epoch.
 *
 * Dates: RMC and ZDA carry a date; GGA, GLL and GNS only a time of day.
 * Those take the date of the most recent dated sentence, moved by one day
 * when the time of day wrapped through midnight (a GGA at 00:00:00 after an
 * RMC at 23:59:59 is on the next day, never on "yesterday").  No date is
 * guessed when none has been seen within the last 12 hours of receiver time.
 * (A date carried to a time-only epoch is the one that puts it nearest the
 * previous dated epoch.)  When an epoch has both, ZDA's date wins over
 * RMC's.  RMC's 2-digit year is read as the year within 50 years of the
 * rollover floor's year.  A date before the floor (GPS week-number
 * rollover, 1024 weeks = 19.6 years) is moved forward by 1024 weeks,
 * repeatedly, until it is not.  Years outside 1970..2200 are bad_fields.
 *
 * Leap seconds: a label of 23:59:60 is reported with leap_second = true and
 * time_ns = the POSIX time of the following 00:00:00 (which is what
 * 23:59:59 + 1 s is in POSIX time).
 */
#ifndef GPSPPS_NMEA_H
#define GPSPPS_NMEA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest sentence accepted, '$' to the end of the checksum.  The standard
 * says 82 bytes with CR LF; real receivers exceed it, as gpsd allows. */
#define NMEA_MAX_SENTENCE 200

/* Bytes of a read chunk are dated back from the read by at most this many
 * character times (a UART FIFO's worth; see nmea_options.char_ns). */
#define NMEA_MAX_BACKDATE_CHARS 32

/* Sentence kinds, as bits of nmea_epoch.sentences. */
enum nmea_kind {
	NMEA_RMC = 1u << 0,
	NMEA_GGA = 1u << 1,
	NMEA_ZDA = 1u << 2,
	NMEA_GLL = 1u << 3,
	NMEA_GNS = 1u << 4,
};
#define NMEA_KIND_COUNT 5

/* Three-letter name of one kind bit ("RMC"), or "?" */
const char *nmea_kind_name(unsigned kind);

struct nmea_options {
	/* Seconds since 1970 of the rollover floor: dates before it are
	 * moved forward by 1024 weeks.  0 selects the compiled-in floor
	 * (GPSPPS_ROLLOVER_FLOOR_Y/_M/_D, set by meson).  Clamped to
	 * 1970..2200. */
	int64_t rollover_floor;
	/* Duration of one character on the line (10 bits / baud), in ns.
	 * Used to date the first byte of a sentence within a read chunk;
	 * 0 when there is no line rate to go by (replay, a pty, a USB CDC
	 * receiver): bytes are then dated at the read. */
	int64_t char_ns;
	/* A sentence that starts at least this long after the previous one
	 * ended starts a new burst (see nmea_epoch.burst_rx_ns). 0 selects
	 * 20 ms. */
	int64_t burst_gap_ns;
};

struct nmea_epoch {
	/* UTC label of the epoch as POSIX time in ns (fraction included,
	 * e.g. .200 s at 5 Hz).  Without date_known: the time of day only
	 * (ns since 00:00:00). */
	int64_t time_ns;
	bool date_known;        /* false: time of day only, no date yet */
	bool leap_second;       /* label was hh:59:60 */
	bool valid;             /* the receiver claims a usable fix */
	bool rollover_fixed;    /* date was moved forward by 1024 weeks */
	unsigned sentences;     /* enum nmea_kind bits seen in this epoch */
	char talker[3];         /* talker of the first time sentence, "GN" */
	/* Receive time (CLOCK_REALTIME and CLOCK_MONOTONIC_RAW, ns) of the
	 * first byte of the burst holding the epoch's first time-bearing
	 * sentence, and of that sentence itself.  0 when fed without time. */
	int64_t burst_rx_ns;
	int64_t burst_rx_mono_ns;
	int64_t time_rx_ns;
};

/* Valid-checksum sentences of one type: the address field without its
 * two-letter talker ("RMC", "GSV"), proprietary addresses whole ("PUBX",
 * "PMTK001"). */
#define NMEA_TYPE_SLOTS 24
#define NMEA_TYPE_NAME_MAX 8
struct nmea_type_count {
	char name[NMEA_TYPE_NAME_MAX];   /* "" for an unused slot */
	uint64_t count;
};

/* Counters, for logs and the status socket.  Monotonic. */
struct nmea_stats {
	uint64_t bytes;          /* bytes fed */
	uint64_t sentences;      /* framed sentences with a valid checksum */
	uint64_t bad_checksum;   /* framed, checksum missing or wrong */
	uint64_t overlong;       /* longer than NMEA_MAX_SENTENCE, dropped */
	uint64_t dropped_bytes;  /* bytes outside any good sentence */
	uint64_t bad_fields;     /* time sentence with unusable fields */
	uint64_t epochs;         /* epochs closed */
	uint64_t late;           /* time sentences repeating a closed epoch */
	uint64_t rollover_fixed; /* epochs moved forward by 1024 weeks */
	uint64_t queue_overflow; /* epochs lost because nobody read them */
	uint64_t no_time;        /* time sentence with an empty time field */
	uint64_t binary_bytes;   /* bytes outside printable ASCII, CR, LF
				  * (also counted in dropped_bytes) */
	/* sentences by type, in order of first appearance; those whose
	 * address is not 3..7 letters and digits, or that come when every
	 * slot is taken, are counted in types_other */
	struct nmea_type_count types[NMEA_TYPE_SLOTS];
	uint64_t types_other;
};

struct nmea_decoder;

/* opt may be NULL for defaults.  Returns NULL only on allocation failure. */
struct nmea_decoder *nmea_decoder_create(const struct nmea_options *opt);
void nmea_decoder_destroy(struct nmea_decoder *dec);

/*
 * Feed len bytes.  rx_ns and rx_mono_ns are the CLOCK_REALTIME and
 * CLOCK_MONOTONIC_RAW times at which the read returned the *last* byte of
 * buf (0, 0 for untimed input).  Byte i is dated rx - min(len - 1 - i,
 * NMEA_MAX_BACKDATE_CHARS) * char_ns, but not before the previous chunk's
 * last byte (reads that come faster than the line rate, as from USB
 * adapters, cannot reorder bytes) unless rx itself is earlier (a stepped
 * clock).  Any byte values are accepted.
 */
void nmea_feed(struct nmea_decoder *dec, const void *buf, size_t len,
	       int64_t rx_ns, int64_t rx_mono_ns);

/* Change char_ns (the port was reopened on another kind of device). */
void nmea_set_char_ns(struct nmea_decoder *dec, int64_t char_ns);

/* Close the open epoch, if any (line idle, end of input). */
void nmea_flush(struct nmea_decoder *dec);

/* Take the oldest closed epoch.  Returns false when there is none.  At
 * least 32 closed epochs are queued before the oldest is dropped. */
bool nmea_next_epoch(struct nmea_decoder *dec, struct nmea_epoch *out);

const struct nmea_stats *nmea_get_stats(const struct nmea_decoder *dec);

#endif

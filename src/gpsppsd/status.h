/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status.h - gpsppsd's status object (schema version 1, documented in
 * gpsppsd(8) under STATUS SOCKET): what the daemon's modules count, plus
 * what only the daemon sees (receiver state, windows of the last 64 s,
 * the last epoch), rendered as one line of JSON.
 *
 * The daemon tells the tracker what happens (status_note_*) and asks for
 * the object with the clock readings of the moment; nothing here reads a
 * clock or does I/O beyond what the modules it is given report.
 */
#ifndef GPSPPS_STATUS_H
#define GPSPPS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "loop.h"
#include "nmea.h"
#include "pair.h"
#include "pps.h"
#include "sock.h"
#include "status_server.h"

#define STATUS_SCHEMA_VERSION 1
/* The span of the rolling windows (epochs per second, NMEA delay,
 * jitter). */
#define STATUS_WINDOW_NS (64 * 1000000000LL)
/* No byte, or no valid sentence, for this long: the receiver is
 * "silent". */
#define STATUS_SILENT_NS (5 * 1000000000LL)

/* The daemon's modules, read when the object is built.  The pointers
 * stay valid for the tracker's life; pps is read only while pps_open. */
struct status_sources {
	const struct gpsppsd_config *cfg;
	const struct loop *loop;
	const struct nmea_decoder *dec;
	const struct pair_engine *pair;
	const struct pps_source *pps;
	const bool *pps_open;
	const int *serial_fd;
	const long *baud;               /* the port's rate now */
	const bool *baud_auto;
	const long *detected_baud;      /* 0: none */
	const struct sock_client *pps_sock;
	const struct sock_client *nmea_sock;
	struct status_server *const *server;
};

/* One epoch that named its second (the whole-second one, or a later one
 * standing in for it: pair_stood_in) and what became of it (what --dump
 * prints). */
struct status_epoch {
	const struct nmea_epoch *ep;
	enum pair_result pr;
	const struct pair_sample *ps;   /* when pr == PAIR_SAMPLE */
	bool pps_sent;
	bool nmea_usable;
	bool nmea_sent;
};

struct status;

/* start_mono: CLOCK_MONOTONIC at daemon start.  NULL on allocation
 * failure. */
struct status *status_create(const struct status_sources *src,
			     int64_t start_mono);
void status_destroy(struct status *st);

/* The serial port was opened (mono: CLOCK_MONOTONIC). */
void status_note_open(struct status *st, int64_t mono);
/* Bytes were fed to the decoder. */
void status_note_bytes(struct status *st, int64_t mono);
/* An epoch was closed (every epoch, fractional ones too); those that
 * named their second come with their record in rec (NULL for the
 * others). */
void status_note_epoch(struct status *st, const struct nmea_epoch *ep,
		       const struct status_epoch *rec, int64_t mono);
/* A PPS edge arrived (before it is paired). */
void status_note_edge(struct status *st, const struct pps_edge *e,
		      int64_t mono);
/* A PPS sample was produced. */
void status_note_sample(struct status *st, const struct pair_sample *ps,
			int64_t mono);
/* The PPS source is about to be closed: keep its counters. */
void status_note_pps_closed(struct status *st, const struct pps_stats *s);

/* The object as one line of JSON ending in "\n", malloc()ed, or NULL
 * (out of memory).  now_real: CLOCK_REALTIME, now_mono: CLOCK_MONOTONIC. */
char *status_render(struct status *st, int64_t now_real, int64_t now_mono,
		    size_t *len);

#endif

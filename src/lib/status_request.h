/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_request.h - the request line of gpsppsd's status socket (pure
 * logic: no I/O, no clocks; fuzzed by tests/fuzz/fuzz_status_request.c).
 *
 * A client sends one line: "status" or "watch", ended by LF (a CR before
 * the LF and blanks, space or tab, around the word are allowed).  The
 * line, LF included, is at most STATUS_REQUEST_MAX bytes.  Any byte that
 * is not printable ASCII, blank or that CR makes the request bad as soon
 * as it is seen, so garbage is refused without waiting for a newline.
 * Bytes after the LF are not looked at.
 */
#ifndef GPSPPS_STATUS_REQUEST_H
#define GPSPPS_STATUS_REQUEST_H

#include <stddef.h>

#define STATUS_REQUEST_MAX 256

enum status_request {
	STATUS_REQUEST_INCOMPLETE = 0, /* no LF yet; read more */
	STATUS_REQUEST_STATUS,         /* "status": one object, then close */
	STATUS_REQUEST_WATCH,          /* "watch": one object a second */
	STATUS_REQUEST_BAD,            /* unknown word or not text */
	STATUS_REQUEST_TOO_LONG,       /* no LF within STATUS_REQUEST_MAX */
};

/*
 * Classify the first len bytes received on a connection (everything the
 * client sent so far).  Deterministic, and consistent as more bytes come:
 * once a prefix gives an answer other than INCOMPLETE, every longer input
 * starting with it gives the same answer.
 */
enum status_request status_request_parse(const char *buf, size_t len);

/* One line for the client on a refused request ("unknown request ..."),
 * or NULL for the requests that are served. */
const char *status_request_error(enum status_request r);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_server.h - the Unix stream socket that answers gpsppsd's status
 * requests (protocol in gpsppsd(8) and status_request.h).  I/O only: the
 * text of each answer comes from the render callback; this module knows
 * nothing of what it says.
 *
 * The server never blocks: every socket is non-blocking, and each client
 * has a bounded output buffer (STATUS_SERVER_OUT_MAX bytes beyond what
 * the kernel holds; the kernel's share is capped with SO_SNDBUF).  A
 * client that lets it fill (a watcher that does not read) is dropped, as
 * is one that sends no complete request within STATUS_SERVER_REQUEST_NS
 * or does not take a status answer within that time.  At most
 * STATUS_SERVER_MAX_CLIENTS are served at once: one more is sent an error
 * line and closed.  Refusals send one line {"version":1,"error":"..."}.
 */
#ifndef GPSPPS_STATUS_SERVER_H
#define GPSPPS_STATUS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define STATUS_SERVER_MAX_CLIENTS 8
#define STATUS_SERVER_OUT_MAX (16 * 1024)
#define STATUS_SERVER_REQUEST_NS (5 * 1000000000LL)

/* The answer's text, one line ending in "\n", malloc()ed (the server
 * frees it), or NULL (out of memory: the client is closed). */
typedef char *(*status_server_render_cb)(void *arg, size_t *len);

struct status_server_stats {
	int clients;           /* connected now */
	uint64_t accepted;     /* connections taken (refused ones included) */
	uint64_t refused;      /* over the client limit */
	uint64_t bad_requests; /* garbage, over-long or no request in time */
	uint64_t dropped;      /* did not read their answers */
	uint64_t answers;      /* objects queued to clients */
};

struct status_server;

/*
 * Listen on path, mode 0660 (the directory must exist).  A stale socket
 * left by a process that is gone is replaced; a socket some process still
 * answers on, or a file that is not a socket, is an error.  Returns NULL
 * with a message naming the fix in err.
 */
struct status_server *status_server_create(struct loop *l, const char *path,
					   status_server_render_cb render,
					   void *arg, char *err, size_t errlen);

/* Close every connection, stop listening and remove the socket file
 * (when it is still the one created).  NULL is ignored. */
void status_server_destroy(struct status_server *s);

/* Call about once a second, with CLOCK_MONOTONIC now: sends each watcher
 * the next object and drops clients that ran out of time. */
void status_server_tick(struct status_server *s, int64_t now_mono);

const struct status_server_stats *
status_server_stats(const struct status_server *s);

/* Longest path a Unix socket can take. */
#define STATUS_SERVER_PATH_MAX 107

#endif

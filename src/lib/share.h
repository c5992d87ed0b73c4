/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * share.h - the receiver's byte stream, exactly as gpsppsd reads it,
 * re-exported read-only to other programs (gpsd, a logger, a map): on a
 * pseudo-terminal whose slave is reached through a stable symlink
 * (share-pty), and to TCP clients (share-tcp; 10110 is IANA's nmea-0183
 * port).
 *
 * Nothing a consumer does can slow gpsppsd: every write is non-blocking
 * and what does not fit is dropped for that consumer (counted in
 * share_stats.dropped).  The pty keeps gpsppsd's own descriptor of the
 * slave open, so writes never fail while no program has it open; when its
 * queue is full (nobody reads) the stale bytes are flushed, so a reader
 * that opens it later starts with fresh data.  What consumers write (gpsd
 * probes devices) is read and thrown away: the receiver is never written.
 * At most SHARE_MAX_CLIENTS TCP clients; more are accepted and closed.
 */
#ifndef GPSPPS_SHARE_H
#define GPSPPS_SHARE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

#define SHARE_MAX_CLIENTS 16
#define SHARE_TCP_PORT 10110

struct share_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct share_stats {
	uint64_t bytes;         /* bytes offered */
	uint64_t dropped;       /* bytes a consumer did not take, summed */
	uint64_t accepted;      /* TCP clients accepted */
	uint64_t refused;       /* TCP clients over the limit */
	int clients;            /* TCP clients connected now */
};

struct share;

/*
 * Parse share-tcp's value: "ADDR:PORT", "[IPV6]:PORT", "ADDR" (port
 * 10110) or "PORT" (address 127.0.0.1), addresses numeric.  Returns 0,
 * or -EINVAL with one line in err.
 */
int share_parse_tcp(const char *spec, struct share_addr *a, char *err,
		    size_t errlen);

/*
 * Start sharing: a pty linked at pty_link, and/or a TCP listener on tcp
 * (either NULL or "none" for off).  Watches its descriptors on l.
 * Returns NULL with one line in err naming the fix.
 */
struct share *share_create(struct loop *l, const char *pty_link,
			   const char *tcp, char *err, size_t errlen);

/* Offer n bytes to every consumer; never blocks. */
void share_write(struct share *sh, const void *buf, size_t n);

const struct share_stats *share_get_stats(const struct share *sh);

/* Close everything and remove the symlink (if it still names our pty). */
void share_destroy(struct share *sh);

#endif

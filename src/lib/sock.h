/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sock.h - chronyd's SOCK refclock protocol (see refclock_sock.c in chrony
 * and shared/notes/chrony.md).
 *
 * One datagram is one sample, in host byte order:
 *   struct timeval tv;  double offset;  int pulse;  int leap;  int _pad;
 *   int magic (0x534f434b)
 * chronyd takes reference time = tv + offset when pulse == 0, the only mode
 * used here, and logs offset as the sample's raw offset.  tv has
 * microsecond resolution; offset is a double.  The offset is the exact
 * (true - system) difference at the measurement, which does not change
 * within the microsecond that tv is truncated by, so nothing is lost: the
 * e2e test checks chronyd's raw offsets against the simulated edge errors
 * to 1 ns.  (Computing it against the truncated tv instead, as
 * shared/notes/chrony.md once advised, makes tv + offset a whole second
 * but puts the truncation, up to 1 us, into the offset.)
 */
#ifndef GPSPPS_SOCK_H
#define GPSPPS_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define SOCK_MAGIC 0x534f434b

/* The wire struct, exactly as chronyd declares it; its size follows the
 * platform's time_t (40 bytes with 64-bit time_t, 32 with 32-bit). */
struct sock_sample {
	struct timeval tv;
	double offset;
	int pulse;
	int leap;
	int _pad;
	int magic;
};

/*
 * Build the datagram for "at system time sys_ns the true time was
 * true_ns": tv = sys_ns truncated to the microsecond (towards -inf),
 * offset = (true_ns - sys_ns) in seconds, pulse 0.  leap must be 0, 1 or
 * 2.  Returns 0, -EINVAL for a bad leap value, or -EOVERFLOW when the
 * system time does not fit the platform's time_t (after 2038-01-19 with a
 * 32-bit time_t, as on Debian 12 armhf: chronyd's struct cannot carry it).
 */
int sock_encode(struct sock_sample *out, int64_t sys_ns, int64_t true_ns,
		int leap);

/* Inverse, for tests and tools: the sample's tv in ns and offset in ns
 * (rounded to the nearest ns).  Returns -EINVAL on a bad magic. */
int sock_decode(const struct sock_sample *in, int64_t *tv_ns,
		int64_t *offset_ns);

/* Sending side: one client per chronyd socket path. */
#define SOCK_ERRNO_SLOTS 8
struct sock_errno_count {
	int err;               /* errno value, 0 for an unused slot */
	uint64_t count;
};

struct sock_stats {
	uint64_t sent;
	uint64_t failed;       /* send errors (chronyd absent, queue full) */
	/* failures by errno, in order of first appearance; errnos beyond
	 * the slots are in failed only */
	struct sock_errno_count by_errno[SOCK_ERRNO_SLOTS];
	int last_errno;        /* of the last send; -1 before the first */
	int64_t last_sent_ns;  /* CLOCK_REALTIME of the last delivery, 0 */
	int64_t last_sent_mono_ns; /* and CLOCK_MONOTONIC, 0 if never */
};

/* What a send errno means for the user, one phrase naming the fix
 * ("chronyd is not running, or has no refclock SOCK on this path"); for
 * errnos without a specific reading, strerror's text. */
const char *sock_errno_meaning(int e);

struct sock_client;

/* Whether chronyd can take path as a SOCK refclock: at most 107 bytes
 * (sun_path with its NUL), no ':' (the refclock directive's option
 * separator).  0, or a negative errno with the reason in err. */
int sock_path_check(const char *path, char *err, size_t errlen);

/* name is used in log lines ("PPS", "NMEA").  The path is checked against
 * chronyd's limits (<= 107 bytes, no ':'): NULL and a message in err if
 * not. */
struct sock_client *sock_client_create(const char *path, const char *name,
				       char *err, size_t errlen);
void sock_client_destroy(struct sock_client *c);

/*
 * Send one sample, never blocking (MSG_DONTWAIT, sendto by path each time
 * so that a restarted chronyd is found again).  chronyd being absent,
 * restarting or refusing is a normal state: it is logged once when it
 * starts and once when samples flow again.  Returns 0 or a negative errno.
 */
int sock_client_send(struct sock_client *c, const struct sock_sample *s);

const struct sock_stats *sock_client_stats(const struct sock_client *c);

/* The path samples are sent to, and the bytes of one sample. */
const char *sock_client_path(const struct sock_client *c);
size_t sock_client_sample_size(void);

#endif

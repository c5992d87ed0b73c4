/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps.h - the PPS source interface.
 *
 * Every PPS input is a backend behind this small vtable (chrony's
 * RefclockDriver shape): the core owns the event loop and asks a backend
 * for a file descriptor to poll and/or a monotonic deadline at which to
 * call read(), and read() returns the edges captured since the last call.
 * Adding a backend is one new file plus one entry in pps_backends[]
 * (pps.c); doc/hacking.md says what else.
 *
 * Backends, one file each:
 *   kernel  pps_kernel.c  RFC 2783 kernel PPS (/dev/ppsN), needs
 *                         sys/timepps.h (pps-tools) at build time
 *   gpio    pps_gpio.c    a GPIO line through libgpiod v1 or v2, needs
 *                         libgpiod at build time
 *   dcd     pps_dcd.c     DCD of the NMEA serial port: N_PPS line
 *                         discipline (kernel PPS), else TIOCMIWAIT
 *   sim     pps_sim.c     edges on whole seconds of the system clock, for
 *                         tests and the demo
 * "none" (NMEA samples only) is no backend: the configuration handles it.
 * pps_util.c holds the pure helpers the real backends share.
 *
 * A kind whose library or header was missing at build time stays in
 * pps_backends[] with not_built set and no functions, so that a --pps
 * naming it is refused as "gpio: not built (libgpiod was not found at
 * build time; ...)", not as an unknown kind (chrony's "not compiled in").
 *
 * Specification string given to --pps: "KIND" or "KIND:ARG", e.g. "sim",
 * "sim:jitter=2us,miss=0.01,spurious=0.01,seed=7", "kernel:/dev/pps0",
 * "gpio:gpiochip0:18", "dcd".
 */
#ifndef GPSPPS_PPS_H
#define GPSPPS_PPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pps_polarity {
	PPS_EDGE_RISING = 0,   /* assert */
	PPS_EDGE_FALLING = 1,  /* clear */
	PPS_EDGE_AUTO = 2,     /* decide from the pulse width (config only) */
};

struct pps_edge {
	int64_t real_ns;       /* CLOCK_REALTIME of the edge */
	int64_t mono_ns;       /* CLOCK_MONOTONIC_RAW of the edge, 0 if unknown */
	uint64_t seq;          /* backend sequence number, 0 if none */
	enum pps_polarity polarity;
	/* Pulses the source counted since its previous capture of this kind
	 * beyond what the time between them allows at 1 Hz (kernel PPS
	 * sequence numbers): > 0 means a pulse faster than 1 Hz, and this
	 * edge is then only the last of many: never a second's edge. */
	uint64_t extra;
};

struct pps_options {
	enum pps_polarity edge;     /* which edge is on the second */
	const char *serial_device;  /* the NMEA port, for "dcd" */
	int serial_fd;              /* its open fd, or -1 */
};

/* Counters for logs and the health socket. */
struct pps_stats {
	uint64_t edges;      /* edges returned by read */
	uint64_t missed;     /* gaps detected from sequence numbers / time */
	uint64_t errors;     /* read errors */
};

struct pps_source;

struct pps_backend {
	const char *kind;       /* "sim" */
	const char *summary;    /* one line for --help */
	/* NULL for a kind compiled in.  Otherwise why it was not ("libgpiod
	 * was not found at build time") and what a rebuild needs
	 * (build_fix); the functions below are then all NULL. */
	const char *not_built;
	const char *build_fix;
	/* Open the source; arg is the text after "KIND:" or NULL.  On
	 * failure return a negative errno and write one line naming the fix
	 * into err.  A configuration error (bad arg) returns -EINVAL. */
	int (*open)(struct pps_source *src, const char *arg,
		    const struct pps_options *opt, char *err, size_t errlen);
	/* Optional (NULL: any arg is accepted): validate arg as open()
	 * would, through the same parser, WITHOUT opening any device (for
	 * --check).  Returns 0, or -EINVAL with open()'s message in err. */
	int (*check)(const char *arg, char *err, size_t errlen);
	void (*close)(struct pps_source *src);
	/* fd to poll for POLLIN, or -1. */
	int (*fd)(struct pps_source *src);
	/* CLOCK_MONOTONIC deadline (ns) at which read() should be called
	 * even without fd readiness, or -1 for none. */
	int64_t (*deadline)(struct pps_source *src);
	/* Non-blocking: store up to max edges captured since the last call,
	 * oldest first.  Returns the count, or a negative errno on a device
	 * error (the core then closes and later reopens the source). */
	int (*read)(struct pps_source *src, struct pps_edge *edges, int max);
};

struct pps_source {
	const struct pps_backend *backend;
	void *priv;                 /* backend state */
	struct pps_stats stats;
};

/* Find the backend for a --pps spec.  Returns NULL for an unknown kind,
 * and also finds a kind that was not built (not_built set); *arg receives
 * the text after the first ':' (or NULL). */
const struct pps_backend *pps_lookup(const char *spec, const char **arg);

/* Open src from spec; see pps_backend.open for the return value.  An
 * unknown kind or one not built is -EINVAL, with the message in err. */
int pps_open(struct pps_source *src, const char *spec,
	     const struct pps_options *opt, char *err, size_t errlen);
void pps_close(struct pps_source *src);

/* Validate spec (kind and argument) without opening anything: 0, or
 * -EINVAL with the message pps_open would give in err (a kind not built
 * included). */
int pps_check(const char *spec, char *err, size_t errlen);

/* Every backend, those not built included (not_built set),
 * NULL-terminated (for --help). */
extern const struct pps_backend *const pps_backends[];

#endif

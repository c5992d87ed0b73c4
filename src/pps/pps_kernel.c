/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps_kernel.c - kernel PPS through the RFC 2783 API (sys/timepps.h):
 * "--pps kernel:/dev/ppsN".  The driver (pps-gpio, pps-ldisc, ...)
 * timestamps each edge in its interrupt handler on CLOCK_REALTIME; we
 * fetch the latest assert and clear captures and their sequence numbers.
 *
 * Why a timer and not poll(): before a 2025 kernel fix, poll() on
 * /dev/ppsN reports the device always readable, so a poll loop would spin.
 * Instead deadline() asks the core to call read() a few milliseconds after
 * each expected edge (last edge + 1 s) and 100 ms before it (for the
 * clocks' reading below), so that a steady pulse costs two wake-ups a
 * second, and every 200 ms while none is expected (before the first edge,
 * after a missed one);
 * read() fetches with a zero timeout, which never blocks.  The fetch only
 * holds the newest capture of each kind, so fetching at least once a
 * second loses nothing; sequence gaps count the pulses missed.
 *
 * The pairing measures edges on CLOCK_MONOTONIC_RAW, which chronyd's
 * slews do not move; the kernel stamps them on CLOCK_REALTIME, which they
 * do (up to 8 %).  Every read reads both clocks; an edge is put on
 * CLOCK_MONOTONIC_RAW between the reading before it (the read 100 ms
 * before it was expected) and the one after (pps_util_rate), and the
 * next edge is expected a second of CLOCK_MONOTONIC_RAW after the last
 * one, at the rate measured over the readings.  So a slewing clock
 * neither moves the edges off the pulse grid (the latency times the
 * slew) nor delays the read (a read 1 s of a clock slowed by 8 % after
 * the last edge came 90 ms after the next one).
 */
#include "config.h"

#if HAVE_TIMEPPS

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timepps.h>
#include <unistd.h>

#include "log.h"
#include "pps.h"
#include "pps_util.h"
#include "timeutil.h"

#define KPPS_POLL_NS (200 * TU_NS_PER_MS)
#define KPPS_AFTER_EDGE_NS (5 * TU_NS_PER_MS)
#define KPPS_BEFORE_EDGE_NS (100 * TU_NS_PER_MS)
#define KPPS_GONE_CHECK_NS (2 * TU_NS_PER_SEC)
#define KPPS_PATH_MAX 128

struct kpps_state {
	int fd;
	pps_handle_t handle;
	char path[KPPS_PATH_MAX];
	dev_t rdev;
	ino_t ino;
	enum pps_polarity want;          /* configured edge */
	struct pps_util_edge_filter filt; /* on-second edges */
	bool have_seq[2];
	unsigned long seq[2];            /* last seen, [0] assert, [1] clear */
	int64_t last_real[2];            /* last edge of each kind, 0 if none */
	struct pps_util_rate rate;       /* CLOCK_REALTIME against _RAW */
	int64_t last_edge_mono;          /* CLOCK_MONOTONIC of the last edge */
	int64_t last_check_mono;
};

static void kpps_free(struct kpps_state *s)
{
	if (s->fd >= 0) {
		time_pps_destroy(s->handle);
		close(s->fd);
	}
	free(s);
}

static int open_error(const char *path, int e, char *err, size_t errlen)
{
	switch (e) {
	case ENOENT:
		snprintf(err, errlen, "%s does not exist: load the PPS driver "
			 "(pps-gpio: dtoverlay=pps-gpio,gpiopin=18; serial DCD: "
			 "--pps dcd) or pick a device from /sys/class/pps", path);
		break;
	case EACCES:
	case EPERM:
		snprintf(err, errlen, "permission denied on %s: run gpsppsd as "
			 "root or give its user access with a udev rule "
			 "(see doc/hardware.md)", path);
		break;
	default:
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		break;
	}
	return -e;
}

/* The capture modes we need, or 0 with err set. */
static int needed_modes(struct kpps_state *s, int caps, char *err,
			size_t errlen)
{
	int want = 0;

	if (s->want == PPS_EDGE_AUTO) {
		want = caps & PPS_CAPTUREBOTH;
	} else {
		want = s->want == PPS_EDGE_RISING ? PPS_CAPTUREASSERT
						  : PPS_CAPTURECLEAR;
	}
	if ((caps & want) == 0 || want == 0) {
		snprintf(err, errlen, "%s cannot capture %s edges (it offers "
			 "%s%s): use --pps-edge %s", s->path,
			 s->want == PPS_EDGE_FALLING ? "clear (falling)" :
			 "assert (rising)",
			 caps & PPS_CAPTUREASSERT ? "assert " : "",
			 caps & PPS_CAPTURECLEAR ? "clear" : "",
			 caps & PPS_CAPTUREASSERT ? "rising" : "falling");
		return 0;
	}
	return want;
}

/* Enable the capture modes; setting them needs CAP_SYS_TIME, which is not
 * needed when the driver's defaults already capture what we want. */
static int set_modes(struct kpps_state *s, int want, char *err,
		     size_t errlen)
{
	pps_params_t params;

	if (time_pps_getparams(s->handle, &params) < 0) {
		return open_error(s->path, errno, err, errlen);
	}
	if ((params.mode & want) == want) {
		return 0;
	}
	params.mode |= want | PPS_TSFMT_TSPEC;
	if (time_pps_setparams(s->handle, &params) < 0) {
		int e = errno;

		if (e == EPERM) {
			snprintf(err, errlen, "enabling %s capture on %s needs "
				 "CAP_SYS_TIME: run as root, add "
				 "AmbientCapabilities=CAP_SYS_TIME, or use "
				 "--pps-edge rising", want & PPS_CAPTURECLEAR ?
				 "clear" : "assert", s->path);
			return -EPERM;
		}
		return open_error(s->path, e, err, errlen);
	}
	return 0;
}

static int kpps_setup(struct kpps_state *s, char *err, size_t errlen)
{
	struct stat st;
	int caps, want;

	if (fstat(s->fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a character device: give a "
			 "/dev/ppsN path", s->path);
		return -ENODEV;
	}
	s->rdev = st.st_rdev;
	s->ino = st.st_ino;
	if (time_pps_create(s->fd, &s->handle) < 0 ||
	    time_pps_getcap(s->handle, &caps) < 0) {
		snprintf(err, errlen, "%s is not a PPS device (%s): give a "
			 "/dev/ppsN path, see /sys/class/pps", s->path,
			 strerror(errno));
		return -ENODEV;
	}
	want = needed_modes(s, caps, err, errlen);
	if (want == 0) {
		return -EOPNOTSUPP;
	}
	return set_modes(s, want, err, errlen);
}

/* The argument: an absolute device path that fits path[]. */
static int kpps_parse(const char *arg, char *path, char *err, size_t errlen)
{
	if (arg == NULL || arg[0] != '/') {
		snprintf(err, errlen, "kernel PPS needs a device path: "
			 "--pps kernel:/dev/pps0");
		return -EINVAL;
	}
	if (strlen(arg) >= KPPS_PATH_MAX) {
		snprintf(err, errlen, "kernel PPS device path longer than %d "
			 "bytes: give the /dev/ppsN path", KPPS_PATH_MAX - 1);
		return -EINVAL;
	}
	memcpy(path, arg, strlen(arg) + 1);
	return 0;
}

static int kpps_check(const char *arg, char *err, size_t errlen)
{
	char path[KPPS_PATH_MAX];

	return kpps_parse(arg, path, err, errlen);
}

static int kpps_open(struct pps_source *src, const char *arg,
		     const struct pps_options *opt, char *err, size_t errlen)
{
	char path[KPPS_PATH_MAX];
	struct kpps_state *s;
	int r;

	r = kpps_parse(arg, path, err, errlen);
	if (r < 0) {
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(s->path, path, sizeof(s->path));
	s->want = opt->edge;
	pps_util_edge_filter_init(&s->filt, opt->edge);
	pps_util_rate_init(&s->rate);
	/* RDWR: setting the capture mode is an ioctl that needs write access */
	s->fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		r = open_error(s->path, errno, err, errlen);
		kpps_free(s);
		return r;
	}
	r = kpps_setup(s, err, errlen);
	if (r < 0) {
		kpps_free(s);
		return r;
	}
	s->last_edge_mono = s->last_check_mono = tu_now(CLOCK_MONOTONIC);
	src->priv = s;
	return 0;
}

static void kpps_close(struct pps_source *src)
{
	kpps_free(src->priv);
}

static int kpps_fd(struct pps_source *src)
{
	(void)src;
	return -1;
}

static int64_t kpps_deadline(struct pps_source *src)
{
	struct kpps_state *s = src->priv;
	int64_t real = tu_now(CLOCK_REALTIME);
	int64_t mono = tu_now(CLOCK_MONOTONIC);
	int64_t next = 0;
	int k;

	/* The next expected edge of either kind, and a reading of the
	 * clocks before it; none (no edge yet, or one missed): search every
	 * KPPS_POLL_NS. */
	for (k = 0; k < 2; k++) {
		int64_t expect = pps_util_rate_expect(&s->rate, s->last_real[k],
						      real, KPPS_BEFORE_EDGE_NS,
						      KPPS_AFTER_EDGE_NS);

		if (expect != 0 && (next == 0 || expect < next)) {
			next = expect;
		}
	}
	if (next == 0) {
		next = real + KPPS_POLL_NS;
	}
	return mono + (next - real);
}

/* The device node was removed (driver unloaded, USB adapter unplugged) or
 * replaced by another device: the open fd will never see an edge again. */
static bool kpps_gone(struct kpps_state *s)
{
	struct stat st;

	if (stat(s->path, &st) < 0) {
		return true;
	}
	return st.st_rdev != s->rdev || st.st_ino != s->ino;
}

/* A new capture of kind k (0 assert, 1 clear) → an edge, if new. */
static bool kpps_new(struct pps_source *src, int k, unsigned long seq,
		     const struct timespec *ts, struct pps_edge *e)
{
	struct kpps_state *s = src->priv;
	enum pps_polarity on;

	if (seq == 0 || (s->have_seq[k] && seq == s->seq[k])) {
		return false;
	}
	/* sequence numbers count the pulses missed exactly, per kind: only
	 * those of the on-second kind are missed pulses, and no more than
	 * the time since the last capture holds (a faster pulse is extra
	 * edges, which the pairing's period check counts) */
	on = pps_util_edge_filter_on_second(&s->filt);
	if (s->have_seq[k] && (int)on == k) {
		src->stats.missed += pps_util_seq_gap_missed(s->seq[k], seq,
				s->last_real[k], tu_ts_to_ns(ts));
	}
	/* once a second we see only the last capture of a faster pulse: its
	 * sequence number is what tells it from a second's edge */
	e->extra = s->have_seq[k] ?
		   pps_util_seq_extra(s->seq[k], seq, s->last_real[k],
				      tu_ts_to_ns(ts)) : 0;
	s->have_seq[k] = true;
	s->seq[k] = seq;
	e->real_ns = tu_ts_to_ns(ts);
	e->seq = seq;
	e->polarity = k == 0 ? PPS_EDGE_RISING : PPS_EDGE_FALLING;
	s->last_real[k] = e->real_ns;
	return true;
}

/* Keep e when it is on the second.  Missed pulses come from the
 * sequence numbers (kpps_new), not from the filter's gap estimate. */
static bool kpps_keep(struct kpps_state *s, const struct pps_edge *e)
{
	bool decided;
	bool on = pps_util_edge_filter_keep(&s->filt, e, NULL, &decided);

	if (decided) {
		log_notice("%s: the %s edge is on the second (from the pulse "
			   "width)", s->path, s->filt.auto_pol.decided ==
			   PPS_EDGE_RISING ? "rising" : "falling");
	}
	return on;
}

static int kpps_read(struct pps_source *src, struct pps_edge *edges, int max)
{
	struct kpps_state *s = src->priv;
	struct timespec zero = { 0, 0 };
	struct pps_edge got[2];
	pps_info_t info;
	int64_t real, raw, mono;
	int n = 0, k, out = 0;

	if (time_pps_fetch(s->handle, PPS_TSFMT_TSPEC, &info, &zero) < 0) {
		src->stats.errors++;
		return errno == EINTR ? 0 : -errno;
	}
	real = tu_now(CLOCK_REALTIME);
	raw = tu_now(CLOCK_MONOTONIC_RAW);
	mono = tu_now(CLOCK_MONOTONIC);
	n += kpps_new(src, 0, info.assert_sequence, &info.assert_timestamp,
		      &got[n]);
	n += kpps_new(src, 1, info.clear_sequence, &info.clear_timestamp,
		      &got[n]);
	if (n == 2 && got[1].real_ns < got[0].real_ns) {
		struct pps_edge t = got[0];

		got[0] = got[1];
		got[1] = t;
	}
	for (k = 0; k < n; k++) {
		got[k].mono_ns = pps_util_rate_to_raw(&s->rate, real, raw,
						      got[k].real_ns);
		if (kpps_keep(s, &got[k]) && out < max) {
			edges[out++] = got[k];
		}
	}
	pps_util_rate_feed(&s->rate, real, raw);
	if (n > 0) {
		s->last_edge_mono = s->last_check_mono = mono;
	} else if (mono - s->last_check_mono > KPPS_GONE_CHECK_NS &&
		   mono - s->last_edge_mono > KPPS_GONE_CHECK_NS) {
		s->last_check_mono = mono;
		if (kpps_gone(s)) {
			log_warn("%s disappeared (driver unloaded or device "
				 "unplugged)", s->path);
			return -ENODEV;
		}
	}
	src->stats.edges += (uint64_t)out;
	return out;
}

const struct pps_backend pps_kernel_backend = {
	.kind = "kernel",
	.summary = "kernel PPS device, RFC 2783 (kernel:/dev/ppsN)",
	.open = kpps_open,
	.check = kpps_check,
	.close = kpps_close,
	.fd = kpps_fd,
	.deadline = kpps_deadline,
	.read = kpps_read,
};

#else

#include "pps.h"

const struct pps_backend pps_kernel_backend = {
	.kind = "kernel",
	.summary = "kernel PPS device, RFC 2783",
	.not_built = "sys/timepps.h was not found at build time",
	.build_fix = "install pps-tools and rebuild",
};

#endif /* HAVE_TIMEPPS */

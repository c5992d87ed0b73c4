/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps_dcd.c - PPS on the DCD line of the NMEA serial port: "--pps dcd"
 * ("dcd:ldisc" or "dcd:wait" force one of the two ways below).
 *
 * 1. The kernel's N_PPS line discipline (module pps-ldisc): set on the
 *    port, it registers a /dev/ppsN whose assert/clear events are DCD
 *    rising/falling, timestamped in the UART interrupt handler.  From then
 *    on this IS kernel PPS: this backend finds that /dev/ppsN through
 *    /sys/class/pps/ppsN/path and hands it to the kernel backend.  NMEA
 *    reading is unaffected (N_PPS is N_TTY plus the DCD hook).
 *
 * 2. Otherwise TIOCMIWAIT: a thread blocks in ioctl(TIOCMIWAIT, TIOCM_CD)
 *    and reads CLOCK_REALTIME right after it returns, then TIOCMGET for the
 *    new level.  This is the one worker thread in gpsppsd: TIOCMIWAIT has
 *    no descriptor to poll.  Edges go to the event loop through a pipe.
 *    The stamp is taken after the interrupt, the wake-up and the return to
 *    user space, so it is LATE by that latency: typically 10-200 us with a
 *    jitter of a few us on an idle machine, and milliseconds under load or
 *    with USB adapters (which report modem status in USB packets, 1 ms
 *    frames or worse).  Prefer N_PPS; correct a constant bias with the
 *    refclock's offset in chrony.conf.
 *
 * Both ways watch for the port hanging up (the device removed, an adapter
 * unplugged): on a serial-core UART, TIOCMIWAIT returns only on a modem
 * line change or a signal, not on hang-up (uart_wait_modem_status, Linux
 * 6.1), and it holds a reference that uart_remove_one_port waits for, so
 * removing the port would wait for us forever.  read() looks (deadline():
 * at least once a second) and returns -ENODEV; the core closes the source,
 * which ends the wait, and reopens it when the port is back.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "pps.h"
#include "pps_util.h"
#include "timeutil.h"

#ifndef N_PPS
#define N_PPS 18
#endif

#define DCD_RING 32
/* udev gives /dev/ppsN its group a moment after N_PPS registers it root
 * 0600 (or creates the node, without devtmpfs): how long to keep trying */
#define DCD_LDISC_OPEN_WAIT_NS (2 * TU_NS_PER_SEC)
#define DCD_LDISC_OPEN_RETRY_US 50000
/* how often TIOCMIWAIT mode looks for a hang-up without edges */
#define DCD_HUP_CHECK_NS TU_NS_PER_SEC

struct dcd_state {
	int tty_fd;
	char tty_path[PATH_MAX];
	enum pps_polarity want;
	/* N_PPS mode */
	bool ldisc_set;
	int old_ldisc;
	bool have_inner;
	struct pps_source inner;
	/* TIOCMIWAIT mode */
	bool thread_started;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool exited;
	int wake[2];                    /* thread -> loop */
	pthread_mutex_t lock;
	struct pps_edge ring[DCD_RING];
	int ring_head, ring_count;
	int thread_err;                 /* errno that ended the thread */
	uint64_t dropped;
	struct pps_util_edge_filter filt;
	uint64_t seq;
};

/* ---- N_PPS ---------------------------------------------------------- */
#if HAVE_TIMEPPS

extern const struct pps_backend pps_kernel_backend;

static bool sysfs_line_is(const char *file, const char *want)
{
	char buf[PATH_MAX] = "";
	FILE *f = fopen(file, "r");
	size_t n;

	if (f == NULL) {
		return false;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, want) == 0;
}

/* The /dev/ppsN that N_PPS created for our tty ("path" is /dev/ttyXN). */
static int find_ldisc_pps(struct dcd_state *s, char *dev, size_t len)
{
	char tty[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int found = -ENOENT;

	if (ttyname_r(s->tty_fd, tty, sizeof(tty)) != 0) {
		snprintf(tty, sizeof(tty), "%s", s->tty_path);
	}
	d = opendir("/sys/class/pps");
	if (d == NULL) {
		return -ENOENT;
	}
	while (found < 0 && (de = readdir(d)) != NULL) {
		char file[PATH_MAX];

		if (strncmp(de->d_name, "pps", 3) != 0) {
			continue;
		}
		snprintf(file, sizeof(file), "/sys/class/pps/%.200s/path",
			 de->d_name);
		if (sysfs_line_is(file, tty)) {
			snprintf(dev, len, "/dev/%.200s", de->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

/* Open the /dev/ppsN that N_PPS has just registered.  It appears root
 * 0600 and udev gives it its group a moment later (or, without devtmpfs,
 * creates it a moment later): a user other than root retries a while on
 * EACCES and ENOENT before giving up. */
static int open_ldisc_pps(struct dcd_state *s, const char *dev,
			  const struct pps_options *opt, char *err,
			  size_t errlen)
{
	int64_t end = tu_now(CLOCK_MONOTONIC) + DCD_LDISC_OPEN_WAIT_NS;
	int r;

	for (;;) {
		memset(&s->inner, 0, sizeof(s->inner));
		s->inner.backend = &pps_kernel_backend;
		r = pps_kernel_backend.open(&s->inner, dev, opt, err, errlen);
		if ((r != -EACCES && r != -ENOENT) ||
		    tu_now(CLOCK_MONOTONIC) >= end) {
			break;
		}
		usleep(DCD_LDISC_OPEN_RETRY_US);
	}
	if (r == -EACCES) {
		snprintf(err, errlen, "permission denied on %s for 2 s after "
			 "N_PPS created it: give gpsppsd's group the PPS devices "
			 "with a udev rule (60-gpspps.rules, see doc/hardware.md) "
			 "or run as root", dev);
	}
	return r;
}

static int try_ldisc(struct dcd_state *s, const struct pps_options *opt,
		     char *err, size_t errlen)
{
	int ldisc = N_PPS;
	char dev[PATH_MAX];
	int r;

	if (ioctl(s->tty_fd, TIOCGETD, &s->old_ldisc) < 0 ||
	    ioctl(s->tty_fd, TIOCSETD, &ldisc) < 0) {
		r = -errno;
		snprintf(err, errlen, "N_PPS line discipline unavailable on %s "
			 "(%s): modprobe pps-ldisc", s->tty_path, strerror(-r));
		return r;
	}
	s->ldisc_set = true;
	r = find_ldisc_pps(s, dev, sizeof(dev));
	if (r < 0) {
		snprintf(err, errlen, "N_PPS set on %s but no /dev/ppsN names "
			 "it in /sys/class/pps", s->tty_path);
		return r;
	}
	r = open_ldisc_pps(s, dev, opt, err, errlen);
	if (r < 0) {
		return r;
	}
	s->have_inner = true;
	log_info("DCD of %s through the N_PPS line discipline: %s",
		 s->tty_path, dev);
	return 0;
}

#else

static int try_ldisc(struct dcd_state *s, const struct pps_options *opt,
		     char *err, size_t errlen)
{
	(void)opt;
	snprintf(err, errlen, "N_PPS needs kernel PPS support (built without "
		 "sys/timepps.h: install pps-tools and rebuild) for %s",
		 s->tty_path);
	return -EOPNOTSUPP;
}

#endif /* HAVE_TIMEPPS */

/* ---- TIOCMIWAIT ----------------------------------------------------- */

static void wake_signal_handler(int sig)
{
	(void)sig;   /* only interrupts the blocked ioctl */
}

static int wake_signal(void)
{
	return SIGRTMIN + 3;
}

static void push_edge(struct dcd_state *s, const struct pps_edge *e)
{
	pthread_mutex_lock(&s->lock);
	if (s->ring_count == DCD_RING) {
		s->ring_head = (s->ring_head + 1) % DCD_RING;
		s->ring_count--;
		s->dropped++;
	}
	s->ring[(s->ring_head + s->ring_count) % DCD_RING] = *e;
	s->ring_count++;
	pthread_mutex_unlock(&s->lock);
	(void)!write(s->wake[1], "e", 1);
}

static void *wait_thread(void *arg)
{
	struct dcd_state *s = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, wake_signal());
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!atomic_load(&s->stop)) {
		struct pps_edge e = { 0 };
		int status = 0;

		if (ioctl(s->tty_fd, TIOCMIWAIT, TIOCM_CD) < 0) {
			if (errno == EINTR) {
				continue;
			}
			pthread_mutex_lock(&s->lock);
			s->thread_err = errno;
			pthread_mutex_unlock(&s->lock);
			(void)!write(s->wake[1], "x", 1);
			break;
		}
		/* stamp first: every instruction before it adds to the bias */
		e.real_ns = tu_now(CLOCK_REALTIME);
		e.mono_ns = tu_now(CLOCK_MONOTONIC_RAW);
		ioctl(s->tty_fd, TIOCMGET, &status);
		e.polarity = status & TIOCM_CD ? PPS_EDGE_RISING
					       : PPS_EDGE_FALLING;
		push_edge(s, &e);
	}
	atomic_store(&s->exited, true);
	return NULL;
}

static int start_thread(struct dcd_state *s, char *err, size_t errlen)
{
	struct sigaction sa;
	sigset_t all, old;
	int r;

	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return r;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_signal_handler;   /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(wake_signal(), &sa, NULL);
	/* the thread starts with every signal blocked: SIGINT and SIGTERM
	 * stay with the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&s->thread, NULL, wait_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		snprintf(err, errlen, "cannot start the DCD thread: %s",
			 strerror(r));
		return -r;
	}
	s->thread_started = true;
	log_info("DCD of %s through TIOCMIWAIT (user-space stamps: late by "
		 "the wake-up latency; N_PPS is better)", s->tty_path);
	return 0;
}

static void stop_thread(struct dcd_state *s)
{
	int i;

	atomic_store(&s->stop, true);
	for (i = 0; i < 200 && !atomic_load(&s->exited); i++) {
		pthread_kill(s->thread, wake_signal());
		usleep(5000);
	}
	pthread_join(s->thread, NULL);
}

/* ---- common --------------------------------------------------------- */

static void dcd_free(struct dcd_state *s)
{
	if (s->have_inner) {
		pps_close(&s->inner);
	}
	if (s->thread_started) {
		stop_thread(s);
	}
	if (s->ldisc_set) {
		ioctl(s->tty_fd, TIOCSETD, &s->old_ldisc);
	}
	if (s->tty_fd >= 0) {
		close(s->tty_fd);
	}
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Our own descriptor on the port: the N_PPS setting lives as long as a
 * descriptor is open, independent of the NMEA reader's reopen cycles. */
static int open_tty(struct dcd_state *s, const struct pps_options *opt,
		    char *err, size_t errlen)
{
	int status;

	if (opt->serial_device != NULL) {
		snprintf(s->tty_path, sizeof(s->tty_path), "%s",
			 opt->serial_device);
		s->tty_fd = open(opt->serial_device,
				 O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	} else if (opt->serial_fd >= 0) {
		snprintf(s->tty_path, sizeof(s->tty_path), "the serial port");
		s->tty_fd = fcntl(opt->serial_fd, F_DUPFD_CLOEXEC, 0);
	} else {
		snprintf(err, errlen, "--pps dcd needs the receiver's serial "
			 "port: give --device");
		return -EINVAL;
	}
	if (s->tty_fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot open %s for DCD: %s%s",
			 s->tty_path, strerror(e), e == EACCES ?
			 " (add the user to the dialout group)" : "");
		return -e;
	}
	if (ioctl(s->tty_fd, TIOCMGET, &status) < 0) {
		snprintf(err, errlen, "%s has no modem status lines (a pty?): "
			 "DCD cannot carry PPS there, use --pps kernel: or gpio:",
			 s->tty_path);
		return -ENOTTY;
	}
	return 0;
}

/* "dcd" (both ways), "dcd:ldisc" or "dcd:wait". */
static int parse_mode(const char *arg, bool *use_ldisc, bool *use_wait,
		      char *err, size_t errlen)
{
	*use_ldisc = *use_wait = true;
	if (arg == NULL) {
		return 0;
	}
	if (strcmp(arg, "ldisc") == 0) {
		*use_wait = false;
	} else if (strcmp(arg, "wait") == 0) {
		*use_ldisc = false;
	} else {
		snprintf(err, errlen, "unknown DCD mode \"%s\": use dcd, "
			 "dcd:ldisc or dcd:wait", arg);
		return -EINVAL;
	}
	return 0;
}

static int dcd_check(const char *arg, char *err, size_t errlen)
{
	bool use_ldisc, use_wait;

	return parse_mode(arg, &use_ldisc, &use_wait, err, errlen);
}

static int dcd_open(struct pps_source *src, const char *arg,
		    const struct pps_options *opt, char *err, size_t errlen)
{
	struct dcd_state *s = calloc(1, sizeof(*s));
	bool want_ldisc, want_wait;
	int r;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->tty_fd = s->wake[0] = s->wake[1] = -1;
	s->want = opt->edge;
	pps_util_edge_filter_init(&s->filt, opt->edge);
	pthread_mutex_init(&s->lock, NULL);
	r = parse_mode(arg, &want_ldisc, &want_wait, err, errlen);
	if (r < 0) {
		dcd_free(s);
		return r;
	}
	r = open_tty(s, opt, err, errlen);
	if (r == 0 && want_ldisc) {
		r = try_ldisc(s, opt, err, errlen);
		if (r < 0 && want_wait) {
			/* a warning: user-space stamps are far worse, and the
			 * cause usually has a fix that err names */
			log_warn("DCD of %s: N_PPS not usable: %s; falling back "
				 "to TIOCMIWAIT (user-space stamps, late by the "
				 "wake-up latency)", s->tty_path, err);
			if (s->ldisc_set) {
				ioctl(s->tty_fd, TIOCSETD, &s->old_ldisc);
				s->ldisc_set = false;
			}
			r = start_thread(s, err, errlen);
		}
	} else if (r == 0) {
		r = start_thread(s, err, errlen);
	}
	if (r < 0) {
		dcd_free(s);
		return r;
	}
	src->priv = s;
	return 0;
}

static void dcd_close(struct pps_source *src)
{
	dcd_free(src->priv);
}

static int dcd_fd(struct pps_source *src)
{
	struct dcd_state *s = src->priv;

	if (s->have_inner) {
		return s->inner.backend->fd(&s->inner);
	}
	return s->wake[0];
}

static int64_t dcd_deadline(struct pps_source *src)
{
	struct dcd_state *s = src->priv;

	if (s->have_inner) {
		return s->inner.backend->deadline(&s->inner);
	}
	return tu_now(CLOCK_MONOTONIC) + DCD_HUP_CHECK_NS;
}

/* A hung-up tty polls POLLHUP on every descriptor (a live UART never). */
static bool dcd_hung_up(const struct dcd_state *s)
{
	struct pollfd p = { .fd = s->tty_fd, .events = 0 };

	return poll(&p, 1, 0) == 1 &&
	       (p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static bool dcd_keep(struct pps_source *src, const struct pps_edge *e)
{
	struct dcd_state *s = src->priv;
	bool decided;
	bool on = pps_util_edge_filter_keep(&s->filt, e, &src->stats.missed,
					    &decided);

	if (decided) {
		log_notice("DCD: the %s edge is on the second (from the "
			   "pulse width)", s->filt.auto_pol.decided ==
			   PPS_EDGE_RISING ? "rising" : "falling");
	}
	return on;
}

/* TIOCMIWAIT mode: the edges the thread has queued. */
static int dcd_read_wait(struct pps_source *src, struct pps_edge *edges,
			 int max)
{
	struct dcd_state *s = src->priv;
	struct pps_edge got[DCD_RING];
	char drain[64];
	int n = 0, i, out = 0, terr;
	bool more;

	while (read(s->wake[0], drain, sizeof(drain)) > 0) {
	}
	pthread_mutex_lock(&s->lock);
	while (s->ring_count > 0 && n < max && n < DCD_RING) {
		got[n++] = s->ring[s->ring_head];
		s->ring_head = (s->ring_head + 1) % DCD_RING;
		s->ring_count--;
	}
	more = s->ring_count > 0;
	terr = s->thread_err;
	src->stats.errors = s->dropped;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++) {
		got[i].seq = ++s->seq;
		if (dcd_keep(src, &got[i])) {
			edges[out++] = got[i];
		}
	}
	src->stats.edges += (uint64_t)out;
	if (terr != 0 && out == 0 && !more) {
		log_warn("TIOCMIWAIT on %s failed: %s", s->tty_path,
			 strerror(terr));
		return -terr;
	}
	if (more || terr != 0) {
		/* Edges left over (more than max) or an error still to report
		 * (the thread has ended and will not write again): the loop
		 * only calls read when the pipe is readable, so make it so. */
		(void)!write(s->wake[1], "m", 1);
	}
	return out;
}

static int dcd_read(struct pps_source *src, struct pps_edge *edges, int max)
{
	struct dcd_state *s = src->priv;
	int n;

	if (dcd_hung_up(s)) {
		log_warn("DCD of %s: the port hung up (device removed?): "
			 "closing it until it is back", s->tty_path);
		return -ENODEV;
	}
	if (s->have_inner) {
		n = s->inner.backend->read(&s->inner, edges, max);
		src->stats = s->inner.stats;
		return n;
	}
	return dcd_read_wait(src, edges, max);
}

const struct pps_backend pps_dcd_backend = {
	.kind = "dcd",
	.summary = "DCD of the NMEA serial port: N_PPS line discipline, else "
		   "TIOCMIWAIT (dcd, dcd:ldisc, dcd:wait)",
	.open = dcd_open,
	.check = dcd_check,
	.close = dcd_close,
	.fd = dcd_fd,
	.deadline = dcd_deadline,
	.read = dcd_read,
};

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_probe_port.c - the read-only port probe of doctor_probe.h, used
 * only while gpsppsd is not running (it would take bytes from it). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "baudprobe.h"
#include "doctor_probe.h"
#include "nmea.h"
#include "serial.h"

/* Long enough for a whole burst at 1 Hz wherever it falls. */
#define PORT_LISTEN_NS (2200 * 1000000LL)

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Bytes of one read into the decoder; the sentences it framed since the
 * last call into *good and *bad. */
static void decode(struct nmea_decoder *dec, const unsigned char *buf,
		   size_t n, unsigned *good, unsigned *bad)
{
	const struct nmea_stats *st = nmea_get_stats(dec);
	uint64_t g = st->sentences, b = st->bad_checksum;

	nmea_feed(dec, buf, n, 0, 0);
	*good = (unsigned)(st->sentences - g);
	*bad = (unsigned)(st->bad_checksum - b);
}

/* Wait for bytes until `until`; returns the bytes read (0 none). */
static ssize_t read_until(int fd, int64_t until, unsigned char *buf,
			  size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t left = until - now_ns();

	if (left <= 0 || poll(&pfd, 1, (int)(left / 1000000) + 1) <= 0) {
		return 0;
	}
	return read(fd, buf, len);
}

/* At the configured rate: bytes and valid sentences. */
static void listen_configured(struct doctor_facts *f, int fd)
{
	struct nmea_decoder *dec = nmea_decoder_create(NULL);
	int64_t end = now_ns() + PORT_LISTEN_NS;
	unsigned char buf[512];
	unsigned good, bad;
	ssize_t n;

	while (dec != NULL && now_ns() < end) {
		n = read_until(fd, end, buf, sizeof(buf));
		if (n < 0) {
			break;
		}
		f->probe_bytes += (unsigned long)n;
		decode(dec, buf, (size_t)n, &good, &bad);
		f->probe_sentences += good;
	}
	nmea_decoder_destroy(dec);
}

/* One rate of the probe: feed it until its step is no longer LISTEN. */
static enum baudprobe_step try_rate(struct baudprobe *p, int fd)
{
	struct nmea_decoder *dec = nmea_decoder_create(NULL);
	enum baudprobe_step step = BAUDPROBE_LISTEN;
	unsigned char buf[512];
	unsigned good, bad;
	char err[128];
	ssize_t n;

	if (dec == NULL ||
	    serial_set_baud(fd, baudprobe_rate(p), err, sizeof(err)) < 0) {
		nmea_decoder_destroy(dec);
		return baudprobe_tick(p, baudprobe_deadline(p));
	}
	while (step == BAUDPROBE_LISTEN) {
		n = read_until(fd, baudprobe_deadline(p), buf, sizeof(buf));
		if (n > 0) {
			decode(dec, buf, (size_t)n, &good, &bad);
			step = baudprobe_feed(p, good, bad, now_ns());
		} else {
			step = baudprobe_tick(p, now_ns());
		}
	}
	nmea_decoder_destroy(dec);
	return step;
}

/* The other rates, one pass, as gpsppsd's baud auto tries them. */
static void find_rate(struct doctor_facts *f, int fd)
{
	struct baudprobe_config pc;
	struct baudprobe *p;
	enum baudprobe_step step;

	baudprobe_config_default(&pc);
	pc.skip = f->setup.baud;
	p = baudprobe_create(&pc);
	if (p == NULL) {
		return;
	}
	baudprobe_begin(p, now_ns());
	do {
		step = try_rate(p, fd);
	} while (step == BAUDPROBE_SWITCH);
	if (step == BAUDPROBE_SETTLED) {
		f->probe_decoded_baud = baudprobe_rate(p);
	}
	baudprobe_destroy(p);
}

void doctor_probe_port(struct doctor_facts *f)
{
	struct termios saved;
	int fd = open(f->setup.device, O_RDONLY | O_NOCTTY | O_NONBLOCK |
		      O_CLOEXEC);
	int rc;

	f->probed = true;
	if (fd < 0) {
		f->probe_err = -errno;
		snprintf(f->probe_errmsg, DOCTOR_STR, "%s", strerror(errno));
		return;
	}
	rc = tcgetattr(fd, &saved) == 0 ?
	     serial_set_baud(fd, f->setup.baud, f->probe_errmsg, DOCTOR_STR) :
	     -ENOTTY;
	if (rc < 0) {
		f->probe_err = rc;
		if (rc == -ENOTTY) {
			snprintf(f->probe_errmsg, DOCTOR_STR,
				 "not a serial port");
		}
		close(fd);
		return;
	}
	listen_configured(f, fd);
	if (f->probe_bytes > 0 && f->probe_sentences == 0) {
		find_rate(f, fd);
	}
	tcsetattr(fd, TCSANOW, &saved);
	close(fd);
}

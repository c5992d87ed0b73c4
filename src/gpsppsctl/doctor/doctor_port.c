/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_port.c - the read-only port probe of doctor_probe.h, used only
 * while gpsppsd is not running (it would take bytes from it). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "doctor_judge.h"
#include "doctor_probe.h"
#include "nmea.h"

/* Long enough for a whole burst at 1 Hz wherever it falls. */
#define PORT_LISTEN_MS 2200

static speed_t speed_of(long baud)
{
	switch (baud) {
	case 4800: return B4800;
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 115200: return B115200;
	case 230400: return B230400;
	case 460800: return B460800;
	case 921600: return B921600;
	default: return B0;
	}
}

static int set_rate(int fd, long baud)
{
	struct termios tio;
	speed_t sp = speed_of(baud);

	if (sp == B0 || tcgetattr(fd, &tio) != 0) {
		return -EINVAL;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	if (cfsetispeed(&tio, sp) != 0 || cfsetospeed(&tio, sp) != 0 ||
	    tcsetattr(fd, TCSANOW, &tio) != 0) {
		return -errno;
	}
	tcflush(fd, TCIFLUSH);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Listen at one rate: bytes read, valid sentences framed. */
static void listen_at(int fd, unsigned long *bytes, unsigned long *good)
{
	struct nmea_decoder *dec = nmea_decoder_create(NULL);
	long long end = now_ms() + PORT_LISTEN_MS, left;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char buf[512];

	*bytes = *good = 0;
	while (dec != NULL && (left = end - now_ms()) > 0) {
		ssize_t n;

		if (poll(&pfd, 1, (int)left) <= 0) {
			continue;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			break;
		}
		*bytes += (unsigned long)n;
		nmea_feed(dec, buf, (size_t)n, 0, 0);
	}
	if (dec != NULL) {
		*good = (unsigned long)nmea_get_stats(dec)->sentences;
		nmea_decoder_destroy(dec);
	}
}

static void find_rate(struct doctor_facts *f, int fd)
{
	long rates[12];
	size_t n = doctor_baud_order(f->setup.baud, rates, 12), i;
	unsigned long bytes, good;

	for (i = 1; i < n; i++) {
		if (set_rate(fd, rates[i]) < 0) {
			continue;
		}
		listen_at(fd, &bytes, &good);
		if (good >= 2) {
			f->probe_decoded_baud = rates[i];
			return;
		}
	}
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
	rc = tcgetattr(fd, &saved) == 0 ? set_rate(fd, f->setup.baud) : -ENOTTY;
	if (rc < 0) {
		f->probe_err = rc;
		snprintf(f->probe_errmsg, DOCTOR_STR, "cannot set %ld baud: %s",
			 f->setup.baud, strerror(-rc));
		close(fd);
		return;
	}
	listen_at(fd, &f->probe_bytes, &f->probe_sentences);
	if (f->probe_bytes > 0 && f->probe_sentences == 0) {
		find_rate(f, fd);
	}
	tcsetattr(fd, TCSANOW, &saved);
	close(fd);
}

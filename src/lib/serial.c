/* SPDX-License-Identifier: GPL-2.0-or-later */
/* serial.c - see serial.h. */
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "timeutil.h"

static const struct {
	long baud;
	speed_t speed;
} serial_rates[] = {
	{ 4800, B4800 },     { 9600, B9600 },     { 19200, B19200 },
	{ 38400, B38400 },   { 57600, B57600 },   { 115200, B115200 },
	{ 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
};

#define N_RATES (sizeof(serial_rates) / sizeof(serial_rates[0]))

static int rate_index(long baud)
{
	size_t i;

	for (i = 0; i < N_RATES; i++) {
		if (serial_rates[i].baud == baud) {
			return (int)i;
		}
	}
	return -1;
}

bool serial_baud_valid(long baud)
{
	return rate_index(baud) >= 0;
}

int64_t serial_char_ns(long baud)
{
	return baud > 0 ? 10 * TU_NS_PER_SEC / baud : 0;
}

int64_t serial_line_char_ns(const char *path, long baud, const char **kind)
{
	char real[PATH_MAX], link[PATH_MAX], sys[PATH_MAX + 64];
	const char *name, *driver;
	ssize_t n;

	*kind = "not a known serial port: bytes dated at the read";
	if (realpath(path, real) == NULL || strncmp(real, "/dev/", 5) != 0) {
		return 0;
	}
	if (strncmp(real, "/dev/pts/", 9) == 0) {
		*kind = "a pty: bytes dated at the read";
		return 0;
	}
	name = strrchr(real, '/') + 1;
	snprintf(sys, sizeof(sys), "/sys/class/tty/%s/device/driver", name);
	n = readlink(sys, link, sizeof(link) - 1);
	if (n <= 0) {
		return 0;
	}
	link[n] = '\0';
	driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strcmp(driver, "cdc_acm") == 0) {
		*kind = "a USB CDC-ACM receiver (no line rate): bytes dated at "
			"the read";
		return 0;
	}
	*kind = "a UART: bytes dated back at the line rate";
	return serial_char_ns(baud);
}

static const char *open_hint(int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "is the receiver plugged in, and is this its port?";
	case EACCES:
	case EPERM:
		return "add the user to the device's group (dialout) or run "
		       "as the packaged gpspps user";
	case EBUSY:
		return "another program (gpsd? a getty?) holds the port";
	default:
		return "";
	}
}

static int configure(int fd, long baud, char *err, size_t errlen)
{
	struct termios tio;
	speed_t speed = serial_rates[rate_index(baud)].speed;

	if (tcgetattr(fd, &tio) != 0) {
		snprintf(err, errlen, "not a serial port (%s)", strerror(errno));
		return -ENOTTY;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(CRTSCTS | CSTOPB | PARENB);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0 ||
	    tcsetattr(fd, TCSANOW, &tio) != 0) {
		snprintf(err, errlen, "cannot set %ld baud 8N1 raw: %s", baud,
			 strerror(errno));
		return -errno;
	}
	tcflush(fd, TCIFLUSH);
	return 0;
}

int serial_set_baud(int fd, long baud, char *err, size_t errlen)
{
	if (!serial_baud_valid(baud)) {
		snprintf(err, errlen, "unsupported baud rate %ld", baud);
		return -EINVAL;
	}
	return configure(fd, baud, err, errlen);
}

int serial_open(const char *path, long baud, char *err, size_t errlen)
{
	int fd, r;

	if (!serial_baud_valid(baud)) {
		snprintf(err, errlen, "unsupported baud rate %ld", baud);
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s; %s", path,
			 strerror(-r), open_hint(-r));
		return r;
	}
	r = configure(fd, baud, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_serial.c - serial_open on a real pty (the simulator's kind of
 * port): the line settings it leaves, bytes that pass through untouched,
 * and the errors it names for a missing device, a file that is not a tty
 * and a rate it does not take.  What only a UART shows (the rate on the
 * wire, CLOCAL against a dropped DCD) is the vm suite's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "serial.h"

struct pty {
	int master;
	char slave[64];
};

static void pty_open(struct pty *p)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	assert_int_equal(ptsname_r(p->master, p->slave, sizeof(p->slave)), 0);
}

static void expect_contains(const char *err, const char *want)
{
	if (strstr(err, want) == NULL) {
		fail_msg("message \"%s\" lacks \"%s\"", err, want);
	}
}

static void test_raw_8n1(void **state)
{
	struct pty p;
	struct termios tio;
	char err[256] = "";
	int fd;

	(void)state;
	pty_open(&p);
	fd = serial_open(p.slave, 9600, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(tcgetattr(fd, &tio), 0);
	assert_int_equal(tio.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
	assert_int_equal(tio.c_iflag & (ICRNL | INLCR | IGNCR | IXON), 0);
	assert_int_equal(tio.c_oflag & OPOST, 0);
	assert_int_equal(tio.c_cflag & CSIZE, CS8);
	assert_int_equal(tio.c_cflag & (PARENB | CSTOPB | CRTSCTS), 0);
	assert_int_equal(tio.c_cflag & (CLOCAL | CREAD), CLOCAL | CREAD);
	assert_int_equal(tio.c_cc[VMIN], 1);
	assert_int_equal(tio.c_cc[VTIME], 0);
	assert_int_equal(cfgetispeed(&tio), B9600);
	assert_int_equal(cfgetospeed(&tio), B9600);
	close(fd);
	close(p.master);
}

static void test_flags(void **state)
{
	struct pty p;
	char err[256] = "";
	int fd;

	(void)state;
	pty_open(&p);
	fd = serial_open(p.slave, 115200, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(p.master);
}

/* What the receiver sends arrives byte for byte: no CR/NL mapping, no
 * ^C signal, no line buffering; an empty port reads EAGAIN at once. */
static void test_bytes_untouched(void **state)
{
	static const char sent[] = "$GPZDA,1*00\r\n\x03\x1a\r";
	struct pty p;
	struct pollfd pfd;
	char err[256] = "", got[64];
	size_t n = 0;
	ssize_t r;
	int fd;

	(void)state;
	pty_open(&p);
	fd = serial_open(p.slave, 4800, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK); /* or read() blocks */
	assert_int_equal(read(fd, got, sizeof(got)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(write(p.master, sent, sizeof(sent) - 1),
			 sizeof(sent) - 1);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (n < sizeof(sent) - 1 && poll(&pfd, 1, 5000) == 1) {
		r = read(fd, got + n, sizeof(got) - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_int_equal(n, sizeof(sent) - 1);
	assert_memory_equal(got, sent, n);
	close(fd);
	close(p.master);
}

static void test_missing_device(void **state)
{
	const char *path = "/dev/gpspps-test-no-such-port";
	char err[256] = "";

	(void)state;
	assert_int_equal(serial_open(path, 9600, err, sizeof(err)), -ENOENT);
	expect_contains(err, "cannot open /dev/gpspps-test-no-such-port");
	expect_contains(err, "is the receiver plugged in");
}

/* A device node that is no tty, and a regular file. */
static void test_not_a_tty(void **state)
{
	char err[256] = "", path[] = "/tmp/gpspps-test-serial-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(serial_open("/dev/null", 9600, err, sizeof(err)),
			 -ENOTTY);
	expect_contains(err, "not a serial port");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	err[0] = '\0';
	assert_int_equal(serial_open(path, 9600, err, sizeof(err)), -ENOTTY);
	expect_contains(err, "not a serial port");
	unlink(path);
}

static void test_bad_baud(void **state)
{
	static const long bad[] = { 0, -9600, 1200, 2400, 9601, 1000000 };
	struct pty p;
	char err[256];
	size_t i;

	(void)state;
	pty_open(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		err[0] = '\0';
		assert_int_equal(serial_open(p.slave, bad[i], err, sizeof(err)),
				 -EINVAL);
		snprintf(want, sizeof(want), "unsupported baud rate %ld",
			 bad[i]);
		expect_contains(err, want);
		assert_false(serial_baud_valid(bad[i]));
	}
	assert_true(serial_baud_valid(4800));
	assert_true(serial_baud_valid(921600));
	close(p.master);
}

static void test_char_time(void **state)
{
	struct pty p;
	const char *kind = NULL;

	(void)state;
	assert_int_equal(serial_char_ns(9600), 1041666);
	assert_int_equal(serial_char_ns(115200), 86805);
	assert_int_equal(serial_char_ns(0), 0);
	pty_open(&p);
	assert_int_equal(serial_line_char_ns(p.slave, 9600, &kind), 0);
	expect_contains(kind, "a pty");
	close(p.master);
	assert_int_equal(serial_line_char_ns("/dev/null", 9600, &kind), 0);
	expect_contains(kind, "not a known serial port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_8n1),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bytes_untouched),
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_not_a_tty),
		cmocka_unit_test(test_bad_baud),
		cmocka_unit_test(test_char_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmdcd - drive the DCD input of a real 8250 UART in the VM tests.
 *
 *   vmdcd TTY [WIDTH_MS]
 *
 * Puts TTY in the UART's loopback mode (TIOCM_LOOP: MCR bit 4), where the
 * OUT2 output is wired to the DCD input inside the chip, then raises OUT2
 * at every whole second of CLOCK_REALTIME and drops it WIDTH_MS (default
 * 100) later, until killed.  Data written to TTY in loopback mode comes
 * back on its own receiver, so NMEA written to the same port reaches a
 * reader of TTY: one port carries both NMEA and the DCD pulse, as on a
 * receiver wired to a DB9 serial port.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Modem control bits of <asm-generic/termios.h> that glibc's headers
 * leave out. */
#ifndef TIOCM_OUT2
#define TIOCM_OUT2 0x4000
#endif
#ifndef TIOCM_LOOP
#define TIOCM_LOOP 0x8000
#endif

static void sleep_until(time_t sec, long nsec)
{
	struct timespec t = { sec, nsec };

	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL) ==
	       EINTR) {
	}
}

int main(int argc, char **argv)
{
	int bits = TIOCM_LOOP, out2 = TIOCM_OUT2;
	long width_ms = argc > 2 ? atol(argv[2]) : 100;
	struct timespec now;
	int fd;

	if (argc < 2 || width_ms < 1 || width_ms > 900) {
		fprintf(stderr, "usage: vmdcd TTY [WIDTH_MS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || ioctl(fd, TIOCMBIS, &bits) < 0 ||
	    ioctl(fd, TIOCMBIC, &out2) < 0) {
		fprintf(stderr, "vmdcd: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	for (time_t s = now.tv_sec + 1;; s++) {
		sleep_until(s, 0);
		ioctl(fd, TIOCMBIS, &out2);
		sleep_until(s, width_ms * 1000000L);
		ioctl(fd, TIOCMBIC, &out2);
	}
}

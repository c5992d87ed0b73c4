/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * serial.h - the receiver's serial port: raw 8N1 at a fixed baud rate,
 * non-blocking, no modem control hang-ups.
 */
#ifndef GPSPPS_SERIAL_H
#define GPSPPS_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True for the rates gpsppsd accepts: 4800 .. 921600. */
bool serial_baud_valid(long baud);

/* Time one character (start + 8 data + stop bits) takes on the line. */
int64_t serial_char_ns(long baud);

/*
 * The character time to date bytes back by (see nmea_options.char_ns):
 * serial_char_ns(baud) for a port with a real UART behind it (on-board,
 * or a USB-serial adapter), 0 where bytes do not arrive at a line rate: a
 * USB CDC-ACM receiver (driver cdc_acm, /dev/ttyACM*), a pty, or a device
 * sysfs does not know.  *kind names what was found, for the log.
 */
int64_t serial_line_char_ns(const char *path, long baud, const char **kind);

/*
 * Open path raw at baud, O_NONBLOCK | O_NOCTTY | O_CLOEXEC, CLOCAL set so
 * that a missing DCD never blocks or hangs up the port, input flushed.
 * Returns the fd, or a negative errno with one line in err naming the fix
 * (missing device, permission, not a tty, rate refused by the driver).
 */
int serial_open(const char *path, long baud, char *err, size_t errlen);

/* Set an open port to another rate (raw 8N1 as serial_open), input
 * flushed.  Returns 0, or a negative errno with one line in err. */
int serial_set_baud(int fd, long baud, char *err, size_t errlen);

#endif

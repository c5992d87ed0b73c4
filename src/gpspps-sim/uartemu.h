/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uartemu.h - what a UART receiving at one rate delivers from a
 * transmitter sending at another (pure logic: no I/O, no clock reads).
 *
 * A pseudo-terminal ignores baud rates, so gpspps-sim uses this to show a
 * reader that set the wrong rate what a real serial port would show it.
 *
 * The model, in exact integer time (ticks of 1 / (2 * tx * rx) s):
 *
 *   Line    idle high (1) before and after the burst.  Each byte takes 10
 *           bit times at the transmitter's rate, back to back: a start bit
 *           (0), the 8 data bits LSB first, a stop bit (1).
 *   Receiver, at its own rate, starts idle and hunts for a falling edge
 *           (1 -> 0; these fall on the transmitter's bit boundaries).  At
 *           the edge t0 it samples the middle of its start bit, t0 + 0.5
 *           bit: high there is a false start, and the hunt resumes after
 *           that sample.  Otherwise it samples the 8 data bits at t0 +
 *           1.5 .. 8.5 bits and the stop bit at t0 + 9.5 bits, delivers
 *           the byte and hunts again from the stop sample (a falling edge
 *           needs the line high first, so after a low stop bit the next
 *           frame starts at the next 1 -> 0 transition).  Real UARTs
 *           oversample 16 times per bit; this one sees edges exactly.
 *   Framing error (stop bit low): Linux's line discipline in raw mode
 *           (INPCK and IGNPAR off, as cfmakeraw leaves them) delivers the
 *           received data byte as it is, and a break (all ten samples low)
 *           as a NUL, which is the same byte: so every frame delivers its
 *           8 data bits.  No byte is lost to a framing error.
 *
 * With equal rates the output is the input, byte for byte.
 */
#ifndef GPSPPS_UARTEMU_H
#define GPSPPS_UARTEMU_H

#include <stddef.h>
#include <stdint.h>

/* Each input byte has at most 5 falling edges, so at most 5 frames start
 * in it: an output buffer of UARTEMU_OUT_MAX(n) bytes always suffices. */
#define UARTEMU_OUT_MAX(n) (5 * (n))

/*
 * Resample the n bytes of in, sent back to back at tx_baud from time 0
 * (the first start bit), as a receiver at rx_baud sees them.  Writes the
 * received bytes to out and, when at_ns is not NULL, the time of each
 * received frame's start edge (ns after time 0) to at_ns; both hold cap
 * entries.  Returns the number of bytes received, or -1 when a rate is
 * not positive or cap is too small (UARTEMU_OUT_MAX(n) is enough).
 */
int uartemu_resample(const unsigned char *in, size_t n, long tx_baud,
		     long rx_baud, unsigned char *out, int64_t *at_ns,
		     size_t cap);

#endif

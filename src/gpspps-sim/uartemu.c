/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uartemu.c - see uartemu.h for the model. */
#include "uartemu.h"

/* The transmitted line in ticks of 1 / (2 * tx * rx) s. */
struct uartemu_line {
	const unsigned char *in;
	int64_t nbits;          /* 10 per byte */
	int64_t tx_bit;         /* ticks per transmitted bit: 2 * rx */
	int64_t rx_bit;         /* ticks per received bit: 2 * tx */
};

/* Level of transmitted bit b: idle high outside the burst. */
static int uartemu_bit(const struct uartemu_line *l, int64_t b)
{
	int pos;

	if (b < 0 || b >= l->nbits) {
		return 1;
	}
	pos = (int)(b % 10);
	if (pos == 0) {
		return 0;
	}
	if (pos == 9) {
		return 1;
	}
	return (l->in[b / 10] >> (pos - 1)) & 1;
}

static int uartemu_level(const struct uartemu_line *l, int64_t t)
{
	return t < 0 ? 1 : uartemu_bit(l, t / l->tx_bit);
}

/* The first falling edge at or after t (strictly after with after set),
 * or -1 when the line stays high. */
static int64_t uartemu_next_edge(const struct uartemu_line *l, int64_t t,
				 int after)
{
	int64_t b = t <= 0 ? 0 : (t + l->tx_bit - 1) / l->tx_bit;

	if (after && b * l->tx_bit <= t) {
		b++;
	}
	for (; b < l->nbits; b++) {
		if (uartemu_bit(l, b) == 0 && uartemu_bit(l, b - 1) == 1) {
			return b * l->tx_bit;
		}
	}
	return -1;
}

/* Sample the frame starting at t0; returns its data byte and sets *stop
 * to the time of the stop-bit sample. */
static unsigned char uartemu_frame(const struct uartemu_line *l, int64_t t0,
				   int64_t *stop)
{
	int64_t half = l->rx_bit / 2;
	unsigned v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v |= (unsigned)uartemu_level(l, t0 + half + (i + 1) * l->rx_bit)
		     << i;
	}
	*stop = t0 + half + 9 * l->rx_bit;
	return (unsigned char)v;
}

int uartemu_resample(const unsigned char *in, size_t n, long tx_baud,
		     long rx_baud, unsigned char *out, int64_t *at_ns,
		     size_t cap)
{
	struct uartemu_line l = { in, 10 * (int64_t)n, 2 * (int64_t)rx_baud,
				  2 * (int64_t)tx_baud };
	int64_t t0 = 0, t;
	size_t k = 0;

	if (tx_baud <= 0 || rx_baud <= 0 || cap < UARTEMU_OUT_MAX(n)) {
		return -1;
	}
	for (t0 = uartemu_next_edge(&l, 0, 0); t0 >= 0;
	     t0 = uartemu_next_edge(&l, t, 1)) {
		t = t0 + l.rx_bit / 2;
		if (uartemu_level(&l, t) == 1) {
			continue;       /* false start */
		}
		out[k] = uartemu_frame(&l, t0, &t);
		if (at_ns != NULL) {
			/* edges fall on transmitted bit boundaries */
			at_ns[k] = t0 / l.tx_bit * 1000000000 / tx_baud;
		}
		k++;
	}
	return (int)k;
}

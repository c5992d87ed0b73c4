/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pps_util.c - polarity detection and clock conversion; see pps_util.h. */
#include "pps_util.h"

#include <stdlib.h>

#include "timeutil.h"

#define HALF_SECOND_NS (500 * TU_NS_PER_MS)
#define NEAR_HALF_NS (50 * TU_NS_PER_MS)

void pps_util_polarity_init(struct pps_util_polarity *d)
{
	*d = (struct pps_util_polarity){
		.decided = PPS_EDGE_AUTO,
		.candidate = PPS_EDGE_AUTO,
	};
}

static void vote(struct pps_util_polarity *d, enum pps_polarity p,
		 bool *changed)
{
	if (p != d->candidate) {
		d->candidate = p;
		d->votes = 0;
	}
	if (++d->votes >= PPS_UTIL_POL_VOTES && d->decided != p) {
		*changed = true;
		d->decided = p;
	}
}

/* The previous edge started an interval of width w that e ends. */
static void vote_width(struct pps_util_polarity *d,
		       const struct pps_edge *e, int64_t w, bool *changed)
{
	if (w <= 0 || w >= TU_NS_PER_SEC + HALF_SECOND_NS) {
		return;   /* a gap: the cycle is incomplete */
	}
	if (llabs(w - HALF_SECOND_NS) < NEAR_HALF_NS) {
		return;   /* square wave: cannot tell */
	}
	/* A short interval was started by the previous edge (the on-second
	 * edge); a long one ends with e, which starts the pulse. */
	vote(d, w < HALF_SECOND_NS ? d->prev_pol : e->polarity, changed);
}

bool pps_util_polarity_feed(struct pps_util_polarity *d,
			    const struct pps_edge *e, bool *changed)
{
	*changed = false;
	d->seen[e->polarity == PPS_EDGE_FALLING] = true;
	if (d->have_prev && d->prev_pol != e->polarity) {
		vote_width(d, e, e->real_ns - d->prev_ns, changed);
	}
	if (d->seen[0] != d->seen[1]) {
		d->one_kind_edges++;
		if (d->one_kind_edges >= PPS_UTIL_POL_VOTES &&
		    d->decided == PPS_EDGE_AUTO) {
			d->decided = e->polarity;
			*changed = true;
		}
	}
	d->have_prev = true;
	d->prev_pol = e->polarity;
	d->prev_ns = e->real_ns;
	return d->decided == e->polarity;
}

const struct pps_util_clock_pair *
pps_util_clock_best(const struct pps_util_clock_pair *p, int n)
{
	const struct pps_util_clock_pair *best = &p[0];
	int i;

	for (i = 1; i < n; i++) {
		if (p[i].a_after - p[i].a_before <
		    best->a_after - best->a_before) {
			best = &p[i];
		}
	}
	return best;
}

int64_t pps_util_clock_convert(const struct pps_util_clock_pair *p, int64_t t,
			       int64_t *bound_ns)
{
	int64_t width = p->a_after - p->a_before;
	/* b - midpoint of the bracket, without overflowing the sum */
	int64_t offset = p->b - (p->a_before + width / 2);

	if (bound_ns != NULL) {
		*bound_ns = (width + 1) / 2;
	}
	return t + offset;
}

bool pps_util_clock_stepped(const struct pps_util_clock_pair *prev,
			    const struct pps_util_clock_pair *now)
{
	int64_t b1, b2;
	int64_t o1 = pps_util_clock_convert(prev, 0, &b1);
	int64_t o2 = pps_util_clock_convert(now, 0, &b2);
	int64_t elapsed = llabs(now->a_before - prev->a_before);
	int64_t slew = elapsed / 2000;   /* 500 ppm */

	return llabs(o2 - o1) > slew + b1 + b2 + 10 * TU_NS_PER_US;
}

void pps_util_rate_init(struct pps_util_rate *r)
{
	*r = (struct pps_util_rate){ .have = false, .ppb = 0 };
}

/* The rate between two readings in ppb; false when it is no slew. */
static bool rate_between(int64_t real0, int64_t raw0, int64_t real,
			 int64_t raw, double *ppb)
{
	if (raw <= raw0) {
		return false;
	}
	*ppb = ((double)(real - real0) / (double)(raw - raw0) - 1.0) * 1e9;
	return *ppb >= (double)-PPS_UTIL_RATE_MAX_PPB &&
	       *ppb <= (double)PPS_UTIL_RATE_MAX_PPB;
}

void pps_util_rate_feed(struct pps_util_rate *r, int64_t real, int64_t raw)
{
	double ppb;
	bool slew = r->have && rate_between(r->base_real, r->base_raw, real,
					    raw, &ppb);

	if (slew && raw - r->base_raw < PPS_UTIL_RATE_MIN_NS) {
		r->real = real;   /* too short to measure: keep the base */
		r->raw = raw;
		return;
	}
	if (slew) {
		r->ppb = (int64_t)ppb;
	}
	r->have = true;
	r->real = r->base_real = real;
	r->raw = r->base_raw = raw;
}

int64_t pps_util_rate_to_raw(const struct pps_util_rate *r, int64_t real,
			     int64_t raw, int64_t t)
{
	int64_t dt = real - t;
	double ppb = (double)r->ppb, between;

	/* between the last reading and this one: interpolate */
	if (r->have && t >= r->real && t <= real &&
	    rate_between(r->real, r->raw, real, raw, &between)) {
		return r->raw + (int64_t)((double)(t - r->real) * 1e9 /
					  (1e9 + between));
	}
	/* dt on CLOCK_REALTIME is dt / rate on CLOCK_MONOTONIC_RAW: the
	 * difference, at most 15 % of dt, in floating point */
	return raw - dt + (int64_t)((double)dt * ppb / (1e9 + ppb));
}

/* How long raw_ns of CLOCK_MONOTONIC_RAW lasts on CLOCK_REALTIME. */
static int64_t rate_real_interval(const struct pps_util_rate *r,
				  int64_t raw_ns)
{
	return raw_ns + (int64_t)((double)raw_ns * (double)r->ppb / 1e9);
}

int64_t pps_util_rate_expect(const struct pps_util_rate *r, int64_t last,
			     int64_t now, int64_t before_ns, int64_t after_ns)
{
	int64_t second = rate_real_interval(r, TU_NS_PER_SEC);
	int64_t edge = last + second;

	if (last == 0 || edge + after_ns <= now ||
	    edge + after_ns > now + second + after_ns) {
		return 0;
	}
	return edge - before_ns > now ? edge - before_ns : edge + after_ns;
}

uint64_t pps_util_seq_missed(uint64_t prev_seq, uint64_t seq)
{
	if (seq <= prev_seq) {
		return 0;
	}
	return seq - prev_seq - 1;
}

uint64_t pps_util_gap_missed(int64_t prev_ns, int64_t ns)
{
	int64_t gap = ns - prev_ns;

	if (gap < TU_NS_PER_SEC + HALF_SECOND_NS) {
		return 0;
	}
	return (uint64_t)((gap + HALF_SECOND_NS) / TU_NS_PER_SEC - 1);
}

uint64_t pps_util_seq_gap_missed(uint64_t prev_seq, uint64_t seq,
				 int64_t prev_ns, int64_t ns)
{
	uint64_t by_seq = pps_util_seq_missed(prev_seq, seq);
	uint64_t by_gap = pps_util_gap_missed(prev_ns, ns);

	return by_seq < by_gap ? by_seq : by_gap;
}

uint64_t pps_util_seq_extra(uint64_t prev_seq, uint64_t seq,
			    int64_t prev_ns, int64_t ns)
{
	uint64_t by_seq = pps_util_seq_missed(prev_seq, seq);
	uint64_t by_gap = pps_util_gap_missed(prev_ns, ns);

	return by_seq > by_gap ? by_seq - by_gap : 0;
}

void pps_util_edge_filter_init(struct pps_util_edge_filter *f,
			       enum pps_polarity want)
{
	f->want = want;
	pps_util_polarity_init(&f->auto_pol);
	f->last_on_ns = 0;
}

bool pps_util_edge_filter_keep(struct pps_util_edge_filter *f,
			       const struct pps_edge *e, uint64_t *missed,
			       bool *decided)
{
	bool on = e->polarity == f->want;

	*decided = false;
	if (f->want == PPS_EDGE_AUTO) {
		on = pps_util_polarity_feed(&f->auto_pol, e, decided);
	}
	if (on) {
		if (f->last_on_ns != 0 && missed != NULL) {
			*missed += pps_util_gap_missed(f->last_on_ns,
						       e->real_ns);
		}
		f->last_on_ns = e->real_ns;
	}
	return on;
}

enum pps_polarity
pps_util_edge_filter_on_second(const struct pps_util_edge_filter *f)
{
	return f->want != PPS_EDGE_AUTO ? f->want : f->auto_pol.decided;
}

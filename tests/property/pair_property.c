/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pair_property.c - the pairing engine against a simulated receiver and
 * host over many seconds (default 10^6), where the truth is known.
 *
 * The world: a receiver pulses at each UTC second (with jitter) and sends
 * 1, 5 or 10 epochs a second, 0.05-0.95 s after the instant they name (or
 * before it, for receivers that announce the next second).  The host
 * stamps edges and bursts with a system clock that drifts, is stepped now
 * and then (37 s, whole seconds, fractions) and slewed at up to chronyd's
 * 83 ms/s, and with a CLOCK_MONOTONIC_RAW that runs at its own rate (a few
 * stamps lack it).  Leap seconds are inserted at midnights, with the
 * system clock repeating 23:59:59 as Linux does.
 *
 * Faults: missing and spurious edges (some within a few ms of the pulse or
 * of the far end of a burst's window), late PPS timestamps (scheduling
 * latency), missing, spurious and garbled epochs, later epochs of a second
 * that arrive late (after the next pulse, up to 1.5 s after their
 * instant), fix losses (beginning and ending in the middle of a second at
 * 5 and 10 Hz), NMEA and PPS outages, delay jumps, daemon stalls after
 * which the backlog is fed edges first, and receivers that settle: after
 * start and after a fix loss, up to 3 valid-flagged epochs whose labels
 * are off by whole seconds.  (Warm-up
 * and guard together stop streaks of up to min_valid + confirm - 2 = 4
 * with the defaults; a streak of 4 can be lengthened to 5 by a garbled or
 * spurious epoch of the same shift right after it, which the high fault
 * rates here make frequent enough to matter.)  The run is cut into
 * segments, each with its own receiver (rate, window mode, delay, fault
 * rates) and its own engine.
 *
 * The truth: each edge fed is remembered with the reading a perfect POSIX
 * system clock would have given at that instant.  A sample's error is its
 * label minus that reading.  |error| >= 0.5 s is a wrong-second sample:
 * there must be none.
 *
 * Usage: pair_property [--seed N] [--seconds N]
 * Exit status 0 when no wrong-second sample (nor any other broken
 * invariant) occurred and the yield is sane, 1 otherwise.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pair.h"
#include "splitmix.h"
#include "timeutil.h"

#define SEC TU_NS_PER_SEC
#define MS TU_NS_PER_MS
#define US TU_NS_PER_US

/* 2016-12-31 00:00:00 UTC: midnights (leap second candidates) follow. */
#define T0_SEC INT64_C(1483142400)
#define DEFAULT_SEED UINT64_C(20261127)
#define DEFAULT_SECONDS INT64_C(1000000)
/* Lowest acceptable samples per second of valid input.  Measured 0.9886
 * at the default seed, 0.9755 the lowest over seeds 1-60 (0.987 and 0.974
 * over seeds 1-300 when only whole-second epochs were valid input and the
 * faults added with later epochs standing in were not there yet); below
 * this the engine is throwing good seconds away. */
#define MIN_YIELD 0.95

/* ---- random numbers (splitmix64) ------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
	return splitmix_next(&rng);
}

static double unif(void)
{
	return splitmix_unif(&rng);
}

/* Uniform in [lo, hi]. */
static int64_t range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool chance(double p)
{
	return unif() < p;
}

static int64_t pick(const int64_t *v, size_t n)
{
	return v[rnd() % n];
}

static double pickd(const double *v, size_t n)
{
	return v[rnd() % n];
}

#define PICK(a) pick((a), sizeof(a) / sizeof((a)[0]))
#define PICKD(a) pickd((a), sizeof(a) / sizeof((a)[0]))

/* ---- the host's clocks and UTC -------------------------------------- */

#define MAX_LEAPS 64
#define MAX_STEPS 16

/* A change of the system clock: a step (dur 0) or a slew of amount over
 * dur ns, starting at physical time t. */
struct step {
	int64_t t;
	int64_t dur;
	int64_t amount;         /* added to the system clock in the end */
};

/* Physical time t is ns since the start of the run; physical second m is
 * [m, m+1) s of it. */
struct world {
	int64_t leap_at[MAX_LEAPS];     /* physical seconds that are 23:59:60 */
	int n_leaps;
	double mono_rate;               /* CLOCK_MONOTONIC_RAW frequency error */
	double drift_rate;              /* system clock frequency error */
	int64_t mono0;
	int64_t off_base;               /* folded steps and initial offset */
	struct step steps[MAX_STEPS];   /* recent and scheduled steps */
	int n_steps;
};

static void world_init(struct world *w, int64_t seconds)
{
	int64_t mid;

	memset(w, 0, sizeof(*w));
	w->mono_rate = (double)range(-50, 50) * 1e-6;
	w->drift_rate = (double)range(-20, 20) * 1e-6;
	w->mono0 = range(100, 100000) * SEC;
	w->off_base = range(-SEC, SEC);
	/* A leap second at half the midnights: label 23:59:59 sits at
	 * physical second (mid - 1 - T0) + leaps so far. */
	for (mid = 86400; mid < seconds && w->n_leaps < MAX_LEAPS; mid += 86400) {
		if (chance(0.5)) {
			w->leap_at[w->n_leaps] = mid + w->n_leaps;
			w->n_leaps++;
		}
	}
}

/* POSIX second that UTC label of physical second m names; *leap when m is
 * 23:59:60 (label = the next 00:00:00), *rt the second a perfect system
 * clock reads then (Linux repeats 23:59:59 during a leap second). */
static int64_t label_of(const struct world *w, int64_t m, bool *leap,
			int64_t *rt)
{
	int before = 0, i;

	*leap = false;
	for (i = 0; i < w->n_leaps; i++) {
		if (w->leap_at[i] < m) {
			before++;
		} else if (w->leap_at[i] == m) {
			*leap = true;
		}
	}
	*rt = T0_SEC + m - before - (*leap ? 1 : 0);
	return T0_SEC + m - before;
}

/* What a perfect POSIX system clock reads at physical time t. */
static int64_t true_posix(const struct world *w, int64_t t)
{
	int64_t m = tu_floor_div(t, SEC), rt;
	bool leap;

	label_of(w, m, &leap, &rt);
	return rt * SEC + (t - m * SEC);
}

static int64_t clock_offset(const struct world *w, int64_t t)
{
	int64_t off = w->off_base + (int64_t)((double)t * w->drift_rate);
	int i;

	for (i = 0; i < w->n_steps; i++) {
		const struct step *st = &w->steps[i];

		if (t >= st->t + st->dur) {
			off += st->amount;
		} else if (t > st->t) {
			off += (int64_t)((double)st->amount *
					 (double)(t - st->t) / (double)st->dur);
		}
	}
	return off;
}

static int64_t realtime(const struct world *w, int64_t t)
{
	return true_posix(w, t) + clock_offset(w, t);
}

static int64_t monotime(const struct world *w, int64_t t)
{
	return w->mono0 + t + (int64_t)((double)t * w->mono_rate);
}

/* Changes complete before `before` can no longer matter: fold them. */
static void fold_steps(struct world *w, int64_t before)
{
	int i = 0;

	while (i < w->n_steps) {
		if (w->steps[i].t + w->steps[i].dur < before) {
			w->off_base += w->steps[i].amount;
			w->steps[i] = w->steps[--w->n_steps];
		} else {
			i++;
		}
	}
}

static int64_t step_amount(void)
{
	static const int64_t whole[] = { 37 * SEC, -37 * SEC, SEC, -SEC,
					 3600 * SEC, -2 * SEC, 18 * SEC };

	switch (rnd() % 4) {
	case 0:
		return PICK(whole);
	case 1:
		return range(-999, 999) * MS;
	case 2:
		return PICK(whole) + range(-500, 500) * MS;
	default:
		return range(-5000, 5000) * US;
	}
}

static int64_t garble_shift(void)
{
	static const int64_t v[] = { SEC, -SEC, 2 * SEC, -2 * SEC, 10 * SEC,
				     60 * SEC, -60 * SEC, 3600 * SEC,
				     86400 * SEC, -86400 * SEC, 500 * MS,
				     INT64_C(619315200) * SEC };

	return PICK(v);
}

/* ---- a receiver: one segment of the run ----------------------------- */

struct segment {
	struct pair_config cfg;
	int rate;               /* epochs per second */
	double p_untimed;       /* stamps without CLOCK_MONOTONIC_RAW */
	int64_t delay;          /* current base delay */
	int64_t delay_jit;      /* per-second delay jitter bound */
	int64_t edge_jit;       /* PPS timestamp jitter bound */
	double p_edge_miss, spur_edges, p_epoch_miss, p_garble, spur_epochs;
	double p_fixloss, p_outage, p_delay_jump, p_late_edge;
	double p_late_epoch, p_spur_near;
	int64_t start, end;     /* physical seconds */
	int64_t nodate_until;   /* epochs before this second have no date */
	int64_t fixloss_from, fixloss_until, nmea_out_until, pps_out_until;
	int fixloss_k0, fixloss_k1;  /* in the first and last second of a fix
					loss, epochs k < k0 still have a fix,
					epochs k >= k1 have it again */
	int64_t settle_until;   /* labels off by settle_shift before this */
	int64_t settle_shift;
	int64_t last_burst, last_feed;
	int64_t resume;         /* daemon stalled until then (physical ns) */
	int cat;                /* table row: next_second * 3 + rate index */
};

static void segment_init(struct segment *sg, int64_t start, int64_t end)
{
	static const double miss[] = { 0, 0.001, 0.01, 0.1 };
	static const double spur[] = { 0, 0.003, 0.03, 0.3 };
	static const double garble[] = { 0, 0.001, 0.01 };
	static const double spur_ep[] = { 0, 0.002, 0.02 };
	static const int64_t djit[] = { 0, 2 * MS, 10 * MS, 20 * MS };
	static const int64_t ejit[] = { 1 * US, 20 * US, 200 * US };
	static const double untimed[] = { 0, 0, 0.001 };
	static const int rates[] = { 1, 1, 5, 10 };
	static const int rate_idx[] = { 0, 0, 1, 2 };
	unsigned ri = (unsigned)(rnd() % 4);

	memset(sg, 0, sizeof(*sg));
	pair_config_default(&sg->cfg);
	sg->cfg.next_second = chance(0.3);
	sg->p_untimed = PICKD(untimed);
	sg->rate = rates[ri];
	sg->delay = range(50, 950) * MS;
	sg->delay_jit = PICK(djit);
	sg->edge_jit = PICK(ejit);
	sg->p_edge_miss = PICKD(miss);
	sg->spur_edges = PICKD(spur);
	sg->p_epoch_miss = PICKD(miss);
	sg->p_garble = PICKD(garble);
	sg->spur_epochs = PICKD(spur_ep);
	sg->p_fixloss = 1.0 / (double)range(1000, 20000);
	sg->p_outage = 1.0 / (double)range(5000, 50000);
	sg->p_delay_jump = 1.0 / (double)range(500, 20000);
	sg->p_late_edge = PICKD(garble);
	sg->p_late_epoch = PICKD(spur_ep);
	sg->p_spur_near = PICKD(spur_ep);
	sg->start = start;
	sg->end = end;
	sg->nodate_until = start + range(0, 5);
	sg->settle_until = start + range(0, 3);
	sg->settle_shift = garble_shift();
	sg->cat = (sg->cfg.next_second ? 3 : 0) + rate_idx[ri];
}

/* ---- events and the truth ------------------------------------------- */

struct event {
	int64_t feed;           /* physical time it reaches the engine */
	uint64_t order;         /* generation order, breaks ties */
	bool is_edge;
	bool genuine;
	int64_t truth;          /* edges: perfect POSIX reading */
	struct pair_edge edge;
	struct nmea_epoch ep;
};

#define MAX_EVENTS 4096
#define TRUTH_RING 256

struct truth {
	int64_t real_ns;
	int64_t posix_ns;
	bool genuine;
	bool sampled;
};

struct cat_stats {
	uint64_t seconds, valid, samples, wrong, over_1ms;
	int64_t max_err;        /* largest |error| of right-second samples */
};

#define N_CATS 6

struct counts {
	struct cat_stats cat[N_CATS];
	uint64_t held[PAIR_RESULT_COUNT];
	uint64_t edges, epochs, aperiodic, ref_changes;
	uint64_t over_1ms_spurious;
	uint64_t duplicates, unknown_edges, usable_bad;
	uint64_t steps, slews, fixlosses, outages, leaps, segments, stalls;
	uint64_t inj_edge_miss, inj_spur_edges, inj_epoch_miss, inj_garbled,
		 inj_spur_epochs, inj_untimed, inj_late_edges, inj_settling,
		 inj_late_epochs, inj_spur_near, inj_midloss;
};

struct sim {
	struct world w;
	struct segment sg;
	struct pair_engine *pe;
	struct event *ev;
	size_t n_ev;
	struct truth ring[TRUTH_RING];
	unsigned ring_next;
	uint64_t seq, order;
	struct counts c;
	int shown;              /* wrong samples printed */
};

static void push(struct sim *s, const struct event *e)
{
	struct event *q;

	if (s->n_ev == MAX_EVENTS) {
		fprintf(stderr, "event queue overflow\n");
		exit(2);
	}
	q = &s->ev[s->n_ev++];
	*q = *e;
	q->order = s->order++;
	if (q->feed < s->sg.resume) {
		q->feed = s->sg.resume;  /* the daemon is stalled */
	}
}

/* CLOCK_MONOTONIC_RAW at t, or now and then no stamp. */
static int64_t mono_stamp(struct sim *s, int64_t t, bool *stamped)
{
	*stamped = !chance(s->sg.p_untimed);
	s->c.inj_untimed += !*stamped;
	return *stamped ? monotime(&s->w, t) : 0;
}

/* Returns true when the edge carries both stamps. */
static bool push_edge(struct sim *s, int64_t t, bool genuine)
{
	struct event e;
	bool stamped;

	memset(&e, 0, sizeof(e));
	e.feed = t;
	e.is_edge = true;
	e.genuine = genuine;
	e.truth = true_posix(&s->w, t);
	e.edge.real_ns = realtime(&s->w, t);
	e.edge.mono_ns = mono_stamp(s, t, &stamped);
	e.edge.seq = ++s->seq;
	push(s, &e);
	return stamped;
}

/* An epoch whose burst starts at physical time burst; fed when it closes,
 * a little later, in order.  Returns true when the burst carries both
 * stamps. */
static bool push_epoch(struct sim *s, int64_t burst, int64_t label,
		       bool leap, bool valid, bool dated)
{
	struct event e;
	int64_t feed = burst + range(5, 120) * MS;
	bool stamped;

	memset(&e, 0, sizeof(e));
	e.feed = feed > s->sg.last_feed ? feed : s->sg.last_feed + US;
	s->sg.last_feed = e.feed;
	e.ep.time_ns = label;
	e.ep.leap_second = leap;
	e.ep.valid = valid;
	e.ep.date_known = dated;
	e.ep.sentences = NMEA_RMC;
	memcpy(e.ep.talker, "GN", 3);
	e.ep.burst_rx_ns = realtime(&s->w, burst);
	e.ep.burst_rx_mono_ns = mono_stamp(s, burst, &stamped);
	e.ep.time_rx_ns = e.ep.burst_rx_ns;
	push(s, &e);
	return stamped;
}

static void remember_edge(struct sim *s, const struct event *e)
{
	struct truth *t = &s->ring[s->ring_next++ % TRUTH_RING];

	t->real_ns = e->edge.real_ns;
	t->posix_ns = e->truth;
	t->genuine = e->genuine;
	t->sampled = false;
}

/* The newest edge fed with this timestamp that has no sample yet; *dup
 * when there is only one that already has one. */
static struct truth *find_truth(struct sim *s, int64_t real_ns, bool *dup)
{
	struct truth *seen = NULL;
	unsigned i;

	for (i = 1; i <= TRUTH_RING; i++) {
		struct truth *t = &s->ring[(s->ring_next - i) % TRUTH_RING];

		if (t->real_ns != real_ns) {
			continue;
		}
		if (!t->sampled) {
			*dup = false;
			return t;
		}
		seen = t;
	}
	*dup = seen != NULL;
	return seen;
}

/* ---- checking samples ------------------------------------------------ */

static void check_sample(struct sim *s, const struct pair_sample *ps)
{
	struct cat_stats *cs = &s->c.cat[s->sg.cat];
	bool dup;
	struct truth *t = find_truth(s, ps->edge_ns, &dup);
	int64_t err, mag;

	cs->samples++;
	if (t == NULL) {
		s->c.unknown_edges++;
		return;
	}
	s->c.duplicates += dup;
	t->sampled = true;
	err = ps->label_ns - t->posix_ns;
	mag = err < 0 ? -err : err;
	if (ps->offset_ns != ps->label_ns - ps->edge_ns) {
		s->c.unknown_edges++;
	}
	if (mag >= SEC / 2) {
		cs->wrong++;
		if (s->shown++ < 10) {
			fprintf(stderr, "WRONG SECOND: label %" PRId64
				" error %+.9f s (%s edge, segment cat %d)\n",
				ps->label_ns / SEC, (double)err / 1e9,
				t->genuine ? "genuine" : "spurious", s->sg.cat);
		}
		return;
	}
	if (mag > cs->max_err) {
		cs->max_err = mag;
	}
	if (mag > MS) {
		cs->over_1ms++;
		s->c.over_1ms_spurious += !t->genuine;
	}
}

static void feed_event(struct sim *s, const struct event *e)
{
	struct pair_sample ps;
	enum pair_result r;

	if (e->is_edge) {
		remember_edge(s, e);
		r = pair_add_edge(s->pe, &e->edge, &ps);
	} else {
		r = pair_add_epoch(s->pe, &e->ep, &ps);
		if (pair_nmea_usable(s->pe) &&
		    (!e->ep.valid || !e->ep.date_known || e->ep.leap_second)) {
			s->c.usable_bad++;
		}
	}
	if (r == PAIR_SAMPLE) {
		check_sample(s, &ps);
	}
}

static int ev_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->feed != y->feed) {
		return x->feed < y->feed ? -1 : 1;
	}
	/* After a stall the daemon drains the PPS edges first. */
	if (x->is_edge != y->is_edge) {
		return x->is_edge ? -1 : 1;
	}
	return x->order < y->order ? -1 : 1;
}

/* Feed every queued event that happened before physical time limit. */
static void drain(struct sim *s, int64_t limit)
{
	size_t i, kept = 0;

	qsort(s->ev, s->n_ev, sizeof(s->ev[0]), ev_cmp);
	for (i = 0; i < s->n_ev; i++) {
		if (s->ev[i].feed < limit) {
			feed_event(s, &s->ev[i]);
		} else {
			s->ev[kept++] = s->ev[i];
		}
	}
	s->n_ev = kept;
}

/* ---- generating one second ------------------------------------------ */

/* The pulse of second n and noise; returns true when the pulse was
 * stamped. */
static bool gen_edges(struct sim *s, int64_t n)
{
	struct segment *sg = &s->sg;
	bool pps_out = n < sg->pps_out_until, sent = false;

	if (pps_out || chance(sg->p_edge_miss)) {
		s->c.inj_edge_miss += !pps_out;
	} else {
		int64_t t = n * SEC + range(-sg->edge_jit, sg->edge_jit);

		if (chance(sg->p_late_edge)) {
			/* Timestamped late: a stamp that is not the pulse's. */
			t += range(300, 5000) * US;
			s->c.inj_late_edges++;
			(void)push_edge(s, t, false);
		} else {
			sent = push_edge(s, t, true);
		}
	}
	/* Geometric count with mean spur_edges. */
	while (chance(sg->spur_edges / (1.0 + sg->spur_edges))) {
		(void)push_edge(s, n * SEC + range(1, SEC - 1), false);
		s->c.inj_spur_edges++;
	}
	/* Near the pulse (inside the period tolerance or just outside it),
	 * or near where the window of this second's bursts ends. */
	if (chance(sg->p_spur_near)) {
		int64_t near = chance(0.5) ? n * SEC :
			       n * SEC + sg->delay - sg->cfg.window_max_ns;

		(void)push_edge(s, near + range(-3000, 3000) * US, false);
		s->c.inj_spur_near++;
	}
	return sent;
}

/* Does the receiver report a fix in epoch k of second n? */
static bool fix_at(const struct segment *sg, int64_t n, int k)
{
	if (n < sg->fixloss_from || n > sg->fixloss_until) {
		return true;
	}
	if (n == sg->fixloss_from && k < sg->fixloss_k0) {
		return true;
	}
	return n == sg->fixloss_until && k >= sg->fixloss_k1;
}

/* Is a burst at physical time mark (moved back by its epoch's fraction,
 * to where the whole-second epoch's would be) in the window of second n's
 * pulse? */
static bool in_window(const struct segment *sg, int64_t mark, int64_t n)
{
	int64_t d = mark - n * SEC;

	if (sg->cfg.next_second) {
		d = -d;
	}
	return d >= sg->cfg.window_min_ns && d <= sg->cfg.window_max_ns;
}

/* A later epoch of second n that comes late: its first byte 0.3-1.5 s
 * after the usual time, after the next pulse, fed in its own time. */
static void push_late_epoch(struct sim *s, int64_t burst, int64_t label,
			    bool leap, bool valid, bool dated)
{
	int64_t saved = s->sg.last_feed;

	(void)push_epoch(s, burst + range(300, 1500) * MS, label, leap, valid,
			 dated);
	s->sg.last_feed = saved;
	s->c.inj_late_epochs++;
}

/* The receiver's epochs of second n; returns true when one of them (the
 * whole-second epoch or a later one) went out intact, stamped, with a
 * fix and in the window. */
static bool gen_epochs(struct sim *s, int64_t n, int64_t label, bool leap)
{
	struct segment *sg = &s->sg;
	bool dated = n >= sg->nodate_until, valid;
	int64_t d = sg->delay + range(-sg->delay_jit, sg->delay_jit);
	bool intact = false, stamped;
	int k;

	d = d < 50 * MS ? 50 * MS : d > 950 * MS ? 950 * MS : d;
	for (k = 0; k < sg->rate; k++) {
		int64_t frac = k * (SEC / sg->rate), lab = label * SEC + frac;
		int64_t burst = n * SEC + frac + (sg->cfg.next_second ? -d : d);

		valid = fix_at(sg, n, k);
		if (k > 0 && chance(sg->p_late_epoch)) {
			push_late_epoch(s, burst, lab, leap, valid, dated);
			continue;
		}

		if (burst < sg->last_burst + 20 * MS) {
			burst = sg->last_burst + 20 * MS; /* serial output */
		}
		if (n < sg->nmea_out_until || chance(sg->p_epoch_miss)) {
			s->c.inj_epoch_miss += k == 0 && n >= sg->nmea_out_until;
			continue;
		}
		sg->last_burst = burst;
		if (valid && n < sg->settle_until) {
			lab += sg->settle_shift;
			s->c.inj_settling += k == 0;
			(void)push_epoch(s, burst, lab, leap, valid, dated);
			continue;
		}
		if (chance(sg->p_garble)) {
			lab += garble_shift();
			s->c.inj_garbled += k == 0;
			(void)push_epoch(s, burst, lab, leap, valid, dated);
			continue;
		}
		stamped = push_epoch(s, burst, lab, leap, valid, dated);
		intact = intact ||
			 (stamped && valid && in_window(sg, burst - frac, n));
	}
	return intact && dated && !leap;
}

static void gen_spurious_epochs(struct sim *s, int64_t n, int64_t label)
{
	static const int64_t v[] = { 0, SEC, -SEC, 2 * SEC, 300 * MS,
				     INT64_C(1000000) * SEC };

	while (chance(s->sg.spur_epochs)) {
		int64_t t = n * SEC + range(0, SEC - 1);
		struct event e;

		memset(&e, 0, sizeof(e));
		e.feed = t + range(5, 120) * MS;
		e.ep.time_ns = label * SEC + PICK(v);
		e.ep.valid = chance(0.8);
		e.ep.date_known = chance(0.9);
		e.ep.burst_rx_ns = realtime(&s->w, t);
		e.ep.burst_rx_mono_ns = monotime(&s->w, t);
		push(s, &e);
		s->c.inj_spur_epochs++;
	}
}

/* The daemon is blocked until physical time resume: nothing queued for
 * later than now reaches the engine before it. */
static void start_stall(struct sim *s, int64_t resume)
{
	size_t i;

	s->sg.resume = resume;
	for (i = 0; i < s->n_ev; i++) {
		if (s->ev[i].feed < resume) {
			s->ev[i].feed = resume;
		}
	}
}

/* A system clock change, scheduled 3 s ahead so that every event time is
 * known when its events are made; returns 1 when there was room. */
static int schedule_change(struct world *w, int64_t n, int64_t dur,
			   int64_t amount)
{
	struct step *st;

	if (w->n_steps == MAX_STEPS) {
		return 0;
	}
	st = &w->steps[w->n_steps++];
	st->t = (n + 3) * SEC + range(0, SEC - 1);
	st->dur = dur;
	st->amount = amount;
	return 1;
}

/* Faults that last: fix loss, outages, delay jumps, clock steps and
 * slews, stalls. */
static void gen_conditions(struct sim *s, int64_t n)
{
	struct segment *sg = &s->sg;

	if (chance(sg->p_fixloss)) {
		sg->fixloss_from = n;
		sg->fixloss_until = n + range(1, 300);
		sg->fixloss_k0 = (int)range(0, sg->rate - 1);
		sg->fixloss_k1 = (int)range(0, sg->rate - 1);
		s->c.inj_midloss += sg->fixloss_k0 > 0;
		sg->settle_until = sg->fixloss_until + range(0, 3);
		sg->settle_shift = garble_shift();
		s->c.fixlosses++;
	}
	if (chance(sg->p_outage)) {
		if (chance(0.5)) {
			sg->nmea_out_until = n + range(1, 120);
		} else {
			sg->pps_out_until = n + range(1, 120);
		}
		s->c.outages++;
	}
	if (chance(sg->p_delay_jump)) {
		sg->delay = range(50, 950) * MS;
	}
	if (chance(1.0 / 20000)) {
		start_stall(s, n * SEC + range(500, 4000) * MS);
		s->c.stalls++;
	}
	if (chance(1.0 / 15000)) {
		s->c.steps += schedule_change(&s->w, n, 0, step_amount());
	}
	if (chance(1.0 / 15000)) {
		/* chronyd slewing at up to its maxslewrate, 83 ms/s. */
		int64_t dur = range(1, 20) * SEC;

		s->c.slews += schedule_change(&s->w, n, dur,
					      range(-83, 83) * (dur / 1000));
	}
}

static void gen_second(struct sim *s, int64_t n)
{
	int64_t label, rt;
	bool leap, edge_sent, epoch_ok;

	label = label_of(&s->w, n, &leap, &rt);
	s->c.leaps += leap;
	gen_conditions(s, n);
	edge_sent = gen_edges(s, n);
	epoch_ok = gen_epochs(s, n, label, leap);
	gen_spurious_epochs(s, n, label);
	s->c.cat[s->sg.cat].seconds++;
	/* Valid input: the genuine edge and an intact, valid, dated,
	 * non-leap epoch of the second (the whole-second one or a later
	 * one, in the window) both went out, with their stamps. */
	s->c.cat[s->sg.cat].valid += edge_sent && epoch_ok;
}

/* ---- segments and the run -------------------------------------------- */

static void end_segment(struct sim *s)
{
	const struct pair_stats *st;
	int r;

	if (s->pe == NULL) {
		return;
	}
	drain(s, INT64_MAX);
	st = pair_get_stats(s->pe);
	for (r = 0; r < PAIR_RESULT_COUNT; r++) {
		s->c.held[r] += st->held[r];
	}
	s->c.edges += st->edges;
	s->c.epochs += st->epochs;
	s->c.aperiodic += st->edges_aperiodic;
	s->c.ref_changes += st->ref_changes;
	pair_destroy(s->pe);
	s->pe = NULL;
}

static int start_segment(struct sim *s, int64_t n, int64_t last)
{
	int64_t len = range(600, 30000);

	end_segment(s);
	segment_init(&s->sg, n, n + len < last ? n + len : last);
	s->pe = pair_create(&s->sg.cfg);
	if (s->pe == NULL) {
		fprintf(stderr, "pair_create failed\n");
		return -1;
	}
	s->c.segments++;
	return 0;
}

static int run(struct sim *s, int64_t seconds)
{
	int64_t n;

	/* Start at physical second 2 so that every event time is >= 0. */
	for (n = 2; n < seconds + 2; n++) {
		if (s->pe == NULL || n >= s->sg.end) {
			if (start_segment(s, n, seconds + 2) < 0) {
				return -1;
			}
		}
		gen_second(s, n);
		/* Nothing generated later happens before n s. */
		drain(s, n * SEC);
		fold_steps(&s->w, (n - 3) * SEC);
	}
	end_segment(s);
	return 0;
}

/* ---- report ---------------------------------------------------------- */

static void sum_cats(const struct counts *c, struct cat_stats *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < N_CATS; i++) {
		t->seconds += c->cat[i].seconds;
		t->valid += c->cat[i].valid;
		t->samples += c->cat[i].samples;
		t->wrong += c->cat[i].wrong;
		t->over_1ms += c->cat[i].over_1ms;
		if (c->cat[i].max_err > t->max_err) {
			t->max_err = c->cat[i].max_err;
		}
	}
}

static double yield(const struct cat_stats *cs)
{
	return cs->valid ? (double)cs->samples / (double)cs->valid : 0.0;
}

static void print_row(const char *name, const struct cat_stats *cs)
{
	printf("%-22s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %6.4f %6" PRIu64
	       " %6" PRIu64 " %10.3f\n", name, cs->seconds, cs->valid,
	       cs->samples, yield(cs), cs->wrong, cs->over_1ms,
	       (double)cs->max_err / 1e3);
}

static void report(const struct counts *c, uint64_t seed, int64_t seconds,
		   double elapsed)
{
	static const char *const cat_names[N_CATS] = {
		"default, 1 Hz", "default, 5 Hz", "default, 10 Hz",
		"next_second, 1 Hz", "next_second, 5 Hz", "next_second, 10 Hz"
	};
	struct cat_stats t;
	int i;

	sum_cats(c, &t);
	printf("pair property test: seed %" PRIu64 ", %" PRId64
	       " simulated seconds, %" PRIu64 " segments, %.2f s\n\n", seed,
	       seconds, c->segments, elapsed);
	printf("%-22s %9s %9s %9s %6s %6s %6s %10s\n", "segments", "seconds",
	       "valid in", "samples", "yield", "wrong", ">1ms", "max|err|us");
	for (i = 0; i < N_CATS; i++) {
		print_row(cat_names[i], &c->cat[i]);
	}
	print_row("all", &t);
	printf("\n>1 ms samples: %" PRIu64 " paired with a spurious edge\n",
	       c->over_1ms_spurious);
	printf("\nengine: %" PRIu64 " edges (%" PRIu64 " failed the period "
	       "check), %" PRIu64 " epochs, %" PRIu64 " reference changes\n",
	       c->edges, c->aperiodic, c->epochs, c->ref_changes);
	printf("held per reason:");
	for (i = PAIR_NOT_WHOLE; i < PAIR_RESULT_COUNT; i++) {
		printf(" %s %" PRIu64, pair_result_name(i), c->held[i]);
	}
	printf("\ninjected: %" PRIu64 " missing edges, %" PRIu64 " spurious "
	       "edges, %" PRIu64 " late edge stamps, %" PRIu64 " missing "
	       "epochs, %" PRIu64 " garbled, %" PRIu64 " spurious epochs,\n"
	       "  %" PRIu64 " settling labels, %" PRIu64 " fix losses, %"
	       PRIu64 " outages, %" PRIu64 " clock steps, %" PRIu64
	       " fast slews, %" PRIu64 " leap seconds, %" PRIu64
	       " daemon stalls, %" PRIu64 " stamps without mono,\n"
	       "  %" PRIu64 " late later epochs, %" PRIu64 " spurious edges "
	       "near the pulse or the window's end, %" PRIu64 " fix losses "
	       "from mid-second\n",
	       c->inj_edge_miss, c->inj_spur_edges, c->inj_late_edges,
	       c->inj_epoch_miss, c->inj_garbled, c->inj_spur_epochs,
	       c->inj_settling, c->fixlosses, c->outages, c->steps, c->slews,
	       c->leaps, c->stalls, c->inj_untimed, c->inj_late_epochs,
	       c->inj_spur_near, c->inj_midloss);
	printf("invariants: %" PRIu64 " duplicate samples, %" PRIu64
	       " samples of unknown edges, %" PRIu64 " bad nmea_usable\n",
	       c->duplicates, c->unknown_edges, c->usable_bad);
}

static bool verdict(const struct counts *c)
{
	struct cat_stats t;
	bool ok = true;

	sum_cats(c, &t);
	if (t.wrong > 0) {
		printf("FAIL: %" PRIu64 " wrong-second samples\n", t.wrong);
		ok = false;
	}
	if (c->duplicates + c->unknown_edges + c->usable_bad > 0) {
		printf("FAIL: broken invariants\n");
		ok = false;
	}
	if (t.valid > 0 && yield(&t) < MIN_YIELD) {
		printf("FAIL: yield %.4f below %.2f\n", yield(&t), MIN_YIELD);
		ok = false;
	}
	if (ok) {
		printf("PASS\n");
	}
	return ok;
}

static int parse_args(int argc, char **argv, uint64_t *seed, int64_t *seconds)
{
	int i;

	for (i = 1; i < argc; i++) {
		char *end = NULL;

		if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) {
			*seed = strtoull(argv[++i], &end, 0);
		} else if (i + 1 < argc && strcmp(argv[i], "--seconds") == 0) {
			*seconds = strtoll(argv[++i], &end, 0);
		}
		if (end == NULL || *end != '\0' || *seconds < 1) {
			fprintf(stderr, "usage: %s [--seed N] [--seconds N]\n",
				argv[0]);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = DEFAULT_SEED;
	int64_t seconds = DEFAULT_SECONDS;
	struct sim *s;
	struct timespec t0, t1;
	bool ok;

	if (parse_args(argc, argv, &seed, &seconds) < 0) {
		return 2;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->ev = calloc(MAX_EVENTS, sizeof(*s->ev))) == NULL) {
		fprintf(stderr, "out of memory\n");
		return 2;
	}
	rng = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	world_init(&s->w, seconds);
	if (run(s, seconds) < 0) {
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&s->c, seed, seconds, (double)(tu_ts_to_ns(&t1) -
					       tu_ts_to_ns(&t0)) / 1e9);
	ok = verdict(&s->c);
	free(s->ev);
	free(s);
	return ok ? 0 : 1;
}

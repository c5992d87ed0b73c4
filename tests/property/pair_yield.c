/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pair_yield.c - the pairing yield on a hostile stream, against what an
 * ideal pairer could reach on the same faults.
 *
 * The stream: gpspps-sim's own generator (simgen: RMC, GGA, GSA, GSV at
 * 115200 baud, first byte 350 ms after each epoch's instant) with bad
 * checksums and garbage at 8 % of the epochs each, 5 % of the epochs
 * missing, and losses of fix (2-10 s long) starting in 3 % of the seconds
 * as in the fault-heavy chain of doc/reliability.md,
 * decoded byte by byte by the daemon's NMEA decoder (bytes dated at the
 * line rate, the epoch closed 50 ms after the burst, as idle-flush does);
 * and PPS edges as `--pps sim:miss=0.05,spurious=0.05` makes them (5 %
 * missing, one extra edge at a random instant in 5 % of the seconds,
 * +-1 us of jitter).  The system clock is perfect here: what the pairer
 * does with steps, slews and odd receivers is the property test's job.
 * Everything is derived from the seed: a run replays exactly.
 *
 * The truth, from the simulator: which edge is the genuine pulse of which
 * second, and for each epoch the label it sent and when its first byte
 * went out.
 *
 * Per second s (UTC, POSIX):
 *   oracle-pairable: the genuine edge of s was sent, and the decoder
 *     produced at least one intact epoch naming s: its label is the one the
 *     simulator sent in second s (the whole second or a later epoch of it),
 *     with a valid fix, a known date, not a leap second, dated at the
 *     burst's true first byte, within the pairing window after the edge.
 *   ideal-pairable: oracle-pairable, and what a safe pairer strictly
 *     needs before it may trust a label: (1) since the start or the
 *     last second with an epoch reporting no fix, at least min_valid - 1
 *     seconds before s had an intact epoch (the warm-up: a receiver's
 *     first labels after acquisition may be wrong, and nothing in the
 *     stream tells); (2) after the start, confirm - 1 ideal-pairable
 *     seconds have passed (the first reference needs confirm pairings that
 *     agree, the earlier ones are held to confirm it).  A fix loss keeps
 *     the reference, so (2) applies once.  The ideal knows which edge is
 *     genuine: spurious edges cost it nothing.
 *   actual: the engine (pair.c, default configuration) produced a sample
 *     for s, and its edge was the genuine pulse of s.  A sample whose label
 *     is not the edge's second is a wrong second: there must be none.
 *
 * Usage: pair_yield [--seed N] [--seconds N] [--min R1,R5,R10]
 * Prints the table at 1, 5 and 10 Hz.  With --min, exits 1 when a rate's
 * yield (actual / seconds) is below its bound; always 1 on a wrong second.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmea.h"
#include "pair.h"
#include "splitmix.h"
#include "simgen.h"
#include "timeutil.h"

#define SEC TU_NS_PER_SEC
#define MS TU_NS_PER_MS
#define US TU_NS_PER_US

/* 2026-06-01 00:00:00 UTC; CLOCK_MONOTONIC_RAW is this minus MONO_BASE. */
#define T0_NS (INT64_C(1780272000) * SEC)
#define MONO_BASE (INT64_C(1780000000) * SEC)
#define DELAY_NS (350 * MS)
#define IDLE_FLUSH_NS (50 * MS)
#define BAUD 115200
#define CHUNK 16
#define DEFAULT_SEED UINT64_C(20261202)
#define DEFAULT_SECONDS 20000
#define N_RATES 3

static const int rates[N_RATES] = { 1, 5, 10 };

/* ---- random numbers for the edges ---------------------------------- */

static uint64_t rng;

static double unif(void)
{
	return splitmix_unif(&rng);
}

/* ---- per-second truth and outcome ----------------------------------- */

struct second {
	bool edge;      /* the genuine pulse was sent */
	bool intact;    /* an intact epoch named this second */
	bool nofix;     /* an epoch of this second reported no fix */
	bool sampled;   /* the engine produced a right sample for it */
};

struct result {
	int64_t seconds, oracle, ideal, actual, wrong, spurious;
	uint64_t held[PAIR_RESULT_COUNT];
};

struct run {
	struct simgen *gen;
	struct nmea_decoder *dec;
	struct pair_engine *pe;
	struct pair_config cfg;
	struct second *sec;
	int64_t n_sec;
	int64_t next_edge;      /* second whose edges are fed next */
	bool spur_pending;
	int64_t spur_at;
	uint64_t seq;
	struct result res;
};

static int64_t mono_of(int64_t real_ns)
{
	return real_ns - MONO_BASE;
}

static struct second *second_of(struct run *r, int64_t real_ns)
{
	int64_t i = tu_floor_div(real_ns - T0_NS, SEC);

	return i >= 0 && i < r->n_sec ? &r->sec[i] : NULL;
}

/* ---- edges ---------------------------------------------------------- */

/* An edge at real time t; pulse_of is the second it is the genuine pulse
 * of, or NULL for noise. */
static void feed_edge(struct run *r, int64_t t, struct second *pulse_of)
{
	struct pair_edge e = { t, mono_of(t), ++r->seq, 0 };
	struct pair_sample ps;

	if (pulse_of != NULL) {
		pulse_of->edge = true;
	}
	if (pair_add_edge(r->pe, &e, &ps) == PAIR_SAMPLE) {
		fprintf(stderr, "unexpected sample from an edge\n");
		r->res.wrong++;
	}
}

/* Feed every edge up to real time t, in order: the pulse of each second,
 * and that second's spurious edge when it comes. */
static void edges_until(struct run *r, int64_t t)
{
	for (;;) {
		int64_t pulse = T0_NS + r->next_edge * SEC;

		if (r->spur_pending && r->spur_at < pulse && r->spur_at <= t) {
			feed_edge(r, r->spur_at, NULL);
			r->spur_pending = false;
			continue;
		}
		if (pulse > t || r->next_edge >= r->n_sec) {
			return;
		}
		if (unif() >= 0.05) {
			feed_edge(r, pulse + (int64_t)((unif() - 0.5) * 2 * US),
				  &r->sec[r->next_edge]);
		}
		if (unif() < 0.05) {
			r->spur_pending = true;
			r->spur_at = pulse + 1 + (int64_t)(unif() * (SEC - 2));
		}
		r->next_edge++;
	}
}

/* ---- epochs --------------------------------------------------------- */

/* Is the decoded epoch the one the simulator sent, unharmed? */
static bool epoch_intact(const struct nmea_epoch *ep, int64_t interval)
{
	int64_t slot = tu_floor_div(ep->time_ns, interval) * interval;

	return ep->valid && ep->date_known && !ep->leap_second &&
	       slot == ep->time_ns &&
	       ep->burst_rx_ns == ep->time_ns + DELAY_NS;
}

static void check_sample(struct run *r, const struct pair_sample *ps)
{
	int64_t err = ps->label_ns - ps->edge_ns;
	struct second *s = second_of(r, ps->label_ns);

	if (err >= SEC / 2 || err <= -SEC / 2 || s == NULL) {
		r->res.wrong++;
		fprintf(stderr, "WRONG SECOND: label %" PRId64
			" edge %+.6f s\n", ps->label_ns / SEC,
			(double)-err / 1e9);
		return;
	}
	if (err > MS || err < -MS) {
		r->res.spurious++;      /* paired with a noise edge */
		return;
	}
	if (s->sampled) {
		r->res.wrong++;
		fprintf(stderr, "DUPLICATE: label %" PRId64 "\n",
			ps->label_ns / SEC);
	}
	s->sampled = true;
}

static void feed_epochs(struct run *r)
{
	int64_t interval = simgen_interval_ns(r->gen);
	struct nmea_epoch ep;
	struct pair_sample ps;

	while (nmea_next_epoch(r->dec, &ep)) {
		struct second *s = second_of(r, ep.time_ns);
		enum pair_result pr;

		if (s != NULL && epoch_intact(&ep, interval)) {
			s->intact = true;
		}
		pr = pair_add_epoch(r->pe, &ep, &ps);
		if (pr == PAIR_SAMPLE) {
			check_sample(r, &ps);
		}
	}
}

/* Send one burst: its bytes in chunks dated at the line rate, then the
 * idle flush. */
static void send_burst(struct run *r, int64_t slot, int64_t next_slot)
{
	static char buf[SIMGEN_BURST_MAX];
	int64_t char_ns = 10 * SEC / BAUD, start = slot + DELAY_NS, end;
	struct simgen_epoch se;
	int len = simgen_epoch(r->gen, slot, buf, sizeof(buf), &se);
	struct second *s = second_of(r, slot);
	int i;

	if (s != NULL && (se.faults & SIMGEN_FBIT(SIMGEN_FAULT_FIXLOSS))) {
		s->nofix = true;
	}
	for (i = 0; i < len; i += CHUNK) {
		int n = len - i < CHUNK ? len - i : CHUNK;
		int64_t rx = start + (i + n - 1) * char_ns;

		edges_until(r, rx);
		nmea_feed(r->dec, buf + i, (size_t)n, rx, mono_of(rx));
		feed_epochs(r);
	}
	end = start + len * char_ns + IDLE_FLUSH_NS;
	if (len > 0 && end < next_slot + DELAY_NS) {
		edges_until(r, end);
		nmea_flush(r->dec);
	}
	feed_epochs(r);
}

/* ---- one rate ------------------------------------------------------- */

static struct simgen *make_gen(int rate, uint64_t seed)
{
	static const enum simgen_sentence list[] = { SIMGEN_RMC, SIMGEN_GGA,
						     SIMGEN_GSA, SIMGEN_GSV };
	struct simgen_options opt;
	struct simgen *g;
	char err[200];

	simgen_options_init(&opt);
	memcpy(opt.sentences, list, sizeof(list));
	opt.nsentences = 4;
	opt.rate_hz = rate;
	opt.decimals = rate == 1 ? 0 : 2;
	opt.seed = seed;
	opt.fault_rate[SIMGEN_FAULT_BADSUM] = 0.08;
	opt.fault_rate[SIMGEN_FAULT_GARBAGE] = 0.08;
	opt.fault_rate[SIMGEN_FAULT_MISSING] = 0.05;
	opt.fault_rate[SIMGEN_FAULT_FIXLOSS] = 0.03;
	g = simgen_create(&opt, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "simgen: %s\n", err);
	}
	return g;
}

/* The ideal's count over the truth (see the top of this file). */
static void count_ideal(struct run *r)
{
	int need_fix = r->cfg.min_valid - 1, fix_run = 0, confirmed = 0;
	int64_t i;

	for (i = 0; i < r->n_sec; i++) {
		const struct second *s = &r->sec[i];
		bool oracle = s->edge && s->intact;

		r->res.oracle += oracle;
		r->res.actual += s->sampled;
		if (oracle && fix_run >= need_fix) {
			if (confirmed >= r->cfg.confirm - 1) {
				r->res.ideal++;
			}
			confirmed++;
		}
		fix_run = s->nofix ? 0 : fix_run + s->intact;
	}
}

static int run_rate(int rate, uint64_t seed, int64_t seconds,
		    struct result *res)
{
	struct run r;
	int64_t interval, slot, last;
	const struct pair_stats *st;

	memset(&r, 0, sizeof(r));
	rng = seed ^ (uint64_t)rate;
	pair_config_default(&r.cfg);
	r.n_sec = seconds;
	r.gen = make_gen(rate, seed);
	r.dec = nmea_decoder_create(&(struct nmea_options){
		.char_ns = 10 * SEC / BAUD });
	r.pe = pair_create(&r.cfg);
	r.sec = calloc((size_t)seconds, sizeof(*r.sec));
	if (r.gen == NULL || r.dec == NULL || r.pe == NULL || r.sec == NULL) {
		return -1;
	}
	interval = simgen_interval_ns(r.gen);
	last = T0_NS + seconds * SEC;
	for (slot = T0_NS; slot < last; slot += interval) {
		send_burst(&r, slot, slot + interval);
	}
	edges_until(&r, last + SEC);
	nmea_flush(r.dec);
	feed_epochs(&r);
	count_ideal(&r);
	st = pair_get_stats(r.pe);
	memcpy(r.res.held, st->held, sizeof(r.res.held));
	r.res.seconds = seconds;
	*res = r.res;
	pair_destroy(r.pe);
	nmea_decoder_destroy(r.dec);
	simgen_destroy(r.gen);
	free(r.sec);
	return 0;
}

/* ---- report --------------------------------------------------------- */

static double frac(int64_t a, int64_t b)
{
	return b > 0 ? (double)a / (double)b : 0.0;
}

static void print_result(int rate, const struct result *x)
{
	int i;

	printf("%3d Hz %8" PRId64 " %8" PRId64 " %8" PRId64 " %8" PRId64
	       "  %6.4f %6.4f %6.4f %8.4f %6" PRId64 " %6" PRId64 "\n", rate,
	       x->seconds, x->oracle, x->ideal, x->actual,
	       frac(x->oracle, x->seconds), frac(x->ideal, x->seconds),
	       frac(x->actual, x->seconds), frac(x->actual, x->ideal),
	       x->wrong, x->spurious);
	printf("       held:");
	for (i = PAIR_NOT_WHOLE; i < PAIR_RESULT_COUNT; i++) {
		if (x->held[i] > 0) {
			printf(" %s %" PRIu64, pair_result_name(i), x->held[i]);
		}
	}
	printf("\n");
}

static int parse_min(const char *arg, double *min)
{
	char *end;
	int i;

	for (i = 0; i < N_RATES; i++) {
		min[i] = strtod(arg, &end);
		if (end == arg || (*end != (i < N_RATES - 1 ? ',' : '\0'))) {
			return -1;
		}
		arg = end + 1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, uint64_t *seed,
		      int64_t *seconds, double *min)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		char *end = NULL;

		if (strcmp(argv[i], "--seed") == 0) {
			*seed = strtoull(argv[i + 1], &end, 0);
		} else if (strcmp(argv[i], "--seconds") == 0) {
			*seconds = strtoll(argv[i + 1], &end, 0);
		} else if (strcmp(argv[i], "--min") == 0 &&
			   parse_min(argv[i + 1], min) == 0) {
			end = (char *)"";
		}
		if (end == NULL || *end != '\0' || *seconds < 10) {
			break;
		}
	}
	if (i != argc) {
		fprintf(stderr, "usage: %s [--seed N] [--seconds N] "
			"[--min Y1,Y5,Y10]\n", argv[0]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = DEFAULT_SEED;
	int64_t seconds = DEFAULT_SECONDS;
	double min[N_RATES] = { 0, 0, 0 };
	struct result res;
	bool ok = true;
	int i;

	if (parse_args(argc, argv, &seed, &seconds, min) < 0) {
		return 2;
	}
	printf("pairing yield, hostile stream: seed %" PRIu64 ", %" PRId64
	       " s per rate\n\n", seed, seconds);
	printf("rate    seconds   oracle    ideal   actual  oracle  ideal "
	       "actual  act/ideal  wrong  noise\n");
	for (i = 0; i < N_RATES; i++) {
		if (run_rate(rates[i], seed, seconds, &res) < 0) {
			fprintf(stderr, "out of memory\n");
			return 2;
		}
		print_result(rates[i], &res);
		if (res.wrong > 0) {
			printf("FAIL: %d Hz: %" PRId64 " wrong seconds\n",
			       rates[i], res.wrong);
			ok = false;
		}
		if (frac(res.actual, res.seconds) < min[i]) {
			printf("FAIL: %d Hz: yield %.4f below %.4f\n", rates[i],
			       frac(res.actual, res.seconds), min[i]);
			ok = false;
		}
	}
	printf("%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}

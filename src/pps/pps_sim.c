/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps_sim.c - simulated PPS: an edge at every whole second of the system
 * clock, as a receiver disciplined to true time would give when the system
 * clock is perfect.  Options (comma separated after "sim:"):
 *
 *   jitter=DUR    edge timestamp error, uniform in [-DUR/2, +DUR/2]
 *   bias=DUR      constant error added to every edge
 *   miss=P        probability that an edge is missing
 *   spurious=P    probability of an extra edge at a random time in a second
 *   seed=N        PRNG seed (runs replay exactly)
 *
 * The reported edge time is the whole second plus the error, so a chronyd
 * fed by gpsppsd sees raw offsets equal to minus the error: the e2e test
 * checks exactly that.  No descriptor: the core calls read() at the
 * deadline, shortly after each (possibly spurious) edge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pps.h"
#include "timeutil.h"

/* The read runs this long after the edge, like an interrupt's latency. */
#define SIM_LATENCY_NS (200 * TU_NS_PER_US)

struct sim_state {
	int64_t jitter_ns;
	int64_t bias_ns;
	double miss;
	double spurious;
	uint64_t rng;
	uint64_t seq;
	int64_t next_second;     /* next whole second to emit, ns */
	int64_t spurious_at;     /* pending spurious edge time, or 0 */
};

static uint64_t sim_rand(struct sim_state *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 2685821657736338717ull;
}

static double sim_uniform(struct sim_state *s)
{
	return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

static int parse_prob(const char *v, double *p)
{
	char *end;

	*p = strtod(v, &end);
	return (*end == '\0' && end != v && *p >= 0.0 && *p <= 1.0) ? 0 : -1;
}

static int parse_option(struct sim_state *s, char *opt)
{
	char *eq = strchr(opt, '=');

	if (eq == NULL) {
		return -1;
	}
	*eq++ = '\0';
	if (strcmp(opt, "jitter") == 0) {
		return tu_parse_duration(eq, &s->jitter_ns) == 0 &&
		       s->jitter_ns >= 0 ? 0 : -1;
	}
	if (strcmp(opt, "bias") == 0) {
		return tu_parse_duration(eq, &s->bias_ns);
	}
	if (strcmp(opt, "miss") == 0) {
		return parse_prob(eq, &s->miss);
	}
	if (strcmp(opt, "spurious") == 0) {
		return parse_prob(eq, &s->spurious);
	}
	if (strcmp(opt, "seed") == 0) {
		char *end;

		errno = 0;
		s->rng = strtoull(eq, &end, 0);
		return *eq != '\0' && *eq != '-' && *end == '\0' &&
		       errno == 0 ? 0 : -1;
	}
	return -1;
}

static int parse_options(struct sim_state *s, const char *arg, char *err,
			 size_t errlen)
{
	char buf[256], *tok, *save = NULL;

	if (arg == NULL || *arg == '\0') {
		return 0;
	}
	if (strlen(arg) >= sizeof(buf)) {
		snprintf(err, errlen, "sim PPS options too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		char as_given[sizeof(buf)];

		snprintf(as_given, sizeof(as_given), "%s", tok);
		if (parse_option(s, tok) < 0) {
			snprintf(err, errlen, "bad sim PPS option \"%s\" (use "
				 "jitter=DUR,bias=DUR,miss=P,spurious=P,seed=N)",
				 as_given);
			return -EINVAL;
		}
	}
	return 0;
}

static int sim_check(const char *arg, char *err, size_t errlen)
{
	struct sim_state s = { 0 };

	return parse_options(&s, arg, err, errlen);
}

static int sim_open(struct pps_source *src, const char *arg,
		    const struct pps_options *opt, char *err, size_t errlen)
{
	struct sim_state *s = calloc(1, sizeof(*s));
	int64_t now = tu_now(CLOCK_REALTIME);

	(void)opt;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->rng = 1;
	if (parse_options(s, arg, err, errlen) < 0) {
		free(s);
		return -EINVAL;
	}
	if (s->rng == 0) {
		s->rng = 1;
	}
	s->next_second = (tu_floor_div(now, TU_NS_PER_SEC) + 1) * TU_NS_PER_SEC;
	src->priv = s;
	return 0;
}

static void sim_close(struct pps_source *src)
{
	free(src->priv);
}

static int sim_fd(struct pps_source *src)
{
	(void)src;
	return -1;
}

/* Earliest pending event time (realtime ns). */
static int64_t sim_next_event(const struct sim_state *s)
{
	if (s->spurious_at != 0 && s->spurious_at < s->next_second) {
		return s->spurious_at;
	}
	return s->next_second;
}

static int64_t sim_deadline(struct pps_source *src)
{
	struct sim_state *s = src->priv;
	int64_t real = tu_now(CLOCK_REALTIME);
	int64_t mono = tu_now(CLOCK_MONOTONIC);

	return mono + (sim_next_event(s) + SIM_LATENCY_NS - real);
}

static int64_t sim_error(struct sim_state *s)
{
	double u = sim_uniform(s) - 0.5;

	return s->bias_ns + (int64_t)(u * (double)s->jitter_ns);
}

static void emit(struct sim_state *s, int64_t t, int64_t real,
		 int64_t mono, struct pps_edge *e)
{
	e->real_ns = t;
	e->mono_ns = mono - (real - t);
	e->seq = ++s->seq;
	e->polarity = PPS_EDGE_RISING;
	e->extra = 0;
}

/* Produce the edge of second s->next_second (or count it missed) and plan
 * the next one.  Returns 1 when *e was filled. */
static int step_second(struct pps_source *src, int64_t real, int64_t mono,
		       struct pps_edge *e)
{
	struct sim_state *s = src->priv;
	int64_t sec = s->next_second;
	bool missing = sim_uniform(s) < s->miss;
	int64_t err = sim_error(s);

	s->next_second += TU_NS_PER_SEC;
	if (sim_uniform(s) < s->spurious) {
		s->spurious_at = sec + 1 + (int64_t)(sim_uniform(s) *
					   (double)(TU_NS_PER_SEC - 2));
	}
	if (missing) {
		s->seq++;
		src->stats.missed++;
		return 0;
	}
	emit(s, sec + err, real, mono, e);
	return 1;
}

static int sim_read(struct pps_source *src, struct pps_edge *edges, int max)
{
	struct sim_state *s = src->priv;
	int64_t real = tu_now(CLOCK_REALTIME);
	int64_t mono = tu_now(CLOCK_MONOTONIC_RAW);
	int n = 0;

	/* After a long stall (suspended, clock stepped), do not replay a
	 * backlog of seconds: resume at the next one. */
	if (real - s->next_second > 3 * TU_NS_PER_SEC) {
		s->next_second = (tu_floor_div(real, TU_NS_PER_SEC) + 1) *
				 TU_NS_PER_SEC;
		s->spurious_at = 0;
	}
	while (n < max && sim_next_event(s) + SIM_LATENCY_NS <= real) {
		if (s->spurious_at != 0 && s->spurious_at < s->next_second) {
			emit(s, s->spurious_at, real, mono, &edges[n++]);
			s->spurious_at = 0;
		} else {
			n += step_second(src, real, mono, &edges[n]);
		}
	}
	src->stats.edges += (uint64_t)n;
	return n;
}

const struct pps_backend pps_sim_backend = {
	.kind = "sim",
	.summary = "simulated edges on whole seconds of the system clock "
		   "(sim:jitter=DUR,bias=DUR,miss=P,spurious=P,seed=N)",
	.open = sim_open,
	.check = sim_check,
	.close = sim_close,
	.fd = sim_fd,
	.deadline = sim_deadline,
	.read = sim_read,
};

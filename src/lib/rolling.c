/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rolling.c - see rolling.h. */
#include "rolling.h"

#include <math.h>
#include <stdlib.h>

struct rolling_sample {
	int64_t t;
	double v;
};

struct rolling {
	struct rolling_sample *ring;
	double *sorted;     /* scratch for the quantiles */
	int cap, head, n;   /* oldest at head */
	int64_t span;
	struct rolling_sample last;
};

struct rolling *rolling_create(int capacity, int64_t span_ns)
{
	struct rolling *r;

	if (capacity < 1 || span_ns <= 0) {
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->ring = calloc((size_t)capacity, sizeof(*r->ring));
	r->sorted = calloc((size_t)capacity, sizeof(*r->sorted));
	if (r->ring == NULL || r->sorted == NULL) {
		rolling_destroy(r);
		return NULL;
	}
	r->cap = capacity;
	r->span = span_ns;
	return r;
}

void rolling_destroy(struct rolling *r)
{
	if (r != NULL) {
		free(r->ring);
		free(r->sorted);
		free(r);
	}
}

void rolling_add(struct rolling *r, int64_t t_ns, double v)
{
	struct rolling_sample s = { t_ns, v };

	if (r->n == r->cap) {
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
	r->ring[(r->head + r->n) % r->cap] = s;
	r->n++;
	r->last = s;
}

static void expire(struct rolling *r, int64_t now)
{
	while (r->n > 0 && r->ring[r->head].t < now - r->span) {
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Quantile q of n sorted values, linear between order statistics (the
 * "type 7" definition of R and numpy's default). */
static double quantile(const double *v, int n, double q)
{
	double h = (n - 1) * q;
	int lo = (int)floor(h);

	if (lo + 1 >= n) {
		return v[n - 1];
	}
	return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

static void moments(const struct rolling *r, struct rolling_summary *out)
{
	double sum = 0, ss = 0;
	int i;

	for (i = 0; i < r->n; i++) {
		sum += r->ring[(r->head + i) % r->cap].v;
	}
	out->mean = sum / r->n;
	for (i = 0; i < r->n; i++) {
		double d = r->ring[(r->head + i) % r->cap].v - out->mean;

		ss += d * d;
	}
	out->stddev = r->n > 1 ? sqrt(ss / (r->n - 1)) : 0;
}

int rolling_summary(struct rolling *r, int64_t now_ns,
		    struct rolling_summary *out)
{
	int i;

	expire(r, now_ns);
	*out = (struct rolling_summary){ .count = r->n, .last = r->last.v,
					 .last_t = r->last.t };
	if (r->n == 0) {
		return 0;
	}
	moments(r, out);
	for (i = 0; i < r->n; i++) {
		r->sorted[i] = r->ring[(r->head + i) % r->cap].v;
	}
	qsort(r->sorted, (size_t)r->n, sizeof(double), cmp_double);
	out->median = quantile(r->sorted, r->n, 0.5);
	out->spread = (quantile(r->sorted, r->n, 0.75) -
		       quantile(r->sorted, r->n, 0.25)) / 1.349;
	return r->n;
}

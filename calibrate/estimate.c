/* SPDX-License-Identifier: GPL-2.0-or-later */
/* estimate.c - see estimate.h. */
#include "estimate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959964
#define MAD_TO_SD 1.482602
#define SQRT_HALF_PI 1.253314   /* the median's sd / the mean's, normal */
#define HUBER_ITER 100

struct est {
	double *t;
	double *x;
	double *sd;
	size_t n;
	size_t cap;
};

struct est *est_create(void)
{
	return calloc(1, sizeof(struct est));
}

void est_destroy(struct est *e)
{
	if (e == NULL) {
		return;
	}
	free(e->t);
	free(e->x);
	free(e->sd);
	free(e);
}

void est_reset(struct est *e)
{
	e->n = 0;
}

static int grow(double **p, size_t cap)
{
	double *q = realloc(*p, cap * sizeof(double));

	if (q == NULL) {
		return -ENOMEM;
	}
	*p = q;
	return 0;
}

int est_add(struct est *e, double t, double x, double sd)
{
	if (!isfinite(t) || !isfinite(x)) {
		return -EINVAL;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;

		if (grow(&e->t, cap) || grow(&e->x, cap) || grow(&e->sd, cap)) {
			return -ENOMEM;
		}
		e->cap = cap;
	}
	e->t[e->n] = t;
	e->x[e->n] = x;
	e->sd[e->n] = sd;
	e->n++;
	return 0;
}

size_t est_count(const struct est *e)
{
	return e->n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

static void sort_values(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
}

/* Median of sorted values, n >= 1. */
static double median_sorted(const double *v, size_t n)
{
	if (n % 2 == 1) {
		return v[n / 2];
	}
	return (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Percentile p in [0, 1] of sorted values, linear interpolation. */
static double percentile_sorted(const double *v, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t i = (size_t)pos;
	double frac = pos - (double)i;

	if (i + 1 >= n) {
		return v[n - 1];
	}
	return v[i] + frac * (v[i + 1] - v[i]);
}

/* 1.4826 * median |v - centre|; tmp holds n doubles. */
static double robust_sigma(const double *v, size_t n, double centre,
			   double *tmp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		tmp[i] = fabs(v[i] - centre);
	}
	sort_values(tmp, n);
	return MAD_TO_SD * median_sorted(tmp, n);
}

/*
 * Sign-test interval of the median of sorted values, the rank variance
 * inflated by tau.  Sets *clamped when the interval hit the data's ends.
 */
static void median_ci(const double *v, size_t n, double tau, double *lo,
		      double *hi, bool *clamped)
{
	double k = Z95 * sqrt((double)n * tau) / 2.0;
	double il = floor((double)(n - 1) / 2.0 - k);
	double ih = ceil((double)(n - 1) / 2.0 + k);

	*clamped = false;
	if (il < 0) {
		il = 0;
		*clamped = true;
	}
	if (ih > (double)(n - 1)) {
		ih = (double)(n - 1);
		*clamped = true;
	}
	*lo = v[(size_t)il];
	*hi = v[(size_t)ih];
}

/* Autocorrelation at lag k of a centred series c[0..n). */
static double autocorr(const double *c, size_t n, size_t k, double c0)
{
	double s = 0.0;
	size_t i;

	for (i = 0; i + k < n; i++) {
		s += c[i] * c[i + k];
	}
	return s / c0;
}

/*
 * Integrated autocorrelation time by Geyer's initial positive sequence:
 * tau = -1 + 2 * sum of Gamma_j = rho(2j) + rho(2j+1) while Gamma_j > 0.
 * c is the centred series (modified in place as scratch).
 */
static double integrated_tau(double *c, size_t n, bool *capped)
{
	size_t maxlag = n / 2 < EST_MAX_LAG ? n / 2 : EST_MAX_LAG;
	double mean = 0.0, c0 = 0.0, sum = 0.0;
	size_t i, j;

	*capped = false;
	for (i = 0; i < n; i++) {
		mean += c[i];
	}
	mean /= (double)n;
	for (i = 0; i < n; i++) {
		c[i] -= mean;
		c0 += c[i] * c[i];
	}
	if (c0 <= 0.0 || n < 4) {
		return 1.0;
	}
	for (j = 0; 2 * j + 1 <= maxlag; j++) {
		double gamma = autocorr(c, n, 2 * j, c0) +
			       autocorr(c, n, 2 * j + 1, c0);

		if (gamma <= 0.0) {
			break;
		}
		sum += gamma;
	}
	if (2 * j + 1 > maxlag) {
		*capped = true;
	}
	return fmax(1.0, -1.0 + 2.0 * sum);
}

/* Signs of x - median(x) into out, a sorted copy of x in tmp. */
static double signs_about_median(const double *x, size_t n, double *tmp,
				 double *out)
{
	double med;
	size_t i;

	memcpy(tmp, x, n * sizeof(double));
	sort_values(tmp, n);
	med = median_sorted(tmp, n);
	for (i = 0; i < n; i++) {
		double d = x[i] - med;

		out[i] = (d > 0) - (d < 0);
	}
	return med;
}

/* Correlation time of the signs of x about their median, and the robust
 * sigma about it; tmp holds 2 * n doubles. */
static void slice_scale(const double *x, size_t n, double *tmp, double *tau,
			double *sigma)
{
	double med = signs_about_median(x, n, tmp, tmp + n);
	bool capped;

	*tau = integrated_tau(tmp + n, n, &capped);
	*sigma = robust_sigma(x, n, med, tmp);
}

/* The medians of the correlation times and sigmas of nb consecutive
 * blocks, each about its own median; nb <= EST_DRIFT_BLOCKS. */
static void blocks_scale(const double *x, size_t n, size_t nb, double *tmp,
			 double *tau, double *sigma)
{
	double taus[EST_DRIFT_BLOCKS], sigmas[EST_DRIFT_BLOCKS];
	size_t b, len = n / nb;

	for (b = 0; b < nb; b++) {
		slice_scale(x + b * len, len, tmp, &taus[b], &sigmas[b]);
	}
	sort_values(taus, nb);
	sort_values(sigmas, nb);
	*tau = median_sorted(taus, nb);
	*sigma = median_sorted(sigmas, nb);
}

/*
 * Correlation time and sigma for the drift test, from blocks each taken
 * about its own median.  A step of the delay makes the signs of its block
 * (and of any long stretch around it) one long run, and widens its
 * spread; taken as noise, they would hide the very drift they are.  The
 * median over blocks ignores the block holding the step.  A short block
 * cannot show a long correlation, so the larger of the figures from
 * EST_DRIFT_BLOCKS and from half as many (longer) blocks is taken.  tmp
 * holds 2 * n doubles.
 */
static void local_scale(const double *x, size_t n, double *tmp, double *tau,
			double *sigma)
{
	double tau2, sigma2;

	if (n / EST_DRIFT_BLOCKS < 8) {
		slice_scale(x, n, tmp, tau, sigma);
		return;
	}
	blocks_scale(x, n, EST_DRIFT_BLOCKS, tmp, tau, sigma);
	blocks_scale(x, n, EST_DRIFT_BLOCKS / 2, tmp, &tau2, &sigma2);
	*tau = fmax(*tau, tau2);
	*sigma = fmax(*sigma, sigma2);
}

static double slice_median(const double *x, size_t n, double *tmp)
{
	memcpy(tmp, x, n * sizeof(double));
	sort_values(tmp, n);
	return median_sorted(tmp, n);
}

struct work {
	double *sorted;   /* sorted copy, then scratch */
	double *used;     /* used values in time order */
	double *scratch;
	double drift_tau; /* the drift test's correlation time */
};

static void reject_outliers(const struct est *e, struct work *w,
			    struct est_result *r)
{
	double m0, sigma0;
	size_t i;

	memcpy(w->sorted, e->x, e->n * sizeof(double));
	sort_values(w->sorted, e->n);
	m0 = median_sorted(w->sorted, e->n);
	sigma0 = robust_sigma(e->x, e->n, m0, w->scratch);
	r->outlier_limit = EST_OUTLIER_K * fmax(sigma0, EST_SIGMA_FLOOR);
	r->n_used = 0;
	for (i = 0; i < e->n; i++) {
		if (fabs(e->x[i] - m0) <= r->outlier_limit) {
			w->used[r->n_used++] = e->x[i];
		}
	}
	r->n_outliers = e->n - r->n_used;
}

/* Sign-test interval of the median, for data with no scale (MAD 0). */
static void median_interval(struct work *w, struct est_result *r,
			    bool *clamped)
{
	size_t n = r->n_used, i;

	for (i = 0; i < n; i++) {
		double d = w->used[i] - r->median;

		w->scratch[i] = (d > 0) - (d < 0);
	}
	r->tau = integrated_tau(w->scratch, n, &r->tau_capped);
	median_ci(w->sorted, n, r->tau, &r->ci_low, &r->ci_high, clamped);
}

/* Huber's psi of (x - m) / s into out (time order); returns the fraction
 * of values inside +-EST_HUBER_K, psi's mean slope. */
static double huber_psi(const double *x, size_t n, double m, double s,
			double *out)
{
	size_t i, inside = 0;

	for (i = 0; i < n; i++) {
		double u = (x[i] - m) / s;

		inside += fabs(u) <= EST_HUBER_K;
		out[i] = fmax(-EST_HUBER_K, fmin(EST_HUBER_K, u));
	}
	return (double)inside / (double)n;
}

/* Huber M-estimate of location at scale s, by iteratively reweighted
 * means from the median m. */
static double huber_centre(const double *x, size_t n, double m, double s)
{
	int it;
	size_t i;

	for (it = 0; it < HUBER_ITER; it++) {
		double sum = 0.0, wsum = 0.0, next;

		for (i = 0; i < n; i++) {
			double u = fabs(x[i] - m) / s;
			double wt = u <= EST_HUBER_K ? 1.0 : EST_HUBER_K / u;

			sum += wt * x[i];
			wsum += wt;
		}
		next = sum / wsum;
		if (fabs(next - m) <= 1e-9 * s) {
			return next;
		}
		m = next;
	}
	return m;
}

/*
 * The Huber estimate and its interval: variance s^2 E[psi^2] / E[psi']^2
 * / n (the M-estimate's sandwich), times tau, the correlation time of the
 * psi series.  Returns false (the estimate not set) when psi has no slope
 * or the run holds fewer than EST_HUBER_MIN_NEFF independent values.
 */
static bool huber_interval(struct work *w, struct est_result *r,
			   bool *clamped)
{
	size_t n = r->n_used, i;
	double s = r->sigma, slope, a = 0.0, half, m;

	m = huber_centre(w->used, n, r->median, s);
	slope = huber_psi(w->used, n, m, s, w->scratch);
	if (slope <= 0.0) {
		return false;
	}
	for (i = 0; i < n; i++) {
		a += w->scratch[i] * w->scratch[i] / (double)n;
	}
	r->tau = integrated_tau(w->scratch, n, &r->tau_capped);
	if (r->warnings & EST_WARN_DRIFT) {
		/* A step of the delay passes for slow noise: take the
		 * correlation time the drift test found within blocks. */
		r->tau = fmin(r->tau, w->drift_tau);
	}
	if ((double)n / r->tau < EST_HUBER_MIN_NEFF) {
		return false;
	}
	half = Z95 * s * sqrt(a * r->tau / (double)n) / slope;
	r->median = m;
	r->ci_low = m - half;
	r->ci_high = m + half;
	*clamped = r->ci_low < r->min || r->ci_high > r->max;
	return true;
}

static void centre_and_interval(struct work *w, struct est_result *r)
{
	size_t n = r->n_used;
	bool clamped;

	memcpy(w->sorted, w->used, n * sizeof(double));
	sort_values(w->sorted, n);
	r->median = median_sorted(w->sorted, n);
	r->min = w->sorted[0];
	r->max = w->sorted[n - 1];
	r->p005 = percentile_sorted(w->sorted, n, 0.005);
	r->p995 = percentile_sorted(w->sorted, n, 0.995);
	r->sigma = robust_sigma(w->used, n, r->median, w->scratch);
	if (r->sigma <= 0.0 || !huber_interval(w, r, &clamped)) {
		median_interval(w, r, &clamped);
	}
	r->n_eff = (double)n / r->tau;
	r->half_width = fmax(r->median - r->ci_low, r->ci_high - r->median);
	if (clamped) {
		r->warnings |= EST_WARN_FEW;
	}
}

/*
 * The drift test (estimate.h).  Each quarter's median has the standard
 * error sqrt(pi / 2) * sigma * sqrt(tau / q) (the median of normal noise,
 * widened by the correlation time of the signs), from the whole run's
 * blocks rather than from the quarter's own order statistics, whose
 * spacing is a noisy scale.  The test judges only quarters of at least
 * EST_DRIFT_MIN_NEFF independent values: with fewer, the error is too
 * uncertain for any threshold to keep false alarms rare.
 */
static void drift(const struct est *e, struct work *w, struct est_result *r)
{
	size_t q = e->n / 4;
	double tau, sigma;

	w->drift_tau = 1.0;
	if (q < 1) {
		r->first_q = r->last_q = r->drift = r->drift_se = NAN;
		return;
	}
	local_scale(e->x, e->n, w->sorted, &tau, &sigma);
	w->drift_tau = tau;
	r->first_q = slice_median(e->x, q, w->scratch);
	r->last_q = slice_median(e->x + e->n - q, q, w->scratch);
	r->drift = r->last_q - r->first_q;
	r->drift_se = SQRT_HALF_PI * sigma * sqrt(2.0 * tau / (double)q);
	if ((double)q / tau >= EST_DRIFT_MIN_NEFF &&
	    fabs(r->drift) > fmax(EST_DRIFT_MIN, EST_DRIFT_Z * r->drift_se)) {
		r->warnings |= EST_WARN_DRIFT;
	}
}

static void sample_sd(const struct est *e, struct work *w,
		      struct est_result *r)
{
	size_t i, k = 0;

	for (i = 0; i < e->n; i++) {
		if (isfinite(e->sd[i])) {
			w->scratch[k++] = e->sd[i];
		}
	}
	if (k == 0) {
		r->sample_sd = NAN;
		return;
	}
	sort_values(w->scratch, k);
	r->sample_sd = median_sorted(w->scratch, k);
}

static void warnings(struct est_result *r)
{
	double spread = fmax(r->median - r->p005, r->p995 - r->median);

	if (isfinite(r->sample_sd)) {
		spread = fmax(spread, 2.576 * r->sample_sd);
	}
	if (spread > EST_LOCK_SPREAD) {
		r->warnings |= EST_WARN_LOCK;
	}
	if (r->n_used < EST_MIN_SAMPLES || r->n_eff < EST_MIN_NEFF) {
		r->warnings |= EST_WARN_FEW;
	}
	if ((double)r->n_outliers > EST_OUTLIER_FRAC * (double)r->n_total) {
		r->warnings |= EST_WARN_OUTLIERS;
	}
}

int est_compute(const struct est *e, struct est_result *r)
{
	struct work w;
	int ret = -ENOMEM;

	memset(r, 0, sizeof(*r));
	if (e->n == 0) {
		return -ENODATA;
	}
	w.sorted = malloc(2 * e->n * sizeof(double));
	w.used = malloc(e->n * sizeof(double));
	w.scratch = malloc(e->n * sizeof(double));
	if (w.sorted != NULL && w.used != NULL && w.scratch != NULL) {
		r->n_total = e->n;
		r->t_first = e->t[0];
		r->t_last = e->t[e->n - 1];
		reject_outliers(e, &w, r);
		drift(e, &w, r);
		centre_and_interval(&w, r);
		sample_sd(e, &w, r);
		warnings(r);
		ret = 0;
	}
	free(w.sorted);
	free(w.used);
	free(w.scratch);
	return ret;
}

void est_histogram(const struct est *e, const struct est_result *r,
		   unsigned *counts, int nbins)
{
	double width = (r->max - r->min) / nbins;
	size_t i;

	memset(counts, 0, (size_t)nbins * sizeof(unsigned));
	for (i = 0; i < e->n; i++) {
		double x = e->x[i];
		int b;

		if (x < r->min || x > r->max) {
			continue;
		}
		b = width > 0 ? (int)((x - r->min) / width) : 0;
		if (b >= nbins) {
			b = nbins - 1;
		}
		counts[b]++;
	}
}

const char *est_warning_text(enum est_warning w)
{
	switch (w) {
	case EST_WARN_FEW:
		return "too few independent snapshots for a trustworthy interval";
	case EST_WARN_LOCK:
		return "spread endangers chrony's 0.4 s lock limit "
		       "(99% of samples not within 0.2 s)";
	case EST_WARN_DRIFT:
		return "the delay drifted during the run "
		       "(first and last quarter differ)";
	case EST_WARN_OUTLIERS:
		return "more than 5% of the values were rejected as outliers";
	}
	return "?";
}

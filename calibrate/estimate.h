/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * estimate.h - robust estimate of a refclock's offset from a series of
 * measurements (pure logic: no I/O, no clocks).
 *
 * The series is either chronyc sourcestats Offset snapshots (live mode,
 * --from-file) or refclocks.log raw offsets (--from-log), already turned
 * into "the value to add to the configured offset" by the caller.  Values
 * are added in time order.
 *
 * The estimator, as the man page states it:
 *
 *   centre     the median of all values, m0; MAD = median |x - m0|;
 *              sigma = 1.4826 * MAD (the sd of normal data).
 *   outliers   a value with |x - m0| > EST_OUTLIER_K * max(sigma,
 *              EST_SIGMA_FLOOR) is rejected; the others are "used".
 *   estimate   the Huber M-estimate m of the used values: the root of
 *              sum psi((x - m) / s) = 0 with psi(u) = max(-K, min(K, u)),
 *              K = EST_HUBER_K, s = 1.4826 * MAD of the used values about
 *              their median (found by reweighted means from the median).
 *              95% efficient for Gaussian noise, where the median is 64%,
 *              with the median's resistance to what the rejection leaves.
 *   interval   m +- 1.96 * s * sqrt(E[psi^2] * tau / n) / E[psi'], the
 *              M-estimate's asymptotic variance widened for serial
 *              correlation by tau, the integrated autocorrelation time of
 *              the psi series in time order, estimated by Geyer's initial
 *              positive sequence over lags up to EST_MAX_LAG.
 *              n_eff = n / tau.  With a drift warning, tau is at most
 *              the drift test's (below): a step is no slow noise.
 *   fallback   This interval rests on tau alone, and tau is estimated
 *              short from a short correlated run (20 live snapshots can
 *              look independent): below EST_HUBER_MIN_NEFF independent
 *              values, and for quantised data with MAD 0 (no scale),
 *              the estimate is the median with the sign-test (order
 *              statistic) interval [x(n/2 - k), x(n/2 + k)], k = 1.96 *
 *              sqrt(n * tau) / 2, tau that of the signs of (x - median).
 *   spread     sigma of the used values, and the 0.5 and 99.5 percentiles.
 *   drift      median of the last quarter of all values minus that of the
 *              first quarter, with its standard error: each quarter's
 *              median has sqrt(pi / 2) * sigma * sqrt(tau / q) (q values
 *              per quarter), the two added in quadrature.  sigma and tau
 *              (of the signs) here are the medians of those of
 *              EST_DRIFT_BLOCKS consecutive blocks of the run, each taken
 *              about its own median (a step of the delay would otherwise
 *              pass for slow noise and hide the very drift it is), or of
 *              half as many longer blocks where those are larger (a short
 *              block misses a long correlation).
 *
 * Warnings (bits of est_result.warnings):
 *   EST_WARN_FEW     fewer than EST_MIN_SAMPLES used values, or n_eff under
 *                    EST_MIN_NEFF, or the interval reached the extremes of
 *                    the data (so that 95% cannot be promised).
 *   EST_WARN_LOCK    99% of the used values are not within EST_LOCK_SPREAD
 *                    (0.2 s, half of chrony's 0.4 s `lock` limit, the other
 *                    half being left for dispersions) of the estimate, or
 *                    the samples' own sd (when given) says the same at
 *                    2.576 sd.
 *   EST_WARN_DRIFT   |drift| > max(EST_DRIFT_MIN, EST_DRIFT_Z * its
 *                    standard error), judged only when each quarter
 *                    holds EST_DRIFT_MIN_NEFF independent values (q / tau;
 *                    fewer leave tau and the error too uncertain).  On
 *                    independent normal noise 4.5 standard errors are
 *                    passed 7 times in 10^6 (test_estimate measures 0 in
 *                    10,000 runs); 3, the rule before, 2.7 in 1000.
 *   EST_WARN_OUTLIERS more than EST_OUTLIER_FRAC of the values rejected.
 */
#ifndef GPSPPS_ESTIMATE_H
#define GPSPPS_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>

#define EST_OUTLIER_K 5.0
#define EST_HUBER_K 1.345         /* in units of s: 95% efficiency */
#define EST_HUBER_MIN_NEFF 100.0  /* fewer independent values: the median */
#define EST_SIGMA_FLOOR 1e-6      /* s: quantised data with MAD = 0 */
#define EST_MAX_LAG 2000          /* autocorrelation lags examined */
#define EST_DRIFT_BLOCKS 8
#define EST_MIN_SAMPLES 20
#define EST_MIN_NEFF 10.0
#define EST_LOCK_SPREAD 0.2       /* s */
#define EST_DRIFT_MIN 0.001       /* s */
#define EST_DRIFT_Z 4.5           /* standard errors */
#define EST_DRIFT_MIN_NEFF 10.0   /* independent values per quarter */
#define EST_OUTLIER_FRAC 0.05

enum est_warning {
	EST_WARN_FEW = 1u << 0,
	EST_WARN_LOCK = 1u << 1,
	EST_WARN_DRIFT = 1u << 2,
	EST_WARN_OUTLIERS = 1u << 3,
};

struct est_result {
	size_t n_total;          /* values added */
	size_t n_used;           /* values left after outlier rejection */
	size_t n_outliers;
	double t_first, t_last;  /* time of the first and last value, s */
	double median;           /* the estimate (Huber's, see above) */
	double ci_low, ci_high;  /* 95% confidence interval */
	double half_width;       /* max(median - ci_low, ci_high - median) */
	double sigma;            /* 1.4826 * MAD of the used values about
				  * their median */
	double min, max;         /* of the used values */
	double p005, p995;       /* 0.5 and 99.5 percentiles of used values */
	double outlier_limit;    /* |x - m0| above this was rejected */
	double tau;              /* integrated autocorrelation time, >= 1 */
	double n_eff;            /* n_used / tau */
	bool tau_capped;         /* correlation still positive at the last lag */
	double sample_sd;        /* median of the per-value sd, NAN if none */
	double first_q, last_q;  /* medians of the first and last quarter */
	double drift;            /* last_q - first_q */
	double drift_se;
	unsigned warnings;       /* enum est_warning bits */
};

struct est;

/* NULL on allocation failure. */
struct est *est_create(void);
void est_destroy(struct est *e);

/* Forget all values. */
void est_reset(struct est *e);

/*
 * Add one value x (seconds) observed at time t (seconds, any origin); sd
 * is the value's own standard deviation when known (sourcestats' sd
 * column), else NAN.  Returns 0, -EINVAL for a non-finite x or t, -ENOMEM.
 */
int est_add(struct est *e, double t, double x, double sd);

size_t est_count(const struct est *e);

/*
 * Compute the estimate over all values added so far.  Returns 0, -ENODATA
 * when there are none, -ENOMEM.  O(n log n + n * lags).
 */
int est_compute(const struct est *e, struct est_result *r);

/*
 * Histogram of the used values over [r->min, r->max] in nbins equal
 * bins (all in the first bin when min == max).  r must come from
 * est_compute on the same values.
 */
void est_histogram(const struct est *e, const struct est_result *r,
		   unsigned *counts, int nbins);

/* One-line description of a warning bit, for reports. */
const char *est_warning_text(enum est_warning w);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Statistics over repeated measurements: the one home of the numbers the
 * run summary, compare, gate, history and the plots print.
 *
 * The unit of replication is the cell (one boot, one workload run): every
 * function here takes one value per repetition, not the samples inside a
 * cell.  docs/analysis.md explains each choice:
 *
 *  - medians with percentile-bootstrap confidence intervals; for up to
 *    STATS_EXACT_MAX values per side the bootstrap distribution of the
 *    median is computed exactly (the B -> infinity limit, no Monte Carlo
 *    noise), above that it is drawn from a seeded xoshiro256** generator;
 *  - the ratio of two medians with the same bootstrap;
 *  - Welch's t-test on the logarithms of the values (a ratio test: a
 *    multiplicative effect becomes a shift) with the ratio of geometric
 *    means and its t interval; Holm's step-down over a family of tests;
 *  - Student t, normal distribution functions and quantiles.
 *
 * Functions returning double return NaN when the answer does not exist
 * (no values, non-positive values for a log-scale function); functions
 * returning int return -1 and set errno.
 */
#ifndef IB_STATS_H
#define IB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* largest sample size per side for which the bootstrap is computed exactly */
#define STATS_EXACT_MAX		40
/* Monte Carlo resamples above STATS_EXACT_MAX */
#define STATS_BOOT_B		4000

/* stats_median - median of @n values (@v is not modified); NaN if n == 0. */
double stats_median(const double *v, size_t n);
/*
 * stats_quantile - the @q quantile (0..1) of @n values, linear interpolation
 * between order statistics (Hyndman-Fan type 7, as R and numpy default).
 */
double stats_quantile(const double *v, size_t n, double q);
/* Arithmetic mean and sample standard deviation (n - 1); NaN when undefined. */
double stats_mean(const double *v, size_t n);
double stats_stddev(const double *v, size_t n);

/* A small, seeded, reproducible generator (xoshiro256**). */
struct stats_rng {
	uint64_t s[4];
};

void stats_rng_seed(struct stats_rng *r, uint64_t seed);
uint64_t stats_rng_next(struct stats_rng *r);
/* uniform integer in [0, n), n > 0, without modulo bias */
uint64_t stats_rng_below(struct stats_rng *r, uint64_t n);
/* uniform double in (0, 1) */
double stats_rng_uniform(struct stats_rng *r);
/* standard normal deviate (Box-Muller) */
double stats_rng_normal(struct stats_rng *r);

/**
 * struct stats_ci - a point estimate with a two-sided confidence interval
 * @est: the estimate
 * @lo: lower bound
 * @hi: upper bound
 */
struct stats_ci {
	double est;
	double lo;
	double hi;
};

/*
 * stats_median_ci - median of @n values with its percentile-bootstrap
 * interval at @level (0.95).  Exact for n <= STATS_EXACT_MAX; otherwise
 * STATS_BOOT_B resamples drawn from @seed.  For n == 1 the interval is the
 * value itself.  Returns 0, or -1 (EINVAL: n == 0, bad level; ENOMEM).
 */
int stats_median_ci(const double *v, size_t n, double level, uint64_t seed,
		    struct stats_ci *out);

/*
 * stats_ratio_ci - median(@b) / median(@a) with the percentile-bootstrap
 * interval of the ratio, @a and @b resampled independently.  Values must be
 * positive.  Exact when both sides have <= STATS_EXACT_MAX values.
 */
int stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
		   double level, uint64_t seed, struct stats_ci *out);

/*
 * stats_boot_dist - the exact bootstrap distribution of the median of @n
 * values: *@nout support points (*@xs, increasing) with probabilities
 * (*@ps, summing to 1).  Caller frees both.  n <= STATS_EXACT_MAX.
 * Exposed for the tests and for callers that combine distributions.
 */
int stats_boot_dist(const double *v, size_t n, double **xs, double **ps,
		    size_t *nout);

/*
 * stats_boot_median_mc - Monte Carlo version: @B resampled medians drawn
 * from @seed into @out (caller-allocated, @B doubles).  Used above
 * STATS_EXACT_MAX and by the tests to check the exact computation.
 */
int stats_boot_median_mc(const double *v, size_t n, size_t B, uint64_t seed,
			 double *out);

/**
 * struct stats_welch - Welch's t-test on the logarithms of two samples
 * @ratio: exp(mean(log b) - mean(log a)), the ratio of geometric means
 * @lo: lower bound of its two-sided interval at the requested level
 * @hi: upper bound
 * @t: the t statistic of mean(log b) - mean(log a)
 * @df: Welch-Satterthwaite degrees of freedom
 * @p_greater: one-sided p-value for "b is larger than a"
 * @p_less: one-sided p-value for "b is smaller than a"
 * @sd_log: pooled standard deviation of the logs (dispersion estimate)
 */
struct stats_welch {
	double ratio;
	double lo;
	double hi;
	double t;
	double df;
	double p_greater;
	double p_less;
	double sd_log;
};

/*
 * stats_welch_log - Welch's t-test of log(b) against log(a).  Needs at
 * least 2 positive values per side.  When both sides have zero variance
 * the test is decided by the means alone (p = 0 or 1, or 0.5 when equal).
 */
int stats_welch_log(const double *a, size_t na, const double *b, size_t nb,
		    double level, struct stats_welch *out);

/*
 * stats_welch_n_needed - repetitions per side needed for a one-sided
 * Welch test at @alpha to detect a ratio of @effect (1.10 for 10 %) with
 * probability @power, when the logs have standard deviation @sd_log.
 * Computed from the noncentral-t normal approximation, iterated on the
 * degrees of freedom.  Returns at least 2; SIZE_MAX if not reachable.
 */
size_t stats_welch_n_needed(double sd_log, double effect, double alpha,
			    double power);

/*
 * stats_binomial_ci - @k successes in @n trials: the proportion k / n with
 * its Wilson score interval at @level (E. B. Wilson, 1927).  Unlike the
 * normal ("Wald") interval it stays inside [0, 1] and does not shrink to a
 * point at k = 0 or k = n: 0 of 20 gives [0, 0.161].  Returns 0, or -1
 * (EINVAL: n == 0, k > n, a level outside (0, 1)).
 */
int stats_binomial_ci(size_t k, size_t n, double level, struct stats_ci *out);

/*
 * stats_holm - Holm's step-down adjustment of @n p-values in place:
 * adjusted p_(i) = max_{j<=i} min(1, (n - j + 1) p_(j)).  Comparing the
 * adjusted values with alpha controls the family-wise error rate.
 */
int stats_holm(double *p, size_t n);

/* Distribution functions. */
double stats_normal_cdf(double x);
double stats_normal_quantile(double p);
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);
/* regularized incomplete beta function I_x(a, b) */
double stats_beta_inc(double a, double b, double x);

#endif /* IB_STATS_H */

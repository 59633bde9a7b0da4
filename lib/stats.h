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
 *    means and its t interval, optionally with a between-run variance
 *    component (two separate runs); on the values themselves for metrics
 *    that can be 0;
 *  - Holm's step-down and Benjamini-Hochberg's step-up over a family;
 *  - the between-run variance of a series from A/A runs;
 *  - e-divisive means with a permutation test (change points);
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
 *         (raw scale: mean(b) / mean(a))
 * @lo: lower bound of its two-sided interval at the requested level
 * @hi: upper bound
 * @t: the t statistic of mean(log b) - mean(log a)
 * @df: Welch-Satterthwaite degrees of freedom
 * @p_greater: one-sided p-value for "b is larger than a"
 * @p_less: one-sided p-value for "b is smaller than a"
 * @sd_log: pooled standard deviation of the logs (dispersion estimate;
 *          raw scale: the pooled standard deviation relative to the mean)
 * @diff: the difference of the means on the test's scale
 * @se: its standard error, the between-run component included
 * @base: raw scale: mean(a), what @diff is relative to; 0 on logs
 * @raw: the test ran on the values, not on their logarithms
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
	double diff;
	double se;
	double base;
	bool raw;
};

/*
 * stats_welch_log - Welch's t-test of log(b) against log(a).  Needs at
 * least 2 positive values per side.  When both sides have zero variance
 * the test is decided by the means alone (p = 0 or 1, or 0.5 when equal).
 */
int stats_welch_log(const double *a, size_t na, const double *b, size_t nb,
		    double level, struct stats_welch *out);

/*
 * stats_welch_runs - Welch's test of @b against @a when the two samples
 * come from two separate runs, each run's mean carrying an offset of its
 * own with standard deviation @tau on the log scale (estimated with
 * @tau_df degrees of freedom; INFINITY when known).  The offsets add
 * 2 tau^2 to the squared standard error of the difference of log means,
 * and a term of their own to the Welch-Satterthwaite degrees of freedom.
 * @tau == 0 is stats_welch_log().
 *
 * @raw: test the values themselves (at least 2 per side, >= 0, finite),
 * for metrics that can be 0: @ratio is then mean(b) / mean(a), the
 * interval is relative to mean(a), and the offsets add
 * tau^2 (mean(a)^2 + mean(b)^2) (their first-order effect).
 * Returns -1 with EINVAL for too few values, EDOM for values the scale
 * cannot take (<= 0 on logs, < 0 raw).
 */
int stats_welch_runs(const double *a, size_t na, const double *b, size_t nb,
		     bool raw, double tau, double tau_df, double level,
		     struct stats_welch *out);

/*
 * stats_welch_bound - the one-sided bound of @w's ratio at confidence
 * @level (0.5..1): the upper bound when @upper, else the lower bound.
 * NaN when the raw-scale baseline mean is 0.
 */
double stats_welch_bound(const struct stats_welch *w, double level,
			 bool upper);

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
 * stats_welch_n_needed_runs - the same for two separate runs whose means
 * carry offsets of log-sd @tau: repetitions shrink only the within-run
 * part of the variance, so SIZE_MAX when 2 tau^2 alone hides @effect.
 */
size_t stats_welch_n_needed_runs(double sd_log, double tau, double effect,
				 double alpha, double power);

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

/*
 * stats_bh - Benjamini-Hochberg's step-up adjustment of @n p-values in
 * place: adjusted p_(i) = min_{j>=i} min(1, n p_(j) / j).  Comparing the
 * adjusted values with alpha controls the false discovery rate (the
 * expected share of false alarms among the series flagged) for
 * independent or positively dependent tests.
 */
int stats_bh(double *p, size_t n);

/*
 * stats_between_var - the variance of a run's mean offset, from @k >= 2
 * runs of one series (@v[r] the @n[r] >= 2 values of run r): the
 * variance of the run means minus the mean of their squared standard
 * errors (method of moments of the one-way random-effects model).  On
 * the log scale, or with @raw on values relative to their grand mean
 * (for series that hold zeros).  Can be negative: an estimate of a
 * variance near 0; the caller pools before clamping.  NaN when a value
 * is not usable or the grand mean is 0.
 */
double stats_between_var(const double *const *v, const size_t *n, size_t k,
			 bool raw);

/**
 * struct stats_cp - a change point found by stats_edivisive()
 * @at: index of the first value after the change
 * @p: the permutation p-value of the split when it was accepted
 * @q: its divergence statistic
 */
struct stats_cp {
	size_t at;
	double p;
	double q;
};

/*
 * stats_edivisive - change points of @x[0..@n) by hierarchical e-divisive
 * means (Matteson and James, 2014; energy distance with exponent 1).
 * Each step splits the segment whose best split has the largest
 * divergence statistic, and accepts it when a permutation test (@perms
 * random permutations within the current segments, drawn from @seed)
 * gives p = (1 + #{permuted statistic >= observed}) / (1 + @perms) <=
 * @sig; the first rejected split ends the search.  Segments are at least
 * @min_size (>= 2) long.  Fills at most @max entries of @cp in order of
 * position; returns their number, or -1 (ENOMEM, EINVAL).
 */
int stats_edivisive(const double *x, size_t n, size_t min_size, double sig,
		    size_t perms, uint64_t seed, struct stats_cp *cp,
		    size_t max);

/* Distribution functions. */
double stats_normal_cdf(double x);
double stats_normal_quantile(double p);
double stats_t_cdf(double t, double df);
double stats_t_quantile(double p, double df);
/* regularized incomplete beta function I_x(a, b) */
double stats_beta_inc(double a, double b, double x);

#endif /* IB_STATS_H */

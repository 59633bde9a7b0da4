// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics over repeated measurements (see stats.h and docs/analysis.md).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* insertion sort below this size: repetition counts are small */
#define SMALL_SORT	32

static void sort_doubles(double *s, size_t n)
{
	if (n > SMALL_SORT) {
		qsort(s, n, sizeof(*s), cmp_double);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		double x = s[i];
		size_t j = i;

		for (; j > 0 && s[j - 1] > x; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
}

static double *sorted_copy(const double *v, size_t n)
{
	double *s = malloc((n ? n : 1) * sizeof(*s));

	if (!s)
		return NULL;
	memcpy(s, v, n * sizeof(*s));
	sort_doubles(s, n);
	return s;
}

static double median_sorted(const double *s, size_t n)
{
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double stats_median(const double *v, size_t n)
{
	double *s, m;

	if (!n)
		return NAN;
	s = sorted_copy(v, n);
	if (!s)
		return NAN;
	m = median_sorted(s, n);
	free(s);
	return m;
}

double stats_quantile(const double *v, size_t n, double q)
{
	double *s, h, r;
	size_t lo;

	if (!n || !(q >= 0 && q <= 1))
		return NAN;
	s = sorted_copy(v, n);
	if (!s)
		return NAN;
	h = (n - 1) * q;
	lo = (size_t)floor(h);
	r = lo + 1 < n ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[lo];
	free(s);
	return r;
}

double stats_mean(const double *v, size_t n)
{
	double sum = 0;

	if (!n)
		return NAN;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return sum / n;
}

double stats_stddev(const double *v, size_t n)
{
	double m = stats_mean(v, n), ss = 0;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - m) * (v[i] - m);
	return sqrt(ss / (n - 1));
}

/* --- random numbers ----------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/**
 * stats_rng_seed() - seed the generator
 * @r: generator
 * @seed: any value; the state is expanded from it with splitmix64, so
 *        neighbouring seeds give unrelated streams
 */
void stats_rng_seed(struct stats_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t stats_rng_next(struct stats_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t stats_rng_below(struct stats_rng *r, uint64_t n)
{
	/* rejection of the short last interval: exact uniformity */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = stats_rng_next(r);
	while (x >= limit);
	return x % n;
}

double stats_rng_uniform(struct stats_rng *r)
{
	return ((stats_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

double stats_rng_normal(struct stats_rng *r)
{
	double u = stats_rng_uniform(r), w = stats_rng_uniform(r);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * w);
}

/* --- bootstrap ------------------------------------------------------------ */

/* P(Bin(n, p) >= k) */
static double binom_sf(size_t n, double p, size_t k)
{
	double sum = 0;

	if (p <= 0)
		return k == 0;
	if (p >= 1)
		return 1;
	for (size_t j = k; j <= n; j++)
		sum += exp(lgamma(n + 1.0) - lgamma(j + 1.0) -
			   lgamma(n - j + 1.0) + j * log(p) +
			   (n - j) * log1p(-p));
	return sum > 1 ? 1 : sum;
}

struct wpoint {
	double x;
	double p;
};

static int cmp_wpoint(const void *a, const void *b)
{
	return cmp_double(&((const struct wpoint *)a)->x,
			  &((const struct wpoint *)b)->x);
}

/* sort by value and merge equal values; returns the new count */
static size_t merge_points(struct wpoint *w, size_t n)
{
	size_t k = 0;

	if (n > SMALL_SORT) {
		qsort(w, n, sizeof(*w), cmp_wpoint);
	} else {
		for (size_t i = 1; i < n; i++) {
			struct wpoint x = w[i];
			size_t j = i;

			for (; j > 0 && w[j - 1].x > x.x; j--)
				w[j] = w[j - 1];
			w[j] = x;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (w[i].p <= 0)
			continue;
		if (k && w[k - 1].x == w[i].x)
			w[k - 1].p += w[i].p;
		else
			w[k++] = w[i];
	}
	return k;
}

/*
 * The bootstrap distribution of the median, exactly.  With the values
 * sorted, x(1) <= ... <= x(n), a resample is n uniform draws of an index;
 * let I(k) be the k-th smallest drawn index.  P(I(k) <= i) is the
 * probability that at least k draws fall in 1..i: P(Bin(n, i/n) >= k).
 * Odd n: the resampled median is x(I(m)), m = (n + 1) / 2.  Even n: it is
 * (x(I(k)) + x(I(k+1))) / 2, k = n / 2, and for i < j
 *   P(I(k) = i, I(k+1) = j) = C(n, k) (i^k - (i-1)^k) / n^k
 *                             * ((n-j+1)^(n-k) - (n-j)^(n-k)) / n^(n-k)
 * (exactly k draws in 1..i with largest i, the other n - k draws in j..n
 * with smallest j); P(I(k) = I(k+1) = i) is what is left of P(I(k) = i).
 *
 * The probabilities depend on n alone, not on the values: they are
 * computed once per n and kept (boot_weights).
 */
struct bweight {
	unsigned char i;	/* order statistics, 1-based */
	unsigned char j;
	double p;
};

static struct bweight *bw_cache[STATS_EXACT_MAX + 1];
static size_t bw_count[STATS_EXACT_MAX + 1];

static const struct bweight *boot_weights(size_t n, size_t *count)
{
	struct bweight *w;
	size_t cnt = 0;

	if (bw_cache[n]) {
		*count = bw_count[n];
		return bw_cache[n];
	}
	w = malloc((n % 2 ? n : n * (n + 1) / 2) * sizeof(*w));
	if (!w)
		return NULL;
	if (n % 2) {
		size_t m = (n + 1) / 2;

		for (size_t i = 1; i <= n; i++)
			w[cnt++] = (struct bweight){ i, i,
				binom_sf(n, (double)i / n, m) -
				binom_sf(n, (double)(i - 1) / n, m) };
	} else {
		size_t k = n / 2;
		double ck = exp(lgamma(n + 1.0) - 2 * lgamma(k + 1.0));

		for (size_t i = 1; i <= n; i++) {
			double pi = binom_sf(n, (double)i / n, k) -
				    binom_sf(n, (double)(i - 1) / n, k);
			double left = pow((double)i / n, k) -
				      pow((double)(i - 1) / n, k);

			for (size_t j = i + 1; j <= n; j++) {
				double pij = ck * left *
					(pow((double)(n - j + 1) / n, n - k) -
					 pow((double)(n - j) / n, n - k));

				w[cnt++] = (struct bweight){ i, j, pij };
				pi -= pij;
			}
			w[cnt++] = (struct bweight){ i, i, pi > 0 ? pi : 0 };
		}
	}
	bw_cache[n] = w;
	bw_count[n] = cnt;
	*count = cnt;
	return w;
}

static struct wpoint *boot_points(const double *v, size_t n, size_t *nout)
{
	const struct bweight *bw;
	struct wpoint *w;
	double *s;
	size_t cnt;

	bw = boot_weights(n, &cnt);
	s = bw ? sorted_copy(v, n) : NULL;
	w = s ? malloc(cnt * sizeof(*w)) : NULL;
	if (!w) {
		free(s);
		return NULL;
	}
	for (size_t k = 0; k < cnt; k++) {
		w[k].x = (s[bw[k].i - 1] + s[bw[k].j - 1]) / 2;
		w[k].p = bw[k].p;
	}
	free(s);
	*nout = merge_points(w, cnt);
	return w;
}

int stats_boot_dist(const double *v, size_t n, double **xs, double **ps,
		    size_t *nout)
{
	struct wpoint *w;
	size_t k;

	if (!n || n > STATS_EXACT_MAX) {
		errno = EINVAL;
		return -1;
	}
	w = boot_points(v, n, &k);
	if (!w)
		return -1;
	*xs = malloc(k * sizeof(double));
	*ps = malloc(k * sizeof(double));
	if (!*xs || !*ps) {
		free(*xs);
		free(*ps);
		free(w);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < k; i++) {
		(*xs)[i] = w[i].x;
		(*ps)[i] = w[i].p;
	}
	*nout = k;
	free(w);
	return 0;
}

/* smallest x whose cumulative probability reaches q (percentile method) */
static double wquantile(const struct wpoint *w, size_t n, double q)
{
	double cum = 0;

	for (size_t i = 0; i < n; i++) {
		cum += w[i].p;
		if (cum >= q - 1e-12)
			return w[i].x;
	}
	return w[n - 1].x;
}

int stats_boot_median_mc(const double *v, size_t n, size_t B, uint64_t seed,
			 double *out)
{
	struct stats_rng r;
	double *tmp;

	if (!n) {
		errno = EINVAL;
		return -1;
	}
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -1;
	stats_rng_seed(&r, seed);
	for (size_t b = 0; b < B; b++) {
		for (size_t i = 0; i < n; i++)
			tmp[i] = v[stats_rng_below(&r, n)];
		sort_doubles(tmp, n);
		out[b] = median_sorted(tmp, n);
	}
	free(tmp);
	return 0;
}

/* B Monte Carlo draws of @v's resampled median as equally weighted points */
static struct wpoint *mc_points(const double *v, size_t n, uint64_t seed)
{
	struct wpoint *w = malloc(STATS_BOOT_B * sizeof(*w));
	double *m = malloc(STATS_BOOT_B * sizeof(*m));

	if (!w || !m || stats_boot_median_mc(v, n, STATS_BOOT_B, seed, m)) {
		free(w);
		free(m);
		return NULL;
	}
	for (size_t b = 0; b < STATS_BOOT_B; b++) {
		w[b].x = m[b];
		w[b].p = 1.0 / STATS_BOOT_B;
	}
	free(m);
	return w;
}

static bool bad_level(double level)
{
	return !(level > 0 && level < 1);
}

int stats_median_ci(const double *v, size_t n, double level, uint64_t seed,
		    struct stats_ci *out)
{
	struct wpoint *w;
	size_t k;

	if (!n || bad_level(level)) {
		errno = EINVAL;
		return -1;
	}
	out->est = stats_median(v, n);
	if (n <= STATS_EXACT_MAX) {
		w = boot_points(v, n, &k);
	} else {
		w = mc_points(v, n, seed);
		k = w ? merge_points(w, STATS_BOOT_B) : 0;
	}
	if (!w)
		return -1;
	out->lo = wquantile(w, k, (1 - level) / 2);
	out->hi = wquantile(w, k, 1 - (1 - level) / 2);
	free(w);
	return 0;
}

int stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
		   double level, uint64_t seed, struct stats_ci *out)
{
	struct wpoint *wa, *wb, *wr = NULL;
	size_t ka, kb, kr = 0;
	int ret = -1;

	if (!na || !nb || bad_level(level)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < na; i++)
		if (!(a[i] > 0))
			goto inval;
	for (size_t i = 0; i < nb; i++)
		if (!(b[i] > 0))
			goto inval;
	out->est = stats_median(b, nb) / stats_median(a, na);
	if (na <= STATS_EXACT_MAX && nb <= STATS_EXACT_MAX) {
		wa = boot_points(a, na, &ka);
		wb = boot_points(b, nb, &kb);
		if (wa && wb)
			wr = malloc(ka * kb * sizeof(*wr));
		if (wr) {
			for (size_t i = 0; i < ka; i++)
				for (size_t j = 0; j < kb; j++) {
					wr[kr].x = wb[j].x / wa[i].x;
					wr[kr++].p = wa[i].p * wb[j].p;
				}
			kr = merge_points(wr, kr);
		}
	} else {
		/* independent streams for the two sides */
		wa = mc_points(a, na, seed);
		wb = mc_points(b, nb, seed ^ 0x5bd1e995d1b54a32ULL);
		if (wa && wb)
			wr = malloc(STATS_BOOT_B * sizeof(*wr));
		if (wr) {
			for (size_t i = 0; i < STATS_BOOT_B; i++) {
				wr[i].x = wb[i].x / wa[i].x;
				wr[i].p = 1.0 / STATS_BOOT_B;
			}
			kr = merge_points(wr, STATS_BOOT_B);
		}
	}
	if (wr) {
		out->lo = wquantile(wr, kr, (1 - level) / 2);
		out->hi = wquantile(wr, kr, 1 - (1 - level) / 2);
		ret = 0;
	}
	free(wa);
	free(wb);
	free(wr);
	return ret;
inval:
	errno = EINVAL;
	return -1;
}

/* --- distributions ---------------------------------------------------------- */

int stats_binomial_ci(size_t k, size_t n, double level, struct stats_ci *out)
{
	double z, p, z2n, denom, centre, half;

	if (!n || k > n || !(level > 0 && level < 1)) {
		errno = EINVAL;
		return -1;
	}
	z = stats_normal_quantile(1 - (1 - level) / 2);
	p = (double)k / n;
	z2n = z * z / n;
	denom = 1 + z2n;
	centre = (p + z2n / 2) / denom;
	half = z * sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / denom;
	out->est = p;
	/* exact at the ends: the rounding of centre - half must not leave [0, 1] */
	out->lo = k ? fmax(0, centre - half) : 0;
	out->hi = k < n ? fmin(1, centre + half) : 1;
	return 0;
}

double stats_normal_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

double stats_normal_quantile(double p)
{
	double q, t, x;

	if (!(p > 0 && p < 1))
		return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
	if (p > 0.5)
		return -stats_normal_quantile(1 - p);
	if (p == 0.5)
		return 0;
	q = p;
	t = sqrt(-2 * log(q));
	x = -(t - (2.30753 + 0.27061 * t) / (1 + 0.99229 * t + 0.04481 * t * t));
	for (int i = 0; i < 8; i++) {
		double step = (stats_normal_cdf(x) - q) /
			      (exp(-x * x / 2) / sqrt(2 * M_PI));

		x -= step;
		if (fabs(step) <= 1e-14 * fabs(x))
			break;
	}
	return x;
}

/*
 * Continued fraction of the incomplete beta function (DLMF 8.17.22),
 * evaluated with the modified Lentz method; converges quickly for
 * x < (a + 1) / (a + b + 2), the caller swaps otherwise.
 */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1), f;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	f = d;
	for (int m = 1; m <= 1000; m++) {
		double num, delta;

		/* even step d_{2m} */
		num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		d = 1 + num * d;
		c = 1 + num / c;
		if (fabs(d) < tiny)
			d = tiny;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		f *= c * d;
		/* odd step d_{2m+1} */
		num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + num * d;
		c = 1 + num / c;
		if (fabs(d) < tiny)
			d = tiny;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		delta = c * d;
		f *= delta;
		if (fabs(delta - 1) < 1e-15)
			break;
	}
	return f;
}

/* I_x(a, b) with y = 1 - x passed separately, so x near 1 keeps precision */
static double beta_inc2(double a, double b, double x, double y)
{
	double front;

	if (!(a > 0 && b > 0) || isnan(x) || isnan(y))
		return NAN;
	if (x <= 0)
		return 0;
	if (y <= 0)
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) +
		    b * log(y));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, y) / b;
}

double stats_beta_inc(double a, double b, double x)
{
	return beta_inc2(a, b, x, 1 - x);
}

/* upper tail P(T > t), accurate far into the tail */
static double t_sf(double t, double df)
{
	double tail;

	if (isinf(df))
		return stats_normal_cdf(-t);
	if (isinf(t))
		return t > 0 ? 0 : 1;
	tail = 0.5 * beta_inc2(df / 2, 0.5, df / (df + t * t),
			       t * t / (df + t * t));
	return t > 0 ? tail : 1 - tail;
}

double stats_t_cdf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	return t_sf(-t, df);
}

static double t_pdf(double t, double df)
{
	return exp(lgamma((df + 1) / 2) - lgamma(df / 2) -
		   (df + 1) / 2 * log1p(t * t / df)) / sqrt(df * M_PI);
}

/*
 * Newton's method on the upper tail, from the Cornish-Fisher expansion of
 * t in the normal quantile (exact closed forms for 1 and 2 degrees of
 * freedom); bisection if Newton ever leaves its bracket.
 */
double stats_t_quantile(double p, double df)
{
	double q, z, x, lo = 0, hi = INFINITY;

	if (!(p > 0 && p < 1) || !(df > 0))
		return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
	if (p < 0.5)
		return -stats_t_quantile(1 - p, df);
	if (p == 0.5)
		return 0;
	q = 1 - p;
	if (df == 1)
		return tan(M_PI * (p - 0.5));
	if (df == 2)
		return (2 * p - 1) / sqrt(2 * p * q);
	z = stats_normal_quantile(p);
	x = z + (z * z * z + z) / (4 * df) +
	    (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * df * df);
	for (int i = 0; i < 60; i++) {
		double r = t_sf(x, df) - q, step;

		if (r > 0)
			lo = x;		/* tail too heavy: x too small */
		else
			hi = x;
		step = r / t_pdf(x, df);
		if (fabs(step) <= 1e-13 * fabs(x))
			return x + step;
		x += step;
		if (!(x > lo && x < hi))
			x = isinf(hi) ? 2 * lo + 1 : (lo + hi) / 2;
	}
	return x;
}

/* --- Welch's t-test on logs ------------------------------------------------ */

/* mean and variance of @n values, or of their logs; -1 if one cannot be used */
static int moments(const double *v, size_t n, bool raw, double *mean,
		   double *var)
{
	double m = 0, ss = 0;

	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]) || isinf(v[i]) || (raw ? v[i] < 0 : !(v[i] > 0)))
			return -1;
		m += raw ? v[i] : log(v[i]);
	}
	m /= n;
	for (size_t i = 0; i < n; i++) {
		double d = (raw ? v[i] : log(v[i])) - m;

		ss += d * d;
	}
	*mean = m;
	*var = ss / (n - 1);
	return 0;
}

/* the ratio of @w at @diff + @q standard errors */
static double ratio_at(const struct stats_welch *w, double q)
{
	double d = w->se > 0 ? w->diff + q * w->se : w->diff;

	if (!w->raw)
		return exp(d);
	return w->base > 0 ? (w->base + d) / w->base :
	       d > 0 ? INFINITY : d < 0 ? -INFINITY : NAN;
}

int stats_welch_runs(const double *a, size_t na, const double *b, size_t nb,
		     bool raw, double tau, double tau_df, double level,
		     struct stats_welch *out)
{
	double ma, va, mb, vb, sa, sb, se2, sr = 0, d, q, den;

	if (na < 2 || nb < 2 || bad_level(level) || !(tau >= 0) ||
	    !(tau_df > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (moments(a, na, raw, &ma, &va) || moments(b, nb, raw, &mb, &vb)) {
		errno = EDOM;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->raw = raw;
	out->base = raw ? ma : 0;
	sa = va / na;
	sb = vb / nb;
	if (tau > 0)
		sr = raw ? tau * tau * (ma * ma + mb * mb) : 2 * tau * tau;
	se2 = sa + sb + sr;
	d = mb - ma;
	out->diff = d;
	out->se = sqrt(se2);
	out->ratio = raw ? (ma > 0 ? mb / ma : mb > 0 ? INFINITY : NAN) : exp(d);
	out->sd_log = sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2));
	if (raw)
		out->sd_log = ma > 0 ? out->sd_log / ma :
			      mb > 0 ? out->sd_log / mb : 0;
	if (se2 == 0) {
		out->t = d > 0 ? INFINITY : d < 0 ? -INFINITY : 0;
		out->df = na + nb - 2;
		out->lo = out->hi = out->ratio;
		out->p_greater = d > 0 ? 0 : d < 0 ? 1 : 0.5;
		out->p_less = d < 0 ? 0 : d > 0 ? 1 : 0.5;
		return 0;
	}
	out->t = d / out->se;
	den = sa * sa / (na - 1) + sb * sb / (nb - 1);
	if (sr > 0 && !isinf(tau_df))
		den += sr * sr / tau_df;
	/* only known variance: the normal distribution */
	out->df = den > 0 ? se2 * se2 / den : INFINITY;
	q = stats_t_quantile(1 - (1 - level) / 2, out->df);
	out->lo = ratio_at(out, -q);
	out->hi = ratio_at(out, q);
	out->p_greater = t_sf(out->t, out->df);
	out->p_less = t_sf(-out->t, out->df);
	return 0;
}

int stats_welch_log(const double *a, size_t na, const double *b, size_t nb,
		    double level, struct stats_welch *out)
{
	if (stats_welch_runs(a, na, b, nb, false, 0, INFINITY, level, out)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

double stats_welch_bound(const struct stats_welch *w, double level,
			 bool upper)
{
	double q;

	if (!(level >= 0.5 && level < 1))
		return NAN;
	q = isinf(w->df) ? stats_normal_quantile(level) :
			   stats_t_quantile(level, w->df);
	return ratio_at(w, upper ? q : -q);
}

/* t quantiles at integer degrees of freedom, remembered per probability */
static double t_quantile_int(double p, unsigned int df)
{
	static struct {
		double p;
		unsigned int df;
		double x;
	} memo[512];
	unsigned int h = (df * 2654435761u) ^ (unsigned int)(p * 1e9);

	h %= ARRAY_SIZE(memo);
	if (memo[h].p != p || memo[h].df != df) {
		memo[h].p = p;
		memo[h].df = df;
		memo[h].x = stats_t_quantile(p, df);
	}
	return memo[h].x;
}

size_t stats_welch_n_needed_runs(double sd_log, double tau, double effect,
				 double alpha, double power)
{
	double delta = fabs(log(effect)), n, prev = -1, room;

	if (!(delta > 0) || !(sd_log >= 0) || !(tau >= 0) ||
	    !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1))
		return SIZE_MAX;
	if (sd_log == 0 && tau == 0)
		return 2;
	/*
	 * Detectable when (z_alpha + z_power) se <= delta, se^2 =
	 * 2 sd^2 / n + 2 tau^2: n = 2 sd^2 / ((delta / z)^2 - 2 tau^2).
	 */
	room = delta / (stats_normal_quantile(1 - alpha) +
			stats_normal_quantile(power));
	room = room * room - 2 * tau * tau;
	if (!(room > 0))
		return SIZE_MAX;
	n = 2 * sd_log * sd_log / room;
	for (int i = 0; i < 20 && n < 1e9 && ceil(n) != prev; i++) {
		unsigned int df = 2 * (ceil(n) < 2 ? 2 : ceil(n)) - 2;
		double z = t_quantile_int(1 - alpha, df) +
			   t_quantile_int(power, df);

		prev = ceil(n);
		room = delta / z;
		room = room * room - 2 * tau * tau;
		if (!(room > 0))
			return SIZE_MAX;
		n = 2 * sd_log * sd_log / room;
	}
	if (!(n < 1e9))
		return SIZE_MAX;
	return n < 2 ? 2 : (size_t)ceil(n);
}

size_t stats_welch_n_needed(double sd_log, double effect, double alpha,
			    double power)
{
	return stats_welch_n_needed_runs(sd_log, 0, effect, alpha, power);
}

struct pidx {
	double p;
	size_t i;
};

static int cmp_pidx(const void *a, const void *b)
{
	return cmp_double(&((const struct pidx *)a)->p,
			  &((const struct pidx *)b)->p);
}

/* @p's indices in order of p (NaN counted as 1); NULL when out of memory */
static struct pidx *sort_p(const double *p, size_t n)
{
	struct pidx *s = malloc(n * sizeof(*s));

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[i].p = isnan(p[i]) ? 1 : p[i];
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), cmp_pidx);
	return s;
}

int stats_holm(double *p, size_t n)
{
	struct pidx *s;
	double run = 0;

	if (!n)
		return 0;
	s = sort_p(p, n);
	if (!s)
		return -1;
	for (size_t k = 0; k < n; k++) {
		double adj = (n - k) * s[k].p;

		if (adj > 1)
			adj = 1;
		if (adj > run)
			run = adj;
		p[s[k].i] = run;
	}
	free(s);
	return 0;
}

int stats_bh(double *p, size_t n)
{
	struct pidx *s;
	double run = 1;

	if (!n)
		return 0;
	s = sort_p(p, n);
	if (!s)
		return -1;
	/* from the largest p down: the running minimum of n p_(k) / k */
	for (size_t k = n; k-- > 0;) {
		double adj = s[k].p * n / (k + 1);

		if (adj < run)
			run = adj;
		p[s[k].i] = run;
	}
	free(s);
	return 0;
}

/* --- between-run variance ------------------------------------------------------ */

double stats_between_var(const double *const *v, const size_t *n, size_t k,
			 bool raw)
{
	double grand = 0, mm = 0, ms = 0, se2 = 0, scale = 1;
	double *mean;
	size_t total = 0;

	if (k < 2)
		return NAN;
	if (raw) {
		for (size_t r = 0; r < k; r++)
			for (size_t i = 0; i < n[r]; i++) {
				grand += v[r][i];
				total++;
			}
		if (!(grand > 0))
			return NAN;
		scale = total / grand;
	}
	mean = malloc(k * sizeof(*mean));
	if (!mean)
		return NAN;
	for (size_t r = 0; r < k; r++) {
		double m, var;

		if (n[r] < 2 || moments(v[r], n[r], raw, &m, &var)) {
			free(mean);
			return NAN;
		}
		mean[r] = m * scale;
		se2 += var * scale * scale / n[r];
		mm += mean[r];
	}
	mm /= k;
	for (size_t r = 0; r < k; r++)
		ms += (mean[r] - mm) * (mean[r] - mm);
	free(mean);
	return ms / (k - 1) - se2 / k;
}

/* --- e-divisive means ------------------------------------------------------------ */

/*
 * The best split of x[s..e) into x[s..t) and x[t..e), both at least @min
 * long: the t maximising the scaled energy divergence
 *   Q = m k / (m + k) * (2/(m k) sum |x_i - y_j|
 *                        - 2/(m (m-1)) sum_{i<i'} |x_i - x_i'|
 *                        - 2/(k (k-1)) sum_{j<j'} |y_j - y_j'|)
 * (m = t - s, k = e - t).  The within sums of every prefix and suffix
 * are built incrementally in @wl and @wr (e - s + 1 each): O((e - s)^2).
 */
static double best_split(const double *x, size_t s, size_t e, size_t min,
			 double *wl, double *wr, size_t *at)
{
	size_t len = e - s;
	double best = -INFINITY;

	*at = 0;
	if (len < 2 * min)
		return -INFINITY;
	wl[0] = 0;
	for (size_t t = 1; t <= len; t++) {
		double add = 0;

		for (size_t i = 0; i + 1 < t; i++)
			add += fabs(x[s + i] - x[s + t - 1]);
		wl[t] = wl[t - 1] + add;
	}
	wr[len] = 0;
	for (size_t t = len; t-- > 0;) {
		double add = 0;

		for (size_t j = t + 1; j < len; j++)
			add += fabs(x[s + t] - x[s + j]);
		wr[t] = wr[t + 1] + add;
	}
	for (size_t t = min; t + min <= len; t++) {
		double m = t, k = len - t;
		double between = wl[len] - wl[t] - wr[t];
		double q = m * k / (m + k) *
			   (2 * between / (m * k) - 2 * wl[t] / (m * (m - 1)) -
			    2 * wr[t] / (k * (k - 1)));

		if (q > best) {
			best = q;
			*at = s + t;
		}
	}
	return best;
}

/* the best split over all segments between @bound[0..nb) */
static double best_of_segments(const double *x, const size_t *bound,
			       size_t nb, size_t min, double *wl, double *wr,
			       size_t *at)
{
	double best = -INFINITY;

	*at = 0;
	for (size_t i = 0; i + 1 < nb; i++) {
		size_t t;
		double q = best_split(x, bound[i], bound[i + 1], min, wl, wr, &t);

		if (q > best) {
			best = q;
			*at = t;
		}
	}
	return best;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static int cmp_cp(const void *a, const void *b)
{
	return cmp_size(&((const struct stats_cp *)a)->at,
			&((const struct stats_cp *)b)->at);
}

int stats_edivisive(const double *x, size_t n, size_t min_size, double sig,
		    size_t perms, uint64_t seed, struct stats_cp *cp,
		    size_t max)
{
	double *wl = NULL, *wr = NULL, *y = NULL;
	size_t *bound = NULL, nb = 2, found = 0;
	struct stats_rng r;
	int ret = -1;

	if (min_size < 2 || !(sig > 0 && sig < 1) || !perms) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (isnan(x[i]) || isinf(x[i])) {
			errno = EINVAL;
			return -1;
		}
	wl = malloc((n + 1) * sizeof(*wl));
	wr = malloc((n + 1) * sizeof(*wr));
	y = malloc((n + 1) * sizeof(*y));
	bound = malloc((n + 2) * sizeof(*bound));
	if (!wl || !wr || !y || !bound) {
		errno = ENOMEM;
		goto out;
	}
	stats_rng_seed(&r, seed);
	bound[0] = 0;
	bound[1] = n;
	while (found < max) {
		size_t at, t, hits = 0, done = 0;
		double q = best_of_segments(x, bound, nb, min_size, wl, wr, &at);
		double p;

		if (!(q > -INFINITY))
			break;
		/*
		 * Permute within each segment; stop early once the split
		 * cannot reach @sig any more.
		 */
		for (; done < perms && (hits + 1.0) / (perms + 1) <= sig; done++) {
			memcpy(y, x, n * sizeof(*y));
			for (size_t i = 0; i + 1 < nb; i++)
				for (size_t j = bound[i + 1] - bound[i]; j > 1; j--) {
					size_t k = bound[i] + stats_rng_below(&r, j);
					double tmp = y[bound[i] + j - 1];

					y[bound[i] + j - 1] = y[k];
					y[k] = tmp;
				}
			if (best_of_segments(y, bound, nb, min_size, wl, wr, &t) >=
			    q - 1e-12 * fabs(q))
				hits++;
		}
		p = (hits + 1.0) / (perms + 1);
		if (done < perms || p > sig)
			break;
		cp[found++] = (struct stats_cp){ .at = at, .p = p, .q = q };
		bound[nb++] = at;
		qsort(bound, nb, sizeof(*bound), cmp_size);
	}
	qsort(cp, found, sizeof(*cp), cmp_cp);
	ret = found;
out:
	free(wl);
	free(wr);
	free(y);
	free(bound);
	return ret;
}

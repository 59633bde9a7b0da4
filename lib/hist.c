// SPDX-License-Identifier: GPL-2.0
/*
 * hist.c - user-space latency histogram on the shared bucket layout
 *
 * See hist.h for the model and the percentile error bound.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "hist.h"
#include "json.h"
#include "util.h"

typedef unsigned __int128 u128;

#define U128_MAX	(~(u128)0)

/**
 * hist_init() - make a histogram empty
 * @h: histogram
 */
void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/**
 * hist_record() - count one value
 * @h: histogram
 * @ns: value in nanoseconds
 */
void hist_record(struct hist *h, uint64_t ns)
{
	h->count++;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->sum += ns;
	h->sum_sq += (u128)ns * ns;
	h->buckets[ibh_bucket(ns)]++;
}

/**
 * hist_merge() - add all values of one histogram to another
 * @dst: histogram that receives the values
 * @src: histogram whose values are added (may be @dst)
 *
 * The result is identical, field for field, to recording the values of both
 * histograms into one.
 *
 * Return: 0, or -1 with errno = EINVAL if an argument is NULL.
 */
int hist_merge(struct hist *dst, const struct hist *src)
{
	uint64_t count, min, max;
	u128 sum, sum_sq;
	size_t i;

	if (!dst || !src) {
		errno = EINVAL;
		return -1;
	}
	count = src->count;
	min = src->min;
	max = src->max;
	sum = src->sum;
	sum_sq = src->sum_sq;
	for (i = 0; i < IBH_NR_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += count;
	if (min < dst->min)
		dst->min = min;
	if (max > dst->max)
		dst->max = max;
	dst->sum += sum;
	dst->sum_sq += sum_sq;
	return 0;
}

/**
 * hist_load() - fill a histogram from exported raw counts
 * @h: histogram to overwrite
 * @buckets: counts per bucket in the raw export format (__u64, as the
 *	dmabench module and the BPF maps hold them)
 * @nr_buckets: number of entries in @buckets, must be IBH_NR_BUCKETS
 * @count: number of values
 * @min: smallest value (ignored when @count is 0)
 * @max: largest value (ignored when @count is 0)
 * @sum: exact sum of the values
 * @sum_sq_lo: low 64 bits of the exact sum of squares
 * @sum_sq_hi: high 64 bits of the exact sum of squares
 *
 * The arguments are checked for consistency: the bucket counts must add up
 * to @count and @min / @max must fall in the first / last non-empty bucket.
 *
 * Return: 0, or -1 with errno = EINVAL (then @h is left empty).
 */
int hist_load(struct hist *h, const __u64 *buckets, size_t nr_buckets,
	      uint64_t count, uint64_t min, uint64_t max, uint64_t sum,
	      uint64_t sum_sq_lo, uint64_t sum_sq_hi)
{
	uint64_t total = 0;
	size_t i, first = IBH_NR_BUCKETS, last = 0;

	hist_init(h);
	if (!buckets || nr_buckets != IBH_NR_BUCKETS)
		goto invalid;
	for (i = 0; i < nr_buckets; i++) {
		if (!buckets[i])
			continue;
		if (total + buckets[i] < total)
			goto invalid;
		total += buckets[i];
		if (first == IBH_NR_BUCKETS)
			first = i;
		last = i;
	}
	if (total != count)
		goto invalid;
	if (count) {
		if (min > max || ibh_bucket(min) != first ||
		    ibh_bucket(max) != last)
			goto invalid;
		h->min = min;
		h->max = max;
	} else if (sum || sum_sq_lo || sum_sq_hi) {
		goto invalid;
	}
	for (i = 0; i < IBH_NR_BUCKETS; i++)
		h->buckets[i] = buckets[i];
	h->count = count;
	h->sum = sum;
	h->sum_sq = ((u128)sum_sq_hi << 64) | sum_sq_lo;
	return 0;

invalid:
	hist_init(h);
	errno = EINVAL;
	return -1;
}

/**
 * hist_count() - number of recorded values
 * @h: histogram
 *
 * Return: the count.
 */
uint64_t hist_count(const struct hist *h)
{
	return h->count;
}

/**
 * hist_min() - smallest recorded value
 * @h: histogram
 *
 * Return: the minimum in ns, 0 if @h is empty.
 */
uint64_t hist_min(const struct hist *h)
{
	return h->count ? h->min : 0;
}

/**
 * hist_max() - largest recorded value
 * @h: histogram
 *
 * Return: the maximum in ns, 0 if @h is empty.
 */
uint64_t hist_max(const struct hist *h)
{
	return h->max;
}

/**
 * hist_mean() - exact arithmetic mean
 * @h: histogram
 *
 * Return: the mean in ns, or NaN with errno = ENODATA if @h is empty.
 */
double hist_mean(const struct hist *h)
{
	if (!h->count) {
		errno = ENODATA;
		return NAN;
	}
	return (double)((long double)h->sum / h->count);
}

/**
 * hist_stddev() - sample standard deviation
 * @h: histogram
 *
 * Computed from the exact sums as sqrt((n * sum_sq - sum^2) / (n * (n - 1)));
 * the numerator is evaluated in exact 128-bit arithmetic whenever it fits
 * (no cancellation), otherwise in long double.
 *
 * Return: the standard deviation in ns (0 for a single value), or NaN with
 * errno = ENODATA if @h is empty.
 */
double hist_stddev(const struct hist *h)
{
	long double n = h->count, num;

	if (!h->count) {
		errno = ENODATA;
		return NAN;
	}
	if (h->count == 1)
		return 0.0;
	if (h->sum <= UINT64_MAX && h->sum_sq <= U128_MAX / h->count) {
		u128 a = h->sum_sq * h->count, b = h->sum * h->sum;

		num = a > b ? (long double)(a - b) : 0.0L;
	} else {
		long double s = (long double)h->sum;

		num = n * (long double)h->sum_sq - s * s;
		if (num < 0)
			num = 0;
	}
	return (double)sqrtl(num / (n * (n - 1)));
}

/* nearest rank (1-based) of percentile @pct among @n values */
static uint64_t hist_rank(double pct, uint64_t n)
{
	long double x = (long double)pct * n / 100.0L;
	uint64_t r;

	/* forgive rounding: 99.9% of 1000 is rank 999, not 1000 */
	r = (uint64_t)ceill(x - x * 1e-12L);
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return r;
}

/*
 * The values bucket @i of @h can hold, [*@lo, *@hi], clamped to the
 * recorded minimum and maximum (the last bucket is open-ended).
 */
static void bucket_span(const struct hist *h, uint32_t i, uint64_t *lo,
			uint64_t *hi)
{
	*lo = ibh_lower(i);
	*hi = i == IBH_NR_BUCKETS - 1 ? h->max : ibh_upper(i) - 1;
	if (*lo < h->min)
		*lo = h->min;
	if (*hi > h->max)
		*hi = h->max;
}

/**
 * hist_percentile() - estimate a percentile
 * @h: histogram
 * @pct: percentile in [0, 100], e.g. 99.9
 *
 * The true percentile is the nearest-rank one: the value of rank
 * ceil(@pct / 100 * count) (at least 1) among the sorted values.  The bucket
 * holding that rank is found exactly; inside it, the estimate moves linearly
 * from the bucket's smallest to its largest integer value as the rank goes
 * through the bucket's count, and is clamped to [min, max].  The estimate is
 * thus in the true value's bucket: exact below 64 ns, else off by less than
 * 1/32 of the true value.
 *
 * Return: the estimate in ns, or NaN with errno = EINVAL (bad @pct) or
 * ENODATA (@h empty).
 */
double hist_percentile(const struct hist *h, double pct)
{
	uint64_t rank, below = 0;
	uint32_t i;

	if (!(pct >= 0.0 && pct <= 100.0)) {
		errno = EINVAL;
		return NAN;
	}
	if (!h->count) {
		errno = ENODATA;
		return NAN;
	}
	rank = hist_rank(pct, h->count);
	for (i = 0; i < IBH_NR_BUCKETS; i++) {
		uint64_t c = h->buckets[i], lo, hi;

		if (below + c < rank) {
			below += c;
			continue;
		}
		bucket_span(h, i, &lo, &hi);
		if (hi <= lo)
			return (double)lo;
		return (double)lo + (double)(hi - lo) *
			((double)(rank - below) - 0.5) / (double)c;
	}
	/* unreachable if the bucket counts add up to count */
	return (double)h->max;
}

double hist_fraction_above(const struct hist *h, double x)
{
	double above = 0;
	uint32_t i;

	if (!h->count) {
		errno = ENODATA;
		return NAN;
	}
	if (x < (double)h->min)
		return 1;
	if (x >= (double)h->max)
		return 0;
	for (i = 0; i < IBH_NR_BUCKETS; i++) {
		uint64_t c = h->buckets[i], lo, hi;

		if (!c)
			continue;
		bucket_span(h, i, &lo, &hi);
		if ((double)lo > x)
			above += c;
		else if ((double)hi > x)
			above += c * ((double)hi - x) / (double)(hi - lo);
	}
	return above / h->count;
}

int hist_fraction_above_bounds(const struct hist *h, double x, double *lo,
			       double *hi)
{
	uint32_t i_min, i_max, i;
	uint64_t sure = 0, maybe = 0;

	if (!h->count) {
		errno = ENODATA;
		return -1;
	}
	if (x < (double)h->min || x >= (double)h->max) {
		*lo = *hi = x < (double)h->min;
		return 0;
	}
	i_min = ibh_bucket(h->min);
	i_max = ibh_bucket(h->max);
	for (i = 0; i < IBH_NR_BUCKETS; i++) {
		uint64_t c = h->buckets[i], blo, bhi;

		if (!c)
			continue;
		bucket_span(h, i, &blo, &bhi);
		if ((double)blo > x) {
			sure += c;
			continue;
		}
		if ((double)bhi <= x)
			continue;
		/*
		 * min <= x < max: they are two values, on either side of @x.
		 * c > 0 here; after max's value is taken it may be 0 where a
		 * histogram's counts do not add up, and must not wrap.
		 */
		if (i == i_max) {
			sure++;
			c--;
		}
		if (i == i_min && c)
			c--;
		maybe += c;
	}
	*lo = (double)sure / h->count;
	*hi = (double)(sure + maybe) / h->count;
	return 0;
}

/* the columns after the label: name and width */
static const struct {
	const char *name;
	int width;
} table_cols[] = {
	{ "count", 10 }, { "ops/s", 7 }, { "min", 8 }, { "p50", 8 },
	{ "p90", 8 }, { "p99", 8 }, { "p99.9", 8 }, { "max", 8 },
	{ "mean", 8 }, { "stddev", 8 },
};

void hist_print_header(FILE *f, int label_width, const char *label)
{
	fput_cell(f, label, -label_width);
	for (size_t i = 0; i < ARRAY_SIZE(table_cols); i++) {
		fputc(' ', f);
		fput_cell(f, table_cols[i].name, table_cols[i].width);
	}
	fputc('\n', f);
}

void hist_print_row(FILE *f, int label_width, const char *label,
		    const struct hist *h, uint64_t elapsed_ns)
{
	uint64_t n = hist_count(h);
	double v[ARRAY_SIZE(table_cols)] = {
		n, n && elapsed_ns ? n * 1e9 / elapsed_ns : NAN,
		n ? (double)hist_min(h) : NAN, hist_percentile(h, 50),
		hist_percentile(h, 90), hist_percentile(h, 99),
		hist_percentile(h, 99.9), n ? (double)hist_max(h) : NAN,
		hist_mean(h), hist_stddev(h),
	};
	char buf[32];

	fput_cell(f, label, -label_width);
	for (size_t i = 0; i < ARRAY_SIZE(table_cols); i++) {
		if (i == 0)
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
		else
			fmt_unit(buf, sizeof(buf), v[i], i == 1 ? NULL : "ns");
		fputc(' ', f);
		fput_cell(f, buf, table_cols[i].width);
	}
	fputc('\n', f);
}

/* add a number, or null for NaN (an empty histogram) */
static int json_add_double(struct json_object *obj, const char *key,
			   double v)
{
	if (isnan(v))
		return json_add_or_null(obj, key, NULL);
	return json_add(obj, key, json_object_new_double(v));
}

/**
 * hist_to_json() - serialize a histogram
 * @h: histogram
 *
 * Schema (all values in ns)::
 *
 *   {"unit": "ns", "count": N, "min": N, "max": N, "mean": X,
 *    "stddev": X, "p50": X, "p90": X, "p99": X, "p999": X,
 *    "buckets": [[lower_ns, count], ...]}
 *
 * count, min, max and the bucket pairs are integers; mean, stddev and the
 * percentiles are numbers.  Only non-empty buckets are listed, in increasing
 * order; lower_ns is the bucket's inclusive lower bound.  For an empty
 * histogram min, max, mean, stddev and the percentiles are null.
 *
 * Return: a new object owned by the caller, or NULL with errno set.
 */
struct json_object *hist_to_json(const struct hist *h)
{
	static const struct {
		const char *key;
		double pct;
	} pcts[] = {
		{ "p50", 50.0 }, { "p90", 90.0 }, { "p99", 99.0 },
		{ "p999", 99.9 },
	};
	struct json_object *obj, *arr;
	size_t i;
	int err;

	obj = json_object_new_object();
	if (!obj)
		goto nomem;
	err = json_add(obj, "unit", json_object_new_string("ns"));
	err = err ?: json_add(obj, "count", json_object_new_uint64(h->count));
	if (h->count) {
		err = err ?: json_add(obj, "min",
				      json_object_new_uint64(h->min));
		err = err ?: json_add(obj, "max",
				      json_object_new_uint64(h->max));
	} else {
		err = err ?: json_add_double(obj, "min", NAN);
		err = err ?: json_add_double(obj, "max", NAN);
	}
	err = err ?: json_add_double(obj, "mean", hist_mean(h));
	err = err ?: json_add_double(obj, "stddev", hist_stddev(h));
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		err = err ?: json_add_double(obj, pcts[i].key,
					     hist_percentile(h, pcts[i].pct));
	if (err)
		goto err_put_obj;

	arr = json_object_new_array();
	if (!arr || json_add(obj, "buckets", arr))
		goto err_put_obj;
	for (i = 0; i < IBH_NR_BUCKETS; i++) {
		struct json_object *pair, *lower, *count;

		if (!h->buckets[i])
			continue;
		pair = json_object_new_array_ext(2);
		if (!pair || json_object_array_add(arr, pair)) {
			json_object_put(pair);
			goto err_put_obj;
		}
		lower = json_object_new_uint64(ibh_lower(i));
		if (!lower || json_object_array_add(pair, lower)) {
			json_object_put(lower);
			goto err_put_obj;
		}
		count = json_object_new_uint64(h->buckets[i]);
		if (!count || json_object_array_add(pair, count)) {
			json_object_put(count);
			goto err_put_obj;
		}
	}
	return obj;

err_put_obj:
	json_object_put(obj);
nomem:
	errno = ENOMEM;
	return NULL;
}

static int json_get_u64(struct json_object *obj, const char *key,
			uint64_t *out)
{
	struct json_object *val;

	if (!json_object_object_get_ex(obj, key, &val) ||
	    !json_object_is_type(val, json_type_int))
		return -1;
	errno = 0;
	*out = json_object_get_uint64(val);
	if (errno)
		return -1;
	/* json-c clamps negative numbers to 0 */
	if (!*out && json_object_get_int64(val) < 0)
		return -1;
	return 0;
}

static int json_get_number(struct json_object *obj, const char *key,
			   double *out)
{
	struct json_object *val;

	if (!json_object_object_get_ex(obj, key, &val))
		return -1;
	if (!json_object_is_type(val, json_type_double) &&
	    !json_object_is_type(val, json_type_int))
		return -1;
	*out = json_object_get_double(val);
	return isfinite(*out) ? 0 : -1;
}

/**
 * hist_from_json() - rebuild a histogram written by hist_to_json()
 * @h: histogram to overwrite
 * @obj: object in the hist_to_json() schema
 *
 * count, min, max and the buckets are restored exactly.  The exact sums are
 * not part of the schema; they are rebuilt from mean and stddev, so mean and
 * stddev of the result equal the stored ones to double precision and merging
 * such histograms stays meaningful.  The percentile fields are ignored (they
 * follow from the buckets).
 *
 * Return: 0, or -1 with errno = EINVAL (malformed or inconsistent input;
 * @h is then left empty).
 */
int hist_from_json(struct hist *h, struct json_object *obj)
{
	struct json_object *val, *arr;
	uint64_t count, total = 0;
	double mean, stddev;
	long double sum, sum_sq, n;
	size_t i, len;
	int first = -1, prev = -1;

	hist_init(h);
	if (!obj || !json_object_is_type(obj, json_type_object))
		goto invalid;
	if (!json_object_object_get_ex(obj, "unit", &val) ||
	    !json_object_is_type(val, json_type_string) ||
	    strcmp(json_object_get_string(val), "ns"))
		goto invalid;
	if (json_get_u64(obj, "count", &count))
		goto invalid;
	if (!json_object_object_get_ex(obj, "buckets", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto invalid;
	len = json_object_array_length(arr);
	for (i = 0; i < len; i++) {
		struct json_object *pair = json_object_array_get_idx(arr, i);
		struct json_object *lo, *c;
		uint64_t lower, n_in;
		uint32_t idx;

		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) != 2)
			goto invalid;
		lo = json_object_array_get_idx(pair, 0);
		c = json_object_array_get_idx(pair, 1);
		if (!json_object_is_type(lo, json_type_int) ||
		    !json_object_is_type(c, json_type_int) ||
		    json_object_get_int64(lo) < 0 ||
		    json_object_get_int64(c) < 0)
			goto invalid;
		lower = json_object_get_uint64(lo);
		n_in = json_object_get_uint64(c);
		idx = ibh_bucket(lower);
		if (ibh_lower(idx) != lower || (int)idx <= prev || !n_in ||
		    total + n_in < total)
			goto invalid;
		if (first < 0)
			first = (int)idx;
		prev = (int)idx;
		h->buckets[idx] = n_in;
		total += n_in;
	}
	if (total != count)
		goto invalid;
	if (!count)
		return 0;

	if (json_get_u64(obj, "min", &h->min) ||
	    json_get_u64(obj, "max", &h->max) ||
	    json_get_number(obj, "mean", &mean) ||
	    json_get_number(obj, "stddev", &stddev))
		goto invalid;
	if (h->min > h->max || ibh_bucket(h->min) != (uint32_t)first ||
	    ibh_bucket(h->max) != (uint32_t)prev || stddev < 0)
		goto invalid;
	h->count = count;
	n = count;
	sum = roundl((long double)mean * n);
	sum_sq = (long double)stddev * stddev * (n - 1) + sum * sum / n;
	if (sum < 0 || sum_sq < 0)
		goto invalid;
	h->sum = (u128)sum;
	h->sum_sq = (u128)roundl(sum_sq);
	return 0;

invalid:
	hist_init(h);
	errno = EINVAL;
	return -1;
}

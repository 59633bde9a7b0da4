/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - user-space latency histogram on the shared bucket layout
 *
 * A struct hist counts nanosecond values in the log-linear buckets of
 * <iommubench/hist-bucket.h> and keeps, next to the buckets, the exact count,
 * minimum, maximum, sum and sum of squares (128-bit), so that mean and
 * standard deviation are exact and merging two histograms gives bit for bit
 * what recording all values into one would have given.
 *
 * Percentiles come from the buckets: the bucket holding the wanted rank is
 * found exactly, the value inside it is interpolated linearly and clamped to
 * [min, max].  The result lies in the same bucket as the true (nearest-rank)
 * percentile, so it is off by at most that bucket's width minus one: 0 for
 * values below 64 ns, and at most 1/32 (3.125%) of the true value above.
 *
 * Functions that can fail return -1 and set errno; functions returning a
 * double return NaN (errno = ENODATA) for an empty histogram.  The struct is
 * about 10 KiB; its fields are exposed for allocation only, use the
 * functions to read them.
 */
#ifndef IOMMUBENCH_LIB_HIST_H
#define IOMMUBENCH_LIB_HIST_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <iommubench/hist-bucket.h>

struct json_object;

/**
 * struct hist - a latency histogram
 * @count: number of recorded values
 * @min: smallest value (UINT64_MAX while empty)
 * @max: largest value (0 while empty)
 * @sum: exact sum of the values
 * @sum_sq: exact sum of the squared values
 * @buckets: counts per bucket of <iommubench/hist-bucket.h>
 */
struct hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	unsigned __int128 sum;
	unsigned __int128 sum_sq;
	uint64_t buckets[IBH_NR_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t ns);
int hist_merge(struct hist *dst, const struct hist *src);
int hist_load(struct hist *h, const __u64 *buckets, size_t nr_buckets,
	      uint64_t count, uint64_t min, uint64_t max, uint64_t sum,
	      uint64_t sum_sq_lo, uint64_t sum_sq_hi);

uint64_t hist_count(const struct hist *h);
uint64_t hist_min(const struct hist *h);
uint64_t hist_max(const struct hist *h);
double hist_mean(const struct hist *h);
double hist_stddev(const struct hist *h);
double hist_percentile(const struct hist *h, double pct);
/*
 * hist_fraction_above - the fraction of the values greater than @x: exact
 * for the buckets wholly above or below @x, and in the bucket holding @x
 * as if its values were spread evenly over it (clamped to [min, max]), the
 * same reading of a bucket as hist_percentile()'s.
 */
double hist_fraction_above(const struct hist *h, double x);
/*
 * hist_fraction_above_bounds - what @h knows for certain of that fraction:
 * at least *@lo (the buckets wholly above @x, and the maximum), at most
 * *@hi (adding the values of the bucket that holds @x, which may lie on
 * either side of it, less the minimum).  Values that cluster inside one
 * bucket make the interpolated estimate wrong by up to the bucket's count;
 * these bounds hold whatever the values are.  Return: 0, or -1 with
 * errno = ENODATA when @h is empty.
 */
int hist_fraction_above_bounds(const struct hist *h, double x, double *lo,
			       double *hi);

/*
 * hist_print_header, hist_print_row - the one latency table: a row per
 * histogram, @label left-aligned in @label_width columns, then the count,
 * the rate (per second of @elapsed_ns, "-" for 0), min, p50, p90, p99,
 * p99.9, max, mean and standard deviation, times in ns/µs/ms/s.  An empty
 * histogram shows its count and "-".
 */
void hist_print_header(FILE *f, int label_width, const char *label);
void hist_print_row(FILE *f, int label_width, const char *label,
		    const struct hist *h, uint64_t elapsed_ns);

struct json_object *hist_to_json(const struct hist *h);
int hist_from_json(struct hist *h, struct json_object *obj);

#endif /* IOMMUBENCH_LIB_HIST_H */

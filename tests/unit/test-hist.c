// SPDX-License-Identifier: GPL-2.0
/*
 * test-hist.c - TAP test of the shared bucket layout and lib/hist.c
 *
 * cc -Wall -Wextra -Iinclude -Ilib tests/unit/test-hist.c lib/hist.c \
 *	$(pkg-config --cflags --libs json-c) -lm
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hist.h"

#define NR_TESTS	23

static int test_nr;
static int failed;

static void ok(bool cond, const char *desc)
{
	test_nr++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", test_nr, desc);
}

static void diag(const char *fmt_desc, unsigned long long a,
		 unsigned long long b)
{
	printf("# %s: %llu %llu\n", fmt_desc, a, b);
}

/* xorshift64*: fixed seeds make every run check the same data */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static double rng_unit(void)
{
	return (rng() >> 11) * (1.0 / 9007199254740992.0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool value_in_bucket(uint64_t v)
{
	uint32_t i = ibh_bucket(v);

	if (i >= IBH_NR_BUCKETS)
		return false;
	if (v > IBH_MAX_VALUE)
		return i == IBH_NR_BUCKETS - 1;
	return ibh_lower(i) <= v && v < ibh_upper(i);
}

static void test_layout(void)
{
	bool mono = true, width = true, msb = true, trip = true;
	uint64_t worst_lo = 0, worst_w = 0;
	uint32_t i;
	uint64_t v;
	int k;

	ok(IBH_SUB_COUNT == 1U << IBH_SUB_BITS && IBH_NR_BUCKETS == 1216 && ibh_upper(IBH_NR_BUCKETS - 1) ==
	   1ULL << IBH_VALUE_BITS && IBH_VALUE_BITS >= 40,
	   "bucket count and range cover at least 2^40 ns");

	for (i = 0; i < IBH_NR_BUCKETS; i++) {
		uint64_t lo = ibh_lower(i), hi = ibh_upper(i);

		if (hi <= lo || (i && lo != ibh_upper(i - 1)) ||
		    ibh_bucket(lo) != i || ibh_bucket(hi - 1) != i)
			mono = false;
		/* one value per bucket, or width <= 1/32 <= 5% of lower */
		if (hi - lo > 1 && ((hi - lo) * 32 > lo ||
				    (double)(hi - lo) / lo > 0.05)) {
			width = false;
			worst_lo = lo;
			worst_w = hi - lo;
		}
	}
	ok(mono && ibh_lower(0) == 0,
	   "buckets contiguous, strictly increasing, bounds map back");
	if (!width)
		diag("too wide: lower, width", worst_lo, worst_w);
	ok(width, "every bucket exact or <= 1/32 (<= 5%) wide");

	for (v = 0; v < 200000; v++)
		trip &= value_in_bucket(v);
	for (k = 0; k < 64; k++) {
		uint64_t p = 1ULL << k;

		trip &= value_in_bucket(p) && value_in_bucket(p - 1) &&
			value_in_bucket(p + 1);
		msb &= ibh_msb(p) == (uint32_t)k && ibh_msb(p | (p - 1)) ==
		       (uint32_t)k;
	}
	trip &= value_in_bucket(UINT64_MAX);
	rng_state = 42;
	for (i = 0; i < 1000000; i++) {
		uint64_t r = rng() >> (rng() % 64);

		if (r)
			msb &= ibh_msb(r) == 63U - __builtin_clzll(r);
		trip &= value_in_bucket(r);
	}
	ok(msb, "ibh_msb agrees with __builtin_clzll");
	ok(trip, "value -> bucket -> [lower, upper) contains the value");
}

/* exact nearest-rank percentile of sorted values */
static uint64_t exact_pct(const uint64_t *sorted, size_t n, double pct)
{
	long double x = (long double)pct * n / 100.0L;
	size_t r = (size_t)ceill(x - x * 1e-12L);

	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return sorted[r - 1];
}

/* draw from one of several shapes, all deterministic from the seed */
static uint64_t draw(int shape)
{
	switch (shape) {
	case 0:		/* small, exact-bucket region */
		return rng() % 100;
	case 1:		/* uniform 200 ns .. 20 us */
		return 200 + rng() % 19800;
	case 2:		/* log-uniform over 1 ns .. 2^40 ns */
		return (uint64_t)exp2(rng_unit() * 40.0);
	default:	/* bimodal: fast path ~300 ns, slow path ~40 us */
		return rng() % 10 ? 250 + rng() % 100 :
			30000 + (uint64_t)(rng_unit() * rng_unit() * 90000);
	}
}

static void test_stats(void)
{
	static const double pcts[] = { 0, 1, 50, 90, 99, 99.9, 100 };
	static const size_t sizes[] = { 1, 7, 1000, 100003 };
	bool pct_ok = true, mom_ok = true, mm_ok = true;
	int shape;
	size_t s, i, p;

	for (shape = 0; shape < 4; shape++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t n = sizes[s];
			uint64_t *v = malloc(n * sizeof(*v));
			long double sum = 0, ss = 0, mean;
			struct hist h;

			if (!v)
				exit(99);
			rng_state = 1000 + shape * 10 + s;
			hist_init(&h);
			for (i = 0; i < n; i++) {
				v[i] = draw(shape);
				hist_record(&h, v[i]);
				sum += v[i];
			}
			qsort(v, n, sizeof(*v), cmp_u64);
			mm_ok &= hist_count(&h) == n && hist_min(&h) == v[0] &&
				 hist_max(&h) == v[n - 1];
			for (p = 0; p < sizeof(pcts) / sizeof(pcts[0]); p++) {
				uint64_t ex = exact_pct(v, n, pcts[p]);
				double est = hist_percentile(&h, pcts[p]);
				double bound = ex < 64 ? 0 : ex / 32.0;

				if (fabs(est - ex) > bound ||
				    ibh_bucket((uint64_t)est) !=
				    ibh_bucket(ex)) {
					pct_ok = false;
					printf("# shape %d n %zu p%g exact %llu est %.3f\n",
					       shape, n, pcts[p],
					       (unsigned long long)ex, est);
				}
			}
			mean = sum / n;
			for (i = 0; i < n; i++)
				ss += (v[i] - mean) * (v[i] - mean);
			if (fabsl(hist_mean(&h) - mean) > 1e-9L * mean + 1e-9L)
				mom_ok = false;
			if (n > 1 && fabsl(hist_stddev(&h) -
					   sqrtl(ss / (n - 1))) >
			    1e-9L * sqrtl(ss / (n - 1)) + 1e-9L)
				mom_ok = false;
			if (n == 1 && hist_stddev(&h) != 0)
				mom_ok = false;
			free(v);
		}
	}
	ok(mm_ok, "count, min and max are exact");
	ok(pct_ok, "percentiles within bucket error of exact nearest-rank");
	ok(mom_ok, "mean and sample stddev match exact two-pass values");
}

static void test_empty_and_errors(void)
{
	struct hist h;
	double r;

	hist_init(&h);
	errno = 0;
	r = hist_percentile(&h, 50);
	ok(isnan(r) && errno == ENODATA && isnan(hist_mean(&h)) &&
	   hist_min(&h) == 0 && hist_max(&h) == 0,
	   "empty histogram: NaN with ENODATA, min = max = 0");
	hist_record(&h, 5);
	errno = 0;
	r = hist_percentile(&h, 100.5);
	ok(isnan(r) && errno == EINVAL && isnan(hist_percentile(&h, NAN)),
	   "percentile outside [0, 100] refused with EINVAL");
}

static void test_merge_and_load(void)
{
	static struct hist all, part[3], merged, loaded;
	static __u64 raw[IBH_NR_BUCKETS];
	uint64_t lo, hi;
	int i;

	rng_state = 7;
	hist_init(&all);
	for (i = 0; i < 3; i++)
		hist_init(&part[i]);
	for (i = 0; i < 300000; i++) {
		uint64_t x = draw(i % 4);

		/* 2^40 ns squares overflow 64 bits: the sums must not */
		if (i % 1000 == 0)
			x = (1ULL << 40) + i;
		hist_record(&all, x);
		hist_record(&part[rng() % 3], x);
	}
	hist_init(&merged);
	for (i = 0; i < 3; i++)
		hist_merge(&merged, &part[i]);
	ok(!memcmp(&merged, &all, sizeof(all)),
	   "merge of parts == recording everything into one");

	for (i = 0; i < (int)IBH_NR_BUCKETS; i++)
		raw[i] = all.buckets[i];
	lo = (uint64_t)all.sum_sq;
	hi = (uint64_t)(all.sum_sq >> 64);
	ok(!hist_load(&loaded, raw, IBH_NR_BUCKETS, all.count,
		      all.min, all.max, (uint64_t)all.sum, lo, hi) &&
	   !memcmp(&loaded, &all, sizeof(all)) &&
	   hist_load(&loaded, raw, IBH_NR_BUCKETS, all.count + 1,
		     all.min, all.max, (uint64_t)all.sum, lo, hi) == -1 &&
	   errno == EINVAL &&
	   hist_load(&loaded, raw, IBH_NR_BUCKETS, all.count,
		     all.min + 100000, all.max, (uint64_t)all.sum, lo,
		     hi) == -1,
	   "hist_load restores raw counts and refuses inconsistent ones");
}

static bool same_summary(const struct hist *a, const struct hist *b)
{
	static const double pcts[] = { 50, 90, 99, 99.9 };
	size_t i;

	if (a->count != b->count || hist_min(a) != hist_min(b) ||
	    a->max != b->max || memcmp(a->buckets, b->buckets,
				       sizeof(a->buckets)))
		return false;
	if (!a->count)
		return true;
	for (i = 0; i < 4; i++)
		if (hist_percentile(a, pcts[i]) != hist_percentile(b, pcts[i]))
			return false;
	return fabs(hist_mean(a) - hist_mean(b)) <= 1e-12 * hist_mean(a) &&
	       fabs(hist_stddev(a) - hist_stddev(b)) <=
	       1e-9 * hist_stddev(a) + 1e-9;
}

static bool json_round_trip(const struct hist *h)
{
	static struct hist back;
	struct json_object *obj = hist_to_json(h), *parsed;
	bool good;

	if (!obj)
		return false;
	parsed = json_tokener_parse(json_object_to_json_string(obj));
	json_object_put(obj);
	if (!parsed)
		return false;
	good = !hist_from_json(&back, parsed) && same_summary(h, &back);
	json_object_put(parsed);
	return good;
}

static void test_json(void)
{
	static struct hist h;
	struct json_object *obj, *val, *arr;
	const char *bad[] = {
		"{\"unit\":\"us\",\"count\":0,\"buckets\":[]}",
		"{\"unit\":\"ns\",\"count\":1,\"min\":1,\"max\":1,\"mean\":1,"
		"\"stddev\":0,\"buckets\":[[1,2]]}",
		"{\"unit\":\"ns\",\"count\":1,\"min\":65,\"max\":65,\"mean\":65,"
		"\"stddev\":0,\"buckets\":[[65,1]]}",
		"{\"unit\":\"ns\",\"count\":1,\"min\":5,\"max\":5,\"mean\":5,"
		"\"stddev\":0,\"buckets\":[[4,1]]}",
		"[]",
	};
	bool schema, refused = true;
	size_t i;

	hist_init(&h);
	rng_state = 99;
	for (i = 0; i < 50000; i++)
		hist_record(&h, draw(i % 4));

	obj = hist_to_json(&h);
	schema = obj && json_object_object_get_ex(obj, "buckets", &arr) &&
		 json_object_is_type(arr, json_type_array) &&
		 json_object_object_get_ex(obj, "p999", &val) &&
		 json_object_object_get_ex(obj, "unit", &val) &&
		 !strcmp(json_object_get_string(val), "ns") &&
		 json_object_object_get_ex(obj, "stddev", &val);
	if (schema) {
		uint64_t prev = 0, total = 0;

		for (i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *pair =
				json_object_array_get_idx(arr, i);
			uint64_t lo = json_object_get_uint64(
				json_object_array_get_idx(pair, 0));
			uint64_t c = json_object_get_uint64(
				json_object_array_get_idx(pair, 1));

			schema &= (i == 0 || lo > prev) && c > 0;
			prev = lo;
			total += c;
		}
		schema &= total == h.count;
	}
	json_object_put(obj);
	ok(schema, "JSON has the documented keys, only non-empty buckets");
	ok(json_round_trip(&h), "JSON round trip keeps counts, bounds, stats");

	hist_init(&h);
	obj = hist_to_json(&h);
	ok(obj && json_object_object_get_ex(obj, "p50", &val) && !val &&
	   json_round_trip(&h), "empty histogram: nulls, and round trips");
	json_object_put(obj);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		obj = json_tokener_parse(bad[i]);
		if (!obj || hist_from_json(&h, obj) != -1 || errno != EINVAL)
			refused = false;
		json_object_put(obj);
	}
	ok(refused, "malformed JSON histograms refused with EINVAL");
}

/* ibh_square(), shared by the module and the BPF tracer, against __int128 */
static void test_square(void)
{
	static const __u64 edge[] = {
		0, 1, 0xffffffffULL, 0x100000000ULL, 0x1ffffffffULL,
		IBH_MAX_VALUE, 0xffffffffffffffffULL, 0x8000000000000000ULL,
	};
	__u64 x = 0x9e3779b97f4a7c15ULL;
	bool good = true;

	for (int i = 0; i < 100000 + (int)(sizeof(edge) / sizeof(edge[0])); i++) {
		__u64 v, lo, hi;
		unsigned __int128 want;

		if (i < (int)(sizeof(edge) / sizeof(edge[0]))) {
			v = edge[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v = x >> (x & 63);
		}
		want = (unsigned __int128)v * v;
		ibh_square(v, &lo, &hi);
		if (lo != (__u64)want || hi != (__u64)(want >> 64)) {
			printf("# ibh_square(%llu) wrong\n", (unsigned long long)v);
			good = false;
			break;
		}
	}
	ok(good, "ibh_square() is the exact 128-bit square (edges and 100000 random values)");
}

static void test_fraction_above(void)
{
	static struct hist h;
	bool good = true;

	/* 1..60: exact buckets, so the fraction is exact */
	hist_init(&h);
	for (uint64_t v = 1; v <= 60; v++)
		hist_record(&h, v);
	good &= hist_fraction_above(&h, 0) == 1 &&
		hist_fraction_above(&h, 30) == 0.5 &&
		hist_fraction_above(&h, 60) == 0 &&
		hist_fraction_above(&h, 59.5) > 0;
	ok(good, "fraction above: exact below 64 ns");
	/* 1 ms .. 20 ms in 1 us steps: within a bucket's width (1/32) */
	hist_init(&h);
	for (uint64_t v = 1000000; v <= 20000000; v += 1000)
		hist_record(&h, v);
	good = true;
	for (double x = 2e6; x < 2e7; x += 1.7e6) {
		double want = (2e7 - x) / (2e7 - 1e6);

		if (fabs(hist_fraction_above(&h, x) - want) > 0.02)
			good = false;
	}
	ok(good && isnan(hist_fraction_above(&(struct hist){ .min = UINT64_MAX }, 1)),
	   "fraction above: within a bucket's width above, NaN when empty");
}

/*
 * The bounds hold the true fraction whatever the values: here windows of
 * four phases, each a cluster narrower than its bucket (the exposure
 * windows of the stale-DMA probe), where interpolating inside the bucket
 * is off by most of its count.
 */
static void test_fraction_bounds(void)
{
	static const uint64_t phase[] = { 12076000, 13086000, 14091000, 15090000 };
	static uint64_t v[400];
	static struct hist h;
	double lo, hi;
	bool good = true;

	hist_init(&h);
	for (uint64_t x = 1; x <= 60; x++)
		hist_record(&h, x);
	for (double x = 0; x <= 61; x += 0.5) {
		double want = x >= 60 ? 0 : (60 - floor(x)) / 60;

		if (hist_fraction_above_bounds(&h, x, &lo, &hi) || lo != want ||
		    hi != want)
			good = false;
	}
	errno = 0;
	ok(good && hist_fraction_above_bounds(&(struct hist){ .min = UINT64_MAX },
					      1, &lo, &hi) && errno == ENODATA,
	   "fraction above, bounds: exact below 64 ns, an error when empty");

	rng_state = 0x5ca1ab1e;
	for (unsigned int round = 0; round < 200 && good; round++) {
		size_t n = 1 + rng() % 400;

		hist_init(&h);
		for (size_t i = 0; i < n; i++) {
			v[i] = phase[rng() % 4] + rng() % 6000;
			hist_record(&h, v[i]);
		}
		for (double x = 12e6; x < 15.2e6; x += 1000 + rng() % 4000) {
			size_t above = 0;

			for (size_t i = 0; i < n; i++)
				above += v[i] > x;
			if (hist_fraction_above_bounds(&h, x, &lo, &hi) ||
			    lo * n > above + 1e-9 || hi * n < above - 1e-9) {
				diag("bounds miss the true count at x, n", (uint64_t)x, n);
				good = false;
				break;
			}
		}
	}
	/* just below the top cluster: the estimate misses, the bounds do not */
	hist_init(&h);
	for (unsigned int i = 0; i < 100; i++)
		hist_record(&h, phase[i % 4] + i);
	hist_fraction_above_bounds(&h, 15045000, &lo, &hi);
	ok(good && lo == 0.01 && hi == 0.25 &&
	   hist_fraction_above(&h, 15045000) < 0.1,
	   "fraction above, bounds: hold the true count of clustered values");
}

/* display columns of the first @n bytes of @s */
static size_t cols(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n && s[i]; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* the latency table: humanised, and each column ends where its header does */
static void test_table(void)
{
	static struct hist h, empty;
	char *buf = NULL, *row, *hdr_end[32], *row_end[32];
	size_t len = 0, nh = 0, nr = 0;
	FILE *f = open_memstream(&buf, &len);
	bool aligned = true;

	hist_init(&h);
	hist_init(&empty);
	for (uint64_t v = 100; v <= 2000000; v *= 3)
		hist_record(&h, v);
	hist_print_header(f, 12, "op");
	hist_print_row(f, 12, "map", &h, 2000000000);
	hist_print_row(f, 12, "sync", &empty, 2000000000);
	fclose(f);
	row = strchr(buf, '\n') + 1;
	/* the end of each column: a non-blank followed by a blank or \n */
	for (char *p = buf; p < row; p++)
		if (*p != ' ' && (p[1] == ' ' || p[1] == '\n') && nh < 32)
			hdr_end[nh++] = p;
	for (char *p = row; *p != '\n'; p++)
		if (*p != ' ' && (p[1] == ' ' || p[1] == '\n') && nr < 32)
			row_end[nr++] = p;
	/* the label column is left-aligned; the others end with the header's */
	aligned = nh == 11 && nr == 19;
	for (size_t c = 1; aligned && c < nh; c++) {
		size_t want = cols(buf, hdr_end[c] - buf), found = 0;

		for (size_t k = 0; k < nr; k++)
			found |= cols(row, row_end[k] - row) == want;
		aligned = found;
	}
	ok(aligned && !strncmp(row, "map                  10    5.00   100 ns", 40) &&
	   strstr(row, "\xc2\xb5s") && strstr(row, " ms"),
	   "table: times in ns/\xc2\xb5s/ms under their headers");
	ok(strstr(buf, "\nsync                  0       -        -") != NULL,
	   "table: an empty histogram shows its count and \"-\"");
	if (!aligned)
		printf("# columns not aligned (%zu, %zu):\n%s", nh, nr, buf);
	free(buf);
}

int main(void)
{
	printf("1..%d\n", NR_TESTS);
	test_square();
	test_layout();
	test_stats();
	test_empty_and_errors();
	test_merge_and_load();
	test_json();
	test_fraction_above();
	test_fraction_bounds();
	test_table();
	if (test_nr != NR_TESTS) {
		printf("# planned %d tests, ran %d\n", NR_TESTS, test_nr);
		return 1;
	}
	return failed ? 1 : 0;
}

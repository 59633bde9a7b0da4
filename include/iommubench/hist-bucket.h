/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hist-bucket.h - the one latency histogram bucket layout of iommubench
 *
 * Shared, unchanged, by the dmabench kernel module, the BPF tracers
 * (clang -target bpf) and user space (lib/hist.c, the analysis).  A bucket
 * index computed on one side means the same range of nanoseconds on every
 * other side, so histograms can be exported as raw count arrays and merged.
 *
 * Layout (log-linear, HDR-like), with S = IBH_SUB_BITS = 5, i.e. 32 linear
 * sub-buckets per power of two:
 *
 *  - values 0 .. 2^(S+1) - 1 (0..63 ns) get exact buckets of width 1;
 *  - a value v >= 2^(S+1) whose most significant bit is m (2^m <= v < 2^(m+1))
 *    falls in one of the 32 equal sub-buckets of [2^m, 2^(m+1)), each of
 *    width 2^(m-S).
 *
 * A bucket [lower, upper) therefore holds a single value (upper - lower = 1)
 * or has (upper - lower) <= lower / 32: reporting any value of a bucket in
 * place of another is off by at most 3.125% of the true value.  Buckets
 * cover [0, 2^IBH_VALUE_BITS) ns (2^42 ns, about 73 minutes); larger values
 * are counted in the last bucket (keep the exact maximum alongside).
 *
 * The functions use no libc, no loops and no __builtin_clz, so the BPF
 * verifier accepts them.  Types come from <linux/types.h>, which exists in
 * the kernel, in user space and for BPF; a BPF program that includes a
 * bpftool-generated vmlinux.h first gets the same types from there.
 */
#ifndef _IOMMUBENCH_HIST_BUCKET_H
#define _IOMMUBENCH_HIST_BUCKET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* log2 of the number of linear sub-buckets per power of two */
#define IBH_SUB_BITS		5
/* linear sub-buckets per power of two: 2^IBH_SUB_BITS */
#define IBH_SUB_COUNT		32U
/* values below 2^IBH_VALUE_BITS ns get their own bucket */
#define IBH_VALUE_BITS		42
/* number of buckets: 2 * 32 exact ones, then 32 per power of two (1216) */
#define IBH_NR_BUCKETS		\
	(IBH_SUB_COUNT * (IBH_VALUE_BITS - IBH_SUB_BITS + 1))
/* largest value that has a bucket of its own */
#define IBH_MAX_VALUE		((1ULL << IBH_VALUE_BITS) - 1)

/**
 * ibh_msb() - index of the most significant set bit
 * @v: value, must not be 0
 *
 * A fixed sequence of six tests, so it is usable where __builtin_clzll is
 * not (BPF) and gives the same answer everywhere.
 *
 * Return: m such that 2^m <= @v < 2^(m+1).
 */
static inline __u32 ibh_msb(__u64 v)
{
	__u32 m = 0;

	if (v >> 32) {
		v >>= 32;
		m += 32;
	}
	if (v >> 16) {
		v >>= 16;
		m += 16;
	}
	if (v >> 8) {
		v >>= 8;
		m += 8;
	}
	if (v >> 4) {
		v >>= 4;
		m += 4;
	}
	if (v >> 2) {
		v >>= 2;
		m += 2;
	}
	if (v >> 1)
		m += 1;
	return m;
}

/**
 * ibh_bucket() - bucket index of a value
 * @ns: value in nanoseconds
 *
 * Return: an index in [0, IBH_NR_BUCKETS); values above IBH_MAX_VALUE map
 * to IBH_NR_BUCKETS - 1.
 */
static inline __u32 ibh_bucket(__u64 ns)
{
	__u32 shift;

	if (ns < 2 * IBH_SUB_COUNT)
		return (__u32)ns;
	if (ns > IBH_MAX_VALUE)
		return IBH_NR_BUCKETS - 1;
	shift = ibh_msb(ns) - IBH_SUB_BITS;
	return IBH_SUB_COUNT * shift + (__u32)(ns >> shift);
}

/**
 * ibh_lower() - smallest value counted in a bucket
 * @idx: bucket index; indexes >= IBH_NR_BUCKETS are treated as the last one
 *
 * Return: the inclusive lower bound of bucket @idx in nanoseconds.
 */
static inline __u64 ibh_lower(__u32 idx)
{
	__u32 shift;

	if (idx >= IBH_NR_BUCKETS)
		idx = IBH_NR_BUCKETS - 1;
	if (idx < 2 * IBH_SUB_COUNT)
		return idx;
	shift = (idx >> IBH_SUB_BITS) - 1;
	return (__u64)(IBH_SUB_COUNT + (idx & (IBH_SUB_COUNT - 1))) << shift;
}

/**
 * ibh_upper() - end of a bucket
 * @idx: bucket index; indexes >= IBH_NR_BUCKETS are treated as the last one
 *
 * Return: the exclusive upper bound of bucket @idx in nanoseconds, which is
 * the lower bound of bucket @idx + 1.  For the last bucket it is
 * 2^IBH_VALUE_BITS, although that bucket also counts larger values.
 */
static inline __u64 ibh_upper(__u32 idx)
{
	__u32 shift;

	if (idx >= IBH_NR_BUCKETS)
		idx = IBH_NR_BUCKETS - 1;
	if (idx < 2 * IBH_SUB_COUNT)
		return (__u64)idx + 1;
	shift = (idx >> IBH_SUB_BITS) - 1;
	return ((__u64)(IBH_SUB_COUNT + (idx & (IBH_SUB_COUNT - 1))) + 1)
		<< shift;
}

/**
 * ibh_square() - the square of a value as 128 bits, for the sum of squares
 * @v: value
 * @lo: out: low 64 bits of @v * @v
 * @hi: out: high 64 bits
 *
 * With v = a * 2^32 + b: v^2 = a^2 2^64 + 2ab 2^32 + b^2, and 2ab 2^32 =
 * (ab) 2^33, whose low half is (ab) << 33 and high half (ab) >> 31.  The
 * caller adds @lo and @hi to its sum with the carry of @lo, atomically or
 * not as its side needs.
 */
static inline void ibh_square(__u64 v, __u64 *lo, __u64 *hi)
{
	__u64 a = v >> 32, b = v & 0xffffffffULL;
	__u64 mid = a * b, l = b * b, h = a * a + (mid >> 31);

	if (l + (mid << 33) < l)
		h++;
	*lo = l + (mid << 33);
	*hi = h;
}

#endif /* _IOMMUBENCH_HIST_BUCKET_H */

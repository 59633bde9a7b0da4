// SPDX-License-Identifier: GPL-2.0
/*
 * test-gate-sim.c - validates the gate's decision rule (analysis/judge.c)
 * by simulation: A/A comparisons must fail at most alpha of the time, and
 * a 10 % shift must be caught with 5 repetitions per side.
 *
 * Each trial draws a baseline and a candidate of n repetitions for each
 * of K metrics, log-normal with standard deviation sd of the logs (the
 * dispersion of the metric across boots), optionally contaminated (with
 * probability 0.1 a repetition is slowed by a factor drawn from 1..1.5,
 * like a boot that shared the machine), and calls an_judge() exactly as
 * 'iommubench gate' does.  A/A: no shift; the gate fails the trial if any
 * metric is a regression.  Power: metric 0 is shifted by --shift in its bad
 * direction, the other K - 1 are not; power is the rate at which metric 0
 * is found regressed.
 *
 *   tests/unit/test-gate-sim                    make check: TAP, fixed seed
 *   tests/unit/test-gate-sim --table [--trials N]   the table of docs/analysis.md
 *   tests/unit/test-gate-sim --sd X --k K --n N --shift PCT [--contaminate]
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "stats.h"
#include "tap.h"

#define MAXK	64
#define MAXN	64

struct scenario {
	double sd;
	size_t k;
	size_t n;
	double shift;		/* relative, in the bad direction */
	bool contaminate;
	bool higher;		/* metric direction */
};

static double draw(struct stats_rng *r, const struct scenario *sc)
{
	double v = exp(sc->sd * stats_rng_normal(r));

	if (sc->contaminate && stats_rng_uniform(r) < 0.1)
		v = sc->higher ? v / (1 + 0.5 * stats_rng_uniform(r)) :
				 v * (1 + 0.5 * stats_rng_uniform(r));
	return v;
}

/* returns the rate of trials failed (A/A) or metric 0 caught (shift) */
static double simulate(const struct scenario *sc, const struct an_gate_opts *o,
		       size_t trials, uint64_t seed)
{
	static double a[MAXK][MAXN], b[MAXK][MAXN];
	const double *pa[MAXK], *pb[MAXK];
	size_t na[MAXK], nb[MAXK], hits = 0;
	struct an_judgement j[MAXK];
	bool hi[MAXK];
	struct stats_rng r;

	stats_rng_seed(&r, seed);
	for (size_t m = 0; m < sc->k; m++) {
		pa[m] = a[m];
		pb[m] = b[m];
		na[m] = nb[m] = sc->n;
		hi[m] = sc->higher;
	}
	for (size_t t = 0; t < trials; t++) {
		bool hit = false;

		for (size_t m = 0; m < sc->k; m++)
			for (size_t i = 0; i < sc->n; i++) {
				a[m][i] = 1000 * draw(&r, sc);
				b[m][i] = 1000 * draw(&r, sc);
				if (m == 0 && sc->shift)
					b[m][i] *= sc->higher ? 1 - sc->shift :
								1 + sc->shift;
			}
		an_judge(o, sc->k, pa, na, pb, nb, hi, j);
		if (sc->shift)
			hit = j[0].verdict == AN_REGRESSED;
		else
			for (size_t m = 0; m < sc->k; m++)
				hit |= j[m].verdict == AN_REGRESSED;
		hits += hit;
	}
	return (double)hits / trials;
}

static void table(size_t trials, const struct an_gate_opts *o)
{
	static const double sds[] = { 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.3 };
	static const size_t ks[] = { 1, 39 };

	printf("alpha %g, min effect %.0f%%, n = 5 per side, %zu trials per cell\n",
	       o->alpha, o->min_effect * 100, trials);
	printf("%-6s %-5s %-12s %12s %12s\n", "sd", "K", "noise",
	       "A/A fail", "power 10%");
	for (size_t s = 0; s < sizeof(sds) / sizeof(sds[0]); s++)
		for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]); k++)
			for (int c = 0; c < 2; c++) {
				struct scenario sc = { .sd = sds[s], .k = ks[k],
						       .n = 5, .contaminate = c,
						       .higher = true };
				double aa, pw;

				aa = simulate(&sc, o, trials, 1 + s * 10 + k * 100 + c);
				sc.shift = 0.10;
				pw = simulate(&sc, o, trials, 7 + s * 10 + k * 100 + c);
				printf("%-6.2f %-5zu %-12s %11.2f%% %11.2f%%\n", sds[s],
				       ks[k], c ? "contaminated" : "log-normal",
				       aa * 100, pw * 100);
			}
}

static void test_direction(void)
{
	static const struct {
		const char *metric, *unit;
		bool higher;
	} rules[] = {
		{ "fio.read.iops", "ops/s", true },
		{ "fio.read.bw", "B/s", true },
		{ "trace.dma_unmap.rate", "calls/s", true },
		{ "trace.fq_flush.timer_rate", "calls/s", true },
		{ "trace.fq_flush.queue_full_rate", "calls/s", true },
		{ "dmabench.unmap.p99", "ns", false },
		{ "x.iops", NULL, true },
		{ "x.bw", NULL, true },
		{ "x.rate", NULL, true },
		{ "x.queue_full_rate", NULL, true },
		{ "trace.exposure.lazy.p50", NULL, false },
		{ "fio.read.clat_p50", "", false },
	};

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		ok(an_higher_is_better(rules[i].metric, rules[i].unit) == rules[i].higher,
		   "direction: %s (unit %s) is %s-is-better", rules[i].metric,
		   rules[i].unit ? rules[i].unit : "none",
		   rules[i].higher ? "higher" : "lower");
}

int main(int argc, char **argv)
{
	struct an_gate_opts o = AN_GATE_OPTS_DEFAULT;
	struct scenario sc = { .sd = 0.02, .k = 1, .n = 5, .higher = true };
	size_t trials = 20000;
	bool one = false;
	int ch;

	static const struct option opts[] = {
		{ "table", no_argument, NULL, 'T' },
		{ "trials", required_argument, NULL, 't' },
		{ "sd", required_argument, NULL, 's' },
		{ "k", required_argument, NULL, 'k' },
		{ "n", required_argument, NULL, 'n' },
		{ "shift", required_argument, NULL, 'x' },
		{ "contaminate", no_argument, NULL, 'c' },
		{ "no-holm", no_argument, NULL, 'H' },
		{ 0 }
	};
	bool do_table = false;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'T':
			do_table = true;
			break;
		case 't':
			trials = strtoul(optarg, NULL, 10);
			break;
		case 's':
			sc.sd = strtod(optarg, NULL);
			one = true;
			break;
		case 'k':
			sc.k = strtoul(optarg, NULL, 10);
			one = true;
			break;
		case 'n':
			sc.n = strtoul(optarg, NULL, 10);
			one = true;
			break;
		case 'x':
			sc.shift = strtod(optarg, NULL) / 100;
			one = true;
			break;
		case 'c':
			sc.contaminate = true;
			break;
		case 'H':
			o.holm = false;
			break;
		default:
			return 2;
		}
	}
	if (sc.k > MAXK || sc.n > MAXN || sc.n < 2)
		return 2;
	if (do_table) {
		table(trials, &o);
		return 0;
	}
	if (one) {
		printf("%s %.4f\n", sc.shift ? "power" : "A/A failure rate",
		       simulate(&sc, &o, trials, 1));
		return 0;
	}

	test_direction();
	/*
	 * make check: 4000 trials each.  The binomial standard error of a
	 * rate of 0.05 is 0.0034, so the bounds allow three of them.
	 */
	trials = 4000;
	{
		struct scenario aa = { .sd = 0.02, .k = 39, .n = 5, .higher = true };
		struct scenario aa1 = { .sd = 0.3, .k = 1, .n = 5, .higher = false,
					.contaminate = true };
		struct scenario aa2 = { .sd = 0.02, .k = 1, .n = 5, .higher = true };
		struct scenario pw = { .sd = 0.02, .k = 1, .n = 5, .shift = 0.10,
				       .higher = true };
		struct scenario pwl = { .sd = 0.02, .k = 1, .n = 5, .shift = 0.10,
					.higher = false };
		struct scenario pw39 = { .sd = 0.02, .k = 39, .n = 5, .shift = 0.10,
					 .higher = true };
		struct an_gate_opts nomin = o;
		double r;

		nomin.min_effect = 0;
		r = simulate(&aa2, &nomin, trials, 11);
		ok(r <= o.alpha + 0.01, "A/A, one metric, sd 0.02, no min effect: %.2f%% of trials fail (alpha %g)",
		   r * 100, o.alpha);
		r = simulate(&aa, &nomin, trials, 12);
		ok(r <= o.alpha + 0.01, "A/A, 39 metrics with Holm, no min effect: %.2f%% of trials fail",
		   r * 100);
		r = simulate(&aa1, &nomin, trials, 13);
		ok(r <= o.alpha + 0.01, "A/A, sd 0.3 with 10%% slow outliers, latency metric: %.2f%% fail",
		   r * 100);
		r = simulate(&aa, &o, trials, 14);
		ok(r <= o.alpha, "A/A, 39 metrics, default gate: %.2f%% of trials fail", r * 100);
		r = simulate(&pw, &o, trials, 15);
		ok(r >= 0.95, "10%% IOPS drop, sd 0.02, 5 per side: caught %.2f%%", r * 100);
		r = simulate(&pwl, &o, trials, 16);
		ok(r >= 0.95, "10%% latency rise, sd 0.02, 5 per side: caught %.2f%%", r * 100);
		r = simulate(&pw39, &o, trials, 17);
		ok(r >= 0.95, "10%% drop in 1 of 39 metrics with Holm, sd 0.02: caught %.2f%%",
		   r * 100);
	}
	return tap_done();
}

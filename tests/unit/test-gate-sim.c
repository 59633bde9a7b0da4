// SPDX-License-Identifier: GPL-2.0
/*
 * test-gate-sim.c - validates the gate's decision rule (analysis/judge.c)
 * and history's change points (stats_edivisive()) by simulation, and
 * checks the rules that need no simulation: fail closed, the direction
 * of every kind of metric, values that are 0, the minimum effect.
 *
 * Gate: each trial draws a baseline and a candidate of n repetitions for
 * each of K series, log-normal with standard deviation sd of the logs
 * (the dispersion of the metric across boots), optionally contaminated
 * (with probability 0.1 a repetition is slowed by a factor drawn from
 * 1..1.5, like a boot that shared the machine), and calls an_judge()
 * exactly as 'iommubench gate' does.  A/A: no shift; the gate fails the
 * trial if any series is a regression.  Power: the first --shifted series
 * are shifted by --shift in their bad direction; power is the share of
 * them found regressed, and the false discovery proportion the share of
 * unshifted series among those flagged.
 *
 * Separate runs (--run-sd, --drift): baseline and candidate are two runs
 * done one after the other; each run moves its series by an offset of
 * log-sd run-sd (--shared: one for the whole run, as a loaded machine
 * does; else one per series), and the machine drifts by --drift per
 * repetition (log; negative: it slows down).  --mixed: the series
 * alternate between rates and latencies, which a slow run moves in
 * opposite directions.  The gate is told either nothing (tau 0: what it did before
 * it knew about runs), that the noise is unknown, or an estimate from
 * --aa A/A runs done just before (what 'iommubench noise' computes:
 * stats_between_var() pooled over the 3 series of a metric).
 *
 *   tests/unit/test-gate-sim                    make check: TAP, fixed seeds
 *   tests/unit/test-gate-sim --table [--trials N]   the tables of docs/analysis.md
 *   tests/unit/test-gate-sim --sd X --k K --n N --shift PCT [--contaminate]
 *       [--shifted M] [--fdr|--no-holm] [--run-sd X [--shared]] [--drift X]
 *       [--mixed] [--noise naive|unknown|aa] [--aa RUNS]
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

#define MAXK	2000
#define MAXN	64
#define MAXAA	16
/* series per metric, over which the noise estimate is pooled */
#define PER_METRIC	3

enum noise {
	NOISE_NAIVE,		/* tau 0: separate runs taken as one */
	NOISE_UNKNOWN,		/* tau unknown: the gate cannot judge */
	NOISE_AA,		/* tau from A/A runs */
};

struct scenario {
	double sd;
	size_t k;
	size_t n;
	double shift;		/* relative, in the bad direction */
	size_t shifted;		/* how many series are shifted (default 1) */
	bool contaminate;
	bool higher;		/* metric direction */
	double run_sd;		/* per-run offset, log-sd */
	bool shared;		/* one offset for all series of a run, else each its own */
	bool mixed;		/* series alternate: rates, latencies */
	double drift;		/* log drift per repetition, runs back to back */
	enum noise noise;
	size_t aa;		/* A/A runs for NOISE_AA */
};

struct result {
	double fail;		/* trials with a false regression */
	double power;		/* shifted series found regressed */
	double fdp;		/* mean share of false ones among those flagged */
	double undecided;	/* series that could not be judged */
};

static bool series_higher(const struct scenario *sc, size_t m)
{
	return sc->mixed ? m % 2 == 0 : sc->higher;
}

static double draw(struct stats_rng *r, const struct scenario *sc, bool higher)
{
	double v = exp(sc->sd * stats_rng_normal(r));

	if (sc->contaminate && stats_rng_uniform(r) < 0.1)
		v = higher ? v / (1 + 0.5 * stats_rng_uniform(r)) :
			     v * (1 + 0.5 * stats_rng_uniform(r));
	return v;
}

/*
 * One run of every series at time *@t on: @out[m][i].  A slow run (or a
 * slowing machine) lowers rates and raises latencies alike.
 */
static void draw_run(struct stats_rng *r, const struct scenario *sc,
		     double (*out)[MAXN], double *t)
{
	double t0 = *t, run = sc->run_sd * stats_rng_normal(r);

	for (size_t m = 0; m < sc->k; m++) {
		double off = sc->shared ? run : sc->run_sd * stats_rng_normal(r);
		double sign = series_higher(sc, m) ? 1 : -1;

		for (size_t i = 0; i < sc->n; i++)
			out[m][i] = 1000 * exp(sign * (off + sc->drift * (t0 + i))) *
				    draw(r, sc, series_higher(sc, m));
	}
	*t = t0 + sc->n;
}

static struct result simulate(const struct scenario *sc,
			      const struct an_gate_opts *o, size_t trials,
			      uint64_t seed)
{
	static double a[MAXK][MAXN], b[MAXK][MAXN], aa[MAXAA][MAXK][MAXN];
	static struct an_pair_in in[MAXK];
	static struct an_judgement j[MAXK];
	size_t shifted = sc->shift ? (sc->shifted ? sc->shifted : 1) : 0;
	double fails = 0, caught = 0, fdp = 0, undecided = 0;
	struct stats_rng r;

	stats_rng_seed(&r, seed);
	for (size_t m = 0; m < sc->k; m++)
		in[m] = (struct an_pair_in){ .a = a[m], .b = b[m], .na = sc->n,
					     .nb = sc->n,
					     .higher = series_higher(sc, m),
					     .tau = 0, .tau_df = INFINITY };
	for (size_t t = 0; t < trials; t++) {
		double now = 0;
		size_t flagged = 0, wrong = 0;

		if (sc->noise == NOISE_AA)
			for (size_t q = 0; q < sc->aa; q++)
				draw_run(&r, sc, aa[q], &now);
		draw_run(&r, sc, a, &now);
		draw_run(&r, sc, b, &now);
		for (size_t m = 0; m < shifted; m++)
			for (size_t i = 0; i < sc->n; i++)
				b[m][i] *= in[m].higher ? 1 - sc->shift : 1 + sc->shift;
		for (size_t m = 0; m < sc->k; m++) {
			in[m].tau = sc->noise == NOISE_UNKNOWN ? NAN : 0;
			in[m].tau_df = INFINITY;
		}
		if (sc->noise == NOISE_AA) {
			for (size_t g = 0; g < sc->k; g += PER_METRIC) {
				double sum = 0;
				size_t cnt = 0;

				for (size_t m = g; m < g + PER_METRIC && m < sc->k; m++) {
					const double *v[MAXAA];
					size_t nv[MAXAA];

					for (size_t q = 0; q < sc->aa; q++) {
						v[q] = aa[q][m];
						nv[q] = sc->n;
					}
					sum += stats_between_var(v, nv, sc->aa, false);
					cnt++;
				}
				for (size_t m = g; m < g + cnt; m++) {
					in[m].tau = sum > 0 ? sqrt(sum / cnt) : 0;
					in[m].tau_df = sc->aa - 1;
				}
			}
		}
		an_judge(o, sc->k, in, j);
		for (size_t m = 0; m < sc->k; m++) {
			bool reg = j[m].verdict == AN_REGRESSED;

			undecided += j[m].verdict == AN_UNDECIDED;
			flagged += reg;
			if (m < shifted)
				caught += reg;
			else
				wrong += reg;
		}
		fails += wrong > 0;
		fdp += flagged ? (double)wrong / flagged : 0;
	}
	return (struct result){
		.fail = fails / trials,
		.power = shifted ? caught / (trials * (double)shifted) : 0,
		.fdp = fdp / trials,
		.undecided = undecided / (trials * (double)sc->k),
	};
}

static void table(size_t trials, const struct an_gate_opts *o)
{
	static const double sds[] = { 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.3 };
	static const size_t ks[] = { 1, 39 };
	static const struct {
		double run_sd;
		bool shared;
		double drift;
		size_t n;
	} runs[] = {
		{ 0.02, true, 0, 5 }, { 0.02, false, 0, 5 }, { 0.05, true, 0, 5 },
		{ 0, false, -0.005, 5 }, { 0, false, -0.005, 10 },
	};

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

				aa = simulate(&sc, o, trials, 1 + s * 10 + k * 100 + c).fail;
				sc.shift = 0.10;
				pw = simulate(&sc, o, trials, 7 + s * 10 + k * 100 + c).power;
				printf("%-6.2f %-5zu %-12s %11.2f%% %11.2f%%\n", sds[s],
				       ks[k], c ? "contaminated" : "log-normal",
				       aa * 100, pw * 100);
			}
	printf("\nseparate runs: sd 0.02, K = 39 (rates and latencies), %zu trials per cell;\n"
	       "noise from 5 A/A runs; power: 10%% worse in series 0\n", trials);
	printf("%-7s %-10s %-7s %-3s %10s %14s %11s\n", "run sd", "offset", "drift",
	       "n", "as one run", "A/A with noise", "power with");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct scenario sc = { .sd = 0.02, .k = 39, .n = runs[i].n,
				       .mixed = true, .run_sd = runs[i].run_sd,
				       .shared = runs[i].shared,
				       .drift = runs[i].drift, .aa = 5 };
		double naive, fair, pw;

		naive = simulate(&sc, o, trials, 31 + i).fail;
		sc.noise = NOISE_AA;
		fair = simulate(&sc, o, trials, 41 + i).fail;
		sc.shift = 0.10;
		pw = simulate(&sc, o, trials, 51 + i).power;
		printf("%-7.3f %-10s %-7.3f %-3zu %9.2f%% %13.2f%% %10.2f%%\n",
		       runs[i].run_sd, runs[i].run_sd == 0 ? "-" :
		       runs[i].shared ? "per run" : "per series",
		       runs[i].drift, runs[i].n, naive * 100, fair * 100,
		       pw * 100);
	}
	printf("\nlarge families: K = 1000, 50 of them 10%% worse, n = 5, %zu trials\n",
	       trials / 50);
	printf("%-6s %-22s %10s %10s %12s\n", "sd", "adjustment", "power",
	       "mean FDP", "any false");
	for (size_t s = 2; s < 5; s++)
		for (int f = 0; f < 2; f++) {
			struct scenario sc = { .sd = sds[s], .k = 1000, .n = 5,
					       .higher = true, .shift = 0.10,
					       .shifted = 50 };
			struct an_gate_opts fo = *o;
			struct result res;

			fo.adjust = f ? AN_ADJ_BH : AN_ADJ_HOLM;
			res = simulate(&sc, &fo, trials / 50, 61 + s);
			printf("%-6.2f %-22s %9.2f%% %9.2f%% %11.2f%%\n", sds[s],
			       f ? "Benjamini-Hochberg" : "Holm", res.power * 100,
			       res.fdp * 100, res.fail * 100);
		}
}

/* --- rules that need no simulation --------------------------------------- */

static const struct an_gate_opts defaults = AN_GATE_OPTS_DEFAULT;

/* judge one pair of constant-ish series: b is a scaled by @ratio */
static enum an_verdict judge_ratio(double ratio, bool higher,
				   struct an_judgement *j)
{
	static const double a[] = { 1000, 1000.1, 999.9, 1000, 1000.05 };
	double b[5];
	struct an_pair_in in = { .a = a, .na = 5, .b = b, .nb = 5,
				 .higher = higher, .tau = 0, .tau_df = INFINITY };

	for (size_t i = 0; i < 5; i++)
		b[i] = a[i] * ratio;
	an_judge(&defaults, 1, &in, j);
	return j->verdict;
}

static void test_min_effect(void)
{
	struct an_judgement j;

	/* a factor 1.05 in the bad direction, whatever the direction */
	ok(judge_ratio(1 / 1.0501, true, &j) == AN_REGRESSED,
	   "IOPS down by a factor 1.0501 (-4.77%%) is a 5%% regression: %s",
	   an_verdict_names[j.verdict]);
	ok(judge_ratio(1.0501, false, &j) == AN_REGRESSED,
	   "latency up by a factor 1.0501 is a 5%% regression: %s",
	   an_verdict_names[j.verdict]);
	ok(judge_ratio(1 / 1.049, true, &j) == AN_CLEAN &&
	   judge_ratio(1.049, false, &j) == AN_CLEAN,
	   "a factor 1.049 either way is below the 5%% minimum for both directions");
	ok(judge_ratio(1.0501, true, &j) == AN_IMPROVED &&
	   judge_ratio(1 / 1.0501, false, &j) == AN_IMPROVED,
	   "the same factor in the good direction is an improvement");
	judge_ratio(0.90, true, &j);
	ok(j.hi < 1 / 1.05 && j.clears && j.level_hi >= 1 - defaults.alpha - 1e-12,
	   "the interval of a 10%% drop: upper end %+.2f%% at %.2f%% (one-sided), clears the minimum",
	   (j.hi - 1) * 100, j.level_hi * 100);
}

/* the interval's ends agree with the adjusted verdicts, with Holm and BH */
static void test_interval_agrees(void)
{
	struct stats_rng r;
	size_t bad = 0, checked = 0;

	stats_rng_seed(&r, 99);
	for (int f = 0; f < 2; f++) {
		struct an_gate_opts o = defaults;
		static double a[40][5], b[40][5];
		struct an_pair_in in[40];
		struct an_judgement j[40];

		o.adjust = f ? AN_ADJ_BH : AN_ADJ_HOLM;
		o.min_effect = 0;
		for (size_t rep = 0; rep < 50; rep++) {
			for (size_t m = 0; m < 40; m++) {
				double shift = exp(0.04 * stats_rng_normal(&r));

				for (size_t i = 0; i < 5; i++) {
					a[m][i] = exp(0.03 * stats_rng_normal(&r));
					b[m][i] = shift * exp(0.03 * stats_rng_normal(&r));
				}
				in[m] = (struct an_pair_in){ .a = a[m], .na = 5,
					.b = b[m], .nb = 5, .higher = m % 2,
					.tau = 0, .tau_df = INFINITY };
			}
			an_judge(&o, 40, in, j);
			for (size_t m = 0; m < 40; m++) {
				/* the bad side: a rate's upper end, a latency's lower */
				double badb = in[m].higher ? j[m].hi : j[m].lo;
				bool excl = in[m].higher ? badb < 1 : badb > 1;

				checked++;
				if (excl != (j[m].p_adj <= o.alpha) &&
				    fabs(j[m].p_adj - o.alpha) > 1e-9)
					bad++;
			}
		}
	}
	ok(!bad, "Holm and Benjamini-Hochberg: the bad side's end of the interval excludes 1 exactly when the adjusted p <= alpha (%zu of %zu disagree)",
	   bad, checked);
}

static void test_zero_and_negative(void)
{
	static const double z[] = { 0, 0, 0, 0, 0 };
	static const double some[] = { 0, 2, 0, 1, 3 };
	static const double many[] = { 40, 38, 41, 39, 42 };
	static const double neg[] = { 1, -2, 3, 4, 5 };
	struct an_pair_in in = { .a = z, .na = 5, .b = z, .nb = 5,
				 .higher = true, .tau = 0, .tau_df = INFINITY };
	struct an_judgement j;

	an_judge(&defaults, 1, &in, &j);
	ok(j.verdict == AN_CLEAN && j.within && j.why,
	   "a rate that is 0 in every repetition of both sides (queue_full_rate) is clean: %s, %s",
	   an_verdict_names[j.verdict], j.why ? j.why : "no reason");
	in.a = some;
	in.b = many;
	an_judge(&defaults, 1, &in, &j);
	ok(j.verdict == AN_IMPROVED && j.welch.raw,
	   "a rate with zeros that rises is judged on its values: %s (ratio of means %.3g)",
	   an_verdict_names[j.verdict], j.welch.ratio);
	in.higher = false;
	an_judge(&defaults, 1, &in, &j);
	ok(j.verdict == AN_REGRESSED,
	   "the same rise of a lower-is-better count is a regression: %s",
	   an_verdict_names[j.verdict]);
	in.a = many;
	in.b = neg;
	an_judge(&defaults, 1, &in, &j);
	ok(j.verdict == AN_UNDECIDED && j.why && strstr(j.why, "negative"),
	   "negative values cannot be judged, and the reason says so: %s",
	   j.why ? j.why : "no reason");
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

static void test_options(void)
{
	struct an_gate_opts o = AN_GATE_OPTS_DEFAULT;
	bool fdr = !an_gate_opt(&o, "fdr", NULL) && o.adjust == AN_ADJ_BH;

	ok(fdr && an_gate_opt(&o, "no-holm", NULL) == -1,
	   "--fdr sets Benjamini-Hochberg, and --no-holm with it is refused");
}

/* --- history: change points ---------------------------------------------- */

#define HN	24

/*
 * A history of HN commits, one run each with n = 5 repetitions; from
 * commit @step on the metric is @shift lower.  @run_sd: each run's offset.
 * @paired: every run also holds a reference kernel's 5 boots, and the
 * value of a commit is its median over the reference's (history
 * --baseline-kernel).  Returns the share of trials with a strong change
 * point (p <= alpha, factor >= 5 %) anywhere, and in *@at_step those with
 * one at @step exactly.
 */
static double history_sim(size_t step, double shift, double run_sd,
			  bool paired, size_t trials, uint64_t seed,
			  double *at_step)
{
	struct stats_rng r;
	size_t any = 0, exact = 0;

	stats_rng_seed(&r, seed);
	for (size_t t = 0; t < trials; t++) {
		double val[HN], x[HN];
		struct stats_cp cp[HN];
		int k;
		bool hit = false, hit_step = false;

		for (size_t c = 0; c < HN; c++) {
			double off = exp(run_sd * stats_rng_normal(&r)), v[5], ref[5];
			double level = c >= step ? 1 - shift : 1;

			for (size_t i = 0; i < 5; i++) {
				v[i] = 1000 * level * off * exp(0.01 * stats_rng_normal(&r));
				ref[i] = 1000 * off * exp(0.01 * stats_rng_normal(&r));
			}
			val[c] = stats_median(v, 5);
			if (paired)
				val[c] /= stats_median(ref, 5);
			x[c] = log(val[c]);
		}
		k = stats_edivisive(x, HN, 2, 0.05, 199, seed * 1000 + t, cp, HN);
		for (int i = 0; i < k; i++) {
			size_t from = i ? cp[i - 1].at : 0;
			size_t to = i + 1 < k ? cp[i + 1].at : HN;
			double ratio = stats_median(val + cp[i].at, to - cp[i].at) /
				       stats_median(val + from, cp[i].at - from);

			if (fabs(log(ratio)) < log(1.05) - 1e-12)
				continue;
			hit = true;
			hit_step |= cp[i].at == step;
		}
		any += hit;
		exact += hit_step;
	}
	if (at_step)
		*at_step = (double)exact / trials;
	return (double)any / trials;
}

static void test_history(void)
{
	double at, any;
	static const double flat[] = { 1, 1.01, 0.99, 1, 1.02, 0.98 };
	static const double step[] = { 1, 1.01, 0.99, 1.02, 0.5, 0.51, 0.49, 0.5,
				       0.52, 0.48, 0.5, 0.51 };
	struct stats_cp cp[12];
	double x[12];
	int k;

	for (size_t i = 0; i < 12; i++)
		x[i] = log(step[i]);
	k = stats_edivisive(x, 12, 2, 0.05, 999, 1, cp, 12);
	ok(k == 1 && cp[0].at == 4 && cp[0].p <= 0.01,
	   "e-divisive: a halving after 4 of 12 values is one change point at 4 (found %d, at %zu, p %.3g)",
	   k, k > 0 ? cp[0].at : 0, k > 0 ? cp[0].p : 1.0);
	for (size_t i = 0; i < 6; i++)
		x[i] = log(flat[i]);
	k = stats_edivisive(x, 6, 2, 0.05, 999, 1, cp, 6);
	ok(k == 0, "e-divisive: no change point in 6 flat values (found %d)", k);

	any = history_sim(HN, 0, 0, false, 400, 71, NULL);
	ok(any <= 0.05 + 0.033, "history without a change, no run offsets: %.1f%% of histories have a strong change point",
	   any * 100);
	any = history_sim(HN, 0, 0.05, false, 400, 72, NULL);
	ok(any <= 0.05 + 0.033, "history without a change, run offsets of 5%%: %.1f%% of histories have a strong change point",
	   any * 100);
	history_sim(12, 0.15, 0, false, 400, 73, &at);
	ok(at >= 0.95, "a 15%% drop at commit 12 of 24, no run offsets: found there in %.1f%%",
	   at * 100);
	history_sim(12, 0.15, 0.03, false, 400, 74, &at);
	ok(at >= 0.90, "the same drop with run offsets of 3%%: found there in %.1f%%",
	   at * 100);
	history_sim(12, 0.08, 0.10, true, 400, 75, &at);
	ok(at >= 0.90, "an 8%% drop under run offsets of 10%%, paired with a reference kernel: found there in %.1f%%",
	   at * 100);
}

int main(int argc, char **argv)
{
	struct an_gate_opts o = AN_GATE_OPTS_DEFAULT;
	struct scenario sc = { .sd = 0.02, .k = 1, .n = 5, .higher = true,
			       .aa = 5 };
	size_t trials = 20000;
	bool one = false, do_table = false;
	int ch;

	static const struct option opts[] = {
		{ "table", no_argument, NULL, 'T' },
		{ "trials", required_argument, NULL, 't' },
		{ "sd", required_argument, NULL, 's' },
		{ "k", required_argument, NULL, 'k' },
		{ "n", required_argument, NULL, 'n' },
		{ "shift", required_argument, NULL, 'x' },
		{ "shifted", required_argument, NULL, 'S' },
		{ "contaminate", no_argument, NULL, 'c' },
		{ "no-holm", no_argument, NULL, 'H' },
		{ "fdr", no_argument, NULL, 'F' },
		{ "run-sd", required_argument, NULL, 'r' },
		{ "shared", no_argument, NULL, 'R' },
		{ "mixed", no_argument, NULL, 'X' },
		{ "drift", required_argument, NULL, 'd' },
		{ "noise", required_argument, NULL, 'N' },
		{ "aa", required_argument, NULL, 'a' },
		{ 0 }
	};

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
		case 'S':
			sc.shifted = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			sc.contaminate = true;
			break;
		case 'H':
			o.adjust = AN_ADJ_NONE;
			break;
		case 'F':
			o.adjust = AN_ADJ_BH;
			break;
		case 'r':
			sc.run_sd = strtod(optarg, NULL);
			one = true;
			break;
		case 'R':
			sc.shared = true;
			break;
		case 'X':
			sc.mixed = true;
			break;
		case 'd':
			sc.drift = strtod(optarg, NULL);
			one = true;
			break;
		case 'N':
			sc.noise = !strcmp(optarg, "aa") ? NOISE_AA :
				   !strcmp(optarg, "unknown") ? NOISE_UNKNOWN :
				   NOISE_NAIVE;
			break;
		case 'a':
			sc.aa = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (sc.k > MAXK || sc.n > MAXN || sc.n < 2 || sc.aa < 2 ||
	    sc.aa > MAXAA || sc.shifted > sc.k)
		return 2;
	if (do_table) {
		table(trials, &o);
		return 0;
	}
	if (one) {
		struct result res = simulate(&sc, &o, trials, 1);

		printf("A/A failure rate %.4f, power %.4f, mean FDP %.4f, undecided %.4f\n",
		       res.fail, res.power, res.fdp, res.undecided);
		return 0;
	}

	test_min_effect();
	test_interval_agrees();
	test_zero_and_negative();
	test_direction();
	test_options();

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
		r = simulate(&aa2, &nomin, trials, 11).fail;
		ok(r <= o.alpha + 0.01, "A/A, one metric, sd 0.02, no min effect: %.2f%% of trials fail (alpha %g)",
		   r * 100, o.alpha);
		r = simulate(&aa, &nomin, trials, 12).fail;
		ok(r <= o.alpha + 0.01, "A/A, 39 metrics with Holm, no min effect: %.2f%% of trials fail",
		   r * 100);
		r = simulate(&aa1, &nomin, trials, 13).fail;
		ok(r <= o.alpha + 0.01, "A/A, sd 0.3 with 10%% slow outliers, latency metric: %.2f%% fail",
		   r * 100);
		r = simulate(&aa, &o, trials, 14).fail;
		ok(r <= o.alpha, "A/A, 39 metrics, default gate: %.2f%% of trials fail", r * 100);
		r = simulate(&pw, &o, trials, 15).power;
		ok(r >= 0.95, "10%% IOPS drop, sd 0.02, 5 per side: caught %.2f%%", r * 100);
		r = simulate(&pwl, &o, trials, 16).power;
		ok(r >= 0.95, "10%% latency rise, sd 0.02, 5 per side: caught %.2f%%", r * 100);
		r = simulate(&pw39, &o, trials, 17).power;
		ok(r >= 0.95, "10%% drop in 1 of 39 metrics with Holm, sd 0.02: caught %.2f%%",
		   r * 100);
	}
	/*
	 * The unit of replication: two separate runs, 39 series of both
	 * directions (what the issue measured with the real gate: 10-17 %
	 * false alarms for a run offset of 2 %, 33 % and 100 % for a drift of
	 * 0.5 % per repetition at n = 5 and 10).
	 */
	trials = 2000;
	{
		struct scenario off = { .sd = 0.02, .k = 39, .n = 5, .mixed = true,
					.run_sd = 0.02, .shared = true, .aa = 5 };
		struct scenario own = off;
		struct scenario dr5 = { .sd = 0.02, .k = 39, .n = 5, .mixed = true,
					.drift = -0.005, .aa = 5 };
		struct scenario dr10 = dr5;
		struct result res;

		own.shared = false;
		dr10.n = 10;
		res = simulate(&off, &o, trials, 21);
		ok(res.fail > o.alpha, "two runs, one 2%% offset per run, taken as one run (the old gate): %.1f%% of A/A trials fail",
		   res.fail * 100);
		res = simulate(&dr5, &o, trials, 22);
		ok(res.fail > o.alpha, "drift of 0.5%% per repetition, n = 5, runs taken as one: %.1f%% fail",
		   res.fail * 100);
		res = simulate(&dr10, &o, trials, 23);
		ok(res.fail > o.alpha, "drift of 0.5%% per repetition, n = 10, runs taken as one: %.1f%% fail",
		   res.fail * 100);
		off.noise = NOISE_UNKNOWN;
		res = simulate(&off, &o, trials / 10, 24);
		ok(res.undecided == 1 && res.fail == 0,
		   "separate runs, noise unknown: every series cannot be judged (%.0f%%), none regresses",
		   res.undecided * 100);
		off.noise = own.noise = dr5.noise = dr10.noise = NOISE_AA;
		res = simulate(&off, &o, trials, 25);
		ok(res.fail <= o.alpha, "one 2%% offset per run, noise from 5 A/A runs: %.2f%% of A/A trials fail",
		   res.fail * 100);
		res = simulate(&own, &o, trials, 26);
		ok(res.fail <= o.alpha, "a 2%% offset per run and series, noise from 5 A/A runs: %.2f%% fail",
		   res.fail * 100);
		res = simulate(&dr5, &o, trials, 27);
		ok(res.fail <= o.alpha, "drift of 0.5%% per repetition, n = 5, noise from 5 A/A runs: %.2f%% fail",
		   res.fail * 100);
		res = simulate(&dr10, &o, trials, 28);
		ok(res.fail <= o.alpha, "drift of 0.5%% per repetition, n = 10, noise from 5 A/A runs: %.2f%% fail",
		   res.fail * 100);
		own.shift = 0.10;
		own.k = 3;
		res = simulate(&own, &o, trials, 29);
		ok(res.power >= 0.5, "a 2%% offset per run and series, noise from 5 A/A runs: a 10%% drop in 1 of 3 series caught %.1f%%",
		   res.power * 100);
	}
	/* large families: Benjamini-Hochberg against Holm */
	{
		struct scenario big = { .sd = 0.04, .k = 1000, .n = 5,
					.higher = true, .shift = 0.10,
					.shifted = 50 };
		struct an_gate_opts bh = o;
		struct result holm, fdr;

		bh.adjust = AN_ADJ_BH;
		holm = simulate(&big, &o, 40, 31);
		fdr = simulate(&big, &bh, 40, 31);
		ok(fdr.power > holm.power + 0.2,
		   "1000 series, 50 of them 10%% worse, sd 0.04: Benjamini-Hochberg finds %.1f%%, Holm %.1f%%",
		   fdr.power * 100, holm.power * 100);
		ok(fdr.fdp <= o.alpha, "Benjamini-Hochberg's false discovery proportion: %.2f%% (alpha %g)",
		   fdr.fdp * 100, o.alpha);
		ok(holm.fail <= o.alpha, "Holm's family-wise error there: %.1f%%",
		   holm.fail * 100);
	}
	test_history();
	return tap_done();
}

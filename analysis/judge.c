// SPDX-License-Identifier: GPL-2.0
/*
 * judge.c - the gate's decision on pairs of series; shared by
 * 'iommubench gate' and the simulation that validates it
 * (tests/unit/test-gate-sim.c, docs/analysis.md).
 *
 * A pair is a regression when (1) Welch's t-test on the logarithms,
 * one-sided in the metric's bad direction, is significant after the
 * family's adjustment (Holm by default: family-wise error <= alpha;
 * Benjamini-Hochberg with --fdr: false discovery rate <= alpha), and
 * (2) the ratio of geometric means moved by a factor of at least
 * 1 + min_effect in that direction -- the same distance on the log scale
 * for a rate that drops and a latency that rises.  The same rule in the
 * good direction is an improvement, which never fails the gate.
 *
 * Two separate runs are not two sets of independent repetitions: each
 * run's mean carries an offset of its own (host load, placement).  The
 * caller says how large (an_pair_in.tau, from A/A runs); unknown, the
 * pair cannot be judged.  A series that holds a 0 (a count that did not
 * happen) is tested on the values rather than their logs.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "log.h"
#include "util.h"

const char *const an_verdict_names[] = {
	[AN_CLEAN] = "clean",
	[AN_IMPROVED] = "improved",
	[AN_REGRESSED] = "regressed",
	[AN_TOO_FEW] = "too-few",
	[AN_MISSING] = "missing",
	[AN_FAILED] = "failed",
	[AN_UNDECIDED] = "cannot-judge",
	[AN_NEW] = "new",
};

const char *const an_adjust_names[] = {
	[AN_ADJ_HOLM] = "holm",
	[AN_ADJ_BH] = "bh",
	[AN_ADJ_NONE] = "none",
};

/*
 * Rates are better when higher: a unit per second (ops/s, B/s, calls/s)
 * or, without a unit, a name that says so (.iops, .bw, .rate, _rate:
 * trace.fq_flush.timer_rate).  Everything else -- latencies in ns,
 * exposure windows -- is better when lower.
 */
bool an_higher_is_better(const char *metric, const char *unit)
{
	static const char *const rates[] = { "ops/s", "B/s", "calls/s" };
	static const char *const names[] = { ".iops", ".bw", ".rate", "_rate" };

	for (size_t i = 0; unit && i < ARRAY_SIZE(rates); i++)
		if (!strcmp(unit, rates[i]))
			return true;
	if (unit && !strcmp(unit, "ns"))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (str_has_suffix(metric, names[i]))
			return true;
	return false;
}

const char *an_adjust_desc(char *buf, size_t len,
			   const struct an_gate_opts *o, size_t n)
{
	switch (o->adjust) {
	case AN_ADJ_HOLM:
		snprintf(buf, len, "Holm over the %zu judged series (family-wise error <= %g)",
			 n, o->alpha);
		break;
	case AN_ADJ_BH:
		snprintf(buf, len, "Benjamini-Hochberg over the %zu judged series (false discovery rate <= %g)",
			 n, o->alpha);
		break;
	default:
		snprintf(buf, len, "no multiplicity adjustment (each of the %zu series at %g)",
			 n, o->alpha);
	}
	return buf;
}

int an_gate_opt(struct an_gate_opts *o, const char *name, const char *val)
{
	char *end = NULL;

	if (!strcmp(name, "alpha")) {
		o->alpha = strtod(val, &end);
		if (end == val || *end || !(o->alpha > 0 && o->alpha < 0.5)) {
			pr_err("--alpha %s: a number in (0, 0.5)", val);
			return -1;
		}
	} else if (!strcmp(name, "min-effect")) {
		o->min_effect = strtod(val, &end) / 100;
		if (end != val && *end == '%')
			end++;
		if (end == val || *end || !(o->min_effect >= 0 && o->min_effect < 10)) {
			pr_err("--min-effect %s: a percentage, e.g. 5", val);
			return -1;
		}
	} else if (!strcmp(name, "min-reps")) {
		o->min_n = strtoul(val, &end, 10);
		if (end == val || *end || o->min_n < 2 || o->min_n > 100000) {
			pr_err("--min-reps %s: a whole number, at least 2", val);
			return -1;
		}
	} else if (!strcmp(name, "no-holm") || !strcmp(name, "fdr")) {
		enum an_adjust want = name[0] == 'f' ? AN_ADJ_BH : AN_ADJ_NONE;

		if (o->adjust != AN_ADJ_HOLM && o->adjust != want) {
			pr_err("--fdr and --no-holm: one adjustment or none, not both");
			return -1;
		}
		o->adjust = want;
	} else {
		pr_err("--%s: not an option of the gate", name);
		return -1;
	}
	return 0;
}

static bool has_zero(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == 0)
			return true;
	return false;
}

static bool has_negative(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0)
			return true;
	return false;
}

static int adjust(enum an_adjust how, double *p, size_t n)
{
	switch (how) {
	case AN_ADJ_HOLM:
		return stats_holm(p, n);
	case AN_ADJ_BH:
		return stats_bh(p, n);
	default:
		return 0;
	}
}

/*
 * The confidence at which the adjustment tested this series: raw p over
 * adjusted p is the factor by which the adjustment lowered alpha for it
 * (1/m for Bonferroni, 1/(m - k + 1) for Holm's k-th step, k/m for
 * Benjamini-Hochberg's).  A bound at that level excludes "no change"
 * exactly when the adjusted p is <= alpha.
 */
static double series_level(const struct an_gate_opts *o, double p,
			   double p_adj, size_t m)
{
	if (o->adjust == AN_ADJ_NONE)
		return 1 - o->alpha;
	if (p > 0 && p_adj > 0)
		return 1 - o->alpha * p / p_adj;
	return 1 - o->alpha / (m ? m : 1);
}

/* is @ratio at least a factor 1 + min_effect up (@up) or down from 1? */
static bool beyond(double ratio, bool up, double min_log)
{
	if (isnan(ratio))
		return false;
	if (!(ratio > 0))
		return !up;	/* a drop to 0 or below (raw scale) */
	return (up ? log(ratio) : -log(ratio)) >= min_log;
}

/* one pair: the test, or the reason it cannot be done */
static void judge_one(const struct an_gate_opts *o, const struct an_pair_in *in,
		      struct an_judgement *j)
{
	bool raw;

	memset(j, 0, sizeof(*j));
	j->p_bad = j->p_good = j->p_adj = j->p_adj_good = NAN;
	j->effect_log = j->lo = j->hi = j->level_lo = j->level_hi = NAN;
	j->need = o->min_n;
	if (in->na < o->min_n || in->nb < o->min_n) {
		j->verdict = AN_TOO_FEW;
		j->why = "too few repetitions";
		return;
	}
	if (has_negative(in->a, in->na) || has_negative(in->b, in->nb)) {
		j->verdict = AN_UNDECIDED;
		j->why = "negative values: not a quantity whose ratio means anything";
		return;
	}
	if (isnan(in->tau)) {
		j->verdict = AN_UNDECIDED;
		j->why = "two separate runs and no estimate of the noise between runs";
		return;
	}
	raw = has_zero(in->a, in->na) || has_zero(in->b, in->nb);
	if (stats_welch_runs(in->a, in->na, in->b, in->nb, raw, in->tau,
			     in->tau_df, 0.95, &j->welch)) {
		j->verdict = AN_UNDECIDED;
		j->why = "values the test cannot take";
		return;
	}
	j->p_bad = in->higher ? j->welch.p_less : j->welch.p_greater;
	j->p_good = in->higher ? j->welch.p_greater : j->welch.p_less;
	if (raw && j->welch.base == 0 && j->welch.diff == 0) {
		/* 0 in every repetition of both sides: nothing changed */
		j->welch.ratio = j->welch.lo = j->welch.hi = 1;
		j->effect_log = 0;
		j->why = "0 in every repetition on both sides";
	} else {
		double l = j->welch.ratio > 0 ? log(j->welch.ratio) :
			   j->welch.ratio == 0 ? -INFINITY : NAN;

		j->effect_log = in->higher ? -l : l;
	}
	j->verdict = AN_CLEAN;
}

int an_judge(const struct an_gate_opts *o, size_t n,
	     const struct an_pair_in *in, struct an_judgement *out)
{
	double *pb = NULL, *pg = NULL, min_log = log1p(o->min_effect) - 1e-12;
	size_t *idx = NULL, m = 0;
	int ret = -1;

	if (n) {
		pb = malloc(n * sizeof(*pb));
		pg = malloc(n * sizeof(*pg));
		idx = malloc(n * sizeof(*idx));
		if (!pb || !pg || !idx) {
			errno = ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		judge_one(o, &in[i], &out[i]);
		if (out[i].verdict != AN_CLEAN)
			continue;
		pb[m] = out[i].p_bad;
		pg[m] = out[i].p_good;
		idx[m++] = i;
	}
	if (adjust(o->adjust, pb, m) || adjust(o->adjust, pg, m))
		goto out;
	for (size_t k = 0; k < m; k++) {
		const struct an_pair_in *pi = &in[idx[k]];
		struct an_judgement *j = &out[idx[k]];
		/* the level a single pair faces in the worst case of the family */
		double worst = o->adjust == AN_ADJ_NONE ? o->alpha : o->alpha / m;
		double lb, lg;
		size_t need;

		j->p_adj = pb[k];
		j->p_adj_good = pg[k];
		if (j->p_adj <= o->alpha && j->effect_log >= min_log)
			j->verdict = AN_REGRESSED;
		else if (j->p_adj_good <= o->alpha && -j->effect_log >= min_log)
			j->verdict = AN_IMPROVED;
		/* each end of the interval at its side's adjusted level */
		lb = series_level(o, j->p_bad, j->p_adj, m);
		lg = series_level(o, j->p_good, j->p_adj_good, m);
		j->level_lo = pi->higher ? lg : lb;
		j->level_hi = pi->higher ? lb : lg;
		j->lo = stats_welch_bound(&j->welch, j->level_lo, false);
		j->hi = stats_welch_bound(&j->welch, j->level_hi, true);
		/* a rate's bad side is down: its bound is the upper end */
		if (j->verdict == AN_REGRESSED)
			j->clears = pi->higher ? beyond(j->hi, false, min_log) :
						 beyond(j->lo, true, min_log);
		else if (j->verdict == AN_IMPROVED)
			j->clears = pi->higher ? beyond(j->lo, true, min_log) :
						 beyond(j->hi, false, min_log);
		j->within = j->lo > 0 && j->hi > 0 &&
			    fabs(log(j->lo)) < min_log && fabs(log(j->hi)) < min_log;
		if (j->welch.raw && j->welch.base == 0 && j->welch.diff == 0) {
			/* 0 = 0: exactly no change */
			j->lo = j->hi = 1;
			j->within = true;
		}
		need = stats_welch_n_needed_runs(j->welch.sd_log, pi->tau,
						 1 + o->min_effect, worst,
						 o->power);
		j->need = need < o->min_n ? o->min_n : need;
	}
	ret = 0;
out:
	free(pb);
	free(pg);
	free(idx);
	return ret;
}

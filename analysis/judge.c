// SPDX-License-Identifier: GPL-2.0
/*
 * judge.c - the gate's decision on pairs of series; shared by
 * 'iommubench gate' and the simulation that validates it
 * (tests/unit/test-gate-sim.c, docs/analysis.md).
 *
 * A pair is a regression when (1) Welch's t-test on the logarithms,
 * one-sided in the metric's bad direction, is significant after Holm's
 * adjustment over every judged pair (family-wise error <= alpha), and
 * (2) the ratio of geometric means moved by at least min_effect in that
 * direction.  The same rule in the good direction is an improvement,
 * which never fails the gate.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "util.h"

const char *const an_verdict_names[] = {
	[AN_CLEAN] = "clean",
	[AN_IMPROVED] = "improved",
	[AN_REGRESSED] = "regressed",
	[AN_TOO_FEW] = "too-few",
	[AN_MISSING] = "missing",
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

int an_judge(const struct an_gate_opts *o, size_t n,
	     const double *const *a, const size_t *na,
	     const double *const *b, const size_t *nb, const bool *higher,
	     struct an_judgement *out)
{
	double *pb = NULL, *pg = NULL;
	size_t *idx = NULL, m = 0;

	if (n) {
		pb = malloc(n * sizeof(*pb));
		pg = malloc(n * sizeof(*pg));
		idx = malloc(n * sizeof(*idx));
		if (!pb || !pg || !idx) {
			free(pb);
			free(pg);
			free(idx);
			errno = ENOMEM;
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct an_judgement *j = &out[i];

		memset(j, 0, sizeof(*j));
		j->p_bad = j->p_good = j->p_adj = j->p_adj_good = NAN;
		j->effect = NAN;
		j->need = o->min_n;
		if (na[i] < o->min_n || nb[i] < o->min_n ||
		    stats_welch_log(a[i], na[i], b[i], nb[i], 0.95, &j->welch)) {
			j->verdict = AN_TOO_FEW;
			continue;
		}
		j->p_bad = higher[i] ? j->welch.p_less : j->welch.p_greater;
		j->p_good = higher[i] ? j->welch.p_greater : j->welch.p_less;
		j->effect = higher[i] ? 1 - j->welch.ratio : j->welch.ratio - 1;
		pb[m] = j->p_bad;
		pg[m] = j->p_good;
		idx[m++] = i;
	}
	if (o->holm && (stats_holm(pb, m) || stats_holm(pg, m))) {
		free(pb);
		free(pg);
		free(idx);
		return -1;
	}
	for (size_t k = 0; k < m; k++) {
		struct an_judgement *j = &out[idx[k]];
		/* the level a single pair faces in the worst case of Holm */
		double level = o->holm ? o->alpha / m : o->alpha;
		size_t need;

		j->p_adj = pb[k];
		j->p_adj_good = pg[k];
		if (j->p_adj <= o->alpha && j->effect >= o->min_effect)
			j->verdict = AN_REGRESSED;
		else if (j->p_adj_good <= o->alpha && -j->effect >= o->min_effect)
			j->verdict = AN_IMPROVED;
		else
			j->verdict = AN_CLEAN;
		need = stats_welch_n_needed(j->welch.sd_log, 1 + o->min_effect,
					    level, o->power);
		j->need = need < o->min_n ? o->min_n : need;
	}
	free(pb);
	free(pg);
	free(idx);
	return 0;
}

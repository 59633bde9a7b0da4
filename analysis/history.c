// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - the engine of 'iommubench history' (bench/cli/cmd-history.c):
 * a metric (or the metrics a glob matches) per kernel commit across every
 * run of the index, with change points
 *
 * One value per commit: the median of its repetitions, or, with
 * --baseline-kernel K, the median of its repetitions each divided by the
 * median of K's repetitions in the same run (the paired ratio of runs that
 * interleave a reference kernel's boots with the commit's).  The
 * repetitions of one run are not independent evidence about a commit --
 * they share the run's offset -- so they are reduced to one value before
 * any test.
 *
 * Change points: e-divisive means (stats_edivisive()) on the logarithms of
 * those values, each split accepted by a permutation test.  A change point
 * is strong when its p <= --alpha and the values moved by a factor of at
 * least 1 + --min-effect between the segments around it; weak when it was
 * found at --weak-alpha but is not strong.  docs/analysis.md says why.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* segments shorter than this are not split off: one commit is no change */
#define HIST_MIN_SEGMENT	2

static bool kernel_selected(const struct an_history_req *o, const char *kernel,
			    const char *release, const char *version)
{
	if (!o->nkernels)
		return true;
	for (size_t i = 0; i < o->nkernels; i++)
		if ((kernel && !strcmp(kernel, o->kernels[i])) ||
		    (release && !strcmp(release, o->kernels[i])) ||
		    (version && !strcmp(version, o->kernels[i])))
			return true;
	return false;
}

static bool kernel_is(const char *want, const char *kernel,
		      const char *release, const char *version)
{
	return (kernel && !strcmp(kernel, want)) ||
	       (release && !strcmp(release, want)) ||
	       (version && !strcmp(version, want));
}

/*
 * One row of the metric: a cell's value with its configuration, commit
 * key and run.  @base: the row is of the --baseline-kernel.
 */
typedef int (*row_fn)(void *arg, const char *const dim[], const char *unit,
		      const char *key, const char *run, bool base,
		      double value);

static int scan(sqlite3 *db, const struct an_history_req *o, row_fn fn, void *arg)
{
	/* a metric's name finds its rows by the index; a glob reads them all */
	bool glob = strpbrk(o->metric, "*?[\\") != NULL;
	/* the glob as an_metric_selected() takes patterns; it writes none */
	char *const pat[] = { (char *)o->metric };
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, glob ?
		"SELECT c.kernel, c.iommu, c.policy, c.workload, m.metric, m.unit,"
		" m.value, c.kernel_commit, c.kernel_version, c.kernel_release, c.run_id"
		" FROM metrics m JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id"
		" JOIN runs r ON r.run_id = c.run_id"
		" WHERE ?1 IS NOT NULL AND c.status = 'ok'"
		"  AND (?2 IS NULL OR c.policy = ?2) AND (?3 IS NULL OR c.iommu = ?3)"
		"  AND (?4 IS NULL OR c.workload = ?4)"
		" ORDER BY r.started, r.run_id, c.seq" :
		"SELECT c.kernel, c.iommu, c.policy, c.workload, m.metric, m.unit,"
		" m.value, c.kernel_commit, c.kernel_version, c.kernel_release, c.run_id"
		" FROM metrics m JOIN cells c ON c.run_id = m.run_id AND c.cell_id = m.cell_id"
		" JOIN runs r ON r.run_id = c.run_id"
		" WHERE m.metric = ?1 AND c.status = 'ok'"
		"  AND (?2 IS NULL OR c.policy = ?2) AND (?3 IS NULL OR c.iommu = ?3)"
		"  AND (?4 IS NULL OR c.workload = ?4)"
		" ORDER BY r.started, r.run_id, c.seq", -1, &st, NULL) != SQLITE_OK) {
		pr_err("index: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, o->metric, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->iommu, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->workload, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *dim[AN_NR_DIMS], *commit, *ver, *rel;
		char key[256];
		bool base;

		for (int d = 0; d < AN_NR_DIMS; d++)
			dim[d] = (const char *)sqlite3_column_text(st, d);
		if (glob && !an_metric_selected(dim[AN_METRIC], pat, 1))
			continue;
		commit = (const char *)sqlite3_column_text(st, 7);
		ver = (const char *)sqlite3_column_text(st, 8);
		rel = (const char *)sqlite3_column_text(st, 9);
		base = o->base_kernel &&
		       kernel_is(o->base_kernel, dim[AN_KERNEL], rel, ver);
		if (!base && !kernel_selected(o, dim[AN_KERNEL], rel, ver))
			continue;
		/* a commit when the kernel has one, else its package version */
		snprintf(key, sizeof(key), "%s", commit && *commit ? commit :
			 ver && *ver ? ver : rel ? rel : dim[AN_KERNEL]);
		/* the line is (iommu, policy, workload): the kernel is the x axis */
		dim[AN_KERNEL] = "*";
		if (fn(arg, dim, (const char *)sqlite3_column_text(st, 5), key,
		       (const char *)sqlite3_column_text(st, 10), base,
		       sqlite3_column_double(st, 6))) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pr_err("index: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

struct load {
	struct an_dataset *ds;		/* the points: one series per commit */
	struct an_dataset base;		/* --baseline-kernel: one per run */
	double *base_median;		/* of base.s[i] */
	double row;
	size_t unpaired;		/* values of runs without the baseline */
};

static int add_point(struct load *l, const char *const dim[],
		     const char *unit, const char *key, double v)
{
	struct an_series *s = an_add(l->ds, dim, unit, key, v);

	if (!s)
		return -1;
	if (l->row < s->order)
		s->order = l->row;
	l->row++;
	return 0;
}

static int row_plain(void *arg, const char *const dim[], const char *unit,
		     const char *key, const char *run, bool base, double v)
{
	(void)run;
	(void)base;
	return add_point(arg, dim, unit, key, v);
}

/* pass 1 of the paired history: the baseline kernel's values per run */
static int row_base(void *arg, const char *const dim[], const char *unit,
		    const char *key, const char *run, bool base, double v)
{
	struct load *l = arg;

	(void)key;
	if (!base)
		return 0;
	return an_add(&l->base, dim, unit, run, v) ? 0 : -1;
}

/* pass 2: every other kernel's values over that median of their run */
static int row_paired(void *arg, const char *const dim[], const char *unit,
		      const char *key, const char *run, bool base, double v)
{
	struct load *l = arg;

	(void)unit;	/* a ratio has none */
	if (base)
		return 0;
	for (size_t i = 0; i < l->base.n; i++) {
		const struct an_series *b = &l->base.s[i];

		if (strcmp(b->commit, run) ||
		    strcmp(b->dim[AN_METRIC], dim[AN_METRIC]) ||
		    strcmp(b->dim[AN_IOMMU], dim[AN_IOMMU]) ||
		    strcmp(b->dim[AN_POLICY], dim[AN_POLICY]) ||
		    strcmp(b->dim[AN_WORKLOAD], dim[AN_WORKLOAD]))
			continue;
		if (!(l->base_median[i] > 0))
			break;
		return add_point(l, dim, "ratio", key, v / l->base_median[i]);
	}
	l->unpaired++;
	return 0;
}

static int load_history(sqlite3 *db, const struct an_history_req *o,
			struct an_dataset *ds)
{
	struct load l = { .ds = ds };
	int ret = -1;

	an_dataset_init(&l.base);
	if (!o->base_kernel)
		return scan(db, o, row_plain, &l);
	if (scan(db, o, row_base, &l))
		goto out;
	if (!l.base.n) {
		pr_err("no ok cell of kernel %s has metric %s: nothing to take ratios to",
		       o->base_kernel, o->metric);
		goto out;
	}
	l.base_median = malloc(l.base.n * sizeof(*l.base_median));
	if (!l.base_median)
		goto out;
	for (size_t i = 0; i < l.base.n; i++)
		l.base_median[i] = stats_median(l.base.s[i].v, l.base.s[i].n);
	if (scan(db, o, row_paired, &l))
		goto out;
	if (l.unpaired)
		pr_warn("%zu values left out: their run has no ok cell of kernel %s in the same configuration",
			l.unpaired, o->base_kernel);
	ret = 0;
out:
	free(l.base_median);
	an_dataset_free(&l.base);
	return ret;
}

/* what history found at a point */
enum cp_kind {
	CP_NONE,
	CP_WEAK,
	CP_STRONG,
};

static const char *const cp_names[] = { "", "weak", "strong" };

struct cp {
	enum cp_kind kind;
	double p;
	double ratio;		/* median of the segment after / before */
};

/* the median of points [from, to) */
static double seg_median(const double *val, size_t from, size_t to)
{
	return stats_median(val + from, to - from);
}

static int change_points(const double *val, size_t n, const struct an_history_req *o,
			 uint64_t seed, struct cp *cp)
{
	struct stats_cp *found = calloc(n + 1, sizeof(*found));
	double *x = malloc((n + 1) * sizeof(*x)), min_log;
	bool logs = true;
	int k;

	if (!found || !x) {
		free(found);
		free(x);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		cp[i] = (struct cp){ .kind = CP_NONE, .p = NAN, .ratio = NAN };
		logs &= val[i] > 0;
	}
	/* on logs: a halving and a doubling are the same distance */
	for (size_t i = 0; i < n; i++)
		x[i] = logs ? log(val[i]) : val[i];
	k = stats_edivisive(x, n, HIST_MIN_SEGMENT, o->weak_alpha, o->perms,
			    seed, found, n);
	if (k < 0) {
		free(found);
		free(x);
		return -1;
	}
	min_log = log1p(o->min_effect) - 1e-12;
	for (int i = 0; i < k; i++) {
		size_t at = found[i].at;
		size_t from = i ? found[i - 1].at : 0;
		size_t to = i + 1 < k ? found[i + 1].at : n;
		double before = seg_median(val, from, at);
		double after = seg_median(val, at, to);
		struct cp *c = &cp[at];

		c->p = found[i].p;
		c->ratio = after / before;
		c->kind = c->p <= o->alpha && before > 0 && after > 0 &&
			  fabs(log(c->ratio)) >= min_log ? CP_STRONG : CP_WEAK;
	}
	free(found);
	free(x);
	return 0;
}

/* a point's value: a median in its unit, a ratio (--baseline-kernel) bare */
static const char *point_fmt(char *buf, size_t len, double v,
			     const struct an_series *s, const struct an_history_req *o)
{
	if (o->base_kernel)
		return an_fmt(buf, len, v);
	return an_fmt_unit(buf, len, v, s->unit, s->dim[AN_METRIC]);
}

/* where and how the lines go */
struct hout {
	const struct an_history_req *o;
	enum an_format fmt;		/* AN_TEXT, AN_CSV, or AN_JSON (--json) */
	bool several;			/* --metric matched several metrics */
	struct json_object *jroot;	/* AN_JSON: the document */
	struct json_object *jlines;	/* and its lines */
	char **plots;			/* --plot: the plots drawn */
	size_t nplots;
};

/* The table's header of a line, its metric's name first when several. */
static void text_line_head(const struct hout *h, const struct an_series *s,
			   struct an_table *t)
{
	const struct an_history_req *o = h->o;

	if (h->several)
		printf("\n%s (%s%s%s is better): ", s->dim[AN_METRIC],
		       o->base_kernel ? "" : s->unit, o->base_kernel ? "" : ", ",
		       an_higher_is_better(s->dim[AN_METRIC],
					   o->base_kernel ? NULL : s->unit) ?
		       "higher" : "lower");
	else
		putchar('\n');
	printf("%s / %s / %s\n", s->dim[AN_IOMMU], s->dim[AN_POLICY],
	       s->dim[AN_WORKLOAD]);
	an_table_row(t);
	an_table_cell(t, "#");
	an_table_cell(t, "commit");
	an_table_cell(t, "n");
	an_table_cell(t, "%s", o->base_kernel ? "ratio" : "median");
	an_table_cell(t, "95%% CI");
	an_table_cell(t, "vs prev");
}

/* The JSON object of a line, added to the document; its points array. */
static struct json_object *json_line(const struct hout *h,
				     const struct an_series *s)
{
	struct json_object *jl = json_object_new_object();
	struct json_object *jp = json_object_new_array();

	json_object_object_add(jl, "metric", json_object_new_string(s->dim[AN_METRIC]));
	json_object_object_add(jl, "unit", json_object_new_string(s->unit));
	json_object_object_add(jl, "iommu", json_object_new_string(s->dim[AN_IOMMU]));
	json_object_object_add(jl, "policy", json_object_new_string(s->dim[AN_POLICY]));
	json_object_object_add(jl, "workload", json_object_new_string(s->dim[AN_WORKLOAD]));
	json_object_object_add(jl, "points", jp);
	json_object_array_add(h->jlines, jl);
	return jp;
}

/* Point @i of a line, in the output's format. */
static void point_out(const struct hout *h, struct an_series *const *pt,
		      size_t i, const struct stats_ci *ci, const struct cp *cp,
		      struct an_table *t, struct json_object *jp)
{
	const struct an_series *s = pt[0];
	char a[32], b[32], c[32];
	struct json_object *o2;

	if (h->fmt == AN_TEXT) {
		an_table_row(t);
		an_table_cell(t, "%zu", i + 1);
		an_table_cell(t, "%.12s", pt[i]->commit);
		an_table_cell(t, "%zu", pt[i]->n);
		an_table_cell(t, "%s", point_fmt(a, sizeof(a), ci[i].est, s, h->o));
		an_table_cell(t, "[%s, %s]",
			      point_fmt(b, sizeof(b), ci[i].lo, s, h->o),
			      point_fmt(c, sizeof(c), ci[i].hi, s, h->o));
		if (i)
			an_table_cell(t, "%+.1f%%", (ci[i].est / ci[i - 1].est - 1) * 100);
		else
			an_table_cell(t, "%s", "");
		if (cp[i].kind)
			an_table_cell(t, "<- %s change point: %+.1f%% (p %.2g)",
				      cp_names[cp[i].kind],
				      (cp[i].ratio - 1) * 100, cp[i].p);
		return;
	}
	if (h->fmt == AN_CSV) {
		printf("%s,%s,%s,%s,%zu,%s,%zu,%.10g,%.10g,%.10g,%s,",
		       s->dim[AN_METRIC], s->dim[AN_IOMMU], s->dim[AN_POLICY],
		       s->dim[AN_WORKLOAD], i + 1, pt[i]->commit, pt[i]->n,
		       ci[i].est, ci[i].lo, ci[i].hi, cp_names[cp[i].kind]);
		if (cp[i].kind)
			printf("%.4g,%.6g", cp[i].p, cp[i].ratio);
		else
			putchar(',');
		putchar('\n');
		return;
	}
	o2 = json_object_new_object();
	json_object_object_add(o2, "commit", json_object_new_string(pt[i]->commit));
	json_object_object_add(o2, "n", json_object_new_int64(pt[i]->n));
	json_object_object_add(o2, "value", json_object_new_double(ci[i].est));
	json_object_object_add(o2, "ci_lo", json_object_new_double(ci[i].lo));
	json_object_object_add(o2, "ci_hi", json_object_new_double(ci[i].hi));
	json_object_object_add(o2, "change", cp[i].kind ?
			       json_object_new_string(cp_names[cp[i].kind]) : NULL);
	json_object_object_add(o2, "p", cp[i].kind ?
			       json_object_new_double(cp[i].p) : NULL);
	json_object_object_add(o2, "change_ratio", cp[i].kind ?
			       json_object_new_double(cp[i].ratio) : NULL);
	json_object_array_add(jp, o2);
}

/* The trend plot of a line into --plot DIR, strong change points marked. */
static int plot_line(struct hout *h, struct an_series *const *pt, size_t n,
		     const struct stats_ci *ci, const struct cp *cp)
{
	const struct an_series *s = pt[0];
	const char **label = calloc(n, sizeof(*label));
	bool *mark = calloc(n, sizeof(*mark));
	char raw[256], name[256], title[256];
	size_t k = 0;
	int ret = -1;

	if (!label || !mark)
		goto out;
	for (size_t i = 0; i < n; i++) {
		label[i] = pt[i]->commit;
		mark[i] = cp[i].kind == CP_STRONG;
	}
	snprintf(raw, sizeof(raw), "trend-%s-%s-%s-%s", s->dim[AN_METRIC],
		 s->dim[AN_IOMMU], s->dim[AN_POLICY], s->dim[AN_WORKLOAD]);
	for (size_t i = 0; raw[i] && k + 1 < sizeof(name); i++)
		name[k++] = (raw[i] >= 'a' && raw[i] <= 'z') ||
			    (raw[i] >= '0' && raw[i] <= '9') || raw[i] == '-' ?
			    raw[i] : '_';
	name[k] = '\0';
	snprintf(title, sizeof(title), "%s (%s) per kernel commit: %s, %s, %s",
		 s->dim[AN_METRIC], s->unit, s->dim[AN_IOMMU],
		 s->dim[AN_POLICY], s->dim[AN_WORKLOAD]);
	ret = an_plot_trend(h->o->plot_dir, name, title, s->unit, n, label, ci,
			    mark, &h->plots, &h->nplots);
out:
	free(label);
	free(mark);
	return ret;
}

/* One line: (metric, iommu, policy, workload), a point per commit. */
static int line_out(struct hout *h, struct an_series *const *pt, size_t n)
{
	const struct an_history_req *o = h->o;
	struct stats_ci *ci = calloc(n, sizeof(*ci));
	struct cp *cp = calloc(n, sizeof(*cp));
	double *val = calloc(n + 1, sizeof(*val));
	const struct an_series *s = pt[0];
	struct json_object *jp = NULL;
	char line[256];
	struct an_table t;
	int ret = -1;

	an_table_init(&t, "rlrrlrl");
	if (!ci || !cp || !val)
		goto out;
	/* one value per commit */
	for (size_t i = 0; i < n; i++) {
		stats_median_ci(pt[i]->v, pt[i]->n, 0.95, 1, &ci[i]);
		val[i] = ci[i].est;
	}
	/* a line's permutations do not depend on the other lines */
	snprintf(line, sizeof(line), "%s/%s/%s", s->dim[AN_IOMMU],
		 s->dim[AN_POLICY], s->dim[AN_WORKLOAD]);
	if (change_points(val, n, o, o->seed ^ str_hash(line, STR_HASH_INIT), cp))
		goto out;
	if (h->fmt == AN_TEXT)
		text_line_head(h, s, &t);
	else if (h->fmt == AN_JSON)
		jp = json_line(h, s);
	for (size_t i = 0; i < n; i++)
		point_out(h, pt, i, ci, cp, &t, jp);
	if (h->fmt == AN_TEXT && an_table_print(&t, stdout, "  "))
		goto out;
	if (o->plot_dir && n > 1 && plot_line(h, pt, n, ci, cp))
		goto out;
	ret = 0;
out:
	an_table_free(&t);
	free(ci);
	free(cp);
	free(val);
	return ret;
}

/* What the text says before the lines: what a value is, what a change. */
static void text_head(const struct hout *h, const struct an_dataset *ds)
{
	const struct an_history_req *o = h->o;
	const char *m = ds->s[0].dim[AN_METRIC];

	if (h->several)
		printf("%s: one line per metric, vIOMMU, policy and workload, ",
		       o->metric);
	if (o->base_kernel && h->several)
		printf("per kernel commit as a ratio to kernel %s in the same run (median of the commit's repetitions over the median of %s's)\n",
		       o->base_kernel, o->base_kernel);
	else if (h->several)
		printf("per kernel commit (median of its repetitions)\n");
	else if (o->base_kernel)
		printf("%s (%s is better) per kernel commit, as a ratio to kernel %s in the same run (median of the commit's repetitions over the median of %s's)\n",
		       m, an_higher_is_better(m, NULL) ? "higher" : "lower",
		       o->base_kernel, o->base_kernel);
	else
		printf("%s (%s, %s is better) per kernel commit (median of its repetitions)\n",
		       m, ds->s[0].unit,
		       an_higher_is_better(m, ds->s[0].unit) ? "higher" : "lower");
	printf("change points: e-divisive means on the log of one value per commit, permutation test (%zu permutations, seed %llu); strong: p <= %g and a change by a factor of at least %.4g%%; weak: p <= %g\n",
	       o->perms, (unsigned long long)o->seed, o->alpha,
	       o->min_effect * 100, o->weak_alpha);
}

/* The JSON document (iommubench.history/2) the lines are added to. */
static void json_head(struct hout *h, const struct an_dataset *ds)
{
	const struct an_history_req *o = h->o;
	struct json_object *jroot = json_object_new_object();

	h->jroot = jroot;
	h->jlines = json_object_new_array();
	json_object_object_add(jroot, "schema", json_object_new_string("iommubench.history/2"));
	json_object_object_add(jroot, "metric", json_object_new_string(o->metric));
	json_object_object_add(jroot, "unit", h->several ? NULL :
			       json_object_new_string(ds->s[0].unit));
	json_object_object_add(jroot, "value", json_object_new_string(
			       o->base_kernel ? "ratio" : "median"));
	json_object_object_add(jroot, "baseline_kernel", o->base_kernel ?
			       json_object_new_string(o->base_kernel) : NULL);
	json_object_object_add(jroot, "alpha", json_object_new_double(o->alpha));
	json_object_object_add(jroot, "weak_alpha", json_object_new_double(o->weak_alpha));
	json_object_object_add(jroot, "min_effect", json_object_new_double(o->min_effect));
	json_object_object_add(jroot, "permutations", json_object_new_int64(o->perms));
	json_object_object_add(jroot, "seed", json_object_new_int64(o->seed));
	json_object_object_add(jroot, "lines", h->jlines);
}

/* Every line of @ds (sorted by line, points in first-seen order). */
static int lines_out(struct hout *h, const struct an_dataset *ds)
{
	for (size_t i = 0; i < ds->n;) {
		struct an_series **pt;
		size_t j = i;
		int ret;

		while (j < ds->n && ds->s[j].dim[AN_METRIC] == ds->s[i].dim[AN_METRIC] &&
		       ds->s[j].dim[AN_IOMMU] == ds->s[i].dim[AN_IOMMU] &&
		       ds->s[j].dim[AN_POLICY] == ds->s[i].dim[AN_POLICY] &&
		       ds->s[j].dim[AN_WORKLOAD] == ds->s[i].dim[AN_WORKLOAD])
			j++;
		pt = malloc((j - i) * sizeof(*pt));
		if (!pt)
			return -1;
		for (size_t k = i; k < j; k++)
			pt[k - i] = &ds->s[k];
		ret = line_out(h, pt, j - i);
		free(pt);
		if (ret)
			return -1;
		i = j;
	}
	return 0;
}

/* Show the history of @ds; the plots drawn are listed in @h. */
static int history_out(struct hout *h, struct an_dataset *ds)
{
	const struct an_history_req *o = h->o;

	/* lines: (metric, iommu, policy, workload); points in first-seen order */
	an_sort(ds, AN_KERNEL);
	for (size_t i = 1; i < ds->n; i++)
		h->several |= ds->s[i].dim[AN_METRIC] != ds->s[0].dim[AN_METRIC];
	if (h->fmt == AN_TEXT)
		text_head(h, ds);
	else if (h->fmt == AN_CSV)
		printf("metric,iommu,policy,workload,index,commit,n,value,ci_lo,ci_hi,change,p,change_ratio\n");
	else
		json_head(h, ds);
	if (lines_out(h, ds))
		return -1;
	if (h->jroot && json_output(o->json, h->jroot))
		return -1;
	for (size_t i = 0; i < h->nplots; i++) {
		if (h->fmt == AN_TEXT)
			printf("plot: %s/%s.png\n", o->plot_dir, h->plots[i]);
		else
			pr_info("plot: %s/%s.png", o->plot_dir, h->plots[i]);
	}
	return an_stdout_done();
}

int an_history(const struct an_history_req *req)
{
	const char *root = req->root ? req->root : "results";
	struct hout h = { .o = req, .fmt = req->json ? AN_JSON : req->fmt };
	struct an_dataset ds;
	sqlite3 *db;
	int ret = -1;

	if (req->plot_dir && mkdir_p(req->plot_dir, 0755)) {
		pr_err("%s: %s", req->plot_dir, strerror(errno));
		return -1;
	}
	db = store_open_readonly(root);
	if (!db)
		return -1;
	an_dataset_init(&ds);
	if (load_history(db, req, &ds))
		goto out;
	if (!ds.n) {
		pr_err("no ok cell in %s/index.sqlite has metric %s%s", root,
		       req->metric, req->nkernels || req->policy || req->iommu ||
		       req->workload || req->base_kernel ? " (with these filters)" : "");
		goto out;
	}
	ret = history_out(&h, &ds);
out:
	for (size_t i = 0; i < h.nplots; i++)
		free(h.plots[i]);
	free(h.plots);
	json_object_put(h.jroot);
	an_dataset_free(&ds);
	sqlite3_close(db);
	return ret;
}

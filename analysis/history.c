// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - 'iommubench history': one metric per kernel commit across
 * every run of the index, with change points
 *
 * Change points: a sliding-window two-sample test.  At every boundary
 * between consecutive commits, the repetitions of the W commits before it
 * are compared with those of the W commits after it by Welch's t-test on
 * the logarithms (two-sided), Holm-adjusted over the boundaries of the
 * line; a boundary is a change point when the adjusted p <= alpha, the
 * ratio moved by at least min_effect, and it has the largest |t| among
 * the candidate boundaries within W of it.  Why not e-divisive: see
 * docs/analysis.md.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "exitcodes.h"

struct hopts {
	const char *metric;
	char *kernels[32];
	size_t nkernels;
	const char *policy;
	const char *iommu;
	const char *workload;
	size_t window;
	double alpha;
	double min_effect;
	const char *plot_dir;
	enum an_format fmt;
};

static bool kernel_selected(const struct hopts *o, const char *kernel,
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

static int load_history(sqlite3 *db, const struct hopts *o,
			struct an_dataset *ds)
{
	sqlite3_stmt *st;
	double row = 0;
	int rc;

	if (sqlite3_prepare_v2(db,
		"SELECT c.kernel, c.iommu, c.policy, c.workload, m.metric, m.unit,"
		" m.value, c.kernel_commit, c.kernel_version, c.kernel_release"
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
		struct an_series *s;

		for (int d = 0; d < AN_NR_DIMS; d++)
			dim[d] = (const char *)sqlite3_column_text(st, d);
		commit = (const char *)sqlite3_column_text(st, 7);
		ver = (const char *)sqlite3_column_text(st, 8);
		rel = (const char *)sqlite3_column_text(st, 9);
		if (!kernel_selected(o, dim[AN_KERNEL], rel, ver))
			continue;
		/* a commit when the kernel has one, else its package version */
		snprintf(key, sizeof(key), "%s", commit && *commit ? commit :
			 ver && *ver ? ver : rel ? rel : dim[AN_KERNEL]);
		/* the line is (iommu, policy, workload): the kernel is the x axis */
		dim[AN_KERNEL] = "*";
		s = an_add(ds, dim, (const char *)sqlite3_column_text(st, 5), key,
			   sqlite3_column_double(st, 6));
		if (!s) {
			sqlite3_finalize(st);
			return -1;
		}
		if (row < s->order)
			s->order = row;
		row++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* the pooled values of points [from, to) */
static size_t pool(struct an_series *const *pt, size_t from, size_t to,
		   double *buf)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		memcpy(buf + n, pt[i]->v, pt[i]->n * sizeof(double));
		n += pt[i]->n;
	}
	return n;
}

struct cp {
	double t;
	double p;
	double ratio;
	bool change;
};

static int change_points(struct an_series *const *pt, size_t n,
			 const struct hopts *o, struct cp *cp)
{
	size_t total = 0, m = 0;
	double *a, *b, *p;

	for (size_t i = 0; i < n; i++)
		total += pt[i]->n;
	a = malloc((total + 1) * sizeof(*a));
	b = malloc((total + 1) * sizeof(*b));
	p = malloc((n + 1) * sizeof(*p));
	if (!a || !b || !p) {
		free(a);
		free(b);
		free(p);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t lo = i > o->window ? i - o->window : 0;
		size_t hi = i + o->window < n ? i + o->window : n;
		size_t na, nb;
		struct stats_welch w;

		cp[i] = (struct cp){ .t = 0, .p = 1, .ratio = NAN };
		if (!i)
			continue;
		na = pool(pt, lo, i, a);
		nb = pool(pt, i, hi, b);
		if (stats_welch_log(a, na, b, nb, 0.95, &w))
			continue;
		cp[i].t = w.t;
		cp[i].p = 2 * fmin(w.p_greater, w.p_less);
		cp[i].ratio = w.ratio;
	}
	for (size_t i = 1; i < n; i++)
		p[m++] = cp[i].p;
	stats_holm(p, m);
	for (size_t i = 1; i < n; i++)
		cp[i].p = p[i - 1];
	for (size_t i = 1; i < n; i++) {
		bool best = cp[i].p <= o->alpha &&
			    fabs(cp[i].ratio - 1) >= o->min_effect;

		for (size_t j = i > o->window ? i - o->window : 1;
		     best && j < n && j <= i + o->window; j++)
			if (j != i && cp[j].p <= o->alpha &&
			    fabs(cp[j].t) > fabs(cp[i].t))
				best = false;
		cp[i].change = best;
	}
	free(a);
	free(b);
	free(p);
	return 0;
}

static int line_out(FILE *f, struct an_series *const *pt, size_t n,
		    const struct hopts *o, struct json_object *jlines,
		    char ***plots, size_t *nplots)
{
	struct stats_ci *ci = calloc(n, sizeof(*ci));
	struct cp *cp = calloc(n, sizeof(*cp));
	const char **label = calloc(n, sizeof(*label));
	bool *mark = calloc(n, sizeof(*mark));
	const struct an_series *s = pt[0];
	struct json_object *jl = NULL, *jp = NULL;
	char a[32], b[32], c[32], name[256], title[256];
	struct an_table t;
	int ret = -1;

	an_table_init(&t, "rlrrlrl");
	if (!ci || !cp || !label || !mark || change_points(pt, n, o, cp))
		goto out;
	if (o->fmt == AN_TEXT) {
		fprintf(f, "\n%s / %s / %s\n", s->dim[AN_IOMMU],
			s->dim[AN_POLICY], s->dim[AN_WORKLOAD]);
		an_table_row(&t);
		an_table_cell(&t, "#");
		an_table_cell(&t, "commit");
		an_table_cell(&t, "n");
		an_table_cell(&t, "median");
		an_table_cell(&t, "95%% CI");
		an_table_cell(&t, "vs prev");
	}
	if (o->fmt == AN_JSON) {
		jl = json_object_new_object();
		jp = json_object_new_array();
		json_object_object_add(jl, "iommu", json_object_new_string(s->dim[AN_IOMMU]));
		json_object_object_add(jl, "policy", json_object_new_string(s->dim[AN_POLICY]));
		json_object_object_add(jl, "workload", json_object_new_string(s->dim[AN_WORKLOAD]));
		json_object_object_add(jl, "points", jp);
		json_object_array_add(jlines, jl);
	}
	for (size_t i = 0; i < n; i++) {
		char commit[16];

		stats_median_ci(pt[i]->v, pt[i]->n, 0.95, 1, &ci[i]);
		label[i] = pt[i]->commit;
		mark[i] = cp[i].change;
		snprintf(commit, sizeof(commit), "%.12s", pt[i]->commit);
		if (o->fmt == AN_TEXT) {
			const char *m = s->dim[AN_METRIC];

			an_table_row(&t);
			an_table_cell(&t, "%zu", i + 1);
			an_table_cell(&t, "%s", commit);
			an_table_cell(&t, "%zu", pt[i]->n);
			an_table_cell(&t, "%s", an_fmt_unit(a, sizeof(a), ci[i].est,
							    s->unit, m));
			an_table_cell(&t, "[%s, %s]",
				      an_fmt_unit(b, sizeof(b), ci[i].lo, s->unit, m),
				      an_fmt_unit(c, sizeof(c), ci[i].hi, s->unit, m));
			if (i)
				an_table_cell(&t, "%+.1f%%",
					      (ci[i].est / ci[i - 1].est - 1) * 100);
			else
				an_table_cell(&t, "%s", "");
			if (cp[i].change)
				an_table_cell(&t, "<- change point: %+.1f%% (window %zu, Holm p %.2g)",
					      (cp[i].ratio - 1) * 100, o->window,
					      cp[i].p);
		} else if (o->fmt == AN_CSV) {
			fprintf(f, "%s,%s,%s,%s,%zu,%s,%zu,%.10g,%.10g,%.10g,%s,%.4g\n",
				s->dim[AN_METRIC], s->dim[AN_IOMMU], s->dim[AN_POLICY],
				s->dim[AN_WORKLOAD], i + 1, pt[i]->commit, pt[i]->n,
				ci[i].est, ci[i].lo, ci[i].hi,
				cp[i].change ? "change" : "", i ? cp[i].p : 1.0);
		} else {
			struct json_object *o2 = json_object_new_object();

			json_object_object_add(o2, "commit", json_object_new_string(pt[i]->commit));
			json_object_object_add(o2, "n", json_object_new_int64(pt[i]->n));
			json_object_object_add(o2, "median", json_object_new_double(ci[i].est));
			json_object_object_add(o2, "ci_lo", json_object_new_double(ci[i].lo));
			json_object_object_add(o2, "ci_hi", json_object_new_double(ci[i].hi));
			json_object_object_add(o2, "change_point", json_object_new_boolean(cp[i].change));
			json_object_object_add(o2, "p_holm", i ? json_object_new_double(cp[i].p) : NULL);
			json_object_array_add(jp, o2);
		}
	}
	if (o->fmt == AN_TEXT && an_table_print(&t, f, "  "))
		goto out;
	if (o->plot_dir && n > 1) {
		char raw[256];

		snprintf(raw, sizeof(raw), "trend-%s-%s-%s-%s", s->dim[AN_METRIC],
			 s->dim[AN_IOMMU], s->dim[AN_POLICY], s->dim[AN_WORKLOAD]);
		size_t k = 0;

		for (size_t i = 0; raw[i] && k + 1 < sizeof(name); i++)
			name[k++] = (raw[i] >= 'a' && raw[i] <= 'z') ||
				    (raw[i] >= '0' && raw[i] <= '9') || raw[i] == '-' ?
				    raw[i] : '_';
		name[k] = '\0';
		snprintf(title, sizeof(title), "%s (%s) per kernel commit: %s, %s, %s",
			 s->dim[AN_METRIC], s->unit, s->dim[AN_IOMMU],
			 s->dim[AN_POLICY], s->dim[AN_WORKLOAD]);
		if (an_plot_trend(o->plot_dir, name, title, s->unit, n, label, ci,
				  mark, plots, nplots))
			goto out;
	}
	ret = 0;
out:
	an_table_free(&t);
	free(ci);
	free(cp);
	free(label);
	free(mark);
	return ret;
}

static void history_usage(FILE *f)
{
	fprintf(f,
		"usage: iommubench history --metric M [options]\n"
		"\n"
		"  -m, --metric M        the metric (as in 'iommubench compare')\n"
		"  -r, --results DIR     results root (default: results)\n"
		"  -k, --kernel K        only kernels with this spec, release or version\n"
		"                        (repeatable)\n"
		"      --policy P, --iommu I, --workload W   only these lines\n"
		"      --window W        commits on each side of a boundary (default 3)\n"
		"      --alpha X         change-point significance after Holm (default 0.05)\n"
		"      --min-effect P    smallest change that counts, %% (default 5)\n"
		"      --plot DIR        trend plots (gnuplot PNG, SVG, script) into DIR\n"
		"      --format F        text (default), csv or json\n");
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "metric", required_argument, NULL, 'm' },
		{ "results", required_argument, NULL, 'r' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'P' },
		{ "iommu", required_argument, NULL, 'I' },
		{ "workload", required_argument, NULL, 'W' },
		{ "window", required_argument, NULL, 'w' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "min-effect", required_argument, NULL, 'e' },
		{ "plot", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hopts o = { .window = 3, .alpha = 0.05, .min_effect = 0.05 };
	const char *root = "results";
	struct json_object *jroot = NULL, *jlines = NULL;
	char **plots = NULL;
	size_t nplots = 0;
	struct an_dataset ds;
	sqlite3 *db;
	int ch, ret = EXIT_ERROR;

	while ((ch = getopt_long(argc, argv, "m:r:k:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			o.metric = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 'k':
			if (o.nkernels == ARRAY_SIZE(o.kernels)) {
				pr_err("too many --kernel");
				return EXIT_USAGE;
			}
			o.kernels[o.nkernels++] = optarg;
			break;
		case 'P':
			o.policy = optarg;
			break;
		case 'I':
			o.iommu = optarg;
			break;
		case 'W':
			o.workload = optarg;
			break;
		case 'w':
			o.window = strtoul(optarg, NULL, 10);
			if (!o.window) {
				pr_err("--window: at least 1");
				return EXIT_USAGE;
			}
			break;
		case 'a':
			o.alpha = strtod(optarg, NULL);
			break;
		case 'e':
			o.min_effect = strtod(optarg, NULL) / 100;
			break;
		case 'p':
			o.plot_dir = optarg;
			break;
		case 'f':
			o.fmt = !strcmp(optarg, "csv") ? AN_CSV :
				!strcmp(optarg, "json") ? AN_JSON :
				!strcmp(optarg, "text") ? AN_TEXT : AN_MARKDOWN;
			if (o.fmt == AN_MARKDOWN) {
				pr_err("--format: text, csv or json");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			history_usage(stdout);
			return 0;
		default:
			history_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!o.metric || optind != argc || !(o.alpha > 0 && o.alpha < 1)) {
		history_usage(stderr);
		return EXIT_USAGE;
	}
	if (o.plot_dir && mkdir_p(o.plot_dir, 0755)) {
		pr_err("%s: %s", o.plot_dir, strerror(errno));
		return EXIT_ERROR;
	}
	db = store_open_readonly(root);
	if (!db)
		return EXIT_ERROR;
	an_dataset_init(&ds);
	if (load_history(db, &o, &ds))
		goto out;
	if (!ds.n) {
		pr_err("no ok cell in %s/index.sqlite has metric %s%s", root, o.metric,
		       o.nkernels || o.policy || o.iommu || o.workload ?
		       " (with these filters)" : "");
		goto out;
	}
	/* lines: (iommu, policy, workload); points in first-seen order */
	an_sort(&ds, AN_KERNEL);
	if (o.fmt == AN_TEXT)
		printf("%s (%s, %s is better) per kernel commit; change points: Welch t on logs, %zu commits each side, Holm, alpha %g, min effect %.0f%%\n",
		       o.metric, ds.s[0].unit,
		       an_higher_is_better(o.metric, ds.s[0].unit) ? "higher" : "lower",
		       o.window, o.alpha, o.min_effect * 100);
	else if (o.fmt == AN_CSV)
		printf("metric,iommu,policy,workload,index,commit,n,median,ci_lo,ci_hi,change,p_holm\n");
	else {
		jroot = json_object_new_object();
		jlines = json_object_new_array();
		json_object_object_add(jroot, "schema", json_object_new_string("iommubench.history/1"));
		json_object_object_add(jroot, "metric", json_object_new_string(o.metric));
		json_object_object_add(jroot, "unit", json_object_new_string(ds.s[0].unit));
		json_object_object_add(jroot, "window", json_object_new_int64(o.window));
		json_object_object_add(jroot, "lines", jlines);
	}
	for (size_t i = 0; i < ds.n;) {
		struct an_series **pt;
		size_t j = i;

		while (j < ds.n && ds.s[j].dim[AN_IOMMU] == ds.s[i].dim[AN_IOMMU] &&
		       ds.s[j].dim[AN_POLICY] == ds.s[i].dim[AN_POLICY] &&
		       ds.s[j].dim[AN_WORKLOAD] == ds.s[i].dim[AN_WORKLOAD])
			j++;
		pt = malloc((j - i) * sizeof(*pt));
		if (!pt)
			goto out;
		for (size_t k = i; k < j; k++)
			pt[k - i] = &ds.s[k];
		if (line_out(stdout, pt, j - i, &o, jlines, &plots, &nplots)) {
			free(pt);
			goto out;
		}
		free(pt);
		i = j;
	}
	if (jroot)
		json_print(stdout, jroot);
	for (size_t i = 0; i < nplots; i++) {
		if (o.fmt == AN_TEXT)
			printf("plot: %s/%s.png\n", o.plot_dir, plots[i]);
		else
			pr_info("plot: %s/%s.png", o.plot_dir, plots[i]);
	}
	ret = 0;
out:
	for (size_t i = 0; i < nplots; i++)
		free(plots[i]);
	free(plots);
	if (jroot)
		json_object_put(jroot);
	an_dataset_free(&ds);
	sqlite3_close(db);
	return ret;
}

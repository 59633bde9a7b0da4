// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - 'iommubench gate': does a candidate run regress against a
 * baseline run?  Per metric verdicts (judge.c), text on stdout, optional
 * Markdown and JUnit XML; exit 0 clean, 1 regression, 2 cannot judge.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "json.h"
#include "log.h"
#include "exitcodes.h"
#include "util.h"

#define GATE_CLEAN	0
#define GATE_REGRESSED	1
#define GATE_ERROR	2

struct pair {
	const struct an_series *a;	/* baseline */
	const struct an_series *b;	/* candidate */
	struct an_judgement j;
};

struct side {
	struct an_run run;
	sqlite3 *db;
	struct an_dataset ds;
};

/*
 * Keep only the series of @kernel (the run's kernel spec).  The dataset's
 * lookup table is not used after loading, so the array is compacted in
 * place.
 */
static void keep_kernel(struct an_dataset *ds, const char *kernel)
{
	size_t k = 0;

	for (size_t i = 0; i < ds->n; i++) {
		if (strcmp(ds->s[i].dim[AN_KERNEL], kernel)) {
			free(ds->s[i].v);
			continue;
		}
		ds->s[k++] = ds->s[i];
	}
	ds->n = k;
}

static int load_side(struct side *s, const char *arg, const char *root,
		     const char *kernel)
{
	an_dataset_init(&s->ds);
	if (an_resolve_run(arg, root, &s->run))
		return -1;
	s->db = store_open_readonly(s->run.root);
	if (!s->db || an_load_run(s->db, s->run.id, &s->ds))
		return -1;
	if (kernel)
		keep_kernel(&s->ds, kernel);
	if (!s->ds.n) {
		pr_err("run %s: no metrics%s%s in %s/index.sqlite (no ok cells, or no such run)",
		       s->run.id, kernel ? " of kernel " : "", kernel ? kernel : "",
		       s->run.root);
		return -1;
	}
	return 0;
}

static void free_side(struct side *s)
{
	an_dataset_free(&s->ds);
	if (s->db)
		sqlite3_close(s->db);
	an_run_free(&s->run);
}

static size_t nkernels(const struct an_dataset *ds)
{
	const char *first = ds->n ? ds->s[0].dim[AN_KERNEL] : NULL;

	for (size_t i = 1; i < ds->n; i++)
		if (ds->s[i].dim[AN_KERNEL] != first)
			return 2;
	return ds->n ? 1 : 0;
}

static bool selected(const struct an_series *s, char **pat, size_t npat)
{
	for (size_t p = 0; p < npat; p++)
		if (!fnmatch(pat[p], s->dim[AN_METRIC], 0))
			return true;
	return !npat;
}

static const char *config_name(char *buf, size_t len, const struct pair *p)
{
	const struct an_series *s = p->b ? p->b : p->a;

	snprintf(buf, len, "%s/%s/%s", s->dim[AN_IOMMU], s->dim[AN_POLICY],
		 s->dim[AN_WORKLOAD]);
	return buf;
}

/* one line of explanation per pair, shared by every output */
static void explain(char *buf, size_t len, const struct pair *p,
		    const struct an_gate_opts *o)
{
	const struct an_judgement *j = &p->j;
	char a[32], b[32];

	switch (j->verdict) {
	case AN_MISSING:
		snprintf(buf, len, "only in the %s run",
			 p->a ? "baseline" : "candidate");
		break;
	case AN_TOO_FEW:
		snprintf(buf, len, "refused: %zu baseline and %zu candidate repetitions, the gate needs at least %zu per side",
			 p->a->n, p->b->n, j->need);
		break;
	default:
		snprintf(buf, len, "%s -> %s (%+.1f%%, %.0f%% CI %+.1f%% .. %+.1f%%), %s is %s; p(worse) %.2g, Holm %.2g; %zu+%zu repetitions, %zu per side would detect %.0f%% with %.0f%% power",
			 an_fmt_unit(a, sizeof(a), stats_median(p->a->v, p->a->n),
				     p->a->unit, p->a->dim[AN_METRIC]),
			 an_fmt_unit(b, sizeof(b), stats_median(p->b->v, p->b->n),
				     p->b->unit, p->b->dim[AN_METRIC]),
			 (j->welch.ratio - 1) * 100, 95.0,
			 (j->welch.lo - 1) * 100, (j->welch.hi - 1) * 100,
			 p->b->dim[AN_METRIC],
			 an_higher_is_better(p->b->dim[AN_METRIC], p->b->unit) ?
			 "higher-is-better" : "lower-is-better",
			 j->p_bad, j->p_adj, p->a->n, p->b->n, j->need,
			 o->min_effect * 100, o->power * 100);
	}
}

static void print_junit(FILE *f, const struct pair *p, size_t n,
			const struct an_gate_opts *o, const char *ra,
			const char *rb)
{
	size_t fail = 0, err = 0;
	char cfg[256], msg[512];

	for (size_t i = 0; i < n; i++) {
		fail += p[i].j.verdict == AN_REGRESSED;
		err += p[i].j.verdict == AN_TOO_FEW;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites>\n<testsuite name=\"iommubench gate ");
	fput_markup(f, ra);
	fputs(" -> ", f);
	fput_markup(f, rb);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", n, fail, err);
	fprintf(f, "<properties><property name=\"alpha\" value=\"%g\"/>"
		"<property name=\"min_effect\" value=\"%g\"/>"
		"<property name=\"test\" value=\"Welch t on logs, one-sided, Holm\"/></properties>\n",
		o->alpha, o->min_effect);
	for (size_t i = 0; i < n; i++) {
		const struct an_series *s = p[i].b ? p[i].b : p[i].a;

		explain(msg, sizeof(msg), &p[i], o);
		fputs("<testcase classname=\"", f);
		fput_markup(f, config_name(cfg, sizeof(cfg), &p[i]));
		fputs("\" name=\"", f);
		fput_markup(f, s->dim[AN_METRIC]);
		fputs("\">", f);
		if (p[i].j.verdict == AN_REGRESSED || p[i].j.verdict == AN_TOO_FEW ||
		    p[i].j.verdict == AN_MISSING) {
			const char *tag = p[i].j.verdict == AN_REGRESSED ? "failure" :
					  p[i].j.verdict == AN_TOO_FEW ? "error" : "skipped";

			fprintf(f, "<%s message=\"", tag);
			fput_markup(f, msg);
			fprintf(f, "\"/>");
		} else {
			fputs("<system-out>", f);
			fput_markup(f, an_verdict_names[p[i].j.verdict]);
			fputs(": ", f);
			fput_markup(f, msg);
			fputs("</system-out>", f);
		}
		fputs("</testcase>\n", f);
	}
	fputs("</testsuite>\n</testsuites>\n", f);
}

static const char *verdict_mark(enum an_verdict v)
{
	switch (v) {
	case AN_REGRESSED:
		return "REGRESSED";
	case AN_IMPROVED:
		return "improved";
	case AN_TOO_FEW:
		return "REFUSED";
	case AN_MISSING:
		return "missing";
	default:
		return "clean";
	}
}

/* the order of the report: what needs a look first */
static int verdict_rank(enum an_verdict v)
{
	switch (v) {
	case AN_REGRESSED:
		return 0;
	case AN_TOO_FEW:
		return 1;
	case AN_MISSING:
		return 2;
	case AN_IMPROVED:
		return 3;
	default:
		return 4;
	}
}

static bool underpowered(const struct pair *p)
{
	const struct an_judgement *j = &p->j;

	return j->verdict != AN_MISSING && j->verdict != AN_TOO_FEW &&
	       (j->need > p->a->n || j->need > p->b->n);
}

struct tally {
	size_t regressed, improved, clean, cannot, underpowered;
};

static void count(const struct pair *p, size_t n, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		switch (p[i].j.verdict) {
		case AN_REGRESSED:
			t->regressed++;
			break;
		case AN_IMPROVED:
			t->improved++;
			break;
		case AN_CLEAN:
			t->clean++;
			break;
		default:
			t->cannot++;
		}
		t->underpowered += underpowered(&p[i]);
	}
}

/* "3 regressed, 40 clean, 3 cannot judge of 46" */
static const char *counts(char *buf, size_t len, const struct tally *t,
			  size_t n)
{
	char imp[32] = "";

	if (t->improved)
		snprintf(imp, sizeof(imp), "%zu improved, ", t->improved);
	snprintf(buf, len, "%zu regressed, %s%zu clean, %zu cannot judge of %zu",
		 t->regressed, imp, t->clean, t->cannot, n);
	return buf;
}

/* indices of @p, regressions first, each verdict in the judged order */
static size_t *report_order(const struct pair *p, size_t n)
{
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix)), k = 0;

	if (!ix)
		return NULL;
	for (int rank = 0; rank <= 4; rank++)
		for (size_t i = 0; i < n; i++)
			if (verdict_rank(p[i].j.verdict) == rank)
				ix[k++] = i;
	return ix;
}

static void reps_needed(char *buf, size_t len, size_t need)
{
	if (need == SIZE_MAX)
		snprintf(buf, len, "out of reach");
	else
		snprintf(buf, len, "%zu per side", need);
}

static int print_report(FILE *f, bool md, const struct pair *p, size_t n,
			const struct an_gate_opts *o, const char *ra,
			const char *rb, int code)
{
	static const char *const codes[] = { "clean", "regression", "cannot judge" };
	char cfg[256], msg[512], ratio[64], tot[128], need[32];
	size_t *ix = report_order(p, n);
	struct an_table t;
	struct tally tl;
	int ret;

	if (!ix)
		return -1;
	count(p, n, &tl);
	counts(tot, sizeof(tot), &tl, n);
	an_table_init(&t, "lllrrrlrrl");
	if (md)
		fprintf(f, "# Gate: %s against %s\n\n**%s** (exit %d): %s. Welch t-test on logs, one-sided in each metric's bad direction, Holm-adjusted over %s; a regression needs p <= %g and a change of at least %.1f%%.\n\n"
			"| verdict | configuration | metric | baseline -> candidate | change | 95%% CI | p (Holm) | n |\n|---|---|---|---:|---:|---|---:|---|\n",
			rb, ra, codes[code], code, tot, o->holm ? "the family" : "nothing",
			o->alpha, o->min_effect * 100);
	else {
		fprintf(f, "gate: candidate %s against baseline %s (alpha %g, min effect %.1f%%, %s)\n",
			rb, ra, o->alpha, o->min_effect * 100,
			o->holm ? "Holm over all judged metrics" : "no multiplicity adjustment");
		an_table_row(&t);
		an_table_cell(&t, "verdict");
		an_table_cell(&t, "configuration");
		an_table_cell(&t, "metric");
		an_table_cell(&t, "baseline");
		an_table_cell(&t, "candidate");
		an_table_cell(&t, "change");
		an_table_cell(&t, "95%% CI");
		an_table_cell(&t, "p (Holm)");
		an_table_cell(&t, "n");
	}
	for (size_t k = 0; k < n; k++) {
		const struct pair *q = &p[ix[k]];
		const struct an_judgement *j = &q->j;
		const struct an_series *s = q->b ? q->b : q->a;
		const char *metric = s->dim[AN_METRIC];
		char a[32], b[32];

		config_name(cfg, sizeof(cfg), q);
		if (j->verdict == AN_MISSING || j->verdict == AN_TOO_FEW) {
			explain(msg, sizeof(msg), q, o);
			if (md) {
				fprintf(f, "| %s | %s | %s | | | | | %s |\n",
					verdict_mark(j->verdict), cfg, metric, msg);
				continue;
			}
			an_table_row(&t);
			an_table_cell(&t, "%s", verdict_mark(j->verdict));
			an_table_cell(&t, "%s", cfg);
			an_table_cell(&t, "%s", metric);
			for (int c = 0; c < 5; c++)
				an_table_cell(&t, "%s", "");
			if (j->verdict == AN_TOO_FEW) {
				an_table_cell(&t, "%zu+%zu", q->a->n, q->b->n);
				an_table_cell(&t, "refused: needs at least %zu per side",
					      j->need);
			} else {
				an_table_cell(&t, "%s", "");
				an_table_cell(&t, "%s", msg);
			}
			continue;
		}
		snprintf(ratio, sizeof(ratio), "[%+.1f%%, %+.1f%%]",
			 (j->welch.lo - 1) * 100, (j->welch.hi - 1) * 100);
		an_fmt_unit(a, sizeof(a), stats_median(q->a->v, q->a->n),
			    q->a->unit, metric);
		an_fmt_unit(b, sizeof(b), stats_median(q->b->v, q->b->n),
			    q->b->unit, metric);
		reps_needed(need, sizeof(need), j->need);
		if (md) {
			fprintf(f, "| %s | %s | %s | %s -> %s | %+.1f%% | %s | %.2g | %zu+%zu%s%s%s |\n",
				verdict_mark(j->verdict), cfg, metric, a, b,
				(j->welch.ratio - 1) * 100, ratio, j->p_adj,
				q->a->n, q->b->n,
				underpowered(q) ? ", underpowered (needs " : "",
				underpowered(q) ? need : "",
				underpowered(q) ? ")" : "");
			continue;
		}
		an_table_row(&t);
		an_table_cell(&t, "%s", verdict_mark(j->verdict));
		an_table_cell(&t, "%s", cfg);
		an_table_cell(&t, "%s", metric);
		an_table_cell(&t, "%s", a);
		an_table_cell(&t, "%s", b);
		an_table_cell(&t, "%+.1f%%", (j->welch.ratio - 1) * 100);
		an_table_cell(&t, "%s", ratio);
		an_table_cell(&t, "%.2g", j->p_adj);
		an_table_cell(&t, "%zu+%zu", q->a->n, q->b->n);
		if (underpowered(q))
			an_table_cell(&t, "underpowered (needs %s)", need);
	}
	ret = md ? 0 : an_table_print(&t, f, "  ");
	if (tl.underpowered)
		fprintf(f, "\nunderpowered (%zu of %zu series): at the dispersion these runs show, their repetitions would detect a change of %.1f%% with less than %.0f%% probability; in parentheses, the repetitions per side that would. A clean verdict on such a series is weak evidence that nothing changed.\n",
			tl.underpowered, n,
			o->min_effect * 100, o->power * 100);
	if (!md)
		fprintf(f, "gate: %s: %s\n", codes[code], tot);
	an_table_free(&t);
	free(ix);
	return ret || ferror(f) ? -1 : 0;
}

static struct json_object *jnum(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

/* The machine-readable report (schema iommubench.gate/1, docs/analysis.md). */
static int write_json(const char *path, const struct pair *p, size_t n,
		      const struct an_gate_opts *o, const char *ra,
		      const char *rb, const char *ka, const char *kb, int code)
{
	static const char *const codes[] = { "clean", "regression", "cannot judge" };
	struct json_object *root = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char msg[512];
	int ret;

	json_object_object_add(root, "schema", json_object_new_string("iommubench.gate/1"));
	json_object_object_add(root, "baseline", json_object_new_string(ra));
	json_object_object_add(root, "candidate", json_object_new_string(rb));
	json_object_object_add(root, "baseline_kernel", ka ? json_object_new_string(ka) : NULL);
	json_object_object_add(root, "candidate_kernel", kb ? json_object_new_string(kb) : NULL);
	json_object_object_add(root, "verdict", json_object_new_string(codes[code]));
	json_object_object_add(root, "exit", json_object_new_int(code));
	json_object_object_add(root, "alpha", json_object_new_double(o->alpha));
	json_object_object_add(root, "min_effect", json_object_new_double(o->min_effect));
	json_object_object_add(root, "holm", json_object_new_boolean(o->holm));
	for (size_t i = 0; i < n; i++) {
		const struct an_judgement *j = &p[i].j;
		const struct an_series *s = p[i].b ? p[i].b : p[i].a;
		struct json_object *e = json_object_new_object();
		bool judged = j->verdict != AN_MISSING && j->verdict != AN_TOO_FEW;

		for (int d = AN_KERNEL; d < AN_NR_DIMS; d++)
			json_object_object_add(e, an_dim_names[d],
					       json_object_new_string(s->dim[d]));
		json_object_object_add(e, "unit", s->unit ?
				       json_object_new_string(s->unit) : NULL);
		json_object_object_add(e, "verdict", json_object_new_string(
				       an_verdict_names[j->verdict]));
		json_object_object_add(e, "n_baseline", json_object_new_int64(
				       p[i].a ? (int64_t)p[i].a->n : 0));
		json_object_object_add(e, "n_candidate", json_object_new_int64(
				       p[i].b ? (int64_t)p[i].b->n : 0));
		json_object_object_add(e, "median_baseline", p[i].a ?
				       jnum(stats_median(p[i].a->v, p[i].a->n)) : NULL);
		json_object_object_add(e, "median_candidate", p[i].b ?
				       jnum(stats_median(p[i].b->v, p[i].b->n)) : NULL);
		json_object_object_add(e, "ratio", judged ? jnum(j->welch.ratio) : NULL);
		json_object_object_add(e, "ratio_lo", judged ? jnum(j->welch.lo) : NULL);
		json_object_object_add(e, "ratio_hi", judged ? jnum(j->welch.hi) : NULL);
		json_object_object_add(e, "p_worse", judged ? jnum(j->p_bad) : NULL);
		json_object_object_add(e, "p_holm", judged ? jnum(j->p_adj) : NULL);
		json_object_object_add(e, "reps_needed", judged || j->verdict == AN_TOO_FEW ?
				       json_object_new_int64(j->need == SIZE_MAX ? -1 :
							     (int64_t)j->need) : NULL);
		explain(msg, sizeof(msg), &p[i], o);
		json_object_object_add(e, "explanation", json_object_new_string(msg));
		json_object_array_add(arr, e);
	}
	json_object_object_add(root, "series", arr);
	ret = json_write_file(path, root);
	json_object_put(root);
	return ret;
}

int an_gate_opt(struct an_gate_opts *o, const char *name, const char *val)
{
	char *end = NULL;

	if (!strcmp(name, "alpha")) {
		o->alpha = strtod(val, &end);
		if (*end || !(o->alpha > 0 && o->alpha < 0.5)) {
			pr_err("--alpha %s: a number in (0, 0.5)", val);
			return -1;
		}
	} else if (!strcmp(name, "min-effect")) {
		o->min_effect = strtod(val, &end) / 100;
		if (*end == '%')
			end++;
		if (*end || !(o->min_effect >= 0 && o->min_effect < 10)) {
			pr_err("--min-effect %s: a percentage, e.g. 5", val);
			return -1;
		}
	} else if (!strcmp(name, "min-reps")) {
		o->min_n = strtoul(val, &end, 10);
		if (*end || o->min_n < 2) {
			pr_err("--min-reps %s: at least 2", val);
			return -1;
		}
	} else if (!strcmp(name, "no-holm")) {
		o->holm = false;
	} else {
		pr_err("--%s: not an option of the gate", name);
		return -1;
	}
	return 0;
}

static void gate_usage(FILE *f)
{
	fprintf(f,
		"usage: iommubench gate --baseline RUN --candidate RUN [options]\n"
		"\n"
		"  -r, --results DIR       results root (default: results)\n"
		"  -a, --baseline RUN      the reference run (id or directory)\n"
		"  -b, --candidate RUN     the run under test\n"
		"      --baseline-kernel K, --candidate-kernel K\n"
		"                          only that kernel's series of the run (both may\n"
		"                          name one run that interleaved two kernels)\n"
		"  -m, --metric PATTERN    metrics to judge, a glob (repeatable; default all)\n"
		"      --alpha X           family-wise false-alarm rate (default 0.05)\n"
		"      --min-effect P      smallest change that counts, in %% (default 5)\n"
		"      --min-reps N        repetitions per side below which the gate refuses (default 5)\n"
		"      --no-holm           judge every metric at alpha on its own\n"
		"      --junit FILE        JUnit XML\n"
		"      --markdown FILE     Markdown summary\n"
		"      --json FILE         machine-readable verdicts (iommubench.gate/1)\n"
		"\n"
		"exit status: 0 clean, 1 regression, 2 error or too few repetitions\n");
}

int cmd_gate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "baseline", required_argument, NULL, 'a' },
		{ "candidate", required_argument, NULL, 'b' },
		{ "metric", required_argument, NULL, 'm' },
		{ "alpha", required_argument, NULL, 'A' },
		{ "min-effect", required_argument, NULL, 'E' },
		{ "min-reps", required_argument, NULL, 'N' },
		{ "no-holm", no_argument, NULL, 'H' },
		{ "junit", required_argument, NULL, 'j' },
		{ "markdown", required_argument, NULL, 'M' },
		{ "json", required_argument, NULL, 'J' },
		{ "baseline-kernel", required_argument, NULL, 'K' },
		{ "candidate-kernel", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct an_gate_opts o = AN_GATE_OPTS_DEFAULT;
	const char *root = NULL, *ra = NULL, *rb = NULL, *junit = NULL, *md = NULL;
	const char *jpath = NULL, *ka = NULL, *kb = NULL;
	char *la = NULL, *lb = NULL;
	struct side A, B;
	struct pair *p = NULL;
	size_t np = 0, judged = 0;
	const double **va = NULL, **vb = NULL;
	size_t *na = NULL, *nb = NULL;
	bool *hi = NULL, match_kernel;
	struct an_judgement *jj = NULL;
	char *pat[64];
	size_t npat = 0;
	int ch, li = 0, code = GATE_ERROR;

	while ((ch = getopt_long(argc, argv, "r:a:b:m:h", opts, &li)) != -1) {
		switch (ch) {
		case 'r':
			root = optarg;
			break;
		case 'a':
			ra = optarg;
			break;
		case 'b':
			rb = optarg;
			break;
		case 'm':
			if (npat == ARRAY_SIZE(pat)) {
				pr_err("too many --metric");
				return GATE_ERROR;
			}
			pat[npat++] = optarg;
			break;
		case 'A':
		case 'E':
		case 'N':
		case 'H':
			if (an_gate_opt(&o, opts[li].name, optarg))
				return GATE_ERROR;
			break;
		case 'j':
			junit = optarg;
			break;
		case 'M':
			md = optarg;
			break;
		case 'J':
			jpath = optarg;
			break;
		case 'K':
			ka = optarg;
			break;
		case 'L':
			kb = optarg;
			break;
		case 'h':
			gate_usage(stdout);
			return 0;
		default:
			gate_usage(stderr);
			return GATE_ERROR;
		}
	}
	if (!ra || !rb || optind != argc) {
		gate_usage(stderr);
		return GATE_ERROR;
	}
	memset(&A, 0, sizeof(A));
	memset(&B, 0, sizeof(B));
	if (load_side(&A, ra, root, ka) || load_side(&B, rb, root, kb))
		goto out;
	/* one kernel each: the candidate kernel against the baseline kernel */
	match_kernel = !(nkernels(&A.ds) == 1 && nkernels(&B.ds) == 1);
	an_sort(&A.ds, AN_POLICY);
	an_sort(&B.ds, AN_POLICY);
	p = calloc(A.ds.n + B.ds.n, sizeof(*p));
	if (!p)
		goto out;
	/* merge-join: both sides are sorted in the same key order */
	for (size_t i = 0, k = 0; i < A.ds.n || k < B.ds.n;) {
		const struct an_series *sa = i < A.ds.n ? &A.ds.s[i] : NULL;
		const struct an_series *sb = k < B.ds.n ? &B.ds.s[k] : NULL;
		int r = !sa ? 1 : !sb ? -1 : an_key_cmp(sa, sb, AN_POLICY, match_kernel);

		if (r <= 0)
			i++;
		if (r >= 0)
			k++;
		if ((r <= 0 && !selected(sa, pat, npat)) ||
		    (r > 0 && !selected(sb, pat, npat)))
			continue;
		p[np].a = r <= 0 ? sa : NULL;
		p[np].b = r >= 0 ? sb : NULL;
		p[np++].j.verdict = r ? AN_MISSING : AN_CLEAN;
	}
	va = calloc(np + 1, sizeof(*va));
	vb = calloc(np + 1, sizeof(*vb));
	na = calloc(np + 1, sizeof(*na));
	nb = calloc(np + 1, sizeof(*nb));
	hi = calloc(np + 1, sizeof(*hi));
	jj = calloc(np + 1, sizeof(*jj));
	if (!va || !vb || !na || !nb || !hi || !jj)
		goto out;
	for (size_t i = 0; i < np; i++) {
		if (p[i].j.verdict == AN_MISSING)
			continue;
		va[judged] = p[i].a->v;
		na[judged] = p[i].a->n;
		vb[judged] = p[i].b->v;
		nb[judged] = p[i].b->n;
		hi[judged++] = an_higher_is_better(p[i].a->dim[AN_METRIC],
						   p[i].a->unit);
	}
	if (!judged) {
		pr_err("no metric of %s has a counterpart in %s%s", rb, ra,
		       npat ? " (among the --metric patterns)" : "");
		goto out;
	}
	if (an_judge(&o, judged, va, na, vb, nb, hi, jj))
		goto out;
	code = GATE_CLEAN;
	for (size_t i = 0, k = 0; i < np; i++) {
		if (p[i].j.verdict == AN_MISSING)
			continue;
		p[i].j = jj[k++];
		if (p[i].j.verdict == AN_REGRESSED)
			code = GATE_REGRESSED;
	}
	for (size_t i = 0; i < np; i++)
		if (p[i].j.verdict == AN_TOO_FEW && code == GATE_CLEAN) {
			pr_err("too few repetitions to judge: the gate needs at least %zu per side (see the REFUSED lines)",
			       o.min_n);
			code = GATE_ERROR;
		}
	/* name the kernels when one run holds both sides */
	la = ka ? xasprintf("%s (kernel %s)", A.run.id, ka) : strdup(A.run.id);
	lb = kb ? xasprintf("%s (kernel %s)", B.run.id, kb) : strdup(B.run.id);
	print_report(stdout, false, p, np, &o, la, lb, code);
	/* each file whole or not at all; a failed one is an error */
	if (md) {
		struct afile af;
		FILE *f = afile_open(&af, md);

		if (f)
			print_report(f, true, p, np, &o, la, lb, code);
		if (!f || afile_commit(&af)) {
			pr_err("--markdown %s: %s", md, strerror(errno));
			code = GATE_ERROR;
		}
	}
	if (jpath && write_json(jpath, p, np, &o, A.run.id, B.run.id, ka, kb,
				code)) {
		pr_err("--json %s: %s", jpath, strerror(errno));
		code = GATE_ERROR;
	}
	if (junit) {
		struct afile af;
		FILE *f = afile_open(&af, junit);

		if (f)
			print_junit(f, p, np, &o, la, lb);
		if (!f || afile_commit(&af)) {
			pr_err("--junit %s: %s", junit, strerror(errno));
			code = GATE_ERROR;
		}
	}
	if (an_stdout_done())
		code = GATE_ERROR;
out:
	free(la);
	free(lb);
	free(va);
	free(vb);
	free(na);
	free(nb);
	free(hi);
	free(jj);
	free(p);
	free_side(&A);
	free_side(&B);
	return code;
}

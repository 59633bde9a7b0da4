// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - the engine of 'iommubench gate' (bench/cli/cmd-gate.c): does a
 * candidate run regress against a baseline run?  Per metric verdicts
 * (judge.c), text on stdout, optional Markdown, JSON and JUnit XML; the
 * status 0 clean, 1 regression (or a configuration whose candidate cells
 * all failed), 3 cannot judge.
 *
 * The unit of replication decides what the gate may do.  Boots of both
 * sides interleaved in one run (--baseline-kernel/--candidate-kernel)
 * share the run's noise, and two runs on the icount clock have none
 * between them: their repetitions are compared directly.  Two separate
 * runs on the host clock are not: each run's mean moves by an offset of
 * its own, and the gate judges them only with an estimate of that offset
 * from A/A runs (--noise, 'iommubench noise'); without one it says that it
 * cannot judge.  It fails closed: a series of the baseline that the
 * candidate lacks cannot be judged, and one whose candidate cells all
 * failed is a failure.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "json.h"
#include "log.h"
#include "exitcodes.h"
#include "util.h"

#define GATE_CLEAN	EXIT_OK
#define GATE_REGRESSED	EXIT_ERROR
/* no verdict: a series that cannot be judged, or an error on the way */
#define GATE_ERROR	EXIT_UNDECIDED

static const char *gate_word(int code)
{
	switch (code) {
	case GATE_CLEAN:
		return "clean";
	case GATE_REGRESSED:
		return "regression";
	default:
		return "cannot judge";
	}
}

/* what the two sides are, and so how they can be compared */
enum design {
	D_INTERLEAVED,		/* one run: both sides' boots interleaved */
	D_ICOUNT,		/* two runs on the same icount clock */
	D_NOISE,		/* two host-clock runs, noise from --noise */
	D_UNKNOWN,		/* two host-clock runs, no noise estimate */
	D_CLOCKS,		/* two runs on different clocks */
};

static const char *const design_names[] = {
	[D_INTERLEAVED] = "interleaved",
	[D_ICOUNT] = "icount",
	[D_NOISE] = "runs-with-noise",
	[D_UNKNOWN] = "runs-without-noise",
	[D_CLOCKS] = "different-clocks",
};

/* the cells of one configuration of a run, ok or not */
struct cfg {
	char *dim[AN_METRIC];
	size_t ok;
	size_t failed;
	char *error;		/* one failed cell's error */
};

struct pair {
	const struct an_series *a;	/* baseline */
	const struct an_series *b;	/* candidate */
	const struct cfg *failed;	/* AN_FAILED: the candidate's cells */
	double tau;			/* between-run noise used, or NAN */
	struct an_judgement j;
};

struct side {
	struct an_run run;
	sqlite3 *db;
	struct an_dataset ds;
	struct cfg *cfg;
	size_t ncfg;
	char *clock;
};

/* one judgement of the gate: its inputs, the pairs and the verdict */
struct gate {
	const struct an_gate_req *r;
	struct side A, B;		/* baseline, candidate */
	struct an_noise nz;
	struct pair *p;
	size_t np;
	enum design dz;
	char design[512];		/* the replication, in words */
	char *la, *lb;			/* the sides' names in the outputs */
	int code;
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

/* the cells of @s's run per configuration, ok and failed */
static int load_cfgs(struct side *s, const char *kernel)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(s->db,
		"SELECT kernel, iommu, policy, workload, sum(status = 'ok'),"
		" sum(status <> 'ok'), max(CASE WHEN status <> 'ok' THEN error END)"
		" FROM cells WHERE run_id = ?1 GROUP BY 1, 2, 3, 4", -1, &st,
		NULL) != SQLITE_OK) {
		pr_err("%s/index.sqlite: %s", s->run.root, sqlite3_errmsg(s->db));
		return -1;
	}
	sqlite3_bind_text(st, 1, s->run.id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *err = (const char *)sqlite3_column_text(st, 6);
		struct cfg *c;
		bool nomem;

		if (kernel && strcmp((const char *)sqlite3_column_text(st, 0) ?: "-",
				     kernel))
			continue;
		if (s->ncfg == cap) {
			struct cfg *grow = realloc(s->cfg, (cap ? 2 * cap : 64) *
						   sizeof(*grow));

			if (!grow)
				goto nomem;
			s->cfg = grow;
			cap = cap ? 2 * cap : 64;
		}
		c = &s->cfg[s->ncfg++];
		memset(c, 0, sizeof(*c));
		nomem = false;
		for (int d = 0; d < AN_METRIC; d++) {
			c->dim[d] = strdup((const char *)sqlite3_column_text(st, d) ?: "-");
			nomem |= !c->dim[d];
		}
		c->ok = sqlite3_column_int64(st, 4);
		c->failed = sqlite3_column_int64(st, 5);
		c->error = err ? strdup(err) : NULL;
		if (nomem || (err && !c->error))
			goto nomem;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pr_err("%s/index.sqlite: %s", s->run.root, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
nomem:
	sqlite3_finalize(st);
	pr_err("run %s: %s", s->run.id, strerror(ENOMEM));
	return -1;
}

static int load_side(struct side *s, const char *arg, const char *root,
		     const char *kernel, bool baseline)
{
	an_dataset_init(&s->ds);
	if (an_resolve_run(arg, root, &s->run))
		return -1;
	s->db = store_open_readonly(s->run.root);
	if (!s->db || an_load_run(s->db, s->run.id, &s->ds) ||
	    load_cfgs(s, kernel))
		return -1;
	if (kernel)
		keep_kernel(&s->ds, kernel);
	s->clock = an_run_clock(&s->run);
	if (!s->clock)
		return -1;
	/* a candidate whose cells all failed is judged: it fails */
	if (!s->ncfg || (baseline && !s->ds.n)) {
		pr_err("run %s: no %s%s%s in %s/index.sqlite (%s)",
		       s->run.id, s->ncfg ? "metrics" : "cells",
		       kernel ? " of kernel " : "", kernel ? kernel : "",
		       s->run.root, s->ncfg ? "no ok cells" :
		       kernel ? "no such run, or no such kernel in it" : "no such run");
		return -1;
	}
	return 0;
}

static void free_side(struct side *s)
{
	for (size_t i = 0; i < s->ncfg; i++) {
		for (int d = 0; d < AN_METRIC; d++)
			free(s->cfg[i].dim[d]);
		free(s->cfg[i].error);
	}
	free(s->cfg);
	free(s->clock);
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

static const char *config_name(char *buf, size_t len, const struct pair *p)
{
	const struct an_series *s = p->b ? p->b : p->a;

	snprintf(buf, len, "%s/%s/%s", s->dim[AN_IOMMU], s->dim[AN_POLICY],
		 s->dim[AN_WORKLOAD]);
	return buf;
}

static bool judged(enum an_verdict v)
{
	return v == AN_CLEAN || v == AN_IMPROVED || v == AN_REGRESSED;
}

/* what the interval says about the minimum effect */
static const char *interval_says(char *buf, size_t len,
				 const struct an_judgement *j,
				 const struct an_gate_opts *o)
{
	double m = o->min_effect * 100;

	if (j->verdict == AN_REGRESSED)
		snprintf(buf, len, j->clears ? "worse by a factor of at least %.4g%%" :
			 "worse, but perhaps by less than %.4g%%", m);
	else if (j->verdict == AN_IMPROVED)
		snprintf(buf, len, j->clears ? "better by a factor of at least %.4g%%" :
			 "better, but perhaps by less than %.4g%%", m);
	else if (j->within)
		snprintf(buf, len, "no change of %.4g%% either way", m);
	else
		snprintf(buf, len, "a change of %.4g%% is not ruled out", m);
	return buf;
}

/* one line of explanation per pair, shared by every output */
static void explain(char *buf, size_t len, const struct pair *p,
		    const struct an_gate_opts *o)
{
	const struct an_judgement *j = &p->j;
	char a[32], b[32], says[96], need[32], noise[64] = "";

	switch (j->verdict) {
	case AN_NEW:
		snprintf(buf, len, "only in the candidate run: nothing to judge it against");
		break;
	case AN_MISSING:
		snprintf(buf, len, "cannot judge: in the baseline run, not in the candidate run");
		break;
	case AN_FAILED:
		snprintf(buf, len, "failed: all %zu candidate cells of this configuration failed%s%s",
			 p->failed->failed, p->failed->error ? ": " : "",
			 p->failed->error ? p->failed->error : "");
		break;
	case AN_TOO_FEW:
		snprintf(buf, len, "refused: %zu baseline and %zu candidate repetitions, the gate needs at least %zu per side",
			 p->a->n, p->b->n, j->need);
		break;
	case AN_UNDECIDED:
		snprintf(buf, len, "cannot judge: %s", j->why);
		break;
	default:
		if (j->need == SIZE_MAX)
			snprintf(need, sizeof(need), "no number of repetitions");
		else
			snprintf(need, sizeof(need), "%zu per side", j->need);
		if (p->tau > 0)
			snprintf(noise, sizeof(noise), "; between-run noise %.2g%%",
				 (exp(p->tau) - 1) * 100);
		snprintf(buf, len, "%s -> %s (%+.1f%%, interval %+.1f%% .. %+.1f%% at %.4g%% / %.4g%% one-sided, adjusted%s): %s; %s is %s; p(worse) %.2g, adjusted %.2g%s; %zu+%zu repetitions, %s would detect %.4g%% with %.0f%% power",
			 an_fmt_unit(a, sizeof(a), stats_median(p->a->v, p->a->n),
				     p->a->unit, p->a->dim[AN_METRIC]),
			 an_fmt_unit(b, sizeof(b), stats_median(p->b->v, p->b->n),
				     p->b->unit, p->b->dim[AN_METRIC]),
			 (j->welch.ratio - 1) * 100,
			 (j->lo - 1) * 100, (j->hi - 1) * 100,
			 j->level_lo * 100, j->level_hi * 100,
			 j->welch.raw ? ", of means: the series holds a 0" : "",
			 j->why ? j->why : interval_says(says, sizeof(says), j, o),
			 p->b->dim[AN_METRIC],
			 an_higher_is_better(p->b->dim[AN_METRIC], p->b->unit) ?
			 "higher-is-better" : "lower-is-better",
			 j->p_bad, j->p_adj, noise, p->a->n, p->b->n, need,
			 o->min_effect * 100, o->power * 100);
	}
}

static void print_junit(FILE *f, const struct pair *p, size_t n,
			const struct an_gate_opts *o, const char *ra,
			const char *rb, const char *design)
{
	size_t fail = 0, err = 0, judged_n = 0;
	char cfg[256], msg[1024], adj[128];

	for (size_t i = 0; i < n; i++) {
		enum an_verdict v = p[i].j.verdict;

		fail += v == AN_REGRESSED || v == AN_FAILED;
		err += v == AN_TOO_FEW || v == AN_MISSING || v == AN_UNDECIDED;
		judged_n += judged(v);
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites>\n<testsuite name=\"iommubench gate ");
	fput_markup(f, ra);
	fputs(" -> ", f);
	fput_markup(f, rb);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", n, fail, err);
	fprintf(f, "<properties><property name=\"alpha\" value=\"%g\"/>"
		"<property name=\"min_effect\" value=\"%g\"/>"
		"<property name=\"test\" value=\"Welch t on logs, one-sided, ",
		o->alpha, o->min_effect);
	fput_markup(f, an_adjust_desc(adj, sizeof(adj), o, judged_n));
	fputs("\"/><property name=\"replication\" value=\"", f);
	fput_markup(f, design);
	fputs("\"/></properties>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct an_series *s = p[i].b ? p[i].b : p[i].a;
		enum an_verdict v = p[i].j.verdict;

		explain(msg, sizeof(msg), &p[i], o);
		fputs("<testcase classname=\"", f);
		fput_markup(f, config_name(cfg, sizeof(cfg), &p[i]));
		fputs("\" name=\"", f);
		fput_markup(f, s->dim[AN_METRIC]);
		fputs("\">", f);
		if (!judged(v)) {
			/* fail closed: only a series new in the candidate is skipped */
			const char *tag = v == AN_FAILED ? "failure" :
					  v == AN_NEW ? "skipped" : "error";

			fprintf(f, "<%s message=\"", tag);
			fput_markup(f, msg);
			fprintf(f, "\"/>");
		} else if (v == AN_REGRESSED) {
			fputs("<failure message=\"", f);
			fput_markup(f, msg);
			fputs("\"/>", f);
		} else {
			fputs("<system-out>", f);
			fput_markup(f, an_verdict_names[v]);
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
		return "MISSING";
	case AN_FAILED:
		return "FAILED";
	case AN_UNDECIDED:
		return "UNDECIDED";
	case AN_NEW:
		return "new";
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
	case AN_FAILED:
		return 1;
	case AN_TOO_FEW:
		return 2;
	case AN_MISSING:
		return 3;
	case AN_UNDECIDED:
		return 4;
	case AN_IMPROVED:
		return 5;
	case AN_NEW:
		return 6;
	default:
		return 7;
	}
}

#define NR_RANKS	8

static bool underpowered(const struct pair *p)
{
	const struct an_judgement *j = &p->j;

	return judged(j->verdict) && (j->need > p->a->n || j->need > p->b->n);
}

struct tally {
	size_t regressed, failed, improved, clean, cannot, new, judged;
	size_t underpowered;
};

static void count(const struct pair *p, size_t n, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		switch (p[i].j.verdict) {
		case AN_REGRESSED:
			t->regressed++;
			break;
		case AN_FAILED:
			t->failed++;
			break;
		case AN_IMPROVED:
			t->improved++;
			break;
		case AN_CLEAN:
			t->clean++;
			break;
		case AN_NEW:
			t->new++;
			break;
		default:
			t->cannot++;
		}
		t->judged += judged(p[i].j.verdict);
		t->underpowered += underpowered(&p[i]);
	}
}

/* "3 regressed, 40 clean, 3 cannot judge of 46" */
static const char *counts(char *buf, size_t len, const struct tally *t,
			  size_t n)
{
	char fail[32] = "", imp[32] = "", new[32] = "";

	if (t->failed)
		snprintf(fail, sizeof(fail), "%zu failed, ", t->failed);
	if (t->improved)
		snprintf(imp, sizeof(imp), "%zu improved, ", t->improved);
	if (t->new)
		snprintf(new, sizeof(new), ", %zu new", t->new);
	snprintf(buf, len, "%zu regressed, %s%s%zu clean, %zu cannot judge%s of %zu",
		 t->regressed, fail, imp, t->clean, t->cannot, new, n);
	return buf;
}

/* indices of @p, regressions first, each verdict in the judged order */
static size_t *report_order(const struct pair *p, size_t n)
{
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix)), k = 0;

	if (!ix)
		return NULL;
	for (int rank = 0; rank < NR_RANKS; rank++)
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

/* the p column's header: the adjustment by name */
static const char *p_header(const struct an_gate_opts *o)
{
	switch (o->adjust) {
	case AN_ADJ_HOLM:
		return "p (Holm)";
	case AN_ADJ_BH:
		return "p (BH)";
	default:
		return "p (unadjusted)";
	}
}

/*
 * The remark on a judged pair: what the interval says about the minimum
 * effect when the verdict is a change, why a 0 = 0 is clean, and the
 * repetitions an underpowered one would need.
 */
static const char *remark(char *buf, size_t len, const struct pair *q,
			  const struct an_gate_opts *o)
{
	const struct an_judgement *j = &q->j;
	char says[96] = "", need[32];

	if (j->verdict == AN_REGRESSED || j->verdict == AN_IMPROVED)
		interval_says(says, sizeof(says), j, o);
	else if (j->why)
		snprintf(says, sizeof(says), "%s", j->why);
	reps_needed(need, sizeof(need), j->need);
	snprintf(buf, len, "%s%s%s%s%s", says,
		 *says && underpowered(q) ? "; " : "",
		 underpowered(q) ? "underpowered (needs " : "",
		 underpowered(q) ? need : "", underpowered(q) ? ")" : "");
	return buf;
}

/* The report's head: what was judged and how, and the table's header. */
static void report_head(FILE *f, bool md, struct an_table *t,
			const struct an_gate_opts *o, const char *ra,
			const char *rb, int code, const char *design,
			const char *tot, const char *adj)
{
	if (md) {
		fprintf(f, "# Gate: %s against %s\n\n**%s** (exit %d): %s. Welch t-test on logs, one-sided in each metric's bad direction, adjusted by %s; a regression needs an adjusted p <= %g and a change by a factor of at least %.1f%%. Replication: %s. Intervals: each end a one-sided bound at the level the adjustment gave that side.\n\n"
			"| verdict | configuration | metric | baseline -> candidate | change | interval (adjusted) | %s | n |\n|---|---|---|---:|---:|---|---:|---|\n",
			rb, ra, gate_word(code), code, tot, adj, o->alpha,
			o->min_effect * 100, design, p_header(o));
		return;
	}
	fprintf(f, "gate: candidate %s against baseline %s (alpha %g, min effect %.1f%%, %s)\n"
		"gate: replication: %s\n",
		rb, ra, o->alpha, o->min_effect * 100, adj, design);
	an_table_row(t);
	an_table_cell(t, "verdict");
	an_table_cell(t, "configuration");
	an_table_cell(t, "metric");
	an_table_cell(t, "baseline");
	an_table_cell(t, "candidate");
	an_table_cell(t, "change");
	an_table_cell(t, "interval (adjusted)");
	an_table_cell(t, "%s", p_header(o));
	an_table_cell(t, "n");
}

/* The row of a series the gate did not judge: why not. */
static void report_unjudged(FILE *f, bool md, struct an_table *t,
			    const struct pair *q, const struct an_gate_opts *o,
			    const char *cfg, const char *metric)
{
	const struct an_judgement *j = &q->j;
	char msg[1024];

	explain(msg, sizeof(msg), q, o);
	if (md) {
		fprintf(f, "| %s | %s | %s | | | | | %s |\n",
			verdict_mark(j->verdict), cfg, metric, msg);
		return;
	}
	an_table_row(t);
	an_table_cell(t, "%s", verdict_mark(j->verdict));
	an_table_cell(t, "%s", cfg);
	an_table_cell(t, "%s", metric);
	for (int c = 0; c < 5; c++)
		an_table_cell(t, "%s", "");
	if (j->verdict == AN_TOO_FEW) {
		an_table_cell(t, "%zu+%zu", q->a->n, q->b->n);
		an_table_cell(t, "refused: needs at least %zu per side", j->need);
	} else {
		an_table_cell(t, "%s", "");
		an_table_cell(t, "%s", msg);
	}
}

/* The row of series @q: its verdict, medians, change, interval and p. */
static void report_row(FILE *f, bool md, struct an_table *t,
		       const struct pair *q, const struct an_gate_opts *o)
{
	const struct an_judgement *j = &q->j;
	const struct an_series *s = q->b ? q->b : q->a;
	const char *metric = s->dim[AN_METRIC];
	char cfg[256], ratio[64], note[192], a[32], b[32];

	config_name(cfg, sizeof(cfg), q);
	if (!judged(j->verdict)) {
		report_unjudged(f, md, t, q, o, cfg, metric);
		return;
	}
	snprintf(ratio, sizeof(ratio), "[%+.1f%%, %+.1f%%]",
		 (j->lo - 1) * 100, (j->hi - 1) * 100);
	an_fmt_unit(a, sizeof(a), stats_median(q->a->v, q->a->n),
		    q->a->unit, metric);
	an_fmt_unit(b, sizeof(b), stats_median(q->b->v, q->b->n),
		    q->b->unit, metric);
	remark(note, sizeof(note), q, o);
	if (md) {
		fprintf(f, "| %s | %s | %s | %s -> %s | %+.1f%% | %s | %.2g | %zu+%zu%s%s |\n",
			verdict_mark(j->verdict), cfg, metric, a, b,
			(j->welch.ratio - 1) * 100, ratio, j->p_adj,
			q->a->n, q->b->n, *note ? ", " : "", note);
		return;
	}
	an_table_row(t);
	an_table_cell(t, "%s", verdict_mark(j->verdict));
	an_table_cell(t, "%s", cfg);
	an_table_cell(t, "%s", metric);
	an_table_cell(t, "%s", a);
	an_table_cell(t, "%s", b);
	an_table_cell(t, "%+.1f%%", (j->welch.ratio - 1) * 100);
	an_table_cell(t, "%s", ratio);
	an_table_cell(t, "%.2g", j->p_adj);
	an_table_cell(t, "%zu+%zu", q->a->n, q->b->n);
	if (*note)
		an_table_cell(t, "%s", note);
}

static int print_report(FILE *f, bool md, const struct pair *p, size_t n,
			const struct an_gate_opts *o, const char *ra,
			const char *rb, int code, const char *design)
{
	char tot[160], adj[128];
	size_t *ix = report_order(p, n);
	struct an_table t;
	struct tally tl;
	int ret;

	if (!ix)
		return -1;
	count(p, n, &tl);
	counts(tot, sizeof(tot), &tl, n);
	an_adjust_desc(adj, sizeof(adj), o, tl.judged);
	an_table_init(&t, "lllrrrlrrl");
	report_head(f, md, &t, o, ra, rb, code, design, tot, adj);
	for (size_t k = 0; k < n; k++)
		report_row(f, md, &t, &p[ix[k]], o);
	ret = md ? 0 : an_table_print(&t, f, "  ");
	if (tl.judged && !md)
		fprintf(f, "\ninterval (adjusted): each end is a one-sided bound at the confidence the adjustment gave its side; it lies beyond 0 exactly when the adjusted p on that side is <= %g.\n",
			o->alpha);
	if (tl.underpowered)
		fprintf(f, "\nunderpowered (%zu of %zu series): at the dispersion these runs show, their repetitions would detect a change of %.1f%% with less than %.0f%% probability; in parentheses, the repetitions per side that would. A clean verdict on such a series is weak evidence that nothing changed.\n",
			tl.underpowered, n,
			o->min_effect * 100, o->power * 100);
	if (!md)
		fprintf(f, "gate: %s: %s\n", gate_word(code), tot);
	an_table_free(&t);
	free(ix);
	return ret || ferror(f) ? -1 : 0;
}

static struct json_object *jnum(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

/* The machine-readable report (schema iommubench.gate/1, docs/analysis.md). */
static int write_json(const struct gate *g)
{
	const struct an_gate_opts *o = &g->r->opts;
	const char *ka = g->r->baseline_kernel, *kb = g->r->candidate_kernel;
	const struct side *A = &g->A, *B = &g->B;
	const struct pair *p = g->p;
	size_t n = g->np;
	struct json_object *root = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char msg[1024];
	int ret;

	json_object_object_add(root, "schema", json_object_new_string("iommubench.gate/1"));
	json_object_object_add(root, "baseline", json_object_new_string(A->run.id));
	json_object_object_add(root, "candidate", json_object_new_string(B->run.id));
	json_object_object_add(root, "baseline_kernel", ka ? json_object_new_string(ka) : NULL);
	json_object_object_add(root, "candidate_kernel", kb ? json_object_new_string(kb) : NULL);
	json_object_object_add(root, "verdict", json_object_new_string(gate_word(g->code)));
	json_object_object_add(root, "exit", json_object_new_int(g->code));
	json_object_object_add(root, "alpha", json_object_new_double(o->alpha));
	json_object_object_add(root, "min_effect", json_object_new_double(o->min_effect));
	json_object_object_add(root, "holm", json_object_new_boolean(o->adjust == AN_ADJ_HOLM));
	json_object_object_add(root, "adjustment", json_object_new_string(an_adjust_names[o->adjust]));
	json_object_object_add(root, "replication", json_object_new_string(design_names[g->dz]));
	json_object_object_add(root, "clock_baseline", json_object_new_string(A->clock));
	json_object_object_add(root, "clock_candidate", json_object_new_string(B->clock));
	json_object_object_add(root, "noise", g->dz == D_NOISE ?
			       json_object_new_string(g->nz.path) : NULL);
	for (size_t i = 0; i < n; i++) {
		const struct an_judgement *j = &p[i].j;
		const struct an_series *s = p[i].b ? p[i].b : p[i].a;
		struct json_object *e = json_object_new_object();
		bool done = judged(j->verdict);
		bool decided = j->verdict == AN_REGRESSED || j->verdict == AN_IMPROVED;

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
		json_object_object_add(e, "scale", done ? json_object_new_string(
				       j->welch.raw ? "values" : "log") : NULL);
		json_object_object_add(e, "ratio", done ? jnum(j->welch.ratio) : NULL);
		json_object_object_add(e, "ratio_lo", done ? jnum(j->welch.lo) : NULL);
		json_object_object_add(e, "ratio_hi", done ? jnum(j->welch.hi) : NULL);
		json_object_object_add(e, "interval_lo", done ? jnum(j->lo) : NULL);
		json_object_object_add(e, "interval_hi", done ? jnum(j->hi) : NULL);
		json_object_object_add(e, "interval_level_lo", done ? jnum(j->level_lo) : NULL);
		json_object_object_add(e, "interval_level_hi", done ? jnum(j->level_hi) : NULL);
		json_object_object_add(e, "clears_min_effect", decided ?
				       json_object_new_boolean(j->clears) : NULL);
		json_object_object_add(e, "within_min_effect", done ?
				       json_object_new_boolean(j->within) : NULL);
		json_object_object_add(e, "p_worse", done ? jnum(j->p_bad) : NULL);
		json_object_object_add(e, "p_adjusted", done ? jnum(j->p_adj) : NULL);
		json_object_object_add(e, "p_holm", done && o->adjust == AN_ADJ_HOLM ?
				       jnum(j->p_adj) : NULL);
		json_object_object_add(e, "p_better", done ? jnum(j->p_good) : NULL);
		json_object_object_add(e, "p_better_adjusted", done ? jnum(j->p_adj_good) : NULL);
		json_object_object_add(e, "between_run_sd", done ? jnum(p[i].tau) : NULL);
		json_object_object_add(e, "reps_needed", done || j->verdict == AN_TOO_FEW ?
				       json_object_new_int64(j->need == SIZE_MAX ? -1 :
							     (int64_t)j->need) : NULL);
		explain(msg, sizeof(msg), &p[i], o);
		json_object_object_add(e, "explanation", json_object_new_string(msg));
		json_object_array_add(arr, e);
	}
	json_object_object_add(root, "series", arr);
	ret = json_output(g->r->json, root);
	json_object_put(root);
	return ret;
}

/* the configuration of @s in @side, or NULL */
static const struct cfg *find_cfg(const struct side *side,
				  const struct an_series *s, bool kernel)
{
	for (size_t i = 0; i < side->ncfg; i++) {
		const struct cfg *c = &side->cfg[i];
		int d = kernel ? AN_KERNEL : AN_IOMMU;

		for (; d < AN_METRIC; d++)
			if (strcmp(c->dim[d], s->dim[d]))
				break;
		if (d == AN_METRIC)
			return c;
	}
	return NULL;
}

/* "boots interleaved in one run", and so on */
static enum design replication(const struct side *A, const struct side *B,
			       const struct an_noise *nz, char *buf,
			       size_t len)
{
	if (!strcmp(A->run.dir, B->run.dir)) {
		snprintf(buf, len, "boots of both sides interleaved in run %s: no between-run noise%s",
			 A->run.id, nz->path ? " (--noise not needed, not used)" : "");
		return D_INTERLEAVED;
	}
	if (strcmp(A->clock, B->clock)) {
		snprintf(buf, len, "baseline timed by the %s clock, candidate by %s: not comparable",
			 A->clock, B->clock);
		return D_CLOCKS;
	}
	if (str_has_prefix(A->clock, "icount")) {
		snprintf(buf, len, "two runs on the %s clock (guest time counts instructions): no between-run noise%s",
			 A->clock, nz->path ? " (--noise not needed, not used)" : "");
		return D_ICOUNT;
	}
	if (nz->path) {
		snprintf(buf, len, "two separate runs on the %s clock; between-run noise from %s",
			 A->clock, nz->path);
		return D_NOISE;
	}
	snprintf(buf, len, "two separate runs on the %s clock and no estimate of the noise between runs (--noise)",
		 A->clock);
	return D_UNKNOWN;
}

/* why a pair with no noise estimate could not be judged */
static const char *no_noise_why(enum design dz)
{
	switch (dz) {
	case D_CLOCKS:
		return "the runs were timed by different clocks";
	case D_NOISE:
		return "two separate runs and no between-run noise for this metric in the --noise file";
	default:
		return "two separate runs on the host clock and no estimate of the noise between them (--noise FILE from 'iommubench noise' on A/A runs; or interleave both sides in one run)";
	}
}

/*
 * Pair the series of both sides: a merge-join, both sorted in the same key
 * order.  A series of the baseline alone is missing (or failed, when the
 * candidate's cells of its configuration all failed), one of the
 * candidate alone is new; the pairs to judge are marked AN_CLEAN.
 */
static int pair_series(struct gate *g)
{
	const struct an_dataset *a = &g->A.ds, *b = &g->B.ds;
	/* one kernel each: the candidate kernel against the baseline kernel */
	bool match_kernel = !(nkernels(a) <= 1 && nkernels(b) <= 1);

	g->p = calloc(a->n + b->n + 1, sizeof(*g->p));
	if (!g->p)
		return -1;
	for (size_t i = 0, k = 0; i < a->n || k < b->n;) {
		const struct an_series *sa = i < a->n ? &a->s[i] : NULL;
		const struct an_series *sb = k < b->n ? &b->s[k] : NULL;
		int r = !sa ? 1 : !sb ? -1 : an_key_cmp(sa, sb, AN_POLICY, match_kernel);
		struct pair *q = &g->p[g->np];

		if (r <= 0)
			i++;
		if (r >= 0)
			k++;
		/* the baseline is filtered already; a new series may not be */
		if (r > 0 && !an_metric_selected(sb->dim[AN_METRIC], g->r->metrics,
						 g->r->nmetrics))
			continue;
		q->a = r <= 0 ? sa : NULL;
		q->b = r >= 0 ? sb : NULL;
		q->tau = NAN;
		q->j.verdict = AN_CLEAN;
		if (r > 0) {
			q->j.verdict = AN_NEW;
		} else if (r < 0) {
			/* fail closed: the candidate lost what the baseline had */
			const struct cfg *c = find_cfg(&g->B, sa, match_kernel);

			q->j.verdict = c && !c->ok && c->failed ? AN_FAILED : AN_MISSING;
			q->failed = c;
		}
		g->np++;
	}
	return 0;
}

/* The test's input for pair @p: its values and the between-run noise. */
static void pair_input(const struct gate *g, struct pair *p,
		       struct an_pair_in *x)
{
	const struct an_noise_metric *nm;

	x->a = p->a->v;
	x->na = p->a->n;
	x->b = p->b->v;
	x->nb = p->b->n;
	x->higher = an_higher_is_better(p->a->dim[AN_METRIC], p->a->unit);
	x->tau = NAN;
	x->tau_df = INFINITY;
	if (g->dz == D_INTERLEAVED || g->dz == D_ICOUNT) {
		x->tau = 0;
	} else if (g->dz == D_NOISE) {
		nm = an_noise_find(&g->nz, p->a->dim[AN_METRIC]);
		if (nm) {
			x->tau = nm->tau;
			x->tau_df = nm->runs - 1;
		}
	}
	p->tau = x->tau;
}

/* Judge every pair marked AN_CLEAN together (one family); -1 on error. */
static int judge_pairs(struct gate *g)
{
	struct an_pair_in *in = calloc(g->np + 1, sizeof(*in));
	struct an_judgement *jj = calloc(g->np + 1, sizeof(*jj));
	size_t n = 0;
	int ret = -1;

	if (!in || !jj)
		goto out;
	for (size_t i = 0; i < g->np; i++)
		if (g->p[i].j.verdict == AN_CLEAN)
			pair_input(g, &g->p[i], &in[n++]);
	if (an_judge(&g->r->opts, n, in, jj))
		goto out;
	for (size_t i = 0, k = 0; i < g->np; i++) {
		struct pair *p = &g->p[i];

		if (p->j.verdict != AN_CLEAN)
			continue;
		p->j = jj[k++];
		if (p->j.verdict == AN_UNDECIDED && isnan(p->tau))
			p->j.why = no_noise_why(g->dz);
	}
	ret = 0;
out:
	free(in);
	free(jj);
	return ret;
}

/*
 * The verdict: a regression or a failure anywhere is one; else the first
 * pair that could not be judged makes it "cannot judge", said once.
 */
static int verdict(const struct gate *g)
{
	for (size_t i = 0; i < g->np; i++)
		if (g->p[i].j.verdict == AN_REGRESSED ||
		    g->p[i].j.verdict == AN_FAILED)
			return GATE_REGRESSED;
	for (size_t i = 0; i < g->np; i++) {
		switch (g->p[i].j.verdict) {
		case AN_TOO_FEW:
			pr_err("too few repetitions to judge: the gate needs at least %zu per side (see the REFUSED lines)",
			       g->r->opts.min_n);
			return GATE_ERROR;
		case AN_MISSING:
			pr_err("cannot judge: the candidate lacks series of the baseline (see the MISSING lines)");
			return GATE_ERROR;
		case AN_UNDECIDED:
			pr_err("cannot judge: %s", g->p[i].j.why);
			return GATE_ERROR;
		default:
			break;
		}
	}
	return GATE_CLEAN;
}

/* Write @path whole through @print, or not at all; -1 after saying why. */
static int write_whole(const struct gate *g, const char *opt, const char *path,
		       int (*print)(FILE *f, const struct gate *g))
{
	struct afile af;
	FILE *f = afile_open(&af, path);

	if (f && print(f, g)) {
		afile_abort(&af);
		f = NULL;
	}
	if (!f || afile_commit(&af)) {
		pr_err("--%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	return 0;
}

static int print_markdown(FILE *f, const struct gate *g)
{
	return print_report(f, true, g->p, g->np, &g->r->opts, g->la, g->lb,
			    g->code, g->design);
}

static int print_junit_file(FILE *f, const struct gate *g)
{
	print_junit(f, g->p, g->np, &g->r->opts, g->la, g->lb, g->design);
	return 0;
}

/*
 * The outputs: the report on stdout (unless --json takes it), then each
 * file whole or not at all.  A file that could not be written leaves no
 * verdict: the gate cannot judge.
 */
static void gate_outputs(struct gate *g)
{
	const struct an_gate_req *r = g->r;
	bool json_stdout = r->json && !strcmp(r->json, "-");

	/* name the kernels when one run holds both sides */
	g->la = r->baseline_kernel ? xasprintf("%s (kernel %s)", g->A.run.id,
					       r->baseline_kernel) :
		xasprintf("%s", g->A.run.id);
	g->lb = r->candidate_kernel ? xasprintf("%s (kernel %s)", g->B.run.id,
						r->candidate_kernel) :
		xasprintf("%s", g->B.run.id);
	if (!json_stdout)
		print_report(stdout, false, g->p, g->np, &r->opts, g->la, g->lb,
			     g->code, g->design);
	if (r->markdown && write_whole(g, "markdown", r->markdown, print_markdown))
		g->code = GATE_ERROR;
	if (r->json && write_json(g))
		g->code = GATE_ERROR;
	if (r->junit && write_whole(g, "junit", r->junit, print_junit_file))
		g->code = GATE_ERROR;
	if (an_stdout_done())
		g->code = GATE_ERROR;
}

/* Read both sides and the noise estimate; -1 after saying why. */
static int gate_load(struct gate *g)
{
	const struct an_gate_req *r = g->r;

	if (r->noise && an_noise_load(r->noise, &g->nz))
		return -1;
	if (load_side(&g->A, r->baseline, r->root, r->baseline_kernel, true) ||
	    load_side(&g->B, r->candidate, r->root, r->candidate_kernel, false))
		return -1;
	/* a pattern that matches nothing of the baseline is a typo, said so */
	if (an_filter_metrics(&g->A.ds, r->metrics, r->nmetrics))
		return -1;
	g->dz = replication(&g->A, &g->B, &g->nz, g->design, sizeof(g->design));
	if (g->dz == D_NOISE && strcmp(g->nz.clock, g->A.clock)) {
		pr_err("%s: noise measured on the %s clock, the runs are on %s",
		       g->nz.path, g->nz.clock, g->A.clock);
		return -1;
	}
	an_sort(&g->A.ds, AN_POLICY);
	an_sort(&g->B.ds, AN_POLICY);
	return 0;
}

int an_gate(const struct an_gate_req *req)
{
	struct gate g = { .r = req, .code = GATE_ERROR };

	if (!gate_load(&g) && !pair_series(&g) && !judge_pairs(&g)) {
		g.code = verdict(&g);
		gate_outputs(&g);
	}
	free(g.la);
	free(g.lb);
	free(g.p);
	an_noise_free(&g.nz);
	free_side(&g.A);
	free_side(&g.B);
	return g.code;
}

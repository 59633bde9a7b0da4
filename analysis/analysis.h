/* SPDX-License-Identifier: GPL-2.0 */
/*
 * analysis.h - what compare, gate, history, the plots and the report share
 *
 * A dataset is the metric values of the ok cells of one run (or of every
 * run, for history), grouped into series: one series per configuration
 * (kernel, iommu, policy), workload and metric, holding one value per
 * repetition in run order.  Everything is read from <results>/index.sqlite
 * (results/README); the cell files are read only for histograms.
 */
#ifndef IB_ANALYSIS_H
#define IB_ANALYSIS_H

#include "store.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "stats.h"
#include "util.h"

/* the dimensions of a series, in key order */
enum an_dim {
	AN_KERNEL,
	AN_IOMMU,
	AN_POLICY,
	AN_WORKLOAD,
	AN_METRIC,
	AN_NR_DIMS,
};

/**
 * struct an_series - the repetitions of one metric in one configuration
 * @dim: kernel, iommu, policy, workload, metric (interned strings)
 * @unit: the metric's unit
 * @v: values, in run order
 * @n: number of values
 * @commit: history only: the kernel commit (or version) of the values
 * @order: history only: first run order (seq across runs) of the series
 */
struct an_series {
	const char *dim[AN_NR_DIMS];
	const char *unit;
	double *v;
	size_t n;
	size_t cap;
	const char *commit;
	double order;
};

struct an_dataset {
	struct an_series *s;
	size_t n;
	size_t cap;
	/* open-addressing hash of series keys -> index + 1 */
	uint32_t *slots;
	size_t nslots;
	/* interned strings */
	char **strs;
	size_t nstrs;
	size_t strcap;
	uint32_t *strslots;
	size_t nstrslots;
	/* cells seen */
	size_t cells;
};

/* where a run lives */
struct an_run {
	char *root;		/* results root holding index.sqlite */
	char *id;		/* run id */
	char *dir;		/* root/id */
};

/*
 * an_resolve_run - @arg is a run id under @root, or a run directory (then
 * its parent is the root).  Fills @run (free with an_run_free).
 */
int an_resolve_run(const char *arg, const char *root, struct an_run *run);
void an_run_free(struct an_run *run);

void an_dataset_init(struct an_dataset *ds);
void an_dataset_free(struct an_dataset *ds);
/* an_intern - the dataset's copy of @s (NULL stays NULL) */
const char *an_intern(struct an_dataset *ds, const char *s);
/* add one value; @commit may be NULL; returns the series or NULL */
struct an_series *an_add(struct an_dataset *ds, const char *const dim[],
			 const char *unit, const char *commit, double value);
/* an_load_run - every metric of every ok cell of @run_id */
int an_load_run(sqlite3 *db, const char *run_id, struct an_dataset *ds);
/* sort series by block (the dimensions other than @by), metric, then @by */
void an_sort(struct an_dataset *ds, enum an_dim by);
/*
 * an_key_cmp - the order of an_sort(), usable across datasets (strings are
 * compared, not pointers); @kernel false ignores the kernel dimension.
 */
int an_key_cmp(const struct an_series *a, const struct an_series *b,
	       enum an_dim by, bool kernel);

/*
 * an_higher_is_better - direction of a metric: rates, IOPS and bandwidth
 * up is good (true), latencies and exposure windows up is bad (false).
 */
bool an_higher_is_better(const char *metric, const char *unit);
/* an_dim_parse - "policy", "kernel", "iommu", "workload"; -1 otherwise */
int an_dim_parse(const char *s);
extern const char *const an_dim_names[AN_NR_DIMS];

/* a number with SI suffix into @buf (3 significant digits) */
const char *an_fmt(char *buf, size_t len, double v);

/* --- text output (text.c) ------------------------------------------------ */

/*
 * an_fmt_unit - @v of @unit for a reader, 3 significant digits: ns as
 * ns/µs/ms/s, B/s as B/s/kB/s/MB/s/GB/s (decimal), ops/s of a *.iops
 * @metric as IOPS, other units with an SI prefix ("176k ops/s").  "-" for
 * NaN.
 */
const char *an_fmt_unit(char *buf, size_t len, double v, const char *unit,
			const char *metric);

struct an_table_ent {
	size_t off;		/* of the text in an_table.text */
	size_t col;
	bool line;		/* a line of its own, outside the columns */
};

/*
 * struct an_table - text in columns as wide as their widest cell (UTF-8
 * aware), two spaces apart, no trailing blanks.  an_table_row() starts a
 * row, an_table_cell() fills its next column; an_table_line() puts a line
 * between rows (a title, a blank) that the columns ignore.
 */
struct an_table {
	const char *align;	/* per column: 'l' left, 'r' right */
	size_t ncols;
	size_t col;		/* next column of the row being filled */
	struct strbuf text;
	struct an_table_ent *ent;
	size_t n;
	size_t cap;
	int err;
};

void an_table_init(struct an_table *t, const char *align);
void an_table_row(struct an_table *t);
int an_table_cell(struct an_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int an_table_line(struct an_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* print the rows, each prefixed by @indent; -1 on an error of @f */
int an_table_print(struct an_table *t, FILE *f, const char *indent);
void an_table_free(struct an_table *t);
/* flush standard output; -1 after saying why when it cannot be written */
int an_stdout_done(void);

/* --- compare ------------------------------------------------------------- */

enum an_format {
	AN_TEXT,
	AN_CSV,
	AN_JSON,
	AN_MARKDOWN,
};

/**
 * struct an_row - one configuration of one metric in a comparison
 * @s: the series
 * @base: the baseline series of the same block and metric, or NULL
 * @med: median with its bootstrap interval
 * @ratio: median(s) / median(base) with its interval (NaN without a base)
 */
struct an_row {
	const struct an_series *s;
	const struct an_series *base;
	struct stats_ci med;
	struct stats_ci ratio;
};

struct an_compare {
	enum an_dim by;
	const char *baseline;	/* the baseline value of @by */
	double level;
	uint64_t seed;
	struct an_row *rows;
	size_t n;
};

/*
 * an_compare_build - compare the configurations of @ds along @by against
 * @baseline (NULL: strict for policy, else the first value seen).  @ds is
 * sorted.  Free with an_compare_free().
 */
int an_compare_build(struct an_dataset *ds, enum an_dim by,
		     const char *baseline, double level, uint64_t seed,
		     struct an_compare *c);
void an_compare_free(struct an_compare *c);
int an_compare_print(FILE *f, const struct an_compare *c, enum an_format fmt,
		     const char *run_id);
/*
 * an_run_summary - the end of 'iommubench run': the comparison by policy
 * on stdout, summary.md and the report in @dir; returns 0 or -1.
 */
int an_run_summary(sqlite3 *db, const char *root, const char *run_id,
		   const char *dir);

/* --- gate ---------------------------------------------------------------- */

enum an_verdict {
	AN_CLEAN,		/* no significant change beyond the threshold */
	AN_IMPROVED,		/* significant change in the good direction */
	AN_REGRESSED,		/* significant change in the bad direction */
	AN_TOO_FEW,		/* refused: not enough repetitions */
	AN_MISSING,		/* no counterpart on the other side */
};

extern const char *const an_verdict_names[];

/**
 * struct an_judgement - the gate's decision on one series pair
 * @welch: the test (ratio of geometric means, candidate / baseline)
 * @p_bad: one-sided p-value in the metric's bad direction, before and
 * @p_adj: after Holm's adjustment over all judged series
 * @effect: signed relative change in the bad direction (+0.12: 12 % worse)
 * @need: repetitions per side that detect a change of min_effect with
 *        the requested power at the observed dispersion (min_n when the
 *        pair was refused)
 * @verdict: the decision
 */
struct an_judgement {
	struct stats_welch welch;
	double p_bad;
	double p_good;
	double p_adj;
	double p_adj_good;
	double effect;
	size_t need;
	enum an_verdict verdict;
};

struct an_gate_opts {
	double alpha;		/* family-wise error rate, default 0.05 */
	double min_effect;	/* relative, default 0.05 */
	size_t min_n;		/* repetitions per side, default 5 */
	double power;		/* for the repetitions asked for, default 0.95 */
	bool holm;		/* adjust over the family (default true) */
};

#define AN_GATE_OPTS_DEFAULT { .alpha = 0.05, .min_effect = 0.05, \
			       .min_n = 5, .power = 0.95, .holm = true }

/*
 * an_gate_opt - set the gate option @name ("alpha", "min-effect",
 * "min-reps", "no-holm") from the command-line value @val (NULL for
 * no-holm); -1 after saying what is wrong.  Shared by 'gate' and the
 * commands that pass options on to it.
 */
int an_gate_opt(struct an_gate_opts *o, const char *name, const char *val);

/*
 * an_judge - judge @n pairs: @a[i] baseline and @b[i] candidate values of
 * series i, direction @higher[i]; fills @out[i].  Holm's adjustment runs
 * over the pairs that have enough repetitions.  The one decision function
 * of the gate, used by 'iommubench gate' and by the simulation.
 */
int an_judge(const struct an_gate_opts *o, size_t n,
	     const double *const *a, const size_t *na,
	     const double *const *b, const size_t *nb, const bool *higher,
	     struct an_judgement *out);

/* --- plots and report ------------------------------------------------------ */

/* the colour of @policy in every figure and table ("#rrggbb") */
const char *an_policy_colour(const char *policy);
/* an_gnuplot - run gnuplot on @script (in @dir); 0 or -1 */
int an_gnuplot(const char *dir, const char *script);
/* a histogram-bearing series: merged latency histogram per configuration */
struct hist;
int an_cell_hists(sqlite3 *db, const char *run_id, const char *workload,
		  const char *what, const char *policy, struct hist *out,
		  size_t *ncells);

int an_plot_bars(const char *dir, const struct an_compare *c, char ***out,
		 size_t *nout);
int an_plot_cdf(const char *dir, sqlite3 *db, const char *run_id,
		const char *workload, const char *what, const char *label,
		char ***out, size_t *nout, char *skipped, size_t skiplen);
int an_plot_stale(const char *dir, sqlite3 *db, const char *run_id,
		  const char *workload, char ***out, size_t *nout,
		  char *skipped, size_t skiplen);
int an_plot_trend(const char *dir, const char *name, const char *title,
		  const char *unit, size_t n, const char *const *label,
		  const struct stats_ci *ci, const bool *cp, char ***out,
		  size_t *nout);

/* the report of a run into @out_dir (NULL: <run>/report); path of the HTML */
int an_report(sqlite3 *db, const struct an_run *run, const char *out_dir,
	      char **html_path);

#endif /* IB_ANALYSIS_H */

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
/*
 * an_filter_metrics - keep only the series whose metric matches one of the
 * globs @pat; -1, naming it, when a pattern matches nothing (a typo would
 * otherwise give an empty table).  No pattern keeps everything.
 */
int an_filter_metrics(struct an_dataset *ds, char *const *pat, size_t npat);
/*
 * an_metric_selected - whether @metric matches one of the globs @pat (the
 * rule an_filter_metrics() applies); no pattern selects every metric.
 */
bool an_metric_selected(const char *metric, char *const *pat, size_t npat);
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
	AN_MISSING,		/* in the baseline only: cannot judge */
	AN_FAILED,		/* in the baseline; every candidate cell of its
				 * configuration failed */
	AN_UNDECIDED,		/* cannot judge, for the reason in @why */
	AN_NEW,			/* in the candidate only: nothing to judge */
};

extern const char *const an_verdict_names[];

/* how a family of tests is adjusted for multiplicity */
enum an_adjust {
	AN_ADJ_HOLM,		/* Holm: family-wise error <= alpha (default) */
	AN_ADJ_BH,		/* Benjamini-Hochberg: false discovery rate */
	AN_ADJ_NONE,		/* every series at alpha on its own */
};

extern const char *const an_adjust_names[];

/**
 * struct an_pair_in - one series pair for the gate
 * @a: baseline values, @na of them
 * @b: candidate values, @nb of them
 * @higher: the metric's direction (an_higher_is_better())
 * @tau: between-run standard deviation (log scale) of a run's mean: 0
 *       when the two sides share their runs' noise (boots interleaved in
 *       one run) or have none (icount clock); NAN when unknown: the pair
 *       cannot be judged
 * @tau_df: degrees of freedom of @tau's estimate (INFINITY: known)
 */
struct an_pair_in {
	const double *a;
	size_t na;
	const double *b;
	size_t nb;
	bool higher;
	double tau;
	double tau_df;
};

/**
 * struct an_judgement - the gate's decision on one series pair
 * @welch: the test (ratio of geometric means, candidate / baseline; of
 *         arithmetic means when a value is 0)
 * @p_bad: one-sided p-value in the metric's bad direction, before and
 * @p_adj: after the family's adjustment (Holm, Benjamini-Hochberg, none)
 * @p_good: the same in the good direction
 * @p_adj_good:
 * @effect_log: change in the bad direction, on the log scale (log 1.12:
 *              12 % worse as a factor, whatever the metric's direction)
 * @lo: the interval of the ratio that agrees with the verdict: each end
 * @hi: a one-sided bound at the level the adjustment gave the test on
 *      that side, so that the bad side's bound excludes "no change"
 *      exactly when the adjusted p in the bad direction is <= alpha
 *      (and likewise for the good side)
 * @level_lo: the confidence of @lo: 1 - alpha * p / p_adjusted
 * @level_hi: the confidence of @hi
 * @clears: regressed or improved, and the bound on that side is beyond
 *          the minimum effect as well
 * @within: the whole interval lies within a factor 1 + min_effect of
 *          "no change"
 * @need: repetitions per side that detect a change of min_effect with
 *        the requested power at the observed dispersion (min_n when the
 *        pair was refused; SIZE_MAX: out of reach)
 * @why: for AN_TOO_FEW, AN_UNDECIDED (and an exact 0 = 0): the reason
 * @verdict: the decision
 */
struct an_judgement {
	struct stats_welch welch;
	double p_bad;
	double p_good;
	double p_adj;
	double p_adj_good;
	double effect_log;
	double lo;
	double hi;
	double level_lo;
	double level_hi;
	bool clears;
	bool within;
	size_t need;
	const char *why;
	enum an_verdict verdict;
};

struct an_gate_opts {
	double alpha;		/* error rate of the family, default 0.05 */
	double min_effect;	/* a factor 1 + min_effect, default 0.05 */
	size_t min_n;		/* repetitions per side, default 5 */
	double power;		/* for the repetitions asked for, default 0.95 */
	enum an_adjust adjust;	/* default Holm */
};

#define AN_GATE_OPTS_DEFAULT { .alpha = 0.05, .min_effect = 0.05, \
			       .min_n = 5, .power = 0.95, \
			       .adjust = AN_ADJ_HOLM }

/*
 * an_gate_opt - set the gate option @name ("alpha", "min-effect",
 * "min-reps", "no-holm", "fdr") from the command-line value @val (NULL
 * for the flags); -1 after saying what is wrong.  Shared by 'gate' and
 * the commands that pass options on to it.
 */
int an_gate_opt(struct an_gate_opts *o, const char *name, const char *val);

/* "Holm over the 39 judged series", for the outputs */
const char *an_adjust_desc(char *buf, size_t len,
			   const struct an_gate_opts *o, size_t n);

/*
 * an_judge - judge @n pairs @in into @out.  A pair is a regression when
 * its one-sided p in the bad direction, adjusted over every judged pair,
 * is <= alpha and it moved by a factor of at least 1 + min_effect in that
 * direction (the same factor for a rate that drops and a latency that
 * rises).  The one decision function of the gate, used by 'iommubench
 * gate' and by the simulation.
 */
int an_judge(const struct an_gate_opts *o, size_t n,
	     const struct an_pair_in *in, struct an_judgement *out);

/**
 * struct an_gate_req - what 'iommubench gate' judges and where it writes
 * @root: results root of runs given by id; NULL: "results"
 * @baseline: the reference run, an id or a run directory
 * @candidate: the run under test
 * @baseline_kernel: only that kernel's series of the baseline, or NULL
 * @candidate_kernel: likewise of the candidate (both may name one run)
 * @metrics: globs of the metrics to judge; none: every metric
 * @nmetrics: how many
 * @noise: the between-run noise file ('iommubench noise'), or NULL
 * @junit: JUnit XML to write, or NULL
 * @markdown: the Markdown summary to write, or NULL
 * @json: the verdicts as JSON (iommubench.gate/1), or NULL; "-": to
 *        standard output, instead of the text report
 * @opts: the test (an_gate_opt())
 */
struct an_gate_req {
	const char *root;
	const char *baseline;
	const char *candidate;
	const char *baseline_kernel;
	const char *candidate_kernel;
	char *const *metrics;
	size_t nmetrics;
	const char *noise;
	const char *junit;
	const char *markdown;
	const char *json;
	struct an_gate_opts opts;
};

/*
 * an_gate - judge @req->candidate against @req->baseline: the report on
 * standard output, the files @req asks for.  Returns the gate's exit
 * status (exitcodes.h): EXIT_OK clean, EXIT_ERROR a regression or a
 * configuration whose candidate cells all failed, EXIT_UNDECIDED when it
 * cannot judge (too few repetitions, a missing series, separate host-clock
 * runs without noise, an input it could not read or an output it could
 * not write), each said on stderr.
 */
int an_gate(const struct an_gate_req *req);

/*
 * an_noise - between-run noise per metric, from A/A runs ('iommubench
 * noise', docs/analysis.md): @tau the log-sd of a run's mean offset, from
 * @runs runs (tau_df = runs - 1).
 */
struct an_noise_metric {
	char *metric;
	double tau;
	size_t runs;
};

struct an_noise {
	char *path;
	char *clock;
	struct an_noise_metric *m;
	size_t n;
};

int an_noise_load(const char *path, struct an_noise *nz);
void an_noise_free(struct an_noise *nz);
const struct an_noise_metric *an_noise_find(const struct an_noise *nz,
					    const char *metric);

/*
 * an_run_clock - the clock a run's guest time came from, as its manifest
 * records it (settings.clock), by its ib_clock_name() ("host", "icount:N");
 * "host" when it does not say.  The caller frees it; NULL after saying
 * why (a clock that is none of lib/clock.h's, or no memory).
 */
char *an_run_clock(const struct an_run *run);

/**
 * struct an_noise_req - what 'iommubench noise' estimates the noise from
 * @root: results root of runs given by id; NULL: "results"
 * @runs: the A/A runs, ids or run directories: at least two, distinct
 * @nruns: how many
 * @metrics: globs of the metrics to estimate; none: every metric
 * @nmetrics: how many
 * @json: where the estimate goes (iommubench.noise/1); "-": standard
 *        output, instead of the table
 */
struct an_noise_req {
	const char *root;
	char *const *runs;
	size_t nruns;
	char *const *metrics;
	size_t nmetrics;
	const char *json;
};

/*
 * an_noise_estimate - the between-run noise per metric from the runs of
 * @req, pooled over the series every run has: the table on stdout, the
 * estimate to @req->json.  0, or -1 after saying why.
 */
int an_noise_estimate(const struct an_noise_req *req);

/* --- history (history.c) -------------------------------------------------- */

/**
 * struct an_history_req - what 'iommubench history' shows
 * @root: results root; NULL: "results"
 * @metric: a metric, or a glob of metrics (a line per metric)
 * @kernels: only kernels with one of these specs, releases or versions
 * @nkernels: how many; none: every kernel
 * @policy: only lines of this policy, or NULL
 * @iommu: only lines of this vIOMMU, or NULL
 * @workload: only lines of this workload, or NULL
 * @base_kernel: one value per commit is the ratio of its repetitions to
 *               this kernel's in the same run, or NULL: their median
 * @alpha: strong change points have a permutation p <= @alpha
 * @weak_alpha: weak ones p <= @weak_alpha (>= @alpha)
 * @min_effect: strong ones move by a factor of at least 1 + @min_effect
 * @perms: permutations per test
 * @seed: of the permutations
 * @plot_dir: where the trend plots go, or NULL
 * @fmt: AN_TEXT or AN_CSV, on standard output
 * @json: the history as JSON (iommubench.history/2) to this file instead
 *        ("-": standard output), or NULL
 */
struct an_history_req {
	const char *root;
	const char *metric;
	char *const *kernels;
	size_t nkernels;
	const char *policy;
	const char *iommu;
	const char *workload;
	const char *base_kernel;
	double alpha;
	double weak_alpha;
	double min_effect;
	size_t perms;
	uint64_t seed;
	const char *plot_dir;
	enum an_format fmt;
	const char *json;
};

/*
 * an_history - one value per kernel commit across every run of the index,
 * per line, with change points (docs/analysis.md); 0, or -1 after saying
 * why (no such metric among the ok cells included).
 */
int an_history(const struct an_history_req *req);

/* --- synthetic stores (synth.c) ------------------------------------------ */

#define AN_SYNTH_SHIFTS		16	/* --shift patterns of one run */
#define AN_SYNTH_KERNELS	64	/* --kernel-list entries */

/**
 * struct an_synth_req - a synthetic run ('iommubench synth-store')
 * @root: the results root it is indexed in
 * @run: its run id
 * @kernels: kernels synth:@kernel_base.. (unless @nklist)
 * @iommus: vIOMMUs ("intel" when one, else iommu0..)
 * @npol: policies, 1-3 of strict, lazy, identity
 * @reps: repetitions of every cell
 * @sd: dispersion, the standard deviation of the values' logs
 * @seed: of the values
 * @files: write the cell files (with histograms), not only the index
 * @trace: dmabench cells carry an iommutrace object
 * @fq_flush: with @trace, flush-queue counts too
 * @kernel_base: the first kernel's number
 * @kernel_step: every value moves by a factor 1 + @kernel_step per kernel
 * @shift_pat: metric globs whose values are multiplied by 1 + @shift
 * @shift: the factors - 1, per pattern
 * @nshift: how many
 * @shift_kernel: the kernel the shifts apply to; -1: every kernel
 * @run_factor: every value of the run is multiplied by it
 * @klist: the kernels' numbers, instead of @kernel_base..
 * @nklist: how many; 0: @kernels from @kernel_base
 * @fail_policy: the cells of this policy fail, or NULL
 * @clock: the manifest's settings.clock, or NULL (the host's)
 * @started: the run's start time, ISO 8601
 */
struct an_synth_req {
	const char *root;
	const char *run;
	unsigned int kernels;
	unsigned int iommus;
	unsigned int npol;
	unsigned int reps;
	double sd;
	uint64_t seed;
	bool files;
	bool trace;
	bool fq_flush;
	int kernel_base;
	double kernel_step;
	const char *shift_pat[AN_SYNTH_SHIFTS];
	double shift[AN_SYNTH_SHIFTS];
	unsigned int nshift;
	int shift_kernel;
	double run_factor;
	int klist[AN_SYNTH_KERNELS];
	unsigned int nklist;
	const char *fail_policy;
	const char *clock;
	const char *started;
};

/*
 * an_synth_store - write the run @req describes, in the layout of
 * results/README, and index it; 0, or -1 after saying why.
 */
int an_synth_store(const struct an_synth_req *req);

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

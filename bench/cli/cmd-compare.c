// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench compare: medians, intervals and ratios per configuration of
 * a run (analysis/compare.c is the engine).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "commands.h"
#include "log.h"
#include "opt.h"
#include "spawn.h"
#include "util.h"

static const char *const by_names[] = { "policy", "kernel", "iommu", "workload", NULL };
static const enum an_dim by_dims[] = { AN_POLICY, AN_KERNEL, AN_IOMMU, AN_WORKLOAD };
static const char *const format_names[] = { "text", "csv", "markdown", NULL };
static const enum an_format format_values[] = { AN_TEXT, AN_CSV, AN_MARKDOWN };

static struct {
	const char *root, *baseline, *json;
	int by, format;
	double level;
	unsigned long long seed;
	struct argv metrics;
} args;

static const struct opt compare_opts[] = {
	OPT_STRING('r', "results", &args.root, "DIR", "results root (default: results)"),
	OPT_CHOICE(0, "by", &args.by, "DIM", "compare along (default policy)", by_names),
	OPT_STRING(0, "baseline", &args.baseline, "VALUE",
		   "the configuration ratios refer to (default: strict for --by policy, else the first)"),
	OPT_STRINGS('m', "metric", &args.metrics, "PATTERN", "only metrics matching the glob"),
	OPT_CHOICE(0, "format", &args.format, "F", "the table's format (default text)",
		   format_names),
	OPT_STRING(0, "json", &args.json, "FILE",
		   "write the comparison as JSON to FILE ('-': standard output) instead"),
	OPT_DOUBLE(0, "level", &args.level, "X", "confidence level (default 0.95)",
		   0.5, 0.999),
	OPT_U64(0, "seed", &args.seed, "N",
		"bootstrap seed above 40 repetitions (default 1)", 0, LLONG_MAX),
	OPT_END(),
};

static const char *const compare_usage[] = { "iommubench compare [options] RUN", NULL };

static const struct opt_cmd compare_cmd = {
	.name = "iommubench compare",
	.usage = compare_usage,
	.about = "Medians with bootstrap confidence intervals per configuration of RUN (a run\n"
		 "id under --results, or a run directory), and ratios to the baseline.",
	.opts = compare_opts,
	.min_args = 1,
	.max_args = 1,
	.args_name = "RUN",
};

/* Print @c as asked: the table to stdout, or JSON to --json FILE. */
static int compare_output(const struct an_compare *c, const char *run_id)
{
	struct afile a;
	FILE *f;

	if (!args.json || !strcmp(args.json, "-"))
		return an_compare_print(stdout, c, args.json ? AN_JSON :
					format_values[args.format], run_id) ||
		       an_stdout_done() ? -1 : 0;
	f = afile_open(&a, args.json);
	if (!f || an_compare_print(f, c, AN_JSON, run_id)) {
		if (f)
			afile_abort(&a);
		pr_err("%s: %s", args.json, strerror(errno));
		return -1;
	}
	if (afile_commit(&a)) {
		pr_err("%s: %s", args.json, strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	struct an_dataset ds;
	struct an_compare c;
	struct an_run run;
	enum an_dim by;
	sqlite3 *db;
	int i, ret = EXIT_ERROR;

	argv_free(&args.metrics);
	memset(&args, 0, sizeof(args));
	args.level = 0.95;
	args.seed = 1;
	i = opt_parse(&compare_cmd, argc, argv);
	if (i < 0)
		return opt_exit(i);
	by = by_dims[args.by];
	if (an_resolve_run(argv[i], args.root, &run))
		goto out_args;
	db = store_open_readonly(run.root);
	an_dataset_init(&ds);
	if (!db || an_load_run(db, run.id, &ds))
		goto out;
	if (!ds.n) {
		pr_err("run %s: no metrics in %s/index.sqlite (no ok cells, or no such run)",
		       run.id, run.root);
		goto out;
	}
	if (an_filter_metrics(&ds, args.metrics.v, args.metrics.n))
		goto out;
	if (an_compare_build(&ds, by, args.baseline, args.level, args.seed, &c))
		goto out;
	if (args.baseline && !c.rows[0].base) {
		bool any = false;

		for (size_t k = 0; k < c.n && !any; k++)
			any = c.rows[k].base;
		if (!any) {
			pr_err("--baseline %s: no %s of run %s has that value",
			       args.baseline, an_dim_names[by], run.id);
			an_compare_free(&c);
			goto out;
		}
	}
	ret = compare_output(&c, run.id) ? EXIT_ERROR : 0;
	an_compare_free(&c);
out:
	an_dataset_free(&ds);
	if (db)
		sqlite3_close(db);
	an_run_free(&run);
out_args:
	argv_free(&args.metrics);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench history: a metric per kernel commit across runs, with change
 * points (analysis/history.c is the engine).
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "analysis.h"
#include "commands.h"
#include "opt.h"
#include "spawn.h"

static const char *const format_names[] = { "text", "csv", NULL };
static const enum an_format format_values[] = { AN_TEXT, AN_CSV };

static struct {
	struct an_history_req req;
	struct argv kernels;
	double min_effect;
	unsigned int perms;
	unsigned long long seed;
	int format;
} args;

static const struct opt history_opts[] = {
	OPT_STRING('m', "metric", &args.req.metric, "METRIC",
		   "the metric, or a glob of metrics (as in 'iommubench compare'): a line per metric"),
	OPT_STRING('r', "results", &args.req.root, "DIR", "results root (default: results)"),
	OPT_GROUP("Which values:"),
	OPT_STRINGS('k', "kernel", &args.kernels, "K",
		    "only kernels with this spec, release or version"),
	OPT_STRING(0, "policy", &args.req.policy, "P", "only the lines of this policy"),
	OPT_STRING(0, "iommu", &args.req.iommu, "I", "only the lines of this vIOMMU"),
	OPT_STRING(0, "workload", &args.req.workload, "W", "only the lines of this workload"),
	OPT_STRING(0, "baseline-kernel", &args.req.base_kernel, "K",
		   "one value per commit is its ratio to kernel K's boots in the same run (runs that interleave K)"),
	OPT_GROUP("Change points:"),
	OPT_DOUBLE(0, "alpha", &args.req.alpha, "X",
		   "strong ones: permutation p <= X (default 0.05)", 0.0001, 0.5),
	OPT_DOUBLE(0, "weak-alpha", &args.req.weak_alpha, "X",
		   "weak ones: p <= X, at least --alpha (default 0.1)", 0.0001, 0.5),
	OPT_DOUBLE(0, "min-effect", &args.min_effect, "P",
		   "strong ones move by a factor of at least P % (default 5)", 0, 1000),
	OPT_UINT(0, "permutations", &args.perms, "N",
		 "permutations per test (default 999)", 19, 1000000),
	OPT_U64(0, "seed", &args.seed, "N", "of the permutations (default 1)", 0, LLONG_MAX),
	OPT_GROUP("Output:"),
	OPT_STRING(0, "plot", &args.req.plot_dir, "DIR",
		   "trend plots (gnuplot PNG, SVG, script) into DIR"),
	OPT_CHOICE(0, "format", &args.format, "F", "the table's format (default text)",
		   format_names),
	OPT_STRING(0, "json", &args.req.json, "FILE",
		   "write the history as JSON (iommubench.history/2) to FILE ('-': standard output) instead"),
	OPT_END(),
};

static const char *const history_usage[] = {
	"iommubench history --metric METRIC [options]", NULL,
};

static const struct opt_cmd history_cmd = {
	.name = "iommubench history",
	.usage = history_usage,
	.about = "One value per kernel commit across every run of the index, per metric,\n"
		 "vIOMMU, policy and workload: the median of its repetitions, or their ratio\n"
		 "to --baseline-kernel's.  Change points: e-divisive means on the logs, each\n"
		 "split a permutation test.",
	.opts = history_opts,
};

/* The engine's request from the options, and the history. */
static int history_run(void)
{
	args.req.kernels = args.kernels.v;
	args.req.nkernels = args.kernels.n;
	args.req.min_effect = args.min_effect / 100;
	args.req.perms = args.perms;
	args.req.seed = args.seed;
	args.req.fmt = format_values[args.format];
	return an_history(&args.req) ? EXIT_ERROR : EXIT_OK;
}

int cmd_history(int argc, char **argv)
{
	int i, ret;

	argv_free(&args.kernels);
	memset(&args, 0, sizeof(args));
	args.req.alpha = 0.05;
	args.req.weak_alpha = 0.1;
	args.min_effect = 5;
	args.perms = 999;
	args.seed = 1;
	i = opt_parse(&history_cmd, argc, argv);
	if (i < 0)
		ret = opt_exit(i);
	else if (!args.req.metric)
		ret = opt_usage_error(&history_cmd, "--metric METRIC is missing");
	else if (args.req.weak_alpha < args.req.alpha)
		ret = opt_usage_error(&history_cmd, "--weak-alpha %g is below --alpha %g: weak change points are the less certain ones",
				      args.req.weak_alpha, args.req.alpha);
	else
		ret = history_run();
	argv_free(&args.kernels);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench noise: the noise between runs, from A/A runs, for gate
 * --noise (analysis/noise.c is the engine).
 */
#include "config.h"

#include <string.h>

#include "analysis.h"
#include "commands.h"
#include "opt.h"
#include "spawn.h"

static struct {
	struct an_noise_req req;
	struct argv metrics;
} args;

static const struct opt noise_opts[] = {
	OPT_STRING('r', "results", &args.req.root, "DIR", "results root (default: results)"),
	OPT_STRINGS('m', "metric", &args.metrics, "PATTERN",
		    "only metrics matching the glob; default: every metric"),
	OPT_STRING(0, "json", &args.req.json, "FILE",
		   "where to write the estimate (iommubench.noise/1); '-': standard output, instead of the table"),
	OPT_END(),
};

static const char *const noise_usage[] = {
	"iommubench noise [options] --json FILE RUN RUN [RUN...]", NULL,
};

static const struct opt_cmd noise_cmd = {
	.name = "iommubench noise",
	.usage = noise_usage,
	.about = "Estimate, from runs of one matrix repeated without changes (A/A), how\n"
		 "far the mean of a run moves between runs: per metric, the standard\n"
		 "deviation of a run's offset on the log scale.  'iommubench gate --noise\n"
		 "FILE' uses it to judge two separate runs on the host clock.  Each RUN is\n"
		 "a run id under --results or a run directory.",
	.opts = noise_opts,
	.max_args = OPT_ARGS_ANY,
	.footer = "exit status: 0 written, 1 an error, 2 usage",
};

int cmd_noise(int argc, char **argv)
{
	int i, ret;

	argv_free(&args.metrics);
	memset(&args, 0, sizeof(args));
	i = opt_parse(&noise_cmd, argc, argv);
	if (i < 0) {
		ret = opt_exit(i);
	} else if (!args.req.json) {
		ret = opt_usage_error(&noise_cmd, "--json FILE is missing: where the estimate goes");
	} else if (argc - i < 2) {
		ret = opt_usage_error(&noise_cmd, "%s: the estimate needs at least two runs",
				      argc - i ? "one RUN" : "no RUN");
	} else {
		args.req.runs = argv + i;
		args.req.nruns = argc - i;
		args.req.metrics = args.metrics.v;
		args.req.nmetrics = args.metrics.n;
		ret = an_noise_estimate(&args.req) ? EXIT_ERROR : EXIT_OK;
	}
	argv_free(&args.metrics);
	return ret;
}

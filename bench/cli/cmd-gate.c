// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench gate: does a candidate run regress against a baseline run?
 * (analysis/gate.c and judge.c are the engine).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "analysis.h"
#include "commands.h"
#include "opt.h"
#include "spawn.h"

static struct {
	struct an_gate_req req;
	struct argv metrics;
} args;

/* The test's options: checked by the rules commits and bisect apply too. */
static int gate_opt(const struct opt *o, const char *arg)
{
	return an_gate_opt(o->value, o->long_name, arg);
}

static const struct opt gate_opts[] = {
	OPT_STRING('r', "results", &args.req.root, "DIR", "results root (default: results)"),
	OPT_STRING('a', "baseline", &args.req.baseline, "RUN",
		   "the reference run (id or directory)"),
	OPT_STRING('b', "candidate", &args.req.candidate, "RUN", "the run under test"),
	OPT_STRING(0, "baseline-kernel", &args.req.baseline_kernel, "K",
		   "only kernel K's series of the baseline run"),
	OPT_STRING(0, "candidate-kernel", &args.req.candidate_kernel, "K",
		   "only kernel K's series of the candidate run (both may name one run that interleaved two kernels)"),
	OPT_STRINGS('m', "metric", &args.metrics, "PATTERN",
		    "a metric to judge, a glob; default: every metric"),
	OPT_STRING(0, "noise", &args.req.noise, "FILE",
		   "between-run noise from A/A runs ('iommubench noise'): needed to judge two separate runs on the host clock"),
	OPT_GROUP("The test:"),
	OPT_CALLBACK(0, "alpha", &args.req.opts, "X",
		     "false-alarm rate of the family, below 0.5 (default 0.05)", gate_opt),
	OPT_CALLBACK(0, "min-effect", &args.req.opts, "P",
		     "smallest change that counts, a factor in % (default 5)", gate_opt),
	OPT_CALLBACK(0, "min-reps", &args.req.opts, "N",
		     "repetitions per side below which the gate refuses, at least 2 (default 5)",
		     gate_opt),
	OPT_CALLBACK_FLAG(0, "fdr", &args.req.opts,
			  "Benjamini-Hochberg (false discovery rate) instead of Holm (family-wise error): for large families",
			  gate_opt),
	OPT_CALLBACK_FLAG(0, "no-holm", &args.req.opts,
			  "judge every metric at alpha on its own", gate_opt),
	OPT_GROUP("Outputs besides the report, each written whole or not at all:"),
	OPT_STRING(0, "junit", &args.req.junit, "FILE", "JUnit XML"),
	OPT_STRING(0, "markdown", &args.req.markdown, "FILE", "Markdown summary"),
	OPT_STRING(0, "json", &args.req.json, "FILE",
		   "machine-readable verdicts (iommubench.gate/1); '-': standard output, instead of the report"),
	OPT_END(),
};

static const char *const gate_usage[] = {
	"iommubench gate --baseline RUN --candidate RUN [options]", NULL,
};

static const struct opt_cmd gate_cmd = {
	.name = "iommubench gate",
	.usage = gate_usage,
	.about = "Judge every metric of the candidate run against the baseline run (each a\n"
		 "run id under --results, or a run directory): Welch's t-test on the logs,\n"
		 "one-sided in the metric's bad direction, adjusted over the family.",
	.opts = gate_opts,
	.footer = "exit status: 0 clean, 1 regression or a configuration that failed in the\n"
		  "candidate, 2 usage, 3 cannot judge (too few repetitions, a series missing\n"
		  "in the candidate, separate host-clock runs without --noise, an input it\n"
		  "could not read or an output it could not write)",
};

int cmd_gate(int argc, char **argv)
{
	const struct an_gate_opts defaults = AN_GATE_OPTS_DEFAULT;
	int i, ret;

	argv_free(&args.metrics);
	memset(&args, 0, sizeof(args));
	args.req.opts = defaults;
	i = opt_parse(&gate_cmd, argc, argv);
	if (i < 0) {
		ret = opt_exit(i);
	} else if (!args.req.baseline || !args.req.candidate) {
		ret = opt_usage_error(&gate_cmd, "%s RUN is missing",
				      args.req.baseline ? "--candidate" : "--baseline");
	} else {
		args.req.metrics = args.metrics.v;
		args.req.nmetrics = args.metrics.n;
		ret = an_gate(&args.req);
	}
	argv_free(&args.metrics);
	return ret;
}

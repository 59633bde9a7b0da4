// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench commits, bisect and the hidden bisect-step: kernel commits as
 * the axis (bench/runner/commits.c is the engine).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "clock.h"
#include "commands.h"
#include "commits.h"
#include "log.h"
#include "opt.h"
#include "util.h"

static struct flow_opts args;
static struct an_gate_opts gate_checked;

static int flow_metric(const struct opt *o, const char *arg)
{
	(void)o;
	args.nmetrics++;
	return argv_pushf(&args.gate_opts, "--metric=%s", arg);
}

static int flow_clock(const struct opt *o, const char *arg)
{
	struct ib_clock clk;

	if (ib_clock_parse(arg, &clk)) {
		pr_err("--%s: '%s' is not host, icount or icount:SHIFT (SHIFT 0-%d)",
		       o->long_name, arg, IB_ICOUNT_MAX_SHIFT);
		return -1;
	}
	args.clock = arg;
	return 0;
}

static int flow_hosts(const struct opt *o, const char *arg)
{
	if (!path_exists(arg)) {
		pr_err("--%s %s: %s", o->long_name, arg, strerror(errno));
		return -1;
	}
	args.hosts = arg;
	return 0;
}

/* run --retries takes it: the same range, checked now */
static int flow_retries(const struct opt *o, const char *arg)
{
	char what[32];
	long long n;

	snprintf(what, sizeof(what), "--%s", o->long_name);
	if (opt_parse_ll(what, arg, 0, 100, &n))
		return -1;
	args.retries = arg;
	return 0;
}

/* The gate's options: checked now, by the gate's rules, used by the gate. */
static int flow_gate_opt(const struct opt *o, const char *arg)
{
	if (an_gate_opt(&gate_checked, o->long_name, arg))
		return -1;
	return argv_pushf(&args.gate_opts, "--%s%s%s", o->long_name,
			  arg ? "=" : "", arg ? arg : "");
}

/* Checked now; passed on by its absolute path, as bisect's steps run elsewhere. */
static int flow_noise(const struct opt *o, const char *arg)
{
	struct an_noise nz;
	char *abs;
	int ret;

	(void)o;
	if (an_noise_load(arg, &nz))
		return -1;
	an_noise_free(&nz);
	abs = realpath(arg, NULL);
	ret = argv_pushf(&args.gate_opts, "--noise=%s", abs ? abs : arg);
	free(abs);
	return ret;
}

#define FLOW_OPTS_COMMON \
	OPT_STRING('r', "results", &args.root, "DIR", "results root (default: results)"), \
	OPT_STRINGS('c', "config", &args.configs, "FRAG", \
		    "kernel config fragment (default kernel-patches/configs/qemu-bench.config)"), \
	OPT_UINT('j', "jobs", &args.jobs, "N", \
		 "make -j N (default: one job per CPU)", 1, 4096), \
	OPT_BOOL(0, "rerun", &args.rerun, \
		 "measure again even when a commit has a run"), \
	OPT_BOOL(0, "unpaired", &args.unpaired, \
		 "one run per commit, gated against the baseline's own run (default: each commit's run interleaves the baseline kernel's boots with its own)"), \
	OPT_CALLBACK(0, "clock", NULL, "C", \
		     "host or icount[:SHIFT] instead of the matrix's clock", flow_clock), \
	OPT_CALLBACK(0, "hosts", NULL, "FILE", \
		     "build here, run the boots on these hosts (run --hosts)", flow_hosts), \
	OPT_CALLBACK(0, "retries", NULL, "N", "with --hosts: run --retries", \
		     flow_retries), \
	OPT_GROUP("Passed to the gate ('iommubench gate --help'):"), \
	OPT_CALLBACK(0, "alpha", NULL, "X", "false-alarm rate (default 0.05)", \
		     flow_gate_opt), \
	OPT_CALLBACK(0, "min-effect", NULL, "P", \
		     "smallest change that counts, in % (default 5)", flow_gate_opt), \
	OPT_CALLBACK(0, "min-reps", NULL, "N", \
		     "repetitions per side below which the gate refuses (default 5)", \
		     flow_gate_opt), \
	OPT_CALLBACK_FLAG(0, "no-holm", NULL, \
			  "judge every metric at alpha on its own", flow_gate_opt), \
	OPT_CALLBACK_FLAG(0, "fdr", NULL, \
			  "Benjamini-Hochberg instead of Holm", flow_gate_opt), \
	OPT_CALLBACK(0, "noise", NULL, "FILE", \
		     "between-run noise from A/A runs ('iommubench noise')", flow_noise)

static const struct opt commits_opts[] = {
	OPT_STRING(0, "tree", &args.tree, "GITDIR", "the kernel git tree"),
	OPT_STRING('m', "matrix", &args.matrix, "M", "the matrix to run on every commit"),
	OPT_STRING(0, "baseline", &args.baseline, "REV",
		   "the commit to gate against (default: REV1)"),
	OPT_CALLBACK(0, "metric", NULL, "PATTERN",
		     "gate only these metrics (glob, repeatable)", flow_metric),
	FLOW_OPTS_COMMON,
	OPT_END(),
};

static const struct opt bisect_opts[] = {
	OPT_STRING(0, "tree", &args.tree, "GITDIR",
		   "the kernel git tree (its checkout is not touched)"),
	OPT_STRING(0, "good", &args.good, "A", "a commit without the regression"),
	OPT_STRING(0, "bad", &args.bad, "B", "a commit with it"),
	OPT_STRING('m', "matrix", &args.matrix, "M",
		   "the matrix to run on every tested commit"),
	OPT_CALLBACK(0, "metric", NULL, "X",
		     "the metric (glob) the gate decides on", flow_metric),
	FLOW_OPTS_COMMON,
	OPT_END(),
};

/* bisect's: the good commit and its kernel, or the baseline's run */
static const struct opt step_opts[] = {
	OPT_STRING(0, "tree", &args.tree, "GITDIR", "the kernel git tree"),
	OPT_STRING('m', "matrix", &args.matrix, "M", "the matrix"),
	OPT_STRING(0, "good", &args.good, "A", "the good commit"),
	OPT_STRING(0, "good-kernel", &args.good_kernel, "K", "its kernel"),
	OPT_STRING(0, "baseline-run", &args.base_run, "RUN",
		   "--unpaired: the good commit's run"),
	OPT_STRING(0, "flow-dir", &args.flow_dir, "DIR", "bisect's directory"),
	OPT_DOUBLE(0, "step-s", &args.step_s, "S",
		   "the bad end's cost, for the ETA", 0, 1e9),
	OPT_U64(0, "started", &args.started_ms, "MS",
		"when the steps began (monotonic ms), for the ETA", 0, LLONG_MAX),
	OPT_CALLBACK(0, "metric", NULL, "X", "the metric", flow_metric),
	FLOW_OPTS_COMMON,
	OPT_END(),
};

static const char *const commits_usage[] = {
	"iommubench commits --tree GITDIR --matrix M [options] REV1..REV2", NULL,
};
static const char *const bisect_usage[] = {
	"iommubench bisect --tree GITDIR --good A --bad B --matrix M --metric X [options]",
	NULL,
};
static const char *const step_usage[] = {
	"iommubench bisect-step --tree GITDIR --matrix M --flow-dir DIR\n"
	"           (--good A --good-kernel K | --unpaired --baseline-run RUN) [options]",
	NULL,
};

static const struct opt_cmd commits_cmd = {
	.name = "iommubench commits",
	.usage = commits_usage,
	.about = "Build each commit of REV1..REV2, run the matrix on it and gate it\n"
		 "against the baseline.",
	.opts = commits_opts,
	.min_args = 1,
	.max_args = 1,
	.args_name = "the range REV1..REV2",
	.footer = "exit status: 0 every commit clean, 1 a regression, 2 usage or an error\n"
		  "(e.g. the baseline could not be measured), 3 some commits could not\n"
		  "be judged",
};

static const struct opt_cmd bisect_cmd = {
	.name = "iommubench bisect",
	.usage = bisect_usage,
	.about = "Find the first commit between A and B whose matrix run the gate finds\n"
		 "regressed on metric X against A's ('git bisect run' with the gate).",
	.opts = bisect_opts,
	.footer = "exit status: 0 the first bad commit was found, 1 an operation failed\n"
		  "(a build, run or git command), 2 usage, 3 no first bad commit: B does\n"
		  "not regress against A, or skipped commits left it open; 130 interrupted",
};

static const struct opt_cmd step_cmd = {
	.name = "iommubench bisect-step",
	.usage = step_usage,
	.about = "One step of 'git bisect run', started by 'iommubench bisect' in its\n"
		 "clone: measure BISECT_HEAD and gate it.",
	.opts = step_opts,
	.footer = "exit status: 0 good, 1 bad, 125 skip, 128 abort (a usage error too)",
};

static void args_reset(void)
{
	const struct an_gate_opts defaults = AN_GATE_OPTS_DEFAULT;

	argv_free(&args.configs);
	argv_free(&args.gate_opts);
	args = (struct flow_opts){ .root = "results" };
	gate_checked = defaults;
}

/* Parse the line of @cmd: the index of its first argument, or < 0. */
static int flow_parse(const struct opt_cmd *cmd, int argc, char **argv)
{
	int i;

	args_reset();
	i = opt_parse(cmd, argc, argv);
	if (i < 0)
		return i;
	if (!args.tree || !args.matrix) {
		opt_usage_error(cmd, "%s is missing", !args.tree ?
				"--tree GITDIR" : "--matrix M");
		return OPT_ERROR;
	}
	return i;
}

int cmd_commits(int argc, char **argv)
{
	const char *range;
	int i, ret;

	i = flow_parse(&commits_cmd, argc, argv);
	if (i < 0) {
		ret = opt_exit(i);
		goto out;
	}
	range = argv[i];
	if (!strstr(range, "..") || strstr(range, "...")) {
		ret = opt_usage_error(&commits_cmd, "'%s' is not a range REV1..REV2",
				      range);
		goto out;
	}
	ret = commits_main(&args, range);
out:
	args_reset();
	return ret;
}

int cmd_bisect(int argc, char **argv)
{
	int i, ret;

	i = flow_parse(&bisect_cmd, argc, argv);
	if (i < 0)
		ret = opt_exit(i);
	else if (!args.good || !args.bad)
		ret = opt_usage_error(&bisect_cmd, "%s is missing",
				      !args.good ? "--good A" : "--bad B");
	else if (args.nmetrics != 1)
		ret = opt_usage_error(&bisect_cmd, "%s", args.nmetrics ?
				      "one --metric X, not several: the gate on one metric decides" :
				      "--metric X is missing");
	else
		ret = bisect_main(&args);
	args_reset();
	return ret;
}

int cmd_bisect_step(int argc, char **argv)
{
	int i, ret;

	i = flow_parse(&step_cmd, argc, argv);
	if (i == OPT_HELP)
		ret = EXIT_OK;
	else if (i < 0)
		ret = BISECT_ABORT;
	else if (!args.flow_dir ||
		 (!args.base_run && (!args.good || !args.good_kernel))) {
		opt_usage_error(&step_cmd, "%s is missing (run by 'iommubench bisect')",
				!args.flow_dir ? "--flow-dir DIR" :
				"--good A and --good-kernel K, or --baseline-run RUN,");
		ret = BISECT_ABORT;
	} else {
		ret = bisect_step_main(&args);
	}
	args_reset();
	return ret;
}

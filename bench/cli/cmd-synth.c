// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench synth-store (hidden): a synthetic result store for the
 * analysis tests and the speed benchmark (analysis/synth.c is the engine).
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "clock.h"
#include "commands.h"
#include "log.h"
#include "opt.h"
#include "spawn.h"
#include "util.h"

static const char *const policy_names[] = { "strict", "lazy", "identity", NULL };

static struct {
	struct an_synth_req req;
	struct argv shift_pats;		/* the globs req.shift_pat points to */
	unsigned long long seed;
	double kernel_step, run_offset;
	int fail_policy;
	bool no_files;
} args;

/* --shift GLOB=PCT: the values of the metrics GLOB matches move by PCT %. */
static int parse_shift(const struct opt *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct an_synth_req *r = o->value;
	double pct;

	if (!eq || eq == arg) {
		pr_err("--shift %s: GLOB=PERCENT, e.g. 'fio.read.iops=-10'", arg);
		return -1;
	}
	if (r->nshift == AN_SYNTH_SHIFTS) {
		pr_err("--shift: at most %d", AN_SYNTH_SHIFTS);
		return -1;
	}
	if (opt_parse_double("--shift", eq + 1, -99, 1000, &pct) ||
	    argv_pushf(&args.shift_pats, "%.*s", (int)(eq - arg), arg))
		return -1;
	r->shift[r->nshift++] = pct / 100;
	return 0;
}

/* --kernel-list N,N...: the kernels' numbers, in order. */
static int parse_kernel_list(const struct opt *o, const char *arg)
{
	struct an_synth_req *r = o->value;
	char *copy = strdup(arg), *save = NULL;
	int ret = -1;

	if (!copy)
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long long n;

		if (r->nklist == AN_SYNTH_KERNELS) {
			pr_err("--kernel-list: at most %d kernels", AN_SYNTH_KERNELS);
			goto out;
		}
		if (opt_parse_ll("--kernel-list", t, 0, 1000000, &n))
			goto out;
		r->klist[r->nklist++] = (int)n;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* --clock CLOCK: one lib/clock.h knows, as a run would record it. */
static int parse_clock(const struct opt *o, const char *arg)
{
	struct ib_clock c;

	if (ib_clock_parse(arg, &c)) {
		pr_err("--clock: '%s' is not host, icount or icount:SHIFT (SHIFT 0-%d)",
		       arg, IB_ICOUNT_MAX_SHIFT);
		return -1;
	}
	*(const char **)o->value = arg;
	return 0;
}

static const struct opt synth_opts[] = {
	OPT_STRING('r', "results", &args.req.root, "DIR", "results root (default: results)"),
	OPT_STRING(0, "run", &args.req.run, "ID", "the run's id (default: synthetic)"),
	OPT_STRING(0, "started", &args.req.started, "TIME",
		   "its start, ISO 8601 (default: 2026-01-01T00:00:00Z)"),
	OPT_CALLBACK(0, "clock", &args.req.clock, "CLOCK",
		     "the clock its manifest records (default: none, the host's)", parse_clock),
	OPT_GROUP("The matrix:"),
	OPT_UINT(0, "kernels", &args.req.kernels, "N", "kernels (default 1)", 1, 100000),
	OPT_INT(0, "kernel-base", &args.req.kernel_base, "N",
		"the first kernel's number (default 0)", 0, 1000000),
	OPT_CALLBACK(0, "kernel-list", &args.req, "N,N...",
		     "the kernels' numbers, instead of --kernels from --kernel-base",
		     parse_kernel_list),
	OPT_UINT(0, "iommus", &args.req.iommus, "N", "vIOMMUs (default 1)", 1, 1000),
	OPT_UINT(0, "policies", &args.req.npol, "N",
		 "policies: strict, lazy, identity, the first N (default 3)", 1, 3),
	OPT_UINT(0, "reps", &args.req.reps, "N", "repetitions (default 5)", 1, 100000),
	OPT_CHOICE(0, "fail-policy", &args.fail_policy, "POLICY",
		   "the cells of this policy fail", policy_names),
	OPT_GROUP("The values:"),
	OPT_DOUBLE(0, "sd", &args.req.sd, "X",
		   "standard deviation of the values' logs (default 0.02)", 0, 5),
	OPT_U64(0, "seed", &args.seed, "N", "of the values (default 1)", 0, LLONG_MAX),
	OPT_CALLBACK(0, "shift", &args.req, "GLOB=PCT",
		     "the values of the metrics GLOB matches move by PCT % (repeatable)",
		     parse_shift),
	OPT_INT(0, "shift-kernel", &args.req.shift_kernel, "N",
		"only kernel N's values are shifted (default: every kernel's)", 0, 1000000),
	OPT_DOUBLE(0, "kernel-step", &args.kernel_step, "PCT",
		   "every value moves by a factor of PCT % per kernel (default 0)", -99, 1000),
	OPT_DOUBLE(0, "run-offset", &args.run_offset, "PCT",
		   "every value of the run moves by PCT % (default 0)", -99, 1000),
	OPT_GROUP("The cells:"),
	OPT_BOOL(0, "no-files", &args.no_files,
		 "index the cells without writing their files (no histograms)"),
	OPT_BOOL(0, "iommutrace", &args.req.trace,
		 "dmabench cells carry an iommutrace object (the exposure window)"),
	OPT_BOOL(0, "fq-flush", &args.req.fq_flush,
		 "with --iommutrace: flush-queue counts too"),
	OPT_END(),
};

static const char *const synth_usage[] = { "iommubench synth-store [options]", NULL };

static const struct opt_cmd synth_cmd = {
	.name = "iommubench synth-store",
	.usage = synth_usage,
	.about = "Write a synthetic run, indexed like a real one, for the analysis tests\n"
		 "and the speed benchmark (docs/analysis.md): log-normal values around\n"
		 "per-policy medians of TCG runs of the default matrix.",
	.opts = synth_opts,
};

int cmd_synth_store(int argc, char **argv)
{
	int i, ret;

	argv_free(&args.shift_pats);
	memset(&args, 0, sizeof(args));
	args.req = (struct an_synth_req){
		.root = "results", .run = "synthetic", .kernels = 1,
		.iommus = 1, .npol = 3, .reps = 5, .sd = 0.02,
		.started = "2026-01-01T00:00:00Z", .shift_kernel = -1,
	};
	args.seed = 1;
	args.fail_policy = -1;
	i = opt_parse(&synth_cmd, argc, argv);
	if (i < 0) {
		ret = opt_exit(i);
	} else {
		for (size_t k = 0; k < args.shift_pats.n; k++)
			args.req.shift_pat[k] = args.shift_pats.v[k];
		args.req.seed = args.seed;
		args.req.files = !args.no_files;
		args.req.kernel_step = args.kernel_step / 100;
		args.req.run_factor = 1 + args.run_offset / 100;
		args.req.fail_policy = args.fail_policy < 0 ? NULL :
				       policy_names[args.fail_policy];
		ret = an_synth_store(&args.req) ? EXIT_ERROR : EXIT_OK;
	}
	argv_free(&args.shift_pats);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench run: run a benchmark matrix, or go on with a run
 * (bench/runner/run.c is the engine).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"
#include "opt.h"
#include "policy.h"
#include "run.h"
#include "ssh.h"
#include "util.h"

static struct run_opts args;
static char device[64];

/* A seed is any 64-bit number, as the manifest records it: 0x... too. */
static int parse_seed(const struct opt *o, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (!*arg || *end || errno || arg[0] == '-' || arg[0] == '+' ||
	    arg[0] == ' ') {
		pr_err("--%s: '%s' is not a whole number", o->long_name, arg);
		return -1;
	}
	args.seed = v;
	args.seed_set = true;
	return 0;
}

static int parse_kernel(const struct opt *o, const char *arg)
{
	if (args.nkernels == MATRIX_MAX_AXIS) {
		pr_err("--%s: at most %d kernels", o->long_name, MATRIX_MAX_AXIS);
		return -1;
	}
	args.kernels[args.nkernels++] = (char *)arg;
	return 0;
}

static int parse_run_id(const struct opt *o, const char *arg)
{
	if (!is_plain_name(arg)) {
		pr_err("--%s %s: a plain name, please", o->long_name, arg);
		return -1;
	}
	args.run_id = arg;
	return 0;
}

static int parse_target(const struct opt *o, const char *arg)
{
	if (!strcmp(arg, "vm")) {
		args.target = RUN_TARGET_VM;
		args.remote_url = NULL;
	} else if (!strcmp(arg, "host")) {
		args.target = RUN_TARGET_HOST;
		args.remote_url = NULL;
	} else if (ssh_is_url(arg)) {
		args.target = RUN_TARGET_HOST;
		args.remote_url = arg;
	} else {
		pr_err("--%s: '%s' is not vm, host or ssh://[USER@]HOST[:PORT]",
		       o->long_name, arg);
		return -1;
	}
	return 0;
}

static int parse_device(const struct opt *o, const char *arg)
{
	if (policy_normalize_dev(arg, device, sizeof(device))) {
		pr_err("--%s: '%s' is not a device name", o->long_name, arg);
		return -1;
	}
	args.device = device;
	return 0;
}

static int parse_clock(const struct opt *o, const char *arg)
{
	if (ib_clock_parse(arg, &args.clock)) {
		pr_err("--%s: '%s' is not host, icount or icount:SHIFT (SHIFT 0-%d)",
		       o->long_name, arg, IB_ICOUNT_MAX_SHIFT);
		return -1;
	}
	args.clock_set = true;
	return 0;
}

static const struct opt run_opts[] = {
	OPT_STRING('r', "results", &args.root, "DIR", "results root (default: results)"),
	OPT_STRING(0, "resume", &args.resume, "RUN",
		   "continue RUN (an id under --results, or its directory)"),
	OPT_CALLBACK(0, "seed", NULL, "N",
		     "order seed (default: the matrix's, else random)", parse_seed),
	OPT_CALLBACK('k', "kernel", NULL, "K",
		     "run on kernel K instead of the matrix's kernels (repeatable)",
		     parse_kernel),
	OPT_CALLBACK(0, "run-id", NULL, "ID",
		     "name the run ID instead of <date>-<time>-<matrix>", parse_run_id),
	OPT_CALLBACK(0, "clock", NULL, "C",
		     "host or icount[:SHIFT] instead of the matrix's clock", parse_clock),
	OPT_BOOL('n', "dry-run", &args.dry_run, "print the plan and exit"),
	OPT_BOOL(0, "prepare", &args.prepare,
		 "create the run and its plan, run nothing (--resume or a fan-out runs it)"),
	OPT_GROUP("Where:"),
	OPT_CALLBACK(0, "target", NULL, "T",
		     "vm (default), host, or ssh://[USER@]HOST[:PORT] (host mode on that machine)",
		     parse_target),
	OPT_CALLBACK(0, "device", NULL, "BDF", "host mode: the device under test",
		     parse_device),
	OPT_BOOL(0, "force", &args.force,
		 "host mode: unbind a device whose storage is in use"),
	OPT_STRING(0, "hosts", &args.hosts, "FILE",
		   "run the boots on the hosts of FILE (GNU parallel's --sshloginfile format; ':' is this machine)"),
	OPT_UINT(0, "retries", &args.retries, "N",
		 "--hosts: a round that fails on a host is tried on another, up to N times (default 3)",
		 0, 100),
	OPT_END(),
};

static const char *const run_usage[] = {
	"iommubench run [options] [MATRIX]",
	"iommubench run --resume RUN [--results DIR]",
	NULL,
};

static const struct opt_cmd run_cmd = {
	.name = "iommubench run",
	.usage = run_usage,
	.about = "Run the matrix MATRIX, an INI file (default: bench/matrices/quick.ini),\n"
		 "in its seeded interleaved order, and keep a complete record under\n"
		 "--results: results/<run-id>/ and the index beside it.",
	.opts = run_opts,
	.max_args = 1,
	.footer = "exit status: 0 every planned cell ok, recorded and indexed, 1 otherwise,\n"
		  "2 usage (or a matrix, or a run to resume, it cannot take), 130 interrupted\n"
		  "(--resume goes on)",
};

int cmd_run(int argc, char **argv)
{
	int i;

	args = (struct run_opts){ .root = "results", .retries = 3 };
	i = opt_parse(&run_cmd, argc, argv);
	if (i < 0)
		return opt_exit(i);
	args.matrix = i < argc ? argv[i] : NULL;
	if (args.remote_url && args.hosts)
		return opt_usage_error(&run_cmd, "--hosts and --target ssh://...: name that machine in the hosts file instead");
	if (args.resume && (args.matrix || args.nkernels || args.run_id ||
			    args.clock_set || args.prepare))
		return opt_usage_error(&run_cmd, "--resume %s: the run has its matrix, kernels, id and clock: no %s",
				       args.resume, args.matrix ? "MATRIX" :
				       args.nkernels ? "--kernel" :
				       args.run_id ? "--run-id" :
				       args.clock_set ? "--clock" : "--prepare");
	if (args.target == RUN_TARGET_HOST && args.nkernels)
		return opt_usage_error(&run_cmd, "--kernel: host mode measures the running kernel");
	return run_main(&args);
}

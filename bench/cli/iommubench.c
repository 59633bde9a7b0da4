// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench - measure what Linux IOMMU DMA policies cost.
 *
 * The umbrella command: each subcommand lives in its own file and takes
 * argv with argv[0] set to the subcommand's name.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "opt.h"
#include "util.h"

static const struct subcmd commands[] = {
	{ "run", cmd_run, "run a benchmark matrix (default: bench/matrices/quick.ini)" },
	{ "kernel", cmd_kernel, "fetch, build and list kernels" },
	{ "vm", cmd_vm, "boot a kernel under QEMU with a vIOMMU and run a command" },
	{ "policy", cmd_policy, "show, set or verify the IOMMU policy of devices" },
	{ "exposure", cmd_exposure, "what lazy mode leaves open: a device's writes after dma_unmap, per policy" },
	{ "agent", cmd_agent, "run the cells of one boot on this machine (used by run)" },
	{ "compare", cmd_compare, "compare the configurations of a run: medians, ratios, CIs" },
	{ "report", cmd_report, "an HTML report with plots, and a Markdown summary, of a run" },
	{ "gate", cmd_gate, "judge a candidate run against a baseline run: exit 1 on regression" },
	{ "history", cmd_history, "a metric per kernel commit across runs, with change points" },
	{ "noise", cmd_noise, "the noise between runs, from A/A runs, for gate --noise" },
	{ "commits", cmd_commits, "build, run and gate every commit of a kernel git range" },
	{ "bisect", cmd_bisect, "find the commit that regressed a metric (git bisect run + gate)" },
	/* hidden: one step of 'git bisect run', started by bisect */
	{ "bisect-step", cmd_bisect_step, NULL },
	/* hidden: this machine's identity, read over SSH by remote runs */
	{ "host-info", cmd_host_info, NULL },
	/* hidden: a host's side of one fan-out job, started by GNU parallel */
	{ "fanout-job", cmd_fanout_job, NULL },
	/* hidden: the boots of several prepared runs at once (commits --hosts) */
	{ "fanout", cmd_fanout, NULL },
	/* hidden: a synthetic result store for tests and benchmarks */
	{ "synth-store", cmd_synth_store, NULL },
};

static bool verbose, quiet;

static const struct opt options[] = {
	OPT_BOOL('v', "verbose", &verbose, "say more: debug messages"),
	OPT_BOOL('q', "quiet", &quiet, "say less: warnings and errors only"),
	OPT_END(),
};

static const char *const usage[] = {
	"iommubench [-v|-q] COMMAND [ARGS]",
	NULL,
};

static const struct opt_cmd iommubench = {
	.name = "iommubench",
	.usage = usage,
	.opts = options,
	.max_args = OPT_ARGS_ANY,
	.stop_at_arg = true,
	.subs = commands,
	.nsubs = ARRAY_SIZE(commands),
	.footer = "'iommubench COMMAND --help' and iommubench(1) say more.",
};

int main(int argc, char **argv)
{
	int i;

	log_init("iommubench");
	i = opt_parse(&iommubench, argc, argv);
	if (i < 0)
		return opt_exit(i);
	if (verbose)
		log_set_level(LOG_DEBUG);
	else if (quiet)
		log_set_level(LOG_WARN);
	/* subcmd_run() reads the command's name at argv[1] */
	return subcmd_run(&iommubench, argc - i + 1, argv + i - 1);
}

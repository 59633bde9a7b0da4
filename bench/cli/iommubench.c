// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench - measure what Linux IOMMU DMA policies cost.
 *
 * The umbrella command: each subcommand lives in its own file and takes
 * argv with argv[0] set to the subcommand's name.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "util.h"

static const struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} subcommands[] = {
	{ "run", cmd_run, "run a benchmark matrix (default: bench/matrices/quick.ini)" },
	{ "kernel", cmd_kernel, "fetch and list kernels (debian:6.1, debian:6.12)" },
	{ "vm", cmd_vm, "boot a kernel under QEMU with a vIOMMU and run a command" },
	{ "policy", cmd_policy, "show, set or verify the IOMMU policy of devices" },
	{ "agent", cmd_agent, "run the cells of one boot on this machine (used by run)" },
	{ "compare", cmd_compare, "compare the configurations of a run: medians, ratios, CIs" },
	{ "report", cmd_report, "an HTML report with plots, and a Markdown summary, of a run" },
	{ "gate", cmd_gate, "judge a candidate run against a baseline run: exit 1 on regression" },
	{ "history", cmd_history, "a metric per kernel commit across runs, with change points" },
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

static void usage(FILE *f)
{
	fprintf(f, "usage: iommubench [-v|-q] <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
		if (subcommands[i].help)
			fprintf(f, "  %-8s %s\n", subcommands[i].name,
				subcommands[i].help);
	fprintf(f, "\n'iommubench <command> --help' and iommubench(1) say more.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	log_init("iommubench");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			log_set_level(LOG_WARN);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("iommubench %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t j = 0; j < ARRAY_SIZE(subcommands); j++)
		if (!strcmp(argv[i], subcommands[j].name))
			return subcommands[j].fn(argc - i, argv + i);
	pr_err("'%s' is not a command; see 'iommubench --help'", argv[i]);
	return EXIT_USAGE;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench agent: run the cells of one boot on this machine; what run
 * starts in every guest, and on the machine itself in host mode
 * (bench/runner/agent.c is the engine).
 */
#include "config.h"

#include <stdbool.h>

#include "agent.h"
#include "commands.h"
#include "opt.h"

static const char *plan, *out;
static bool force;

static const struct opt agent_opts[] = {
	OPT_STRING('p', "plan", &plan, "FILE", "the boot's plan (written by run)"),
	OPT_STRING('o', "out", &out, "DIR",
		   "the run directory cells are written under (default: .)"),
	OPT_BOOL('f', "force", &force,
		 "host mode: unbind a device whose storage is in use"),
	OPT_END(),
};

static const char *const agent_usage[] = {
	"iommubench agent --plan FILE [--out DIR] [--force]", NULL,
};

static const struct opt_cmd agent_cmd = {
	.name = "iommubench agent",
	.usage = agent_usage,
	.about = "Run the cells of one boot's plan here: verify each cell's policy, run\n"
		 "its workload (under iommutrace when asked) and write its cell file.\n"
		 "'iommubench run' starts it; it is rarely run by hand.",
	.opts = agent_opts,
};

int cmd_agent(int argc, char **argv)
{
	int i;

	plan = NULL;
	out = ".";
	force = false;
	i = opt_parse(&agent_cmd, argc, argv);
	if (i < 0)
		return opt_exit(i);
	if (!plan)
		return opt_usage_error(&agent_cmd, "--plan FILE is missing");
	return agent_run(plan, out, force);
}

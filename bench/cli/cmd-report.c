// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench report: the HTML report and Markdown summary of a run
 * (analysis/report.c and plot.c are the engine).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "commands.h"
#include "opt.h"

static const char *report_root, *report_out;

static const struct opt report_opts[] = {
	OPT_STRING('r', "results", &report_root, "DIR", "results root (default: results)"),
	OPT_STRING('o', "output", &report_out, "DIR",
		   "where report.html, report.md and plots/ go (default: RUN/report)"),
	OPT_END(),
};

static const char *const report_usage[] = { "iommubench report [options] RUN", NULL };

static const struct opt_cmd report_cmd = {
	.name = "iommubench report",
	.usage = report_usage,
	.about = "An HTML report (answer first, then provenance, plots and every metric) and\n"
		 "a Markdown summary of RUN, a run id under --results or a run directory.\n"
		 "Prints the path of report.html.",
	.opts = report_opts,
	.min_args = 1,
	.max_args = 1,
	.args_name = "RUN",
};

int cmd_report(int argc, char **argv)
{
	struct an_run run;
	char *html = NULL;
	sqlite3 *db;
	int i, ret = EXIT_ERROR;

	report_root = report_out = NULL;
	i = opt_parse(&report_cmd, argc, argv);
	if (i < 0)
		return opt_exit(i);
	if (an_resolve_run(argv[i], report_root, &run))
		return EXIT_ERROR;
	db = store_open_readonly(run.root);
	if (db && !an_report(db, &run, report_out, &html)) {
		printf("%s\n", html);
		ret = 0;
	}
	free(html);
	if (db)
		sqlite3_close(db);
	an_run_free(&run);
	return ret;
}

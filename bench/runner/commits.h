/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel commits as the axis (commits.c): what 'iommubench commits',
 * 'bisect' and the hidden 'bisect-step' (bench/cli/cmd-commits.c) ask of
 * it, checked for form by the front-end.
 */
#ifndef IB_COMMITS_H
#define IB_COMMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spawn.h"

struct flow_opts {
	const char *tree;		/* the kernel git tree */
	const char *matrix;		/* run on every commit */
	const char *root;		/* results root */
	const char *baseline;		/* commits: gate against it, or REV1 */
	const char *good, *bad;		/* bisect: the ends */
	const char *clock;		/* run --clock, or NULL: the matrix's */
	const char *hosts;		/* run --hosts, or NULL */
	const char *retries;		/* run --retries, or NULL */
	struct argv configs;		/* kernel config fragments */
	struct argv gate_opts;		/* "--metric=X", "--alpha=X" ... */
	size_t nmetrics;		/* --metric among gate_opts */
	unsigned int jobs;		/* make -j, 0: one per CPU */
	bool rerun;			/* measure a commit that has a run */
	bool unpaired;			/* one run per commit, not per pair */
	/* bisect-step only: what bisect hands each step */
	const char *base_run, *flow_dir, *good_kernel;
	double step_s;			/* the bad end's cost, for the ETA */
	uint64_t started_ms;		/* now_ms() when the steps began */
};

/*
 * The flows take configs and gate_opts from @o (leaving them empty) and
 * return the command's exit status (iommubench(1), EXIT STATUS).
 */
int commits_main(struct flow_opts *o, const char *range);
int bisect_main(struct flow_opts *o);
/* One step of 'git bisect run': returns one of these. */
int bisect_step_main(struct flow_opts *o);

/* 'git bisect run' exit codes */
#define BISECT_GOOD	0
#define BISECT_BAD	1
#define BISECT_SKIP	125
#define BISECT_ABORT	128	/* stop: a step that cannot start too */

#endif /* IB_COMMITS_H */

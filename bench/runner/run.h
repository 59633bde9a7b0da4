/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The matrix runner (run.c): what 'iommubench run' (bench/cli/cmd-run.c)
 * asks of it, checked for form by the front-end.
 */
#ifndef IB_RUN_H
#define IB_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "matrix.h"

enum run_target {
	RUN_TARGET_VM,
	RUN_TARGET_HOST,	/* this machine, or remote_url's */
};

struct run_opts {
	const char *root;		/* results root */
	const char *resume;		/* the run to continue, or NULL */
	const char *matrix;		/* NULL: bench/matrices/quick.ini */
	bool seed_set;
	uint64_t seed;
	/* replace the matrix's kernels axis (VM target) */
	char *kernels[MATRIX_MAX_AXIS];
	unsigned int nkernels;
	const char *run_id;		/* the new run's name, or NULL */
	enum run_target target;
	const char *remote_url;		/* ssh://...: host mode there */
	const char *device;		/* host mode: the device under test */
	bool force;			/* host mode: unbind a busy device */
	bool clock_set;			/* clock replaces the matrix's */
	struct ib_clock clock;
	const char *hosts;		/* fan the boots out over these hosts */
	unsigned int retries;		/* with hosts: per round */
	bool dry_run;			/* print the plan, run nothing */
	bool prepare;			/* create the run, run nothing */
};

/*
 * run_main - create the run of @o->matrix (or go on with @o->resume) and
 * run it.  Returns the exit status of 'iommubench run': 0 when every
 * planned cell is ok, recorded and indexed, EXIT_USAGE for a matrix or a
 * run it cannot take, else EXIT_ERROR.
 */
int run_main(const struct run_opts *o);

#endif /* IB_RUN_H */

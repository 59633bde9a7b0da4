/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A run's manifest as the runner reads it: the run's identity, its
 * settings and kernels, and the plan's boots and cells, typed (results/README
 * has the format).  JSON is the format on disk, not the model code reads
 * back by string keys: run.c and fanout.c read a manifest through
 * plan_load(), once.
 */
#ifndef IB_PLAN_H
#define IB_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "clock.h"
#include "run.h"

/*
 * What the file of a planned cell holds.  OK and FAILED are results and
 * stay; everything else is run again by --resume (agent.h has the
 * statuses).
 */
enum cell_state {
	CELL_MISSING,		/* no file */
	CELL_UNREADABLE,	/* a file that does not read, parse or fit */
	CELL_OK,
	CELL_FAILED,
	CELL_ERROR,		/* also: no status, or one not known here */
	CELL_INTERRUPTED,
	CELL_NSTATES,
};

/*
 * The run's plan as the runner (run.c) and the fan-out (fanout.c) walk it,
 * read once from the manifest (plan_load): its boots and their cells, each
 * with what this invocation learns about it.  The JSON objects stay the
 * manifest's own: the manifest, the boots' plan files and the cell files
 * are written from them, in the formats of results/README, and the
 * strings point into them (valid while the manifest holds them).
 */
struct cell {
	struct json_object *json;	/* plan.boots[].cells[] */
	const char *id;			/* a file name (plan_check) */
	const char *type;		/* its workload's: fio, dmabench ... */
	enum cell_state state;		/* what its file held before the run */
	bool indexed;			/* its record is in the index */
	char *lost;			/* why its record could not be written */
	int attempt;			/* > 0: it runs in the boot under way */
};

struct boot {
	struct json_object *json;	/* plan.boots[] */
	const char *id;
	const char *label;
	int rep;
	/* its configuration: plan.boots[].config */
	struct json_object *config;
	const char *kernel, *iommu, *policy, *mechanism;
	struct cell *cells;
	size_t ncells;
};

/* What every boot of the run gets: the manifest's "settings". */
struct run_settings {
	int cpus, mem_mb, boot_timeout_s;
	struct ib_clock clock;
	bool testdev, edu;
	const char *disk;
};

/* One of the manifest's "kernels": {spec: {name, path, release ...}}. */
struct plan_kernel {
	const char *spec;		/* the matrix's: debian:6.1, host ... */
	const char *name;		/* in the kernel cache, or NULL */
	const char *path;		/* its directory there, or NULL */
	struct json_object *json;	/* kernels.<spec> */
};

struct plan {
	/* the run, as its manifest names it */
	const char *run_id;
	enum run_target target;		/* "target": "host" or else the VM */
	const char *host;		/* host.name: the machine measured */
	bool finished;			/* "finished" is set */
	struct plan_kernel *kernels;
	size_t nkernels;
	struct run_settings settings;
	struct boot *boots;
	size_t nboots;
};

/*
 * plan_check - is @man (read from @path) a run's manifest that the runner
 * can walk: a run id, and a plan whose boots and cells are objects with
 * ids that are file names (plans/, logs/, cells/ and attempts/ are named
 * after them)?  json-c asserts the type of the arrays it is handed, so
 * nothing of the plan reaches it unchecked.  -1 after naming @path.
 */
int plan_check(const char *path, struct json_object *man);

/*
 * plan_load - read the run, settings, kernels, boots and cells of
 * @manifest into @p (whatever @p held is freed first).  What is not
 * there, or not of its type, is NULL, 0 or none; only a manifest that
 * plan_check() accepted (or that the runner made) has ids to name files
 * by.  -1 when out of memory.
 */
int plan_load(struct plan *p, struct json_object *manifest);

/* plan_free - free what plan_load() allocated; @p is empty after. */
void plan_free(struct plan *p);

#endif /* IB_PLAN_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Benchmark matrices: an INI file names the axes (kernels, vIOMMUs,
 * policies with their mechanism, workloads, repetitions); the plan expands
 * them into cells and orders them: each repetition round visits every
 * boot configuration once, in a seeded random order, so drift cannot pose
 * as an effect.  Cells of one configuration and round share one boot.
 */
#ifndef IB_MATRIX_H
#define IB_MATRIX_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "clock.h"
#include "policy.h"

#define MATRIX_MAX_AXIS		16
#define MATRIX_MAX_WORKLOADS	32
#define MATRIX_MAX_PARAMS	16
/* Plan-size caps by default; [global] max_cells / max_boots raise them. */
#define MATRIX_MAX_CELLS	10000
#define MATRIX_MAX_BOOTS	1000

enum workload_type {
	WORKLOAD_FIO,
	WORKLOAD_DMABENCH,
	WORKLOAD_STALE,		/* dmabench's stale-DMA probe, on edu */
};

struct workload {
	char *name;			/* section name */
	enum workload_type type;
	bool tracer;			/* run under iommutrace */
	unsigned int nparams;
	char *key[MATRIX_MAX_PARAMS];	/* fio: rw, bs ...; dmabench: args;
					 * stale: delays, trials */
	char *val[MATRIX_MAX_PARAMS];
	int line;			/* where the section starts */
};

struct policy_axis {
	enum iommu_policy policy;
	char *mechanism;		/* "auto", "cmdline", "sysfs" */
};

struct matrix {
	char *path;
	char *text;			/* the file as read, for the manifest */
	char *kernels[MATRIX_MAX_AXIS];
	unsigned int nkernels;
	char *iommus[MATRIX_MAX_AXIS];
	unsigned int niommus;
	struct policy_axis policies[MATRIX_MAX_AXIS];
	unsigned int npolicies;
	struct workload workloads[MATRIX_MAX_WORKLOADS];
	unsigned int nworkloads;
	unsigned int repetitions;
	bool seed_set;
	uint64_t seed;
	bool tracer;
	char *tracer_paths;		/* iommutrace --paths, NULL: all */
	char *disk;			/* nvme or virtio */
	unsigned int cpus;
	int cpus_line;			/* where cpus was set; 0: the default */
	struct ib_clock clock;		/* host (default) or icount[:SHIFT] */
	int clock_line;
	unsigned int mem_mb;
	unsigned int boot_timeout_s;	/* watchdog for one boot */
	unsigned int max_cells;		/* plan-size caps */
	unsigned int max_boots;
};

/*
 * matrix_parse - read and validate @path.  Every error names the file and
 * line ("quick.ini:12: ...", or just the file when it is about the whole
 * file) and nothing is kept.  Axes are bounded (MATRIX_MAX_AXIS values,
 * MATRIX_MAX_WORKLOADS workloads) and hold no value twice; a key set twice
 * in one section, a NUL byte, an empty file, a plan over max_cells or
 * max_boots and a dmabench workload whose args choose the device or
 * --force are refused.  Returns 0 or -1.
 */
int matrix_parse(const char *path, struct matrix *m);
void matrix_free(struct matrix *m);

/*
 * matrix_set_clock - run @m on @clock (after matrix_parse(), for run
 * --clock): icount runs one vCPU, so cpus becomes 1 unless the matrix set
 * more, which is refused.  Returns 0 or -1 after saying why.
 */
int matrix_set_clock(struct matrix *m, const struct ib_clock *clock);

/* A workload parameter, or @def. */
const char *workload_param(const struct workload *w, const char *key,
			   const char *def);
bool matrix_needs_testdev(const struct matrix *m);
/* A stale workload probes QEMU's edu device: the boots need it. */
bool matrix_needs_edu(const struct matrix *m);
/* "fio", "dmabench", "stale": the type as the plan and the cells name it */
const char *workload_type_name(enum workload_type type);

/*
 * matrix_plan - expand @m into boots of cells in run order, as JSON:
 * {"seed": S, "boots": [{"id", "label", "kernel", "iommu", "policy",
 * "mechanism", "rep", "cells": [{"id", "workload"}...]}...]}.
 * Returns NULL, with the error printed, when the plan would have more than
 * @m->max_cells cells or @m->max_boots boots (checked before expanding:
 * a caller may have replaced an axis since matrix_parse()).
 */
struct json_object *matrix_plan(const struct matrix *m, uint64_t seed);

#endif /* IB_MATRIX_H */

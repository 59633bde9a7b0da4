/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommutrace-run.h - user-space parts shared by iommutrace's two sources:
 * the BPF tracer (iommutrace.c) and the tracefs reader
 * (iommutrace-tracefs.c).  Options, the run loop (duration, interval,
 * wrapped workload, signals) and the common head of every JSON record.
 */
#ifndef IOMMUTRACE_RUN_H
#define IOMMUTRACE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define IT_JSON_SCHEMA		"iommubench.iommutrace/2"

struct it_opts {
	bool json;
	bool tracefs;
	bool list;		/* --list: attach points, then exit */
	bool hists;		/* human output: print histograms */
	const char *device;	/* --device BDF or NULL */
	const char *output;	/* -o FILE or NULL (stdout) */
	uint64_t duration_ns;	/* 0: until the workload ends or a signal */
	uint64_t interval_ns;	/* 0: one report at the end */
	unsigned int ringbuf_mb;
	char **cmd;		/* workload argv after "--", or NULL */
};

/* what a run loop reports back */
struct it_run {
	FILE *out;
	uint64_t start_ns;	/* CLOCK_MONOTONIC, as bpf_ktime_get_ns() */
	pid_t child;		/* 0 without a workload */
	int child_status;	/* -1 until it exited */
	bool stopped;		/* signal received */
};

/*
 * Called by it_run_loop(): @poll every ~20 ms to drain buffers, @report
 * at each interval (final = false) and once at the end (final = true).
 * Both return 0 or -1 (the loop stops).
 */
struct it_run_ops {
	int (*poll)(void *ctx);
	int (*report)(void *ctx, struct it_run *run, bool final,
		      unsigned int index, uint64_t from_ns, uint64_t to_ns);
};

int it_run_start(const struct it_opts *o, struct it_run *run);
int it_run_loop(const struct it_opts *o, struct it_run *run,
		const struct it_run_ops *ops, void *ctx);
/* exit status of the whole program after a successful loop */
int it_run_exit_status(const struct it_run *run);
void it_run_cleanup(struct it_run *run);

/* head of every JSON record: schema, tool, kernel_release, source, ... */
struct json_object *it_json_head(const struct it_opts *o, const char *source,
				 bool final, unsigned int index,
				 uint64_t from_ns, uint64_t to_ns);
/* add the "workload" member (null without one) */
int it_json_workload(struct json_object *obj, const struct it_opts *o,
		     const struct it_run *run, bool final);
/* a log2-row text histogram of @h (struct hist) to @f */
struct hist;
void it_print_log2(FILE *f, const struct hist *h, const char *title);

int iommutrace_tracefs_main(const struct it_opts *o);

/* environment checks; each prints its own error */
int it_check_root(void);
int it_check_iommu(void);

#endif /* IOMMUTRACE_RUN_H */

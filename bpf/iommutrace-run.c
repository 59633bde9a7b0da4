// SPDX-License-Identifier: GPL-2.0
/*
 * iommutrace-run.c - run loop, wrapped workload and report helpers shared
 * by the BPF tracer and the tracefs reader of iommutrace.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "exitcodes.h"
#include "hist.h"
#include "iommutrace-run.h"
#include "json.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

static volatile sig_atomic_t it_signal;

static void on_signal(int sig)
{
	it_signal = sig;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/**
 * it_check_root() - iommutrace needs CAP_BPF/CAP_PERFMON and tracefs
 *
 * Return: 0, or -1 after printing why.
 */
int it_check_root(void)
{
	if (geteuid() == 0)
		return 0;
	pr_err("must be run as root: loading BPF programs and reading tracefs need CAP_SYS_ADMIN (or CAP_BPF + CAP_PERFMON)");
	return -1;
}

/**
 * it_check_iommu() - is any IOMMU translating DMA on this machine?
 *
 * An IOMMU registers in /sys/class/iommu and puts devices in groups under
 * /sys/kernel/iommu_groups; without either there is nothing to trace.
 *
 * Return: 0, or -1 after printing why.
 */
int it_check_iommu(void)
{
	char *path = sysfs_path("/sys/kernel/iommu_groups");
	struct dirent *de;
	bool found = false;
	DIR *d;

	d = path ? opendir(path) : NULL;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.') {
			found = true;
			break;
		}
	}
	if (d)
		closedir(d);
	free(path);
	if (found)
		return 0;
	pr_err("no IOMMU: /sys/kernel/iommu_groups is empty (boot with intel_iommu=on or amd_iommu=on, or give the VM a vIOMMU)");
	return -1;
}

/**
 * it_run_start() - open the output, install signal handlers, start the
 * workload
 * @o: options
 * @run: filled in
 *
 * Called after the probes are attached, so the workload runs entirely
 * under tracing.
 *
 * Return: 0 or -1.
 */
int it_run_start(const struct it_opts *o, struct it_run *run)
{
	struct sigaction sa = { .sa_handler = on_signal };

	memset(run, 0, sizeof(*run));
	run->child_status = -1;
	run->out = stdout;
	if (o->output) {
		run->out = fopen(o->output, "w");
		if (!run->out) {
			pr_err("cannot write %s: %s", o->output, strerror(errno));
			return -1;
		}
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	run->start_ns = mono_ns();
	if (o->cmd) {
		struct spawn_opts so = SPAWN_OPTS_DEFAULT;

		so.in_fd = SPAWN_INHERIT;
		run->child = spawn_start(o->cmd, &so);
		if (run->child < 0) {
			pr_err("cannot start %s: %s", o->cmd[0], strerror(errno));
			run->child = 0;
			return -1;
		}
	}
	return 0;
}

/**
 * it_run_loop() - trace until the duration ends, the workload exits or a
 * signal arrives, reporting at every interval and at the end
 * @o: options
 * @run: from it_run_start()
 * @ops: poll and report callbacks
 * @ctx: passed to @ops
 *
 * A signal is forwarded to the workload's process group; the loop then
 * waits for the workload so that its exit status can be returned.
 *
 * Return: 0, or -1 if a callback failed.
 */
int it_run_loop(const struct it_opts *o, struct it_run *run,
		const struct it_run_ops *ops, void *ctx)
{
	uint64_t next_report = o->interval_ns ? run->start_ns + o->interval_ns : 0;
	uint64_t last = run->start_ns, now;
	unsigned int index = 0;
	bool forwarded = false;
	int st;

	for (;;) {
		sleep_ms(20);
		if (ops->poll && ops->poll(ctx))
			return -1;
		now = mono_ns();
		if (run->child && run->child_status < 0 &&
		    spawn_poll(run->child, &st) == 1)
			run->child_status = st;
		if (it_signal && !run->stopped) {
			run->stopped = true;
			pr_info("signal %d: stopping", (int)it_signal);
			if (run->child && run->child_status < 0) {
				kill(-run->child, it_signal);
				forwarded = true;
			}
		}
		if (next_report && now >= next_report) {
			if (ops->report(ctx, run, false, index++, last, now))
				return -1;
			last = now;
			next_report += o->interval_ns;
		}
		if (run->child && run->child_status >= 0)
			break;
		if (run->child && forwarded)
			continue;	/* let the workload finish */
		if (run->stopped)
			break;
		if (o->duration_ns && now - run->start_ns >= o->duration_ns) {
			if (run->child && run->child_status < 0) {
				pr_info("duration reached: stopping %s", o->cmd[0]);
				kill(-run->child, SIGTERM);
				forwarded = true;
				continue;
			}
			break;
		}
	}
	if (ops->poll && ops->poll(ctx))
		return -1;
	now = mono_ns();
	if (o->interval_ns && now > last &&
	    ops->report(ctx, run, false, index, last, now))
		return -1;
	return ops->report(ctx, run, true, 0, run->start_ns, now);
}

/**
 * it_run_exit_status() - the program's exit status after a good run: the
 * workload's, or 0 without one.
 * @run: the run
 */
int it_run_exit_status(const struct it_run *run)
{
	if (run->child)
		return run->child_status < 0 ? EXIT_ERROR : run->child_status;
	return EXIT_OK;
}

/**
 * it_run_cleanup() - stop a still running workload, close the output
 * @run: the run (may be partly set up)
 */
void it_run_cleanup(struct it_run *run)
{
	if (run->child && run->child_status < 0)
		run->child_status = spawn_kill(run->child, 2000);
	if (run->out && run->out != stdout)
		fclose(run->out);
	else if (run->out)
		fflush(run->out);
	run->out = NULL;
}

/**
 * it_json_head() - a new record with the members every record starts with
 * @o: options
 * @source: "bpf" or "tracefs"
 * @final: the whole run (true) or one interval
 * @index: interval number, from 0
 * @from_ns: start of the covered window (CLOCK_MONOTONIC)
 * @to_ns: its end
 *
 * Return: a new object, or NULL.
 */
struct json_object *it_json_head(const struct it_opts *o, const char *source,
				 bool final, unsigned int index,
				 uint64_t from_ns, uint64_t to_ns)
{
	struct json_object *obj = json_object_new_object(), *tool, *filter;
	struct utsname u;
	int err = 0;

	if (!obj)
		return NULL;
	uname(&u);
	tool = json_object_new_object();
	err |= json_add(obj, "schema", json_object_new_string(IT_JSON_SCHEMA));
	err |= json_add(obj, "tool", tool);
	if (tool) {
		err |= json_add(tool, "name", json_object_new_string("iommutrace"));
		err |= json_add(tool, "version", json_object_new_string(PACKAGE_VERSION));
	}
	err |= json_add(obj, "kernel_release", json_object_new_string(u.release));
	err |= json_add(obj, "source", json_object_new_string(source));
	err |= json_add(obj, "scope", json_object_new_string(final ? "total" : "interval"));
	if (final)
		err |= json_add_or_null(obj, "interval", NULL);
	else
		err |= json_add(obj, "interval", json_object_new_int64(index));
	err |= json_add(obj, "start_ns", json_object_new_uint64(from_ns));
	err |= json_add(obj, "duration_ns", json_object_new_uint64(to_ns - from_ns));
	filter = json_object_new_object();
	err |= json_add(obj, "filter", filter);
	if (filter)
		err |= json_add_or_null(filter, "device", o->device ?
					json_object_new_string(o->device) : NULL);
	if (err) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/**
 * it_json_workload() - add "workload": {"argv": [...], "exit_status": N}
 * @obj: record
 * @o: options
 * @run: the run
 * @final: exit_status only in the final record (null before)
 *
 * Return: 0 or -1.
 */
int it_json_workload(struct json_object *obj, const struct it_opts *o,
		     const struct it_run *run, bool final)
{
	struct json_object *w, *argv;
	int err = 0;

	if (!o->cmd)
		return json_add_or_null(obj, "workload", NULL);
	w = json_object_new_object();
	if (json_add(obj, "workload", w))
		return -1;
	argv = json_object_new_array();
	if (json_add(w, "argv", argv))
		return -1;
	for (char **a = o->cmd; *a; a++)
		err |= json_object_array_add(argv, json_object_new_string(*a));
	if (final && run->child_status >= 0)
		err |= json_add(w, "exit_status", json_object_new_int(run->child_status));
	else
		err |= json_add_or_null(w, "exit_status", NULL);
	return err ? -1 : 0;
}

/**
 * it_print_log2() - print a histogram with one row per power of two of
 * nanoseconds (the fine buckets of hist-bucket.h folded), bcc style
 * @f: stream
 * @h: histogram
 * @title: heading
 */
void it_print_log2(FILE *f, const struct hist *h, const char *title)
{
	uint64_t rows[64] = { 0 }, peak = 0;
	int first = -1, last = -1;
	char lo[32], hi[32];

	for (uint32_t i = 0; i < IBH_NR_BUCKETS; i++) {
		uint64_t low = ibh_lower(i);
		int r = low ? (int)ibh_msb(low) + 1 : 0;

		if (!h->buckets[i])
			continue;
		rows[r] += h->buckets[i];
		if (first < 0 || r < first)
			first = r;
		if (r > last)
			last = r;
	}
	fprintf(f, "\n%s (%llu samples)\n", title, (unsigned long long)hist_count(h));
	if (first < 0)
		return;
	for (int r = first; r <= last; r++)
		if (rows[r] > peak)
			peak = rows[r];
	fprintf(f, "%22s : %-10s distribution\n", "range", "count");
	for (int r = first; r <= last; r++) {
		uint64_t from = r ? 1ULL << (r - 1) : 0, to = 1ULL << r;
		int stars = peak ? (int)(rows[r] * 40 / peak) : 0;
		char bar[41];

		memset(bar, '*', stars);
		bar[stars] = '\0';
		fput_cell(f, fmt_unit(lo, sizeof(lo), (double)from, "ns"), 10);
		fputs(" -> ", f);
		fput_cell(f, fmt_unit(hi, sizeof(hi), (double)to, "ns"), -9);
		fprintf(f, ": %-10llu|%-40s|\n", (unsigned long long)rows[r],
			bar);
	}
}

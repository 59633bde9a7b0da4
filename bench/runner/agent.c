// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench agent: run the cells of one boot on the machine it is on.
 *
 * The same code serves the VM target (the guest runs it from /shared, the
 * run directory) and host mode (iommubench run --target host calls it in
 * process).  For each cell: make sure the device under test has the
 * policy the cell claims (reading it back; with the sysfs mechanism,
 * setting it first), run the workload, and write one cell file with the
 * raw workload output, atomically.  A failing cell is written too, with
 * its reason and its status class (agent.h); the agent goes on with the
 * next one.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "commands.h"
#include "json.h"
#include "log.h"
#include "pcidev.h"
#include "policy.h"
#include "spawn.h"
#include "store.h"
#include "util.h"

/*
 * How a step of a cell ended when it did not succeed: CELL_FAILED, the
 * cell's configuration or workload failed; CELL_ERROR, the agent could not
 * do its own part (a file or directory it needs).  Both come with a reason.
 */
enum {
	CELL_FAILED = -1,
	CELL_ERROR = -2,
};

/*
 * A boot's plan file (plans/<boot>.json, written by run.c) as the agent
 * runs it, read once (plan_read, cell_read): what each step needs, by
 * name.  The cell file is written from the plan's objects (cell_new())
 * and the workload's output.
 */
struct workload_spec {
	const char *type;		/* fio, dmabench or stale */
	const char *device;		/* the device under test */
	const char *jobfile;		/* fio: the job file's text */
	bool tracer;			/* run it under iommutrace */
	const char *tracer_paths;	/* iommutrace --paths; NULL: all */
	struct json_object *params;	/* the matrix's key = value strings */
};

struct cell_spec {
	struct json_object *json;	/* plan.cells[] */
	const char *id;
	struct workload_spec wl;
};

struct boot_plan {
	struct json_object *json;	/* the whole file */
	const char *boot;
	const char *policy;
	const char *mechanism;
	struct json_object *config;
	struct json_object *cells;
};

static volatile sig_atomic_t agent_stop;

void agent_interrupt(void)
{
	agent_stop = 1;
}

/* fio variables and their defaults; the workload key is the lower case. */
static const struct {
	const char *var;
	const char *def;
} fio_vars[] = {
	{ "RW", "randread" },
	{ "BS", "4k" },
	{ "IODEPTH", "1" },
	{ "NUMJOBS", "1" },
	{ "IOENGINE", "libaio" },
	{ "RUNTIME", "10" },
	{ "RAMP_TIME", "0" },
	{ "SIZE", "100%" },
};

/*
 * Bring @dev to @want (sysfs mechanism only) and read it back into @rec.
 * Returns 0 when the device has the policy, else -1 with @why set.
 */
static int ensure_policy(const char *dev, enum iommu_policy want, bool sysfs,
			 bool force, struct json_object *rec,
			 struct strbuf *why)
{
	struct device_policy dp;

	if (policy_read(dev, &dp)) {
		strbuf_addf(why, "device %s not found", dev);
		return -1;
	}
	if (sysfs && dp.group >= 0 && dp.policy != want) {
		if (policy_set(dev, want, POLICY_SET_REBIND |
			       (force ? POLICY_SET_FORCE : 0), why))
			return -1;
		policy_read(dev, &dp);
	}
	json_object_object_add(rec, "device", json_object_new_string(dev));
	json_object_object_add(rec, "group", dp.group < 0 ? NULL :
			       json_object_new_int(dp.group));
	json_object_object_add(rec, "type", dp.group < 0 ? NULL :
			       json_object_new_string(dp.type));
	json_object_object_add(rec, "policy", json_object_new_string(
			       dp.group < 0 ? "none" : policy_name(dp.policy)));
	json_object_object_add(rec, "expected",
			       json_object_new_string(policy_name(want)));
	json_object_object_add(rec, "driver", dp.driver[0] ?
			       json_object_new_string(dp.driver) : NULL);
	json_object_object_add(rec, "ok", json_object_new_boolean(
			       dp.group >= 0 && dp.policy == want));
	if (dp.group < 0) {
		strbuf_addf(why, "%s has no IOMMU group", dev);
		return -1;
	}
	if (dp.policy != want) {
		strbuf_addf(why, "policy mismatch: %s group %d is %s (%s), the cell is %s",
			    dev, dp.group, dp.type, policy_name(dp.policy),
			    policy_name(want));
		return -1;
	}
	return 0;
}

static const char *param(struct json_object *params, const char *key,
			 const char *def)
{
	const char *v = json_get_string(params, key);

	return v ? v : def;
}

/*
 * Append ": <last line>" of the cell's log @fd to @why: what a failing
 * program said last ("No space left on device" ...), so that the cell
 * carries it and not only the log.
 */
static void add_last_line(struct strbuf *why, int fd)
{
	char buf[512], *end, *line;
	struct stat st;
	off_t off = 0;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) || !st.st_size)
		return;
	if (st.st_size > (off_t)sizeof(buf) - 1)
		off = st.st_size - (off_t)(sizeof(buf) - 1);
	n = pread(fd, buf, sizeof(buf) - 1, off);
	if (n <= 0)
		return;
	for (end = buf + n; end > buf && isspace((unsigned char)end[-1]); end--)
		;
	*end = '\0';
	line = strrchr(buf, '\n');
	line = line ? line + 1 : buf;
	if (*line)
		strbuf_addf(why, ": %s", line);
}

/*
 * Run @cmd, under iommutrace when the workload asks for the tracer (its
 * report, filtered to @dev, becomes the cell's "iommutrace"); stdout goes
 * to *@out when @out is given, else to the cell's log.  A tracer that
 * cannot trace fails the cell: a measurement never claims a trace it has
 * not got.
 */
static int run_traced(char *const cmd[], const struct workload_spec *wl,
		      const char *tracefile, int logfd, char **out,
		      struct json_object *cell, struct strbuf *why)
{
	bool traced = wl->tracer;
	const char *paths = wl->tracer_paths, *dev = wl->device;
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct json_object *trace;
	struct argv a = { 0 };
	int st;

	if (traced) {
		argv_push(&a, "iommutrace");
		argv_push(&a, "-q");
		argv_push(&a, "--json");
		argv_push(&a, tracefile);
		argv_push(&a, "--device");
		argv_push(&a, dev);
		if (paths) {
			argv_push(&a, "--paths");
			argv_push(&a, paths);
		}
		argv_push(&a, "--");
		unlink(tracefile);
	}
	for (size_t i = 0; cmd[i]; i++)
		argv_push(&a, cmd[i]);
	o.err_fd = logfd;
	if (!out)
		o.out_fd = logfd;
	st = out ? spawn_capture(a.v, &o, out) : spawn_run(a.v, &o);
	if (traced) {
		trace = path_exists(tracefile) ? json_read_file(tracefile) : NULL;
		unlink(tracefile);
		if (!trace) {
			strbuf_addf(why, "iommutrace produced no report (status %d)",
				    st);
			add_last_line(why, logfd);
			argv_free(&a);
			return CELL_FAILED;
		}
		/* it did not trace (a path of tracer_paths cannot attach...) */
		if (json_get_string(trace, "error")) {
			strbuf_addf(why, "iommutrace (status %d): %s", st,
				    json_get_string(trace, "error"));
			json_object_put(trace);
			argv_free(&a);
			return -1;
		}
		json_object_object_add(cell, "iommutrace", trace);
	}
	argv_free(&a);
	if (st) {
		strbuf_addf(why, "%s failed (status %d)", cmd[0], st);
		add_last_line(why, logfd);
		return CELL_FAILED;
	}
	return 0;
}

static int run_fio(const struct cell_spec *c, const char *dir, int logfd,
		   struct json_object *cell, struct strbuf *why)
{
	const struct workload_spec *wl = &c->wl;
	const char *id = c->id, *dev = wl->device, *jobtext = wl->jobfile;
	char *job = xasprintf("%s/%s.fio", dir, id);
	char *out = xasprintf("%s/%s.fio.json", dir, id);
	char *outarg = xasprintf("--output=%s", out);
	char *trace = xasprintf("%s/%s.trace.json", dir, id);
	char *blk = NULL, *argv[] = { "fio", "--output-format=json+", outarg,
				      job, NULL };
	struct json_object *res;
	struct strbuf devs = STRBUF_INIT;
	int ret = CELL_FAILED;

	/* After a rebind the driver probes asynchronously: give it 15 s. */
	for (int i = 0; i < 150; i++) {
		if (pcidev_blockdevs(dev, &devs))
			break;
		sleep_ms(100);
	}
	if (!devs.len) {
		strbuf_addf(why, "no block device on %s", dev);
		goto out;
	}
	blk = xasprintf("/dev/%.*s", (int)strcspn(devs.buf, " "), devs.buf);
	if (!jobtext) {
		strbuf_addf(why, "the plan has no fio job file");
		goto out;
	}
	if (write_file_atomic(job, jobtext, strlen(jobtext))) {
		strbuf_addf(why, "cannot write the fio job file %s: %s", job,
			    strerror(errno));
		ret = CELL_ERROR;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fio_vars); i++) {
		char key[32];
		size_t k;

		for (k = 0; fio_vars[i].var[k] && k + 1 < sizeof(key); k++)
			key[k] = fio_vars[i].var[k] | 0x20;
		key[k] = '\0';
		setenv(fio_vars[i].var, param(wl->params, key, fio_vars[i].def), 1);
	}
	setenv("FILENAME", blk, 1);
	ret = run_traced(argv, wl, trace, logfd, NULL, cell, why);
	if (ret)
		goto out;
	ret = CELL_FAILED;
	res = json_read_file(out);
	if (!res) {
		strbuf_addf(why, "fio wrote no JSON to %s", out);
		goto out;
	}
	json_object_object_add(cell, "fio", res);
	json_object_object_add(cell, "filename", json_object_new_string(blk));
	ret = 0;
out:
	unlink(job);
	unlink(out);
	free(job);
	free(out);
	free(outarg);
	free(trace);
	free(blk);
	strbuf_release(&devs);
	return ret;
}

static int run_dmabench(const struct cell_spec *c, const char *dir, int logfd,
			struct json_object *cell, struct strbuf *why)
{
	const struct workload_spec *wl = &c->wl;
	const char *args = param(wl->params, "args", ""), *dev = wl->device;
	char *trace = xasprintf("%s/%s.trace.json", dir, c->id);
	struct argv a = { 0 };
	struct json_object *res;
	char *copy = strdup(args), *tok, *save, *out = NULL;
	int ret;

	argv_push(&a, "dmabench");
	argv_push(&a, "--device");
	argv_push(&a, dev);
	argv_push(&a, "--json");
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		argv_push(&a, tok);
	ret = run_traced(a.v, wl, trace, logfd, &out, cell, why);
	if (ret)
		goto out;
	res = json_tokener_parse(out);
	if (!res) {
		strbuf_addf(why, "dmabench printed no JSON");
		ret = CELL_FAILED;
		goto out;
	}
	json_object_object_add(cell, "dmabench", res);
	ret = 0;
out:
	argv_free(&a);
	free(trace);
	free(copy);
	free(out);
	return ret;
}

/*
 * The cell file @path could not be written (errno says why): write a short
 * one instead, without the workload's output, with status error and the
 * reason.  A full disk often still takes that; when it does not, say so.
 */
static int record_write_error(struct json_object *cell, const char *path)
{
	static const char *const output[] = { "fio", "dmabench", "stale", "iommutrace" };
	const char *id = json_get_string(cell, "id");
	const char *was = json_get_string(cell, "status");
	char *msg = xasprintf("cannot write %s: %s (the cell was %s)", path,
			      strerror(errno), was ? was : "?");
	int ret;

	if (!msg)
		return -1;
	pr_err("cell %s: %s", id, msg);
	for (size_t i = 0; i < ARRAY_SIZE(output); i++)
		json_object_object_del(cell, output[i]);
	json_object_object_add(cell, "status",
			       json_object_new_string(CELL_STATUS_ERROR));
	json_object_object_add(cell, "error", json_object_new_string(msg));
	ret = json_write_file(path, cell);
	if (ret)
		pr_err("cell %s: not recorded: %s: %s", id, path,
		       strerror(errno));
	free(msg);
	return ret;
}

/*
 * dmabench's stale-DMA probe on the device under test (QEMU's edu): the
 * cell's "stale" is its JSON (iommubench.dmabench-stale/1).
 */
static int run_stale(const struct cell_spec *c, const char *dir, int logfd,
		     struct json_object *cell, struct strbuf *why)
{
	const struct workload_spec *wl = &c->wl;
	const char *delays = param(wl->params, "delays", NULL);
	const char *trials = param(wl->params, "trials", NULL);
	const char *dev = wl->device;
	char *trace = xasprintf("%s/%s.trace.json", dir, c->id), *out = NULL;
	struct json_object *res;
	struct argv a = { 0 };
	int ret = -1;

	argv_push(&a, "dmabench");
	argv_push(&a, "--device");
	argv_push(&a, dev);
	argv_push(&a, "--json");
	argv_push(&a, "--mode");
	argv_push(&a, "stale");
	if (delays) {
		argv_push(&a, "--delays");
		argv_push(&a, delays);
	}
	if (trials) {
		argv_push(&a, "--trials");
		argv_push(&a, trials);
	}
	if (run_traced(a.v, wl, trace, logfd, &out, cell, why))
		goto out;
	res = json_tokener_parse(out);
	if (!res) {
		strbuf_addf(why, "dmabench --mode stale printed no JSON");
		goto out;
	}
	json_object_object_add(cell, "stale", res);
	ret = 0;
out:
	argv_free(&a);
	free(trace);
	free(out);
	return ret;
}

/* Cell @i of @p, as the agent runs it. */
static void cell_read(const struct boot_plan *p, size_t i, struct cell_spec *c)
{
	struct json_object *wl;

	c->json = json_object_array_get_idx(p->cells, i);
	c->id = json_get_string(c->json, "id");
	wl = json_object_object_get(c->json, "workload");
	c->wl = (struct workload_spec){
		.type = json_get_string(wl, "type"),
		.device = json_get_string(wl, "device"),
		.jobfile = json_get_string(wl, "jobfile"),
		.tracer = json_object_get_boolean(json_object_object_get(wl, "tracer")),
		.tracer_paths = json_get_string(wl, "tracer_paths"),
		.params = json_object_object_get(wl, "params"),
	};
}

/* The plan file @path, read into @p (json_object_put(p->json) frees it). */
static int plan_read(const char *path, struct boot_plan *p)
{
	p->json = json_read_file(path);
	if (!p->json)
		return -1;
	p->boot = json_get_string(p->json, "boot");
	p->policy = json_get_string(p->json, "policy");
	p->mechanism = json_get_string(p->json, "mechanism");
	p->config = json_object_object_get(p->json, "config");
	p->cells = json_object_object_get(p->json, "cells");
	return 0;
}

/* Run the workload of @c, the device under test having its policy. */
static int run_workload(const struct cell_spec *c, const char *dir, int logfd,
			struct json_object *cell, struct strbuf *why)
{
	const char *type = c->wl.type ? c->wl.type : "";

	if (!strcmp(type, "fio"))
		return run_fio(c, dir, logfd, cell, why);
	if (!strcmp(type, "dmabench"))
		return run_dmabench(c, dir, logfd, cell, why);
	if (!strcmp(type, "stale"))
		return run_stale(c, dir, logfd, cell, why);
	strbuf_addf(why, "unknown workload type %s", type);
	return CELL_FAILED;
}

/* Run one cell and write <out>/cells/<id>.json. */
static int run_cell(const struct boot_plan *p, const struct cell_spec *c,
		    const char *outdir, bool force)
{
	struct json_object *cell = cell_new(p->boot, p->config, c->json);
	struct json_object *pol = json_object_new_object();
	const char *id = c->id, *dev = c->wl.device, *mech = p->mechanism;
	const char *status = CELL_STATUS_OK;
	struct strbuf why = STRBUF_INIT;
	enum iommu_policy want;
	char *path = xasprintf("%s/cells/%s.json", outdir, id);
	char *tmpdir = xasprintf("%s/work", outdir);
	char *logpath = xasprintf("%s/logs/%s.log", outdir, id);
	char *started = iso8601_now();
	uint64_t t0 = now_ms();
	int logfd, ret;

	pr_info("cell %s", id);
	/* Read back too: a failing program's last words go into the cell. */
	logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	json_object_object_add(cell, "started", json_object_new_string(started));
	if (logfd < 0) {
		strbuf_addf(&why, "cannot create %s: %s", logpath, strerror(errno));
		ret = CELL_ERROR;
	} else if (mkdir_p(tmpdir, 0755)) {
		strbuf_addf(&why, "cannot create %s: %s", tmpdir, strerror(errno));
		ret = CELL_ERROR;
	} else if (policy_parse(p->policy, &want)) {
		strbuf_addf(&why, "plan has no valid policy");
		ret = CELL_FAILED;
	} else {
		ret = ensure_policy(dev, want, mech && !strcmp(mech, "sysfs"),
				    force, pol, &why);
	}
	json_object_object_add(cell, "policy_verified", pol);
	if (!ret)
		ret = run_workload(c, tmpdir, logfd, cell, &why);
	if (ret && agent_stop)
		status = CELL_STATUS_INTERRUPTED;
	else if (ret)
		status = ret == CELL_ERROR ? CELL_STATUS_ERROR : CELL_STATUS_FAILED;
	json_object_object_add(cell, "status", json_object_new_string(status));
	json_object_object_add(cell, "error", ret ? json_object_new_string(why.buf) : NULL);
	json_object_object_add(cell, "duration_s",
			       json_object_new_double((now_ms() - t0) / 1000.0));
	if (ret)
		pr_warn("cell %s %s: %s", id, status, why.buf);
	if (logfd >= 0)
		close(logfd);
	ret = json_write_file(path, cell);
	if (ret)
		ret = record_write_error(cell, path);
	json_object_put(cell);
	strbuf_release(&why);
	free(path);
	free(tmpdir);
	free(logpath);
	free(started);
	return ret;
}

int agent_run(const char *planpath, const char *outdir, bool force)
{
	struct boot_plan plan;
	int ret = 0;

	if (plan_read(planpath, &plan))
		return EXIT_ERROR;
	for (const char *sub = "cells\0logs\0"; *sub; sub += strlen(sub) + 1) {
		char *d = xasprintf("%s/%s", outdir, sub);

		if (!d || mkdir_p(d, 0755)) {
			pr_err("%s: %s", d ? d : outdir, strerror(errno));
			free(d);
			json_object_put(plan.json);
			return EXIT_ERROR;
		}
		free(d);
	}
	for (size_t i = 0; i < json_object_array_length(plan.cells) &&
	     !agent_stop; i++) {
		struct cell_spec c;

		cell_read(&plan, i, &c);
		if (run_cell(&plan, &c, outdir, force))
			ret = EXIT_ERROR;
	}
	{
		char *work = xasprintf("%s/work", outdir);

		if (work)
			rmdir(work);
		free(work);
	}
	json_object_put(plan.json);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench run: the main job.  Expand a matrix into boots of cells,
 * run them in their seeded interleaved order on the VM target (one boot
 * per configuration and round) or on this machine (host mode), and keep a
 * complete record: results/<run-id>/ and the SQLite index beside it.
 * A failed boot or cell is recorded with its reason and logs, and the run
 * goes on.  --resume runs again every cell without a result (no file, an
 * unreadable one, status error or interrupted: agent.h), keeping the
 * earlier record under attempts/.  The exit status is 0 only when every
 * planned cell is ok, recorded and indexed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent.h"
#include "analysis.h"
#include "commands.h"
#include "fanout.h"
#include "hostinfo.h"
#include "json.h"
#include "kernel.h"
#include "log.h"
#include "matrix.h"
#include "opt.h"
#include "plan.h"
#include "remote.h"
#include "run.h"
#include "spawn.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "vm.h"

struct runner {
	struct json_object *manifest;
	struct plan plan;
	const char *run_id;
	char *dir;
	sqlite3 *db;
	enum run_target target;
	bool force;
	/* --kernel replaces the matrix's kernels; --run-id names the run */
	char *kernels[MATRIX_MAX_AXIS];
	unsigned int nkernels;
	const char *want_id;
	/* progress */
	unsigned int total;
	unsigned int done;
	unsigned int failed;
	unsigned int skipped;
	unsigned int boot_retries;	/* boots that needed more than one attempt */
	/* --clock replaces the matrix's clock */
	struct ib_clock clock;
	bool clock_set;
	uint64_t t0;
	uint64_t last_draw;
	bool tty;
	const char *boot_label;
	const struct boot *boot_now;	/* the boot under way */
	unsigned int boot_seen;
	/* --target ssh://...: host mode on that machine (remote.c) */
	const char *remote_url;
	struct remote remote;
	bool remote_open;
	/* --hosts FILE: the boots fan out over hosts (fanout.c) */
	struct fanout_opts fanout;
	bool fanned;
};

/* The signal that stopped the run (SIGINT, SIGTERM), or 0. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
	agent_interrupt();
}

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}


/* --- the manifest ----------------------------------------------------- */

static struct json_object *tools_json(enum run_target target)
{
	struct json_object *t = json_object_new_object();
	char *fio[] = { "fio", "--version", NULL };
	char *qemu[] = { "qemu-system-x86_64", "--version", NULL };
	char *git[] = { "git", "-C", ABS_TOP_SRCDIR, "describe", "--always",
			"--dirty", "--tags", NULL };
	char *s;

	s = spawn_capture_line(fio, NULL);
	json_object_object_add(t, "fio", jstr_or_null(s));
	free(s);
	if (target == RUN_TARGET_VM) {
		s = spawn_capture_line(qemu, NULL);
		json_object_object_add(t, "qemu", jstr_or_null(s));
		free(s);
	}
	json_object_object_add(t, "iommubench", json_object_new_string(PACKAGE_VERSION));
	/* The suite's own revision, when it runs from its git tree. */
	s = strcmp(ib_datadir(), ABS_TOP_SRCDIR) ? NULL : spawn_capture_line(git, NULL);
	json_object_object_add(t, "git_describe", jstr_or_null(s));
	free(s);
	return t;
}

static int save_manifest(struct runner *r)
{
	char *path = xasprintf("%s/manifest.json", r->dir);
	int ret = path ? json_write_file(path, r->manifest) : -1;

	if (ret)
		pr_err("%s: %s", path ? path : r->dir, strerror(errno));
	free(path);
	return ret;
}

/* --- the plan ---------------------------------------------------------- */

static char *cell_path(const struct runner *r, const char *id)
{
	return xasprintf("%s/cells/%s.json", r->dir, id);
}

/* --- planning --------------------------------------------------------- */

static struct json_object *workload_json(const struct matrix *m,
					 const struct workload *w,
					 enum run_target target,
					 const char *host_dev)
{
	struct json_object *o = json_object_new_object();
	struct json_object *params = json_object_new_object();
	const char *dev;

	json_object_object_add(o, "name", json_object_new_string(w->name));
	json_object_object_add(o, "type", json_object_new_string(
			       workload_type_name(w->type)));
	json_object_object_add(o, "tracer", json_object_new_boolean(w->tracer));
	if (w->tracer && m->tracer_paths)
		json_object_object_add(o, "tracer_paths",
				       json_object_new_string(m->tracer_paths));
	for (unsigned int i = 0; i < w->nparams; i++)
		json_object_object_add(params, w->key[i],
				       json_object_new_string(w->val[i]));
	json_object_object_add(o, "params", params);
	if (target == RUN_TARGET_HOST)
		dev = workload_param(w, "device", host_dev);
	else
		dev = w->type == WORKLOAD_FIO ? VM_BDF_DISK :
		      w->type == WORKLOAD_STALE ? VM_BDF_EDU : VM_BDF_TESTDEV;
	json_object_object_add(o, "device", json_object_new_string(dev));
	if (w->type == WORKLOAD_FIO) {
		const char *tmpl = workload_param(w, "template", "basic");
		char *path = xasprintf("%s/bench/fio/%s.fio", ib_datadir(), tmpl);
		char *text = path ? read_file(path, NULL) : NULL;

		if (!text)
			pr_err("%s: workload [%s]: fio template %s: %s", m->path,
			       w->name, path ? path : tmpl, strerror(errno));
		json_object_object_add(o, "jobfile", jstr_or_null(text));
		free(path);
		free(text);
		if (!text) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/*
 * Turn the matrix plan into the run's plan: a config object per boot with
 * the kernel's exact release, the effective mechanism, and every cell's
 * workload spelled out so the agent needs nothing else.
 */
static int enrich_plan(struct json_object *plan, const struct matrix *m,
		       enum run_target target, const char *host_dev,
		       struct json_object *kernels)
{
	struct json_object *boots = json_object_object_get(plan, "boots");
	unsigned int seq = 0;

	for (size_t b = 0; b < json_object_array_length(boots); b++) {
		struct json_object *boot = json_object_array_get_idx(boots, b);
		struct json_object *cells = json_object_object_get(boot, "cells");
		struct json_object *conf = json_object_new_object();
		const char *kspec = json_get_string(boot, "kernel");
		struct json_object *k = json_object_object_get(kernels, kspec);
		enum vm_mechanism mech = VM_MECH_SYSFS;
		char clk[16];

		if (target == RUN_TARGET_VM) {
			struct vm_config cfg = { 0 };
			const char *mname = json_get_string(boot, "mechanism");

			vm_iommu_parse(json_get_string(boot, "iommu"), &cfg.iommu);
			policy_parse(json_get_string(boot, "policy"), &cfg.policy);
			cfg.mechanism = !strcmp(mname, "sysfs") ? VM_MECH_SYSFS :
					!strcmp(mname, "cmdline") ? VM_MECH_CMDLINE :
					VM_MECH_AUTO;
			enum log_level lvl = log_get_level();

			/* Say once per configuration, not once per round. */
			if (b >= json_object_array_length(boots) / m->repetitions)
				log_set_level(LOG_WARN);
			mech = vm_mechanism(&cfg);
			log_set_level(lvl);
		}
		json_object_object_add(conf, "kernel", json_object_new_string(kspec));
		json_copy(conf, "kernel_name", k, "name");
		json_copy(conf, "kernel_release", k, "release");
		json_copy(conf, "kernel_version", k, "version");
		json_copy(conf, "kernel_commit", k, "commit");
		json_copy(conf, "iommu", boot, "iommu");
		json_copy(conf, "policy", boot, "policy");
		json_object_object_add(conf, "mechanism",
				       json_object_new_string(vm_mechanism_name(mech)));
		json_object_object_add(conf, "clock", json_object_new_string(
				       ib_clock_name(&m->clock, clk, sizeof(clk))));
		json_object_object_add(boot, "config", conf);
		for (size_t c = 0; c < json_object_array_length(cells); c++) {
			struct json_object *cell = json_object_array_get_idx(cells, c);
			const char *wname = json_get_string(cell, "workload");
			struct json_object *wl = NULL;

			for (unsigned int i = 0; i < m->nworkloads; i++)
				if (!strcmp(m->workloads[i].name, wname))
					wl = workload_json(m, &m->workloads[i],
							   target, host_dev);
			if (!wl)
				return -1;
			json_object_object_add(cell, "workload", wl);
			json_copy(cell, "rep", boot, "rep");
			json_object_object_add(cell, "seq", json_object_new_int(++seq));
		}
	}
	return 0;
}

/* --- progress --------------------------------------------------------- */

/*
 * One line, redrawn: a bar, cells finished of the total, failures, the
 * boot under way, elapsed time and an ETA from this invocation's pace.
 * Cells finished before a --resume count as finished, not as pace.
 */
static void draw_progress(struct runner *r, bool force)
{
	unsigned int finished = r->done + r->failed + r->boot_seen;
	unsigned int width = 24, fill, fresh = finished - r->skipped;
	double elapsed = (now_ms() - r->t0) / 1000.0;
	char el[16], eta[16] = "?";

	if (!r->tty || (!force && now_ms() - r->last_draw < 250))
		return;
	r->last_draw = now_ms();
	fill = r->total ? finished * width / r->total : width;
	if (fill > width)
		fill = width;
	if (fresh)
		fmt_duration(eta, sizeof(eta), elapsed / fresh *
			     (r->total - finished));
	fmt_duration(el, sizeof(el), elapsed);
	fprintf(stderr, "\r\033[K[%.*s%*s] %u/%u cells",
		(int)fill, "########################", (int)(width - fill), "",
		finished, r->total);
	if (r->failed)
		fprintf(stderr, ", %u failed", r->failed);
	fprintf(stderr, " | %s | %s, ETA %s",
		r->boot_label ? r->boot_label : "", el, eta);
	fflush(stderr);
}

/* Count the current boot's cell files as they appear. */
static void tick(void *arg)
{
	struct runner *r = arg;
	unsigned int seen = 0;

	if (interrupted)
		vm_interrupt();
	if (!r->tty || now_ms() - r->last_draw < 250)
		return;
	for (size_t i = 0; r->boot_now && i < r->boot_now->ncells; i++) {
		const struct cell *c = &r->boot_now->cells[i];
		char *p;

		if (!c->attempt)
			continue;
		p = cell_path(r, c->id);
		seen += p && path_exists(p);
		free(p);
	}
	r->boot_seen = seen;
	draw_progress(r, false);
}

/* --- the state of the cells ---------------------------------------------- */

static bool cell_is_result(enum cell_state s)
{
	return s == CELL_OK || s == CELL_FAILED;
}

/* The state a cell record's "status" gives. */
static enum cell_state status_state(struct json_object *cell)
{
	const char *st = json_get_string(cell, "status");

	if (st && !strcmp(st, CELL_STATUS_OK))
		return CELL_OK;
	if (st && !strcmp(st, CELL_STATUS_FAILED))
		return CELL_FAILED;
	if (st && !strcmp(st, CELL_STATUS_INTERRUPTED))
		return CELL_INTERRUPTED;
	return CELL_ERROR;
}

/*
 * cell_state - what the cell file @path of cell @id holds; *@cellp gets the
 * parsed file when it is a cell (the caller puts it), else NULL.  A file
 * that does not parse says so, naming the file and line.
 */
static enum cell_state cell_state(const char *path, const char *id,
				  struct json_object **cellp)
{
	struct json_object *cell;

	*cellp = NULL;
	if (!path || !path_exists(path))
		return CELL_MISSING;
	cell = json_read_file(path);
	if (!cell)
		return CELL_UNREADABLE;
	if (!json_object_is_type(cell, json_type_object) ||
	    strcmp(json_get_string(cell, "id") ? json_get_string(cell, "id") : "",
		   id)) {
		pr_err("%s: not the record of cell %s", path, id);
		json_object_put(cell);
		return CELL_UNREADABLE;
	}
	*cellp = cell;
	return status_state(cell);
}

/* Index @cell, the record of @c; the end of the run counts those that are not. */
static void index_cell(struct runner *r, struct cell *c,
		       struct json_object *cell, const char *path)
{
	c->indexed = r->db && !store_add_cell(r->db, r->run_id, cell, path);
	if (!c->indexed)
		pr_warn("cell %s is not indexed", c->id);
}

/*
 * Before running: count the planned cells, note what each one's file
 * holds, index the files already there (a run killed mid-boot leaves
 * cells the agent wrote but the host never indexed) and, when resuming,
 * say what runs again.
 */
static unsigned int survey_cells(struct runner *r)
{
	unsigned int n = 0, count[CELL_NSTATES] = { 0 };

	for (size_t b = 0; b < r->plan.nboots; b++) {
		for (size_t c = 0; c < r->plan.boots[b].ncells; c++) {
			struct cell *pc = &r->plan.boots[b].cells[c];
			char *p = cell_path(r, pc->id);
			struct json_object *cell;
			enum cell_state s = cell_state(p, pc->id, &cell);

			n++;
			count[s]++;
			pc->state = s;
			if (cell) {
				index_cell(r, pc, cell, p);
				json_object_put(cell);
			}
			if (cell_is_result(s)) {
				r->skipped++;
				if (s == CELL_OK)
					r->done++;
				else
					r->failed++;
			}
			free(p);
		}
	}
	if (count[CELL_MISSING] < n)
		pr_info("%u of %u cells have a result (%u ok, %u failed); to run: %u without a record, %u unreadable, %u error, %u interrupted",
			count[CELL_OK] + count[CELL_FAILED], n, count[CELL_OK],
			count[CELL_FAILED], count[CELL_MISSING],
			count[CELL_UNREADABLE], count[CELL_ERROR],
			count[CELL_INTERRUPTED]);
	return n;
}

/* --- executing a boot --------------------------------------------------- */

/*
 * Keep the record of cell @id, about to run again: move cells/<id>.json
 * and logs/<id>.log to attempts/<id>.<n>.json and .log, n the first free
 * number.  Returns the number of the coming attempt (1 for a cell never
 * recorded), or -1 when the record could not be moved: the cell is then
 * not run, so that nothing is overwritten.
 */
static int keep_attempt(const struct runner *r, const char *id, bool recorded)
{
	char *dir = xasprintf("%s/attempts", r->dir), *to = NULL, *from;
	int n;

	for (n = 1; dir; n++) {
		free(to);
		to = xasprintf("%s/%s.%d.json", dir, id, n);
		if (!to || !path_exists(to))
			break;
	}
	if (!dir || !to) {
		n = -1;
		goto out;
	}
	if (!recorded)
		goto out;
	from = cell_path(r, id);
	if (!from || mkdir_p(dir, 0755) || rename(from, to)) {
		pr_err("cell %s: cannot keep its record as %s: %s", id, to,
		       strerror(errno));
		free(from);
		n = -1;
		goto out;
	}
	free(from);
	from = xasprintf("%s/logs/%s.log", r->dir, id);
	free(to);
	to = xasprintf("%s/%s.%d.log", dir, id, n);
	if (from && to && path_exists(from) && rename(from, to))
		pr_warn("cell %s: cannot keep its log as %s: %s", id, to,
			strerror(errno));
	free(from);
	n++;
out:
	free(to);
	free(dir);
	return n;
}

/*
 * Cells of @boot that run now: all on a fresh run; on a resumed one those
 * without a result (missing, unreadable, error, interrupted), each with
 * its earlier record kept (keep_attempt) and its attempt number
 * (cell.attempt).  Returns their entries for the boot's plan file.
 */
static struct json_object *pending_cells(struct runner *r, struct boot *boot)
{
	struct json_object *pending = json_object_new_array();

	for (size_t i = 0; i < boot->ncells; i++) {
		struct cell *c = &boot->cells[i];
		struct json_object *pc;

		c->attempt = 0;
		if (cell_is_result(c->state))
			continue;
		c->attempt = keep_attempt(r, c->id, c->state != CELL_MISSING);
		if (c->attempt < 0) {
			c->attempt = 0;
			continue;
		}
		/* Until it has a new record the index must not show the old. */
		if (r->db && store_remove_cell(r->db, r->run_id, c->id))
			pr_warn("cell %s: its earlier record stays in the index",
				c->id);
		c->indexed = false;
		pc = json_object_new_object();
		json_object_object_foreach(c->json, key, val)
			json_object_object_add(pc, key, json_object_get(val));
		json_object_object_add(pc, "attempt",
				       json_object_new_int(c->attempt));
		json_object_array_add(pending, pc);
	}
	return pending;
}

/*
 * Write @cell to @path and index it.  When it cannot be written, say so
 * with the result it had (and keep that for the end of the run), and
 * index the file the agent left if there is one.  Returns the state of
 * the cell as recorded.
 */
static enum cell_state record_cell(struct runner *r, struct cell *c,
				   struct json_object *cell, const char *path)
{
	struct json_object *old;
	const char *error = json_get_string(cell, "error");
	enum cell_state s;

	if (!json_write_file(path, cell)) {
		index_cell(r, c, cell, path);
		return status_state(cell);
	}
	free(c->lost);
	c->lost = xasprintf("cannot write %s: %s; its result: %s%s%s", path,
			    strerror(errno), json_get_string(cell, "status"),
			    error ? ": " : "", error ? error : "");
	pr_err("cell %s: %s", c->id, c->lost ? c->lost : strerror(ENOMEM));
	s = cell_state(path, c->id, &old);
	if (old) {
		index_cell(r, c, old, path);
		json_object_put(old);
	}
	return s;
}

/* The machine that ran a cell of @boot: the boot's (remote, fan-out) or the run's. */
static const char *boot_host(const struct runner *r, const struct boot *boot)
{
	const char *host = json_get_string(boot->json, "host");

	if (!host)
		host = json_get_string(json_object_object_get(r->manifest, "host"),
				       "name");
	return host ? host : "";
}

/*
 * After a boot: give every cell that ran (cell.attempt) a final file.  A
 * cell the agent wrote keeps the agent's record; one it did not gets a
 * record with status @boot_status and @boot_error when the boot failed,
 * interrupted when the run was stopped, else error.  Each gets its attempt
 * number and the boot's record @vm, and is indexed.
 */
static void settle_cells(struct runner *r, const struct boot *boot,
			 struct json_object *vm, const char *boot_status,
			 const char *boot_error)
{
	for (size_t i = 0; i < boot->ncells; i++) {
		struct cell *c = &boot->cells[i];
		const char *status = CELL_STATUS_ERROR, *why = NULL;
		char *path, *msg = NULL;
		struct json_object *cell;
		enum cell_state s;

		if (!c->attempt)
			continue;
		path = cell_path(r, c->id);
		log_mark();
		s = cell_state(path, c->id, &cell);
		if (s == CELL_UNREADABLE) {
			msg = xasprintf("the agent's record is unreadable: %s",
					log_first_error() ? log_first_error() :
					path);
			why = msg;
		} else if (interrupted) {
			status = CELL_STATUS_INTERRUPTED;
			msg = xasprintf("the run was stopped (%s) before the cell finished",
					interrupted == SIGINT ? "SIGINT" :
					"SIGTERM");
			why = msg;
		} else if (boot_error) {
			status = boot_status;
			why = boot_error;
		} else {
			why = "the agent wrote no result for this cell";
		}
		if (!cell) {
			cell = cell_new(boot->id, boot->config, c->json);
			json_object_object_add(cell, "status",
					       json_object_new_string(status));
			json_object_object_add(cell, "error",
					       json_object_new_string(why));
		}
		json_object_object_add(cell, "attempt",
				       json_object_new_int(c->attempt));
		if (vm)
			json_object_object_add(cell, "vm", json_object_get(vm));
		if (!json_object_object_get_ex(cell, "host", NULL))
			json_object_object_add(cell, "host", json_object_new_string(
					       boot_host(r, boot)));
		s = record_cell(r, c, cell, path);
		if (s == CELL_OK) {
			r->done++;
		} else {
			r->failed++;
			if (!r->tty && s != CELL_MISSING)
				pr_warn("cell %s %s: %s", c->id,
					json_get_string(cell, "status"),
					json_get_string(cell, "error"));
		}
		json_object_put(cell);
		free(msg);
		free(path);
	}
}

/*
 * The name this run of a boot gives its plan and logs: the boot's id, or
 * <id>.<k> (k = 2, 3 ...) when a resumed run runs the boot again, so that
 * the logs an earlier attempt's cells point at stay.
 */
static char *boot_run_name(const struct runner *r, const char *bid)
{
	for (int k = 1; ; k++) {
		char *name = k == 1 ? strdup(bid) : xasprintf("%s.%d", bid, k);
		char *plan = name ? xasprintf("%s/plans/%s.json", r->dir, name) :
			     NULL;
		bool used = plan && path_exists(plan);

		free(plan);
		if (!name || !used)
			return name;
		free(name);
	}
}

static int write_boot_plan(struct runner *r, const struct boot *boot,
			   struct json_object *pending, const char *name,
			   char **planrel)
{
	struct json_object *p = json_object_new_object();
	int ret;

	*planrel = xasprintf("plans/%s.json", name);
	json_object_object_add(p, "run_id", json_object_new_string(r->run_id));
	json_object_object_add(p, "boot", json_object_new_string(boot->id));
	json_copy(p, "policy", boot->json, "policy");
	json_copy(p, "mechanism", boot->config, "mechanism");
	json_copy(p, "config", boot->json, "config");
	json_object_object_add(p, "cells", json_object_get(pending));
	{
		char *path = *planrel ? xasprintf("%s/%s", r->dir, *planrel) :
			     NULL;

		ret = path ? json_write_file(path, p) : -1;
		free(path);
	}
	json_object_put(p);
	return ret;
}

static struct json_object *vm_record(const char *logdir, const char *rel)
{
	char *path = xasprintf("%s/vm.json", logdir);
	struct json_object *vm = path && path_exists(path) ?
				 json_read_file(path) : NULL;
	struct json_object *rec = json_object_new_object();
	static const char *const keep[] = {
		"outcome", "exit_status", "accel", "boot_to_command_ms",
		"cmdline", "kernel_warnings", "policy_verified",
		"boot_attempts", "boot_faults", "clocksource_switched_to",
	};

	for (size_t i = 0; vm && i < ARRAY_SIZE(keep); i++)
		json_copy(rec, keep[i], vm, keep[i]);
	json_object_object_add(rec, "logs", json_object_new_string(rel));
	if (vm)
		json_object_put(vm);
	free(path);
	return rec;
}

static int run_boot_vm(struct runner *r, const struct boot *boot,
		       const char *name, const char *planrel)
{
	const struct run_settings *st = &r->plan.settings;
	const char *bid = boot->id;
	char *logdir = xasprintf("%s/logs/%s", r->dir, name);
	char *argv[] = { "iommubench", "-q", "agent", "--plan", (char *)planrel,
			 "--out", ".", NULL };
	struct json_object *vmrec;
	struct vm_result res;
	struct vm_config cfg = {
		.cpus = st->cpus,
		.mem_mb = st->mem_mb,
		.timeout_s = st->boot_timeout_s,
		.clock = st->clock,
		.testdev = st->testdev,
		.edu = st->edu,
		.disk = st->disk && !strcmp(st->disk, "virtio") ?
			VM_DISK_VIRTIO : VM_DISK_NVME,
		.dut = VM_BDF_DISK,
		.share = r->dir,
		.run_dir = logdir,
		.command = argv,
		.tick = tick,
		.tick_arg = r,
	};
	const char *boot_status = CELL_STATUS_ERROR;
	char *err = NULL, *first = NULL;
	int status;

	cfg.mechanism = boot->mechanism && !strcmp(boot->mechanism, "sysfs") ?
			VM_MECH_SYSFS : VM_MECH_CMDLINE;
	vm_iommu_parse(boot->iommu, &cfg.iommu);
	policy_parse(boot->policy, &cfg.policy);
	if (kernel_resolve(boot->kernel, &cfg.kernel)) {
		err = xasprintf("boot %s: kernel %s unavailable", bid,
				boot->kernel);
		settle_cells(r, boot, NULL, boot_status, err);
		free(err);
		free(logdir);
		return -1;
	}
	mkdir_p(logdir, 0755);
	/* What vm_run() printed first is why it failed: the cells say it too. */
	log_mark();
	status = vm_run(&cfg, &res);
	if (status && log_first_error())
		first = strdup(log_first_error());
	{
		char *rel = xasprintf("logs/%s", name);

		vmrec = vm_record(logdir, rel ? rel : logdir);
		free(rel);
	}
	if (status) {
		const char *outcome = json_get_string(vmrec, "outcome");
		struct json_object *pv = json_object_object_get(vmrec, "policy_verified");
		const char *reason = pv ? json_get_string(pv, "reason") : NULL;

		if (!outcome)
			outcome = res.outcome;
		if (!reason)
			reason = first;
		/* A kernel that does not give the policy is a result. */
		if (!strcmp(outcome, "policy-mismatch"))
			boot_status = CELL_STATUS_FAILED;
		err = xasprintf("boot %s ended with status %d (%s)%s%s", bid, status,
				outcome, reason ? ": " : "", reason ? reason : "");
	}
	settle_cells(r, boot, vmrec, boot_status, err);
	/* The manifest keeps what each boot really ran with. */
	json_copy(boot->json, "cmdline", vmrec, "cmdline");
	json_copy(boot->json, "accel", vmrec, "accel");
	json_copy(boot->json, "outcome", vmrec, "outcome");
	json_copy(boot->json, "boot_attempts", vmrec, "boot_attempts");
	json_copy(boot->json, "boot_faults", vmrec, "boot_faults");
	if (json_object_get_int(json_object_object_get(vmrec, "boot_attempts")) > 1)
		r->boot_retries++;
	save_manifest(r);
	json_object_put(vmrec);
	kernel_free(&cfg.kernel);
	free(first);
	free(err);
	free(logdir);
	return status ? -1 : 0;
}

static int run_boot_host(struct runner *r, const struct boot *boot,
			 const char *planrel)
{
	char *plan = xasprintf("%s/%s", r->dir, planrel), *err = NULL;
	int ret;

	log_mark();
	ret = agent_run(plan, r->dir, r->force);
	if (ret)
		err = xasprintf("the agent failed: %s", log_first_error() ?
				log_first_error() : "see its errors");
	settle_cells(r, boot, NULL, CELL_STATUS_ERROR, err);
	free(err);
	free(plan);
	return ret;
}

/* Host mode on a machine reached over SSH: the agent runs there (remote.c). */
static int run_boot_remote(struct runner *r, const struct boot *boot,
			   const char *planrel)
{
	struct argv ids = { 0 };
	char *why = NULL;
	int ret;

	for (size_t i = 0; i < boot->ncells; i++)
		if (boot->cells[i].attempt)
			argv_push(&ids, boot->cells[i].id);
	json_object_object_add(boot->json, "host", json_object_new_string(
			       json_get_string(r->remote.identity, "name")));
	ret = remote_agent(&r->remote, r->dir, r->run_id, planrel, ids.v,
			   r->force, &why);
	settle_cells(r, boot, NULL, CELL_STATUS_ERROR, why);
	save_manifest(r);
	argv_free(&ids);
	free(why);
	return ret;
}

/* Run the cells of boot @b (of the plan's @nboots) that have no result. */
static void run_boot(struct runner *r, size_t b)
{
	struct boot *boot = &r->plan.boots[b];
	struct json_object *pending = pending_cells(r, boot);
	size_t nboots = r->plan.nboots, npending = json_object_array_length(pending);
	char *planrel = NULL, *name, label[160];
	unsigned int failed_before = r->failed;
	uint64_t t = now_ms();

	if (!npending) {
		json_object_put(pending);
		return;
	}
	snprintf(label, sizeof(label), "%s %s r%d", boot->id, boot->label,
		 boot->rep);
	r->boot_label = label;
	r->boot_now = boot;
	r->boot_seen = 0;
	if (!r->tty)
		pr_info("[%zu/%zu] %s: %zu cell(s)", b + 1, nboots, label,
			npending);
	draw_progress(r, true);
	name = boot_run_name(r, boot->id);
	if (!name || write_boot_plan(r, boot, pending, name, &planrel)) {
		char *err = xasprintf("cannot write the plan %s/%s: %s",
				      r->dir, planrel ? planrel : "plans",
				      strerror(errno));

		pr_err("%s", err);
		settle_cells(r, boot, NULL, CELL_STATUS_ERROR, err);
		free(err);
	} else if (r->target == RUN_TARGET_VM) {
		run_boot_vm(r, boot, name, planrel);
	} else if (r->remote_open) {
		run_boot_remote(r, boot, planrel);
	} else {
		run_boot_host(r, boot, planrel);
	}
	r->boot_now = NULL;
	r->boot_seen = 0;
	if (!r->tty)
		pr_info("[%zu/%zu] %s: %u failed, %.0f s", b + 1, nboots,
			label, r->failed - failed_before,
			(now_ms() - t) / 1000.0);
	draw_progress(r, true);
	json_object_put(pending);
	free(planrel);
	free(name);
}

static int run_boots(struct runner *r)
{
	for (size_t b = 0; b < r->plan.nboots && !interrupted; b++)
		run_boot(r, b);
	if (r->tty)
		fputc('\n', stderr);
	return interrupted ? -1 : 0;
}

/* --- the summary --------------------------------------------------------- */

/* Count cell @id into @count and @unindexed; name it when it is not ok. */
static void tally_cell(struct runner *r, const struct cell *c,
		       unsigned int count[CELL_NSTATES], unsigned int *unindexed)
{
	const char *id = c->id, *lost = c->lost, *st, *error;
	char *p = cell_path(r, id);
	struct json_object *cell;
	enum cell_state s = cell_state(p, id, &cell);

	count[s]++;
	if (cell && !c->indexed) {
		(*unindexed)++;
		printf("  %s: not indexed\n", id);
	}
	if (s == CELL_MISSING && !interrupted) {
		printf("  %s: not recorded%s%s\n", id, lost ? ": " : "",
		       lost ? lost : "");
	} else if (s == CELL_UNREADABLE) {
		printf("  %s: unreadable (%s)\n", id, p);
	} else if (cell && s != CELL_OK) {
		st = json_get_string(cell, "status");
		error = json_get_string(cell, "error");
		printf("  %s: %s: %s\n", id, st ? st : "no status",
		       error ? error : "no reason given");
	}
	if (cell)
		json_object_put(cell);
	free(p);
}

/*
 * The end of a run: read every planned cell's file again and count what
 * the run really holds, naming each cell that is not ok.  Nothing counts
 * as ok that has no file, does not parse or is not indexed.
 */
static void tally_cells(struct runner *r, unsigned int count[CELL_NSTATES],
			unsigned int *unindexed)
{
	for (size_t b = 0; b < r->plan.nboots; b++)
		for (size_t c = 0; c < r->plan.boots[b].ncells; c++)
			tally_cell(r, &r->plan.boots[b].cells[c], count,
				   unindexed);
}

/*
 * Print what the run holds and, from the index, the comparison, summary.md
 * and the report (analysis/ is their one home).  Returns the exit status:
 * 0 only when every planned cell is ok, recorded and indexed.
 */
static int summarize(struct runner *r)
{
	const char *what[CELL_NSTATES] = {
		[CELL_MISSING] = "not recorded",
		[CELL_UNREADABLE] = "unreadable",
		[CELL_FAILED] = "failed",
		[CELL_ERROR] = "error",
		[CELL_INTERRUPTED] = "interrupted",
	};
	unsigned int count[CELL_NSTATES] = { 0 }, unindexed = 0, redo;
	char *root = r->dir ? strdup(r->dir) : NULL, *slash;
	int ret;

	printf("\n");
	tally_cells(r, count, &unindexed);
	if (interrupted)
		what[CELL_MISSING] = "not run";
	printf("run %s: %u of %u cells ok", r->run_id, count[CELL_OK], r->total);
	for (int s = 0; s < CELL_NSTATES; s++)
		if (what[s] && count[s])
			printf(", %u %s", count[s], what[s]);
	if (unindexed)
		printf(", %u not indexed", unindexed);
	redo = r->total - count[CELL_OK] - count[CELL_FAILED];
	printf("%s\n", interrupted ? " (interrupted: --resume continues)" :
	       redo ? " (--resume runs the cells without a result again)" : "");
	if (r->boot_retries)
		printf("%u boot(s) booted again after a benign boot-time fault (see boot_faults in manifest.json)\n",
		       r->boot_retries);
	if (unindexed)
		pr_err("run %s: %u cell(s) not in the index (errors above): 'iommubench run --resume %s' indexes them again",
		       r->run_id, unindexed, r->run_id);
	ret = interrupted ? 130 :
	      count[CELL_OK] == r->total && !unindexed ? 0 : EXIT_ERROR;
	if (!r->db || !root) {
		free(root);
		return EXIT_ERROR;
	}
	slash = strrchr(root, '/');
	if (slash)
		*slash = '\0';
	printf("results: %s\n", r->dir);
	an_run_summary(r->db, slash ? root : ".", r->run_id, r->dir);
	free(root);
	return ret;
}

/* --- creating, loading and running a run -------------------------------- */

static int copy_kernel_config(const char *dir, const struct kernel *k)
{
	char *dst = xasprintf("%s/kernels/%s.config", dir, k->name);
	int ret = dst ? copy_file(k->config, dst, 0644) : -1;

	free(dst);
	return ret;
}

static struct json_object *kernel_json(const struct kernel *k)
{
	struct json_object *o = json_object_new_object();
	char *cfg = xasprintf("kernels/%s.config", k->name);
	char *meta = xasprintf("%s/kernel.json", k->dir);
	struct json_object *kj = meta ? json_read_file(meta) : NULL;

	json_object_object_add(o, "name", json_object_new_string(k->name));
	json_object_object_add(o, "release", json_object_new_string(k->release));
	json_object_object_add(o, "version", jstr_or_null(k->version));
	json_object_object_add(o, "source", jstr_or_null(k->source));
	json_copy(o, "commit", kj, "commit");
	json_copy(o, "packages", kj, "packages");
	json_object_object_add(o, "config", json_object_new_string(cfg));
	json_object_object_add(o, "path", json_object_new_string(k->dir));
	if (kj)
		json_object_put(kj);
	free(cfg);
	free(meta);
	return o;
}

static void print_plan(struct json_object *plan)
{
	struct json_object *boots = json_object_object_get(plan, "boots");

	printf("seed %" PRIu64 ", %zu boots\n",
	       (uint64_t)json_object_get_uint64(json_object_object_get(plan, "seed")),
	       json_object_array_length(boots));
	for (size_t b = 0; b < json_object_array_length(boots); b++) {
		struct json_object *boot = json_object_array_get_idx(boots, b);
		struct json_object *cells = json_object_object_get(boot, "cells");

		printf("%s %-36s %s\n", json_get_string(boot, "id"),
		       json_get_string(boot, "label"),
		       json_get_string(json_object_object_get(boot, "config"),
				       "mechanism"));
		for (size_t c = 0; c < json_object_array_length(cells); c++)
			printf("     %s\n", json_get_string(
			       json_object_array_get_idx(cells, c), "id"));
	}
}

/* Replace the values of a matrix axis with @vals. */
static void replace_axis(char **axis, unsigned int *n, char *const vals[],
			 unsigned int nvals)
{
	for (unsigned int i = 0; i < *n; i++)
		free(axis[i]);
	for (unsigned int i = 0; i < nvals; i++)
		axis[i] = strdup(vals[i]);
	*n = nvals;
}

/*
 * The kernels of the run into @kernels (name -> the manifest's record):
 * this machine's in host mode, else the matrix's (or --kernel's), each
 * resolved into @ks[*@nk] and checked against every vIOMMU of the matrix.
 * EXIT_USAGE after saying why.
 */
static int resolve_kernels(struct runner *r, struct matrix *m,
			   const char *host_dev, struct kernel ks[],
			   unsigned int *nk, struct json_object *kernels)
{
	if (r->target == RUN_TARGET_HOST) {
		struct utsname u;
		struct json_object *hk = json_object_new_object();

		if (!host_dev) {
			json_object_put(hk);
			pr_err("--target host needs --device BDF (the device under test)");
			return EXIT_USAGE;
		}
		pr_info("host mode: the kernels and iommu axes of %s are replaced by this machine's",
			m->path);
		replace_axis(m->kernels, &m->nkernels, (char *[]){ "host" }, 1);
		replace_axis(m->iommus, &m->niommus, (char *[]){ "host" }, 1);
		uname(&u);
		json_object_object_add(hk, "name", json_object_new_string("host"));
		json_object_object_add(hk, "release", json_object_new_string(
				       r->remote_open ? json_get_string(r->remote.identity, "kernel") :
				       u.release));
		json_object_object_add(kernels, "host", hk);
		return 0;
	}
	if (r->nkernels) {
		pr_info("--kernel: the kernels axis of %s is replaced", m->path);
		replace_axis(m->kernels, &m->nkernels, r->kernels, r->nkernels);
	}
	for (*nk = 0; *nk < m->nkernels; (*nk)++) {
		struct kernel *k = &ks[*nk];

		if (kernel_resolve(m->kernels[*nk], k)) {
			pr_err("%s: kernels: %s is not available", m->path,
			       m->kernels[*nk]);
			return EXIT_USAGE;
		}
		json_object_object_add(kernels, m->kernels[*nk], kernel_json(k));
		for (unsigned int i = 0; i < m->niommus; i++) {
			struct vm_config cfg = {
				.kernel = *k,
				.policy = POLICY_STRICT,
				.dut = VM_BDF_DISK,
			};

			vm_iommu_parse(m->iommus[i], &cfg.iommu);
			if (vm_check(&cfg)) {
				pr_err("%s: kernel %s cannot run with iommu %s",
				       m->path, m->kernels[*nk], m->iommus[i]);
				(*nk)++;
				return EXIT_USAGE;
			}
		}
	}
	return 0;
}

/*
 * Name the run (--run-id, else <date>-<time>-<matrix>) and make its
 * directory, with a copy of the matrix and of the kernels' configs.
 * EXIT_USAGE or EXIT_ERROR after saying why.
 */
static int make_run_dir(struct runner *r, const char *mpath, const char *root,
			const struct matrix *m, const struct kernel ks[],
			unsigned int nk)
{
	char *base, *dot, *mcopy;

	base = strrchr(mpath, '/') ? strdup(strrchr(mpath, '/') + 1) : strdup(mpath);
	dot = base ? strrchr(base, '.') : NULL;
	if (dot)
		*dot = '\0';
	if (r->want_id) {
		r->dir = xasprintf("%s/%s", root, r->want_id);
	} else {
		char *stamp = stamp_now();

		r->dir = xasprintf("%s/%s-%s", root, stamp, base);
		free(stamp);
	}
	free(base);
	if (r->want_id && path_exists(r->dir)) {
		pr_err("--run-id %s: %s exists (use --resume to continue it)",
		       r->want_id, r->dir);
		return EXIT_USAGE;
	}
	for (const char *sub = "cells\0logs\0plans\0kernels\0"; *sub;
	     sub += strlen(sub) + 1) {
		char *d = xasprintf("%s/%s", r->dir, sub);

		if (!d || mkdir_p(d, 0755)) {
			pr_err("%s: %s", d ? d : r->dir, strerror(errno));
			free(d);
			return EXIT_ERROR;
		}
		free(d);
	}
	mcopy = xasprintf("%s/matrix.ini", r->dir);
	if (!mcopy || write_file_atomic(mcopy, m->text, strlen(m->text)))
		pr_warn("cannot copy the matrix into %s", r->dir);
	free(mcopy);
	for (unsigned int i = 0; i < nk; i++)
		if (copy_kernel_config(r->dir, &ks[i]))
			pr_warn("cannot copy the config of %s", ks[i].name);
	return 0;
}

/* The settings of the run's boots, for the manifest. */
static struct json_object *settings_json(const struct matrix *m,
					 const char *host_dev)
{
	struct json_object *settings = json_object_new_object();
	char clk[16];

	json_object_object_add(settings, "disk", json_object_new_string(m->disk));
	json_object_object_add(settings, "cpus", json_object_new_int(m->cpus));
	json_object_object_add(settings, "clock", json_object_new_string(
			       ib_clock_name(&m->clock, clk, sizeof(clk))));
	json_object_object_add(settings, "mem_mb", json_object_new_int(m->mem_mb));
	json_object_object_add(settings, "boot_timeout_s", json_object_new_int(m->boot_timeout_s));
	json_object_object_add(settings, "testdev", json_object_new_boolean(
			       matrix_needs_testdev(m)));
	json_object_object_add(settings, "edu", json_object_new_boolean(
			       matrix_needs_edu(m)));
	json_object_object_add(settings, "host_device", jstr_or_null(host_dev));
	return settings;
}

/* The manifest of a new run (results/README), which takes @plan. */
static struct json_object *manifest_json(struct runner *r,
					 const struct matrix *m,
					 const char *mpath, uint64_t seed,
					 const char *host_dev,
					 struct json_object *kernels,
					 struct json_object *plan)
{
	struct json_object *man = json_object_new_object();
	struct json_object *mo = json_object_new_object();
	char *t = iso8601_now();

	json_object_object_add(man, "schema", json_object_new_string("iommubench.manifest/1"));
	json_object_object_add(man, "run_id", json_object_new_string(strrchr(r->dir, '/') + 1));
	json_object_object_add(man, "started", json_object_new_string(t));
	free(t);
	json_object_object_add(man, "finished", NULL);
	json_object_object_add(man, "target", json_object_new_string(
			       r->target == RUN_TARGET_VM ? "vm" : "host"));
	json_object_object_add(mo, "path", json_object_new_string(mpath));
	json_object_object_add(mo, "text", json_object_new_string(m->text));
	json_object_object_add(man, "matrix", mo);
	json_object_object_add(man, "seed", json_object_new_uint64(seed));
	json_object_object_add(man, "settings", settings_json(m, host_dev));
	if (r->remote_open) {
		/* the machine measured, and the one that asked */
		json_object_object_add(man, "host", json_object_get(r->remote.identity));
		json_object_object_add(man, "remote", json_object_new_string(r->remote_url));
		json_object_object_add(man, "controller", host_identity());
	} else {
		json_object_object_add(man, "host", host_identity());
	}
	json_object_object_add(man, "tools", tools_json(r->target));
	json_object_object_add(man, "kernels", json_object_get(kernels));
	json_object_object_add(man, "plan", plan);
	return man;
}

/*
 * new_run - plan the matrix @mpath and create its run under @root (or,
 * with @dry_run, print the plan).  The exit status: EXIT_USAGE for a
 * matrix or kernels it cannot take.
 */
static int new_run(struct runner *r, const char *mpath, const char *root,
		   bool seed_set, uint64_t seed, const char *host_dev,
		   bool dry_run)
{
	struct json_object *kernels = json_object_new_object(), *plan = NULL;
	struct kernel ks[MATRIX_MAX_AXIS] = { 0 };
	unsigned int nk = 0;
	struct matrix m;
	int ret = EXIT_USAGE;

	if (matrix_parse(mpath, &m)) {
		json_object_put(kernels);
		return EXIT_USAGE;
	}
	if (r->clock_set && matrix_set_clock(&m, &r->clock))
		goto out;
	for (unsigned int i = 0; m.clock.icount && i < m.nworkloads; i++)
		if (m.workloads[i].type == WORKLOAD_FIO)
			pr_warn("[%s]: fio's IOPS and latencies follow the host's I/O threads even on the icount clock (41 %% apart between two boots here): gate them on the host clock (docs/clock.md)",
				m.workloads[i].name);
	if (resolve_kernels(r, &m, host_dev, ks, &nk, kernels))
		goto out;
	if (!seed_set && m.seed_set) {
		seed = m.seed;
		seed_set = true;
	}
	if (!seed_set && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = now_ns();
	plan = matrix_plan(&m, seed);
	if (!plan || enrich_plan(plan, &m, r->target, host_dev, kernels))
		goto out;
	if (dry_run) {
		print_plan(plan);
		ret = 0;
		goto out;
	}
	ret = make_run_dir(r, mpath, root, &m, ks, nk);
	if (ret)
		goto out;
	r->manifest = manifest_json(r, &m, mpath, seed, host_dev, kernels, plan);
	plan = NULL;
	r->run_id = json_get_string(r->manifest, "run_id");
	ret = save_manifest(r) ? EXIT_ERROR : 0;
out:
	if (plan)
		json_object_put(plan);
	for (unsigned int i = 0; i < nk; i++)
		kernel_free(&ks[i]);
	json_object_put(kernels);
	matrix_free(&m);
	return ret;
}

static int load_run(struct runner *r, const char *root, const char *run)
{
	char *path;

	r->dir = strchr(run, '/') ? strdup(run) : xasprintf("%s/%s", root, run);
	path = xasprintf("%s/manifest.json", r->dir);
	if (!path || !path_exists(path)) {
		pr_err("--resume %s: no manifest.json in %s", run, r->dir);
		free(path);
		return EXIT_USAGE;
	}
	r->manifest = json_read_file(path);
	if (r->manifest && plan_check(path, r->manifest)) {
		json_object_put(r->manifest);
		r->manifest = NULL;
		free(path);
		return EXIT_USAGE;
	}
	free(path);
	if (!r->manifest)
		return EXIT_ERROR;
	r->run_id = json_get_string(r->manifest, "run_id");
	r->target = !strcmp(json_get_string(r->manifest, "target") ?
			    json_get_string(r->manifest, "target") : "", "host") ?
		    RUN_TARGET_HOST : RUN_TARGET_VM;
	pr_info("resuming %s", r->run_id);
	return 0;
}

/* Check on the remote what the plan's workloads need there (remote.c). */
static int prepare_remote(struct runner *r)
{
	bool fio = false, dmabench = false;
	char *why = NULL;

	for (size_t b = 0; b < r->plan.nboots; b++) {
		for (size_t c = 0; c < r->plan.boots[b].ncells; c++) {
			const char *type = r->plan.boots[b].cells[c].type;

			fio |= type && !strcmp(type, "fio");
			dmabench |= type && !strcmp(type, "dmabench");
		}
	}
	if (remote_prepare(&r->remote, fio, dmabench, &why)) {
		pr_err("%s; nothing ran ('iommubench run --resume %s' once it is fixed)",
		       why, r->run_id);
		free(why);
		return -1;
	}
	return 0;
}

/* Copy the command line's choices into @r. */
static void runner_init(struct runner *r, const struct run_opts *o)
{
	r->target = o->target;
	r->remote_url = o->remote_url;
	r->force = o->force;
	for (unsigned int i = 0; i < o->nkernels; i++)
		r->kernels[i] = o->kernels[i];
	r->nkernels = o->nkernels;
	r->want_id = o->run_id;
	r->clock = o->clock;
	r->clock_set = o->clock_set;
	r->fanout.hosts = o->hosts;
	r->fanout.retries = o->retries;
}

/*
 * Load the run to resume, or make a new one from the matrix; *@done is
 * set when that is all there is to do (--dry-run, --prepare).
 */
static int start_run(struct runner *r, const struct run_opts *o, bool *done)
{
	char *matrix;
	int ret;

	if (o->resume) {
		ret = load_run(r, o->root, o->resume);
		if (!ret && json_get_string(r->manifest, "remote"))
			r->remote_url = json_get_string(r->manifest, "remote");
		if (!ret && (r->fanout.hosts || fanout_recorded(r->manifest)))
			r->fanned = true;
		return ret;
	}
	if (r->remote_url) {
		if (remote_open(r->remote_url, &r->remote))
			return EXIT_ERROR;
		r->remote_open = true;
	}
	r->fanned = r->fanout.hosts != NULL;
	matrix = o->matrix ? strdup(o->matrix) :
		 xasprintf("%s/bench/matrices/quick.ini", ib_datadir());
	ret = new_run(r, matrix, o->root, o->seed_set, o->seed,
		      o->device, o->dry_run);
	free(matrix);
	if (o->dry_run || ret) {
		*done = true;
		return ret;
	}
	if (o->prepare) {
		printf("%s\n", r->run_id);
		*done = true;
	}
	return 0;
}

/* Load the plan, open the remote and the index and record the run there. */
static int open_run(struct runner *r, const char *root)
{
	if (plan_load(&r->plan, r->manifest))
		return EXIT_ERROR;
	if (r->remote_url && !r->remote_open) {
		if (remote_open(r->remote_url, &r->remote))
			return EXIT_ERROR;
		r->remote_open = true;
	}
	if (r->remote_open && prepare_remote(r))
		return EXIT_ERROR;
	r->db = store_open(root);
	if (!r->db)
		return EXIT_ERROR;
	if (store_add_run(r->db, r->manifest, r->dir))
		return EXIT_ERROR;
	return 0;
}

/*
 * Unless interrupted, stamp the run finished in its manifest and the
 * index; false when the index could not record it.
 */
static bool record_finished(struct runner *r)
{
	char *finished;
	bool ok = true;

	if (interrupted)
		return true;
	finished = iso8601_now();
	json_object_object_add(r->manifest, "finished",
			       json_object_new_string(finished));
	save_manifest(r);
	if (store_finish_run(r->db, r->run_id, finished))
		ok = false;
	free(finished);
	return ok;
}

/* Say what is left to do and turn a success @ret into an error if any. */
static int report_unfinished(const struct runner *r, int ret, bool unfinished,
			     int unfinished_cells)
{
	if (unfinished) {
		pr_err("run %s: its end is not in the index (errors above): 'iommubench run --resume %s' records it",
		       r->run_id, r->run_id);
		if (!ret)
			ret = EXIT_ERROR;
	}
	if (unfinished_cells > 0)
		pr_err("run %s: %d cell(s) have no result: no host completed their round (%s/fanout/joblog); 'iommubench run --resume %s' runs them again",
		       r->run_id, unfinished_cells, r->dir, r->run_id);
	if (unfinished_cells < 0)
		pr_err("run %s: the fan-out did not start (errors above); 'iommubench run --resume %s' tries again",
		       r->run_id, r->run_id);
	if (unfinished_cells && !ret)
		ret = EXIT_ERROR;
	return ret;
}

int run_main(const struct run_opts *o)
{
	struct runner r = { .tty = isatty(STDERR_FILENO),
			    .fanout = FANOUT_OPTS_DEFAULT };
	struct sigaction sa = { .sa_handler = on_signal };
	bool done = false, unfinished;
	int ret, unfinished_cells = 0;

	runner_init(&r, o);
	ret = start_run(&r, o, &done);
	if (ret || done)
		goto out;
	ret = open_run(&r, o->root);
	if (ret)
		goto out;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (r.fanned) {
		r.fanout.force = r.force;
		r.fanout.stop = &interrupted;
		r.fanout.tty = r.tty;
		unfinished_cells = fanout_run(r.dir, r.manifest, &r.fanout);
	}
	r.total = survey_cells(&r);
	r.t0 = now_ms();
	pr_info("run %s: %u cells in %s", r.run_id, r.total, r.dir);
	if (!r.fanned)
		run_boots(&r);
	unfinished = !record_finished(&r);
	ret = summarize(&r);
	ret = report_unfinished(&r, ret, unfinished, unfinished_cells);
out:
	if (r.remote_open)
		remote_close(&r.remote);
	plan_free(&r.plan);
	store_close(r.db);
	if (r.manifest)
		json_object_put(r.manifest);
	free(r.dir);
	return ret;
}

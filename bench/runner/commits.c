// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench commits / bisect: kernel commits as the axis.
 *
 * 'commits' builds every commit of a range of a git tree (kbuild.c, one
 * cached kernel per commit and config), runs a matrix on each with the
 * runner ('iommubench run --kernel K --run-id ID'), gates each run against
 * the baseline commit's ('iommubench gate') and writes a summary.
 * 'bisect' lets 'git bisect run' drive the same steps, with the gate on
 * one metric as the good/bad oracle.
 *
 * A commit's run is named after what it measured: commit-<sha12>-<h>-<matrix>
 * where <h> hashes the kernel's build key and the matrix text.  A finished
 * run of that name is reused and an unfinished one resumed, so 'commits'
 * and 'bisect' over overlapping ranges measure each commit once (--rerun
 * measures again).  The runs carry the commit in every cell
 * (config.kernel_commit), which is what 'iommubench history' plots.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "clock.h"
#include "commits.h"
#include "exitcodes.h"
#include "json.h"
#include "kbuild.h"
#include "log.h"
#include "opt.h"
#include "plan.h"
#include "spawn.h"
#include "store.h"
#include "util.h"

/* gate exit codes (analysis/gate.c) */
#define GATE_CLEAN	EXIT_OK
#define GATE_REGRESSED	EXIT_ERROR
#define GATE_ERROR	EXIT_UNDECIDED

enum commit_state {
	C_PENDING,
	C_BUILD_FAILED,
	C_RUN_FAILED,
	C_MEASURED,
};

static const char *const state_names[] = {
	[C_PENDING] = "pending",
	[C_BUILD_FAILED] = "build-failed",
	[C_RUN_FAILED] = "run-failed",
	[C_MEASURED] = "measured",
};

struct commit {
	char sha[41];
	char *subject;
	char *kernel;			/* kernel name */
	char *run_id;
	enum commit_state state;
	int gate;			/* gate exit status, -1: not gated */
	struct json_object *verdicts;	/* the gate's --json report */
	/* regressed like the commits before it, since this one */
	const struct commit *since;
};

struct flow {
	char *tree;			/* absolute */
	char *matrix;			/* absolute */
	char *mtext;
	char *mname;
	char *root;			/* results root, absolute */
	char *dir;			/* <root>/commits-... or bisect-... */
	struct argv configs;
	unsigned int jobs;
	bool rerun;
	bool unpaired;			/* one run per commit, not per pair */
	const char *clock;		/* run --clock, or NULL: the matrix's */
	char *hosts;			/* run --hosts (absolute), or NULL */
	const char *retries;		/* run --retries, or NULL */
	struct argv gate_opts;		/* --metric, --alpha ... for the gate */
};

static char *self_exe(void)
{
	return xasprintf("%s/iommubench", ib_bindir());
}

static void flow_free(struct flow *f)
{
	free(f->tree);
	free(f->matrix);
	free(f->mtext);
	free(f->mname);
	free(f->root);
	free(f->dir);
	free(f->hosts);
	argv_free(&f->configs);
	argv_free(&f->gate_opts);
}

static void commit_free(struct commit *c)
{
	free(c->subject);
	free(c->kernel);
	free(c->run_id);
	if (c->verdicts)
		json_object_put(c->verdicts);
}

/* --- git ------------------------------------------------------------- */

/* The first line of a git command's output; git's own errors are shown. */
static char *git_line(const char *tree, const char *a1, const char *a2,
		      const char *a3, const char *a4)
{
	char *argv[] = { "git", "-C", (char *)tree, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *out = NULL;

	o.quiet = true;
	if (spawn_capture(argv, &o, &out)) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	return out;
}


static void commit_init(const struct flow *f, struct commit *c, const char *sha)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->sha, sizeof(c->sha), "%s", sha);
	c->subject = git_line(f->tree, "log", "-1", "--format=%s", sha);
	if (!c->subject)
		c->subject = strdup("");
	c->gate = -1;
}

/* --- set-up ------------------------------------------------------------ */

static int flow_init(struct flow *f, const char *tree, const char *matrix,
		     const char *root, const char *kind)
{
	char *dot, *slash, *top;

	f->tree = realpath(tree, NULL);
	if (!f->tree) {
		pr_err("--tree %s: %s", tree, strerror(errno));
		return -1;
	}
	top = git_line(f->tree, "rev-parse", "--show-toplevel", NULL, NULL);
	if (!top) {
		pr_err("--tree %s: not a git tree", f->tree);
		return -1;
	}
	free(f->tree);
	f->tree = top;
	f->matrix = realpath(matrix, NULL);
	f->mtext = f->matrix ? read_file(f->matrix, NULL) : NULL;
	if (!f->mtext) {
		pr_err("--matrix %s: %s", matrix, strerror(errno));
		return -1;
	}
	slash = strrchr(f->matrix, '/');
	f->mname = strdup(slash ? slash + 1 : f->matrix);
	dot = strrchr(f->mname, '.');
	if (dot)
		*dot = '\0';
	if (root[0] == '/') {
		f->root = strdup(root);
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd))) {
			pr_err("getcwd: %s", strerror(errno));
			return -1;
		}
		f->root = xasprintf("%s/%s", cwd, root);
	}
	if (kind) {
		char *stamp = stamp_now();

		f->dir = xasprintf("%s/%s-%s-%s", f->root, kind, stamp, f->mname);
		free(stamp);
	}
	return 0;
}

/* Create the flow's directory, once the arguments are known to be good. */
static int flow_mkdir(const struct flow *f)
{
	if (mkdir_p(f->root, 0755) || mkdir_p(f->dir, 0755)) {
		pr_err("%s: %s", f->dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* --- build, run, gate -------------------------------------------------- */

static int build(const struct flow *f, struct commit *c)
{
	struct kbuild_req req = {
		.source = f->tree,
		.rev = c->sha,
		.configs = (const char *const *)f->configs.v,
		.jobs = f->jobs,
	};
	char *kdir = NULL;

	if (kbuild_build(&req, &kdir)) {
		c->state = C_BUILD_FAILED;
		return -1;
	}
	c->kernel = strdup(strrchr(kdir, '/') + 1);
	free(kdir);
	return 0;
}

/* Continue @h with the build key of kernel @name (or the name itself). */
static uint64_t hash_kernel(const char *name, uint64_t h)
{
	char *meta = xasprintf("%s/kernels/%s/kernel.json", cache_dir(), name);
	struct json_object *k = json_read_file(meta);
	const char *key = k ? json_get_string(k, "key") : NULL;

	h = str_hash(key ? key : name, h);
	if (k)
		json_object_put(k);
	free(meta);
	return h;
}

/*
 * The run's name: the commit (and the baseline it is paired with), and a
 * tag of their kernels' build keys and the matrix.
 */
static char *run_name(const struct flow *f, const struct commit *base,
		      const struct commit *c)
{
	uint64_t h = hash_kernel(c->kernel, STR_HASH_INIT);

	if (base)
		h = hash_kernel(base->kernel, h);
	h = str_hash(f->mtext, h);
	if (f->clock)
		h = str_hash(f->clock, h);
	if (base)
		return xasprintf("pair-%.12s-%.12s-%08" PRIx32 "-%s", base->sha,
				 c->sha, (uint32_t)h, f->mname);
	return xasprintf("commit-%.12s-%08" PRIx32 "-%s", c->sha, (uint32_t)h,
			 f->mname);
}

/* 1 when <root>/<id> is a finished run, 0 when unfinished, -1 when absent */
static int run_finished(const struct flow *f, const char *id)
{
	char *path = xasprintf("%s/%s/manifest.json", f->root, id);
	struct json_object *m = path_exists(path) ? json_read_file(path) : NULL;
	struct plan p = { 0 };
	int ret = -1;

	if (m && !plan_load(&p, m))
		ret = p.finished ? 1 : 0;
	plan_free(&p);
	if (m)
		json_object_put(m);
	free(path);
	return ret;
}

/* The number of ok cells the index has for run @id (-1: cannot tell). */
static long ok_cells(const struct flow *f, const char *id)
{
	sqlite3 *db = store_open_readonly(f->root);
	sqlite3_stmt *st = NULL;
	long n = -1;

	if (db && sqlite3_prepare_v2(db, "SELECT count(*) FROM cells WHERE run_id = ? AND status = 'ok'",
				     -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (db)
		store_close(db);
	return n;
}

/* @c's run id: from @base and @c, with a fresh stamp under --rerun. */
static void name_run(const struct flow *f, const struct commit *base,
		     struct commit *c)
{
	char *id, *stamp;

	if (c->run_id)
		return;
	c->run_id = run_name(f, base, c);
	if (!f->rerun)
		return;
	id = c->run_id;
	stamp = stamp_now();
	c->run_id = xasprintf("%s-%s", id, stamp);
	free(stamp);
	free(id);
}

/* A finished run of @c is reused, unless every cell of it failed. */
static int reuse_finished_run(const struct flow *f, struct commit *c)
{
	if (ok_cells(f, c->run_id) == 0) {
		pr_err("%.12s: every cell of %s failed; --rerun measures it again",
		       c->sha, c->run_id);
		c->state = C_RUN_FAILED;
		return -1;
	}
	pr_info("%.12s: measured before, reusing %s", c->sha, c->run_id);
	c->state = C_MEASURED;
	return 0;
}

/* Remove what a runner that died before writing its manifest left. */
static void remove_dead_run(const struct flow *f, const struct commit *c)
{
	char *dir = xasprintf("%s/%s", f->root, c->run_id);

	if (path_exists(dir)) {
		pr_warn("%s has no manifest: removing it", dir);
		rm_rf(dir);
	}
	free(dir);
}

/*
 * The "iommubench run" command line for @c: --resume when a run was
 * started (@done 0), else a new run of the matrix.
 */
static void runner_argv(struct argv *a, const struct flow *f,
			const struct commit *base, const struct commit *c,
			int done, bool prepare)
{
	char *self = self_exe();

	argv_push(a, self);
	argv_push(a, "run");
	argv_push(a, "--results");
	argv_push(a, f->root);
	if (done == 0) {
		pr_info("%.12s: resuming %s", c->sha, c->run_id);
		argv_push(a, "--resume");
		argv_push(a, c->run_id);
	} else {
		if (base) {
			argv_push(a, "--kernel");
			argv_push(a, base->kernel);
		}
		argv_push(a, "--kernel");
		argv_push(a, c->kernel);
		argv_push(a, "--run-id");
		argv_push(a, c->run_id);
		if (f->clock) {
			argv_push(a, "--clock");
			argv_push(a, f->clock);
		}
		if (prepare)
			argv_push(a, "--prepare");
		argv_push(a, f->matrix);
	}
	/* the kernels are built here; their boots run on the hosts */
	if (f->hosts && !prepare) {
		argv_push(a, "--hosts");
		argv_push(a, f->hosts);
		if (f->retries) {
			argv_push(a, "--retries");
			argv_push(a, f->retries);
		}
	}
	free(self);
}

/* @c's state from the runner's exit status @rc. */
static int run_outcome(const struct flow *f, struct commit *c, int rc,
		       bool prepare)
{
	if (prepare) {
		if (!rc)
			return 0;
		pr_err("%.12s: the run %s could not be created (exit %d)", c->sha,
		       c->run_id, rc);
		c->state = C_RUN_FAILED;
		return -1;
	}
	/* 1: some cells failed; the gate counts what is there */
	if (rc == 0 || (rc == EXIT_ERROR && run_finished(f, c->run_id) == 1 &&
			ok_cells(f, c->run_id) > 0)) {
		c->state = C_MEASURED;
		return 0;
	}
	pr_err("%.12s: the run %s did not finish (exit %d)", c->sha, c->run_id, rc);
	c->state = C_RUN_FAILED;
	return -1;
}

/*
 * Run the matrix on @c's kernel, interleaved with @base's when @base is
 * given (one run, both kernels in the same seeded rounds, so drift of the
 * machine between runs cannot pose as a difference between commits).
 * @prepare only creates the run (run --prepare), for the fan-out of every
 * commit's boots at once; a later call runs (or finishes) it.
 */
static int run(const struct flow *f, const struct commit *base,
	       struct commit *c, bool prepare)
{
	struct argv a = { 0 };
	char *out;
	int done, rc;

	name_run(f, base, c);
	done = run_finished(f, c->run_id);
	if (done == 1)
		return reuse_finished_run(f, c);
	if (done == -1)
		remove_dead_run(f, c);
	/* an unfinished run is fanned out as it is */
	if (prepare && done == 0)
		return 0;
	runner_argv(&a, f, base, c, done, prepare);
	/* the runner's summary tables go to a file, its progress to stderr */
	out = xasprintf("%s/run-%.12s.txt", f->dir, c->sha);
	rc = spawn_to_file(a.v, NULL, out);
	free(out);
	argv_free(&a);
	return run_outcome(f, c, rc, prepare);
}

/*
 * Build @c and run it: paired with @base (interleaved in one run) unless
 * the flow is unpaired or @c is the base itself, which then only gets its
 * own run when unpaired.  0 when @c can be gated.
 */
static int measure(const struct flow *f, const struct commit *base,
		   struct commit *c)
{
	pr_info("%.12s %s", c->sha, c->subject);
	if (c->state == C_BUILD_FAILED || c->state == C_RUN_FAILED ||
	    (!c->kernel && build(f, c)))
		return -1;
	if (c == base) {
		if (f->unpaired)
			return run(f, NULL, c, false);
		c->state = C_MEASURED;
		return 0;
	}
	return run(f, f->unpaired ? NULL : base, c, false);
}

/*
 * commits --hosts: build every commit here first, create every run, and
 * run the boots of all of them in one fan-out (iommubench fanout), so
 * that every host stays busy across commits rather than across the rounds
 * of one.  The runs are then finished and gated one by one as without
 * hosts.  -1 only when the baseline does not build.
 */
static int fan_out_all(const struct flow *f, struct commit *base,
		       struct commit *cs, size_t n)
{
	struct argv a = { 0 };
	char *self = self_exe(), *out;
	size_t runs = 0;
	int rc;

	pr_info("[building every commit, then their boots over the hosts together]");
	if (build(f, base)) {
		free(self);
		return -1;
	}
	argv_push(&a, self);
	argv_push(&a, "fanout");
	argv_push(&a, "--results");
	argv_push(&a, f->root);
	argv_push(&a, "--hosts");
	argv_push(&a, f->hosts);
	argv_pushf(&a, "--stage=%s/fanout", f->dir);
	if (f->retries)
		argv_pushf(&a, "--retries=%s", f->retries);
	if (f->unpaired && !run(f, NULL, base, true) && base->state == C_PENDING) {
		argv_push(&a, base->run_id);
		runs++;
	}
	for (size_t i = 0; i < n; i++) {
		pr_info("[%zu/%zu] %.12s %s", i + 1, n, cs[i].sha, cs[i].subject);
		if (build(f, &cs[i]) ||
		    run(f, f->unpaired ? NULL : base, &cs[i], true))
			continue;
		if (cs[i].state == C_PENDING) {
			argv_push(&a, cs[i].run_id);
			runs++;
		}
	}
	if (runs) {
		out = xasprintf("%s/fanout.txt", f->dir);
		pr_info("[the boots of %zu run(s) over the hosts of %s]", runs, f->hosts);
		rc = spawn_to_file(a.v, NULL, out);
		if (rc)
			pr_warn("the fan-out ended with %d (%s); what is missing runs with each commit's run",
				rc, out);
		free(out);
	}
	argv_free(&a);
	free(self);
	return 0;
}

/* Gate @c against @base; the verdicts land in the flow directory. */
static int gate(const struct flow *f, const struct commit *base,
		struct commit *c)
{
	struct argv a = { 0 };
	char *self = self_exe();
	char *stem = xasprintf("%s/gate-%.12s", f->dir, c->sha);
	char *txt = xasprintf("%s.txt", stem);
	char *json = xasprintf("%s.json", stem);
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;

	argv_push(&a, self);
	argv_push(&a, "gate");
	argv_push(&a, "--results");
	argv_push(&a, f->root);
	/* paired: both sides are kernels of the commit's one run */
	argv_push(&a, "--baseline");
	argv_push(&a, f->unpaired ? base->run_id : c->run_id);
	if (!f->unpaired) {
		argv_push(&a, "--baseline-kernel");
		argv_push(&a, base->kernel);
		argv_push(&a, "--candidate-kernel");
		argv_push(&a, c->kernel);
	}
	argv_push(&a, "--candidate");
	argv_push(&a, c->run_id);
	argv_pushf(&a, "--json=%s", json);
	argv_pushf(&a, "--markdown=%s.md", stem);
	for (size_t i = 0; i < f->gate_opts.n; i++)
		argv_push(&a, f->gate_opts.v[i]);
	unlink(json);
	o.err_fd = STDERR_FILENO;
	c->gate = spawn_to_file(a.v, &o, txt);
	if (c->gate < 0)
		c->gate = GATE_ERROR;
	c->verdicts = path_exists(json) ? json_read_file(json) : NULL;
	argv_free(&a);
	free(self);
	free(stem);
	free(txt);
	free(json);
	return c->gate;
}

/* The series of @c the gate found regressed, one at a time from *@i. */
static struct json_object *next_regressed(const struct commit *c, size_t *i)
{
	struct json_object *s = c->verdicts ?
				json_object_object_get(c->verdicts, "series") : NULL;

	for (; s && *i < json_object_array_length(s); (*i)++) {
		struct json_object *e = json_object_array_get_idx(s, *i);
		const char *v = json_get_string(e, "verdict");

		if (v && !strcmp(v, "regressed")) {
			(*i)++;
			return e;
		}
	}
	return NULL;
}

/* Does @prev regress one of the series @c regresses? */
static bool shares_regression(const struct commit *c, const struct commit *prev)
{
	static const char *const keys[] = { "iommu", "policy", "workload", "metric" };
	struct json_object *e, *f;
	size_t i = 0, k;

	while ((e = next_regressed(c, &i))) {
		k = 0;
		while ((f = next_regressed(prev, &k))) {
			size_t d;

			for (d = 0; d < ARRAY_SIZE(keys); d++)
				if (strcmp(json_get_string(e, keys[d]) ?: "",
					   json_get_string(f, keys[d]) ?: ""))
					break;
			if (d == ARRAY_SIZE(keys))
				return true;
		}
	}
	return false;
}

/*
 * Every commit is gated against the baseline, so a regression shows in the
 * commit that brought it and in every commit after it.  Mark the later
 * ones: a regressed commit whose predecessor in the range regressed a same
 * series carries that regression rather than introducing it.
 */
static void mark_carried(struct commit *cs, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct commit *prev = &cs[i - 1];

		if (cs[i].gate == GATE_REGRESSED && prev->gate == GATE_REGRESSED &&
		    shares_regression(&cs[i], prev))
			cs[i].since = prev->since ? prev->since : prev;
	}
}

/* "dmabench.unmap.p50 strict +156%, ..." for the regressed series of @c */
static char *regressions(const struct commit *c)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_object *e;
	size_t i = 0;

	while ((e = next_regressed(c, &i))) {
		struct json_object *r = json_object_object_get(e, "ratio");

		strbuf_addf(&sb, "%s%s %s %+.0f%%", sb.len ? ", " : "",
			    json_get_string(e, "metric"),
			    json_get_string(e, "policy"),
			    r ? (json_object_get_double(r) - 1) * 100 : 0.0);
	}
	if (sb.len && c->since)
		strbuf_addf(&sb, " (since %.12s)", c->since->sha);
	return sb.buf ? strbuf_detach(&sb) : strdup("");
}

static const char *gate_word(const struct commit *c)
{
	switch (c->gate) {
	case -1:
		return c->state == C_MEASURED ? "-" : state_names[c->state];
	case GATE_CLEAN:
		return "clean";
	case GATE_REGRESSED:
		return c->since ? "carried" : "REGRESSED";
	default:
		return "cannot-judge";
	}
}

static struct json_object *commit_json(const struct commit *c, bool baseline)
{
	struct json_object *o = json_object_new_object();
	char *reg = regressions(c);

	json_object_object_add(o, "commit", json_object_new_string(c->sha));
	json_object_object_add(o, "subject", json_object_new_string(c->subject));
	json_object_object_add(o, "baseline", json_object_new_boolean(baseline));
	json_object_object_add(o, "kernel", c->kernel ?
			       json_object_new_string(c->kernel) : NULL);
	json_object_object_add(o, "run_id", c->run_id && c->state == C_MEASURED ?
			       json_object_new_string(c->run_id) : NULL);
	json_object_object_add(o, "state", json_object_new_string(state_names[c->state]));
	json_object_object_add(o, "gate", baseline ? NULL :
			       json_object_new_string(gate_word(c)));
	json_object_object_add(o, "gate_exit", c->gate < 0 ? NULL :
			       json_object_new_int(c->gate));
	json_object_object_add(o, "regressions", json_object_new_string(reg));
	json_object_object_add(o, "introduces_regression", json_object_new_boolean(
			       c->gate == GATE_REGRESSED && !c->since));
	json_object_object_add(o, "regressed_since", c->since ?
			       json_object_new_string(c->since->sha) : NULL);
	free(reg);
	return o;
}

/* --- commits ----------------------------------------------------------- */

static void print_row(FILE *fp, bool md, const struct commit *c, bool baseline)
{
	char *reg = regressions(c);
	const char *word = baseline ? (c->state == C_MEASURED ? "baseline" :
				       state_names[c->state]) : gate_word(c);

	if (md) {
		fprintf(fp, "| `%.12s` | ", c->sha);
		for (const char *p = c->subject; *p; p++) {
			if (*p == '|')
				fputc('\\', fp);
			fputc(*p, fp);
		}
		fprintf(fp, " | %s | %s | %s |\n", word,
			c->state == C_MEASURED && c->run_id ? c->run_id : "", reg);
	} else {
		fprintf(fp, "  %.12s  %-12s %-50.50s%s%s\n", c->sha, word,
			c->subject, *reg ? "\n                              " : "",
			reg);
	}
	free(reg);
}

static int write_commits_summary(const struct flow *f, const char *range,
				 struct commit *base, struct commit *cs,
				 size_t n, int code)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char *path = xasprintf("%s/summary.json", f->dir);
	FILE *fp;
	int ret;

	json_object_object_add(o, "schema", json_object_new_string("iommubench.commits/1"));
	json_object_object_add(o, "tree", json_object_new_string(f->tree));
	json_object_object_add(o, "range", json_object_new_string(range));
	json_object_object_add(o, "matrix", json_object_new_string(f->matrix));
	json_object_object_add(o, "exit", json_object_new_int(code));
	json_object_array_add(arr, commit_json(base, true));
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, commit_json(&cs[i], false));
	json_object_object_add(o, "commits", arr);
	ret = json_write_file(path, o);
	json_object_put(o);
	free(path);

	path = xasprintf("%s/summary.md", f->dir);
	fp = fopen(path, "w");
	if (!fp) {
		pr_err("%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	fprintf(fp, "# Commits %s of %s\n\n", range, f->tree);
	fprintf(fp, "Matrix `%s`; each commit is gated against the baseline `%.12s`, %s (the gate's reports: `gate-<commit>.md`).\n\n",
		f->matrix, base->sha, f->unpaired ?
		"run against run (`--unpaired`)" :
		"in one run that interleaves the boots of both kernels");
	fprintf(fp, "| commit | subject | gate | run | regressions |\n|---|---|---|---|---|\n");
	print_row(fp, true, base, true);
	for (size_t i = 0; i < n; i++)
		print_row(fp, true, &cs[i], false);
	fprintf(fp, "\n`REGRESSED`: the commit brings a regression against the baseline; `carried`: it keeps one an earlier commit brought.\n");
	for (size_t i = 0; i < n; i++)
		if (cs[i].gate == GATE_REGRESSED && !cs[i].since)
			fprintf(fp, "\nRegression introduced by `%s` (%s).\n",
				cs[i].sha, cs[i].subject);
	fclose(fp);
	free(path);
	return ret;
}

static void flow_take(struct flow *f, struct flow_opts *a)
{
	f->configs = a->configs;
	f->gate_opts = a->gate_opts;
	memset(&a->configs, 0, sizeof(a->configs));
	memset(&a->gate_opts, 0, sizeof(a->gate_opts));
	f->jobs = a->jobs;
	f->clock = a->clock;
	f->hosts = a->hosts ? realpath(a->hosts, NULL) : NULL;
	f->retries = a->retries;
	f->rerun = a->rerun;
	f->unpaired = a->unpaired;
}

/*
 * "[3/10] 7m12s so far, about 16m48s left (until 14:05)": step @done + 1
 * of @total starts, @spent seconds after the first; each step costs about
 * @each seconds (0: not known yet).
 */
static void progress(size_t done, size_t total, double spent, double each)
{
	double left = each * (total - done);
	char s[16], l[16], at[16];

	if (each <= 0) {
		pr_info("[%zu/%zu]", done + 1, total);
		return;
	}
	fmt_duration(l, sizeof(l), left);
	fmt_clock_in(at, sizeof(at), left);
	if (!done) {
		pr_info("[%zu/%zu] about %s left (until %s)", done + 1, total,
			l, at);
		return;
	}
	fmt_duration(s, sizeof(s), spent);
	pr_info("[%zu/%zu] %s so far, about %s left (until %s)", done + 1,
		total, s, l, at);
}

/*
 * The baseline's commit into @sha (--baseline, else REV1 of @range, else
 * HEAD), and the commits of @range, oldest first, into *@cs and *@n
 * (which hold what was listed also on failure).  -1 after saying why.
 */
static int list_commits(struct flow *f, const char *range,
			const char *baseline, char sha[41],
			struct commit **cs, size_t *n)
{
	char *from = strndup(range, strstr(range, "..") - range);
	char *rl[] = { "git", "-C", f->tree, "rev-list", "--reverse",
		       (char *)range, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *list = NULL, *line, *save = NULL;
	int ret = -1;

	if (!from || kbuild_git_commit(f->tree, baseline ? baseline :
				       (*from ? from : "HEAD"), sha))
		goto out;
	o.err_fd = STDERR_FILENO;
	if (spawn_capture(rl, &o, &list)) {
		pr_err("%s: cannot list %s", f->tree, range);
		goto out;
	}
	for (line = strtok_r(list, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct commit *grow = realloc(*cs, (*n + 1) * sizeof(**cs));

		if (!grow)
			goto out;
		*cs = grow;
		commit_init(f, &(*cs)[(*n)++], line);
	}
	if (!*n) {
		pr_err("%s: %s has no commits", f->tree, range);
		goto out;
	}
	ret = 0;
out:
	free(from);
	free(list);
	return ret;
}

/* The table of every commit's verdict, the regressions, summary.md. */
static void print_summary(const struct flow *f, const char *range,
			  struct commit *base, struct commit *cs, size_t n,
			  int code)
{
	printf("commits %s of %s, matrix %s:\n", range, f->tree, f->mname);
	print_row(stdout, false, base, true);
	for (size_t i = 0; i < n; i++)
		print_row(stdout, false, &cs[i], false);
	for (size_t i = 0; i < n; i++)
		if (cs[i].gate == GATE_REGRESSED && !cs[i].since)
			printf("regression introduced by %s %s\n", cs[i].sha,
			       cs[i].subject);
	if (write_commits_summary(f, range, base, cs, n, code) == 0)
		printf("summary: %s/summary.md\n", f->dir);
}

int commits_main(struct flow_opts *a, const char *range)
{
	struct flow f = { 0 };
	struct commit base = { .gate = -1 }, *cs = NULL;
	size_t n = 0, unjudged = 0, regressed = 0;
	char sha[41];
	int rc, code = EXIT_USAGE;
	uint64_t t0;

	flow_take(&f, a);
	if (flow_init(&f, a->tree, a->matrix, a->root, "commits") ||
	    list_commits(&f, range, a->baseline, sha, &cs, &n))
		goto out;
	commit_init(&f, &base, sha);
	if (flow_mkdir(&f))
		goto out;
	pr_info("%zu commits in %s, gated against %.12s; matrix %s; results in %s",
		n, range, base.sha, f.matrix, f.dir);

	if (f.hosts && fan_out_all(&f, &base, cs, n)) {
		pr_err("the baseline %.12s could not be built: nothing to gate against",
		       base.sha);
		code = EXIT_USAGE;
		goto summary;
	}
	pr_info("[baseline]");
	if (measure(&f, &base, &base)) {
		pr_err("the baseline %.12s could not be measured: nothing to gate against",
		       base.sha);
		code = EXIT_USAGE;
		goto summary;
	}
	t0 = now_ms();
	for (size_t i = 0; i < n; i++) {
		double spent = (now_ms() - t0) / 1000.0;

		progress(i, n, spent, i ? spent / i : 0);
		if (measure(&f, &base, &cs[i])) {
			unjudged++;
			continue;
		}
		rc = gate(&f, &base, &cs[i]);
		if (rc == GATE_REGRESSED)
			regressed++;
		else if (rc != GATE_CLEAN)
			unjudged++;
	}
	code = regressed ? 1 : unjudged ? 3 : 0;
	mark_carried(cs, n);
summary:
	print_summary(&f, range, &base, cs, n, code);
out:
	for (size_t i = 0; i < n; i++)
		commit_free(&cs[i]);
	free(cs);
	commit_free(&base);
	flow_free(&f);
	return code;
}

/* --- bisect ------------------------------------------------------------ */

static volatile pid_t bisect_pgrp;

static void stop_bisect(int sig)
{
	(void)sig;
	if (bisect_pgrp > 0)
		kill(-bisect_pgrp, SIGTERM);
}

/*
 * Run 'git bisect run ...' so that SIGINT/SIGTERM stop all of it: git, its
 * helpers and the bisect-step share git's process group; what a step
 * started (the runner, QEMU, make) dies with the step (PR_SET_PDEATHSIG).
 */
static int bisect_run(char *const argv[], const char *out)
{
	struct sigaction sa = { .sa_handler = stop_bisect }, oint, oterm;
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	pid_t pid;
	int rc;

	o.out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o.out_fd < 0) {
		pr_err("%s: %s", out, strerror(errno));
		return -1;
	}
	pid = spawn_start(argv, &o);
	close(o.out_fd);
	if (pid < 0) {
		pr_err("git: %s", strerror(errno));
		return -1;
	}
	bisect_pgrp = pid;
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	rc = spawn_wait(pid, 0, NULL);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	bisect_pgrp = 0;
	return rc;
}

/* The bisect repository: a clone of the tree without a checkout. */
static char *bisect_repo(const struct flow *f)
{
	char *repo = xasprintf("%s/repo", f->dir);
	char *clone[] = { "git", "clone", "-q", "--shared", "--no-checkout",
			  f->tree, repo, NULL };

	if (spawn_check(clone, NULL)) {
		free(repo);
		return NULL;
	}
	return repo;
}

/*
 * Say how long bisecting good..bad should take: git bisect tests about
 * log2 of the commits between them, each costing what the bad end did
 * (a build, a paired run and a gate).
 */
static void bisect_estimate(const struct flow *f, const char *good,
			    const char *bad, double step_s)
{
	char *range = xasprintf("%s..%s", good, bad);
	char *argv[] = { "git", "-C", f->tree, "rev-list", "--count", range, NULL };
	char *count = spawn_capture_line(argv, NULL);
	unsigned long n = count ? strtoul(count, NULL, 10) : 0;
	unsigned int steps = 0;
	char each[16], all[16], at[16];

	while ((1ul << steps) < n)
		steps++;
	if (n > 1) {
		fmt_duration(each, sizeof(each), step_s);
		fmt_duration(all, sizeof(all), steps * step_s);
		fmt_clock_in(at, sizeof(at), steps * step_s);
		pr_info("%lu commits between good and bad: about %u steps of about %s (the bad end's build, run and gate): %s, until %s",
			n, steps, each, all, at);
	}
	free(count);
	free(range);
}

/*
 * The command line of 'git bisect run' in @repo: bisect-step with what
 * each step needs (the good end, @f's options) and, for its ETA, the bad
 * end's cost @step_s and the time the steps begin.
 */
static void bisect_run_argv(const struct flow *f, const struct commit *good,
			    const char *repo, double step_s, struct argv *s)
{
	char *self = self_exe();
	const char *const head[] = {
		"git", "-C", repo, "bisect", "run", self, "bisect-step",
		"--tree", f->tree, "--matrix", f->matrix, "--results", f->root,
		"--flow-dir", f->dir,
	};

	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		argv_push(s, head[i]);
	if (f->unpaired) {
		argv_push(s, "--unpaired");
		argv_pushf(s, "--baseline-run=%s", good->run_id);
	} else {
		argv_pushf(s, "--good=%s", good->sha);
		argv_pushf(s, "--good-kernel=%s", good->kernel);
	}
	/* for each step's ETA */
	argv_pushf(s, "--step-s=%.0f", step_s);
	argv_pushf(s, "--started=%" PRIu64, now_ms());
	if (f->jobs)
		argv_pushf(s, "--jobs=%u", f->jobs);
	if (f->rerun)
		argv_push(s, "--rerun");
	if (f->clock)
		argv_pushf(s, "--clock=%s", f->clock);
	if (f->hosts)
		argv_pushf(s, "--hosts=%s", f->hosts);
	if (f->retries)
		argv_pushf(s, "--retries=%s", f->retries);
	for (size_t i = 0; i < f->configs.n; i++) {
		char *abs = realpath(f->configs.v[i], NULL);

		argv_pushf(s, "--config=%s", abs ? abs : f->configs.v[i]);
		free(abs);
	}
	for (size_t i = 0; i < f->gate_opts.n; i++)
		argv_push(s, f->gate_opts.v[i]);
	free(self);
}

/* Say which commit is the first bad one, and write summary.json. */
static void bisect_report(const struct flow *f, const struct commit *good,
			  const struct commit *bad, const struct commit *first)
{
	char *reg = regressions(first), *path;
	struct json_object *o = json_object_new_object();

	printf("first bad commit: %s %s\n", first->sha, first->subject);
	if (*reg)
		printf("  %s\n", reg);
	printf("  good %.12s, bad %.12s; steps: %s/bisect.log\n",
	       good->sha, bad->sha, f->dir);
	json_object_object_add(o, "schema", json_object_new_string("iommubench.bisect/1"));
	json_object_object_add(o, "tree", json_object_new_string(f->tree));
	json_object_object_add(o, "matrix", json_object_new_string(f->matrix));
	json_object_object_add(o, "good", commit_json(good, true));
	json_object_object_add(o, "bad", commit_json(bad, false));
	json_object_object_add(o, "first_bad", commit_json(first, false));
	path = xasprintf("%s/summary.json", f->dir);
	json_write_file(path, o);
	json_object_put(o);
	free(path);
	free(reg);
}

/* Whether @gsha is an ancestor of @bsha in @f's tree; says so if not. */
static bool good_before_bad(const struct flow *f, const struct flow_opts *a,
			    const char *gsha, const char *bsha)
{
	char *anc[] = { "git", "-C", f->tree, "merge-base", "--is-ancestor",
			(char *)gsha, (char *)bsha, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;

	o.quiet = true;
	if (spawn_run(anc, &o)) {
		pr_err("--good %s is not an ancestor of --bad %s", a->good,
		       a->bad);
		return false;
	}
	return true;
}

/*
 * Measure both ends and check the gate finds @bad regressed: 0, or the
 * exit code.  *@step_s is how long measuring one commit took.
 */
static int measure_ends(const struct flow *f, struct commit *good,
			struct commit *bad, double *step_s)
{
	uint64_t t0;
	int rc;

	pr_info("[good] measuring the baseline");
	if (measure(f, good, good)) {
		pr_err("the good commit %.12s could not be measured", good->sha);
		return EXIT_ERROR;
	}
	pr_info("[bad] measuring the bad end");
	t0 = now_ms();
	if (measure(f, good, bad)) {
		pr_err("the bad commit %.12s could not be measured", bad->sha);
		return EXIT_ERROR;
	}
	*step_s = (now_ms() - t0) / 1000.0;
	rc = gate(f, good, bad);
	if (rc != GATE_REGRESSED) {
		pr_err("the gate does not find %.12s regressed against %.12s (exit %d, %s/gate-%.12s.txt): nothing to bisect",
		       bad->sha, good->sha, rc, f->dir, bad->sha);
		return EXIT_UNDECIDED;
	}
	return 0;
}

/*
 * git bisect start and run in @repo; -1 if it could not start, else
 * *@rc is git bisect run's exit status.
 */
static int run_git_bisect(const struct flow *f, const struct commit *good,
			  const char *repo, const char *gsha,
			  const char *bsha, double step_s, int *rc)
{
	struct argv s = { 0 };
	char *path;

	argv_push(&s, "git");
	argv_push(&s, "-C");
	argv_push(&s, repo);
	argv_push(&s, "bisect");
	argv_push(&s, "start");
	argv_push(&s, "--no-checkout");
	argv_push(&s, bsha);
	argv_push(&s, gsha);
	if (spawn_check(s.v, NULL)) {
		argv_free(&s);
		return -1;
	}
	argv_free(&s);
	bisect_run_argv(f, good, repo, step_s, &s);
	/* git's own account of the steps; ours goes to stderr */
	path = xasprintf("%s/bisect-run.txt", f->dir);
	*rc = bisect_run(s.v, path);
	free(path);
	argv_free(&s);
	return 0;
}

/* Save git bisect log of @repo to <dir>/bisect.log and return its text. */
static char *save_bisect_log(const struct flow *f, const char *repo)
{
	struct argv s = { 0 };
	char *path, *log;

	argv_push(&s, "git");
	argv_push(&s, "-C");
	argv_push(&s, repo);
	argv_push(&s, "bisect");
	argv_push(&s, "log");
	path = xasprintf("%s/bisect.log", f->dir);
	spawn_to_file(s.v, NULL, path);
	log = read_file(path, NULL);
	free(path);
	argv_free(&s);
	return log;
}

/*
 * Report the first bad commit that @log names: 0, or 3 when it names
 * none (@rc: git bisect run's exit status).
 */
static int report_first_bad(const struct flow *f,
			    const struct commit *good,
			    const struct commit *bad, struct commit *first,
			    char *log, int rc)
{
	char *found = log ? strstr(log, "# first bad commit: [") : NULL;
	char *path;

	if (!found || strlen(found) < 21 + 40) {
		pr_err("git bisect run did not name a first bad commit (exit %d); the log: %s/bisect.log",
		       rc, f->dir);
		return 3;
	}
	found += 21;
	found[40] = '\0';
	commit_init(f, first, found);
	path = xasprintf("%s/gate-%.12s.json", f->dir, first->sha);
	first->verdicts = path_exists(path) ? json_read_file(path) : NULL;
	first->gate = GATE_REGRESSED;
	free(path);
	bisect_report(f, good, bad, first);
	return 0;
}

/* End the bisection in @repo and remove it. */
static void bisect_cleanup(char *repo)
{
	char *reset[] = { "git", "-C", repo, "bisect", "reset", NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;

	o.quiet = true;
	o.out_fd = SPAWN_DEVNULL;
	o.err_fd = SPAWN_DEVNULL;
	spawn_run(reset, &o);
	rm_rf(repo);
}

int bisect_main(struct flow_opts *a)
{
	struct flow f = { 0 };
	struct commit good = { .gate = -1 }, bad = { .gate = -1 }, first = { .gate = -1 };
	char gsha[41], bsha[41], *repo = NULL, *log = NULL;
	int rc, code = EXIT_USAGE;
	double step_s = 0;

	flow_take(&f, a);
	if (flow_init(&f, a->tree, a->matrix, a->root, "bisect") ||
	    kbuild_git_commit(f.tree, a->good, gsha) ||
	    kbuild_git_commit(f.tree, a->bad, bsha))
		goto out;
	if (!good_before_bad(&f, a, gsha, bsha))
		goto out;
	commit_init(&f, &good, gsha);
	commit_init(&f, &bad, bsha);
	/* from here on, what fails is an operation, not the command line */
	code = EXIT_ERROR;
	if (flow_mkdir(&f))
		goto out;
	code = measure_ends(&f, &good, &bad, &step_s);
	if (code)
		goto out;
	code = EXIT_ERROR;
	bisect_estimate(&f, gsha, bsha, step_s);
	repo = bisect_repo(&f);
	if (!repo)
		goto out;
	if (run_git_bisect(&f, &good, repo, gsha, bsha, step_s, &rc))
		goto out;
	if (rc == 128 + SIGINT || rc == 128 + SIGTERM) {
		pr_err("interrupted; the steps so far: %s/gate-*.txt", f.dir);
		code = 130;
		goto out;
	}
	log = save_bisect_log(&f, repo);
	code = report_first_bad(&f, &good, &bad, &first, log, rc);
out:
	if (repo)
		bisect_cleanup(repo);
	commit_free(&good);
	commit_free(&bad);
	commit_free(&first);
	free(repo);
	free(log);
	flow_free(&f);
	return code;
}

/* The line after the one @p is in, or NULL. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The value of "NAME=VALUE" in @vars (rev-list --bisect-vars), or -1. */
static long bisect_var(const char *vars, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = vars; p && *p; p = next_line(p))
		if (!strncmp(p, name, len) && p[len] == '=')
			return strtol(p + len + 1, NULL, 10);
	return -1;
}

/*
 * Where the bisection (in the current directory) stands, as [i/n] and an
 * ETA: the steps decided so far (good, bad or skip in 'git bisect log'),
 * this one, and about as many after it as git reckons; each costing the
 * mean of the steps so far, or before the first, what the bad end did.
 */
static void bisect_progress(const struct flow_opts *o)
{
	char *log_argv[] = { "git", "bisect", "log", NULL };
	char *vars_argv[] = { "git", "rev-list", "--bisect-vars", "--bisect",
			      "refs/bisect/bad", NULL };
	struct spawn_opts so = SPAWN_OPTS_DEFAULT;
	char *log = NULL, *vars = NULL;
	size_t done = 0;
	long left;
	double spent;

	so.quiet = true;
	so.err_fd = SPAWN_DEVNULL;
	if (spawn_capture(log_argv, &so, &log) ||
	    spawn_capture(vars_argv, &so, &vars))
		goto out;
	left = bisect_var(vars, "bisect_steps");
	if (left < 0)
		goto out;
	for (const char *p = log; p && *p; p = next_line(p))
		if (!strncmp(p, "git bisect good", 15) ||
		    !strncmp(p, "git bisect bad", 14) ||
		    !strncmp(p, "git bisect skip", 15))
			done++;
	spent = o->started_ms ? (now_ms() - o->started_ms) / 1000.0 : 0;
	progress(done, done + 1 + left, spent,
		 done && spent > 0 ? spent / done : o->step_s);
out:
	free(log);
	free(vars);
}

/*
 * One step of 'git bisect run', run in the bisect repository: measure
 * BISECT_HEAD and gate it.  A commit that does not build or run is skipped;
 * anything else that goes wrong stops the bisection.
 */
int bisect_step_main(struct flow_opts *a)
{
	struct flow f = { 0 };
	struct commit base = { .gate = -1 }, c = { .gate = -1 };
	char *head = NULL;
	int rc, code = BISECT_ABORT;

	flow_take(&f, a);
	if (flow_init(&f, a->tree, a->matrix, a->root, NULL))
		goto out;
	f.dir = strdup(a->flow_dir);
	{
		char *argv_head[] = { "git", "rev-parse", "--verify", "-q",
				      "BISECT_HEAD", NULL };

		head = spawn_capture_line(argv_head, NULL);
	}
	if (!head || strlen(head) != 40) {
		pr_err("bisect-step: no BISECT_HEAD here (run by 'iommubench bisect')");
		goto out;
	}
	commit_init(&f, &c, head);
	bisect_progress(a);
	if (f.unpaired) {
		base.run_id = strdup(a->base_run);
	} else {
		commit_init(&f, &base, a->good);
		base.kernel = strdup(a->good_kernel);
	}
	if (measure(&f, &base, &c)) {
		pr_warn("%.12s: %s; skipping it", c.sha, state_names[c.state]);
		code = BISECT_SKIP;
		goto out;
	}
	rc = gate(&f, &base, &c);
	switch (rc) {
	case GATE_CLEAN:
		pr_info("bisect: %.12s %s: good", c.sha, c.subject);
		code = BISECT_GOOD;
		break;
	case GATE_REGRESSED: {
		char *reg = regressions(&c);

		pr_info("bisect: %.12s %s: bad (%s)", c.sha, c.subject, reg);
		free(reg);
		code = BISECT_BAD;
		break;
	}
	default:
		pr_warn("%.12s: the gate cannot judge it (exit %d); skipping it",
			c.sha, rc);
		code = BISECT_SKIP;
	}
out:
	commit_free(&base);
	commit_free(&c);
	free(head);
	flow_free(&f);
	return code;
}

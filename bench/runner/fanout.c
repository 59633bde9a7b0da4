// SPDX-License-Identifier: GPL-2.0
/*
 * Fan-out over SSH hosts with GNU parallel (fanout.h).
 *
 * Layout, in the run directory.  GNU parallel runs in fanout/, and on every
 * host in its --workdir, ~/.cache/iommubench/fanout/<run-id>, where the
 * same relative paths hold; parallel enters the --workdir on this machine
 * (':') too, so fanout/.cache/iommubench/fanout/<run-id> is a link back to
 * fanout/ itself.
 *
 *   fanout/hosts             the hosts, as given to --hosts
 *   fanout/jobs.txt          the jobs, one round each ("r1", "r2" ...), in
 *                            the seeded order; fixed when the run starts,
 *                            since --joblog knows jobs by their line
 *   fanout/joblog            parallel's job log
 *   fanout/parallel.log      parallel's own output
 *   fanout/bundle/           the suite for the hosts (remote.h)
 *   fanout/jobs/<job>/       one job: run/manifest.json (the round's
 *                            pending cells) in; run/cells, run/logs and
 *                            run.log back
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fanout.h"
#include "hostinfo.h"
#include "json.h"
#include "kernel.h"
#include "log.h"
#include "opt.h"
#include "plan.h"
#include "remote.h"
#include "spawn.h"
#include "util.h"

#define FANOUT_POLL_MS		1000
#define FANOUT_CLEANUP_MS	60000

/* One run of the fan-out. */
struct frun {
	char *dir;
	struct json_object *man;
	struct plan plan;		/* man's */
};

/* One job: a round of a run's plan. */
struct job {
	char name[160];			/* "r3", or "<run-id>.r3" for several runs */
	int rep;
	struct frun *run;
	bool merged;			/* its cells are in the run */
	bool pending;			/* cells of it have no result */
};

struct fanout {
	const char *stage;		/* where parallel runs: jobs/, joblog ... */
	const char *wd;			/* the hosts' ~/.cache/iommubench/fanout/<wd> */
	struct frun *runs;
	size_t nruns;
	const struct fanout_opts *o;
	struct job *jobs;
	size_t njobs;
	size_t merged;
	uint64_t t0;
};

bool fanout_recorded(struct json_object *manifest)
{
	return json_object_object_get_ex(manifest, "fanout", NULL);
}

static char *cell_file(const char *dir, const char *id)
{
	return xasprintf("%s/cells/%s.json", dir, id);
}

/* Whether cell @c of run @r has no result file. */
static bool cell_pending(const struct frun *r, const struct cell *c)
{
	char *p = cell_file(r->dir, c->id);
	bool pending = p && !path_exists(p);

	free(p);
	return pending;
}

static size_t pending_count(const struct frun *r, const struct boot *boot)
{
	size_t n = 0;

	for (size_t i = 0; i < boot->ncells; i++)
		n += cell_pending(r, &boot->cells[i]);
	return n;
}

/* The cells of @boot without a result file in run @r, for a job's plan. */
static struct json_object *pending_json(const struct frun *r,
					const struct boot *boot)
{
	struct json_object *pending = json_object_new_array();

	for (size_t i = 0; pending && i < boot->ncells; i++)
		if (cell_pending(r, &boot->cells[i]))
			json_object_array_add(pending,
					      json_object_get(boot->cells[i].json));
	return pending;
}

static bool job_pending(const struct job *j)
{
	const struct plan *p = &j->run->plan;

	for (size_t b = 0; b < p->nboots; b++)
		if (p->boots[b].rep == j->rep &&
		    pending_count(j->run, &p->boots[b]))
			return true;
	return false;
}

/* The job @name of jobs.txt: its run and round; -1 when it names none. */
static int parse_job(struct fanout *f, const char *name, struct job *j)
{
	const char *r = strrchr(name, 'r');

	memset(j, 0, sizeof(*j));
	if (!r || !r[1] || strlen(name) >= sizeof(j->name))
		return -1;
	snprintf(j->name, sizeof(j->name), "%s", name);
	j->rep = atoi(r + 1);
	for (size_t i = 0; i < f->nruns; i++) {
		const char *id = f->runs[i].plan.run_id;
		size_t n = strlen(id);

		if (f->nruns == 1 ? r == name :
		    (r - name == (ptrdiff_t)n + 1 &&
		     !strncmp(name, id, n) && name[n] == '.')) {
			j->run = &f->runs[i];
			return 0;
		}
	}
	return -1;
}

/*
 * jobs.txt: written once, read back on --resume.  Rounds in the order the
 * plan first reaches them, run after run.
 */
static int load_jobs(struct fanout *f)
{
	char *path = xasprintf("%s/jobs.txt", f->stage);
	char *text = path && path_exists(path) ? read_file(path, NULL) : NULL;
	struct strbuf sb = STRBUF_INIT;
	int ret = -1;

	if (!text) {
		for (size_t i = 0; i < f->nruns; i++) {
			const struct plan *p = &f->runs[i].plan;

			for (size_t b = 0; b < p->nboots; b++) {
				int rep = p->boots[b].rep;
				size_t k;

				for (k = 0; k < b; k++)
					if (p->boots[k].rep == rep)
						break;
				if (k < b)
					continue;
				if (f->nruns > 1)
					strbuf_addf(&sb, "%s.", p->run_id);
				strbuf_addf(&sb, "r%d\n", rep);
			}
		}
		text = strbuf_detach(&sb);
		if (!text || write_file_atomic(path, text, strlen(text))) {
			pr_err("%s: %s", path, strerror(errno));
			goto out;
		}
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct job *grow = realloc(f->jobs, (f->njobs + 1) * sizeof(*grow));

		if (!grow)
			goto out;
		f->jobs = grow;
		if (parse_job(f, line, &f->jobs[f->njobs])) {
			pr_err("%s: '%s' is not a round of %s", path, line,
			       f->nruns == 1 ? f->runs[0].plan.run_id : "these runs");
			goto out;
		}
		f->njobs++;
	}
	ret = 0;
out:
	free(path);
	free(text);
	strbuf_release(&sb);
	return ret;
}

/*
 * The job's run directory: the run's manifest with the round's boots,
 * each cut to its pending cells, and without what would make the host fan
 * out again or reach for another machine.
 */
static int write_job(const struct fanout *f, const struct job *j)
{
	struct json_object *m = NULL, *plan, *boots = json_object_new_array();
	char *dir = xasprintf("%s/jobs/%s", f->stage, j->name);
	char *run = xasprintf("%s/run", dir), *path = xasprintf("%s/manifest.json", run);
	int ret = -1;

	if (!dir || !run || !path || rm_rf(dir)) {
		pr_err("%s: %s", dir ? dir : f->stage, strerror(errno));
		goto out;
	}
	/* the directories of a run, as 'run' makes them */
	for (const char *sub = "cells\0logs\0plans\0"; *sub; sub += strlen(sub) + 1) {
		char *d = xasprintf("%s/%s", run, sub);

		if (!d || mkdir_p(d, 0755)) {
			pr_err("%s: %s", d ? d : run, strerror(errno));
			free(d);
			goto out;
		}
		free(d);
	}
	if (json_object_deep_copy(j->run->man, &m, NULL)) {
		pr_err("cannot copy the manifest for job %s", j->name);
		goto out;
	}
	json_object_object_del(m, "fanout");
	json_object_object_del(m, "hosts");
	json_object_object_del(m, "remote");
	for (size_t b = 0; b < j->run->plan.nboots; b++) {
		const struct boot *boot = &j->run->plan.boots[b];
		struct json_object *copy = NULL, *p;

		if (boot->rep != j->rep)
			continue;
		p = pending_json(j->run, boot);
		if (p && json_object_array_length(p) &&
		    !json_object_deep_copy(boot->json, &copy, NULL)) {
			json_object_object_add(copy, "cells", p);
			json_object_array_add(boots, copy);
		} else {
			json_object_put(p);
		}
	}
	plan = json_object_object_get(m, "plan");
	json_object_object_add(plan, "boots", boots);
	boots = NULL;
	ret = json_write_file(path, m);
	if (ret)
		pr_err("%s: %s", path, strerror(errno));
out:
	if (m)
		json_object_put(m);
	if (boots)
		json_object_put(boots);
	free(dir);
	free(run);
	free(path);
	return ret;
}

/* Rename @from to @to, replacing a directory that is in the way. */
static void move(const char *from, const char *to)
{
	if (path_is_dir(to))
		rm_rf(to);
	if (rename(from, to))
		pr_warn("%s: %s", to, strerror(errno));
}

static int save_man(const struct frun *r)
{
	char *path = xasprintf("%s/manifest.json", r->dir);
	int ret = path ? json_write_file(path, r->man) : -1;

	if (ret)
		pr_err("%s: %s", path ? path : r->dir, strerror(errno));
	free(path);
	return ret;
}

/*
 * Merge boot @jb of a job (in @jdir), run on @sshlogin (host @host): its
 * records and host into run @r's boot of the same id, its logs and cell
 * files into @r (a cell that has a result already keeps it).
 */
static void merge_boot(struct frun *r, const char *jdir,
		       const struct boot *jb, const char *host,
		       const char *sshlogin)
{
	static const char *const keep[] = {
		"cmdline", "accel", "outcome", "boot_attempts", "boot_faults",
	};
	char *from, *to;

	for (size_t b = 0; b < r->plan.nboots; b++) {
		struct json_object *boot = r->plan.boots[b].json;

		if (strcmp(r->plan.boots[b].id, jb->id))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(keep); k++)
			if (json_object_object_get_ex(jb->json, keep[k], NULL))
				json_copy(boot, keep[k], jb->json, keep[k]);
		json_object_object_add(boot, "host", host ?
				       json_object_new_string(host) : NULL);
		json_object_object_add(boot, "sshlogin",
				       json_object_new_string(sshlogin));
	}
	from = xasprintf("%s/run/logs/%s", jdir, jb->id);
	to = xasprintf("%s/logs/%s", r->dir, jb->id);
	if (from && to && path_is_dir(from))
		move(from, to);
	free(from);
	free(to);
	for (size_t c = 0; c < jb->ncells; c++) {
		const char *id = jb->cells[c].id;
		char *src = xasprintf("%s/run/cells/%s.json", jdir, id);
		char *dst = cell_file(r->dir, id);
		char *lsrc = xasprintf("%s/run/logs/%s.log", jdir, id);
		char *ldst = xasprintf("%s/logs/%s.log", r->dir, id);

		if (src && dst && path_exists(src) && !path_exists(dst) &&
		    rename(src, dst))
			pr_warn("%s: %s", dst, strerror(errno));
		if (lsrc && ldst && path_exists(lsrc))
			move(lsrc, ldst);
		free(src);
		free(dst);
		free(lsrc);
		free(ldst);
	}
}

/*
 * Merge job @j, run on @sshlogin: its boots' records and host into the
 * plan, its cell files and logs into the run (a cell that has a result
 * already keeps it).
 */
static void merge_job(struct fanout *f, struct job *j, const char *sshlogin)
{
	struct frun *r = j->run;
	char *jdir = xasprintf("%s/jobs/%s", f->stage, j->name);
	char *mpath = xasprintf("%s/run/manifest.json", jdir);
	struct json_object *jm = mpath && path_exists(mpath) ? json_read_file(mpath) : NULL;
	struct plan jp = { 0 };
	struct json_object *hosts;

	j->merged = true;
	f->merged++;
	if (!jm || plan_check(mpath, jm) || plan_load(&jp, jm)) {
		pr_warn("job %s came back from %s without its run (%s)", j->name,
			sshlogin, jdir);
		goto out;
	}
	if (!json_object_object_get_ex(r->man, "hosts", &hosts)) {
		hosts = json_object_new_object();
		json_object_object_add(r->man, "hosts", hosts);
	}
	/* the host's identity, as its run recorded it */
	if (jp.host)
		json_object_object_add(hosts, jp.host, json_object_get(
				       json_object_object_get(jm, "host")));
	for (size_t i = 0; i < jp.nboots; i++)
		merge_boot(r, jdir, &jp.boots[i], jp.host, sshlogin);
	{
		const char *rn = strrchr(j->name, 'r');
		char *from = xasprintf("%s/run.log", jdir);
		char *to = xasprintf("%s/logs/fanout-%s.log", r->dir, rn ? rn : j->name);

		if (from && to && path_exists(from))
			move(from, to);
		free(from);
		free(to);
	}
	rm_rf(jdir);
	save_man(r);
out:
	plan_free(&jp);
	if (jm)
		json_object_put(jm);
	free(jdir);
	free(mpath);
}

/*
 * The job log: "Seq Host Starttime JobRuntime Send Receive Exitval Signal
 * Command", tab-separated, one line per finished job.  Calls @fn for each
 * line with the job it names.
 */
static void read_joblog(struct fanout *f,
			void (*fn)(struct fanout *f, struct job *j,
				   const char *host, int exitval))
{
	char *path = xasprintf("%s/joblog", f->stage);
	char *text = path && path_exists(path) ? read_file(path, NULL) : NULL;
	char *line, *save;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *field[9], *p = line;
		int n = 0;
		long seq;

		for (; n < 9 && p; n++) {
			field[n] = p;
			p = n < 8 ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = '\0';
		}
		seq = n == 9 ? strtol(field[0], NULL, 10) : 0;
		if (seq < 1 || (size_t)seq > f->njobs)
			continue;
		fn(f, &f->jobs[seq - 1], field[1], atoi(field[6]));
	}
	free(path);
	free(text);
}

static void merge_done(struct fanout *f, struct job *j, const char *host,
		       int exitval)
{
	if (exitval == 0 && !j->merged) {
		merge_job(f, j, host);
		if (f->o->tty)
			fprintf(stderr, "\r\033[K");
		pr_info("fan-out: round %s done on %s (%zu/%zu)", j->name, host,
			f->merged, f->njobs);
	}
}

/*
 * Keep the job log's lines of the jobs that are complete: parallel's
 * --resume-failed then runs every other job again, also one that exited
 * 0 but whose cells did not come back.
 */
static int rewrite_joblog(struct fanout *f)
{
	char *path = xasprintf("%s/joblog", f->stage);
	char *text = path && path_exists(path) ? read_file(path, NULL) : NULL;
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	for (char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");
		long seq = strtol(p, NULL, 10);

		if (seq < 1 || (size_t)seq > f->njobs || !f->jobs[seq - 1].pending)
			strbuf_addn(&sb, p, n + (p[n] == '\n'));
		p += n + (p[n] == '\n');
	}
	if (text)
		ret = write_file_atomic(path, sb.buf ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	free(path);
	free(text);
	return ret;
}

/* Copy the bundle into <stage>/bundle, keeping its times (cp -a). */
static int stage_bundle(const struct fanout *f)
{
	char *parent = NULL, *name = bundle_build(&parent);
	char *src = name ? xasprintf("%s/%s", parent, name) : NULL;
	char *dst = xasprintf("%s/bundle", f->stage);
	char *cp[] = { "cp", "-a", src, dst, NULL };
	int ret = -1;

	if (src && dst && !rm_rf(dst))
		ret = spawn_check(cp, NULL);
	free(parent);
	free(name);
	free(src);
	free(dst);
	return ret;
}

/* <stage>/.cache/iommubench/fanout/<wd> -> <stage>, for ':' */
static int link_workdir(const struct fanout *f)
{
	char *dir = xasprintf("%s/.cache/iommubench/fanout", f->stage);
	char *link = dir ? xasprintf("%s/%s", dir, f->wd) : NULL;
	int ret = -1;

	if (!link || mkdir_p(dir, 0755))
		goto out;
	unlink(link);
	ret = symlink("../../..", link);
out:
	if (ret)
		pr_err("%s: %s", link ? link : f->stage, strerror(errno));
	free(dir);
	free(link);
	return ret;
}

/* The kernels built here, which travel; Debian's a host fetches itself. */
static void push_kernels(const struct fanout *f, struct argv *a)
{
	struct argv seen = { 0 };

	for (size_t i = 0; i < f->nruns; i++) {
		const struct plan *p = &f->runs[i].plan;

		if (p->target != RUN_TARGET_VM)
			continue;
		for (size_t k = 0; k < p->nkernels; k++) {
			const char *path = p->kernels[k].path;
			const char *name = p->kernels[k].name;
			bool dup = false;

			if (kernel_debian_series(p->kernels[k].spec) || !path || !name ||
			    strlen(path) <= strlen(name))
				continue;
			for (size_t s = 0; s < seen.n; s++)
				dup |= !strcmp(seen.v[s], name);
			if (dup)
				continue;
			argv_push(&seen, name);
			argv_push(a, "--basefile");
			argv_pushf(a, "%.*s/./%s", (int)(strlen(path) - strlen(name) - 1),
				   path, name);
		}
	}
	argv_free(&seen);
}

static void parallel_argv(const struct fanout *f, bool resume, struct argv *a)
{
	const char *ssh = getenv("IOMMUBENCH_SSH");

	argv_push(a, "parallel");
	/* one job at a time on a host: boots never share a machine */
	argv_push(a, "-j1");
	argv_push(a, "--sshloginfile");
	argv_push(a, "hosts");
	argv_push(a, "--retries");
	argv_pushf(a, "%u", f->o->retries);
	argv_push(a, "--joblog");
	argv_push(a, "joblog");
	if (resume)
		argv_push(a, "--resume-failed");
	/*
	 * As the SSH transport does (ssh.c): no password prompt, and a host
	 * that vanishes is noticed in about 20 s, not at TCP's timeout.
	 */
	argv_push(a, "--ssh");
	argv_pushf(a, "%s -o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=5 -o ServerAliveCountMax=3",
		   ssh && *ssh ? ssh : "ssh");
	argv_push(a, "--workdir");
	argv_pushf(a, ".cache/iommubench/fanout/%s", f->wd);
	/* -t: file times travel, so dmabench.ko built from them stays current */
	argv_push(a, "--rsync-opts");
	argv_push(a, "-rlDzRt");
	argv_push(a, "--basefile");
	argv_push(a, "bundle");
	push_kernels(f, a);
	argv_push(a, "--transferfile");
	argv_push(a, "jobs/{}");
	argv_push(a, "--return");
	argv_push(a, "jobs/{}");
	argv_push(a, "-a");
	argv_push(a, "jobs.txt");
	argv_push(a, "bundle/bin/iommubench");
	argv_push(a, "fanout-job");
	if (f->o->force)
		argv_push(a, "--force");
	argv_push(a, "jobs/{}");
}

/* Remove the working directories on the hosts; best effort. */
static void clean_hosts(const struct fanout *f)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	const char *ssh = getenv("IOMMUBENCH_SSH");

	argv_push(&a, "parallel");
	argv_push(&a, "--nonall");
	argv_push(&a, "--sshloginfile");
	argv_push(&a, "hosts");
	argv_push(&a, "--ssh");
	argv_pushf(&a, "%s -o BatchMode=yes -o ConnectTimeout=15",
		   ssh && *ssh ? ssh : "ssh");
	argv_pushf(&a, "rm -rf .cache/iommubench/fanout/%s", f->wd);
	o.cwd = f->stage;
	o.out_fd = SPAWN_DEVNULL;
	o.err_fd = SPAWN_DEVNULL;
	o.timeout_ms = FANOUT_CLEANUP_MS;
	spawn_run(a.v, &o);
	argv_free(&a);
}

/* A hosts file's hosts, one per line, for the manifest and messages. */
static struct json_object *hosts_json(const char *text, size_t *n)
{
	struct json_object *arr = json_object_new_array();
	char *copy = strdup(text ? text : ""), *line, *save;

	*n = 0;
	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		line = strtrim(line);
		if (!*line || *line == '#')
			continue;
		json_object_array_add(arr, json_object_new_string(line));
		(*n)++;
	}
	free(copy);
	return arr;
}

/*
 * Record the fan-out in each run: its manifest's "fanout", and a copy of
 * the hosts in <run>/fanout/hosts, which a later --resume of that run
 * fans out over again.
 */
static int record_fanout(struct fanout *f, const char *text)
{
	for (size_t i = 0; i < f->nruns; i++) {
		struct frun *r = &f->runs[i];
		struct json_object *fo = json_object_new_object();
		char *dir = xasprintf("%s/fanout", r->dir);
		char *hosts = xasprintf("%s/fanout/hosts", r->dir);
		size_t n;
		int err = !dir || !hosts || mkdir_p(dir, 0755) ||
			  write_file_atomic(hosts, text, strlen(text));

		if (err)
			pr_err("%s: %s", hosts ? hosts : r->dir, strerror(errno));
		json_object_object_add(fo, "hosts", hosts_json(text, &n));
		json_object_object_add(fo, "retries", json_object_new_int(f->o->retries));
		json_object_object_add(fo, "unit", json_object_new_string("round"));
		json_object_object_add(r->man, "fanout", fo);
		free(dir);
		free(hosts);
		if (err || save_man(r))
			return -1;
	}
	return 0;
}

/*
 * The hosts text, from --hosts (copied to @hosts in the stage) or, when
 * resuming, from @hosts itself, recorded in each run; NULL on error.
 */
static char *take_hosts(struct fanout *f, const char *hosts, size_t *nhosts)
{
	const char *given = f->o->hosts;
	char *text = read_file(given ? given : hosts, NULL);

	if (!text) {
		pr_err("%s: %s", given ? given : hosts, strerror(errno));
		return NULL;
	}
	json_object_put(hosts_json(text, nhosts));
	if (!*nhosts) {
		pr_err("%s: no hosts in it (one sshlogin a line; ':' is this machine)",
		       given ? given : hosts);
		free(text);
		return NULL;
	}
	if ((given && write_file_atomic(hosts, text, strlen(text))) ||
	    record_fanout(f, text)) {
		pr_err("%s: %s", hosts, strerror(errno));
		free(text);
		return NULL;
	}
	return text;
}

/*
 * Merge what came back before an interruption, then write the jobs still
 * to run; *@pending is how many.
 */
static int queue_pending_jobs(struct fanout *f, size_t *pending)
{
	read_joblog(f, merge_done);
	for (size_t i = 0; i < f->njobs; i++) {
		f->jobs[i].pending = job_pending(&f->jobs[i]);
		if (f->jobs[i].pending) {
			f->jobs[i].merged = false;
			(*pending)++;
			if (write_job(f, &f->jobs[i]))
				return -1;
		}
	}
	f->merged = f->njobs - *pending;
	return 0;
}

/* Start GNU parallel on the stage, its output appended to @logpath. */
static pid_t start_parallel(struct fanout *f, bool resume, const char *logpath)
{
	struct spawn_opts so = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	pid_t pid;

	parallel_argv(f, resume, &a);
	so.cwd = f->stage;
	so.out_fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	so.err_fd = so.out_fd;
	if (so.out_fd < 0) {
		pr_err("%s: %s", logpath, strerror(errno));
		argv_free(&a);
		return -1;
	}
	f->t0 = now_ms();
	pid = spawn_start(a.v, &so);
	close(so.out_fd);
	if (pid < 0)
		pr_err("cannot run GNU parallel: %s (install the Debian package parallel, and rsync)",
		       strerror(errno));
	argv_free(&a);
	return pid;
}

/*
 * Merge the rounds as they come back until GNU parallel @pid ends or a
 * stop is asked for; its exit status.
 */
static int wait_parallel(struct fanout *f, pid_t pid)
{
	int st = 0;

	for (;;) {
		int r = spawn_poll(pid, &st);

		read_joblog(f, merge_done);
		if (r)
			break;
		if (f->o->stop && *f->o->stop) {
			pr_warn("fan-out: stopping the jobs (--resume continues)");
			st = spawn_kill(pid, 10000);
			break;
		}
		if (f->o->tty)
			fprintf(stderr, "\r\033[Kfan-out: %zu/%zu rounds, %.0f s",
				f->merged, f->njobs, (now_ms() - f->t0) / 1000.0);
		sleep_ms(FANOUT_POLL_MS);
	}
	if (f->o->tty)
		fputc('\n', stderr);
	read_joblog(f, merge_done);
	return st;
}

/* Run the @pending rounds over @nhosts hosts with GNU parallel. */
static int run_rounds(struct fanout *f, bool resume, size_t pending,
		      size_t nhosts, const char *logpath)
{
	pid_t pid;
	int st;

	if (rewrite_joblog(f) || stage_bundle(f) || link_workdir(f)) {
		pr_err("%s: cannot prepare the jobs", f->stage);
		return -1;
	}
	pr_info("fan-out: %zu round(s) of %s over %zu host(s) with GNU parallel%s",
		pending, f->nruns == 1 ? f->runs[0].plan.run_id : f->wd, nhosts,
		resume ? " (resuming its job log)" : "");
	pid = start_parallel(f, resume, logpath);
	if (pid < 0)
		return -1;
	st = wait_parallel(f, pid);
	if (st)
		pr_warn("fan-out: GNU parallel exited with %d (%s)", st, logpath);
	if (!(f->o->stop && *f->o->stop))
		clean_hosts(f);
	return 0;
}

/* How many cells of the runs have no result. */
static int count_unfinished(const struct fanout *f)
{
	int unfinished = 0;

	for (size_t i = 0; i < f->nruns; i++)
		for (size_t b = 0; b < f->runs[i].plan.nboots; b++)
			unfinished += pending_count(&f->runs[i],
						    &f->runs[i].plan.boots[b]);
	return unfinished;
}

static int fanout(struct fanout *f)
{
	char *hosts = xasprintf("%s/hosts", f->stage), *text = NULL;
	char *logpath = xasprintf("%s/parallel.log", f->stage);
	bool resume;
	size_t nhosts, pending = 0;
	int unfinished = -1;

	if (!hosts || !logpath || mkdir_p(f->stage, 0755)) {
		pr_err("%s: %s", f->stage, strerror(errno));
		goto out;
	}
	resume = path_exists(hosts);
	text = take_hosts(f, hosts, &nhosts);
	if (!text || load_jobs(f) || queue_pending_jobs(f, &pending))
		goto out;
	if (pending && run_rounds(f, resume, pending, nhosts, logpath))
		goto out;
	unfinished = count_unfinished(f);
out:
	free(hosts);
	free(logpath);
	free(text);
	free(f->jobs);
	f->jobs = NULL;
	return unfinished;
}

int fanout_run(const char *dir, struct json_object *man,
	       const struct fanout_opts *o)
{
	struct frun r = { .dir = (char *)dir, .man = man };
	char *stage = xasprintf("%s/fanout", dir);
	struct fanout f = { .stage = stage, .runs = &r, .nruns = 1, .o = o };
	int ret = -1;

	if (stage && !plan_load(&r.plan, man)) {
		f.wd = r.plan.run_id;
		ret = fanout(&f);
	}
	plan_free(&r.plan);
	free(stage);
	return ret;
}

static volatile sig_atomic_t fanout_stop;

static void on_stop(int sig)
{
	(void)sig;
	fanout_stop = 1;
}

int cmd_fanout(int argc, char **argv)
{
	static const char *const usage[] = {
		"iommubench fanout --hosts FILE --stage DIR [--results DIR] [--retries N] RUN...",
		NULL,
	};
	const char *root = "results", *stage = NULL, *wd;
	struct fanout_opts o = FANOUT_OPTS_DEFAULT;
	const struct opt opts[] = {
		OPT_STRING('r', "results", &root, "DIR", "results root (default: results)"),
		OPT_STRING(0, "hosts", &o.hosts, "FILE", "the hosts (GNU parallel's --sshloginfile)"),
		OPT_STRING(0, "stage", &stage, "DIR", "where the jobs and the job log go"),
		OPT_UINT(0, "retries", &o.retries, "N", "run --retries", 0, 100),
		OPT_END(),
	};
	const struct opt_cmd cmd = {
		.name = "iommubench fanout", .usage = usage,
		.about = "Fan the pending rounds of several prepared runs out over hosts in one GNU parallel (used by commits --hosts).",
		.opts = opts, .min_args = 1, .max_args = OPT_ARGS_ANY,
	};
	struct sigaction sa = { .sa_handler = on_stop };
	struct fanout f = { .o = &o };
	int first = opt_parse(&cmd, argc, argv), ret = EXIT_ERROR, left;

	if (first < 0)
		return opt_exit(first);
	if (!o.hosts || !stage)
		return opt_usage_error(&cmd, "needs --hosts and --stage");
	f.nruns = argc - first;
	f.runs = calloc(f.nruns, sizeof(*f.runs));
	if (!f.runs)
		return EXIT_ERROR;
	for (size_t i = 0; i < f.nruns; i++) {
		struct frun *r = &f.runs[i];
		char *path;

		r->dir = xasprintf("%s/%s", root, argv[first + i]);
		path = r->dir ? xasprintf("%s/manifest.json", r->dir) : NULL;
		r->man = path ? json_read_file(path) : NULL;
		if (!r->man || plan_check(path, r->man) ||
		    plan_load(&r->plan, r->man)) {
			free(path);
			goto out;
		}
		free(path);
	}
	wd = strrchr(stage, '/') ? strrchr(stage, '/') + 1 : stage;
	if (!strcmp(wd, "fanout") && strrchr(stage, '/') > stage) {
		/* <flow-dir>/fanout: the flow's name */
		const char *end = strrchr(stage, '/'), *start = end;

		while (start > stage && start[-1] != '/')
			start--;
		wd = strndup(start, end - start);
	} else {
		wd = strdup(wd);
	}
	f.stage = stage;
	f.wd = wd;
	o.stop = &fanout_stop;
	o.tty = isatty(STDERR_FILENO);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	left = fanout(&f);
	free((char *)wd);
	if (left > 0)
		pr_err("%d cell(s) have no result: no host completed their round (%s/joblog)",
		       left, stage);
	ret = fanout_stop ? 130 : left ? EXIT_ERROR : 0;
out:
	for (size_t i = 0; i < f.nruns; i++) {
		free(f.runs[i].dir);
		plan_free(&f.runs[i].plan);
		if (f.runs[i].man)
			json_object_put(f.runs[i].man);
	}
	free(f.runs);
	return ret;
}

/* --- a host's side of a job ---------------------------------------------- */

/* A program the job needs here, with the Debian package that has it. */
static int need(const char *prog, const char *pkg, const char *host)
{
	char *argv[] = { "sh", "-c", NULL, NULL };
	char *cmd = xasprintf("command -v %s >/dev/null || test -x /usr/sbin/%s || test -x /sbin/%s",
			      prog, prog, prog);
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	int st;

	argv[2] = cmd;
	o.quiet = true;
	st = cmd ? spawn_run(argv, &o) : -1;
	free(cmd);
	if (st) {
		pr_err("%s has no %s: install the Debian package %s there (scripts/setup)",
		       host, prog, pkg);
		return -1;
	}
	return 0;
}

/* Kernels built on the controller travel as basefiles into kernels/<name>. */
static int install_kernels(const struct plan *p)
{
	int ret = 0;

	for (size_t i = 0; i < p->nkernels; i++) {
		const char *name = p->kernels[i].name;
		char *have, *got, *tmp;

		if (kernel_debian_series(p->kernels[i].spec) || !name ||
		    !is_plain_name(name))
			continue;
		have = xasprintf("%s/kernels/%s", cache_dir(), name);
		got = xasprintf("kernels/%s", name);
		tmp = xasprintf("%s.fanout-%d", have ? have : "", (int)getpid());
		if (have && got && tmp && !path_is_dir(have) && path_is_dir(got)) {
			char *cp[] = { "cp", "-a", got, tmp, NULL };

			if (mkdir_p(have, 0755) || rmdir(have) ||
			    spawn_check(cp, NULL) || rename(tmp, have)) {
				pr_err("cannot install kernel %s into %s", name, have);
				rm_rf(tmp);
				ret = -1;
			}
		}
		free(have);
		free(got);
		free(tmp);
	}
	return ret;
}

/* Point PATH and the data directory at the bundle, wherever it landed. */
static void use_bundle(void)
{
	char *share = xasprintf("%s/../share/iommubench", ib_bindir());
	const char *path;
	char *np;

	if (share && path_is_dir(share))
		setenv("IOMMUBENCH_DATADIR", share, 1);
	free(share);
	path = getenv("PATH");
	np = xasprintf("%s:%s:/usr/sbin:/sbin", ib_bindir(),
		       path ? path : "/usr/bin:/bin");
	if (np)
		setenv("PATH", np, 1);
	free(np);
}

/*
 * The job holds only cells without a result: anything else here came
 * back from a host that died while returning it, and runs again.
 */
static int clear_returned_results(const char *rundir)
{
	for (const char *sub = "cells\0logs\0plans\0"; *sub; sub += strlen(sub) + 1) {
		char *d = xasprintf("%s/%s", rundir, sub);

		if (!d || rm_rf(d) || mkdir_p(d, 0755)) {
			pr_err("%s: %s", d ? d : rundir, strerror(errno));
			free(d);
			return -1;
		}
		free(d);
	}
	return 0;
}

/* This host's identity, with its own tools next to the controller's. */
static struct json_object *this_host(void)
{
	struct json_object *ident = host_identity();
	char *qemu[] = { "qemu-system-x86_64", "--version", NULL };
	char *fiov[] = { "fio", "--version", NULL };
	char *q = spawn_capture_line(qemu, NULL), *v = spawn_capture_line(fiov, NULL);

	json_object_object_add(ident, "qemu", q ? json_object_new_string(q) : NULL);
	json_object_object_add(ident, "fio", v ? json_object_new_string(v) : NULL);
	free(q);
	free(v);
	return ident;
}

static bool plan_has_fio(const struct plan *plan)
{
	bool fio = false;

	for (size_t b = 0; b < plan->nboots; b++) {
		const struct boot *boot = &plan->boots[b];

		for (size_t c = 0; c < boot->ncells; c++)
			fio |= boot->cells[c].type &&
			       !strcmp(boot->cells[c].type, "fio");
	}
	return fio;
}

/* Host mode measures this host's kernel: its release in boots and kernels. */
static void use_host_kernel(const struct plan *plan, struct json_object *ident)
{
	for (size_t b = 0; b < plan->nboots; b++)
		json_object_object_add(plan->boots[b].config, "kernel_release",
				       json_object_new_string(
				       json_get_string(ident, "kernel")));
	for (size_t i = 0; i < plan->nkernels; i++)
		if (!strcmp(plan->kernels[i].spec, "host"))
			json_object_object_add(plan->kernels[i].json, "release",
					       json_object_new_string(
					       json_get_string(ident, "kernel")));
}

/* What this host lacks fails the job, and parallel tries another. */
static int missing_tools(bool host, bool fio, const char *name)
{
	int missing = 0;

	if (!host) {
		missing |= need("qemu-system-x86_64", "qemu-system-x86", name);
		missing |= need("busybox", "busybox-static", name);
		missing |= need("cpio", "cpio", name);
		missing |= need("fio", "fio", name);
	} else if (fio) {
		missing |= need("fio", "fio", name);
	}
	return missing;
}

/*
 * Resume the job's run here, its output in @log: 0 when it ran (some
 * cells may have failed), else the job's exit code.
 */
static int run_job(const char *jobdir, const char *rundir, const char *log,
		   bool force, const char *name)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	int ret;

	argv_push(&a, "iommubench");
	argv_push(&a, "run");
	argv_push(&a, "--results");
	argv_push(&a, jobdir);
	argv_push(&a, "--resume");
	argv_push(&a, rundir);
	if (force)
		argv_push(&a, "--force");
	o.out_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	o.err_fd = o.out_fd;
	if (o.out_fd < 0) {
		pr_err("%s: %s", log, strerror(errno));
		argv_free(&a);
		return EXIT_ENVIRONMENT;
	}
	ret = spawn_run(a.v, &o);
	close(o.out_fd);
	argv_free(&a);
	/* 1: cells failed, which is a result; anything else is this host's trouble */
	if (ret != 0 && ret != EXIT_ERROR) {
		pr_err("%s: the run of %s ended with %d (%s)", name, jobdir, ret, log);
		return EXIT_ERROR;
	}
	return 0;
}

/* 0 when every cell of the job has a result, else EXIT_ERROR naming each. */
static int check_results(const struct plan *plan, const char *rundir,
			 const char *name, const char *log)
{
	int ret = 0;

	for (size_t b = 0; b < plan->nboots; b++) {
		for (size_t c = 0; c < plan->boots[b].ncells; c++) {
			char *p = cell_file(rundir, plan->boots[b].cells[c].id);

			if (!p || !path_exists(p)) {
				pr_err("%s: %s has no result (%s)", name, p ? p : "a cell", log);
				ret = EXIT_ERROR;
			}
			free(p);
		}
	}
	return ret;
}

/* The host's own summary and index stay here. */
static void drop_host_summary(const char *jobdir, const char *rundir)
{
	char *r = xasprintf("%s/report", rundir), *s = xasprintf("%s/summary.md", rundir);
	char *i = xasprintf("%s/index.sqlite", jobdir);

	if (r)
		rm_rf(r);
	if (s)
		unlink(s);
	if (i)
		unlink(i);
	free(r);
	free(s);
	free(i);
}

int cmd_fanout_job(int argc, char **argv)
{
	const char *jobdir = NULL;
	bool force = false;
	struct json_object *man = NULL, *ident;
	struct plan plan = { 0 };
	char *mpath = NULL, *rundir = NULL, *log = NULL;
	const char *name;
	bool host;
	int ret = EXIT_ENVIRONMENT;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			force = true;
		else if (!jobdir && argv[i][0] != '-')
			jobdir = argv[i];
		else
			jobdir = NULL, i = argc;
	}
	if (!jobdir) {
		pr_err("usage: iommubench fanout-job [--force] JOBDIR (run by 'run --hosts')");
		return EXIT_USAGE;
	}
	use_bundle();
	rundir = xasprintf("%s/run", jobdir);
	mpath = xasprintf("%s/manifest.json", rundir);
	log = xasprintf("%s/run.log", jobdir);
	man = mpath ? json_read_file(mpath) : NULL;
	if (!man || plan_check(mpath, man) || plan_load(&plan, man))
		goto out;
	host = plan.target == RUN_TARGET_HOST;
	if (clear_returned_results(rundir))
		goto out;
	ident = this_host();
	name = json_get_string(ident, "name");
	/* the manifest's "host" is this one now (plan.host is no more) */
	json_object_object_add(man, "host", ident);
	if (host)
		use_host_kernel(&plan, ident);
	if (missing_tools(host, plan_has_fio(&plan), name) ||
	    (!host && install_kernels(&plan)))
		goto out;
	if (json_write_file(mpath, man)) {
		pr_err("%s: %s", mpath, strerror(errno));
		goto out;
	}
	ret = run_job(jobdir, rundir, log, force, name);
	if (ret)
		goto out;
	ret = check_results(&plan, rundir, name, log);
	drop_host_summary(jobdir, rundir);
out:
	plan_free(&plan);
	if (man)
		json_object_put(man);
	free(mpath);
	free(rundir);
	free(log);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Remote host mode (remote.h): the bundle, its installation over SSH, the
 * checks of what it cannot carry, and the agent run on the far side.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "remote.h"
#include "spawn.h"
#include "ssh.h"
#include "util.h"

/* Where the far side keeps bundles, built modules and runs (under $HOME). */
#define REMOTE_BASE	".cache/iommubench/remote"

static const char *const bundle_programs[] = {
	"iommubench", "dmabench", "iommutrace",
};

/* Data files the programs read through ib_datadir(). */
static const char *const bundle_data[] = {
	"bench/target/init", "bench/fio/*.fio", "bench/matrices/*.ini",
	"bench/dmabench/dmabench.c", "bench/dmabench/Kbuild",
	"bench/dmabench/Makefile", "include/iommubench/*.h",
};

/* Each file of the bundle: its source and its path inside the bundle. */
static int bundle_files(struct argv *src, struct argv *dst)
{
	for (size_t i = 0; i < ARRAY_SIZE(bundle_programs); i++) {
		char *p = xasprintf("%s/%s", ib_bindir(), bundle_programs[i]);

		/* iommutrace is not built with --disable-bpf */
		if (p && access(p, X_OK) == 0) {
			argv_push(src, p);
			argv_pushf(dst, "bin/%s", bundle_programs[i]);
		} else if (i == 0) {
			pr_err("%s: %s", p ? p : "iommubench", strerror(errno));
			free(p);
			return -1;
		}
		free(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bundle_data); i++) {
		char *pat = xasprintf("%s/%s", ib_datadir(), bundle_data[i]);
		glob_t g;

		if (!pat || glob(pat, 0, NULL, &g)) {
			pr_err("%s: the suite's data files are missing", pat ? pat : "");
			free(pat);
			return -1;
		}
		for (size_t j = 0; j < g.gl_pathc; j++) {
			argv_push(src, g.gl_pathv[j]);
			argv_pushf(dst, "share/iommubench/%s",
				   g.gl_pathv[j] + strlen(ib_datadir()) + 1);
		}
		globfree(&g);
		free(pat);
	}
	return 0;
}

char *bundle_build(char **parent)
{
	struct argv src = { 0 }, dst = { 0 };
	uint64_t h = STR_HASH_INIT;
	char *name = NULL, *dir = NULL, *tmp = NULL, *lock = NULL;
	int lockfd = -1;

	*parent = NULL;
	if (bundle_files(&src, &dst))
		goto fail;
	for (size_t i = 0; i < src.n; i++) {
		size_t len;
		char *text = read_file(src.v[i], &len);

		if (!text) {
			pr_err("%s: %s", src.v[i], strerror(errno));
			goto fail;
		}
		h = str_hash(dst.v[i], h);
		for (size_t k = 0; k < len; k++)
			h = (h ^ (unsigned char)text[k]) * 1099511628211ULL;
		free(text);
	}
	*parent = xasprintf("%s/bundles", cache_dir());
	name = xasprintf("bundle-%016" PRIx64, h);
	dir = xasprintf("%s/%s", *parent, name);
	lock = xasprintf("%s/.lock", *parent);
	if (!*parent || !name || !dir || !lock || mkdir_p(*parent, 0755)) {
		pr_err("%s: %s", *parent ? *parent : "bundles", strerror(errno));
		goto fail;
	}
	lockfd = lock_path(lock);
	if (path_is_dir(dir))
		goto done;
	tmp = xasprintf("%s.tmp", dir);
	rm_rf(tmp);
	for (size_t i = 0; i < src.n; i++) {
		char *to = xasprintf("%s/%s", tmp, dst.v[i]);
		char *d = to ? strdup(to) : NULL;
		int r = !d || mkdir_p(dirname(d), 0755) ||
			copy_file(src.v[i], to, str_has_prefix(dst.v[i], "bin/") ||
				  str_has_suffix(dst.v[i], "/init") ? 0755 : 0644);

		/* the sources' times: dmabench.ko built from them stays current */
		if (!r) {
			struct stat st;

			r = stat(src.v[i], &st);
			if (!r) {
				struct timespec ts[2] = { st.st_atim, st.st_mtim };

				r = utimensat(AT_FDCWD, to, ts, 0);
			}
		}
		if (r)
			pr_err("%s: %s", to ? to : dst.v[i], strerror(errno));
		free(to);
		free(d);
		if (r)
			goto fail;
	}
	if (rename(tmp, dir)) {
		pr_err("%s: %s", dir, strerror(errno));
		goto fail;
	}
done:
	if (lockfd >= 0)
		close(lockfd);
	argv_free(&src);
	argv_free(&dst);
	free(dir);
	free(tmp);
	free(lock);
	return name;
fail:
	if (lockfd >= 0)
		close(lockfd);
	argv_free(&src);
	argv_free(&dst);
	free(*parent);
	*parent = NULL;
	free(name);
	free(dir);
	free(tmp);
	free(lock);
	return NULL;
}

/*
 * The prologue of every remote script: the bundle's programs and data
 * first, the system's tools (insmod, ip ...) wherever they are.
 */
static char *remote_env(const struct remote *rm)
{
	return xasprintf("H=$(pwd); B=\"$H/%s\"; PATH=\"$B/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin:$PATH\"; "
			 "IOMMUBENCH_DATADIR=\"$B/share/iommubench\"; export PATH IOMMUBENCH_DATADIR; ",
			 rm->bundle);
}

static void say_lost(const struct remote *rm, const char *why)
{
	pr_err("%s: connection failed: %s", rm->t.url, why ? why : "ssh exited with 255");
}

/* Run @script after the prologue; the caller's descriptors. */
static int rrun(const struct remote *rm, const char *script,
		const struct spawn_opts *o, char **why)
{
	char *env = remote_env(rm);
	char *full = env ? xasprintf("%s%s", env, script) : NULL;
	int ret = full ? ssh_run(&rm->t, full, o, why) : -1;

	free(env);
	free(full);
	return ret;
}

static int rcapture(const struct remote *rm, const char *script, char **out,
		    char **why)
{
	char *env = remote_env(rm);
	char *full = env ? xasprintf("%s%s", env, script) : NULL;
	int ret = full ? ssh_capture(&rm->t, full, out, why) : -1;

	free(env);
	free(full);
	return ret;
}

/* The bundle's iommubench answers with our version there. */
static bool bundle_runs(const struct remote *rm, char **out, char **why)
{
	/* the bundle's own, not one the machine has in its PATH */
	int st = rcapture(rm, "\"$B/bin/iommubench\" --version 2>&1", out, why);

	return st == 0 && *out && strstr(*out, PACKAGE_VERSION);
}

int remote_open(const char *url, struct remote *rm)
{
	char *parent = NULL, *out = NULL, *why = NULL, *rbase = NULL;
	char *paths[] = { NULL, NULL };
	int ret = -1, st;

	memset(rm, 0, sizeof(*rm));
	if (ssh_parse(url, &rm->t))
		return -1;
	rm->base = strdup(REMOTE_BASE);
	paths[0] = bundle_build(&parent);
	if (!paths[0] || !rm->base)
		goto out;
	rm->bundle = xasprintf("%s/%s", rm->base, paths[0]);
	if (!bundle_runs(rm, &out, &why)) {
		if (why) {
			say_lost(rm, why);
			goto out;
		}
		pr_info("%s: installing the suite (%s) in ~/%s", rm->t.url,
			paths[0], rm->base);
		/* '~' is the login's home: ssh runs the script there */
		rbase = xasprintf("./%s", rm->base);
		if (ssh_put(&rm->t, parent, paths, rbase, &why)) {
			pr_err("%s: cannot install the suite: %s", rm->t.url, why);
			goto out;
		}
		free(out);
		out = NULL;
		if (!bundle_runs(rm, &out, &why)) {
			char *ldd = NULL;

			free(why);
			why = NULL;
			rcapture(rm, "ldd \"$B/bin/iommubench\" 2>&1 | grep 'not found'; uname -m",
				 &ldd, &why);
			pr_err("%s: the suite's programs do not run there (%s); ldd there: %s; a Debian 12 amd64 machine with the libraries scripts/setup installs runs them",
			       rm->t.url, out && *out ? strtrim(out) : "no output",
			       ldd && *ldd ? strtrim(ldd) : "nothing missing");
			free(ldd);
			goto out;
		}
	}
	free(out);
	out = NULL;
	st = rcapture(rm, "iommubench host-info", &out, &why);
	rm->identity = st == 0 ? json_tokener_parse(out) : NULL;
	if (!rm->identity) {
		if (why)
			say_lost(rm, why);
		else
			pr_err("%s: iommubench host-info failed (status %d)",
			       rm->t.url, st);
		goto out;
	}
	pr_info("%s is %s: %s, kernel %s", rm->t.url,
		json_get_string(rm->identity, "name"),
		json_get_string(rm->identity, "cpu_model") ?
		json_get_string(rm->identity, "cpu_model") : "unknown CPU",
		json_get_string(rm->identity, "kernel"));
	ret = 0;
out:
	if (ret)
		remote_close(rm);
	free(parent);
	free(paths[0]);
	free(out);
	free(why);
	free(rbase);
	return ret;
}

void remote_close(struct remote *rm)
{
	ssh_free(&rm->t);
	free(rm->base);
	free(rm->bundle);
	if (rm->identity)
		json_object_put(rm->identity);
	memset(rm, 0, sizeof(*rm));
}

/*
 * Built once per kernel release and bundle, in ~/<base>/modules/; the
 * script says which of its checks failed on its last line.
 */
static const char dmabench_script[] =
	"[ -d /sys/module/dmabench ] && exit 0\n"
	"R=$(uname -r); K=/lib/modules/$R/build\n"
	"[ -d \"$K\" ] || { echo \"no kernel headers for $R ($K): install linux-headers-$R\"; exit 3; }\n"
	"D=\"$H/%s/modules/$R-%s\"\n"
	"if [ ! -f \"$D/dmabench.ko\" ]; then\n"
	"  mkdir -p \"$D/include/iommubench\" &&\n"
	"  cp \"$IOMMUBENCH_DATADIR\"/bench/dmabench/* \"$D/\" &&\n"
	"  cp \"$IOMMUBENCH_DATADIR\"/include/iommubench/*.h \"$D/include/iommubench/\" || exit 4\n"
	"  make -C \"$K\" M=\"$D\" IB_INCLUDE=\"$D/include\" modules > \"$D/build.log\" 2>&1 ||\n"
	"    { tail -5 \"$D/build.log\"; echo \"building dmabench.ko against $K failed: $D/build.log\"; exit 4; }\n"
	"fi\n"
	"insmod \"$D/dmabench.ko\" 2>&1 || { echo \"insmod $D/dmabench.ko failed\"; exit 5; }\n";

int remote_prepare(struct remote *rm, bool fio, bool dmabench, char **why)
{
	char *out = NULL, *script;
	int st;

	*why = NULL;
	if (fio) {
		st = rcapture(rm, "fio --version", &out, why);
		if (*why) {
			free(out);
			return -1;
		}
		if (st) {
			free(out);
			*why = xasprintf("%s has no fio: install the Debian package fio there",
					 rm->t.url);
			return -1;
		}
		json_object_object_add(rm->identity, "fio",
				       json_object_new_string(strtrim(out)));
		free(out);
		out = NULL;
	}
	if (!dmabench)
		return 0;
	script = xasprintf(dmabench_script, rm->base,
			   strrchr(rm->bundle, '-') + 1);
	st = script ? rcapture(rm, script, &out, why) : -1;
	free(script);
	if (st && !*why) {
		char *line = out ? strrchr(strtrim(out), '\n') : NULL;

		*why = xasprintf("%s: dmabench.ko: %s", rm->t.url,
				 line ? line + 1 : out && *out ? out : "check failed");
	}
	free(out);
	return st ? -1 : 0;
}

int remote_agent(struct remote *rm, const char *rundir, const char *run_id,
		 const char *planrel, char *const cells[], bool force,
		 char **why)
{
	struct argv back = { 0 };
	char *rdir = xasprintf("./%s/runs/%s", rm->base, run_id);
	char *qdir = rdir ? sh_quote(rdir) : NULL, *qplan = sh_quote(planrel);
	char *paths[] = { (char *)planrel, NULL };
	char *script = NULL, *gwhy = NULL;
	int st, ret = -1;

	*why = NULL;
	if (!qdir || !qplan)
		goto out;
	if (ssh_put(&rm->t, rundir, paths, rdir, why) != 0) {
		char *w = *why;

		*why = xasprintf("cannot send the plan to %s: %s", rm->t.url,
				 w ? w : "ssh failed");
		free(w);
		goto out;
	}
	/*
	 * One agent at a time on a machine: one that a lost connection left
	 * running is waited for, not raced on the device.
	 */
	script = xasprintf("cd %s || exit 1; "
			   "if command -v flock >/dev/null; then exec 9>\"$H/%s/agent.lock\"; flock 9; fi; "
			   "rm -f cells/*.json; iommubench -q agent --plan %s --out .%s",
			   qdir, rm->base, qplan, force ? " --force" : "");
	st = script ? rrun(rm, script, NULL, why) : -1;
	if (st == SSH_EXIT_CONNECTION) {
		char *w = *why;

		*why = xasprintf("connection to %s lost while the agent ran: %s",
				 rm->t.url, w ? w : "ssh exited with 255");
		free(w);
	} else if (st && st != EXIT_ERROR) {
		*why = xasprintf("the agent on %s failed (status %d)",
				 rm->t.url, st);
	}
	/* what came back is kept, even after a failure */
	for (size_t i = 0; cells[i]; i++) {
		argv_pushf(&back, "cells/%s.json", cells[i]);
		argv_pushf(&back, "logs/%s.log", cells[i]);
	}
	st = back.n ? ssh_get(&rm->t, rdir, back.v, rundir, &gwhy) : 0;
	if (st) {
		if (!*why)
			*why = xasprintf(st == SSH_EXIT_CONNECTION ?
					 "connection to %s lost before the cells came back: %s" :
					 "the cells did not come back from %s: %s",
					 rm->t.url, gwhy);
		free(gwhy);
		goto out;
	}
	ret = *why ? -1 : 0;
out:
	argv_free(&back);
	free(rdir);
	free(qdir);
	free(qplan);
	free(script);
	return ret;
}

int remote_command(struct remote *rm, char *const args[])
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *cmd = argv_to_string(args), *script, *why = NULL;
	int st;

	o.in_fd = SPAWN_INHERIT;
	script = cmd ? xasprintf("iommubench %s", cmd) : NULL;
	st = script ? rrun(rm, script, &o, &why) : -1;
	if (st == SSH_EXIT_CONNECTION || st < 0) {
		say_lost(rm, why);
		st = EXIT_ERROR;
	}
	free(cmd);
	free(script);
	free(why);
	return st;
}

bool remote_forward(int argc, char **argv, int *status)
{
	struct argv rest = { 0 };
	const char *url = NULL;
	struct remote rm;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--target") && i + 1 < argc) {
			url = argv[++i];
			continue;
		}
		if (str_has_prefix(argv[i], "--target=")) {
			url = argv[i] + strlen("--target=");
			continue;
		}
	}
	if (!url)
		return false;
	if (!ssh_is_url(url)) {
		pr_err("--target: '%s' is not ssh://[USER@]HOST[:PORT]", url);
		*status = EXIT_USAGE;
		return true;
	}
	for (int i = 0; i < argc; i++) {
		bool sep = !strcmp(argv[i], "--");

		if (!sep && i > 0 && !strcmp(argv[i], "--target")) {
			i++;
			continue;
		}
		if (!sep && str_has_prefix(argv[i], "--target="))
			continue;
		argv_push(&rest, argv[i]);
		if (sep)
			for (i++; i < argc; i++)
				argv_push(&rest, argv[i]);
	}
	if (remote_open(url, &rm)) {
		*status = EXIT_ERROR;
	} else {
		*status = remote_command(&rm, rest.v);
		remote_close(&rm);
	}
	argv_free(&rest);
	return true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-tree modules of the suite, built per target kernel against the
 * kernel directory's build/ (Debian headers or a kernel build tree) and
 * cached in <kernel>/extra/<name>/ until a source changes.  They build
 * with the kernel's own compiler: on the host when it has it, else in a
 * chroot of the kernel's Debian suite (buildenv.h) that sees the kernel
 * directory read-only and can write only the module's directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildenv.h"
#include "extmod.h"
#include "commands.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

static const char *const dmabench_sources[] = {
	"bench/dmabench/dmabench.c",
	"bench/dmabench/Kbuild",
	"bench/dmabench/Makefile",
	"include/iommubench/dmabench.h",
	"include/iommubench/hist-bucket.h",
};

static bool newer(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) || stat(b, &sb) ||
	       sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
	       (sa.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
		sa.st_mtim.tv_nsec > sb.st_mtim.tv_nsec);
}

/* Create <dir> and <dir>/include/iommubench; -1 with errno on failure. */
static int make_module_dirs(const char *dir)
{
	char *inc;
	int ret;

	if (mkdir_p(dir, 0755))
		return -1;
	inc = xasprintf("%s/include/iommubench", dir);
	ret = !inc || mkdir_p(inc, 0755) ? -1 : 0;
	free(inc);
	return ret;
}

/* Whether any source is newer than @ko (or either is missing). */
static bool dmabench_stale(const char *ko)
{
	bool stale = false;

	for (size_t i = 0; i < ARRAY_SIZE(dmabench_sources); i++) {
		char *src = xasprintf("%s/%s", ib_datadir(), dmabench_sources[i]);

		stale |= !src || newer(src, ko);
		free(src);
	}
	return stale;
}

/*
 * A chroot sees only the kernel directory: build/ must resolve inside it.
 * Builds on the host (no root) see everything.
 */
static bool build_tree_visible(const struct kernel *k,
			       const struct buildenv *be)
{
	char *real;
	size_t n;
	bool inside;

	if (!be->root)
		return true;
	real = realpath(k->build, NULL);
	n = strlen(k->dir);
	inside = real && !strncmp(real, k->dir, n) && real[n] == '/';
	if (!inside)
		pr_err("%s resolves to %s, outside %s: the %s chroot sees only the kernel directory",
		       k->build, real ? real : strerror(errno), k->dir,
		       be->suite);
	free(real);
	return inside;
}

/* Copy the sources into @dir: headers keep their include/ path. */
static int copy_dmabench_sources(const char *dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(dmabench_sources); i++) {
		const char *rel = dmabench_sources[i];
		char *src = xasprintf("%s/%s", ib_datadir(), rel);
		char *dst = str_has_prefix(rel, "include/") ?
			    xasprintf("%s/%s", dir, rel) :
			    xasprintf("%s/%s", dir, strrchr(rel, '/') + 1);
		int r = !src || !dst || copy_file(src, dst, 0644);

		if (r)
			pr_err("%s: %s", src ? src : rel, strerror(errno));
		free(src);
		free(dst);
		if (r)
			return -1;
	}
	return 0;
}

/* Run kbuild for the module in @dir, output to @log; -1 if no @ko came. */
static int make_dmabench(const struct kernel *k, const struct buildenv *be,
			 const char *dir, const char *ko, const char *log)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	int logfd, ret;

	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		pr_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	argv_push(&a, "make");
	argv_push(&a, "-C");
	argv_push(&a, k->build);
	argv_pushf(&a, "M=%s", dir);
	argv_pushf(&a, "IB_INCLUDE=%s/include", dir);
	argv_push(&a, "modules");
	o.out_fd = logfd;
	o.err_fd = logfd;
	ret = buildenv_run(be, a.v, k->dir, dir, &o);
	close(logfd);
	argv_free(&a);
	if (ret || !path_exists(ko)) {
		char *text = read_file(log, NULL);

		pr_err("building dmabench.ko against %s failed (status %d); %s:\n%s",
		       k->build, ret, log, text ? text : "");
		free(text);
		return -1;
	}
	return 0;
}

char *extmod_dmabench(const struct kernel *k)
{
	char *dir = xasprintf("%s/extra/dmabench", k->dir);
	char *ko = xasprintf("%s/dmabench.ko", dir);
	char *lock = xasprintf("%s/extra/.dmabench.lock", k->dir);
	char *log = xasprintf("%s/build.log", dir);
	struct buildenv be = { .lockfd = -1 };
	int lockfd = -1;

	if (!dir || !ko || !lock || !log)
		goto fail;
	if (!k->build) {
		pr_err("kernel %s has no build/ directory (headers): cannot build dmabench.ko for it",
		       k->name);
		goto fail;
	}
	if (make_module_dirs(dir))
		goto fail_errno;
	lockfd = lock_path(lock);
	if (!dmabench_stale(ko)) {
		pr_debug("dmabench.ko for %s is current", k->release);
		goto done;
	}
	pr_info("building dmabench.ko for %s", k->release);
	if (buildenv_for_kernel(k, &be))
		goto fail;
	if (!build_tree_visible(k, &be))
		goto fail;
	if (copy_dmabench_sources(dir))
		goto fail;
	if (make_dmabench(k, &be, dir, ko, log))
		goto fail;
done:
	buildenv_close(&be);
	if (lockfd >= 0)
		close(lockfd);
	free(dir);
	free(lock);
	free(log);
	return ko;

fail_errno:
	pr_err("%s: %s", dir, strerror(errno));
fail:
	buildenv_close(&be);
	if (lockfd >= 0)
		close(lockfd);
	free(dir);
	free(ko);
	free(lock);
	free(log);
	return NULL;
}

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

char *extmod_dmabench(const struct kernel *k)
{
	char *dir = xasprintf("%s/extra/dmabench", k->dir);
	char *ko = xasprintf("%s/dmabench.ko", dir);
	char *lock = xasprintf("%s/extra/.dmabench.lock", k->dir);
	char *log = xasprintf("%s/build.log", dir);
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct buildenv be = { .lockfd = -1 };
	struct argv a = { 0 };
	bool stale = false;
	int lockfd = -1, logfd = -1, ret;

	if (!dir || !ko || !lock || !log)
		goto fail;
	if (!k->build) {
		pr_err("kernel %s has no build/ directory (headers): cannot build dmabench.ko for it",
		       k->name);
		goto fail;
	}
	if (mkdir_p(dir, 0755))
		goto fail_errno;
	{
		char *inc = xasprintf("%s/include/iommubench", dir);

		if (!inc || mkdir_p(inc, 0755)) {
			free(inc);
			goto fail_errno;
		}
		free(inc);
	}
	lockfd = lock_path(lock);
	for (size_t i = 0; i < ARRAY_SIZE(dmabench_sources); i++) {
		char *src = xasprintf("%s/%s", ib_datadir(), dmabench_sources[i]);

		stale |= !src || newer(src, ko);
		free(src);
	}
	if (!stale) {
		pr_debug("dmabench.ko for %s is current", k->release);
		goto done;
	}
	pr_info("building dmabench.ko for %s", k->release);
	if (buildenv_for_kernel(k, &be))
		goto fail;
	if (be.root) {
		char *real = realpath(k->build, NULL);
		size_t n = strlen(k->dir);
		bool inside = real && !strncmp(real, k->dir, n) &&
			      real[n] == '/';

		if (!inside)
			pr_err("%s resolves to %s, outside %s: the %s chroot sees only the kernel directory",
			       k->build, real ? real : strerror(errno), k->dir,
			       be.suite);
		free(real);
		if (!inside)
			goto fail;
	}
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
			goto fail;
	}
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0)
		goto fail_errno;
	argv_push(&a, "make");
	argv_push(&a, "-C");
	argv_push(&a, k->build);
	argv_pushf(&a, "M=%s", dir);
	argv_pushf(&a, "IB_INCLUDE=%s/include", dir);
	argv_push(&a, "modules");
	o.out_fd = logfd;
	o.err_fd = logfd;
	ret = buildenv_run(&be, a.v, k->dir, dir, &o);
	close(logfd);
	argv_free(&a);
	if (ret || !path_exists(ko)) {
		char *text = read_file(log, NULL);

		pr_err("building dmabench.ko against %s failed (status %d); %s:\n%s",
		       k->build, ret, log, text ? text : "");
		free(text);
		goto fail;
	}
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

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench kernel fetch|list|path|build: kernels from Debian's archive or
 * built from source (bench/kernel/ is the engine: kernel.c, kbuild.c).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "extmod.h"
#include "kbuild.h"
#include "kernel.h"
#include "log.h"
#include "opt.h"
#include "spawn.h"
#include "util.h"

static bool refresh;

static const struct opt fetch_opts[] = {
	OPT_BOOL(0, "refresh", &refresh,
		 "fetch again even when the kernel is cached (a newer version replaces it)"),
	OPT_END(),
};

static const struct opt no_opts[] = { OPT_END() };

static const char *const fetch_usage[] = {
	"iommubench kernel fetch [--refresh] debian:<series>|debian:<suite>...", NULL,
};
static const char *const list_usage[] = { "iommubench kernel list", NULL };
static const char *const path_usage[] = { "iommubench kernel path SPEC", NULL };
static const char *const modules_usage[] = {
	"iommubench kernel modules SPEC", NULL,
};

static const struct opt_cmd fetch_cmd = {
	.name = "iommubench kernel fetch",
	.usage = fetch_usage,
	.about = "Download Debian's kernel of a series (debian:6.1, debian:6.12, debian:7.2)\n"
		 "or the default kernel of a suite (debian:sid, debian:trixie), the newest\n"
		 "across the suite and its updates and security suites, with its headers.",
	.opts = fetch_opts,
	.min_args = 1,
	.max_args = OPT_ARGS_ANY,
	.args_name = "a kernel spec (debian:<series> or debian:<suite>)",
};
static const struct opt_cmd list_cmd = {
	.name = "iommubench kernel list",
	.usage = list_usage,
	.about = "The cached kernels: name, release, source, suite, version, directory.",
	.opts = no_opts,
};
static const struct opt_cmd path_cmd = {
	.name = "iommubench kernel path",
	.usage = path_usage,
	.about = "The directory of kernel SPEC (a debian: spec, a cached name or a directory),\n"
		 "fetched first if needed.",
	.opts = no_opts,
	.min_args = 1,
	.max_args = 1,
	.args_name = "SPEC",
};

static const struct opt_cmd modules_cmd = {
	.name = "iommubench kernel modules",
	.usage = modules_usage,
	.about = "Build the suite's out-of-tree modules (dmabench.ko) for kernel SPEC, with\n"
		 "the kernel's own compiler (in a chroot of its Debian suite when this\n"
		 "machine lacks it), and print their paths.  vm run does this on first use.",
	.opts = no_opts,
	.min_args = 1,
	.max_args = 1,
	.args_name = "SPEC",
};

static int kernel_fetch_main(int argc, char **argv)
{
	int i, ret = 0;

	refresh = false;
	i = opt_parse(&fetch_cmd, argc, argv);
	if (i < 0)
		return opt_exit(i);
	for (; i < argc; i++) {
		if (!kernel_fetch(argv[i], refresh))
			continue;
		if (errno == EINVAL)
			return opt_usage_error(&fetch_cmd, "cannot fetch '%s': only debian:<series> or debian:<suite> (e.g. debian:6.1, debian:7.2, debian:sid) is fetchable",
					       argv[i]);
		ret = EXIT_ERROR;
	}
	return ret;
}

static int kernel_list_main(int argc, char **argv)
{
	int i = opt_parse(&list_cmd, argc, argv);

	if (i < 0)
		return opt_exit(i);
	return kernel_list() ? EXIT_ERROR : 0;
}

static int kernel_path_main(int argc, char **argv)
{
	struct kernel k;
	int i = opt_parse(&path_cmd, argc, argv);

	if (i < 0)
		return opt_exit(i);
	if (kernel_resolve(argv[i], &k))
		return EXIT_ERROR;
	printf("%s\n", k.dir);
	kernel_free(&k);
	return 0;
}

static struct {
	struct kbuild_req req;
	struct argv configs;
} kb;

/* --name NAME: a directory of the cache, so a plain name. */
static int parse_name(const struct opt *o, const char *arg)
{
	if (!is_plain_name(arg)) {
		pr_err("--name %s: a plain name, please (no '/', not starting with '.')",
		       arg);
		return -1;
	}
	*(const char **)o->value = arg;
	return 0;
}

static const struct opt build_opts[] = {
	OPT_STRING('s', "source", &kb.req.source, "SRC",
		   "debian:<series> (Debian's linux-source package, e.g. debian:6.1) or a Linux source directory"),
	OPT_STRING(0, "rev", &kb.req.rev, "REV",
		   "build commit REV of the git tree SRC (in a private clone)"),
	OPT_STRING('p', "series", &kb.req.series, "FILE",
		   "apply this quilt series (e.g. kernel-patches/6.1/series)"),
	OPT_STRINGS('c', "config", &kb.configs, "FRAG",
		    "a config fragment merged onto tinyconfig, instead of kernel-patches/configs/qemu-bench.config"),
	OPT_CALLBACK('n', "name", &kb.req.name, "NAME",
		     "the kernel's name in the cache (default: from its key)", parse_name),
	OPT_UINT('j', "jobs", &kb.req.jobs, "N", "make -j N (default: one job per CPU)",
		 1, 4096),
	OPT_BOOL('f', "force", &kb.req.force,
		 "rebuild even when a kernel of the same key (source, commit, patches, final .config) is installed"),
	OPT_BOOL(0, "check", &kb.req.check,
		 "only check that the series applies to the source"),
	OPT_BOOL(0, "prepare-only", &kb.req.prepare_only,
		 "stop once the source tree and .config are ready; print the source tree"),
	OPT_END(),
};

static const char *const build_usage[] = {
	"iommubench kernel build --source debian:<series>|DIR [--rev REV]\n"
	"           [--series FILE] [--config FRAG]... [--name NAME] [--jobs N]\n"
	"           [--force] [--check | --prepare-only]",
	NULL,
};

static const struct opt_cmd build_cmd = {
	.name = "iommubench kernel build",
	.usage = build_usage,
	.about = "Build a kernel from source into a kernel directory of the cache, as fetched\n"
		 "ones are, and print that directory: usable as --kernel everywhere.  A kernel\n"
		 "whose key is installed already is not built again (docs/kernel-build.md).",
	.opts = build_opts,
};

static int kernel_build_main(int argc, char **argv)
{
	char *kdir = NULL;
	int i, ret;

	argv_free(&kb.configs);
	memset(&kb, 0, sizeof(kb));
	i = opt_parse(&build_cmd, argc, argv);
	if (i < 0) {
		ret = opt_exit(i);
	} else if (!kb.req.source) {
		ret = opt_usage_error(&build_cmd, "--source debian:<series>|DIR is missing");
	} else {
		kb.req.configs = (const char *const *)kb.configs.v;
		ret = kbuild_build(&kb.req, &kdir) ? EXIT_ERROR : 0;
		if (!ret && kdir)
			printf("%s\n", kdir);
		free(kdir);
	}
	argv_free(&kb.configs);
	return ret;
}

static int kernel_modules_main(int argc, char **argv)
{
	struct kernel k;
	char *ko;
	int i = opt_parse(&modules_cmd, argc, argv);

	if (i < 0)
		return opt_exit(i);
	if (kernel_resolve(argv[i], &k))
		return EXIT_ERROR;
	ko = extmod_dmabench(&k);
	kernel_free(&k);
	if (!ko)
		return EXIT_ERROR;
	printf("%s\n", ko);
	free(ko);
	return 0;
}

static const struct subcmd kernel_subs[] = {
	{ "fetch", kernel_fetch_main, "download Debian's kernel of a series or suite" },
	{ "build", kernel_build_main, "build a kernel from source, with a patch series" },
	{ "list", kernel_list_main, "the cached kernels" },
	{ "path", kernel_path_main, "the directory of a kernel" },
	{ "modules", kernel_modules_main, "build the out-of-tree modules for a kernel" },
};

static const char *const kernel_usage[] = {
	"iommubench kernel fetch|build|list|path|modules [options]", NULL,
};

static const struct opt_cmd kernel_cmd = {
	.name = "iommubench kernel",
	.usage = kernel_usage,
	.subs = kernel_subs,
	.nsubs = ARRAY_SIZE(kernel_subs),
	.footer = "'iommubench kernel SUBCOMMAND --help' lists its options.",
};

int cmd_kernel(int argc, char **argv)
{
	return subcmd_run(&kernel_cmd, argc, argv);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The guest userspace: a cpio initramfs holding busybox, fio, the suite's
 * own programs with the shared libraries they need, exactly the kernel
 * modules the configured devices need (closure from modules.dep, loaded in
 * dependency order), the init script and its configuration.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extmod.h"
#include "commands.h"
#include "log.h"
#include "spawn.h"
#include "util.h"
#include "vm.h"

#define GUEST_DATADIR	"/usr/share/iommubench"

/* Programs copied into /usr/bin when they exist; busybox is separate. */
static const char *const suite_programs[] = {
	"iommubench", "dmabench", "iommutrace",
};

static char *find_in_path(const char *name)
{
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char *dir, *save, *found = NULL;

	for (dir = path ? strtok_r(path, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, name);

		if (p && access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	free(path);
	if (!found) {
		for (const char *d = "/usr/sbin\0/sbin\0/usr/bin\0/bin\0"; *d;
		     d += strlen(d) + 1) {
			char *p = xasprintf("%s/%s", d, name);

			if (p && access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return found;
}

/* Copy @src to @stage/@dst, creating parent directories. */
static int stage_copy(const char *stage, const char *src, const char *dst,
		      unsigned int mode)
{
	char *to = xasprintf("%s%s%s", stage, dst[0] == '/' ? "" : "/", dst);
	char *dir = to ? strdup(to) : NULL;
	int ret = -1;

	if (!dir)
		goto out;
	if (mkdir_p(dirname(dir), 0755) || copy_file(src, to, mode)) {
		pr_err("copying %s into the guest image: %s", src,
		       strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(to);
	free(dir);
	return ret;
}

/* Copy an executable and every shared library ldd names for it. */
static int stage_program(const char *stage, const char *src, const char *dst)
{
	char *argv[] = { "ldd", (char *)src, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *out = NULL, *line, *save;
	int ret;

	if (stage_copy(stage, src, dst, 0755))
		return -1;
	o.err_fd = SPAWN_DEVNULL;
	ret = spawn_capture(argv, &o, &out);
	/* ldd fails on static binaries: nothing more to copy. */
	if (ret) {
		free(out);
		return 0;
	}
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *lib = strstr(line, "=> /");
		char path[PATH_MAX];

		lib = lib ? lib + 3 : strtrim(line);
		if (lib[0] != '/' || sscanf(lib, "%4095s", path) != 1)
			continue;
		if (stage_copy(stage, path, path, 0755)) {
			free(out);
			return -1;
		}
	}
	free(out);
	return 0;
}

static int stage_busybox(const char *stage)
{
	char *bb = find_in_path("busybox");
	char *argv[] = { bb, "--list-full", NULL };
	char *out = NULL, *line, *save;
	int ret = -1;

	if (!bb) {
		pr_err("busybox not found: install the Debian package busybox-static (scripts/setup does)");
		return -1;
	}
	if (stage_program(stage, bb, "/bin/busybox") ||
	    spawn_capture(argv, NULL, &out)) {
		pr_err("%s --list-full failed", bb);
		goto out;
	}
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *link = xasprintf("%s/%s", stage, strtrim(line));
		char *dir = link ? strdup(link) : NULL;

		if (dir && !mkdir_p(dirname(dir), 0755) && !path_exists(link))
			symlink("/bin/busybox", link);
		free(link);
		free(dir);
	}
	ret = 0;
out:
	free(bb);
	free(out);
	return ret;
}

/* --- kernel modules -------------------------------------------------- */

struct moddep {
	char *text;		/* modules.dep, modified in place */
	char **path;		/* per line: module path */
	char **deps;		/* per line: its dependencies, space-separated */
	size_t n;
	char *builtin;		/* modules.builtin */
	char *softdep;		/* modules.softdep */
	char *alias;		/* modules.alias */
};

/* Module name of a path: basename, no extension, '-' read as '_'. */
static void mod_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i + 1 < len && base[i] && base[i] != '.'; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[i] = '\0';
}

static int moddep_load(struct moddep *md, const char *moddir)
{
	char *path = xasprintf("%s/modules.dep", moddir);
	char *line, *save;

	memset(md, 0, sizeof(*md));
	md->text = path ? read_file(path, NULL) : NULL;
	if (!md->text) {
		pr_err("%s: %s (run depmod on the kernel directory)", path,
		       strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	path = xasprintf("%s/modules.builtin", moddir);
	md->builtin = path ? read_file(path, NULL) : NULL;
	free(path);
	path = xasprintf("%s/modules.softdep", moddir);
	md->softdep = path ? read_file(path, NULL) : NULL;
	free(path);
	path = xasprintf("%s/modules.alias", moddir);
	md->alias = path ? read_file(path, NULL) : NULL;
	free(path);
	for (line = strtok_r(md->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		md->path = realloc(md->path, (md->n + 1) * sizeof(char *));
		md->deps = realloc(md->deps, (md->n + 1) * sizeof(char *));
		if (!md->path || !md->deps)
			return -1;
		md->path[md->n] = line;
		md->deps[md->n] = strtrim(colon + 1);
		md->n++;
	}
	return 0;
}

static void moddep_free(struct moddep *md)
{
	free(md->text);
	free(md->builtin);
	free(md->softdep);
	free(md->alias);
	free(md->path);
	free(md->deps);
}

static ssize_t moddep_find(const struct moddep *md, const char *want)
{
	char name[128], w[128];

	mod_name(want, w, sizeof(w));
	for (size_t i = 0; i < md->n; i++) {
		mod_name(md->path[i], name, sizeof(name));
		if (!strcmp(name, w))
			return i;
	}
	return -1;
}

static bool mod_builtin(const struct moddep *md, const char *want)
{
	char w[128], name[128];
	const char *p = md->builtin;

	mod_name(want, w, sizeof(w));
	while (p && *p) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);

		mod_name(line, name, sizeof(name));
		free(line);
		if (!strcmp(name, w))
			return true;
		p += n + (p[n] == '\n');
	}
	return false;
}

static bool list_has(const struct argv *list, const char *path)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(list->v[i], path))
			return true;
	return false;
}

/*
 * Add to @out the words of the line in @text that starts with @prefix
 * (both space-separated), from word @skip on, up to a word ending in ':'
 * after the first.
 */
static void line_words(const char *text, const char *prefix, int skip,
		       struct argv *out)
{
	size_t plen = strlen(prefix);

	for (const char *p = text; p && *p;) {
		size_t n = strcspn(p, "\n");

		if (n > plen && !strncmp(p, prefix, plen) && p[plen] == ' ') {
			char *line = strndup(p, n), *tok, *save;
			int w = 0;

			for (tok = strtok_r(line, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save), w++) {
				if (w < skip)
					continue;
				if (w > skip && tok[strlen(tok) - 1] == ':')
					break;
				argv_push(out, tok);
			}
			free(line);
		}
		p += n + (p[n] == '\n');
	}
}

/*
 * The modules a module's "softdep ... pre:" names stand for: each name is
 * a module or an alias of one or more ("crypto-crc32c" is crc32c_intel
 * and crc32c_generic).
 */
static void softdep_modules(const struct moddep *md, const char *name,
			    struct argv *out)
{
	struct argv pre = { 0 };
	char *prefix = xasprintf("softdep %s", name);

	/* "softdep ext4 pre: crypto-crc32c": words from "pre:" on. */
	if (prefix && md->softdep)
		line_words(md->softdep, prefix, 2, &pre);
	if (pre.n && !strcmp(pre.v[0], "pre:")) {
		for (size_t i = 1; i < pre.n; i++) {
			char *a = xasprintf("alias %s", pre.v[i]);
			size_t before = out->n;

			if (a && md->alias)
				line_words(md->alias, a, 2, out);
			if (out->n == before)
				argv_push(out, pre.v[i]);
			free(a);
		}
	}
	argv_free(&pre);
	free(prefix);
}

/*
 * Append @want and what it needs to @order, dependencies first.  A
 * modules.dep line lists the whole closure with the deepest last, so the
 * list is walked backwards.  Soft dependencies ("pre:") come before the
 * module that names them and are @optional: an implementation the CPU
 * cannot run (crc32c_intel without SSE4.2) may fail to load as long as
 * another does.
 */
static int mod_resolve(const struct moddep *md, const char *want,
		       struct argv *order, struct argv *optional,
		       const char *release, int depth);

/* Add module @path to @order after its soft dependencies. */
static int mod_add(const struct moddep *md, const char *path,
		   struct argv *order, struct argv *optional,
		   const char *release, int depth)
{
	struct argv soft = { 0 };
	char name[128];
	int ret = 0;

	if (list_has(order, path))
		return 0;
	mod_name(path, name, sizeof(name));
	if (depth < 3)
		softdep_modules(md, name, &soft);
	for (size_t k = 0; k < soft.n && !ret; k++)
		ret = mod_resolve(md, soft.v[k], order, optional, release,
				  depth + 1);
	argv_free(&soft);
	if (!ret && !list_has(order, path)) {
		argv_push(order, path);
		if (depth)
			argv_push(optional, path);
	}
	return ret;
}

static int mod_resolve(const struct moddep *md, const char *want,
		       struct argv *order, struct argv *optional,
		       const char *release, int depth)
{
	ssize_t i = moddep_find(md, want);
	struct argv deps = { 0 };
	char *copy, *tok, *save;
	int ret = 0;

	if (i < 0) {
		if (mod_builtin(md, want)) {
			pr_debug("module %s is built into %s", want, release);
			return 0;
		}
		if (depth) {
			pr_debug("soft dependency %s is not in %s", want, release);
			return 0;
		}
		pr_err("kernel %s has no module %s", release, want);
		return -1;
	}
	copy = strdup(md->deps[i]);
	for (tok = strtok_r(copy, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		argv_push(&deps, tok);
	free(copy);
	for (size_t j = deps.n; j-- > 0 && !ret;)
		ret = mod_add(md, deps.v[j], order, optional, release, depth);
	argv_free(&deps);
	if (!ret)
		ret = mod_add(md, md->path[i], order, optional, release, depth);
	return ret;
}

/* Copy (decompressing) each module; write the load-order list. */
static int stage_modules(const char *stage, const struct kernel *k,
			 const struct argv *order, const struct argv *optional,
			 const struct argv *skip, const char *listname)
{
	struct strbuf list = STRBUF_INIT;
	char *dir = xasprintf("%s/lib/modules/%s", stage, k->release);
	char *listpath = xasprintf("%s/etc/iommubench/%s", stage, listname);
	int ret = -1;

	if (!dir || !listpath || mkdir_p(dir, 0755))
		goto out;
	for (size_t i = 0; i < order->n; i++) {
		const char *rel = order->v[i];
		const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
		char *src = xasprintf("%s/%s", k->moddir, rel);
		char *name = strdup(base), *ext = strstr(name, ".ko");
		char *dst;
		int r;

		if (skip && list_has(skip, rel)) {
			free(src);
			free(name);
			continue;
		}
		if (ext)
			ext[3] = '\0';
		dst = xasprintf("%s/%s", dir, name);
		if (str_has_suffix(rel, ".xz") || str_has_suffix(rel, ".zst") ||
		    str_has_suffix(rel, ".gz")) {
			char *tool = str_has_suffix(rel, ".xz") ? "xz" :
				     str_has_suffix(rel, ".zst") ? "zstd" : "gzip";
			char *argv[] = { tool, "-dc", src, NULL };

			r = spawn_to_file(argv, NULL, dst);
		} else {
			r = copy_file(src, dst, 0644);
		}
		if (r)
			pr_err("cannot stage module %s", src);
		else
			strbuf_addf(&list, "%s%s\n",
				    list_has(optional, rel) ? "?" : "", name);
		free(src);
		free(dst);
		free(name);
		if (r)
			goto out;
	}
	if (write_file_atomic(listpath, list.buf ? list.buf : "", list.len))
		goto out;
	ret = 0;
out:
	free(dir);
	free(listpath);
	strbuf_release(&list);
	return ret;
}

static int stage_dmabench(const char *stage, const struct kernel *k)
{
	char *ko = extmod_dmabench(k);
	char *dst = xasprintf("%s/lib/modules/%s/dmabench.ko", stage, k->release);
	char *list = xasprintf("%s/etc/iommubench/modules.devices", stage);
	char *text = list ? read_file(list, NULL) : NULL;
	char *more = text ? xasprintf("%sdmabench.ko\n", text) : NULL;
	int ret = -1;

	if (!ko || !dst || !more)
		goto out;
	if (copy_file(ko, dst, 0644) || write_file_atomic(list, more, strlen(more))) {
		pr_err("staging %s: %s", ko, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(ko);
	free(dst);
	free(list);
	free(text);
	free(more);
	return ret;
}

static int guest_modules(const struct vm_config *cfg, const char *stage)
{
	const char *iommu_mods[4] = { 0 }, *dev_mods[8] = { 0 };
	struct argv iommu_order = { 0 }, dev_order = { 0 }, optional = { 0 };
	const struct kernel *k = &cfg->kernel;
	struct moddep md;
	size_t ni = 0, nd = 0;
	int ret = -1;

	if (cfg->iommu == VM_IOMMU_VIRTIO) {
		iommu_mods[ni++] = "virtio_pci";
		iommu_mods[ni++] = "virtio_iommu";
	}
	if (cfg->disk == VM_DISK_NVME)
		dev_mods[nd++] = "nvme";
	if (cfg->disk == VM_DISK_VIRTIO) {
		dev_mods[nd++] = "virtio_pci";
		dev_mods[nd++] = "virtio_blk";
	}
	if (cfg->share) {
		dev_mods[nd++] = "virtio_pci";
		dev_mods[nd++] = "9pnet_virtio";
		dev_mods[nd++] = "9p";
	}
	if (cfg->ssh_port) {
		dev_mods[nd++] = "virtio_pci";
		dev_mods[nd++] = "virtio_net";
	}
	if (moddep_load(&md, k->moddir))
		return -1;
	for (size_t i = 0; i < ni; i++)
		if (mod_resolve(&md, iommu_mods[i], &iommu_order, &optional,
				k->release, 0))
			goto out;
	for (size_t i = 0; i < nd; i++)
		if (mod_resolve(&md, dev_mods[i], &dev_order, &optional,
				k->release, 0))
			goto out;
	for (size_t i = 0; cfg->modules && cfg->modules[i]; i++)
		if (mod_resolve(&md, cfg->modules[i], &dev_order, &optional,
				k->release, 0))
			goto out;
	if (stage_modules(stage, k, &iommu_order, &optional, NULL,
			  "modules.iommu") ||
	    stage_modules(stage, k, &dev_order, &optional, &iommu_order,
			  "modules.devices"))
		goto out;
	/* dmabench.ko binds only through driver_override: loading is harmless. */
	if ((cfg->testdev || cfg->edu) && stage_dmabench(stage, k))
		goto out;
	ret = 0;
out:
	argv_free(&iommu_order);
	argv_free(&dev_order);
	argv_free(&optional);
	moddep_free(&md);
	return ret;
}

/* --- packing ----------------------------------------------------------- */

static FILE *pack_list;
static size_t pack_prefix;

static int pack_one(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (strlen(path) > pack_prefix)
		fprintf(pack_list, ".%s\n", path + pack_prefix);
	return 0;
}

static int pack_cpio(const char *stage, const char *out)
{
	char *listpath = xasprintf("%s.list", out);
	char *argv[] = { "cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0",
			 NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	int in = -1, fd = -1, ret = -1;

	pack_list = listpath ? fopen(listpath, "w") : NULL;
	if (!pack_list)
		goto out;
	pack_prefix = strlen(stage);
	if (nftw(stage, pack_one, 32, FTW_PHYS) || fclose(pack_list)) {
		pack_list = NULL;
		goto out;
	}
	pack_list = NULL;
	in = open(listpath, O_RDONLY | O_CLOEXEC);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || fd < 0)
		goto out;
	o.cwd = stage;
	o.in_fd = in;
	o.out_fd = fd;
	ret = spawn_run(argv, &o) ? -1 : 0;
out:
	if (ret)
		pr_err("packing the guest image %s failed: %s", out,
		       strerror(errno));
	if (pack_list)
		fclose(pack_list);
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	if (listpath)
		unlink(listpath);
	free(listpath);
	return ret;
}

/*
 * The suite's data files (fio job templates, matrices), so host mode and
 * the agent find them in the guest: the init exports IOMMUBENCH_DATADIR.
 */
static int stage_datadir(const char *stage)
{
	static const char *const patterns[] = {
		"bench/fio/*.fio", "bench/matrices/*.ini",
	};
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(patterns) && !ret; i++) {
		char *pat = xasprintf("%s/%s", ib_datadir(), patterns[i]);
		glob_t g;

		if (pat && !glob(pat, 0, NULL, &g)) {
			for (size_t j = 0; j < g.gl_pathc && !ret; j++) {
				char *dst = xasprintf(GUEST_DATADIR "/%s",
						      g.gl_pathv[j] + strlen(ib_datadir()) + 1);

				ret = !dst || stage_copy(stage, g.gl_pathv[j], dst, 0644);
				free(dst);
			}
			globfree(&g);
		}
		free(pat);
	}
	return ret;
}

/*
 * An SSH server for root (vm run --ssh-port): dropbear, the accounts it
 * looks root up in, and the keys it lets in.  Its host key is made at
 * the first connection (dropbear -R).
 */
static int stage_ssh(const struct vm_config *cfg, const char *stage)
{
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
	static const char group[] = "root:x:0:\n";
	char *db = find_in_path("dropbear");
	char *keys = read_file(cfg->ssh_keys, NULL);
	char *p = NULL;
	int ret = -1;

	if (!db) {
		pr_err("dropbear not found: install the Debian package dropbear-bin (scripts/setup does), needed by --ssh-port");
		goto out;
	}
	if (!keys) {
		pr_err("%s: %s", cfg->ssh_keys, strerror(errno));
		goto out;
	}
	if (stage_program(stage, db, "/usr/sbin/dropbear"))
		goto out;
	p = xasprintf("%s/root/.ssh", stage);
	if (!p || mkdir_p(p, 0700))
		goto out;
	free(p);
	p = xasprintf("%s/root/.ssh/authorized_keys", stage);
	if (!p || write_file_atomic(p, keys, strlen(keys)))
		goto out;
	free(p);
	p = xasprintf("%s/etc/passwd", stage);
	if (!p || write_file_atomic(p, passwd, strlen(passwd)))
		goto out;
	free(p);
	p = xasprintf("%s/etc/group", stage);
	if (!p || write_file_atomic(p, group, strlen(group)))
		goto out;
	ret = 0;
out:
	if (ret && p)
		pr_err("%s: %s", p, strerror(errno));
	free(db);
	free(keys);
	free(p);
	return ret;
}

/*
 * COMMAND's words are joined with spaces and read by the guest's shell, as
 * ssh does: globs and variables expand in the guest, where the files are.
 */
static char *join_words(char *const words[])
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; words[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", words[i]);
	return strbuf_detach(&sb);
}

int guest_build(const struct vm_config *cfg, const char *path,
		const char *conf)
{
	char *stage = xasprintf("%s.d", path);
	char *init = xasprintf("%s/bench/target/init", ib_datadir());
	char *fio = find_in_path("fio");
	char *cmd = join_words(cfg->command);
	char *script = xasprintf("%s\n", cmd ? cmd : "false");
	char *p;
	int ret = -1;

	if (!stage || rm_rf(stage) || mkdir_p(stage, 0755))
		goto out;
	for (const char *d = "proc\0sys\0dev\0tmp\0root\0shared\0etc/iommubench\0";
	     *d; d += strlen(d) + 1) {
		p = xasprintf("%s/%s", stage, d);
		if (!p || mkdir_p(p, 0755)) {
			free(p);
			goto out;
		}
		free(p);
	}
	if (stage_busybox(stage) || stage_copy(stage, init, "/init", 0755))
		goto out;
	if (!fio) {
		pr_err("fio not found: install the Debian package fio (scripts/setup does)");
		goto out;
	}
	if (stage_program(stage, fio, "/usr/bin/fio"))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(suite_programs); i++) {
		char *src = xasprintf("%s/%s", ib_bindir(), suite_programs[i]);
		char *dst = xasprintf("/usr/bin/%s", suite_programs[i]);
		int r = 0;

		if (src && access(src, X_OK) == 0)
			r = stage_program(stage, src, dst);
		free(src);
		free(dst);
		if (r)
			goto out;
	}
	if (guest_modules(cfg, stage) || stage_datadir(stage) ||
	    (cfg->ssh_port && stage_ssh(cfg, stage)))
		goto out;
	p = xasprintf("%s/etc/iommubench/guest.conf", stage);
	ret = p ? write_file_atomic(p, conf, strlen(conf)) : -1;
	free(p);
	p = xasprintf("%s/etc/iommubench/cmd.sh", stage);
	ret |= p && script ? write_file_atomic(p, script, strlen(script)) : -1;
	free(p);
	if (ret || pack_cpio(stage, path))
		ret = -1;
out:
	if (stage)
		rm_rf(stage);
	free(stage);
	free(init);
	free(fio);
	free(cmd);
	free(script);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench kernel fetch|list: Debian's kernel packages as data.
 *
 * "debian:6.1" is the newest linux-image-amd64 of the machine's release,
 * "debian:6.12" the one from its backports; each is fetched with its
 * headers (for out-of-tree modules), unpacked and depmod'ed into
 * <cache>/kernels/debian-<series>/, then renamed into place so a reader
 * never sees half a kernel.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apt.h"
#include "commands.h"
#include "json.h"
#include "kbuild.h"
#include "kernel.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

static char *kernels_dir(void)
{
	return xasprintf("%s/kernels", cache_dir());
}

void kernel_free(struct kernel *k)
{
	free(k->name);
	free(k->dir);
	free(k->release);
	free(k->version);
	free(k->source);
	free(k->vmlinuz);
	free(k->config);
	free(k->moddir);
	free(k->build);
	memset(k, 0, sizeof(*k));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Load a kernel directory; it must hold kernel.json, vmlinuz and modules. */
static int kernel_load(const char *dir, struct kernel *k)
{
	char *meta = xasprintf("%s/kernel.json", dir);
	struct json_object *obj;
	int ret = -1;

	memset(k, 0, sizeof(*k));
	if (!path_exists(meta)) {
		pr_err("%s: not a kernel directory (no kernel.json)", dir);
		free(meta);
		return -1;
	}
	obj = json_read_file(meta);
	if (!obj)
		goto out;
	k->dir = realpath(dir, NULL);
	k->name = dup_or_null(json_get_string(obj, "name"));
	k->release = dup_or_null(json_get_string(obj, "release"));
	k->version = dup_or_null(json_get_string(obj, "version"));
	k->source = dup_or_null(json_get_string(obj, "source"));
	json_object_put(obj);
	if (!k->dir || !k->name || !k->release) {
		pr_err("%s: needs \"name\" and \"release\"", meta);
		goto out;
	}
	k->vmlinuz = xasprintf("%s/vmlinuz", k->dir);
	k->config = xasprintf("%s/config", k->dir);
	k->moddir = xasprintf("%s/lib/modules/%s", k->dir, k->release);
	k->build = xasprintf("%s/build", k->dir);
	if (!path_exists(k->vmlinuz) || !path_exists(k->config)) {
		pr_err("%s: kernel directory lacks vmlinuz or config", k->dir);
		goto out;
	}
	if (!path_is_dir(k->build)) {
		free(k->build);
		k->build = NULL;
	}
	ret = 0;
out:
	free(meta);
	if (ret)
		kernel_free(k);
	return ret;
}

int kernel_config(const struct kernel *k, const char *opt)
{
	char *text = read_file(k->config, NULL);
	char *key = xasprintf("\nCONFIG_%s=", opt);
	char *p;
	int val = 0;

	if (text && key && (p = strstr(text, key)))
		val = p[strlen(key)] == 'y' || p[strlen(key)] == 'm' ?
		      p[strlen(key)] : 0;
	free(text);
	free(key);
	return val;
}

/* Pick "linux-image-<release> (= <version>)" out of a Depends line. */
static int parse_image_dep(const char *depends, char **release, char **version)
{
	char name[256], ver[128];

	if (sscanf(depends, "linux-image-%255[^ ] (= %127[^)])", name, ver) != 2)
		return -1;
	*release = strdup(name);
	*version = strdup(ver);
	return 0;
}

/* Headers and kbuild packages named in a linux-headers-* Depends line. */
static int header_deps(const char *depends, struct argv *pkgs)
{
	char *copy = strdup(depends), *tok, *save;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char name[256], ver[128];
		int n;

		tok = strtrim(tok);
		if (!str_has_prefix(tok, "linux-headers-") &&
		    !str_has_prefix(tok, "linux-kbuild-"))
			continue;
		n = sscanf(tok, "%255[^ ] (= %127[^)])", name, ver);
		if (n == 2)
			argv_pushf(pkgs, "%s=%s", name, ver);
		else if (n >= 1)
			argv_push(pkgs, name);
	}
	free(copy);
	return 0;
}

struct debian_pick {
	char *release;
	char *version;
	char *suite;
};

static int pick_debian(const char *series, struct debian_pick *pick)
{
	char *prefix = xasprintf("%s.", series);
	char *show = apt_show("linux-image-amd64");
	const char *st;
	int ret = -1;

	if (!show || !prefix)
		goto out;
	for (st = show; st; st = apt_next_stanza(st)) {
		char *ver = apt_stanza_field(st, "Version");
		char *dep = apt_stanza_field(st, "Depends");
		bool match = ver && str_has_prefix(ver, prefix);

		if (match && dep && !parse_image_dep(dep, &pick->release,
						     &pick->version)) {
			pick->suite = strstr(ver, "bpo") ?
				xasprintf("%s-backports", apt_codename()) :
				strdup(apt_codename());
			ret = 0;
		}
		free(ver);
		free(dep);
		if (!ret)
			break;
	}
	if (ret)
		pr_err("no linux-image-amd64 %sx in %s or %s-backports", prefix,
		       apt_codename(), apt_codename());
out:
	free(prefix);
	free(show);
	return ret;
}

/* Point an absolute link into /usr at the copy under @root. */
static const char *relink_root;

static int relink_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	char target[PATH_MAX], *fixed;
	ssize_t n;

	(void)st;
	(void)ftw;
	if (flag != FTW_SL)
		return 0;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	if (!str_has_prefix(target, "/usr/"))
		return 0;
	fixed = xasprintf("%s%s", relink_root, target);
	if (!fixed || unlink(path) || symlink(fixed, path)) {
		free(fixed);
		return -1;
	}
	free(fixed);
	return 0;
}

/*
 * Debian's arch headers package has a one-line Makefile including the
 * common package's Makefile by absolute path; point it, and any absolute
 * link, at the extracted copy under @final/root.
 */
static int fix_headers(const char *stage, const char *final,
		       const char *release)
{
	char *hdr = xasprintf("%s/root/usr/src/linux-headers-%s", stage, release);
	char *mk = xasprintf("%s/Makefile", hdr);
	char *root = xasprintf("%s/root", final);
	char *text = read_file(mk, NULL);
	struct strbuf sb = STRBUF_INIT;
	int ret = -1;

	if (!text) {
		pr_err("%s: %s", mk, strerror(errno));
		goto out;
	}
	for (char *p = text, *q; *p; p = q) {
		q = strstr(p, "/usr/src/");
		if (!q) {
			strbuf_adds(&sb, p);
			break;
		}
		strbuf_addn(&sb, p, q - p);
		strbuf_addf(&sb, "%s/usr/src/", root);
		q += strlen("/usr/src/");
	}
	if (write_file_atomic(mk, sb.buf, sb.len))
		goto out;
	relink_root = root;
	if (nftw(hdr, relink_one, 16, FTW_PHYS))
		goto out;
	ret = 0;
out:
	free(hdr);
	free(mk);
	free(root);
	free(text);
	strbuf_release(&sb);
	return ret;
}


static int write_meta(const char *stage, const char *name,
		      const struct debian_pick *pick, char *const pkgs[])
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char *path = xasprintf("%s/kernel.json", stage);
	char when[32];
	time_t now = time(NULL);
	int ret;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "source", json_object_new_string("debian"));
	json_object_object_add(o, "release",
			       json_object_new_string(pick->release));
	json_object_object_add(o, "version",
			       json_object_new_string(pick->version));
	json_object_object_add(o, "suite", json_object_new_string(pick->suite));
	for (size_t i = 0; pkgs[i]; i++)
		json_object_array_add(arr, json_object_new_string(pkgs[i]));
	json_object_object_add(o, "packages", arr);
	json_object_object_add(o, "fetched", json_object_new_string(when));
	ret = json_write_file(path, o);
	json_object_put(o);
	free(path);
	return ret;
}

static int fetch_debian(const char *series, bool refresh)
{
	struct debian_pick pick = { 0 };
	struct argv pkgs = { 0 }, cmd = { 0 };
	char *kdir = kernels_dir(), *name = NULL, *final = NULL;
	char *stage = NULL, *debs = NULL, *hshow = NULL, *lock = NULL;
	struct kernel old;
	const char *st;
	int lockfd = -1, ret = -1;

	name = xasprintf("debian-%s", series);
	final = xasprintf("%s/%s", kdir, name);
	lock = xasprintf("%s/.%s.lock", kdir, name);
	if (mkdir_p(kdir, 0755)) {
		pr_err("%s: %s", kdir, strerror(errno));
		goto out;
	}
	lockfd = lock_path(lock);
	if (lockfd < 0) {
		pr_err("%s: %s", lock, strerror(errno));
		goto out;
	}
	if (!refresh && path_exists(final)) {
		pr_info("%s is cached in %s (--refresh looks for a newer one)",
			name, final);
		ret = 0;
		goto out;
	}
	if (apt_init(refresh) || pick_debian(series, &pick))
		goto out;
	if (path_exists(final) && !kernel_load(final, &old)) {
		bool same = old.version && !strcmp(old.version, pick.version);

		kernel_free(&old);
		if (same) {
			pr_info("%s is current (%s)", name, pick.version);
			ret = 0;
			goto out;
		}
	}
	pr_info("fetching %s: linux-image-%s %s from %s", name, pick.release,
		pick.version, pick.suite);

	argv_pushf(&pkgs, "linux-image-%s=%s", pick.release, pick.version);
	{
		char *hpkg = xasprintf("linux-headers-%s", pick.release);

		argv_pushf(&pkgs, "%s=%s", hpkg, pick.version);
		hshow = apt_show(hpkg);
		free(hpkg);
	}
	for (st = hshow; st; st = apt_next_stanza(st)) {
		char *ver = apt_stanza_field(st, "Version");
		char *dep = apt_stanza_field(st, "Depends");

		if (ver && dep && !strcmp(ver, pick.version))
			header_deps(dep, &pkgs);
		free(ver);
		free(dep);
	}
	if (pkgs.n < 3)
		pr_warn("headers for %s not found: out-of-tree modules cannot be built for it",
			pick.release);

	debs = xasprintf("%s/debs", cache_dir());
	stage = xasprintf("%s/.%s.tmp", kdir, name);
	if (mkdir_p(debs, 0755) || rm_rf(stage) || mkdir_p(stage, 0755)) {
		pr_err("%s: %s", stage, strerror(errno));
		goto out;
	}
	if (apt_download(debs, pkgs.v))
		goto out;
	for (size_t i = 0; i < pkgs.n; i++) {
		char *pkg = strdup(pkgs.v[i]), *eq = strchr(pkg, '=');
		char *pattern;
		glob_t g;

		if (eq)
			*eq = '\0';
		/* apt-get download escapes ':' in versions as %3a. */
		pattern = xasprintf("%s/%s_*.deb", debs, pkg);
		free(pkg);
		if (glob(pattern, 0, NULL, &g) || !g.gl_pathc) {
			pr_err("%s: downloaded package not found", pattern);
			free(pattern);
			goto out;
		}
		argv_free(&cmd);
		argv_push(&cmd, "dpkg-deb");
		argv_push(&cmd, "-x");
		/* Several versions may be cached: the last sorts newest. */
		argv_push(&cmd, g.gl_pathv[g.gl_pathc - 1]);
		argv_pushf(&cmd, "%s/root", stage);
		globfree(&g);
		free(pattern);
		if (spawn_check(cmd.v, NULL))
			goto out;
	}
	{
		char *from, *to;
		int err = 0;

		from = xasprintf("%s/root/boot/vmlinuz-%s", stage, pick.release);
		to = xasprintf("%s/vmlinuz", stage);
		err |= rename(from, to);
		free(from);
		free(to);
		from = xasprintf("%s/root/boot/config-%s", stage, pick.release);
		to = xasprintf("%s/config", stage);
		err |= rename(from, to);
		free(from);
		free(to);
		to = xasprintf("%s/lib/modules", stage);
		err |= mkdir_p(to, 0755);
		free(to);
		from = xasprintf("%s/root/lib/modules/%s", stage, pick.release);
		to = xasprintf("%s/lib/modules/%s", stage, pick.release);
		err |= rename(from, to);
		free(from);
		if (!err) {
			/* The headers package's absolute build/source links. */
			from = xasprintf("%s/build", to);
			unlink(from);
			err |= symlink("../../../build", from);
			free(from);
			from = xasprintf("%s/source", to);
			unlink(from);
			free(from);
		}
		free(to);
		if (err) {
			pr_err("%s: unexpected package layout: %s", stage,
			       strerror(errno));
			goto out;
		}
	}
	if (pkgs.n >= 3) {
		char *link = xasprintf("%s/build", stage);
		char *target = xasprintf("root/usr/src/linux-headers-%s",
					 pick.release);

		if (fix_headers(stage, final, pick.release) ||
		    symlink(target, link)) {
			pr_err("%s: cannot prepare headers: %s", stage,
			       strerror(errno));
			free(link);
			free(target);
			goto out;
		}
		free(link);
		free(target);
	}
	argv_free(&cmd);
	argv_push(&cmd, "depmod");
	argv_push(&cmd, "-b");
	argv_push(&cmd, stage);
	argv_push(&cmd, pick.release);
	if (spawn_check(cmd.v, NULL) || write_meta(stage, name, &pick, pkgs.v))
		goto out;
	if (rm_rf(final) || rename(stage, final)) {
		pr_err("%s: %s", final, strerror(errno));
		goto out;
	}
	pr_info("%s: %s (%s) in %s", name, pick.release, pick.version, final);
	ret = 0;
out:
	if (ret && stage)
		rm_rf(stage);
	if (lockfd >= 0)
		close(lockfd);
	argv_free(&pkgs);
	argv_free(&cmd);
	free(pick.release);
	free(pick.version);
	free(pick.suite);
	free(kdir);
	free(name);
	free(final);
	free(stage);
	free(debs);
	free(hshow);
	free(lock);
	return ret;
}

const char *kernel_debian_series(const char *spec)
{
	if (!str_has_prefix(spec, "debian:"))
		return NULL;
	spec += strlen("debian:");
	if (!*spec || strspn(spec, "0123456789.") != strlen(spec))
		return NULL;
	return spec;
}

int kernel_resolve(const char *spec, struct kernel *k)
{
	const char *series = kernel_debian_series(spec);
	char *dir;
	int ret;

	if (str_has_prefix(spec, "debian:") && !series) {
		pr_err("kernel '%s': expected debian:<series>, e.g. debian:6.1", spec);
		return -1;
	}
	if (strchr(spec, '/') && !series)
		return kernel_load(spec, k);
	if (series) {
		dir = xasprintf("%s/kernels/debian-%s", cache_dir(), series);
		if (!path_exists(dir) && fetch_debian(series, false)) {
			free(dir);
			return -1;
		}
	} else {
		dir = xasprintf("%s/kernels/%s", cache_dir(), spec);
		if (!path_exists(dir)) {
			pr_err("kernel '%s' is not cached: 'iommubench kernel list' shows what is; debian:<series> fetches",
			       spec);
			free(dir);
			return -1;
		}
	}
	ret = kernel_load(dir, k);
	free(dir);
	return ret;
}

static int kernel_list(void)
{
	char *kdir = kernels_dir();
	struct dirent **ents;
	int n, shown = 0;

	n = scandir(kdir, &ents, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT) {
			printf("no kernels cached in %s\n", kdir);
			free(kdir);
			return 0;
		}
		pr_err("%s: %s", kdir, strerror(errno));
		free(kdir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char *dir = xasprintf("%s/%s", kdir, ents[i]->d_name);
		char *meta = xasprintf("%s/kernel.json", dir);
		struct kernel k;

		if (ents[i]->d_name[0] != '.' && path_exists(meta) &&
		    !kernel_load(dir, &k)) {
			if (!shown++)
				printf("%-14s %-26s %-8s %-22s %s\n", "NAME",
				       "RELEASE", "SOURCE", "VERSION", "PATH");
			printf("%-14s %-26s %-8s %-22s %s\n", k.name,
			       k.release, k.source ? k.source : "-",
			       k.version ? k.version : "-", k.dir);
			kernel_free(&k);
		}
		free(meta);
		free(dir);
		free(ents[i]);
	}
	free(ents);
	if (!shown)
		printf("no kernels cached in %s\n", kdir);
	free(kdir);
	return 0;
}

static void kernel_usage(FILE *f)
{
	fprintf(f,
		"usage: iommubench kernel fetch [--refresh] debian:<series>...\n"
		"       iommubench kernel build --source debian:<series>|DIR [--series FILE]\n"
		"                                   [--config FRAG]... [--name NAME]\n"
		"       iommubench kernel list\n"
		"       iommubench kernel path SPEC\n");
}

int cmd_kernel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "refresh", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool refresh = false;
	int c, ret = 0;

	if (argc < 2) {
		kernel_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "build"))
		return cmd_kernel_build(argc - 1, argv + 1);
	optind = 2;
	while ((c = getopt_long(argc, argv, "+rh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			refresh = true;
			break;
		case 'h':
			kernel_usage(stdout);
			return 0;
		default:
			kernel_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!strcmp(argv[1], "list"))
		return kernel_list();
	if (!strcmp(argv[1], "path") && optind + 1 == argc) {
		struct kernel k;

		if (kernel_resolve(argv[optind], &k))
			return EXIT_ERROR;
		printf("%s\n", k.dir);
		kernel_free(&k);
		return 0;
	}
	if (strcmp(argv[1], "fetch") || optind == argc) {
		kernel_usage(stderr);
		return EXIT_USAGE;
	}
	for (; optind < argc; optind++) {
		const char *series = kernel_debian_series(argv[optind]);

		if (!series) {
			pr_err("cannot fetch '%s': only debian:<series> (e.g. debian:6.1, debian:6.12) is fetchable",
			       argv[optind]);
			return EXIT_USAGE;
		}
		if (fetch_debian(series, refresh))
			ret = EXIT_ERROR;
	}
	return ret;
}

/*
 * Boot protocol 2.08+: the compressed payload sits payload_offset bytes
 * into the protected-mode part, which starts after (setup_sects + 1)
 * sectors; the build appends the uncompressed size as 4 trailing bytes.
 */
static bool is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf;

	if (fd < 0)
		return false;
	elf = read(fd, magic, 4) == 4 && !memcmp(magic, "\x7f" "ELF", 4);
	close(fd);
	return elf;
}

static int extract_vmlinux(const char *vmlinuz, const char *out)
{
	static const struct {
		const char *magic;
		size_t len;
		char *tool;
	} fmts[] = {
		{ "\xfd" "7zXZ", 5, "xz" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd" },
		{ "\x1f\x8b", 2, "gzip" },
	};
	size_t len, pm, off, plen;
	char *img = read_file(vmlinuz, &len);
	char *payload = xasprintf("%s.payload", out);
	char *part = xasprintf("%s.part", out);
	unsigned char *h = (unsigned char *)img;
	char *argv[] = { NULL, "-dc", payload, NULL };
	int ret = -1;

	if (!img || !payload || !part || len < 0x250 ||
	    memcmp(img + 0x202, "HdrS", 4))
		goto out;
	pm = ((size_t)(h[0x1f1] ? h[0x1f1] : 4) + 1) * 512;
	off = h[0x248] | h[0x249] << 8 | h[0x24a] << 16 |
	      (size_t)h[0x24b] << 24;
	plen = h[0x24c] | h[0x24d] << 8 | h[0x24e] << 16 |
	       (size_t)h[0x24f] << 24;
	if (pm + off + plen > len || plen < 8)
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++)
		if (!memcmp(img + pm + off, fmts[i].magic, fmts[i].len))
			argv[0] = fmts[i].tool;
	if (!argv[0] || write_file_atomic(payload, img + pm + off, plen - 4))
		goto out;
	if (spawn_to_file(argv, NULL, part))
		goto out;
	if (is_elf(part) && !rename(part, out))
		ret = 0;
out:
	if (payload)
		unlink(payload);
	if (part)
		unlink(part);
	free(payload);
	free(part);
	free(img);
	return ret;
}

char *kernel_boot_image(const struct kernel *k)
{
	char *vmlinux = xasprintf("%s/vmlinux", k->dir);

	if (!vmlinux)
		return NULL;
	if (path_exists(vmlinux) || kernel_config(k, "PVH") != 'y')
		goto done;
	/* Only one process extracts; others wait and reuse it. */
	{
		char *lock = xasprintf("%s/.vmlinux.lock", k->dir);
		int fd = lock ? lock_path(lock) : -1;

		if (!path_exists(vmlinux) && extract_vmlinux(k->vmlinuz, vmlinux))
			pr_warn("%s: cannot extract an ELF vmlinux; booting vmlinuz (slower under TCG)",
				k->vmlinuz);
		if (fd >= 0)
			close(fd);
		free(lock);
	}
done:
	if (path_exists(vmlinux) && kernel_config(k, "PVH") == 'y')
		return vmlinux;
	free(vmlinux);
	return strdup(k->vmlinuz);
}

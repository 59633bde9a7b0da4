// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench kernel fetch|list: Debian's kernel packages as data.
 *
 * "debian:<series>" ("6.1", "7.2") is the newest generic amd64 kernel
 * image of that series in the machine's own release, else in any suite of
 * the private apt view (bench/apt.h); "debian:<suite>" ("sid", "trixie") is the image the suite's
 * linux-image-amd64 depends on, newest across the suite and its -updates
 * and -security suites.  The image -- one package with vmlinuz and modules,
 * or the split layout of newer kernels where linux-image-<release> only
 * depends on linux-binary-, linux-modules- and linux-base-<release> -- is
 * fetched with its headers (for out-of-tree modules), unpacked and
 * depmod'ed into <cache>/kernels/debian-<series|suite>/, then renamed into
 * place so a reader never sees half a kernel.
 */
#include "config.h"

#include <ctype.h>
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
#include <unistd.h>

#include "apt.h"
#include "buildenv.h"
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
	free(k->suite);
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
	k->suite = dup_or_null(json_get_string(obj, "suite"));
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

/* One dependency of a Depends line: "name (op version)". */
struct dep {
	char name[256];
	char op[3];		/* "=", ">=", ... or "" when unversioned */
	char version[128];
	bool alt;		/* one of alternatives ("a | b") */
};

/* Parse the dependency at *@p into @d and step past it; -1 at the end. */
static int next_dep(const char **p, struct dep *d)
{
	const char *s = *p;
	size_t len;
	char buf[512];

	s += strspn(s, " ,");
	if (!*s)
		return -1;
	len = strcspn(s, ",");
	*p = s + len;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	memset(d, 0, sizeof(*d));
	d->alt = strchr(buf, '|') != NULL;
	if (sscanf(buf, "%255s (%2[<>=] %127[^)])", d->name, d->op,
		   d->version) < 1)
		return next_dep(p, d);
	return 0;
}

static void argv_push_once(struct argv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return;
	argv_push(a, s);
}

struct debian_pick {
	char *release;		/* "7.2.13+deb14-amd64" */
	char *version;		/* "7.2.13-1" */
	char *suite;		/* the suite offering it: "sid" */
};

static void pick_free(struct debian_pick *pick)
{
	free(pick->release);
	free(pick->version);
	free(pick->suite);
	memset(pick, 0, sizeof(*pick));
}

/*
 * The Depends line of @pkg at @version, or NULL (an empty string when it
 * depends on nothing).
 */
static char *depends_of(const char *pkg, const char *version)
{
	char *spec = xasprintf("%s=%s", pkg, version);
	char *show = spec ? apt_show(spec) : NULL;
	char *deps = NULL;

	if (show) {
		deps = apt_stanza_field(show, "Depends");
		if (!deps)
			deps = strdup("");
	}
	free(spec);
	free(show);
	return deps;
}

/*
 * From @pkg at pick->version to the kernel image it stands for: a
 * metapackage (linux-image-amd64, linux-image-6.12-amd64) depends on
 * "linux-image-<release> (= <version>)"; the image itself does not.
 */
static int resolve_image(const char *pkg, struct debian_pick *pick)
{
	char *name = strdup(pkg);

	for (int depth = 0; name && depth < 4; depth++) {
		char *deps = depends_of(name, pick->version);
		const char *p = deps;
		char *next = NULL;
		struct dep d;

		if (!deps)
			break;
		while (!next && !next_dep(&p, &d))
			if (!d.alt && str_has_prefix(d.name, "linux-image-") &&
			    !strcmp(d.op, "=") &&
			    !strcmp(d.version, pick->version))
				next = strdup(d.name);
		free(deps);
		if (!next) {
			pick->release = strdup(name + strlen("linux-image-"));
			free(name);
			return pick->release ? 0 : -1;
		}
		free(name);
		name = next;
	}
	pr_err("%s %s: cannot tell which kernel image it stands for", pkg,
	       pick->version);
	free(name);
	return -1;
}

/*
 * Move the entries of @v that @keep accepts to its front, in order;
 * returns how many.  The others stay behind them, to be freed with all.
 */
static size_t keep_first(struct apt_pkgver *v, size_t n,
			 bool (*keep)(const struct apt_pkgver *, const char *),
			 const char *arg)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		struct apt_pkgver t;

		if (!keep(&v[i], arg))
			continue;
		t = v[kept];
		v[kept++] = v[i];
		v[i] = t;
	}
	return kept;
}

/* @suite is @release or one of its -updates, -security ... suites. */
static bool suite_of(const char *suite, const char *release)
{
	size_t n = strlen(release);

	return !strncmp(suite, release, n) && (!suite[n] || suite[n] == '-');
}

static bool from_own_release(const struct apt_pkgver *v, const char *unused)
{
	(void)unused;
	return suite_of(v->suite, apt_codename());
}

/* The suite itself or its -updates or -security suite, not -backports. */
static bool from_suite(const struct apt_pkgver *v, const char *suite)
{
	const char *rest;

	if (!suite_of(v->suite, suite))
		return false;
	rest = v->suite + strlen(suite);
	return !*rest || !strcmp(rest, "-updates") || !strcmp(rest, "-security");
}

/* Take the newest of @v (the first of equals) into @pick. */
static int pick_newest(const struct apt_pkgver *v, size_t n,
		       struct debian_pick *pick)
{
	const struct apt_pkgver *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (!best || apt_version_gt(v[i].version, best->version))
			best = &v[i];
	if (!best)
		return -1;
	pick->version = strdup(best->version);
	pick->suite = strdup(best->suite);
	if (!pick->version || !pick->suite)
		return -1;
	return resolve_image(best->pkg, pick);
}

/* @s starts with @series, followed by a version separator. */
static bool in_series(const char *s, const char *series)
{
	size_t n = strlen(series);

	return !strncmp(s, series, n) && s[n] && strchr(".-+~", s[n]);
}

static bool version_in_series(const struct apt_pkgver *v, const char *series)
{
	return in_series(v->version, series);
}

/*
 * Whether @pkg is a generic amd64 image of @series:
 * linux-image-<series>...-amd64 whose word before "-amd64" is a version or
 * ABI number, not a flavour (cloud, rt).  Debug and unsigned packages end
 * otherwise.
 */
static bool series_image(const char *pkg, const char *series)
{
	const char *rel = pkg + strlen("linux-image-"), *w;

	if (!str_has_prefix(pkg, "linux-image-") || !in_series(rel, series) ||
	    !str_has_suffix(rel, "-amd64"))
		return false;
	w = rel + strlen(rel) - strlen("-amd64");
	while (w > rel && w[-1] != '-')
		w--;
	return isdigit((unsigned char)*w);
}

/*
 * debian:<series>: the newest image of the series that the machine's own
 * release offers (its -updates, -security and -backports suites included),
 * else the newest in any suite of the view.  A kernel built for the
 * machine's release was built with the machine's compiler, and its
 * headers' kbuild tools run on its C library: out-of-tree modules
 * (dmabench.ko) build against them here.  A newer release's kernel needs
 * that release's compiler.
 */
static int pick_series(const char *series, struct debian_pick *pick)
{
	struct argv names = { 0 }, images = { 0 };
	struct apt_pkgver *v = NULL;
	char *prefix = xasprintf("linux-image-%s", series);
	size_t n = 0, kept = 0, own = 0;
	int ret = -1;

	if (!prefix || apt_pkgnames(prefix, &names))
		goto out;
	for (size_t i = 0; i < names.n; i++)
		if (series_image(names.v[i], series))
			argv_push(&images, names.v[i]);
	if (images.n && apt_madison(images.v, &v, &n))
		goto out;
	kept = keep_first(v, n, version_in_series, series);
	if (!kept) {
		pr_err("no Debian kernel of series %s in %s", series,
		       apt_suites());
		goto out;
	}
	/* The machine's own release first. */
	own = keep_first(v, kept, from_own_release, NULL);
	ret = pick_newest(v, own ? own : kept, pick);
out:
	apt_pkgvers_free(v, n);
	argv_free(&names);
	argv_free(&images);
	free(prefix);
	return ret;
}

/*
 * debian:<suite>: what the suite's linux-image-amd64 depends on, newest
 * across the suite and its -updates and -security suites.
 */
static int pick_suite(const char *suite, struct debian_pick *pick)
{
	char *pkgs[] = { "linux-image-amd64", NULL };
	struct apt_pkgver *v = NULL;
	char *name = NULL;
	size_t n = 0, kept = 0;
	int ret = -1;

	if (apt_add_suite(suite, &name))
		return -1;
	if (apt_madison(pkgs, &v, &n))
		goto out;
	kept = keep_first(v, n, from_suite, name);
	if (!kept) {
		pr_err("suite %s has no linux-image-amd64", name);
		goto out;
	}
	ret = pick_newest(v, kept, pick);
out:
	apt_pkgvers_free(v, n);
	free(name);
	return ret;
}

/* @what is a series ("6.1") or a suite ("sid"), as kernel_debian_spec(). */
static int pick_debian(const char *what, struct debian_pick *pick)
{
	int ret = isdigit((unsigned char)what[0]) ? pick_series(what, pick) :
						    pick_suite(what, pick);

	if (ret)
		pick_free(pick);
	return ret;
}

/*
 * The packages of the image: itself and what it depends on at exactly its
 * version that is named after its release -- nothing for the older
 * layout (one package with vmlinuz and modules), linux-binary-, -modules-
 * and -base-<release> for the split one.
 */
static int image_packages(const struct debian_pick *pick, struct argv *pkgs)
{
	char *img = xasprintf("linux-image-%s", pick->release);
	char *deps = img ? depends_of(img, pick->version) : NULL;
	const char *p = deps;
	struct dep d;

	if (!deps) {
		free(img);
		return -1;
	}
	argv_pushf(pkgs, "%s=%s", img, pick->version);
	while (!next_dep(&p, &d))
		if (!d.alt && !strcmp(d.op, "=") &&
		    !strcmp(d.version, pick->version) &&
		    strstr(d.name, pick->release))
			argv_pushf(pkgs, "%s=%s", d.name, d.version);
	free(deps);
	free(img);
	return 0;
}

/*
 * The headers for out-of-tree modules: linux-headers-<release> and the
 * linux-headers-* (common) and linux-kbuild-* packages it depends on, all
 * at the image's version (they come from the same source upload).
 * Returns how many were added: 0 when the view has no headers for it.
 */
static size_t header_packages(const struct debian_pick *pick,
			      struct argv *pkgs)
{
	char *hdr = xasprintf("linux-headers-%s", pick->release);
	char *one[] = { hdr, NULL };
	struct apt_pkgver *v = NULL;
	size_t n = 0, before = pkgs->n;
	char *deps = NULL;
	const char *p;
	bool found = false;
	struct dep d;

	if (!hdr || apt_madison(one, &v, &n))
		goto out;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(v[i].version, pick->version);
	if (!found || !(deps = depends_of(hdr, pick->version)))
		goto out;
	argv_pushf(pkgs, "%s=%s", hdr, pick->version);
	for (p = deps; !next_dep(&p, &d);) {
		char *spec;

		if (d.alt || (!str_has_prefix(d.name, "linux-headers-") &&
			      !str_has_prefix(d.name, "linux-kbuild-")))
			continue;
		spec = xasprintf("%s=%s", d.name, pick->version);
		if (spec)
			argv_push_once(pkgs, spec);
		free(spec);
	}
out:
	apt_pkgvers_free(v, n);
	free(deps);
	free(hdr);
	return pkgs->n - before;
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


static int write_meta(const char *stage, const char *name, const char *what,
		      const struct debian_pick *pick, char *const pkgs[])
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char *path = xasprintf("%s/kernel.json", stage);
	char *when = iso8601_now();
	char *spec = xasprintf("debian:%s", what);
	int ret;

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "source", json_object_new_string("debian"));
	json_object_object_add(o, "spec",
			       json_object_new_string(spec ? spec : what));
	json_object_object_add(o, "release",
			       json_object_new_string(pick->release));
	json_object_object_add(o, "version",
			       json_object_new_string(pick->version));
	json_object_object_add(o, "suite", json_object_new_string(pick->suite));
	for (size_t i = 0; pkgs[i]; i++)
		json_object_array_add(arr, json_object_new_string(pkgs[i]));
	json_object_object_add(o, "packages", arr);
	json_object_object_add(o, "fetched",
			       json_object_new_string(when ? when : ""));
	ret = json_write_file(path, o);
	json_object_put(o);
	free(path);
	free(when);
	free(spec);
	return ret;
}

/*
 * The downloaded .deb of "name=version": apt-get download names it
 * <name>_<version>_<arch>.deb with ':' written as %3a.
 */
static char *deb_path(const char *debs, const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct strbuf sb = STRBUF_INIT;
	char *path = NULL;
	glob_t g;

	if (!eq)
		return NULL;
	strbuf_addf(&sb, "%s/%.*s_", debs, (int)(eq - spec), spec);
	for (const char *c = eq + 1; *c; c++)
		if (*c == ':')
			strbuf_adds(&sb, "%3a");
		else
			strbuf_addch(&sb, *c);
	strbuf_adds(&sb, "_*.deb");
	if (sb.buf && !glob(sb.buf, 0, NULL, &g)) {
		if (g.gl_pathc == 1)
			path = strdup(g.gl_pathv[0]);
		globfree(&g);
	}
	if (!path)
		pr_err("%s: downloaded package not found", sb.buf ? sb.buf : spec);
	strbuf_release(&sb);
	return path;
}

/*
 * The first of @cands ("boot/vmlinuz-%s": relative to @stage/root, %s the
 * release) that exists, with @inside in it when given.  Caller frees.
 */
static char *find_staged(const char *stage, const char *release,
			 const char *const cands[], const char *inside)
{
	for (size_t i = 0; cands[i]; i++) {
		struct strbuf sb = STRBUF_INIT;
		char *probe;
		bool hit;

		strbuf_addf(&sb, "%s/root/", stage);
		for (const char *c = cands[i]; *c; c++)
			if (c[0] == '%' && c[1] == 's')
				strbuf_adds(&sb, release), c++;
			else
				strbuf_addch(&sb, *c);
		if (!sb.buf)
			return NULL;
		probe = inside ? xasprintf("%s/%s", sb.buf, inside) :
				 strdup(sb.buf);
		hit = probe && path_exists(probe);
		free(probe);
		if (hit)
			return strbuf_detach(&sb);
		strbuf_release(&sb);
	}
	return NULL;
}

/*
 * Move vmlinuz, config and the modules out of the unpacked packages into
 * the kernel directory's shape.  The older layout has /boot/vmlinuz-R,
 * /boot/config-R and /lib/modules/R; the split one keeps vmlinuz, config
 * and System.map in /usr/lib/modules/R beside the modules.
 */
static int place_kernel(const char *stage, const char *release)
{
	static const char *const vmlinuz[] = {
		"boot/vmlinuz-%s", "usr/lib/modules/%s/vmlinuz",
		"lib/modules/%s/vmlinuz", NULL,
	};
	static const char *const config[] = {
		"boot/config-%s", "usr/lib/modules/%s/config",
		"lib/modules/%s/config", NULL,
	};
	static const char *const moddir[] = {
		"lib/modules/%s", "usr/lib/modules/%s", NULL,
	};
	char *img = find_staged(stage, release, vmlinuz, NULL);
	char *cfg = find_staged(stage, release, config, NULL);
	char *mods = find_staged(stage, release, moddir, "modules.order");
	char *to = NULL, *link = NULL;
	int ret = -1;

	if (!img || !cfg || !mods) {
		pr_err("%s/root: unexpected package layout: no %s for %s",
		       stage, !img ? "vmlinuz" : !cfg ? "config" : "modules",
		       release);
		goto out;
	}
	to = xasprintf("%s/vmlinuz", stage);
	if (!to || rename(img, to))
		goto fail;
	free(to);
	to = xasprintf("%s/config", stage);
	if (!to || rename(cfg, to))
		goto fail;
	free(to);
	to = xasprintf("%s/lib/modules", stage);
	if (!to || mkdir_p(to, 0755))
		goto fail;
	free(to);
	to = xasprintf("%s/lib/modules/%s", stage, release);
	if (!to || rename(mods, to))
		goto fail;
	/* The headers package's build/source links point into /usr/src. */
	link = xasprintf("%s/build", to);
	if (!link)
		goto fail;
	unlink(link);
	if (symlink("../../../build", link))
		goto fail;
	free(link);
	link = xasprintf("%s/source", to);
	if (link)
		unlink(link);
	ret = 0;
	goto out;
fail:
	pr_err("%s: %s", to ? to : stage, strerror(errno));
out:
	free(img);
	free(cfg);
	free(mods);
	free(to);
	free(link);
	return ret;
}

/*
 * Out-of-tree modules are built with the compiler the kernel was built
 * with, which its config names (CONFIG_CC_VERSION_TEXT): say where when
 * this machine lacks it.
 */
static void check_compiler(const char *config, const char *name,
			   const char *suite)
{
	struct kcompiler c;

	if (kcompiler_read(config, &c))
		return;
	if (!c.on_host)
		pr_info("%s: %s; dmabench.ko is built for it in a %.*s chroot with %s, made on first use ('iommubench kernel modules debian:%s' makes it now)",
			name, c.why, (int)strcspn(suite, "-"), suite,
			c.package ? c.package : c.cc,
			name + strlen("debian-"));
	kcompiler_free(&c);
}

/*
 * Fetch "debian:@what" (a series or a suite) into <cache>/kernels/
 * debian-@what/.  A cached kernel is kept: without @refresh a newer one
 * is only reported; with it the lists are updated and a different version
 * replaces the cached one.
 */
/*
 * Whether the cached kernel @old (of @name, for debian:@what) stays as it
 * is: when it is @pick's version, or without @refresh (saying when @pick
 * is newer).
 */
static bool keep_cached(const char *name, const char *what,
			const struct kernel *old, const struct debian_pick *pick,
			bool refresh)
{
	if (old->version && !strcmp(old->version, pick->version)) {
		pr_info("%s is current: %s %s from %s", name, pick->release,
			pick->version, pick->suite);
		return true;
	}
	if (refresh)
		return false;
	if (!old->version || apt_version_gt(pick->version, old->version))
		pr_warn("%s is cached with %s (%s); %s (%s) from %s is newer: 'iommubench kernel fetch --refresh debian:%s' replaces it",
			name, old->version ? old->version : "?",
			old->suite ? old->suite : "?", pick->version,
			pick->release, pick->suite, what);
	else
		pr_info("%s is cached with %s; debian:%s now names %s from %s",
			name, old->version, what, pick->version, pick->suite);
	return true;
}

/* Point @stage/build at the headers, made to work from @final. */
static int link_headers(const char *stage, const char *final,
			const char *release)
{
	char *link = xasprintf("%s/build", stage);
	char *target = xasprintf("root/usr/src/linux-headers-%s", release);
	int ret = -1;

	if (link && target && !fix_headers(stage, final, release) &&
	    !symlink(target, link))
		ret = 0;
	else
		pr_err("%s: cannot prepare headers: %s", stage, strerror(errno));
	free(link);
	free(target);
	return ret;
}

/*
 * Download @pkgs (the first @pkgs->n - @nhdr the image, the rest headers),
 * unpack them into @stage and make it a kernel directory: vmlinuz,
 * config, depmod'ed modules, headers, kernel.json.
 */
static int assemble_kernel(const char *stage, const char *final,
			   const char *name, const char *what,
			   const struct debian_pick *pick,
			   const struct argv *pkgs, size_t nhdr)
{
	char *debs = xasprintf("%s/debs", cache_dir());
	struct argv cmd = { 0 };
	int ret = -1;

	if (!debs || mkdir_p(debs, 0755) || rm_rf(stage) ||
	    mkdir_p(stage, 0755)) {
		pr_err("%s: %s", stage, strerror(errno));
		goto out;
	}
	if (apt_download(debs, pkgs->v))
		goto out;
	for (size_t i = 0; i < pkgs->n; i++) {
		char *deb = deb_path(debs, pkgs->v[i]);

		if (!deb)
			goto out;
		argv_free(&cmd);
		argv_push(&cmd, "dpkg-deb");
		argv_push(&cmd, "-x");
		argv_push(&cmd, deb);
		argv_pushf(&cmd, "%s/root", stage);
		free(deb);
		if (spawn_check(cmd.v, NULL))
			goto out;
	}
	if (place_kernel(stage, pick->release) ||
	    (nhdr && link_headers(stage, final, pick->release)))
		goto out;
	argv_free(&cmd);
	argv_push(&cmd, "depmod");
	argv_push(&cmd, "-b");
	argv_push(&cmd, stage);
	argv_push(&cmd, pick->release);
	if (spawn_check(cmd.v, NULL) ||
	    write_meta(stage, name, what, pick, pkgs->v))
		goto out;
	ret = 0;
out:
	argv_free(&cmd);
	free(debs);
	return ret;
}

static int fetch_debian(const char *what, bool refresh)
{
	struct debian_pick pick = { 0 };
	struct argv pkgs = { 0 };
	char *kdir = kernels_dir(), *name = NULL, *final = NULL;
	char *stage = NULL, *lock = NULL;
	struct kernel old = { 0 };
	bool cached = false;
	size_t nhdr;
	int lockfd = -1, ret = -1;

	name = xasprintf("debian-%s", what);
	final = xasprintf("%s/%s", kdir, name);
	lock = xasprintf("%s/.%s.lock", kdir, name);
	stage = xasprintf("%s/.%s.tmp", kdir, name);
	if (!kdir || !name || !final || !lock || !stage || mkdir_p(kdir, 0755)) {
		pr_err("%s: %s", kdir ? kdir : "kernels", strerror(errno));
		goto out;
	}
	lockfd = lock_path(lock);
	if (lockfd < 0) {
		pr_err("%s: %s", lock, strerror(errno));
		goto out;
	}
	cached = path_exists(final) && !kernel_load(final, &old);
	if (apt_init(refresh) || pick_debian(what, &pick)) {
		if (cached && !refresh) {
			pr_warn("%s is cached in %s (%s); could not look for a newer one",
				name, final, old.version ? old.version : "?");
			ret = 0;
		}
		goto out;
	}
	if (cached && keep_cached(name, what, &old, &pick, refresh)) {
		ret = 0;
		goto out;
	}
	pr_info("fetching %s: linux-image-%s %s from %s", name, pick.release,
		pick.version, pick.suite);
	if (image_packages(&pick, &pkgs))
		goto out;
	nhdr = header_packages(&pick, &pkgs);
	if (!nhdr)
		pr_warn("headers for %s not found: out-of-tree modules cannot be built for it",
			pick.release);
	if (assemble_kernel(stage, final, name, what, &pick, &pkgs, nhdr))
		goto out;
	if (rm_rf(final) || rename(stage, final)) {
		pr_err("%s: %s", final, strerror(errno));
		goto out;
	}
	pr_info("%s: %s (%s from %s) in %s", name, pick.release, pick.version,
		pick.suite, final);
	if (nhdr) {
		char *config = xasprintf("%s/config", final);

		if (config)
			check_compiler(config, name, pick.suite);
		free(config);
	}
	ret = 0;
out:
	if (ret && stage)
		rm_rf(stage);
	if (lockfd >= 0)
		close(lockfd);
	if (cached)
		kernel_free(&old);
	argv_free(&pkgs);
	pick_free(&pick);
	free(kdir);
	free(name);
	free(final);
	free(stage);
	free(lock);
	return ret;
}

/* "6.1", "7": a kernel series. */
static bool is_series(const char *s)
{
	return isdigit((unsigned char)s[0]) &&
	       strspn(s, "0123456789.") == strlen(s);
}

/* "sid", "trixie-backports": a Debian suite name. */
static bool is_suite(const char *s)
{
	return islower((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

const char *kernel_debian_series(const char *spec)
{
	if (!str_has_prefix(spec, "debian:"))
		return NULL;
	spec += strlen("debian:");
	return is_series(spec) ? spec : NULL;
}

const char *kernel_debian_spec(const char *spec)
{
	if (!str_has_prefix(spec, "debian:"))
		return NULL;
	spec += strlen("debian:");
	return is_series(spec) || is_suite(spec) ? spec : NULL;
}

int kernel_resolve(const char *spec, struct kernel *k)
{
	const char *what = kernel_debian_spec(spec);
	char *dir;
	int ret;

	if (str_has_prefix(spec, "debian:") && !what) {
		pr_err("kernel '%s': expected debian:<series> or debian:<suite>, e.g. debian:6.1 or debian:sid",
		       spec);
		return -1;
	}
	if (strchr(spec, '/') && !what)
		return kernel_load(spec, k);
	if (what) {
		dir = xasprintf("%s/kernels/debian-%s", cache_dir(), what);
		if (!path_exists(dir) && fetch_debian(what, false)) {
			free(dir);
			return -1;
		}
	} else {
		dir = xasprintf("%s/kernels/%s", cache_dir(), spec);
		if (!path_exists(dir)) {
			pr_err("kernel '%s' is not cached: 'iommubench kernel list' shows what is; debian:<series> or debian:<suite> fetches",
			       spec);
			free(dir);
			return -1;
		}
	}
	ret = kernel_load(dir, k);
	free(dir);
	return ret;
}

#define LIST_COLS	6

/* The columns of @k's line in kernel list, or the header's for NULL. */
static void list_cols(const struct kernel *k, const char *col[LIST_COLS])
{
	static const char *const head[LIST_COLS] = {
		"NAME", "RELEASE", "SOURCE", "SUITE", "VERSION", "PATH",
	};

	for (size_t c = 0; c < LIST_COLS; c++)
		col[c] = head[c];
	if (!k)
		return;
	col[0] = k->name;
	col[1] = k->release;
	col[2] = k->source ? k->source : "-";
	col[3] = k->suite ? k->suite : "-";
	col[4] = k->version ? k->version : "-";
	col[5] = k->dir;
}

/* One line per cached kernel, columns as wide as their widest entry. */
int kernel_list(void)
{
	char *kdir = kernels_dir();
	struct dirent **ents;
	struct kernel *ks;
	const char *col[LIST_COLS];
	int w[LIST_COLS] = { 0 };
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
	ks = calloc(n ? n : 1, sizeof(*ks));
	for (int i = 0; i < n; i++) {
		char *dir = xasprintf("%s/%s", kdir, ents[i]->d_name);
		char *meta = xasprintf("%s/kernel.json", dir);

		if (ks && ents[i]->d_name[0] != '.' && path_exists(meta) &&
		    !kernel_load(dir, &ks[shown]))
			shown++;
		free(meta);
		free(dir);
		free(ents[i]);
	}
	free(ents);
	for (int i = -1; i < shown; i++) {
		list_cols(i < 0 ? NULL : &ks[i], col);
		for (size_t c = 0; c < LIST_COLS; c++)
			if ((int)strlen(col[c]) > w[c])
				w[c] = strlen(col[c]);
	}
	for (int i = -1; shown && i < shown; i++) {
		list_cols(i < 0 ? NULL : &ks[i], col);
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], col[0],
		       w[1], col[1], w[2], col[2], w[3], col[3], w[4], col[4],
		       col[5]);
	}
	for (int i = 0; i < shown; i++)
		kernel_free(&ks[i]);
	free(ks);
	if (!shown)
		printf("no kernels cached in %s\n", kdir);
	free(kdir);
	return 0;
}

int kernel_fetch(const char *spec, bool refresh)
{
	const char *what = kernel_debian_spec(spec);

	if (!what) {
		errno = EINVAL;
		return -1;
	}
	return fetch_debian(what, refresh);
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

/*
 * Whether QEMU can enter @k through PVH.  A kernel with KASAN cannot: it
 * faults before its console is up and QEMU exits (seen with 6.12 and 7.2
 * built with kernel-patches/configs/lockdep-kasan.config), while its
 * bzImage boots.
 */
static bool kernel_pvh_boots(const struct kernel *k)
{
	return kernel_config(k, "PVH") == 'y' && !kernel_config(k, "KASAN");
}

char *kernel_boot_image(const struct kernel *k)
{
	char *vmlinux = xasprintf("%s/vmlinux", k->dir);

	if (!vmlinux)
		return NULL;
	if (path_exists(vmlinux) || !kernel_pvh_boots(k))
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
	if (path_exists(vmlinux) && kernel_pvh_boots(k))
		return vmlinux;
	free(vmlinux);
	return strdup(k->vmlinuz);
}

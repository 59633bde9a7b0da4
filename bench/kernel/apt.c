// SPDX-License-Identifier: GPL-2.0
/*
 * The mirror comes from the machine's own apt configuration, asked of apt
 * itself (apt-get indextargets) so both one-line and deb822 sources work:
 * the URI it uses for "<codename> main" serves every Debian suite, the one
 * it uses for "<codename>-security" every security suite.  Which suites the
 * mirror has, and which releases its aliases oldstable and stable stand
 * for today, is read from the mirror (dists/<suite>/Release) whenever the
 * view is written, so no release codename is written into the code.  No
 * mirror host name is written anywhere but the private sources file in the
 * cache.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apt.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#define APT_LISTS_MAX_AGE	(24 * 3600)
#define APT_HELPER		"/usr/lib/apt/apt-helper"
#define APT_PROBE_TIMEOUT_MS	60000
/* Marks a sources file this code wrote; any other is rewritten. */
#define APT_VIEW_MARK		"# iommubench apt view 2\n"

static char apt_root[PATH_MAX];
static char codename[64];
static struct argv view;	/* the suites of the view, in order */
static char *view_text;		/* the same, comma-separated */
static bool ready, refreshed;

/* Where the machine's mirror is. */
struct mirror {
	char *uri;		/* the URI of "<codename> main" */
	char *sec_uri;		/* that of "<codename>-security main", or uri */
	struct argv own;	/* suites the machine's sources name */
};

static void apt_opts(struct argv *a)
{
	argv_pushf(a, "-o=Dir::Etc::SourceList=%s/sources.list", apt_root);
	argv_pushf(a, "-o=Dir::Etc::SourceParts=%s/sources.list.d", apt_root);
	argv_pushf(a, "-o=Dir::State::Lists=%s/lists", apt_root);
	argv_pushf(a, "-o=Dir::Cache=%s/cache", apt_root);
	/* Kept even where the system turns it off: apt-cache reads it in ms. */
	argv_push(a, "-o=Dir::Cache::pkgcache=pkgcache.bin");
	argv_push(a, "-o=Dir::State::status=/dev/null");
	argv_push(a, "-o=Debug::NoLocking=1");
	argv_push(a, "-o=APT::Sandbox::User=root");
	argv_push(a, "-o=Acquire::Languages=none");
	argv_push(a, "-qq");
}

static int read_codename(void)
{
	char *osr = read_file("/etc/os-release", NULL);
	char *p;

	if (!osr) {
		pr_err("/etc/os-release: %s", strerror(errno));
		return -1;
	}
	p = strstr(osr, "VERSION_CODENAME=");
	if (p) {
		p += strlen("VERSION_CODENAME=");
		snprintf(codename, sizeof(codename), "%.*s",
			 (int)strcspn(p, "\n\""), p);
	}
	free(osr);
	if (!codename[0]) {
		pr_err("/etc/os-release: no VERSION_CODENAME; is this Debian?");
		return -1;
	}
	return 0;
}

static bool argv_has(const struct argv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return true;
	return false;
}

static void mirror_free(struct mirror *m)
{
	free(m->uri);
	free(m->sec_uri);
	argv_free(&m->own);
	memset(m, 0, sizeof(*m));
}

/* Read the URIs the machine uses for its release and its security suite. */
static int mirror_read(struct mirror *m)
{
	char *argv[] = { "apt-get", "indextargets", "--format",
			 "$(REPO_URI) $(RELEASE) $(COMPONENT)",
			 "Identifier: Packages", NULL };
	char *out = NULL, *line, *save, *sec;
	int ret;

	ret = spawn_capture(argv, NULL, &out);
	if (ret) {
		pr_err("apt-get indextargets failed (exit %d); is apt configured?",
		       ret);
		free(out);
		return -1;
	}
	sec = xasprintf("%s-security", codename);
	for (line = strtok_r(out, "\n", &save); line && sec;
	     line = strtok_r(NULL, "\n", &save)) {
		char u[512], rel[128], comp[128];

		if (sscanf(line, "%511s %127s %127s", u, rel, comp) != 3 ||
		    strcmp(comp, "main"))
			continue;
		if (!argv_has(&m->own, rel))
			argv_push(&m->own, rel);
		if (!m->uri && !strcmp(rel, codename))
			m->uri = strdup(u);
		else if (!m->sec_uri && !strcmp(rel, sec))
			m->sec_uri = strdup(u);
	}
	free(out);
	free(sec);
	if (!m->uri) {
		pr_err("the machine's apt configuration has no '%s main' source: add Debian's archive to /etc/apt/sources.list.d/",
		       codename);
		mirror_free(m);
		return -1;
	}
	if (!m->sec_uri)
		m->sec_uri = strdup(m->uri);
	return m->sec_uri ? 0 : -1;
}

/*
 * The Release file the mirror has for @suite, or NULL when it has none.
 * apt-helper downloads it the way apt would (same proxy settings).
 */
static char *probe_release(const struct mirror *m, const char *suite)
{
	const char *uri = str_has_suffix(suite, "-security") ? m->sec_uri :
							       m->uri;
	char *url = xasprintf("%s%sdists/%s/Release", uri,
			      str_has_suffix(uri, "/") ? "" : "/", suite);
	char *dst = xasprintf("%s/probe.Release", apt_root);
	char *argv[] = { APT_HELPER, "-o=APT::Sandbox::User=root",
			 "download-file", url, dst, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *text = NULL;

	if (!url || !dst)
		goto out;
	o.out_fd = SPAWN_DEVNULL;
	o.err_fd = SPAWN_DEVNULL;
	o.timeout_ms = APT_PROBE_TIMEOUT_MS;
	o.quiet = true;
	unlink(dst);
	if (spawn_run(argv, &o) == 0)
		text = read_file(dst, NULL);
	unlink(dst);
	pr_debug("suite %s: %s on the mirror", suite, text ? "found" : "not");
out:
	free(url);
	free(dst);
	return text;
}

/* Add @suite to @v if the mirror has it; -1 if it has not. */
static int view_add_one(const struct mirror *m, struct argv *v,
			const char *suite)
{
	char *rel;

	if (argv_has(v, suite))
		return 0;
	if (!argv_has(&m->own, suite)) {
		rel = probe_release(m, suite);
		if (!rel)
			return -1;
		free(rel);
	}
	return argv_push(v, suite);
}

/*
 * Add @suite and, for a release (a name without '-'), the -updates,
 * -security and -backports suites the mirror has for it.
 */
static int view_add_family(const struct mirror *m, struct argv *v,
			   const char *suite)
{
	static const char *const companions[] = {
		"-updates", "-security", "-backports",
	};

	if (view_add_one(m, v, suite))
		return -1;
	if (strchr(suite, '-'))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(companions); i++) {
		char *s = xasprintf("%s%s", suite, companions[i]);

		if (s)
			view_add_one(m, v, s);
		free(s);
	}
	return 0;
}

/*
 * The default view: the machine's release, the releases the mirror's
 * oldstable and stable stand for, sid and experimental, and every suite
 * of the @old view (asked for by name once) that the mirror still has.
 */
static void view_default(const struct mirror *m, const struct argv *old,
			 struct argv *v)
{
	static const char *const aliases[] = { "oldstable", "stable" };

	view_add_family(m, v, codename);
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
		char *rel = probe_release(m, aliases[i]);
		char *cn = rel ? apt_stanza_field(rel, "Codename") : NULL;

		if (cn)
			view_add_family(m, v, cn);
		free(cn);
		free(rel);
	}
	view_add_one(m, v, "sid");
	view_add_one(m, v, "experimental");
	for (size_t i = 0; i < old->n; i++)
		view_add_one(m, v, old->v[i]);
}

static void view_set(struct argv *v)
{
	struct strbuf sb = STRBUF_INIT;

	argv_free(&view);
	view = *v;
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < view.n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", view.v[i]);
	free(view_text);
	view_text = strbuf_detach(&sb);
}

static char *sources_path(void)
{
	return xasprintf("%s/sources.list.d/iommubench.sources", apt_root);
}

/*
 * Read the view back from the sources file; false when this code did not
 * write it.
 */
static bool view_load(void)
{
	char *path = sources_path();
	char *text = path ? read_file(path, NULL) : NULL;
	struct argv v = { 0 };
	char *line, *save;

	free(path);
	if (!text || !strstr(text, APT_VIEW_MARK)) {
		free(text);
		return false;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tok, *save2;

		if (!str_has_prefix(line, "Suites:"))
			continue;
		for (tok = strtok_r(line + strlen("Suites:"), " \t", &save2);
		     tok; tok = strtok_r(NULL, " \t", &save2))
			if (!argv_has(&v, tok))
				argv_push(&v, tok);
	}
	free(text);
	view_set(&v);
	return view.n > 0;
}

/* Write the view as a deb822 source: one stanza per URI. */
static int view_write(const struct mirror *m)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = sources_path();
	int ret;

	strbuf_adds(&sb, "# Written by iommubench from this machine's apt configuration.\n"
			 APT_VIEW_MARK);
	for (int sec = 0; sec < 2; sec++) {
		bool any = false;

		for (size_t i = 0; i < view.n; i++) {
			if (str_has_suffix(view.v[i], "-security") != sec)
				continue;
			if (!any)
				strbuf_addf(&sb, "%sTypes: deb\nURIs: %s\nSuites:",
					    sec ? "\n" : "",
					    sec ? m->sec_uri : m->uri);
			strbuf_addf(&sb, " %s", view.v[i]);
			any = true;
		}
		if (any)
			strbuf_adds(&sb, "\nComponents: main\n");
	}
	ret = path && sb.buf ? write_file_atomic(path, sb.buf, sb.len) : -1;
	if (ret)
		pr_err("%s: %s", path ? path : apt_root, strerror(errno));
	free(path);
	strbuf_release(&sb);
	return ret;
}

static int lock_root(void)
{
	char *lock = xasprintf("%s/.lock", apt_root);
	int fd = lock ? lock_path(lock) : -1;

	if (fd < 0)
		pr_err("%s/.lock: %s", apt_root, strerror(errno));
	free(lock);
	return fd;
}

static bool lists_fresh(void)
{
	char *stamp = xasprintf("%s/updated", apt_root);
	struct stat st;
	bool fresh;

	fresh = stamp && stat(stamp, &st) == 0 &&
		time(NULL) - st.st_mtime < APT_LISTS_MAX_AGE;
	free(stamp);
	return fresh;
}

/* apt-get update for the view; the stamp says when it last succeeded. */
static int update_lists(void)
{
	struct argv a = { 0 };
	char *stamp;
	int ret;

	pr_info("updating package lists for %s", view_text);
	argv_push(&a, "apt-get");
	apt_opts(&a);
	argv_push(&a, "update");
	ret = spawn_run(a.v, NULL);
	argv_free(&a);
	if (ret) {
		pr_err("apt-get update failed (exit %d)", ret);
		return -1;
	}
	stamp = xasprintf("%s/updated", apt_root);
	if (stamp)
		write_file_atomic(stamp, "", 0);
	free(stamp);
	return 0;
}

int apt_init(bool refresh)
{
	struct mirror m = { 0 };
	struct argv v = { 0 };
	int lockfd, ret = -1;

	if (ready && (!refresh || refreshed))
		return 0;
	if (!codename[0] && read_codename())
		return -1;
	snprintf(apt_root, sizeof(apt_root), "%s/apt", cache_dir());
	for (const char *sub = "lists/partial\0cache/archives/partial\0"
			       "sources.list.d\0"; *sub; sub += strlen(sub) + 1) {
		char *d = xasprintf("%s/%s", apt_root, sub);

		if (!d || mkdir_p(d, 0755)) {
			pr_err("%s: %s", d ? d : apt_root, strerror(errno));
			free(d);
			return -1;
		}
		free(d);
	}
	/* Parallel fetches (make -j check) must not update the lists at once. */
	lockfd = lock_root();
	if (lockfd < 0)
		return -1;
	if (view_load() && !refresh && lists_fresh()) {
		ret = 0;
		goto out;
	}
	if (mirror_read(&m))
		goto out;
	view_default(&m, &view, &v);
	view_set(&v);
	if (view_write(&m) || update_lists())
		goto out;
	refreshed = refresh;
	ret = 0;
out:
	if (!ret)
		ready = true;
	close(lockfd);
	mirror_free(&m);
	return ret;
}

int apt_add_suite(const char *suite, char **name)
{
	struct mirror m = { 0 };
	struct argv v = { 0 };
	char *rel = NULL, *cn = NULL, *st = NULL;
	int lockfd, ret = -1;

	*name = NULL;
	if (apt_init(false))
		return -1;
	if (apt_has_suite(suite)) {
		*name = strdup(suite);
		return *name ? 0 : -1;
	}
	lockfd = lock_root();
	if (lockfd < 0)
		return -1;
	/* Another process may have added it meanwhile. */
	view_load();
	if (mirror_read(&m))
		goto out;
	rel = probe_release(&m, suite);
	if (!rel) {
		pr_err("suite '%s': the machine's Debian mirror has no such suite (the view has %s)",
		       suite, view_text);
		goto out;
	}
	/* An alias ("stable", "unstable") stands for a release. */
	cn = apt_stanza_field(rel, "Codename");
	st = apt_stanza_field(rel, "Suite");
	{
		const char *names[] = { suite, cn, st };

		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			if (!names[i] || !apt_has_suite(names[i]))
				continue;
			*name = strdup(names[i]);
			ret = *name ? 0 : -1;
			goto out;
		}
	}
	for (size_t i = 0; i < view.n; i++)
		argv_push(&v, view.v[i]);
	*name = strdup(cn && is_plain_name(cn) ? cn : suite);
	if (!*name || view_add_family(&m, &v, *name)) {
		pr_err("suite '%s' (%s) is not on the machine's Debian mirror",
		       suite, *name ? *name : "?");
		argv_free(&v);
		goto out;
	}
	view_set(&v);
	if (view_write(&m) || update_lists())
		goto out;
	ret = 0;
out:
	if (ret) {
		free(*name);
		*name = NULL;
	}
	close(lockfd);
	mirror_free(&m);
	free(rel);
	free(cn);
	free(st);
	return ret;
}

char *apt_mirror(void)
{
	struct mirror m = { 0 };
	char *uri;

	if (!codename[0] && read_codename())
		return NULL;
	if (mirror_read(&m))
		return NULL;
	uri = m.uri;
	m.uri = NULL;
	mirror_free(&m);
	return uri;
}

int apt_validity_opts(struct argv *out)
{
	static const char *const names[] = {
		"Acquire::Check-Valid-Until", "Acquire::Check-Date",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *argv[] = { "apt-config", "dump", "--no-empty",
				 "--format", "%v%n", (char *)names[i], NULL };
		char *v = spawn_capture_line(argv, NULL);

		if (v && *v && argv_pushf(out, "%s \"%s\"", names[i], v)) {
			free(v);
			return -1;
		}
		free(v);
	}
	return 0;
}

const char *apt_codename(void)
{
	return codename;
}

const char *apt_suites(void)
{
	return view_text ? view_text : "";
}

bool apt_has_suite(const char *suite)
{
	return argv_has(&view, suite);
}

/* Run apt-cache with the view's options and @args; its stdout in *@out. */
static int apt_cache(const char *what, char *const args[], char **out)
{
	struct argv a = { 0 };
	int ret;

	argv_push(&a, "apt-cache");
	apt_opts(&a);
	argv_push(&a, what);
	for (size_t i = 0; args[i]; i++)
		argv_push(&a, args[i]);
	ret = spawn_capture(a.v, NULL, out);
	argv_free(&a);
	if (ret) {
		pr_err("apt-cache %s failed (exit %d)", what, ret);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

char *apt_show(const char *pkg)
{
	char *args[] = { (char *)pkg, NULL };
	char *out = NULL;

	apt_cache("show", args, &out);
	return out;
}

const char *apt_next_stanza(const char *stanza)
{
	const char *p = strstr(stanza, "\n\n");

	if (!p)
		return NULL;
	while (*p == '\n')
		p++;
	return *p ? p : NULL;
}

char *apt_stanza_field(const char *stanza, const char *name)
{
	size_t len = strlen(name);
	const char *end = strstr(stanza, "\n\n");
	const char *p = stanza;

	while (p && *p && (!end || p < end)) {
		if (!strncmp(p, name, len) && p[len] == ':') {
			p += len + 1;
			while (*p == ' ')
				p++;
			return strndup(p, strcspn(p, "\n"));
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

void apt_pkgvers_free(struct apt_pkgver *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].pkg);
		free(v[i].version);
		free(v[i].suite);
	}
	free(v);
}

/*
 * Lines look like "pkg | version | URI suite/component arch Packages";
 * the suite is the name the view's sources file gives it.
 */
int apt_madison(char *const pkgs[], struct apt_pkgver **out, size_t *n)
{
	struct apt_pkgver *v = NULL;
	char *text = NULL, *line, *save;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!pkgs[0])
		return 0;
	if (apt_cache("madison", pkgs, &text))
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char pkg[256], ver[256], suite[128];

		if (sscanf(line, " %255[^ |] | %255[^ |] | %*s %127[^/ ]/",
			   pkg, ver, suite) != 3 ||
		    !str_has_suffix(line, " Packages"))
			continue;
		if (*n == cap) {
			struct apt_pkgver *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto fail;
			v = nv;
		}
		v[*n].pkg = strdup(pkg);
		v[*n].version = strdup(ver);
		v[*n].suite = strdup(suite);
		if (!v[(*n)++].suite || !v[*n - 1].version || !v[*n - 1].pkg)
			goto fail;
	}
	free(text);
	*out = v;
	return 0;
fail:
	pr_err("apt-cache madison: %s", strerror(ENOMEM));
	apt_pkgvers_free(v, *n);
	*n = 0;
	free(text);
	return -1;
}

int apt_pkgnames(const char *prefix, struct argv *out)
{
	char *args[] = { (char *)prefix, NULL };
	char *text = NULL, *line, *save;

	if (apt_cache("pkgnames", args, &text))
		return -1;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (argv_push(out, line)) {
			free(text);
			return -1;
		}
	free(text);
	return 0;
}

bool apt_version_gt(const char *a, const char *b)
{
	char *argv[] = { "dpkg", "--compare-versions", (char *)a, "gt",
			 (char *)b, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;

	o.quiet = true;
	return spawn_run(argv, &o) == 0;
}

int apt_download(const char *dir, char *const pkgs[])
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	int ret;

	argv_push(&a, "apt-get");
	apt_opts(&a);
	argv_push(&a, "download");
	for (size_t i = 0; pkgs[i]; i++)
		argv_push(&a, pkgs[i]);
	o.cwd = dir;
	ret = spawn_run(a.v, &o);
	argv_free(&a);
	if (ret) {
		pr_err("apt-get download failed (exit %d)", ret);
		return -1;
	}
	return 0;
}

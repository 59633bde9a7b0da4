// SPDX-License-Identifier: GPL-2.0
/*
 * The mirror comes from the machine's own apt configuration, asked of apt
 * itself (apt-get indextargets) so both one-line and deb822 sources work.
 * No mirror host name is written anywhere but the private sources file in
 * the cache.
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

static char apt_root[PATH_MAX];
static char codename[64];

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

/*
 * Find the URI the machine uses for "<codename> main" and write a private
 * deb822 source with the release and its backports.
 */
static int write_sources(void)
{
	char *argv[] = { "apt-get", "indextargets", "--format",
			 "$(REPO_URI) $(RELEASE) $(COMPONENT)",
			 "Identifier: Packages", NULL };
	char *out = NULL, *line, *save, *uri = NULL, *path, *text;
	int ret;

	ret = spawn_capture(argv, NULL, &out);
	if (ret) {
		pr_err("apt-get indextargets failed (exit %d); is apt configured?",
		       ret);
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char u[512], rel[128], comp[128];

		if (sscanf(line, "%511s %127s %127s", u, rel, comp) != 3)
			continue;
		if (!strcmp(rel, codename) && !strcmp(comp, "main")) {
			uri = strdup(u);
			break;
		}
	}
	free(out);
	if (!uri) {
		pr_err("the machine's apt configuration has no '%s main' source: add Debian's archive to /etc/apt/sources.list.d/",
		       codename);
		return -1;
	}
	text = xasprintf("# Written by iommubench from this machine's apt configuration.\n"
			 "Types: deb\nURIs: %s\nSuites: %s %s-backports\n"
			 "Components: main\n", uri, codename, codename);
	path = xasprintf("%s/sources.list.d/iommubench.sources", apt_root);
	ret = text && path ? write_file_atomic(path, text, strlen(text)) : -1;
	if (ret)
		pr_err("%s: %s", path ? path : apt_root, strerror(errno));
	free(text);
	free(path);
	free(uri);
	return ret;
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

int apt_init(bool refresh)
{
	struct argv a = { 0 };
	char *stamp, *lock;
	int lockfd, ret;

	if (apt_root[0] && !refresh)
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
	lock = xasprintf("%s/.lock", apt_root);
	lockfd = lock ? lock_path(lock) : -1;
	free(lock);
	if (lockfd < 0) {
		pr_err("%s/.lock: %s", apt_root, strerror(errno));
		return -1;
	}
	ret = 0;
	if (!refresh && lists_fresh())
		goto out;
	ret = -1;
	if (write_sources())
		goto out;
	pr_info("updating package lists for %s and %s-backports", codename,
		codename);
	argv_push(&a, "apt-get");
	apt_opts(&a);
	argv_push(&a, "update");
	ret = spawn_run(a.v, NULL);
	argv_free(&a);
	if (ret) {
		pr_err("apt-get update failed (exit %d)", ret);
		ret = -1;
		goto out;
	}
	stamp = xasprintf("%s/updated", apt_root);
	if (stamp)
		write_file_atomic(stamp, "", 0);
	free(stamp);
out:
	close(lockfd);
	return ret;
}

const char *apt_codename(void)
{
	return codename;
}

char *apt_show(const char *pkg)
{
	struct argv a = { 0 };
	char *out = NULL;
	int ret;

	argv_push(&a, "apt-cache");
	apt_opts(&a);
	argv_push(&a, "show");
	argv_push(&a, pkg);
	ret = spawn_capture(a.v, NULL, &out);
	argv_free(&a);
	if (ret) {
		pr_err("apt-cache show %s failed (exit %d)", pkg, ret);
		free(out);
		return NULL;
	}
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

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench kernel build: kernels from source, in the same directory shape
 * as fetched ones (kernel.h).
 *
 * Layout under the cache:
 *
 *   src/linux-source-<series>/   Debian's linux-source tarball, extracted
 *                                once, never modified
 *   kbuild/<slot>/src/           the tree make runs in: a copy of the
 *                                pristine source with the series applied,
 *                                or a clone of a git tree at the revision
 *   kbuild/<slot>/obj/           the object tree (make O=), kept between
 *                                builds so a change rebuilds little
 *   kbuild/<slot>/applied/       the patches applied to src/, in order,
 *                                and state: the record src/ is checked
 *                                against (prepare_work())
 *   kernels/<name>/              the installed kernel
 *
 * One slot per source ("debian-6.1", "dir-<hash>", "git-<hash>" for
 * revisions of a git tree, checked out in a private clone): switching series
 * reverse-applies the old patches with patch(1), which gives every touched
 * file a fresh mtime, so make rebuilds exactly what changed.  A kernel is
 * keyed by (source version, patch contents, final .config); a key that is
 * already installed is not rebuilt.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt.h"
#include "json.h"
#include "kbuild.h"
#include "kernel.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#define KBUILD_SCHEME	"1"	/* bump when the install layout changes */
#define DEFAULT_CONFIG	"kernel-patches/configs/qemu-bench.config"

struct kb {
	const struct kbuild_req *req;
	char *slot;		/* <cache>/kbuild/<slot> */
	char *pristine;		/* unmodified source, NULL: build in place */
	char *work;		/* tree make runs in */
	char *obj;
	char *src_id;		/* what the source is, for the key */
	char *version;		/* package version or kernelversion */
	char *commit;		/* git HEAD of a directory source */
	bool cacheable;		/* the source id pins the source down */
	char *series;		/* absolute path of the series file */
	struct argv patches;	/* absolute paths, in order */
	char *series_hash;
	struct argv configs;	/* absolute fragment paths */
	char *config_hash;
	char *key;
	char *release;
};

static void kb_free(struct kb *kb)
{
	free(kb->slot);
	free(kb->pristine);
	free(kb->work);
	free(kb->obj);
	free(kb->src_id);
	free(kb->version);
	free(kb->commit);
	free(kb->series);
	argv_free(&kb->patches);
	free(kb->series_hash);
	argv_free(&kb->configs);
	free(kb->config_hash);
	free(kb->key);
	free(kb->release);
}


/* Run @argv with stdout and stderr appended to @log. */
static int run_logged(char *const argv[], const char *cwd, const char *log)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	int fd, ret;

	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		pr_err("%s: %s", log, strerror(errno));
		return -1;
	}
	o.cwd = cwd;
	o.out_fd = fd;
	o.err_fd = fd;
	ret = spawn_run(argv, &o);
	close(fd);
	if (ret) {
		char *cmd = argv_to_string(argv);
		char *tail[] = { "tail", "-n", "25", (char *)log, NULL };

		pr_err("'%s' failed (%s %d); the end of %s:", cmd,
		       ret < 0 ? "error" : "exit", ret < 0 ? errno : ret, log);
		spawn_run(tail, NULL);
		free(cmd);
		return -1;
	}
	return 0;
}


/* sha256 (hex) of the concatenation of @files, or of @text when @files is NULL. */
static char *sha256_of(char *const files[], const char *text)
{
	struct argv a = { 0 };
	char *out = NULL, *tmp = NULL;

	if (!files) {
		tmp = xasprintf("%s/.kbuild-hash.%d", cache_dir(), (int)getpid());
		if (!tmp || write_file_atomic(tmp, text, strlen(text))) {
			free(tmp);
			return NULL;
		}
	}
	argv_push(&a, "sh");
	argv_push(&a, "-c");
	argv_push(&a, "cat -- \"$@\" | sha256sum");
	argv_push(&a, "sh");
	if (tmp)
		argv_push(&a, tmp);
	for (size_t i = 0; files && files[i]; i++)
		argv_push(&a, files[i]);
	out = spawn_capture_line(a.v, NULL);
	argv_free(&a);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (out)
		out[strcspn(out, " ")] = '\0';
	if (out && strlen(out) != 64) {
		free(out);
		out = NULL;
	}
	return out;
}

static bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, name);

		found = p && access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

/* --- sources -------------------------------------------------------- */

/*
 * Download linux-source-<series> (the newest version any suite of the
 * private apt view offers, bench/apt.h) and extract its tarball into @dir.
 */
static int fetch_linux_source(const char *series, const char *dir)
{
	char *pkg = xasprintf("linux-source-%s", series);
	char *show = NULL, *best = NULL, *debs = NULL, *stage = NULL;
	char *pattern = NULL, *spec = NULL, *stamp = NULL;
	const char *st;
	int ret = -1;

	if (apt_init(false))
		goto out;
	show = apt_show(pkg);
	for (st = show; st; st = apt_next_stanza(st)) {
		char *ver = apt_stanza_field(st, "Version");

		if (ver && (!best || apt_version_gt(ver, best))) {
			free(best);
			best = ver;
		} else {
			free(ver);
		}
	}
	if (!best) {
		pr_err("%s: not found in %s", pkg, apt_suites());
		goto out;
	}
	pr_info("fetching %s %s", pkg, best);
	debs = xasprintf("%s/debs", cache_dir());
	spec = xasprintf("%s=%s", pkg, best);
	if (mkdir_p(debs, 0755))
		goto out;
	{
		char *pkgs[] = { spec, NULL };

		if (apt_download(debs, pkgs))
			goto out;
	}
	/* apt-get download writes ':' in versions as %3a; tilde stays. */
	pattern = xasprintf("%s/%s_*.deb", debs, pkg);
	stage = xasprintf("%s.tmp", dir);
	if (rm_rf(stage) || mkdir_p(stage, 0755)) {
		pr_err("%s: %s", stage, strerror(errno));
		goto out;
	}
	{
		/* The newest cached .deb sorts last. */
		char *argv[] = { "sh", "-c",
			"set -e; deb=$(ls -1 $1 | sort -V | tail -n 1); "
			"dpkg-deb --fsys-tarfile \"$deb\" | "
			"tar -xOf - --wildcards './usr/src/linux-source-*.tar.xz' | "
			"xz -dc -T2 | tar -xf - -C \"$2\" --strip-components=1",
			"sh", pattern, stage, NULL };

		if (spawn_check(argv, NULL))
			goto out;
	}
	stamp = xasprintf("%s/.iommubench-source", stage);
	if (write_file_atomic(stamp, best, strlen(best)) || rm_rf(dir) ||
	    rename(stage, dir)) {
		pr_err("%s: %s", dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret && stage)
		rm_rf(stage);
	free(pkg);
	free(show);
	free(best);
	free(debs);
	free(stage);
	free(pattern);
	free(spec);
	free(stamp);
	return ret;
}

static int source_debian(struct kb *kb, const char *series)
{
	char *dir = xasprintf("%s/src", cache_dir());
	char *lock = xasprintf("%s/.linux-source-%s.lock", dir, series);
	char *stamp;
	int lockfd, err;

	kb->pristine = xasprintf("%s/linux-source-%s", dir, series);
	stamp = xasprintf("%s/.iommubench-source", kb->pristine);
	/* Two builds at once (make -j check) must not extract it at once. */
	lockfd = mkdir_p(dir, 0755) ? -1 : lock_path(lock);
	if (lockfd < 0)
		pr_err("%s: %s", lock, strerror(errno));
	free(dir);
	free(lock);
	if (lockfd < 0) {
		free(stamp);
		return -1;
	}
	err = !path_exists(stamp) && fetch_linux_source(series, kb->pristine);
	close(lockfd);
	if (err) {
		free(stamp);
		return -1;
	}
	kb->version = read_file(stamp, NULL);
	free(stamp);
	if (!kb->version)
		return -1;
	strtrim(kb->version);
	kb->src_id = xasprintf("debian:%s=%s", series, kb->version);
	kb->slot = xasprintf("%s/kbuild/debian-%s", cache_dir(), series);
	kb->cacheable = true;
	return 0;
}

static int source_dir(struct kb *kb, const char *dir)
{
	char *path = realpath(dir, NULL), *mk, *h, *diff = NULL;
	char *git_head[] = { "git", "-C", path, "rev-parse", "HEAD", NULL };
	char *git_diff[] = { "git", "-C", path, "diff", "HEAD", NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;

	if (!path) {
		pr_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	mk = xasprintf("%s/Kconfig", path);
	if (!path_exists(mk)) {
		pr_err("%s: not a Linux source tree (no Kconfig)", path);
		free(mk);
		free(path);
		return -1;
	}
	free(mk);
	kb->commit = spawn_capture_line(git_head, NULL);
	h = sha256_of(NULL, path);
	kb->slot = xasprintf("%s/kbuild/dir-%.12s", cache_dir(), h ? h : "0");
	free(h);
	if (kb->commit) {
		o.quiet = true;
		o.err_fd = SPAWN_DEVNULL;
		spawn_capture(git_diff, &o, &diff);
		h = diff && *diff ? sha256_of(NULL, diff) : NULL;
		kb->src_id = xasprintf("dir:%s@%s%s%.12s", path, kb->commit,
				       h ? "+" : "", h ? h : "");
		kb->cacheable = true;
		free(h);
		free(diff);
	} else {
		pr_warn("%s is not a git tree: its kernel is rebuilt every time",
			path);
		kb->src_id = xasprintf("dir:%s", path);
	}
	/* With a series the tree is copied; without, built in place. */
	kb->pristine = path;
	return 0;
}

/*
 * A revision of a git tree: checked out into a private clone (objects shared
 * with the tree through alternates), so the user's checkout is never
 * touched and moving between commits rewrites only the files that differ.
 */
int kbuild_git_commit(const char *tree, const char *rev, char sha[41])
{
	char *spec = xasprintf("%s^{commit}", rev);
	char *argv[] = { "git", "-C", (char *)tree, "rev-parse", "--verify",
			 "-q", spec, NULL };
	char *s = spawn_capture_line(argv, NULL);
	int ret = -1;

	if (s && strlen(s) == 40) {
		memcpy(sha, s, 41);
		ret = 0;
	} else {
		pr_err("%s: '%s' is not a commit", tree, rev);
	}
	free(s);
	free(spec);
	return ret;
}

static int source_git(struct kb *kb, const char *dir, const char *rev)
{
	char *path = realpath(dir, NULL), *h;
	char sha[41];

	if (!path) {
		pr_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	if (kbuild_git_commit(path, rev, sha)) {
		free(path);
		return -1;
	}
	kb->commit = strdup(sha);
	h = sha256_of(NULL, path);
	kb->slot = xasprintf("%s/kbuild/git-%.12s", cache_dir(), h ? h : "0");
	free(h);
	kb->src_id = xasprintf("git:%s@%s", path, kb->commit);
	kb->cacheable = true;
	kb->pristine = path;
	return 0;
}

/* --- series ------------------------------------------------------------ */

/* Read a quilt series file: one patch a line, '#' comments, options ignored. */
static int read_series(struct kb *kb, const char *series)
{
	char *text = read_file(series, NULL), *line, *save = NULL;
	char *base = realpath(series, NULL), *slash;

	if (!text || !base) {
		pr_err("%s: %s", series, strerror(errno));
		free(text);
		free(base);
		return -1;
	}
	kb->series = strdup(base);
	slash = strrchr(base, '/');
	*slash = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p;

		line[strcspn(line, "#")] = '\0';
		strtrim(line);
		if (!*line)
			continue;
		line[strcspn(line, " \t")] = '\0';
		p = xasprintf("%s/%s", base, line);
		if (!path_exists(p)) {
			pr_err("%s: patch %s not found", series, p);
			free(p);
			free(text);
			free(base);
			return -1;
		}
		argv_push(&kb->patches, p);
		free(p);
	}
	free(text);
	free(base);
	if (!kb->patches.n) {
		pr_err("%s: no patches", series);
		return -1;
	}
	return 0;
}

/* Reverse-apply @file in @work, quietly: the caller decides what a failure means. */
static int patch_reverse(const char *work, const char *file)
{
	char *argv[] = { "patch", "-p1", "-s", "--no-backup-if-mismatch",
			 "-r", "-", "-i", (char *)file, "-R", NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;

	o.cwd = work;
	o.out_fd = SPAWN_DEVNULL;
	o.err_fd = SPAWN_DEVNULL;
	return spawn_run(argv, &o) ? -1 : 0;
}

/*
 * Say, file by file, why patch(1) failed: its lines that name a failed hunk,
 * a reversed patch or a missing file, each prefixed with the file it was
 * patching; the chatter around them is left out.
 */
static void report_patch_output(char *out)
{
	char *line, *save = NULL, *file = NULL;

	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (str_has_prefix(line, "patching file ") ||
		    str_has_prefix(line, "checking file ")) {
			free(file);
			file = strdup(line + 14);
			file[strcspn(file, "(")] = '\0';
			strtrim(file);
			continue;
		}
		if (str_has_prefix(line, "|+++ ")) {
			/* the header of a patch whose file is missing */
			char *p = strchr(line + 5, '/');

			free(file);
			file = strdup(p ? p + 1 : line + 5);
			file[strcspn(file, "\t")] = '\0';
			continue;
		}
		if (str_has_prefix(line, "can't find file to patch")) {
			free(file);
			file = NULL;
		}
		if (strstr(line, " succeeded at ") || strstr(line, " out of ") ||
		    *line == '|' || str_has_prefix(line, "----") ||
		    str_has_prefix(line, "Hmm...") ||
		    str_has_prefix(line, "The text leading up to this") ||
		    str_has_prefix(line, "Perhaps you used the wrong"))
			continue;
		pr_err("  %s%s%s", file ? file : "", file ? ": " : "", line);
	}
	free(file);
}

/*
 * Apply @patch to the tree @dir.  On failure say which patch does not apply
 * to @what and where (report_patch_output()); -1.
 */
static int apply_patch(const char *dir, const char *patch, const char *what)
{
	char *argv[] = { "sh", "-c",
		"exec patch -p1 -N --no-backup-if-mismatch -r - -i \"$1\" 2>&1",
		"sh", (char *)patch, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *out = NULL;
	int ret;

	o.cwd = dir;
	o.quiet = true;
	ret = spawn_capture(argv, &o, &out);
	if (ret) {
		pr_err("%s does not apply to %s:", patch, what);
		if (out)
			report_patch_output(out);
	}
	free(out);
	return ret ? -1 : 0;
}

/* A path patch -p1 may touch: relative, and never out of the tree. */
static bool tree_path_ok(const char *p)
{
	return *p && *p != '/' && strcmp(p, "..") && !str_has_prefix(p, "../") &&
	       !strstr(p, "/../") && !str_has_suffix(p, "/..");
}

static void add_path_once(struct argv *a, const char *p)
{
	if (!tree_path_ok(p))
		return;
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], p))
			return;
	argv_push(a, p);
}

/*
 * Add to @out (once each) every file patch -p1 reads or writes for @patch,
 * relative to the tree: both sides of each "--- "/"+++ " header pair (the
 * first component stripped, /dev/null left out) and git's "rename"/"copy"
 * "from"/"to" lines.  -1 if @patch cannot be read.
 */
static int patch_paths(const char *patch, struct argv *out)
{
	char *text = read_file(patch, NULL), *line, *next;

	if (!text) {
		pr_err("%s: %s", patch, strerror(errno));
		return -1;
	}
	for (line = text; line && *line; line = next) {
		static const char *const git[] = { "rename from ", "rename to ",
						   "copy from ", "copy to " };
		char *nl = strchr(line, '\n');

		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(git); i++)
			if (str_has_prefix(line, git[i]))
				add_path_once(out, line + strlen(git[i]));
		/* a header is a "--- " line right before a "+++ " line */
		if (str_has_prefix(line, "--- ") && next &&
		    str_has_prefix(next, "+++ ")) {
			char *hdr[2] = { line + 4, next + 4 };
			char *nl2 = strchr(next, '\n');

			if (nl2)
				*nl2 = '\0';
			for (int h = 0; h < 2; h++) {
				char *p = hdr[h], *slash;

				p[strcspn(p, "\t")] = '\0';
				slash = strchr(p, '/');
				if (strcmp(p, "/dev/null") && slash)
					add_path_once(out, slash + 1);
			}
			next = nl2 ? nl2 + 1 : NULL;
		}
	}
	free(text);
	return 0;
}

/* The patches recorded as applied to the work tree, in order. */
static void read_applied(const char *applied, struct argv *out)
{
	char *list = xasprintf("%s/list", applied);
	char *text = read_file(list, NULL), *line, *save = NULL;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		argv_pushf(out, "%s/%s", applied, line);
	free(text);
	free(list);
}

/* Record @n patches of @kb as applied (copies, so later edits do not matter). */
static int write_applied(const struct kb *kb, const char *applied, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	char *list;
	int ret = 0;

	if (rm_rf(applied) || mkdir_p(applied, 0755))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *dst = xasprintf("%s/%04zu.patch", applied, i + 1);

		ret |= copy_file(kb->patches.v[i], dst, 0644);
		strbuf_addf(&sb, "%04zu.patch\n", i + 1);
		free(dst);
	}
	list = xasprintf("%s/list", applied);
	ret |= write_file_atomic(list, sb.buf ? sb.buf : "", sb.len);
	free(list);
	strbuf_release(&sb);
	return ret ? -1 : 0;
}

/*
 * The state of the work tree as the record keeps it (applied/state): the
 * source it was copied from, then for each of @paths "<sha256>  <path>", or
 * "absent  <path>".  NULL if it cannot be computed.
 */
static char *tree_state(const struct kb *kb, const struct argv *paths)
{
	struct argv a = { 0 };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *sums = NULL, *ret = NULL;

	argv_push(&a, "sh");
	argv_push(&a, "-c");
	argv_push(&a, "set -e; cd \"$1\"; shift; for f; do "
		      "if [ -f \"$f\" ]; then sha256sum -- \"$f\"; "
		      "else echo \"absent  $f\"; fi; done");
	argv_push(&a, "sh");
	argv_push(&a, kb->work);
	for (size_t i = 0; i < paths->n; i++)
		argv_push(&a, paths->v[i]);
	o.quiet = true;
	if (spawn_capture(a.v, &o, &sums) == 0 && sums)
		ret = xasprintf("source %s\n%s", kb->src_id, sums);
	else
		pr_err("%s: cannot checksum the files the series touch", kb->work);
	free(sums);
	argv_free(&a);
	return ret;
}

/*
 * Check the work tree against its record @state: the source it was copied
 * from and every file a series touched since.  Fills @paths with those
 * files.  0 if the tree is what the record says; else -1 after saying what
 * differs (the caller copies the source afresh).
 */
static int verify_state(const struct kb *kb, const char *state,
			struct argv *paths)
{
	char *rec = read_file(state, NULL), *now = NULL, *copy = NULL;
	char *line, *save = NULL, *want = NULL;
	int ret = -1;

	if (!rec) {
		pr_warn("%s: no record of what the tree holds (%s: an interrupted build or an older iommubench); copying the source afresh",
			kb->work, state);
		return -1;
	}
	want = xasprintf("source %s\n", kb->src_id);
	if (!str_has_prefix(rec, want)) {
		rec[strcspn(rec, "\n")] = '\0';
		pr_warn("%s: copied from %s, not %s (%s); copying the source afresh",
			kb->work, str_has_prefix(rec, "source ") ? rec + 7 : "?",
			kb->src_id, state);
		goto out;
	}
	copy = strdup(rec + strlen(want));
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "  ");

		if (p)
			argv_push(paths, p + 2);
	}
	now = tree_state(kb, paths);
	if (!now)
		goto out;
	if (strcmp(now, rec)) {
		/* name the first file that differs */
		const char *r = rec, *n = now, *file;

		while (*r && *r == *n) {
			const char *rl = strchr(r, '\n'), *nl = strchr(n, '\n');

			if (!rl || !nl || rl - r != nl - n ||
			    memcmp(r, n, rl - r))
				break;
			r = rl + 1;
			n = nl + 1;
		}
		file = strstr(r, "  ") ? strstr(r, "  ") + 2 : r;
		pr_warn("%s: %.*s differs from the record %s; copying the source afresh",
			kb->work, (int)strcspn(file, "\n"), file, state);
		goto out;
	}
	ret = 0;
out:
	free(rec);
	free(now);
	free(copy);
	free(want);
	return ret;
}

/* Check the revision out in the private clone and apply the series. */
static int checkout_rev(struct kb *kb)
{
	char *dotgit = xasprintf("%s/.git", kb->work);
	char *clone[] = { "git", "clone", "-q", "--shared", "--no-checkout",
			  kb->pristine, kb->work, NULL };
	char *co[] = { "git", "-C", kb->work, "-c", "advice.detachedHead=false",
		       "checkout", "-q", "-f", "--detach", kb->commit, NULL };
	/* -x: Debian's .gitignore ignores the whole top level */
	char *clean[] = { "git", "-C", kb->work, "clean", "-q", "-ffdx", NULL };
	char *applied = xasprintf("%s/applied", kb->slot);
	int ret = -1;

	if (!path_is_dir(dotgit)) {
		pr_info("cloning %s into %s (objects shared)", kb->pristine,
			kb->work);
		if (rm_rf(kb->work) || spawn_check(clone, NULL))
			goto out;
	}
	/* -f and clean also drop what an earlier --series left behind */
	if (spawn_check(co, NULL)) {
		/* e.g. the tree's history was rewritten and its objects pruned */
		pr_warn("%s: cloning %s again", kb->work, kb->pristine);
		if (rm_rf(kb->work) || spawn_check(clone, NULL) ||
		    spawn_check(co, NULL))
			goto out;
	}
	if (spawn_check(clean, NULL))
		goto out;
	for (size_t i = 0; i < kb->patches.n; i++)
		if (apply_patch(kb->work, kb->patches.v[i], kb->src_id))
			goto out;
	ret = write_applied(kb, applied, kb->patches.n);
out:
	free(applied);
	free(dotgit);
	return ret;
}

/*
 * Apply the series to a scratch copy of the files it touches: cheap, and
 * exactly what applying it to the whole pristine tree would do.
 */
static int check_series(const struct kb *kb)
{
	char *tmp = xasprintf("%s/kbuild/.check.%d", cache_dir(), (int)getpid());
	struct argv paths = { 0 };
	int ret = -1;

	if (rm_rf(tmp) || mkdir_p(tmp, 0755)) {
		pr_err("%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < kb->patches.n; i++)
		if (patch_paths(kb->patches.v[i], &paths))
			goto out;
	for (size_t i = 0; i < paths.n; i++) {
		char *from = xasprintf("%s/%s", kb->pristine, paths.v[i]);
		char *to = xasprintf("%s/%s", tmp, paths.v[i]);
		char *slash = strrchr(to, '/');
		int err = 0;

		if (path_exists(from)) {
			*slash = '\0';
			err = mkdir_p(to, 0755);
			*slash = '/';
			err = err ? err : copy_file(from, to, 0644);
		}
		if (err)
			pr_err("%s: %s", to, strerror(errno));
		free(from);
		free(to);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < kb->patches.n; i++)
		if (apply_patch(tmp, kb->patches.v[i], kb->src_id))
			goto out;
	pr_info("%zu patches apply cleanly to %s", kb->patches.n, kb->src_id);
	ret = 0;
out:
	rm_rf(tmp);
	free(tmp);
	argv_free(&paths);
	return ret;
}

/*
 * Make the work tree hold the pristine source plus exactly kb->patches.
 *
 * The tree only ever changes by a series that applies: the series is first
 * applied to a scratch copy of the files it touches (check_series()), so
 * one that does not apply fails before the tree is touched.  The record
 * (applied/state: the source, and a checksum of every file a series
 * touched since the tree was copied) is dropped before the tree changes
 * and written once it holds the new series; a tree without a record, or
 * whose files differ from it, is copied afresh.  A fresh copy gets fresh
 * mtimes (cp without -p), so stale objects in the kept object tree are
 * always rebuilt.
 */
static int prepare_work(struct kb *kb)
{
	char *applied = xasprintf("%s/applied", kb->slot);
	char *state = xasprintf("%s/state", applied);
	struct argv old = { 0 }, paths = { 0 };
	bool fresh = !path_is_dir(kb->work);
	char *now = NULL;
	size_t i;
	int ret = -1;

	read_applied(applied, &old);
	if (!fresh && verify_state(kb, state, &paths))
		fresh = true;
	if (!fresh) {
		char *cur = old.n ? sha256_of(old.v, NULL) : strdup("none");
		bool same = cur && kb->series_hash &&
			    !strcmp(cur, kb->series_hash);

		free(cur);
		if (same || (!old.n && !kb->patches.n)) {
			ret = 0;
			goto out;
		}
	}
	if (kb->patches.n && check_series(kb))
		goto out;
	if (unlink(state) && errno != ENOENT) {
		pr_err("%s: %s", state, strerror(errno));
		goto out;
	}
	for (i = old.n; !fresh && i > 0; i--) {
		if (patch_reverse(kb->work, old.v[i - 1])) {
			pr_warn("%s: cannot reverse %s; copying the source afresh",
				kb->work, old.v[i - 1]);
			fresh = true;
		}
	}
	if (fresh) {
		char *cp[] = { "cp", "-R", kb->pristine, kb->work, NULL };

		pr_info("copying %s to %s", kb->pristine, kb->work);
		argv_free(&paths);
		if (rm_rf(kb->work) || spawn_check(cp, NULL))
			goto out;
	}
	if (write_applied(kb, applied, 0))
		goto out;
	for (i = 0; i < kb->patches.n; i++) {
		if (patch_paths(kb->patches.v[i], &paths))
			goto out;
		if (apply_patch(kb->work, kb->patches.v[i], kb->src_id)) {
			pr_err("%s: left without a record; the next build copies the source afresh",
			       kb->work);
			goto out;
		}
	}
	if (write_applied(kb, applied, kb->patches.n))
		goto out;
	now = tree_state(kb, &paths);
	if (!now || write_file_atomic(state, now, strlen(now)))
		goto out;
	ret = 0;
out:
	argv_free(&old);
	argv_free(&paths);
	free(applied);
	free(state);
	free(now);
	return ret;
}

/* --- config, build, install -------------------------------------------- */

static void make_argv(const struct kb *kb, struct argv *a)
{
	argv_push(a, "make");
	argv_push(a, "-C");
	argv_push(a, kb->work);
	argv_pushf(a, "O=%s", kb->obj);
	argv_push(a, "ARCH=x86_64");
}

/* Warn about fragment settings kconfig did not keep (a missing dependency). */
static void check_config(const struct kb *kb)
{
	char *path = xasprintf("%s/.config", kb->obj);
	char *final = read_file(path, NULL);

	free(path);
	for (size_t i = 0; final && i < kb->configs.n; i++) {
		char *frag = read_file(kb->configs.v[i], NULL);
		char *line, *save = NULL;

		for (line = frag ? strtok_r(frag, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *eq = strchr(line, '='), *want, *sym;
			bool ok;

			if (!str_has_prefix(line, "CONFIG_") || !eq)
				continue;
			sym = strndup(line, eq - line);
			if (!strcmp(eq + 1, "n")) {
				want = xasprintf("\n%s=", sym);
				ok = !strstr(final, want);
			} else {
				want = xasprintf("\n%s\n", line);
				ok = strstr(final, want) != NULL;
			}
			if (!ok)
				pr_warn("%s: %s did not stick (unmet dependency or unknown to this kernel)",
					kb->configs.v[i], line);
			free(want);
			free(sym);
		}
		free(frag);
	}
	free(final);
}

static int configure(struct kb *kb, const char *log)
{
	struct argv a = { 0 };
	char *cfg = xasprintf("%s/.config", kb->obj);
	char *local = xasprintf("%s/iommubench-local.config", kb->obj);
	static const char local_text[] =
		"CONFIG_LOCALVERSION=\"-iommubench\"\n"
		"# CONFIG_LOCALVERSION_AUTO is not set\n";
	int ret = -1;

	if (mkdir_p(kb->obj, 0755) ||
	    write_file_atomic(local, local_text, strlen(local_text)))
		goto out;
	make_argv(kb, &a);
	argv_push(&a, "tinyconfig");
	if (run_logged(a.v, NULL, log))
		goto out;
	argv_free(&a);
	argv_pushf(&a, "%s/scripts/kconfig/merge_config.sh", kb->work);
	argv_push(&a, "-m");
	argv_push(&a, "-O");
	argv_push(&a, kb->obj);
	argv_push(&a, cfg);
	for (size_t i = 0; i < kb->configs.n; i++)
		argv_push(&a, kb->configs.v[i]);
	argv_push(&a, local);
	if (run_logged(a.v, kb->work, log))
		goto out;
	argv_free(&a);
	make_argv(kb, &a);
	argv_push(&a, "olddefconfig");
	if (run_logged(a.v, NULL, log))
		goto out;
	check_config(kb);
	kb->config_hash = sha256_of((char *[]){ cfg, NULL }, NULL);
	ret = kb->config_hash ? 0 : -1;
out:
	argv_free(&a);
	free(cfg);
	free(local);
	return ret;
}

#define PROGRESS_EVERY_MS	15000

/* Count make's step lines ("  CC      foo.o") in @buf. */
static size_t count_steps(const char *buf, size_t len, bool *bol)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (*bol && i + 3 < len && buf[i] == ' ' && buf[i + 1] == ' ' &&
		    buf[i + 2] >= 'A' && buf[i + 2] <= 'Z')
			n++;
		*bol = buf[i] == '\n';
	}
	return n;
}

/* The previous build of this slot: its make steps and seconds, or zeros. */
static void last_build(const struct kb *kb, double *steps, double *secs)
{
	char *path = xasprintf("%s/progress.json", kb->slot);
	struct json_object *o = path && path_exists(path) ? json_read_file(path) : NULL;

	*steps = o ? json_object_get_double(json_object_object_get(o, "steps")) : 0;
	*secs = o ? json_object_get_double(json_object_object_get(o, "seconds")) : 0;
	if (o)
		json_object_put(o);
	free(path);
}

static void save_build(const struct kb *kb, size_t steps, double secs)
{
	char *path = xasprintf("%s/progress.json", kb->slot);
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "steps", json_object_new_int64(steps));
	json_object_object_add(o, "seconds", json_object_new_double(secs));
	if (!path || json_write_file(path, o))
		pr_warn("%s: cannot record the build's length", path ? path : kb->slot);
	json_object_put(o);
	free(path);
}

/*
 * "building: 2345 steps, 6m12s so far, about 4m30s left (until 14:05)":
 * the ETA scales this build's pace to the previous build of the slot; an
 * incremental build takes fewer steps, so it is an upper bound.
 */
static void progress_line(size_t steps, double secs, double last_steps,
			  double last_secs)
{
	char so_far[16], left[16], at[16];
	double rest;

	fmt_duration(so_far, sizeof(so_far), secs);
	if (last_steps < 1 || steps < 1) {
		pr_info("building: %zu make steps, %s so far%s", steps, so_far,
			last_secs > 0 ? "" : " (no earlier build of this slot to estimate from)");
		return;
	}
	rest = steps >= last_steps ? 0 : secs / steps * (last_steps - steps);
	fmt_duration(left, sizeof(left), rest);
	fmt_clock_in(at, sizeof(at), rest);
	pr_info("building: %zu of about %.0f make steps (%.0f%%), %s so far, about %s left (until %s)",
		steps, last_steps, 100.0 * steps / last_steps, so_far, left, at);
}

/*
 * Run make (@argv, output appended to @log) and say every 15 s how far it
 * is: the log's make steps against the previous build of the slot.
 */
static int make_with_progress(const struct kb *kb, char *const argv[],
			      const char *log)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	double last_steps, last_secs;
	uint64_t t0 = now_ms(), shown = t0;
	size_t steps = 0;
	bool bol = true;
	char buf[65536];
	int fd, rfd, status = -1;
	ssize_t n;
	pid_t pid;

	last_build(kb, &last_steps, &last_secs);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	rfd = open(log, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || rfd < 0) {
		pr_err("%s: %s", log, strerror(errno));
		goto fail;
	}
	lseek(rfd, 0, SEEK_END);
	o.out_fd = fd;
	o.err_fd = fd;
	pid = spawn_start(argv, &o);
	if (pid < 0) {
		pr_err("make: %s", strerror(errno));
		goto fail;
	}
	while (!spawn_poll(pid, &status)) {
		sleep_ms(500);
		while ((n = read(rfd, buf, sizeof(buf))) > 0)
			steps += count_steps(buf, n, &bol);
		if (now_ms() - shown >= PROGRESS_EVERY_MS) {
			shown = now_ms();
			progress_line(steps, (shown - t0) / 1000.0, last_steps,
				      last_secs);
		}
	}
	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		steps += count_steps(buf, n, &bol);
	close(fd);
	close(rfd);
	if (status == 0) {
		save_build(kb, steps, (now_ms() - t0) / 1000.0);
		return 0;
	}
	{
		char *cmd = argv_to_string(argv);
		char *tail[] = { "tail", "-n", "25", (char *)log, NULL };

		pr_err("'%s' failed (exit %d); the end of %s:", cmd, status, log);
		spawn_run(tail, NULL);
		free(cmd);
	}
	return -1;
fail:
	if (fd >= 0)
		close(fd);
	if (rfd >= 0)
		close(rfd);
	return -1;
}

static int build(struct kb *kb, const char *log, unsigned int jobs)
{
	struct argv a = { 0 };
	int ret;

	make_argv(kb, &a);
	argv_pushf(&a, "-j%u", jobs);
	if (have_program("ccache"))
		argv_push(&a, "CC=ccache gcc");
	else
		pr_info("ccache not found: building without it");
	argv_push(&a, "KBUILD_BUILD_USER=iommubench");
	argv_push(&a, "KBUILD_BUILD_HOST=iommubench");
	argv_push(&a, "bzImage");
	argv_push(&a, "modules");
	ret = make_with_progress(kb, a.v, log);
	argv_free(&a);
	if (ret)
		return -1;
	make_argv(kb, &a);
	argv_push(&a, "-s");
	argv_push(&a, "kernelrelease");
	kb->release = spawn_capture_line(a.v, NULL);
	argv_free(&a);
	if (!kb->version) {
		make_argv(kb, &a);
		argv_push(&a, "-s");
		argv_push(&a, "kernelversion");
		kb->version = spawn_capture_line(a.v, NULL);
		argv_free(&a);
	}
	if (!kb->release || !*kb->release) {
		pr_err("%s: cannot read the kernel release", kb->obj);
		return -1;
	}
	return 0;
}

/*
 * build/ for out-of-tree modules: the source tree's Makefiles, headers and
 * scripts plus the object tree's generated headers, tools and .config, so
 * 'make -C build M=...' works without the (shared, changing) work tree.
 */
static int install_build_dir(const struct kb *kb, const char *dst)
{
	char *argv[] = { "sh", "-c",
		"set -e; src=$1 obj=$2 dst=$3; mkdir -p \"$dst\"\n"
		"cd \"$src\"\n"
		"{ find . -maxdepth 1 -name 'Makefile*' -o -maxdepth 1 -name Kbuild\n"
		"  find arch/x86 -maxdepth 1 -name 'Makefile*'\n"
		"  find include scripts arch/x86/include -type f\n"
		"  find arch/x86 -name Kbuild.platforms -o -name Platform\n"
		"} | tar -cf - -T - | tar -xf - -C \"$dst\"\n"
		"cd \"$obj\"\n"
		"{ find include scripts arch/x86/include -type f\n"
		"  find tools/objtool -maxdepth 1 -type f -name objtool\n"
		"  echo .config; echo Module.symvers\n"
		"} | tar -cf - -T - | tar -xf - -C \"$dst\"\n",
		"sh", kb->work, kb->obj, (char *)dst, NULL };

	return spawn_check(argv, NULL);
}

static int write_meta(const struct kb *kb, const char *stage,
		      const char *name, uint64_t build_ms)
{
	struct json_object *o = json_object_new_object();
	struct json_object *frags = json_object_new_array();
	struct json_object *pats = json_object_new_array();
	char *path = xasprintf("%s/kernel.json", stage);
	char *when = iso8601_now();
	int ret;

	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "source",
			       json_object_new_string(kb->req->source));
	json_object_object_add(o, "source_id",
			       json_object_new_string(kb->src_id));
	json_object_object_add(o, "release",
			       json_object_new_string(kb->release));
	json_object_object_add(o, "version",
			       kb->version ? json_object_new_string(kb->version) : NULL);
	json_object_object_add(o, "commit",
			       kb->commit ? json_object_new_string(kb->commit) : NULL);
	json_object_object_add(o, "series",
			       kb->series ? json_object_new_string(kb->series) : NULL);
	json_object_object_add(o, "series_sha256",
			       json_object_new_string(kb->series_hash));
	for (size_t i = 0; i < kb->patches.n; i++) {
		const char *base = strrchr(kb->patches.v[i], '/');

		json_object_array_add(pats, json_object_new_string(base + 1));
	}
	json_object_object_add(o, "patches", pats);
	for (size_t i = 0; i < kb->configs.n; i++)
		json_object_array_add(frags,
				      json_object_new_string(kb->configs.v[i]));
	json_object_object_add(o, "config_fragments", frags);
	json_object_object_add(o, "config_sha256",
			       json_object_new_string(kb->config_hash));
	json_object_object_add(o, "key", json_object_new_string(kb->key));
	json_object_object_add(o, "built", json_object_new_string(when));
	json_object_object_add(o, "build_seconds",
			       json_object_new_double(build_ms / 1000.0));
	ret = json_write_file(path, o);
	json_object_put(o);
	free(path);
	free(when);
	return ret;
}

static int install(struct kb *kb, const char *final, const char *name,
		   uint64_t build_ms)
{
	char *stage = xasprintf("%s.tmp", final);
	char *p = NULL, *q = NULL;
	struct argv a = { 0 };
	int ret = -1;

	if (rm_rf(stage) || mkdir_p(stage, 0755))
		goto out;
	p = xasprintf("%s/arch/x86/boot/bzImage", kb->obj);
	q = xasprintf("%s/vmlinuz", stage);
	if (copy_file(p, q, 0644)) {
		pr_err("%s: %s", p, strerror(errno));
		goto out;
	}
	free(p);
	free(q);
	p = xasprintf("%s/.config", kb->obj);
	q = xasprintf("%s/config", stage);
	if (copy_file(p, q, 0644))
		goto out;
	free(p);
	free(q);
	/* The ELF kernel QEMU enters through PVH; BTF survives --strip-debug. */
	p = xasprintf("%s/vmlinux", kb->obj);
	q = xasprintf("%s/vmlinux", stage);
	argv_push(&a, "objcopy");
	argv_push(&a, "--strip-debug");
	argv_push(&a, p);
	argv_push(&a, q);
	if (spawn_check(a.v, NULL))
		goto out;
	argv_free(&a);
	free(q);
	q = xasprintf("%s/install.log", kb->slot);
	make_argv(kb, &a);
	argv_pushf(&a, "INSTALL_MOD_PATH=%s", stage);
	argv_push(&a, "INSTALL_MOD_STRIP=1");
	argv_push(&a, "modules_install");
	unlink(q);
	if (run_logged(a.v, NULL, q))
		goto out;
	argv_free(&a);
	free(p);
	free(q);
	p = xasprintf("%s/build", stage);
	if (install_build_dir(kb, p))
		goto out;
	free(p);
	/* modules_install may link build/source into the work tree. */
	p = xasprintf("%s/lib/modules/%s/build", stage, kb->release);
	q = xasprintf("%s/lib/modules/%s/source", stage, kb->release);
	unlink(p);
	unlink(q);
	if (symlink("../../../build", p)) {
		pr_err("%s: %s", p, strerror(errno));
		goto out;
	}
	argv_push(&a, "depmod");
	argv_push(&a, "-b");
	argv_push(&a, stage);
	argv_push(&a, kb->release);
	if (spawn_check(a.v, NULL) || write_meta(kb, stage, name, build_ms))
		goto out;
	if (rm_rf(final) || rename(stage, final)) {
		pr_err("%s: %s", final, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret)
		rm_rf(stage);
	argv_free(&a);
	free(stage);
	free(p);
	free(q);
	return ret;
}

static char *installed_key(const char *final)
{
	char *meta = xasprintf("%s/kernel.json", final);
	struct json_object *o = path_exists(meta) ? json_read_file(meta) : NULL;
	const char *key = o ? json_get_string(o, "key") : NULL;
	char *ret = key ? strdup(key) : NULL;

	if (o)
		json_object_put(o);
	free(meta);
	return ret;
}

static int resolve_configs(struct kb *kb)
{
	const char *const *c = kb->req->configs;
	const char *def = ABS_TOP_SRCDIR "/" DEFAULT_CONFIG;

	if (!c || !*c) {
		if (!path_exists(def))
			def = PKGDATADIR "/" DEFAULT_CONFIG;
		argv_push(&kb->configs, def);
	}
	for (; c && *c; c++) {
		char *p = realpath(*c, NULL);

		if (!p) {
			pr_err("config fragment %s: %s", *c, strerror(errno));
			return -1;
		}
		argv_push(&kb->configs, p);
		free(p);
	}
	for (size_t i = 0; i < kb->configs.n; i++) {
		if (!path_exists(kb->configs.v[i])) {
			pr_err("config fragment %s not found", kb->configs.v[i]);
			return -1;
		}
	}
	return 0;
}

/* the combinations of a request that cannot be built; -1 after saying why */
static int check_request(const struct kbuild_req *req, const char *series)
{
	if (str_has_prefix(req->source, "debian:") && !series) {
		pr_err("source '%s': expected debian:<series>, e.g. debian:6.1",
		       req->source);
		return -1;
	}
	if (req->rev && series) {
		pr_err("--rev needs a git tree as --source, not %s", req->source);
		return -1;
	}
	if (req->rev && req->check) {
		pr_err("--check applies a series to a Debian source, not to --rev");
		return -1;
	}
	if (req->check && req->prepare_only) {
		pr_err("--check and --prepare-only: one or the other");
		return -1;
	}
	return 0;
}

/* the source (Debian's, a git tree's --rev, or a directory) and the series */
static int load_source(struct kb *kb, const char *series)
{
	const struct kbuild_req *req = kb->req;

	if (series ? source_debian(kb, series) :
	    req->rev ? source_git(kb, req->source, req->rev) :
	    source_dir(kb, req->source))
		return -1;
	if (req->series && read_series(kb, req->series))
		return -1;
	kb->series_hash = kb->patches.n ? sha256_of(kb->patches.v, NULL) :
					  strdup("none");
	return kb->series_hash ? 0 : -1;
}

/*
 * The tree to build in: a checkout of --rev or a patched copy, in the
 * slot; a directory source without a series is built in place.
 */
static int set_work_tree(struct kb *kb, const char *series)
{
	if (kb->req->rev) {
		kb->work = xasprintf("%s/src", kb->slot);
		return checkout_rev(kb);
	}
	if (series || kb->patches.n) {
		kb->work = xasprintf("%s/src", kb->slot);
		return prepare_work(kb);
	}
	kb->work = strdup(kb->pristine);
	return 0;
}

/*
 * The build's cache key (kb->key: what the source, the series and the
 * configuration hash to) and the kernel's name, which the caller frees:
 * --name, or the source's and the key's.  NULL when out of memory.
 */
static char *build_key_and_name(struct kb *kb)
{
	const struct kbuild_req *req = kb->req;
	char *idtext;

	idtext = xasprintf("scheme %s\nsource %s\nseries %s\nconfig %s\n",
			   KBUILD_SCHEME, kb->src_id, kb->series_hash,
			   kb->config_hash);
	kb->key = sha256_of(NULL, idtext);
	free(idtext);
	if (!kb->key)
		return NULL;
	kb->key[16] = '\0';
	if (req->name)
		return strdup(req->name);
	if (req->rev)
		return xasprintf("%s-%.12s-%.8s", strrchr(kb->pristine, '/') + 1,
				 kb->commit, kb->key);
	return xasprintf("%s-%.12s", strrchr(kb->slot, '/') + 1, kb->key);
}

int kbuild_build(const struct kbuild_req *req, char **kdir)
{
	struct kb kb = { .req = req };
	const char *series = kernel_debian_series(req->source);
	char *lock = NULL, *log = NULL, *final = NULL, *name = NULL;
	char *cached = NULL;
	unsigned int jobs = req->jobs;
	uint64_t t0;
	int lockfd = -1, ret = -1;

	*kdir = NULL;
	if (!jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = n > 0 ? (unsigned int)n : 1;
	}
	if (check_request(req, series))
		goto out;
	if (load_source(&kb, series))
		goto out;
	if (req->check) {
		if (!kb.patches.n)
			pr_err("--check needs --series");
		else
			ret = check_series(&kb);
		goto out;
	}
	if (resolve_configs(&kb))
		goto out;

	if (mkdir_p(kb.slot, 0755)) {
		pr_err("%s: %s", kb.slot, strerror(errno));
		goto out;
	}
	lock = xasprintf("%s/.lock", kb.slot);
	lockfd = lock_path(lock);
	if (lockfd < 0) {
		pr_err("%s: %s", lock, strerror(errno));
		goto out;
	}
	if (set_work_tree(&kb, series))
		goto out;
	kb.obj = xasprintf("%s/obj", kb.slot);
	log = xasprintf("%s/build.log", kb.slot);
	unlink(log);
	if (configure(&kb, log))
		goto out;
	if (req->prepare_only) {
		pr_info("%s and %s/.config are ready; not building (--prepare-only)",
			kb.work, kb.obj);
		*kdir = kb.work;
		kb.work = NULL;
		ret = 0;
		goto out;
	}

	name = build_key_and_name(&kb);
	if (!name)
		goto out;
	final = xasprintf("%s/kernels/%s", cache_dir(), name);
	cached = installed_key(final);
	if (!req->force && kb.cacheable && cached && !strcmp(cached, kb.key)) {
		pr_info("%s is built (key %s): %s", name, kb.key, final);
		*kdir = final;
		final = NULL;
		ret = 0;
		goto out;
	}

	pr_info("building %s from %s%s%s (%zu patches) with make -j%u; log: %s",
		name, kb.src_id, req->series ? " + " : "",
		req->series ? req->series : "", kb.patches.n, jobs, log);
	t0 = now_ms();
	if (build(&kb, log, jobs))
		goto out;
	t0 = now_ms() - t0;
	if (install(&kb, final, name, t0))
		goto out;
	pr_info("%s: %s built in %.0f s, installed in %s", name, kb.release,
		t0 / 1000.0, final);
	*kdir = final;
	final = NULL;
	ret = 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	kb_free(&kb);
	free(lock);
	free(log);
	free(final);
	free(name);
	free(cached);
	return ret;
}

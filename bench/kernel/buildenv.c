// SPDX-License-Identifier: GPL-2.0
/*
 * Build chroots for out-of-tree modules (buildenv.h).
 *
 * Layout under the cache:
 *
 *   chroots/<suite>/root/        the chroot (mmdebstrap --variant=apt plus
 *                                the compiler, make, libc6-dev and what the
 *                                kernel's linux-kbuild tools depend on)
 *   chroots/<suite>/chroot.json  what it holds (packages, the linux-kbuild
 *                                packages whose dependencies they cover,
 *                                compiler); written last, so a chroot
 *                                without it is not one
 *   chroots/.<suite>.tmp/        a chroot being made, renamed into place
 *                                when complete; a leftover is removed
 *   chroots/.<suite>.lock        held while a chroot is made or used
 *   chroots/<suite>.log          mmdebstrap's output
 *
 * One chroot per suite, reused by every kernel of it; a kernel needing a
 * package the chroot lacks (a newer gcc) remakes it with both sets.  The
 * chroot is never updated otherwise: its compiler stays what it was.
 * Nothing is mounted in the machine's own mount namespace: mmdebstrap and
 * every build run in a private one, so their mounts go away with them and
 * removing a chroot can never reach through a mount into the host.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt.h"
#include "buildenv.h"
#include "json.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

#define CHROOT_SCHEME	1	/* bump when what a chroot holds changes */

/* Packages every build chroot has beside the compiler and kbuild's. */
static const char *const base_packages[] = { "make", "libc6-dev" };

/* Docs, manuals and translations are not needed to compile. */
static const char *const path_excludes[] = {
	"/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*",
	"/usr/share/locale/*",
};

void kcompiler_free(struct kcompiler *c)
{
	free(c->text);
	free(c->cc);
	free(c->package);
	free(c->why);
	memset(c, 0, sizeof(*c));
}

/* The major version @cc reports, or -1 when it does not run. */
static int host_cc_major(const char *cc)
{
	char *argv[] = { (char *)cc, "-dumpversion", NULL };
	char *v = spawn_capture_line(argv, NULL);
	int major = v && *v ? atoi(v) : -1;

	free(v);
	return major;
}

int kcompiler_read(const char *config, struct kcompiler *c)
{
	static const char key[] = "\nCONFIG_CC_VERSION_TEXT=\"";
	char *text = read_file(config, NULL);
	const char *p, *last, *gcc;
	int host;

	memset(c, 0, sizeof(*c));
	if (!text) {
		pr_err("%s: %s", config, strerror(errno));
		return -1;
	}
	p = strstr(text, key);
	if (p)
		c->text = strndup(p + strlen(key),
				  strcspn(p + strlen(key), "\"\n"));
	free(text);
	c->on_host = true;
	if (!c->text)
		return 0;
	/* "x86_64-linux-gnu-gcc-16 (Debian 16.2.0-4) 16.2.0" */
	c->cc = strndup(c->text, strcspn(c->text, " "));
	last = strrchr(c->text, ' ');
	c->major = last ? atoi(last + 1) : 0;
	gcc = c->cc ? strstr(c->cc, "gcc") : NULL;
	if (!gcc || c->major <= 0)
		return c->cc ? 0 : -1;
	/* The triplet-prefixed program comes with the plain package. */
	c->package = strdup(gcc);
	host = host_cc_major(c->cc);
	if (host == c->major)
		return c->package ? 0 : -1;
	c->on_host = false;
	c->why = host < 0 ?
		 xasprintf("the kernel was built with %s, which this machine lacks",
			   c->text) :
		 xasprintf("the kernel was built with %s, this machine's %s is gcc %d",
			   c->text, c->cc, host);
	return c->package && c->why ? 0 : -1;
}

/* "trixie" of "trixie-security": the release whose chroot builds. */
static char *suite_release(const char *suite)
{
	return strndup(suite, strcspn(suite, "-"));
}

static bool argv_has(const struct argv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return true;
	return false;
}

static int push_once(struct argv *a, const char *s)
{
	return argv_has(a, s) ? 0 : argv_push(a, s);
}

/*
 * The linux-kbuild package (a "name=version" spec) the kernel was fetched
 * with, from kernel.json "packages", into *@spec; NULL for a kernel
 * without one.  -1 when kernel.json cannot be read.
 */
static int kbuild_spec(const struct kernel *k, char **spec)
{
	char *meta = xasprintf("%s/kernel.json", k->dir);
	struct json_object *o = meta ? json_read_file(meta) : NULL;
	struct json_object *arr = NULL;

	*spec = NULL;
	free(meta);
	if (!o)
		return -1;
	if (json_object_object_get_ex(o, "packages", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			const char *s = json_object_get_string(
				json_object_array_get_idx(arr, i));

			if (s && str_has_prefix(s, "linux-kbuild-") && !*spec)
				*spec = strdup(s);
		}
	json_object_put(o);
	return 0;
}

/*
 * What the kbuild tools of @spec (modpost, objtool ...) link against: the
 * package names in its Depends, first of each set of alternatives, asked
 * of the private apt view.
 */
static int kbuild_depends(const char *spec, struct argv *pkgs)
{
	char *show = NULL, *deps = NULL;
	int ret = -1;

	if (apt_init(false))
		return -1;
	show = apt_show(spec);
	deps = show ? apt_stanza_field(show, "Depends") : NULL;
	if (!deps) {
		pr_err("%s: the apt view (%s) cannot tell what it depends on",
		       spec, apt_suites());
		goto out;
	}
	for (char *save = NULL, *d = strtok_r(deps, ",", &save); d;
	     d = strtok_r(NULL, ",", &save)) {
		d += strspn(d, " ");
		d[strcspn(d, " |(:")] = '\0';
		if (*d && push_once(pkgs, d))
			goto out;
	}
	ret = 0;
out:
	free(show);
	free(deps);
	return ret;
}

/* The mount points at or below @path in this mount namespace, if any. */
static char *mounts_under(const char *path)
{
	char *info = read_file("/proc/self/mountinfo", NULL);
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(path);

	for (char *save = NULL, *line = info ? strtok_r(info, "\n", &save) :
					       NULL;
	     line; line = strtok_r(NULL, "\n", &save)) {
		char mnt[4096];

		/* "36 35 98:0 /mnt1 /mnt2 rw ...": the fifth field */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    !strncmp(mnt, path, n) && (!mnt[n] || mnt[n] == '/'))
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", mnt);
	}
	free(info);
	return sb.len ? strbuf_detach(&sb) : NULL;
}

/* rm_rf() a chroot, refusing while anything is mounted inside it. */
static int remove_chroot(const char *dir)
{
	char *mnts = mounts_under(dir);

	if (mnts) {
		pr_err("%s: not removing it while %s %s mounted in it",
		       dir, mnts, strchr(mnts, ',') ? "are" : "is");
		free(mnts);
		return -1;
	}
	if (rm_rf(dir)) {
		pr_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Push the strings of array @key of @o on @out. */
static int push_array(struct json_object *o, const char *key,
		      struct argv *out)
{
	struct json_object *arr;

	if (!json_object_object_get_ex(o, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(
			json_object_array_get_idx(arr, i));

		if (s && push_once(out, s))
			return -1;
	}
	return 0;
}

/*
 * The packages a complete chroot holds, and the linux-kbuild packages whose
 * dependencies they cover; -1 when it is not a complete chroot.
 */
static int read_manifest(const char *dir, struct argv *pkgs,
			 struct argv *kbuilds)
{
	char *path = xasprintf("%s/chroot.json", dir);
	struct json_object *o = NULL, *v;
	int ret = -1;

	if (!path || !path_exists(path))
		goto out;
	o = json_read_file(path);
	if (!o || !json_object_object_get_ex(o, "scheme", &v) ||
	    json_object_get_int(v) != CHROOT_SCHEME ||
	    !json_object_object_get_ex(o, "packages", &v))
		goto out;
	ret = push_array(o, "packages", pkgs) || push_array(o, "kbuild", kbuilds);
out:
	if (o)
		json_object_put(o);
	free(path);
	return ret;
}

/* Record in @dir's chroot.json that it covers linux-kbuild @spec too. */
static void manifest_add_kbuild(const char *dir, const char *spec)
{
	char *path = xasprintf("%s/chroot.json", dir);
	struct json_object *o = path ? json_read_file(path) : NULL;
	struct json_object *arr;

	if (o && !json_object_object_get_ex(o, "kbuild", &arr)) {
		arr = json_object_new_array();
		json_add(o, "kbuild", arr);
	}
	if (!o || !arr || json_push(arr, json_object_new_string(spec)) ||
	    json_write_file(path, o))
		pr_warn("%s: cannot record %s (it is looked up again next time)",
			path ? path : dir, spec);
	if (o)
		json_object_put(o);
	free(path);
}

static unsigned long long du_bytes;

static int du_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	du_bytes += (unsigned long long)st->st_blocks * 512;
	return 0;
}

/* Disk use of the tree at @dir, not crossing mounts. */
static unsigned long long disk_use(const char *dir)
{
	du_bytes = 0;
	nftw(dir, du_one, 16, FTW_PHYS | FTW_MOUNT);
	return du_bytes;
}

static int write_manifest(const char *dir, const char *suite,
			  const struct argv *pkgs, const struct argv *kbuilds,
			  const char *compiler, uint64_t ms,
			  unsigned long long bytes)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct json_object *kb = json_object_new_array();
	char *path = xasprintf("%s/chroot.json", dir);
	char *when = iso8601_now();
	int bad = 0, ret;

	bad |= json_add(o, "scheme", json_object_new_int(CHROOT_SCHEME));
	bad |= json_add(o, "suite", json_object_new_string(suite));
	for (size_t i = 0; i < pkgs->n; i++)
		bad |= json_push(arr, json_object_new_string(pkgs->v[i]));
	bad |= json_add(o, "packages", arr);
	for (size_t i = 0; i < kbuilds->n; i++)
		bad |= json_push(kb, json_object_new_string(kbuilds->v[i]));
	bad |= json_add(o, "kbuild", kb);
	bad |= json_add(o, "compiler", json_object_new_string(compiler));
	bad |= json_add(o, "created", json_object_new_string(when ? when : ""));
	bad |= json_add(o, "create_seconds",
			json_object_new_double(ms / 1000.0));
	bad |= json_add(o, "size_bytes", json_object_new_int64(bytes));
	ret = bad || !path ? -1 : json_write_file(path, o);
	if (ret)
		pr_err("%s: cannot write", path ? path : dir);
	json_object_put(o);
	free(path);
	free(when);
	return ret;
}

/*
 * Inside the namespaces: the chroot read-only with private /tmp and /dev,
 * a read-only /proc of the new PID namespace, then @ro read-only and @rw
 * writable at their host paths (mount points made before the chroot turns
 * read-only, in the private /tmp for paths under /tmp).  $1 root, $2 ro,
 * $3 rw, then the command.
 */
static const char run_script[] =
	"set -e; R=$1 RO=$2 RW=$3; shift 3\n"
	"mount --bind \"$R\" \"$R\"\n"
	"mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs \"$R/tmp\"\n"
	"mount -t tmpfs -o nosuid,noexec,mode=755 tmpfs \"$R/dev\"\n"
	"for d in null:3 zero:5 full:7 random:8 urandom:9; do\n"
	"	mknod -m 666 \"$R/dev/${d%:*}\" c 1 \"${d#*:}\"\n"
	"done\n"
	"ln -s /proc/self/fd \"$R/dev/fd\"\n"
	"for d in \"$RO\" \"$RW\"; do [ -z \"$d\" ] || mkdir -p \"$R$d\"; done\n"
	"mount -o remount,bind,ro,nosuid,nodev \"$R\"\n"
	"mount -t proc -o ro,nosuid,nodev,noexec proc \"$R/proc\"\n"
	"[ -z \"$RO\" ] || mount --bind -o ro,nosuid,nodev \"$RO\" \"$R$RO\"\n"
	"[ -z \"$RW\" ] || mount --bind -o nosuid,nodev \"$RW\" \"$R$RW\"\n"
	"exec chroot \"$R\" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "
	"HOME=/tmp LC_ALL=C.UTF-8 \"$@\"\n";

static int run_argv(const char *root, char *const argv[], const char *ro,
		    const char *rw, struct argv *a)
{
	if ((ro && ro[0] != '/') || (rw && rw[0] != '/')) {
		pr_err("%s: not an absolute path", ro && ro[0] != '/' ? ro : rw);
		return -1;
	}
	argv_push(a, "unshare");
	argv_push(a, "--mount");
	argv_push(a, "--propagation");
	argv_push(a, "private");
	argv_push(a, "--net");
	argv_push(a, "--pid");
	argv_push(a, "--fork");
	argv_push(a, "--kill-child");
	argv_push(a, "--");
	argv_push(a, "sh");
	argv_push(a, "-c");
	argv_push(a, run_script);
	argv_push(a, "sh");
	argv_push(a, root);
	argv_push(a, ro ? ro : "");
	argv_push(a, rw ? rw : "");
	for (size_t i = 0; argv[i]; i++)
		argv_push(a, argv[i]);
	return 0;
}

int buildenv_run(const struct buildenv *be, char *const argv[],
		 const char *ro, const char *rw, const struct spawn_opts *o)
{
	struct argv a = { 0 };
	int ret;

	if (!be->root)
		return spawn_run(argv, o);
	if (run_argv(be->root, argv, ro, rw, &a)) {
		argv_free(&a);
		return -1;
	}
	ret = spawn_run(a.v, o);
	argv_free(&a);
	return ret;
}

/* The first line @cc --version prints in @root, or NULL after saying why. */
static char *chroot_cc_version(const char *root, const char *cc)
{
	char *cmd[] = { (char *)cc, "--version", NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	char *out = NULL;
	int ret;

	o.quiet = true;
	if (run_argv(root, cmd, NULL, NULL, &a)) {
		argv_free(&a);
		return NULL;
	}
	ret = spawn_capture(a.v, &o, &out);
	argv_free(&a);
	if (ret == 127)
		pr_err("%s: the chroot has no %s (status 127): remove the chroot's directory to make it again",
		       root, cc);
	else if (ret || !out || !*out)
		pr_err("%s: running '%s --version' in the chroot failed (status %d; the lines above say why): a build there needs private mount, PID and network namespaces (unshare) and chroot, which a container may not allow",
		       root, cc, ret);
	if (ret || !out || !*out) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* Echo mmdebstrap's progress lines ("I: ...") from @log past *@off. */
static void show_progress(const char *suite, const char *log, size_t *off)
{
	size_t len;
	char *text = read_file(log, &len);
	char *p, *nl;

	if (!text || len <= *off) {
		free(text);
		return;
	}
	for (p = text + *off; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		if (str_has_prefix(p, "I: ") &&
		    !str_has_prefix(p, "I: skipping "))
			pr_info("%s chroot: %s", suite, p + 3);
	}
	*off = p - text;
	free(text);
}

/* The last @n lines of @path, or "" when it cannot be read. */
static char *tail_of(const char *path, int n)
{
	size_t len;
	char *text = read_file(path, &len), *p, *ret;

	if (!text)
		return strdup("");
	p = text + len;
	if (p > text && p[-1] == '\n')
		p--;
	while (p > text && (p[-1] != '\n' || --n > 0))
		p--;
	ret = strdup(p);
	free(text);
	return ret;
}

static void argv_join(struct strbuf *sb, const struct argv *a, const char *sep)
{
	for (size_t i = 0; i < a->n; i++)
		strbuf_addf(sb, "%s%s", i ? sep : "", a->v[i]);
}

/* Whether mmdebstrap runs; says how to install it when it does not. */
static bool have_mmdebstrap(const struct buildenv *be)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *ver[] = { "mmdebstrap", "--version", NULL };

	o.quiet = true;
	o.out_fd = SPAWN_DEVNULL;
	o.err_fd = SPAWN_DEVNULL;
	if (spawn_run(ver, &o)) {
		pr_err("making the %s chroot needs mmdebstrap, which is not installed: scripts/setup installs it (apt-get install mmdebstrap)",
		       be->suite);
		return false;
	}
	return true;
}

/*
 * The mmdebstrap command line that makes @be's suite in @stage_root with
 * the packages @inc (comma-separated), in a private mount namespace.
 */
static void mmdebstrap_argv(struct argv *a, const struct buildenv *be,
			    const char *inc, const struct argv *opts,
			    const char *stage_root, const char *uri)
{
	argv_push(a, "unshare");
	argv_push(a, "--mount");
	argv_push(a, "--propagation");
	argv_push(a, "private");
	argv_push(a, "--");
	argv_push(a, "mmdebstrap");
	argv_push(a, "--variant=apt");
	argv_push(a, "--mode=root");
	/*
	 * Nothing of the host is mounted in, not even while it is made
	 * (root mode would bind /dev's files and /sys): the packages of a
	 * compiler install without them.
	 */
	argv_push(a, "--skip=chroot/mount");
	argv_pushf(a, "--include=%s", inc);
	for (size_t i = 0; i < opts->n; i++)
		argv_pushf(a, "--aptopt=%s", opts->v[i]);
	for (size_t i = 0; i < ARRAY_SIZE(path_excludes); i++)
		argv_pushf(a, "--dpkgopt=path-exclude=%s", path_excludes[i]);
	argv_push(a, be->suite);
	argv_push(a, stage_root);
	argv_push(a, uri);
}

/*
 * Run @argv (mmdebstrap) with its output in @log, echoing its progress
 * lines while it runs; on failure show the end of @log.
 */
static int run_mmdebstrap(const struct buildenv *be, char *const argv[],
			  const char *log, const char *cc, const char *inc)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	size_t off = 0;
	int fd, status = -1, ret = -1;
	pid_t pid;

	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		pr_err("%s: %s", log, strerror(errno));
		return -1;
	}
	pr_info("making a %s chroot to build modules with %s (once; a few minutes): %s; log %s",
		be->suite, cc, inc, log);
	o.out_fd = fd;
	o.err_fd = fd;
	pid = spawn_start(argv, &o);
	if (pid < 0) {
		pr_err("mmdebstrap: %s", strerror(errno));
		goto out;
	}
	while (spawn_poll(pid, &status) == 0) {
		show_progress(be->suite, log, &off);
		sleep_ms(500);
	}
	show_progress(be->suite, log, &off);
	if (status) {
		char *tail = tail_of(log, 15);

		pr_err("mmdebstrap %s failed (status %d); the end of %s:\n%s",
		       be->suite, status, log, tail ? tail : "");
		free(tail);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/*
 * Check the compiler @cc runs in the made @stage, record what it holds
 * and rename it over @be's chroot; @t0 is when the making began.
 */
static int install_chroot(const struct buildenv *be, const char *stage,
			  const char *stage_root, const struct argv *pkgs,
			  const struct argv *kbuilds, const char *cc,
			  uint64_t t0)
{
	char *compiler = chroot_cc_version(stage_root, cc);
	unsigned long long bytes;
	char size[32], took[32];
	int ret = -1;

	if (!compiler)
		return -1;
	bytes = disk_use(stage_root);
	if (write_manifest(stage, be->suite, pkgs, kbuilds, compiler,
			   now_ms() - t0, bytes) ||
	    remove_chroot(be->dir))
		goto out;
	if (rename(stage, be->dir)) {
		pr_err("%s: %s", be->dir, strerror(errno));
		goto out;
	}
	fmt_duration(took, sizeof(took), (now_ms() - t0) / 1000.0);
	snprintf(size, sizeof(size), "%.0f MB", bytes / 1e6);
	pr_info("%s chroot ready in %s: %s, %s, in %s", be->suite, took,
		compiler, size, be->dir);
	ret = 0;
out:
	free(compiler);
	return ret;
}

/*
 * Make @be's chroot with @pkgs: mmdebstrap into the stage directory, in a
 * private mount namespace, then check the compiler runs, record what it
 * holds and rename it into place.
 */
static int create_chroot(struct buildenv *be, const char *chroots,
			 const struct argv *pkgs, const struct argv *kbuilds,
			 const char *cc)
{
	char *stage = NULL, *stage_root = NULL, *log = NULL, *uri = NULL;
	struct strbuf inc = STRBUF_INIT;
	struct argv a = { 0 }, opts = { 0 };
	uint64_t t0 = now_ms();
	bool staged = false;
	int ret = -1;

	if (!have_mmdebstrap(be))
		return -1;
	stage = xasprintf("%s/.%s.tmp", chroots, be->suite);
	log = xasprintf("%s/%s.log", chroots, be->suite);
	uri = apt_mirror();
	if (!stage || !log || !uri || apt_validity_opts(&opts))
		goto out;
	/* What a killed attempt left behind is never reused. */
	stage_root = xasprintf("%s/root", stage);
	if (!stage_root || remove_chroot(stage))
		goto out;
	if (mkdir_p(stage, 0755)) {
		pr_err("%s: %s", stage, strerror(errno));
		goto out;
	}
	staged = true;
	argv_join(&inc, pkgs, ",");
	mmdebstrap_argv(&a, be, inc.buf, &opts, stage_root, uri);
	if (run_mmdebstrap(be, a.v, log, cc, inc.buf) ||
	    install_chroot(be, stage, stage_root, pkgs, kbuilds, cc, t0))
		goto out;
	ret = 0;
out:
	if (ret && staged)
		remove_chroot(stage);
	free(stage);
	free(stage_root);
	free(log);
	free(uri);
	strbuf_release(&inc);
	argv_free(&a);
	argv_free(&opts);
	return ret;
}

/* Take the suite's lock, saying so when another process holds it. */
static int lock_suite(struct buildenv *be, const char *chroots)
{
	char *lock = xasprintf("%s/.%s.lock", chroots, be->suite);
	int fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
		pr_info("waiting for the %s chroot: another iommubench is making or using it (%s)",
			be->suite, lock);
		close(fd);
		fd = lock_path(lock);
	}
	if (fd < 0)
		pr_err("%s: %s", lock ? lock : chroots, strerror(errno));
	free(lock);
	be->lockfd = fd;
	return fd < 0 ? -1 : 0;
}

void buildenv_close(struct buildenv *be)
{
	if (be->lockfd >= 0)
		close(be->lockfd);
	free(be->suite);
	free(be->dir);
	free(be->root);
	memset(be, 0, sizeof(*be));
	be->lockfd = -1;
}

int buildenv_for_kernel(const struct kernel *k, struct buildenv *be)
{
	struct kcompiler c;
	struct argv want = { 0 }, have = { 0 }, kbuilds = { 0 };
	char *chroots = NULL, *compiler = NULL, *spec = NULL;
	struct strbuf missing = STRBUF_INIT;
	bool complete, new_spec = false;
	int ret = -1;

	memset(be, 0, sizeof(*be));
	be->lockfd = -1;
	if (kcompiler_read(k->config, &c))
		return -1;
	if (c.on_host) {
		kcompiler_free(&c);
		return 0;
	}
	if (!c.package) {
		pr_err("%s: %s; a build chroot can only provide gcc", k->name,
		       c.why);
		goto out;
	}
	if (!k->suite) {
		pr_err("%s: %s, and the kernel names no Debian suite whose chroot would have it (kernel.json \"suite\")",
		       k->name, c.why);
		goto out;
	}
	if (geteuid() != 0) {
		pr_err("%s: %s; building its modules in a %s chroot that has it needs root (mmdebstrap, mount namespaces, chroot)",
		       k->name, c.why, k->suite);
		goto out;
	}
	be->suite = suite_release(k->suite);
	chroots = xasprintf("%s/chroots", cache_dir());
	be->dir = be->suite && chroots ?
		  xasprintf("%s/%s", chroots, be->suite) : NULL;
	if (!be->dir || mkdir_p(chroots, 0755)) {
		pr_err("%s: %s", chroots ? chroots : cache_dir(),
		       strerror(errno));
		goto out;
	}
	if (push_once(&want, c.package))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(base_packages); i++)
		if (push_once(&want, base_packages[i]))
			goto out;
	if (kbuild_spec(k, &spec) || lock_suite(be, chroots))
		goto out;
	complete = !read_manifest(be->dir, &have, &kbuilds);
	/* The mirror is asked only about a kbuild package not seen before. */
	if (spec && (!complete || !argv_has(&kbuilds, spec))) {
		if (kbuild_depends(spec, &want) || push_once(&kbuilds, spec))
			goto out;
		new_spec = true;
	}
	for (size_t i = 0; i < want.n; i++)
		if (!argv_has(&have, want.v[i]))
			strbuf_addf(&missing, "%s%s", missing.len ? ", " : "",
				    want.v[i]);
	if (!complete || missing.len) {
		if (complete)
			pr_info("the %s chroot lacks %s: making it again with them",
				be->suite, missing.buf);
		for (size_t i = 0; i < want.n; i++)
			if (push_once(&have, want.v[i]))
				goto out;
		if (create_chroot(be, chroots, &have, &kbuilds, c.cc))
			goto out;
	} else if (new_spec) {
		manifest_add_kbuild(be->dir, spec);
	}
	be->root = xasprintf("%s/root", be->dir);
	compiler = be->root ? chroot_cc_version(be->root, c.cc) : NULL;
	if (!compiler)
		goto out;
	{
		const char *last = strrchr(compiler, ' ');

		if (!last || atoi(last + 1) != c.major) {
			pr_err("%s: the %s chroot's %s is '%s', not gcc %d; remove %s to make it again",
			       k->name, be->suite, c.cc, compiler, c.major,
			       be->dir);
			goto out;
		}
	}
	pr_info("building for %s in the %s chroot (%s): %s", k->release,
		be->suite, compiler, c.why);
	ret = 0;
out:
	if (ret)
		buildenv_close(be);
	kcompiler_free(&c);
	argv_free(&want);
	argv_free(&have);
	argv_free(&kbuilds);
	strbuf_release(&missing);
	free(spec);
	free(chroots);
	free(compiler);
	return ret;
}

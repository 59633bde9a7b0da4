// SPDX-License-Identifier: GPL-2.0
/*
 * bench/kernel/buildenv.c without a network: which compiler a kernel
 * config names and whether this machine has it; and, as root, the build
 * chroot's life cycle with a stand-in mmdebstrap (first in PATH) that
 * makes a busybox chroot with fake compilers: made once and reused,
 * remade when a kernel needs a package it lacks or when it is half made,
 * a failed attempt leaves nothing, a chroot with something mounted inside
 * is never removed, a second process waits for the lock, and a command
 * inside sees the chroot, the read-only directory and /proc read-only,
 * writes only the writable directory and a private /tmp, has no network
 * and its own PID namespace.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buildenv.h"
#include "capture.h"
#include "json.h"
#include "spawn.h"
#include "tap.h"
#include "util.h"

static char tmp[] = "/tmp/ib-buildenv.XXXXXX";

static const char fake_mmdebstrap[] =
	"#!/bin/sh\n"
	"# stands in for mmdebstrap: a busybox chroot, a fake gcc-N per\n"
	"# gcc-N asked for; each call logged, FAKE_MMDEBSTRAP_FAIL fails it\n"
	"[ \"$1\" = --version ] && exit 0\n"
	"echo \"$*\" >> \"$FAKE_MMDEBSTRAP_LOG\"\n"
	"n=$#; target=$(eval echo \"\\${$((n - 1))}\")\n"
	"inc=$(echo \"$*\" | tr ' ' '\\n' | sed -n 's/^--include=//p')\n"
	"mkdir -p \"$target/bin\" \"$target/usr/bin\" \"$target/tmp\" \\\n"
	"	\"$target/dev\" \"$target/proc\"\n"
	"echo 'I: extracting archives...'\n"
	"if [ -n \"${FAKE_MMDEBSTRAP_FAIL:-}\" ]; then\n"
	"	echo 'E: fake failure'; exit 1\n"
	"fi\n"
	"cp /bin/busybox \"$target/bin/\"\n"
	"for a in sh cat touch grep test wc echo; do\n"
	"	ln -s busybox \"$target/bin/$a\"\n"
	"done\n"
	"ln -s /bin/busybox \"$target/usr/bin/env\"\n"
	"for p in $(echo \"$inc\" | tr , ' '); do\n"
	"	case $p in gcc-*) v=${p#gcc-}\n"
	"		f=\"$target/usr/bin/x86_64-linux-gnu-gcc-$v\"\n"
	"		printf '#!/bin/sh\\necho \"x86_64-linux-gnu-gcc-%s (Fake %s.1.0-1) %s.1.0\"\\n' $v $v $v > \"$f\"\n"
	"		chmod +x \"$f\" ;;\n"
	"	esac\n"
	"done\n"
	"echo 'I: success in 0.1 seconds'\n";

static char *path_in(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static void put(const char *rel, const char *text)
{
	char *p = path_in(rel);

	if (!p || write_file_atomic(p, text, strlen(text))) {
		perror(rel);
		exit(99);
	}
	free(p);
}

/* Write a kernel config naming @cc_text (NULL: none) and read it back. */
static int compiler_of(const char *cc_text, struct kcompiler *c)
{
	char *text = cc_text ?
		xasprintf("CONFIG_X=y\nCONFIG_CC_VERSION_TEXT=\"%s\"\nCONFIG_Y=y\n",
			  cc_text) :
		strdup("CONFIG_X=y\n");
	char *cfg = path_in("config");
	int ret;

	put("config", text);
	ret = kcompiler_read(cfg, c);
	free(text);
	free(cfg);
	return ret;
}

static void test_compiler(void)
{
	char *argv[] = { "gcc", "-dumpversion", NULL };
	char *host = spawn_capture_line(argv, NULL);
	struct kcompiler c;
	char *text;

	if (!host) {
		printf("Bail out! gcc does not run\n");
		exit(99);
	}
	text = xasprintf("gcc (Debian %d.2.0-14) %d.2.0", atoi(host),
			 atoi(host));
	ok(!compiler_of(text, &c) && c.on_host && c.major == atoi(host) &&
	   !strcmp(c.cc, "gcc") && !c.why,
	   "the host's gcc at the kernel's major version (%s) builds on the host",
	   text);
	kcompiler_free(&c);
	free(text);
	ok(!compiler_of("x86_64-linux-gnu-gcc-99 (Debian 99.1.0-1) 99.1.0",
			&c) && !c.on_host && c.major == 99 &&
	   !strcmp(c.package, "gcc-99") &&
	   !strcmp(c.cc, "x86_64-linux-gnu-gcc-99") &&
	   strstr(c.why, "which this machine lacks"),
	   "a compiler this machine lacks: package gcc-99, and why (%s)",
	   c.why ? c.why : "-");
	kcompiler_free(&c);
	ok(!compiler_of("gcc (Debian 1.0.0-1) 1.0.0", &c) && !c.on_host &&
	   !strcmp(c.package, "gcc") && strstr(c.why, "this machine's gcc is gcc"),
	   "the host's gcc at another major version does not count (%s)",
	   c.why ? c.why : "-");
	kcompiler_free(&c);
	ok(!compiler_of(NULL, &c) && c.on_host && !c.text,
	   "a config without CONFIG_CC_VERSION_TEXT builds on the host");
	kcompiler_free(&c);
	ok(!compiler_of("Debian clang version 16.0.6 (15)", &c) && c.on_host &&
	   !c.package,
	   "a kernel built with clang is left to the host");
	kcompiler_free(&c);
	free(host);
}

/* How many times the stand-in mmdebstrap ran. */
static int mmdebstrap_runs(void)
{
	char *p = path_in("mmdebstrap.log");
	char *text = read_file(p, NULL);
	int n = 0;

	for (char *c = text; c && *c; c++)
		n += *c == '\n';
	free(text);
	free(p);
	return n;
}

static int packages_have(const char *dir, const char *pkg)
{
	char *p = xasprintf("%s/chroot.json", dir);
	char *text = read_file(p, NULL);
	char *q = xasprintf("\"%s\"", pkg);
	int found = text && strstr(text, q);

	free(p);
	free(text);
	free(q);
	return found;
}

static void make_kernel(struct kernel *k, const char *cc_text,
			const char *suite)
{
	char *cfg = xasprintf("#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_CC_VERSION_TEXT=\"%s\"\n",
			      cc_text);

	memset(k, 0, sizeof(*k));
	k->name = "fake";
	k->release = "99.0-fake";
	k->dir = path_in("kernel");
	k->config = path_in("kernel/config");
	k->suite = (char *)suite;
	if (!k->dir || mkdir_p(k->dir, 0755)) {
		perror(k->dir);
		exit(99);
	}
	put("kernel/config", cfg);
	put("kernel/kernel.json", "{ \"name\": \"fake\" }\n");
	free(cfg);
}

static void free_kernel(struct kernel *k)
{
	free(k->dir);
	free(k->config);
}

/* Run @script in @be's chroot with kernel/ read-only, rw/ writable. */
static int inside(const struct buildenv *be, const char *script)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	char *ro = path_in("kernel"), *rw = path_in("rw");
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	int ret;

	o.out_fd = SPAWN_DEVNULL;
	ret = buildenv_run(be, argv, ro, rw, &o);
	free(ro);
	free(rw);
	return ret;
}

static bool no_mounts_under_tmp(void)
{
	char *info = read_file("/proc/self/mountinfo", NULL);
	bool none = info && !strstr(info, tmp);

	free(info);
	return none;
}

static void test_isolation(const struct buildenv *be)
{
	char *s, *p;

	s = xasprintf("cat %s/kernel/config", tmp);
	ok(inside(be, s) == 0, "the read-only directory is visible inside");
	free(s);
	s = xasprintf("touch %s/kernel/new", tmp);
	ok(inside(be, s) != 0, "... and cannot be written");
	free(s);
	s = xasprintf("touch %s/rw/made-inside", tmp);
	p = path_in("rw/made-inside");
	ok(inside(be, s) == 0 && path_exists(p),
	   "the writable directory is written through to the host");
	free(s);
	free(p);
	ok(inside(be, "touch /etc-new") != 0 && inside(be, "touch /bin/x") != 0,
	   "the chroot itself is read-only");
	p = xasprintf("%s/tmp/private", be->root);
	ok(inside(be, "touch /tmp/private && test -f /tmp/private") == 0 &&
	   !path_exists(p), "/tmp is writable and private to the run");
	free(p);
	ok(inside(be, "grep -q '^proc /proc proc ro' /proc/mounts") == 0,
	   "/proc is mounted read-only");
	ok(inside(be, "test $(grep -c : /proc/net/dev) = 1 && grep -q lo: /proc/net/dev") == 0,
	   "no network but loopback");
	ok(inside(be, "test $$ = 1") == 0, "a PID namespace of its own");
	ok(inside(be, "test -z \"${IOMMUBENCH_CACHE:-}\" && test \"$HOME\" = /tmp") == 0,
	   "a clean environment");
	ok(inside(be, "echo x > /dev/null && test ! -e /dev/sda && test ! -e /dev/mem") == 0,
	   "/dev has /dev/null and no host devices");
	ok(no_mounts_under_tmp(), "no mount is left behind in this namespace");
}

static void test_chroot(void)
{
	char *bin = path_in("bin"), *fake = path_in("bin/mmdebstrap");
	char *cache = path_in("cache"), *log = path_in("mmdebstrap.log");
	char *chroot = path_in("cache/chroots/fakesuite");
	char *stage = path_in("cache/chroots/.fakesuite.tmp");
	char *manifest = path_in("cache/chroots/fakesuite/chroot.json");
	char *path = xasprintf("%s:%s", bin, getenv("PATH"));
	struct buildenv be;
	struct kernel k;
	char *err;
	int pipefd[2], ret;
	uint64_t t0;
	pid_t pid;

	mkdir_p(bin, 0755);
	put("bin/mmdebstrap", fake_mmdebstrap);
	chmod(fake, 0755);
	setenv("PATH", path, 1);
	setenv("IOMMUBENCH_CACHE", cache, 1);
	setenv("FAKE_MMDEBSTRAP_LOG", log, 1);
	{
		char *rw = path_in("rw");

		mkdir_p(rw, 0755);
		free(rw);
	}

	make_kernel(&k, "x86_64-linux-gnu-gcc-99 (Debian 99.1.0-1) 99.1.0",
		    NULL);
	capture_begin();
	ret = buildenv_for_kernel(&k, &be);
	err = capture_end();
	ok(ret == -1 && strstr(err, "names no Debian suite"),
	   "a kernel needing another compiler and naming no suite: refused, saying why");
	free(err);

	k.suite = "fakesuite-security";
	setenv("FAKE_MMDEBSTRAP_FAIL", "1", 1);
	capture_begin();
	ret = buildenv_for_kernel(&k, &be);
	err = capture_end();
	unsetenv("FAKE_MMDEBSTRAP_FAIL");
	ok(ret == -1 && strstr(err, "mmdebstrap fakesuite failed") &&
	   strstr(err, "E: fake failure"),
	   "a failed mmdebstrap is reported with the end of its log");
	ok(!path_exists(chroot) && !path_exists(stage),
	   "... and leaves neither a chroot nor a half-made one");
	free(err);

	capture_begin();
	ret = buildenv_for_kernel(&k, &be);
	err = capture_end();
	ok(ret == 0 && be.root && str_has_suffix(be.root, "/chroots/fakesuite/root") &&
	   mmdebstrap_runs() == 2,
	   "the kernel's release (fakesuite of fakesuite-security) gets a chroot");
	ok(strstr(err, "fakesuite chroot: extracting archives") &&
	   strstr(err, "fakesuite chroot ready"),
	   "making it shows mmdebstrap's progress");
	{
		char *args = read_file(log, NULL);

		ok(args && strstr(args, "--skip=chroot/mount") &&
		   strstr(args, "--variant=apt"),
		   "mmdebstrap mounts nothing of the host into the chroot");
		free(args);
	}
	ok(packages_have(chroot, "gcc-99") && packages_have(chroot, "make") &&
	   packages_have(chroot, "libc6-dev"),
	   "chroot.json lists the compiler, make and libc6-dev");
	free(err);
	test_isolation(&be);
	buildenv_close(&be);

	ok(buildenv_for_kernel(&k, &be) == 0 && mmdebstrap_runs() == 2,
	   "a complete chroot is reused");
	buildenv_close(&be);

	/*
	 * A kernel fetched with a linux-kbuild package the chroot was made
	 * for: nothing to ask the mirror (a fake package it does not have).
	 */
	{
		char *text = read_file(manifest, NULL);
		char *p = text ? strstr(text, "\"kbuild\": [") : NULL;
		char *fixed = p ? xasprintf("%.*s\"kbuild\": [ \"linux-kbuild-fake=1\"%s",
					    (int)(p - text), text,
					    p + strlen("\"kbuild\": [")) : NULL;

		ok(fixed && !write_file_atomic(manifest, fixed, strlen(fixed)),
		   "chroot.json has a kbuild list");
		put("kernel/kernel.json",
		    "{ \"name\": \"fake\", \"packages\": [ \"linux-image-fake=1\", \"linux-kbuild-fake=1\" ] }\n");
		ok(buildenv_for_kernel(&k, &be) == 0 && mmdebstrap_runs() == 2,
		   "a kernel whose kbuild package the chroot covers: reused, no lookup");
		buildenv_close(&be);
		put("kernel/kernel.json", "{ \"name\": \"fake\" }\n");
		free(text);
		free(fixed);
	}

	/* A second process holding the chroot makes this one wait. */
	if (pipe(pipefd))
		exit(99);
	pid = fork();
	if (pid == 0) {
		struct buildenv held;

		if (buildenv_for_kernel(&k, &held))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		sleep_ms(1500);
		buildenv_close(&held);
		_exit(0);
	}
	{
		char c;

		close(pipefd[1]);
		ret = read(pipefd[0], &c, 1);
		close(pipefd[0]);
	}
	t0 = now_ms();
	capture_begin();
	ret = ret == 1 ? buildenv_for_kernel(&k, &be) : -1;
	err = capture_end();
	ok(ret == 0 && now_ms() - t0 >= 1000 && strstr(err, "waiting for the fakesuite chroot"),
	   "a process using the chroot holds off another (waited %llu ms)",
	   (unsigned long long)(now_ms() - t0));
	free(err);
	buildenv_close(&be);
	waitpid(pid, NULL, 0);

	free_kernel(&k);
	make_kernel(&k, "x86_64-linux-gnu-gcc-98 (Debian 98.1.0-1) 98.1.0",
		    "fakesuite");
	ok(buildenv_for_kernel(&k, &be) == 0 && mmdebstrap_runs() == 3 &&
	   packages_have(chroot, "gcc-98") && packages_have(chroot, "gcc-99"),
	   "a kernel needing a package the chroot lacks remakes it with both");
	buildenv_close(&be);

	unlink(manifest);
	ok(buildenv_for_kernel(&k, &be) == 0 && mmdebstrap_runs() == 4 &&
	   path_exists(manifest),
	   "a chroot without chroot.json (half made) is made again");
	buildenv_close(&be);

	{
		char *junk = path_in("cache/chroots/.fakesuite.tmp/root/junk");

		mkdir_p(junk, 0755);
		unlink(manifest);
		ok(buildenv_for_kernel(&k, &be) == 0 && mmdebstrap_runs() == 5 &&
		   !path_exists(junk) && !path_exists(stage),
		   "a leftover stage directory is removed, not reused");
		buildenv_close(&be);
		free(junk);
	}

	/* Mount something into a stage in a mount namespace of our own. */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("Bail out! unshare: %s\n", strerror(errno));
		exit(99);
	}
	{
		char *mnt = path_in("cache/chroots/.fakesuite.tmp/root/proc");
		char *keep = path_in("cache/chroots/.fakesuite.tmp/root/proc/keep");

		mkdir_p(mnt, 0755);
		if (mount("tmpfs", mnt, "tmpfs", 0, NULL)) {
			printf("Bail out! mount: %s\n", strerror(errno));
			exit(99);
		}
		put("cache/chroots/.fakesuite.tmp/root/proc/keep", "x");
		unlink(manifest);
		capture_begin();
		ret = buildenv_for_kernel(&k, &be);
		err = capture_end();
		ok(ret == -1 && strstr(err, "not removing it while") &&
		   path_exists(keep) && mmdebstrap_runs() == 5,
		   "a stage with a mount inside is never removed");
		free(err);
		umount(mnt);
		free(mnt);
		free(keep);
	}

	free_kernel(&k);
	free(bin);
	free(fake);
	free(cache);
	free(log);
	free(chroot);
	free(stage);
	free(manifest);
	free(path);
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 99;
	}
	test_compiler();
	if (geteuid() != 0 || !path_exists("/bin/busybox") ||
	    !path_exists("/usr/bin/unshare")) {
		printf("ok %d # SKIP the chroot tests need root, busybox-static and unshare\n",
		       ++tap_n);
	} else {
		test_chroot();
	}
	rm_rf(tmp);
	return tap_done();
}

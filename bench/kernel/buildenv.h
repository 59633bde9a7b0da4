/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a kernel's out-of-tree modules are built: with the compiler the
 * kernel was built with.  When this machine has it (Debian's kernels of
 * the machine's own release, kernels built here) the host builds; when it
 * does not (Debian's 7.2 from sid needs gcc-16 and a newer C library for
 * its prebuilt kbuild tools, trixie's 6.12 gcc-14), a minimal chroot of
 * the kernel's Debian suite does: made once with mmdebstrap from the
 * machine's own mirror and kept in <cache>/chroots/<suite>/.
 */
#ifndef IB_BUILDENV_H
#define IB_BUILDENV_H

#include <stdbool.h>

#include "kernel.h"
#include "spawn.h"

/* The compiler a kernel was built with, from its CONFIG_CC_VERSION_TEXT. */
struct kcompiler {
	char *text;	/* "x86_64-linux-gnu-gcc-16 (Debian 16.2.0-4) 16.2.0" */
	char *cc;	/* the program: "x86_64-linux-gnu-gcc-16" */
	char *package;	/* the Debian package that has it: "gcc-16" */
	int major;	/* 16 */
	bool on_host;	/* this machine runs @cc, at the same major version */
	char *why;	/* why not, when !@on_host: "this machine has no ..." */
};

/*
 * kcompiler_read - the compiler of the kernel whose config is @config into
 * @c.  A config without CONFIG_CC_VERSION_TEXT (before Linux 5.8) or
 * naming no gcc counts as the host's.  0, or -1 after printing why.
 */
int kcompiler_read(const char *config, struct kcompiler *c);
void kcompiler_free(struct kcompiler *c);

/* An open build environment: the host (@root NULL) or a locked chroot. */
struct buildenv {
	char *suite;	/* "sid" */
	char *dir;	/* <cache>/chroots/<suite> */
	char *root;	/* <dir>/root, or NULL: the host */
	int lockfd;	/* the chroot's lock, held until buildenv_close() */
};

/*
 * buildenv_for_kernel - where @k's out-of-tree modules build: the host
 * when it has @k's compiler, else the chroot of @k's Debian suite with the
 * compiler, make and what the kernel's kbuild tools need, created on first
 * need (minutes, with progress messages) or remade when it lacks a
 * package.  The chroot stays locked against other processes until
 * buildenv_close().  0, or -1 after saying exactly why no chroot can be
 * had (not root, no mmdebstrap, no suite, the mirror ...).
 */
int buildenv_for_kernel(const struct kernel *k, struct buildenv *be);

/*
 * buildenv_run - run @argv (looked up in the chroot's PATH, with a clean
 * environment) inside @be's chroot as spawn_run() would, in private mount,
 * PID and network namespaces: the chroot itself, @ro (a host directory,
 * or NULL) and a fresh /proc are mounted read-only, /tmp and /dev are
 * private, and @rw (or NULL) is the only writable host directory; each
 * appears at its host path.  On the host (@be->root NULL) it is
 * spawn_run().  Returns as spawn_run().
 */
int buildenv_run(const struct buildenv *be, char *const argv[],
		 const char *ro, const char *rw, const struct spawn_opts *o);

void buildenv_close(struct buildenv *be);

#endif /* IB_BUILDENV_H */

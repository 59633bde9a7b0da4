/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommubench kernel build: a kernel directory (see kernel.h) built from
 * Debian's linux-source package or a source tree, with a quilt series
 * applied and a config fragment merged onto tinyconfig.
 */
#ifndef IB_KBUILD_H
#define IB_KBUILD_H

#include <stdbool.h>

struct kbuild_req {
	const char *source;		/* "debian:6.1", "debian:6.12" or a directory */
	const char *rev;		/* with a git tree as @source: the commit */
	const char *series;		/* quilt series file, or NULL */
	const char *const *configs;	/* NULL-terminated fragments; NULL: the default */
	const char *name;		/* kernel name, or NULL: derived from the key */
	unsigned int jobs;		/* make -j; 0: number of CPUs */
	bool force;			/* rebuild even if the key is cached */
	bool check;			/* only check that the series applies */
	bool prepare_only;		/* stop once the tree and .config are ready */
};

/*
 * kbuild_build - build (or find cached) the kernel @req describes and
 * return its directory in *@kdir (caller frees).  Returns 0, or -1 after
 * printing why.  With @req->check, only apply the series to a scratch copy
 * of the files it touches (*@kdir stays NULL).  With @req->prepare_only,
 * stop once the source tree (series applied) and its .config are ready and
 * return the source tree's directory in *@kdir instead.
 */
int kbuild_build(const struct kbuild_req *req, char **kdir);

/*
 * kbuild_git_commit - the full id of commit @rev of the git tree @tree into
 * @sha; -1 after saying that it is not a commit.
 */
int kbuild_git_commit(const char *tree, const char *rev, char sha[41]);

#endif /* IB_KBUILD_H */

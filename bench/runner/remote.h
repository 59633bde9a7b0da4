/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Remote host mode: a lab machine reached over SSH runs the cells on its
 * own hardware.  The suite's programs travel as a bundle (bin/ and the
 * data files, content-addressed, installed once per version under
 * ~/.cache/iommubench/remote on the far side); what the bundle cannot
 * carry is checked there (fio, kernel headers for dmabench.ko, which is
 * built against the remote's running kernel and loaded).  Every cell runs
 * through the same agent, with the same policy verification and safety
 * checks, as local host mode.
 */
#ifndef IB_REMOTE_H
#define IB_REMOTE_H

#include <stdbool.h>

#include <json-c/json.h>

#include "spawn.h"
#include "ssh.h"

struct remote {
	struct ssh_target t;
	char *base;			/* remote directory, relative to home */
	char *bundle;			/* <base>/bundle-<hash> */
	struct json_object *identity;	/* host_identity() there */
};

/*
 * bundle_build - the suite's programs and data files for another machine:
 * <cache>/bundles/bundle-<hash>/{bin,share/iommubench}, built once per
 * content.  Returns the bundle's directory name ("bundle-<hash>") and its
 * parent in *@parent (both caller frees), or NULL after saying why.
 */
char *bundle_build(char **parent);

/*
 * remote_open - connect to @url, install the bundle there unless that
 * version is there already, check that it runs, and read the machine's
 * identity.  0, or -1 after saying why.
 */
int remote_open(const char *url, struct remote *rm);
void remote_close(struct remote *rm);

/*
 * remote_prepare - check what the cells need that the bundle cannot
 * carry: fio (@fio), dmabench.ko loaded (@dmabench: built against the
 * remote's running kernel from the bundle's sources and loaded when it is
 * not).  0, or -1 with the reason in *@why (caller frees).
 */
int remote_prepare(struct remote *rm, bool fio, bool dmabench, char **why);

/*
 * remote_agent - run the boot plan @planrel of the run in @rundir (run
 * @run_id) there: the plan goes over, 'iommubench agent' runs it, and the
 * cell files and logs of @cells (ids) come back into @rundir.  0, or -1
 * with the reason in *@why (a lost connection says so, with ssh's words);
 * the cells that came back before a failure are kept.
 */
int remote_agent(struct remote *rm, const char *rundir, const char *run_id,
		 const char *planrel, char *const cells[], bool force,
		 char **why);

/*
 * remote_command - run the bundle's 'iommubench @args' there with the
 * caller's stdin, stdout and stderr; returns its exit status, or
 * EXIT_ERROR after saying so when the connection failed.
 */
int remote_command(struct remote *rm, char *const args[]);

/*
 * remote_forward - for the subcommands that take --target ssh://...
 * (policy, vm): when @argv has --target URL or --target=URL, run the
 * same command line without it on URL and return its status in *@status
 * (true); false when there is no such option.
 */
bool remote_forward(int argc, char **argv, int *status);

#endif /* IB_REMOTE_H */

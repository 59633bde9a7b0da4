/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IB_IOMMUBENCH_H
#define IB_IOMMUBENCH_H

/*
 * Exit codes of the iommubench subcommands.  'vm run' passes COMMAND's own
 * status through and uses the 12x codes only when COMMAND did not finish.
 */
#define EXIT_ERROR	1	/* the operation failed */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_POLICY	122	/* effective policy differs from the request */
#define EXIT_GUEST	123	/* guest panicked or died before COMMAND ended */
#define EXIT_TIMEOUT	124	/* watchdog: guest hung or --timeout passed */
#define EXIT_VM		125	/* QEMU or set-up failed before booting */

/*
 * Where the suite's own files live: the source tree when running from the
 * build tree, else $(pkgdatadir).  Both static strings.
 */
const char *ib_datadir(void);
/* Directory of the running executable (sibling programs live there). */
const char *ib_bindir(void);

int cmd_kernel(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_commits(int argc, char **argv);
int cmd_bisect(int argc, char **argv);
int cmd_bisect_step(int argc, char **argv);
/* analysis/ */
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_synth_store(int argc, char **argv);

#endif /* IB_IOMMUBENCH_H */

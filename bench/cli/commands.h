/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IB_COMMANDS_H
#define IB_COMMANDS_H

#include "exitcodes.h"

/*
 * The commands' entry points, argv[0] the command's name: in
 * bench/cli/cmd-*.c, except the hidden host-info, fanout and fanout-job
 * (bench/runner/, beside what they serve).
 */
int cmd_kernel(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_exposure(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_commits(int argc, char **argv);
int cmd_bisect(int argc, char **argv);
int cmd_bisect_step(int argc, char **argv);
int cmd_host_info(int argc, char **argv);
int cmd_fanout_job(int argc, char **argv);
int cmd_fanout(int argc, char **argv);
/* over the analysis engines of analysis.h */
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_noise(int argc, char **argv);
int cmd_synth_store(int argc, char **argv);

#endif /* IB_COMMANDS_H */

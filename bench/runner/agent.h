/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IB_AGENT_H
#define IB_AGENT_H

#include <stdbool.h>

/*
 * agent_run - run the cells of the boot plan @plan on this machine and
 * write @outdir/cells/<id>.json for each (and logs/<id>.log).  @force
 * rebinds a device even if it backs a mounted filesystem.  Returns 0, or
 * EXIT_ERROR when a cell file could not be written.
 */
int agent_run(const char *plan, const char *outdir, bool force);

int cmd_agent(int argc, char **argv);

#endif /* IB_AGENT_H */

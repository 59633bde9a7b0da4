/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IB_AGENT_H
#define IB_AGENT_H

#include <stdbool.h>

/*
 * A cell file's "status" (results/README), with "error" saying why when
 * it is not ok:
 *   ok           measured
 *   failed       it ran and its configuration failed: the device did not
 *                have the policy, a rebind was refused, the workload or
 *                its tracer failed.  A result: --resume keeps it.
 *   error        the suite failed, not the configuration: a boot that did
 *                not come up, panicked or hung, QEMU, a file the agent or
 *                the runner could not write (ENOSPC, EIO ...).  --resume
 *                runs the cell again.
 *   interrupted  the run was stopped (SIGINT, SIGTERM) before the cell
 *                finished.  --resume runs it again.
 */
#define CELL_STATUS_OK		"ok"
#define CELL_STATUS_FAILED	"failed"
#define CELL_STATUS_ERROR	"error"
#define CELL_STATUS_INTERRUPTED	"interrupted"

/*
 * agent_run - run the cells of the boot plan @plan on this machine and
 * write @outdir/cells/<id>.json for each (and logs/<id>.log).  @force
 * rebinds a device even if it backs a mounted filesystem.  A cell file
 * that cannot be written whole is replaced by a short one with status
 * error and the reason (strerror included).  Returns 0, or EXIT_ERROR
 * when a cell file could not be written at all (the reason is printed).
 */
int agent_run(const char *plan, const char *outdir, bool force);

/*
 * agent_interrupt - make a running agent_run() (host mode, in process)
 * start no further cell; a cell that fails from now on is interrupted,
 * not failed (async-signal-safe).
 */
void agent_interrupt(void);

int cmd_agent(int argc, char **argv);

#endif /* IB_AGENT_H */

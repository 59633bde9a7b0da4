/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exit codes of every iommubench program (iommubench, dmabench,
 * iommutrace), documented in their man pages under EXIT STATUS.
 */
#ifndef IB_EXITCODES_H
#define IB_EXITCODES_H

#define EXIT_OK			0
#define EXIT_ERROR		1	/* the operation failed (a regression, for gate) */
#define EXIT_USAGE		2	/* bad command line; nothing was done */
/* 3 means one of these two, never both in one program: */
#define EXIT_ENVIRONMENT	3	/* dmabench, iommutrace: this machine cannot */
#define EXIT_UNDECIDED		3	/* gate, commits, bisect: cannot judge */
/*
 * 'vm run' passes COMMAND's own status through and uses these only when
 * COMMAND did not finish.
 */
#define EXIT_POLICY		122	/* effective policy differs from the request */
#define EXIT_GUEST		123	/* guest panicked or died before COMMAND ended */
#define EXIT_TIMEOUT		124	/* watchdog: guest hung or --timeout passed */
#define EXIT_VM			125	/* QEMU or set-up failed before booting */

#endif /* IB_EXITCODES_H */

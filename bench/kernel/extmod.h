/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IB_EXTMOD_H
#define IB_EXTMOD_H

#include "kernel.h"

/*
 * extmod_dmabench - path of dmabench.ko built for @k (building it first if
 * a source is newer than the cached module), or NULL after printing why.
 * Caller frees.
 */
char *extmod_dmabench(const struct kernel *k);

#endif /* IB_EXTMOD_H */

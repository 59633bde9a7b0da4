/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The identity of the machine a measurement ran on, for manifests and
 * cells: the same record whether the machine is this one, a lab machine
 * reached over SSH or a fan-out host.
 */
#ifndef IB_HOSTINFO_H
#define IB_HOSTINFO_H

#include <json-c/json.h>

/*
 * host_identity - {name, kernel, arch, cpus, mem_bytes, cpu_model,
 * iommu: {units, groups, cmdline}} of this machine: units are the IOMMU
 * instances of /sys/class/iommu (dmar0, ivhd0 ...), groups the number of
 * IOMMU groups, cmdline the kernel's iommu options.  Never NULL.
 */
struct json_object *host_identity(void);

/* iommubench host-info: print host_identity() as JSON (used over SSH). */
int cmd_host_info(int argc, char **argv);

#endif /* IB_HOSTINFO_H */

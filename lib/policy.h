/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOMMU DMA policies and how the kernel shows them: the type of a device's
 * IOMMU group (/sys/kernel/iommu_groups/<n>/type) is the ground truth that
 * every measurement is labelled from.
 */
#ifndef IB_POLICY_H
#define IB_POLICY_H

#include <stdbool.h>

#include "util.h"

enum iommu_policy {
	POLICY_DEFAULT = -1,	/* not requested: whatever the kernel chose */
	POLICY_STRICT,		/* group type DMA */
	POLICY_LAZY,		/* group type DMA-FQ */
	POLICY_IDENTITY,	/* group type identity */
	POLICY_BLOCKED,		/* group type blocked (6.12+), never requested */
	POLICY_UNKNOWN,
};

const char *policy_name(enum iommu_policy p);
int policy_parse(const char *s, enum iommu_policy *p);
/* The group type string the kernel uses for @p ("DMA", "DMA-FQ" ...). */
const char *policy_group_type(enum iommu_policy p);
enum iommu_policy policy_from_group_type(const char *type);

struct device_policy {
	char dev[64];		/* "0000:00:04.0" */
	int group;		/* -1: no IOMMU group */
	char type[32];		/* group type as read */
	enum iommu_policy policy;
	char driver[64];	/* bound driver, "" when none */
	int group_devices;	/* devices sharing the group */
};

/*
 * policy_normalize_dev - "00:04.0" -> "0000:00:04.0"; other device names
 * are kept.  Returns -1 when @in cannot name a device (empty, a path, or
 * starting with '.': is_plain_name()), errno EINVAL, or when the name
 * does not fit in @len bytes, errno ENAMETOOLONG.
 */
int policy_normalize_dev(const char *in, char *out, size_t len);
/* policy_read - fill @dp for PCI or platform device @dev (sysfs name). */
int policy_read(const char *dev, struct device_policy *dp);
/* policy_set() flags */
#define POLICY_SET_REBIND	0x1	/* unbind a bound driver, rebind after */
#define POLICY_SET_FORCE	0x2	/* unbind even if the storage is in use */

/*
 * policy_set - write @p to the group type of @dev.  With POLICY_SET_REBIND
 * in @flags, a bound PCI driver is unbound first and rebound after, unless
 * the kernel takes the change while bound (DMA -> DMA-FQ).  Before
 * anything is unbound, the unbind is refused (EBUSY) when the IOMMU group
 * holds other devices (the kernel would refuse the write), or, without
 * POLICY_SET_FORCE, when the device's storage is in use
 * (pcidev_storage_users()).  On failure, @why (if not NULL) receives an
 * explanation.
 */
int policy_set(const char *dev, enum iommu_policy p, unsigned int flags,
	       struct strbuf *why);
/*
 * policy_kernel_log - append the kernel log lines that explain the policy
 * the kernel chose (default domain, invalidation policy, forced strict).
 */
int policy_kernel_log(struct strbuf *out);
/*
 * policy_strict_forced - the kernel log line in @log saying the IOMMU
 * driver forced strict mode at boot (caching mode on VT-d, NpCache on
 * AMD-Vi), or NULL; *@len gets the line's length.
 */
const char *policy_strict_forced(const char *log, size_t *len);

#endif /* IB_POLICY_H */

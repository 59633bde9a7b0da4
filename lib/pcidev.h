/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI driver plumbing through sysfs: which driver a device has, unbinding
 * it, binding it to a named driver directly or through driver_override,
 * and what on the running system would break if it were unbound (the block
 * devices on it and what uses them).
 *
 * Devices are named by their full PCI address ("0000:00:05.0").  Paths go
 * through sysfs_path(), so $IOMMUBENCH_SYSFS_ROOT redirects them to a fake
 * tree (/proc/self/mountinfo and /proc/swaps included).  Functions return
 * -1 and set errno on failure; none of them prints or exits.
 */
#ifndef IB_PCIDEV_H
#define IB_PCIDEV_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/**
 * pcidev_exists() - whether PCI device @bdf exists
 * @bdf: PCI address
 *
 * Return: true if /sys/bus/pci/devices/@bdf exists.
 */
bool pcidev_exists(const char *bdf);

/**
 * pcidev_driver() - name of the driver bound to a PCI device
 * @bdf: PCI address
 * @drv: receives the driver's name, "" when no driver is bound
 * @len: size of @drv
 *
 * Return: 0, or -1 with errno (ENODEV: no such device, ENAMETOOLONG).
 */
int pcidev_driver(const char *bdf, char *drv, size_t len);

/**
 * pcidev_unbind() - unbind a PCI device from its driver
 * @bdf: PCI address
 *
 * Writes @bdf to the device's driver/unbind.  A device without a driver is
 * left alone.
 *
 * Return: 0, or -1 with errno from the kernel.
 */
int pcidev_unbind(const char *bdf);

/**
 * pcidev_bind() - bind a PCI device to a driver by name
 * @bdf: PCI address
 * @drv: driver name, as under /sys/bus/pci/drivers
 *
 * Writes @bdf to /sys/bus/pci/drivers/@drv/bind.  The driver must match the
 * device (ID table or driver_override).
 *
 * Return: 0, or -1 with errno from the kernel (ENOENT: no such driver).
 */
int pcidev_bind(const char *bdf, const char *drv);

/**
 * pcidev_set_override() - set or clear a PCI device's driver_override
 * @bdf: PCI address
 * @drv: driver name, or NULL to clear the override
 *
 * Return: 0, or -1 with errno.
 */
int pcidev_set_override(const char *bdf, const char *drv);

/**
 * pcidev_probe() - ask the PCI core to find a driver for a device
 * @bdf: PCI address
 *
 * Writes @bdf to /sys/bus/pci/drivers_probe.  The probe's own failure does
 * not reliably come back here: check pcidev_driver() afterwards.
 *
 * Return: 0, or -1 with errno.
 */
int pcidev_probe(const char *bdf);

/**
 * pcidev_bind_override() - bind a PCI device to a driver via driver_override
 * @bdf: PCI address, with no driver bound
 * @drv: driver name
 *
 * Sets driver_override to @drv, probes, and checks that @drv is now bound.
 * On failure the override is cleared again.
 *
 * Return: 0, or -1 with errno (EBUSY: a driver is bound already, ENXIO:
 * the probe did not bind @drv; the kernel log says why).
 */
int pcidev_bind_override(const char *bdf, const char *drv);

/**
 * pcidev_release_override() - undo pcidev_bind_override()
 * @bdf: PCI address
 * @drv: the driver pcidev_bind_override() bound
 * @restore: driver to give the device back to, or NULL / "" for none
 *
 * Unbinds @bdf if @drv has it, clears driver_override and, with @restore,
 * binds the device to @restore again (which must match it by its ID
 * table).  Every step is tried.
 *
 * Return: 0, or -1 with the errno of the first step that failed.
 */
int pcidev_release_override(const char *bdf, const char *drv,
			    const char *restore);

/**
 * pcidev_blockdevs() - the block devices on a PCI device
 * @bdf: PCI address
 * @out: receives the names, each followed by a space: every disk under
 *       /sys/block whose sysfs path runs through @bdf, then its partitions;
 *       for a path of a multipath NVMe namespace (nvme0c1n1), the
 *       namespace's disk (nvme0n1) and its partitions too
 *
 * Return: how many names were added.
 */
int pcidev_blockdevs(const char *bdf, struct strbuf *out);

/**
 * pcidev_storage_users() - what uses the storage on a PCI device
 * @bdf: PCI address
 * @out: receives one description per use, separated by ", "
 *
 * Looks at every block device on @bdf (pcidev_blockdevs()) and, through
 * /sys/class/block/<name>/holders recursively, at what is stacked on them
 * (device-mapper: LVM, LUKS, multipath; md RAID).  A use is a filesystem
 * mounted from any of them (/proc/self/mountinfo, by device number or by
 * source path), active swap on one (/proc/swaps), or a stacked device
 * ("nvme0n1 -> md0 (stacked device)"): unbinding the driver would pull the
 * storage from under it.  Descriptions name the chain from the disk or
 * partition to the user: "nvme0n1p2 -> dm-0 (vg-root) mounted on /",
 * "nvme0n1p3 is active swap".
 *
 * Return: the number of uses (0: nothing uses it).
 */
int pcidev_storage_users(const char *bdf, struct strbuf *out);

#endif /* IB_PCIDEV_H */

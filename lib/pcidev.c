// SPDX-License-Identifier: GPL-2.0
/*
 * PCI driver plumbing through sysfs (see pcidev.h).
 *
 * Binding through driver_override (Linux 3.16+) rather than new_id keeps
 * the driver's ID table untouched: only the named device is affected.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcidev.h"
#include "util.h"

#define PCI_SYSFS	"/sys/bus/pci"

bool pcidev_exists(const char *bdf)
{
	char *path = sysfs_path(PCI_SYSFS "/devices/%s", bdf);
	bool ret = path && path_exists(path);

	free(path);
	return ret;
}

/* write @val to /sys/bus/pci/devices/@bdf/@attr */
/* Write @val to @path, which is freed; errno is the write's. */
static int write_free(char *path, const char *val)
{
	int ret, err;

	if (!path)
		return -1;
	ret = sysfs_write(path, val);
	err = errno;
	free(path);
	errno = err;
	return ret;
}

static int dev_write(const char *bdf, const char *attr, const char *val)
{
	return write_free(sysfs_path(PCI_SYSFS "/devices/%s/%s", bdf, attr),
			  val);
}

int pcidev_driver(const char *bdf, char *drv, size_t len)
{
	char *path;
	int ret, err;

	if (!pcidev_exists(bdf)) {
		errno = ENODEV;
		return -1;
	}
	path = sysfs_path(PCI_SYSFS "/devices/%s/driver", bdf);
	if (!path)
		return -1;
	ret = readlink_base(path, drv, len);
	err = errno;
	free(path);
	if (ret && err == ENOENT) {
		if (len)
			drv[0] = '\0';
		return 0;
	}
	errno = err;
	return ret;
}

int pcidev_unbind(const char *bdf)
{
	char drv[256];

	if (pcidev_driver(bdf, drv, sizeof(drv)))
		return -1;
	if (!drv[0])
		return 0;
	return dev_write(bdf, "driver/unbind", bdf);
}

int pcidev_bind(const char *bdf, const char *drv)
{
	return write_free(sysfs_path(PCI_SYSFS "/drivers/%s/bind", drv), bdf);
}

int pcidev_set_override(const char *bdf, const char *drv)
{
	/* an empty line clears it (a bare "" write is refused by 6.1) */
	return dev_write(bdf, "driver_override", drv ? drv : "\n");
}

int pcidev_probe(const char *bdf)
{
	return write_free(sysfs_path(PCI_SYSFS "/drivers_probe"), bdf);
}

int pcidev_bind_override(const char *bdf, const char *drv)
{
	char cur[256];
	int err;

	if (pcidev_driver(bdf, cur, sizeof(cur)))
		return -1;
	if (!strcmp(cur, drv))
		return 0;
	if (cur[0]) {
		errno = EBUSY;
		return -1;
	}
	if (pcidev_set_override(bdf, drv))
		return -1;
	/*
	 * drivers_probe returns the probe's error on some kernels and 0 on
	 * others: the driver link is what tells.
	 */
	err = pcidev_probe(bdf) ? errno : 0;
	if (!pcidev_driver(bdf, cur, sizeof(cur)) && !strcmp(cur, drv))
		return 0;
	pcidev_set_override(bdf, NULL);
	errno = err && err != ENODEV ? err : ENXIO;
	return -1;
}

int pcidev_release_override(const char *bdf, const char *drv,
			    const char *restore)
{
	char cur[256];
	int err = 0;

	if (pcidev_driver(bdf, cur, sizeof(cur)))
		return -1;
	if (!strcmp(cur, drv) && dev_write(bdf, "driver/unbind", bdf))
		err = errno;
	if (pcidev_set_override(bdf, NULL) && !err)
		err = errno;
	if (restore && restore[0] && pcidev_bind(bdf, restore) && !err)
		err = errno;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

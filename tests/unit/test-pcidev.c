// SPDX-License-Identifier: GPL-2.0
/*
 * PCI driver plumbing against a fake sysfs tree: /sys/bus/pci/devices/<bdf>
 * links into /sys/devices, driver links, driver_override, drivers_probe
 * and the drivers' bind/unbind attributes as plain files.  A fake tree
 * binds nothing on probe, which is what the failure path needs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcidev.h"
#include "tap.h"
#include "util.h"

#define TESTDEV	"0000:00:05.0"
#define DISK	"0000:00:04.0"

static char root[] = "/tmp/ib-test-pcidev-XXXXXX";

static char *at(const char *rel)
{
	return xasprintf("%s%s", root, rel);
}

static void mk(const char *rel)
{
	char *p = at(rel);

	mkdir_p(p, 0755);
	free(p);
}

static void put(const char *rel, const char *text)
{
	char *p = at(rel);

	write_file_atomic(p, text, strlen(text));
	free(p);
}

static void ln(const char *target, const char *rel)
{
	char *p = at(rel);

	unlink(p);
	symlink(target, p);
	free(p);
}

static void rm(const char *rel)
{
	char *p = at(rel);

	unlink(p);
	free(p);
}

/* the attribute's content, trimmed; "" when missing */
static const char *get(const char *rel)
{
	static char buf[256];
	char *p = at(rel), *text = read_file(p, NULL);

	free(p);
	snprintf(buf, sizeof(buf), "%s", text ? strtrim(text) : "");
	free(text);
	return buf;
}

static void fake_sysfs(void)
{
	static const char *const drivers[] = { "nvme", "dmabench" };

	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
		char *d = xasprintf("/sys/bus/pci/drivers/%s", drivers[i]);
		char *f;

		mk(d);
		f = xasprintf("%s/bind", d);
		put(f, "");
		free(f);
		f = xasprintf("%s/unbind", d);
		put(f, "");
		free(f);
		free(d);
	}
	put("/sys/bus/pci/drivers_probe", "");
	mk("/sys/bus/pci/devices");
	mk("/sys/devices/pci0000:00/" DISK);
	put("/sys/devices/pci0000:00/" DISK "/driver_override", "(null)\n");
	ln("../../../devices/pci0000:00/" DISK, "/sys/bus/pci/devices/" DISK);
	ln("../../../bus/pci/drivers/nvme",
	   "/sys/devices/pci0000:00/" DISK "/driver");
	mk("/sys/devices/pci0000:00/" TESTDEV);
	put("/sys/devices/pci0000:00/" TESTDEV "/driver_override", "(null)\n");
	ln("../../../devices/pci0000:00/" TESTDEV,
	   "/sys/bus/pci/devices/" TESTDEV);
}

static void test_driver(void)
{
	char drv[64] = "x";

	ok(pcidev_exists(DISK) && pcidev_exists(TESTDEV) &&
	   !pcidev_exists("0000:00:09.0"), "pcidev_exists sees the fake devices");
	ok(!pcidev_driver(DISK, drv, sizeof(drv)) && !strcmp(drv, "nvme"),
	   "the disk's driver reads as nvme (%s)", drv);
	ok(!pcidev_driver(TESTDEV, drv, sizeof(drv)) && !drv[0],
	   "a device without a driver reads as \"\"");
	errno = 0;
	ok(pcidev_driver("0000:00:09.0", drv, sizeof(drv)) && errno == ENODEV,
	   "a missing device is ENODEV");
	errno = 0;
	ok(pcidev_driver(DISK, drv, 4) && errno == ENAMETOOLONG,
	   "a driver name longer than the buffer is ENAMETOOLONG");
}

static void test_unbind_bind(void)
{
	ok(!pcidev_unbind(DISK) &&
	   !strcmp(get("/sys/bus/pci/drivers/nvme/unbind"), DISK),
	   "pcidev_unbind writes the address to the driver's unbind");
	put("/sys/bus/pci/drivers/dmabench/unbind", "");
	ok(!pcidev_unbind(TESTDEV) &&
	   !*get("/sys/bus/pci/drivers/dmabench/unbind"),
	   "unbinding a device without a driver does nothing");
	ok(!pcidev_bind(DISK, "nvme") &&
	   !strcmp(get("/sys/bus/pci/drivers/nvme/bind"), DISK),
	   "pcidev_bind writes the address to the driver's bind");
	errno = 0;
	ok(pcidev_bind(DISK, "nosuch") && errno == ENOENT,
	   "binding to a driver that does not exist is ENOENT");
	ok(!pcidev_set_override(TESTDEV, "dmabench") &&
	   !strcmp(get("/sys/devices/pci0000:00/" TESTDEV "/driver_override"),
		   "dmabench"), "pcidev_set_override writes the name");
	ok(!pcidev_set_override(TESTDEV, NULL) &&
	   !*get("/sys/devices/pci0000:00/" TESTDEV "/driver_override"),
	   "pcidev_set_override(NULL) clears it");
}

static void test_override(void)
{
	errno = 0;
	ok(pcidev_bind_override(TESTDEV, "dmabench") && errno == ENXIO,
	   "a probe that binds nothing is ENXIO");
	ok(!strcmp(get("/sys/bus/pci/drivers_probe"), TESTDEV) &&
	   !*get("/sys/devices/pci0000:00/" TESTDEV "/driver_override"),
	   "... after probing, and the override is cleared again");
	errno = 0;
	ok(pcidev_bind_override(DISK, "dmabench") && errno == EBUSY,
	   "a device bound to another driver is EBUSY");

	/* as if the probe had worked */
	ln("../../../bus/pci/drivers/dmabench",
	   "/sys/devices/pci0000:00/" TESTDEV "/driver");
	put("/sys/bus/pci/drivers_probe", "");
	ok(!pcidev_bind_override(TESTDEV, "dmabench") &&
	   !*get("/sys/bus/pci/drivers_probe"),
	   "a device already bound to the driver needs nothing");
	put("/sys/bus/pci/drivers/nvme/bind", "");
	put("/sys/devices/pci0000:00/" TESTDEV "/driver_override", "dmabench");
	ok(!pcidev_release_override(TESTDEV, "dmabench", "nvme") &&
	   !strcmp(get("/sys/bus/pci/drivers/dmabench/unbind"), TESTDEV) &&
	   !*get("/sys/devices/pci0000:00/" TESTDEV "/driver_override") &&
	   !strcmp(get("/sys/bus/pci/drivers/nvme/bind"), TESTDEV),
	   "pcidev_release_override unbinds, clears and gives the device back");
	rm("/sys/bus/pci/drivers_probe");
	rm("/sys/devices/pci0000:00/" TESTDEV "/driver");
	errno = 0;
	ok(pcidev_bind_override(TESTDEV, "dmabench") && errno == ENOENT,
	   "a missing drivers_probe is ENOENT, not created");
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	fake_sysfs();
	setenv("IOMMUBENCH_SYSFS_ROOT", root, 1);
	test_driver();
	test_unbind_bind();
	test_override();
	unsetenv("IOMMUBENCH_SYSFS_ROOT");
	rm_rf(root);
	return tap_done();
}

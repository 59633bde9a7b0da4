// SPDX-License-Identifier: GPL-2.0
/*
 * PCI driver plumbing against a fake sysfs tree: /sys/bus/pci/devices/<bdf>
 * links into /sys/devices, driver links, driver_override, drivers_probe
 * and the drivers' bind/unbind attributes as plain files.  A fake tree
 * binds nothing on probe, which is what the failure path needs.
 *
 * The storage checks get NVMe disks under the fake devices (/sys/block,
 * /sys/class/block, partitions, holders: dm and md stacked on them) and a
 * fake /proc/self/mountinfo and /proc/swaps; the host-mode refusals of
 * policy_set() get IOMMU groups.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcidev.h"
#include "policy.h"
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

/* A PCI device @bdf, without a driver. */
static void pci(const char *bdf)
{
	char *d = xasprintf("/sys/devices/pci0000:00/%s", bdf);
	char *l = xasprintf("/sys/bus/pci/devices/%s", bdf);
	char *t = at(d);

	mk(d);
	ln(t, l);
	free(t);
	free(l);
	free(d);
}

/* Block device @name with number @devno in sysfs directory @dir. */
static void blk(const char *dir, const char *name, const char *devno)
{
	char *f = xasprintf("%s/dev", dir), *t = at(dir);
	char *l = xasprintf("/sys/class/block/%s", name);

	mk(dir);
	put(f, devno);
	free(f);
	f = xasprintf("%s/holders", dir);
	mk(f);
	mk("/sys/class/block");
	ln(t, l);
	free(f);
	free(l);
	free(t);
}

/* NVMe disk @disk on PCI device @bdf. */
static void disk(const char *bdf, const char *name, const char *devno)
{
	char *d = xasprintf("/sys/devices/pci0000:00/%s/nvme/%s", bdf, name);
	char *l = xasprintf("/sys/block/%s", name), *t = at(d);

	blk(d, name, devno);
	mk("/sys/block");
	ln(t, l);
	free(d);
	free(l);
	free(t);
}

/* Partition @part of disk @name. */
static void part(const char *name, const char *part, const char *devno)
{
	char *d = xasprintf("/sys/class/block/%s/%s", name, part);
	char *f = xasprintf("%s/partition", d);

	blk(d, part, devno);
	put(f, "1\n");
	free(f);
	free(d);
}

/* A dm (with @dmname) or md device stacked on @lower. */
static void stack(const char *lower, const char *name, const char *devno,
		  const char *dmname)
{
	char *d = xasprintf("/sys/devices/virtual/block/%s", name);
	char *h = xasprintf("/sys/class/block/%s/holders/%s", lower, name);
	char *t = at(d);

	blk(d, name, devno);
	ln(t, h);
	free(h);
	if (dmname) {
		h = xasprintf("%s/dm", d);
		mk(h);
		free(h);
		h = xasprintf("%s/dm/name", d);
		put(h, dmname);
		free(h);
	}
	free(t);
	free(d);
}

/*
 * One PCI device per case, each with its own disk; 0000:00:0c.0's disk is
 * used by nothing.  The mount table has a btrfs-like mount (device number
 * 0:45) found by its source only, and mounts of unrelated disks.
 */
static void fake_storage(void)
{
	char *f;

	pci("0000:00:06.0");
	pci("0000:00:07.0");
	pci("0000:00:08.0");
	pci("0000:00:0a.0");
	pci("0000:00:0b.0");
	pci("0000:00:0c.0");
	pci("0000:00:0d.0");
	pci("0000:00:0e.0");
	/* a partition mounted */
	disk(DISK, "nvme0n1", "259:0\n");
	part("nvme0n1", "nvme0n1p1", "259:1\n");
	/* LVM on a partition, mounted */
	disk("0000:00:06.0", "nvme1n1", "259:2\n");
	part("nvme1n1", "nvme1n1p1", "259:3\n");
	stack("nvme1n1p1", "dm-0", "253:0\n", "vg-root\n");
	/* md RAID on the whole disk, not mounted */
	disk("0000:00:07.0", "nvme2n1", "259:4\n");
	stack("nvme2n1", "md0", "9:0\n", NULL);
	/* swap on a partition */
	disk("0000:00:08.0", "nvme3n1", "259:5\n");
	part("nvme3n1", "nvme3n1p1", "259:6\n");
	part("nvme3n1", "nvme3n1p2", "259:7\n");
	/* dm on md, btrfs: mounted as /dev/mapper/data, device 0:45 */
	disk("0000:00:0a.0", "nvme4n1", "259:8\n");
	stack("nvme4n1", "md1", "9:1\n", NULL);
	stack("md1", "dm-1", "253:1\n", "data\n");
	/* LVM on LUKS on a partition, swap */
	disk("0000:00:0b.0", "nvme5n1", "259:9\n");
	part("nvme5n1", "nvme5n1p1", "259:10\n");
	stack("nvme5n1p1", "dm-2", "253:2\n", "luks-x\n");
	stack("dm-2", "dm-3", "253:3\n", "vg-swap\n");
	/* nothing uses it */
	disk("0000:00:0c.0", "nvme6n1", "259:11\n");
	part("nvme6n1", "nvme6n1p1", "259:12\n");
	/* mounted by UUID (device 0:50): the source resolves to the node */
	disk("0000:00:0d.0", "nvme7n1", "259:13\n");
	mk("/dev/disk/by-uuid");
	put("/dev/nvme7n1", "");
	f = at("/dev/nvme7n1");
	ln(f, "/dev/disk/by-uuid/0b5e");
	free(f);

	/* a multipath NVMe namespace: path nvme8c8n1, disk nvme8n1 */
	disk("0000:00:0e.0", "nvme8c8n1", "259:14\n");
	blk("/sys/devices/virtual/nvme-subsystem/nvme-subsys8/nvme8n1",
	    "nvme8n1", "259:15\n");
	f = at("/sys/devices/virtual/nvme-subsystem/nvme-subsys8/nvme8n1");
	ln(f, "/sys/block/nvme8n1");
	free(f);
	part("nvme8n1", "nvme8n1p1", "259:16\n");

	mk("/proc/self");
	put("/proc/self/mountinfo",
	    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	    "23 22 0:21 / /proc rw shared:2 - proc proc rw\n"
	    "30 22 259:1 / /boot rw,relatime shared:3 - ext4 /dev/nvme0n1p1 rw\n"
	    "31 22 253:0 / /var rw,relatime shared:4 - xfs /dev/mapper/vg-root rw\n"
	    "32 22 0:45 /@ /srv\\040data rw shared:5 - btrfs /dev/mapper/data rw\n"
	    "33 22 0:50 / /mnt rw shared:6 - btrfs /dev/disk/by-uuid/0b5e rw\n"
	    "34 22 8:2 / /home rw shared:7 - ext4 /dev/sda2 rw\n"
	    "35 22 259:16 / /data rw shared:8 - xfs /dev/nvme8n1p1 rw\n");
	put("/proc/swaps",
	    "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	    "/dev/nvme3n1p2                          partition\t1048572\t\t0\t\t-2\n"
	    "/dev/dm-3                               partition\t1048572\t\t0\t\t-3\n"
	    "/dev/sda3                               partition\t1048572\t\t0\t\t-4\n");
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

/* @sb's text, "" when empty */
#define SB(sb)	((sb).buf ? (sb).buf : "")

/* pcidev_storage_users() of @bdf is @want ("" for no use) */
static bool users_are(const char *bdf, const char *want, struct strbuf *sb)
{
	int n;

	strbuf_release(sb);
	n = pcidev_storage_users(bdf, sb);
	return !strcmp(sb->buf ? sb->buf : "", want) && (n > 0) == !!*want;
}

static void test_storage(void)
{
	struct strbuf sb = STRBUF_INIT;

	ok(pcidev_blockdevs(DISK, &sb) == 2 &&
	   !strcmp(sb.buf, "nvme0n1 nvme0n1p1 "),
	   "pcidev_blockdevs lists the disk and its partition: %s", SB(sb));
	ok(users_are(DISK, "nvme0n1p1 mounted on /boot", &sb),
	   "a mounted partition is a use: %s", SB(sb));
	ok(users_are("0000:00:06.0", "nvme1n1p1 -> dm-0 (vg-root) mounted on /var",
		     &sb), "a mounted LVM volume on a partition: %s", SB(sb));
	ok(users_are("0000:00:07.0", "nvme2n1 -> md0 (stacked device)", &sb),
	   "an md array on the disk, not mounted: %s", SB(sb));
	ok(users_are("0000:00:08.0", "nvme3n1p2 is active swap", &sb),
	   "swap on a partition: %s", SB(sb));
	ok(users_are("0000:00:0a.0",
		     "nvme4n1 -> md1 -> dm-1 (data) mounted on /srv data", &sb),
	   "dm on md, mounted by /dev/mapper name with an anonymous device number: %s",
	   SB(sb));
	ok(users_are("0000:00:0b.0",
		     "nvme5n1p1 -> dm-2 (luks-x) -> dm-3 (vg-swap) is active swap",
		     &sb), "swap on LVM on LUKS: %s", SB(sb));
	ok(users_are("0000:00:0d.0", "nvme7n1 mounted on /mnt", &sb),
	   "a mount by /dev/disk/by-uuid resolves to the disk: %s", SB(sb));
	strbuf_release(&sb);
	ok(pcidev_blockdevs("0000:00:0e.0", &sb) == 3 &&
	   !strcmp(sb.buf, "nvme8n1 nvme8n1p1 nvme8c8n1 "),
	   "a multipath NVMe path brings its namespace's disk, first: %s",
	   SB(sb));
	ok(users_are("0000:00:0e.0", "nvme8n1p1 mounted on /data", &sb),
	   "a mount on a multipath NVMe namespace: %s", SB(sb));
	ok(users_are("0000:00:0c.0", "", &sb),
	   "a disk nothing uses passes (unrelated mounts and swap ignored)");
	ok(users_are(TESTDEV, "", &sb), "a device without block devices passes");
	rm("/proc/self/mountinfo");
	strbuf_release(&sb);
	ok(pcidev_storage_users("0000:00:0c.0", &sb) == 1 &&
	   strstr(sb.buf, "/proc/self/mountinfo unreadable"),
	   "without the mount table a device with disks is not cleared: %s",
	   SB(sb));
	ok(users_are(TESTDEV, "", &sb),
	   "... a device without disks still is");
	fake_storage();
	strbuf_release(&sb);
}

/* IOMMU group @grp of type @type holding @bdf. */
static void group(int grp, const char *type, const char *bdf)
{
	char *d = xasprintf("/sys/kernel/iommu_groups/%d", grp);
	char *f = xasprintf("%s/type", d), *t = at(d);
	char *l = xasprintf("/sys/devices/pci0000:00/%s/iommu_group", bdf);

	mk(d);
	put(f, type);
	ln(t, l);
	free(f);
	free(l);
	free(t);
	f = xasprintf("%s/devices", d);
	mk(f);
	free(f);
	f = xasprintf("/sys/devices/pci0000:00/%s", bdf);
	t = at(f);
	free(f);
	f = xasprintf("%s/devices/%s", d, bdf);
	ln(t, f);
	free(f);
	free(t);
	free(d);
}

/* host mode: what policy_set() refuses before it unbinds anything */
static void test_refusals(void)
{
	struct strbuf why = STRBUF_INIT;
	int ret;

	put("/sys/bus/pci/drivers/nvme/unbind", "");
	put("/sys/bus/pci/drivers/nvme/bind", "");
	group(3, "DMA-FQ\n", DISK);
	errno = 0;
	ret = policy_set(DISK, POLICY_IDENTITY, POLICY_SET_REBIND, &why);
	ok(ret && errno == EBUSY && why.buf &&
	   strstr(why.buf, "refusing to unbind " DISK " from nvme: its storage is in use: nvme0n1p1 mounted on /boot; --force overrides"),
	   "policy_set --rebind refuses a disk with a mounted partition: %s",
	   SB(why));
	ok(!*get("/sys/bus/pci/drivers/nvme/unbind") &&
	   !strcmp(get("/sys/kernel/iommu_groups/3/type"), "DMA-FQ"),
	   "... and neither unbinds it nor writes the type");
	strbuf_release(&why);
	ok(!policy_set(DISK, POLICY_IDENTITY,
		       POLICY_SET_REBIND | POLICY_SET_FORCE, &why) &&
	   !strcmp(get("/sys/bus/pci/drivers/nvme/unbind"), DISK) &&
	   !strcmp(get("/sys/kernel/iommu_groups/3/type"), "identity") &&
	   !strcmp(get("/sys/bus/pci/drivers/nvme/bind"), DISK),
	   "--force unbinds, writes and rebinds");
	put("/sys/bus/pci/drivers/nvme/unbind", "");
	put("/sys/kernel/iommu_groups/3/type", "DMA\n");
	strbuf_release(&why);
	ok(!policy_set(DISK, POLICY_LAZY, POLICY_SET_REBIND, &why) &&
	   !*get("/sys/bus/pci/drivers/nvme/unbind") &&
	   !strcmp(get("/sys/kernel/iommu_groups/3/type"), "DMA-FQ"),
	   "strict -> lazy needs no unbind, so a mounted disk is no reason to refuse");

	/* a group shared with another device: refused before the unbind */
	pci("0000:00:1f.0");
	pci("0000:00:1f.2");
	ln("../../../bus/pci/drivers/nvme",
	   "/sys/devices/pci0000:00/0000:00:1f.2/driver");
	ln("../../../bus/pci/drivers/dmabench",
	   "/sys/devices/pci0000:00/0000:00:1f.0/driver");
	group(7, "DMA\n", "0000:00:1f.0");
	group(7, "DMA\n", "0000:00:1f.2");
	strbuf_release(&why);
	errno = 0;
	ret = policy_set("0000:00:1f.2", POLICY_IDENTITY,
			 POLICY_SET_REBIND | POLICY_SET_FORCE, &why);
	ok(ret && errno == EBUSY && why.buf &&
	   strstr(why.buf, "refusing to unbind 0000:00:1f.2 from nvme: IOMMU group 7 also holds 0000:00:1f.0 bound to dmabench"),
	   "a shared IOMMU group is refused, even with --force: %s",
	   SB(why));
	ok(!*get("/sys/bus/pci/drivers/nvme/unbind") &&
	   !strcmp(get("/sys/kernel/iommu_groups/7/type"), "DMA"),
	   "... before anything is unbound or written");
	strbuf_release(&why);
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
	fake_storage();
	test_storage();
	test_refusals();
	unsetenv("IOMMUBENCH_SYSFS_ROOT");
	rm_rf(root);
	return tap_done();
}

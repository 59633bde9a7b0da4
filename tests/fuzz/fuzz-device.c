// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-device - the device and policy strings of lib/policy.c and
 * lib/pcidev.c: names given on the command line (policy_normalize_dev(),
 * policy_parse()), what sysfs shows (the group type, the driver and
 * iommu_group links, read by policy_read() and pcidev_driver()) and the
 * kernel log (policy_strict_forced()).
 *
 * Input: five strings separated by NUL bytes: a device name, the content
 * of group 3's type file, the target of 0000:00:04.0's driver link, that
 * of its iommu_group link, and a kernel log.  A missing string is empty;
 * an empty link target removes the link.  The sysfs tree is a fake one
 * (IOMMUBENCH_SYSFS_ROOT) and only read: the pcidev functions that write
 * are not fuzzed, their device names come from policy_normalize_dev().
 *
 * Checked: an accepted device name is one path component, kept whole and
 * normalized once for all; policy names and group types map back and
 * forth; what policy_read() fills in is consistent.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "pcidev.h"
#include "policy.h"
#include "util.h"

#define DEV		"0000:00:04.0"
#define DEV_DIR		"sys/devices/pci0000:00/" DEV

enum { F_NAME, F_TYPE, F_DRIVER, F_GROUP, F_LOG, NR_FIELDS };

static void mk(const char *rel)
{
	char *p = xasprintf("%s/%s", fuzz_dir(), rel);

	if (!p || mkdir_p(p, 0755))
		fuzz_fail("%s: cannot make it", rel);
	free(p);
}

/* Point @rel at @target, or remove it when @target is empty. */
static void ln(const char *target, const char *rel)
{
	char *p = xasprintf("%s/%s", fuzz_dir(), rel);

	if (!p || (unlink(p) && errno != ENOENT))
		fuzz_fail("%s: cannot remove it", rel);
	if (*target && symlink(target, p) && errno != ENAMETOOLONG)
		fuzz_fail("%s: cannot link it: %s", rel, strerror(errno));
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-device");
	mk(DEV_DIR);
	mk("sys/bus/pci/drivers/nvme");
	mk("sys/bus/pci/devices");
	mk("sys/bus/platform/devices/80a0000.iommu-client");
	mk("sys/kernel/iommu_groups/3/devices");
	ln("../../../devices/pci0000:00/" DEV, "sys/bus/pci/devices/" DEV);
	ln("../../../../devices/pci0000:00/" DEV,
	   "sys/kernel/iommu_groups/3/devices/" DEV);
	setenv("IOMMUBENCH_SYSFS_ROOT", fuzz_dir(), 1);
	return 0;
}

static void check_name(const char *name)
{
	char out[64], again[64], small[16];
	enum iommu_policy p;

	if (!policy_parse(name, &p))
		fuzz_check(p >= POLICY_STRICT && p <= POLICY_IDENTITY &&
			   !strcmp(policy_name(p), name) &&
			   policy_from_group_type(policy_group_type(p)) == p,
			   "policy '%s' does not map back", name);
	p = policy_from_group_type(name);
	if (p != POLICY_UNKNOWN)
		fuzz_check(!strcmp(policy_group_type(p), name) ||
			   !strcmp(name, "BLOCKED"),
			   "group type '%s' reads as %s", name, policy_name(p));

	if (policy_normalize_dev(name, out, sizeof(out)))
		return;
	fuzz_check(is_plain_name(out) && strcmp(out, ".."),
		   "device name '%s' is accepted as '%s'", name, out);
	fuzz_check(!policy_normalize_dev(out, again, sizeof(again)) &&
		   !strcmp(out, again),
		   "device name '%s' normalizes to '%s', then to '%s'", name,
		   out, again);
	if (!policy_normalize_dev(name, small, sizeof(small)))
		fuzz_check(!strcmp(small, out),
			   "device name '%s' is '%s' in 64 bytes, '%s' in 16",
			   name, out, small);
}

static void check_read(const char *dev)
{
	struct device_policy dp;
	char drv[64];

	if (!policy_read(dev, &dp)) {
		fuzz_check(strnlen(dp.type, sizeof(dp.type)) < sizeof(dp.type) &&
			   strnlen(dp.driver, sizeof(dp.driver)) < sizeof(dp.driver),
			   "%s: unterminated type or driver", dev);
		if (dp.group >= 0)
			fuzz_check(dp.policy == policy_from_group_type(dp.type),
				   "%s: type '%s' read as %s", dev, dp.type,
				   policy_name(dp.policy));
		else
			fuzz_check(dp.policy == POLICY_UNKNOWN && !dp.type[0],
				   "%s: no group, yet policy %s", dev,
				   policy_name(dp.policy));
	}
	if (pcidev_exists(dev) && !pcidev_driver(dev, drv, sizeof(drv)))
		fuzz_check(strnlen(drv, sizeof(drv)) < sizeof(drv) &&
			   !strchr(drv, '/'),
			   "%s: driver '%s'", dev, drv);
}

static void check_log(const char *log)
{
	const char *line;
	size_t len;

	line = policy_strict_forced(log, &len);
	if (!line)
		return;
	fuzz_check(line >= log && line <= log + strlen(log) &&
		   (line == log || line[-1] == '\n') &&
		   len == strcspn(line, "\n"),
		   "policy_strict_forced: not a whole line of the log");
	fuzz_check(memmem(line, len, "due to virtualization",
			  strlen("due to virtualization")),
		   "policy_strict_forced: '%.*s'", (int)len, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *f[NR_FIELDS], *type;
	size_t off = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (int i = 0; i < NR_FIELDS; i++) {
		f[i] = off <= size ? copy + off : copy + size;
		off += strlen(f[i]) + 1;
	}
	type = xasprintf("%s\n", f[F_TYPE]);
	free(fuzz_file("sys/kernel/iommu_groups/3/type", type, strlen(type)));
	free(type);
	ln(f[F_DRIVER], DEV_DIR "/driver");
	ln(f[F_GROUP], DEV_DIR "/iommu_group");

	check_name(f[F_NAME]);
	check_read(DEV);
	{
		char dev[64];

		if (!policy_normalize_dev(f[F_NAME], dev, sizeof(dev)))
			check_read(dev);
	}
	check_log(f[F_LOG]);
	free(copy);
	return 0;
}

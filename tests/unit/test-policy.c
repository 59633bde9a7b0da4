// SPDX-License-Identifier: GPL-2.0
/*
 * Policy read-back against a fake sysfs tree shaped like a 6.1 guest's:
 * /sys/bus/pci/devices/<bdf>/{iommu_group,driver} links and
 * /sys/kernel/iommu_groups/<n>/{type,devices/}.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "tap.h"
#include "util.h"

static char root[] = "/tmp/ib-test-policy-XXXXXX";

static void mk(const char *rel)
{
	char *p = xasprintf("%s%s", root, rel);

	mkdir_p(p, 0755);
	free(p);
}

static void put(const char *rel, const char *text)
{
	char *p = xasprintf("%s%s", root, rel);

	write_file_atomic(p, text, strlen(text));
	free(p);
}

static void ln(const char *target, const char *rel)
{
	char *p = xasprintf("%s%s", root, rel);

	symlink(target, p);
	free(p);
}

static char *get(const char *rel)
{
	char *p = xasprintf("%s%s", root, rel), *text = read_file(p, NULL);

	free(p);
	if (text)
		strtrim(text);
	return text;
}

static void fake_sysfs(void)
{
	mk("/sys/kernel/iommu_groups/3/devices");
	put("/sys/kernel/iommu_groups/3/type", "DMA-FQ\n");
	mk("/sys/bus/pci/drivers/nvme");
	put("/sys/bus/pci/drivers/nvme/bind", "");
	put("/sys/bus/pci/drivers/nvme/unbind", "");
	mk("/sys/devices/pci0000:00/0000:00:04.0");
	put("/sys/devices/pci0000:00/0000:00:04.0/unbind-log", "");
	mk("/sys/bus/pci/devices");
	ln("../../../devices/pci0000:00/0000:00:04.0",
	   "/sys/bus/pci/devices/0000:00:04.0");
	ln("../../../kernel/iommu_groups/3",
	   "/sys/devices/pci0000:00/0000:00:04.0/iommu_group");
	ln("../../../bus/pci/drivers/nvme",
	   "/sys/devices/pci0000:00/0000:00:04.0/driver");
	ln("../../../../devices/pci0000:00/0000:00:04.0",
	   "/sys/kernel/iommu_groups/3/devices/0000:00:04.0");
	/* Without the IOMMU: no iommu_group link. */
	mk("/sys/devices/pci0000:00/0000:00:01.0");
	ln("../../../devices/pci0000:00/0000:00:01.0",
	   "/sys/bus/pci/devices/0000:00:01.0");
}

static void test_names(void)
{
	enum iommu_policy p;

	ok(!policy_parse("strict", &p) && p == POLICY_STRICT &&
	   !strcmp(policy_group_type(p), "DMA"), "strict is DMA");
	ok(!policy_parse("lazy", &p) && p == POLICY_LAZY &&
	   !strcmp(policy_group_type(p), "DMA-FQ"), "lazy is DMA-FQ");
	ok(!policy_parse("identity", &p) && p == POLICY_IDENTITY &&
	   !strcmp(policy_group_type(p), "identity"), "identity is identity");
	ok(policy_parse("blocked", &p) && policy_parse("DMA", &p),
	   "only the three requestable policies parse");
	ok(policy_from_group_type("DMA-FQ") == POLICY_LAZY &&
	   policy_from_group_type("BLOCKED") == POLICY_BLOCKED &&
	   policy_from_group_type("auto") == POLICY_UNKNOWN,
	   "group types map back, unknown ones to UNKNOWN");
}

static void test_normalize(void)
{
	char out[64];

	ok(!policy_normalize_dev("00:04.0", out, sizeof(out)) &&
	   !strcmp(out, "0000:00:04.0"), "bus:dev.fn gets domain 0000");
	ok(!policy_normalize_dev("0001:0A:1f.7", out, sizeof(out)) &&
	   !strcmp(out, "0001:0a:1f.7"), "full BDF is normalized");
	ok(!policy_normalize_dev("80a0000.iommu-client", out, sizeof(out)) &&
	   !strcmp(out, "80a0000.iommu-client"), "platform names are kept");
	ok(policy_normalize_dev("../etc", out, sizeof(out)) &&
	   policy_normalize_dev("", out, sizeof(out)),
	   "paths and empty names are refused");
	/* found by tests/fuzz/fuzz-device */
	ok(policy_normalize_dev("..", out, sizeof(out)) && errno == EINVAL &&
	   policy_normalize_dev(".", out, sizeof(out)) &&
	   policy_normalize_dev(".to.n", out, sizeof(out)),
	   "'.', '..' and hidden names are refused");
	ok(policy_normalize_dev("00:04.0", out, 12) && errno == ENAMETOOLONG &&
	   !policy_normalize_dev("00:04.0", out, 13) &&
	   !strcmp(out, "0000:00:04.0"),
	   "a normalized address that does not fit is refused, not cut");
}

static void test_read_set(void)
{
	struct strbuf why = STRBUF_INIT;
	struct device_policy dp;
	char *t = NULL;

	fake_sysfs();
	setenv("IOMMUBENCH_SYSFS_ROOT", root, 1);
	ok(!policy_read("0000:00:04.0", &dp) && dp.group == 3 &&
	   !strcmp(dp.type, "DMA-FQ") && dp.policy == POLICY_LAZY &&
	   !strcmp(dp.driver, "nvme") && dp.group_devices == 1,
	   "policy_read: group 3, DMA-FQ, lazy, nvme, 1 device");
	ok(!policy_read("0000:00:01.0", &dp) && dp.group == -1,
	   "a device without iommu_group reads as no group");
	ok(policy_read("0000:00:09.0", &dp) && errno == ENODEV,
	   "a missing device is ENODEV");
	ok(!policy_set("0000:00:04.0", POLICY_STRICT, false, &why) &&
	   (t = get("/sys/kernel/iommu_groups/3/type")) && !strcmp(t, "DMA"),
	   "policy_set writes DMA for strict");
	free(t);
	t = NULL;
	ok(!policy_set("0000:00:04.0", POLICY_IDENTITY, true, &why) &&
	   (t = get("/sys/bus/pci/drivers/nvme/bind")) &&
	   !strcmp(t, "0000:00:04.0"),
	   "with rebind the driver is bound again afterwards");
	free(t);
	ok(policy_set("0000:00:01.0", POLICY_LAZY, false, &why) &&
	   strstr(why.buf, "not behind an IOMMU"),
	   "setting a device with no group explains why: %s", why.buf);
	strbuf_release(&why);
	unsetenv("IOMMUBENCH_SYSFS_ROOT");
}

static void test_forced(void)
{
	const char *vtd = "[    1.12] iommu: DMA domain TLB invalidation policy: lazy mode\n"
			  "[    1.41] DMAR: IOMMU batching disallowed due to virtualization\n"
			  "[    1.50] other\n";
	const char *amd = "[    1.43] AMD-Vi: Using strict mode due to virtualization";
	const char *line;
	size_t len;

	line = policy_strict_forced(vtd, &len);
	ok(line && !strncmp(line, "[    1.41] DMAR: IOMMU batching", 31) &&
	   line[len] == '\n', "VT-d caching-mode line is found whole");
	line = policy_strict_forced(amd, &len);
	ok(line && len == strlen(amd), "AMD-Vi NpCache line is found");
	ok(!policy_strict_forced("iommu: lazy mode\n", &len) &&
	   !policy_strict_forced(NULL, &len), "no false positives");
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	test_names();
	test_normalize();
	test_read_set();
	test_forced();
	rm_rf(root);
	return tap_done();
}

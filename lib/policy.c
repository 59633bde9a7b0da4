// SPDX-License-Identifier: GPL-2.0
/*
 * Reading and setting the IOMMU policy of a device through sysfs.
 *
 * 6.1 lets the group type change only with no driver bound and one device
 * in the group (except DMA -> DMA-FQ, allowed while bound); 6.12 refuses
 * any change while a driver owns the group (-EPERM).  policy_set() can do
 * the unbind / write / rebind dance for the caller (PCI devices only),
 * checking first that the unbind can succeed and loses no storage.
 *
 * Every sysfs path is built by sysfs_path(), so tests can point
 * IOMMUBENCH_SYSFS_ROOT at a fake tree.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>

#include "pcidev.h"
#include "policy.h"

static const struct {
	const char *name;
	const char *type;
} policies[] = {
	[POLICY_STRICT] = { "strict", "DMA" },
	[POLICY_LAZY] = { "lazy", "DMA-FQ" },
	[POLICY_IDENTITY] = { "identity", "identity" },
	[POLICY_BLOCKED] = { "blocked", "blocked" },
};

const char *policy_name(enum iommu_policy p)
{
	if (p == POLICY_DEFAULT)
		return "default";
	if (p < 0 || p >= POLICY_UNKNOWN)
		return "unknown";
	return policies[p].name;
}

int policy_parse(const char *s, enum iommu_policy *p)
{
	for (int i = 0; i <= POLICY_IDENTITY; i++) {
		if (!strcmp(s, policies[i].name)) {
			*p = i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

const char *policy_group_type(enum iommu_policy p)
{
	if (p < 0 || p >= POLICY_UNKNOWN)
		return NULL;
	return policies[p].type;
}

enum iommu_policy policy_from_group_type(const char *type)
{
	for (int i = 0; i < POLICY_UNKNOWN; i++)
		if (!strcmp(type, policies[i].type))
			return i;
	/* 6.1 names the blocking type in capitals. */
	if (!strcmp(type, "BLOCKED"))
		return POLICY_BLOCKED;
	return POLICY_UNKNOWN;
}

int policy_normalize_dev(const char *in, char *out, size_t len)
{
	unsigned int dom, bus, dev, fn;
	char tail;
	int n;

	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4) {
		n = snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	} else if (sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3) {
		n = snprintf(out, len, "0000:%02x:%02x.%x", bus, dev, fn);
	} else if (is_plain_name(in)) {
		/* "." and ".." are directories of sysfs, not devices. */
		n = snprintf(out, len, "%s", in);
	} else {
		errno = EINVAL;
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The sysfs directory of @dev on whichever bus has it, plus @leaf. */
static char *dev_path(const char *dev, const char *leaf)
{
	char *base = sysfs_path("/sys/bus/pci/devices/%s", dev), *p, *buses;
	struct dirent *e;
	DIR *d;

	if (base && !path_exists(base)) {
		free(base);
		base = NULL;
		buses = sysfs_path("/sys/bus");
		d = buses ? opendir(buses) : NULL;
		free(buses);
		while (d && !base && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			base = sysfs_path("/sys/bus/%s/devices/%s", e->d_name,
					  dev);
			if (base && !path_exists(base)) {
				free(base);
				base = NULL;
			}
		}
		if (d)
			closedir(d);
	}
	if (!base || !leaf)
		return base;
	p = xasprintf("%s/%s", base, leaf);
	free(base);
	return p;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int policy_read(const char *dev, struct device_policy *dp)
{
	char *base = dev_path(dev, NULL), *p, *text;
	char grp[32];

	memset(dp, 0, sizeof(*dp));
	snprintf(dp->dev, sizeof(dp->dev), "%s", dev);
	dp->group = -1;
	dp->policy = POLICY_UNKNOWN;
	if (!base) {
		errno = ENODEV;
		return -1;
	}
	p = xasprintf("%s/driver", base);
	if (p && readlink_base(p, dp->driver, sizeof(dp->driver)))
		dp->driver[0] = '\0';
	free(p);
	p = xasprintf("%s/iommu_group", base);
	free(base);
	if (!p || readlink_base(p, grp, sizeof(grp))) {
		free(p);
		return 0;	/* no IOMMU translates this device */
	}
	free(p);
	dp->group = atoi(grp);
	p = sysfs_path("/sys/kernel/iommu_groups/%d/devices", dp->group);
	dp->group_devices = p ? count_entries(p) : -1;
	free(p);
	p = sysfs_path("/sys/kernel/iommu_groups/%d/type", dp->group);
	text = p ? read_file(p, NULL) : NULL;
	free(p);
	if (!text)
		return -1;
	snprintf(dp->type, sizeof(dp->type), "%s", strtrim(text));
	free(text);
	dp->policy = policy_from_group_type(dp->type);
	return 0;
}

/* The devices of group @dp->group other than @dp->dev, with drivers. */
static void group_peers(const struct device_policy *dp, struct strbuf *out)
{
	char *dir = sysfs_path("/sys/kernel/iommu_groups/%d/devices",
			       dp->group);
	struct dirent **ents = NULL;
	int n = dir ? scandir(dir, &ents, NULL, alphasort) : -1, shown = 0;

	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *link, drv[64];

		if (name[0] != '.' && strcmp(name, dp->dev)) {
			link = xasprintf("%s/%s/driver", dir, name);
			if (!link || readlink_base(link, drv, sizeof(drv)))
				drv[0] = '\0';
			free(link);
			strbuf_addf(out, "%s%s%s%s", shown++ ? ", " : "", name,
				    drv[0] ? " bound to " : "", drv);
		}
		free(ents[i]);
	}
	free(ents);
	free(dir);
}

/*
 * Whether unbinding the driver of @dp is safe and useful, before anything
 * is unbound; returns 0 if so, else -1 with errno EBUSY and @why set.
 */
static int unbind_check(const struct device_policy *dp, unsigned int flags,
			struct strbuf *why)
{
	struct strbuf s = STRBUF_INIT;

	if (dp->group_devices > 1) {
		group_peers(dp, &s);
		if (why)
			strbuf_addf(why, "refusing to unbind %s from %s: IOMMU group %d also holds %s, and the kernel changes the type of a shared group only with none of its devices bound (6.12) or not at all (6.1)",
				    dp->dev, dp->driver, dp->group,
				    s.len ? s.buf : "other devices");
	} else if (!(flags & POLICY_SET_FORCE) &&
		   pcidev_storage_users(dp->dev, &s)) {
		if (why)
			strbuf_addf(why, "refusing to unbind %s from %s: its storage is in use: %s; --force overrides",
				    dp->dev, dp->driver, s.buf);
	} else {
		strbuf_release(&s);
		return 0;
	}
	strbuf_release(&s);
	errno = EBUSY;
	return -1;
}

int policy_set(const char *dev, enum iommu_policy p, unsigned int flags,
	       struct strbuf *why)
{
	bool unbound = false, rebind = flags & POLICY_SET_REBIND;
	struct device_policy dp;
	char *path = NULL;
	int ret = -1, err = 0;

	if (policy_read(dev, &dp)) {
		if (why)
			strbuf_addf(why, "%s: no such device", dev);
		return -1;
	}
	if (dp.group < 0) {
		if (why)
			strbuf_addf(why, "%s is not behind an IOMMU (no iommu_group)",
				    dev);
		errno = ENODEV;
		return -1;
	}
	if (dp.policy == p)
		return 0;
	/* both kernels take DMA -> DMA-FQ with the driver bound */
	if (dp.policy == POLICY_STRICT && p == POLICY_LAZY)
		rebind = false;
	if (dp.driver[0] && rebind) {
		if (!pcidev_exists(dev)) {
			if (why)
				strbuf_addf(why, "%s is not a PCI device: unbind %s yourself",
					    dev, dp.driver);
			errno = EOPNOTSUPP;
			return -1;
		}
		if (unbind_check(&dp, flags, why))
			return -1;
		if (pcidev_unbind(dev)) {
			if (why)
				strbuf_addf(why, "unbinding %s from %s: %s", dev,
					    dp.driver, strerror(errno));
			return -1;
		}
		unbound = true;
	}
	path = sysfs_path("/sys/kernel/iommu_groups/%d/type", dp.group);
	if (!path || sysfs_write(path, policy_group_type(p))) {
		err = errno;
		if (why) {
			strbuf_addf(why, "writing %s to %s: %s",
				    policy_group_type(p), path, strerror(err));
			if (err == EBUSY || err == EPERM)
				strbuf_addf(why, " (driver %s bound%s, %d device(s) in group %d)",
					    dp.driver[0] ? dp.driver : "none",
					    unbound ? " before" :
					    flags & POLICY_SET_REBIND ? "" :
					    "; --rebind unbinds it",
					    dp.group_devices, dp.group);
		}
	} else {
		ret = 0;
	}
	if (unbound && pcidev_bind(dev, dp.driver)) {
		if (why)
			strbuf_addf(why, "%srebinding %s to %s: %s",
				    why->len ? "; " : "", dev, dp.driver,
				    strerror(errno));
		if (!err)
			err = errno;
		ret = -1;
	}
	free(path);
	if (err)
		errno = err;
	return ret;
}

int policy_kernel_log(struct strbuf *out)
{
	static const char *const keys[] = {
		"Default domain type",
		"TLB invalidation policy",
		"batching disallowed",
		"strict mode due to virtualization",
		"iommu.strict",
		"Passthrough",
		"passthrough",
	};
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *line, *save;

	if (len <= 0)
		return -1;
	buf = malloc(len + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			if (strstr(line, keys[i])) {
				strbuf_addf(out, "%s\n", line);
				break;
			}
		}
	}
	free(buf);
	return 0;
}

const char *policy_strict_forced(const char *log, size_t *len)
{
	static const char *const keys[] = {
		"IOMMU batching disallowed due to virtualization",	/* VT-d */
		"Using strict mode due to virtualization",		/* AMD-Vi */
	};

	for (size_t i = 0; log && i < ARRAY_SIZE(keys); i++) {
		const char *hit = strstr(log, keys[i]), *start = hit;

		if (!hit)
			continue;
		while (start > log && start[-1] != '\n')
			start--;
		*len = strcspn(start, "\n");
		return start;
	}
	return NULL;
}

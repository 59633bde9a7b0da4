// SPDX-License-Identifier: GPL-2.0
/*
 * PCI driver plumbing through sysfs (see pcidev.h).
 *
 * Binding through driver_override (Linux 3.16+) rather than new_id keeps
 * the driver's ID table untouched: only the named device is affected.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
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

/* Add disk @name (/sys/block/@name is @link) and its partitions to @out. */
static int add_disk(const char *link, const char *name, struct strbuf *out)
{
	DIR *d = opendir(link);
	struct dirent *e;
	int n = 1;

	strbuf_addf(out, "%s ", name);
	while (d && (e = readdir(d))) {
		char *part;

		if (!str_has_prefix(e->d_name, name))
			continue;
		part = xasprintf("%s/%s/partition", link, e->d_name);
		if (part && path_exists(part)) {
			strbuf_addf(out, "%s ", e->d_name);
			n++;
		}
		free(part);
	}
	if (d)
		closedir(d);
	return n;
}

/* Whether @name is one of the space-terminated names in @list. */
static bool listed(const struct strbuf *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list->buf; p && *p; p += strcspn(p, " ") + 1)
		if (!strncmp(p, name, len) && p[len] == ' ')
			return true;
	return false;
}

int pcidev_blockdevs(const char *bdf, struct strbuf *out)
{
	char *dir = sysfs_path("/sys/block"), *needle = xasprintf("/%s/", bdf);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int n = 0;

	while (d && needle && (e = readdir(d))) {
		char *link = xasprintf("%s/%s", dir, e->d_name), *head;
		char real[PATH_MAX];
		unsigned int subsys, ctrl, ns;
		int end = 0;

		if (e->d_name[0] == '.' || !link || !realpath(link, real) ||
		    !strstr(real, needle)) {
			free(link);
			continue;
		}
		/*
		 * A path of a multipath NVMe namespace (nvme0c1n1, hidden) is
		 * on the PCI device; the disk that is used, nvme0n1, lives
		 * under the subsystem in /sys/devices/virtual.  It goes first,
		 * as the disk to run a workload on.
		 */
		if (sscanf(e->d_name, "nvme%uc%un%u%n", &subsys, &ctrl, &ns,
			   &end) == 3 && !e->d_name[end]) {
			head = xasprintf("%s/nvme%un%u", dir, subsys, ns);
			if (head && path_exists(head) &&
			    !listed(out, strrchr(head, '/') + 1))
				n += add_disk(head, strrchr(head, '/') + 1, out);
			free(head);
		}
		n += add_disk(link, e->d_name, out);
		free(link);
	}
	if (d)
		closedir(d);
	free(dir);
	free(needle);
	return n;
}

/* What pcidev_storage_users() looks for, read once. */
struct storage_scan {
	char *mountinfo;	/* /proc/self/mountinfo */
	char *swaps;		/* /proc/swaps */
	struct strbuf *out;
	int n;
};

#define STACK_DEPTH_MAX	16	/* holders deeper than this are not followed */

/* @s's output, ready for one more use */
static struct strbuf *next_use(struct storage_scan *s)
{
	if (s->n++)
		strbuf_adds(s->out, ", ");
	return s->out;
}

/* The attribute /sys/class/block/@name/@attr, trimmed; NULL if absent. */
static char *blk_attr(const char *name, const char *attr)
{
	char *p = sysfs_path("/sys/class/block/%s/%s", name, attr);
	char *text = p ? read_file(p, NULL) : NULL;

	free(p);
	if (text)
		strtrim(text);
	return text;
}

/*
 * Undo the octal escapes (\040 for a space) that the kernel puts in paths
 * in /proc/self/mountinfo and /proc/swaps, in place.
 */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * Whether @path (a mount source or a swap file name) is block device @name:
 * /dev/@name, /dev/mapper/@dmname, or any path that resolves to a node
 * named @name (/dev/disk/by-uuid/...).
 */
static bool path_is_blk(const char *path, const char *name,
			const char *dmname)
{
	char real[PATH_MAX], *p, *base;
	bool ret = false;

	if (!str_has_prefix(path, "/dev/"))
		return false;
	if (!strcmp(path + 5, name) ||
	    (dmname && str_has_prefix(path, "/dev/mapper/") &&
	     !strcmp(path + 12, dmname)))
		return true;
	p = sysfs_path("%s", path);
	if (p && realpath(p, real)) {
		base = strrchr(real, '/');
		ret = base && !strcmp(base + 1, name);
	}
	free(p);
	return ret;
}

/* Report the mounts of @name (chain @chain); returns whether there were. */
static bool scan_mounts(struct storage_scan *s, const char *name,
			const char *dmname, const char *chain)
{
	char *dev = blk_attr(name, "dev"), *text, *line, *save;
	unsigned int maj = 0, min = 0;
	bool found = false, have_dev;

	have_dev = dev && sscanf(dev, "%u:%u", &maj, &min) == 2;
	free(dev);
	text = s->mountinfo ? strdup(s->mountinfo) : NULL;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char mnt[PATH_MAX], src[PATH_MAX], *sep = strstr(line, " - ");
		unsigned int a, b;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &a, &b, mnt) != 3)
			continue;
		if (!sep || sscanf(sep, " - %*s %4095s", src) != 1)
			src[0] = '\0';
		unescape(mnt);
		unescape(src);
		if ((have_dev && a == maj && b == min) ||
		    path_is_blk(src, name, dmname)) {
			strbuf_addf(next_use(s), "%s mounted on %s", chain, mnt);
			found = true;
		}
	}
	free(text);
	return found;
}

/* Report @name (chain @chain) if it is active swap; returns whether. */
static bool scan_swaps(struct storage_scan *s, const char *name,
		       const char *dmname, const char *chain)
{
	char *text = s->swaps ? strdup(s->swaps) : NULL, *line, *save;
	bool found = false;

	/* the first line is the header ("Filename Type Size ...") */
	line = text ? strtok_r(text, "\n", &save) : NULL;
	while (line && (line = strtok_r(NULL, "\n", &save))) {
		char file[PATH_MAX];

		if (sscanf(line, "%4095s", file) != 1)
			continue;
		unescape(file);
		if (path_is_blk(file, name, dmname)) {
			strbuf_addf(next_use(s), "%s is active swap", chain);
			found = true;
		}
	}
	free(text);
	return found;
}

/*
 * Report every use of block device @name, reached through @chain (NULL for
 * a disk or partition of the device), and of the devices stacked on it.
 */
static void scan_blk(struct storage_scan *s, const char *name,
		     const char *chain, int depth)
{
	char *dmname = blk_attr(name, "dm/name"), *here, *dir;
	bool used, stacked = false;
	struct dirent *e;
	DIR *d;

	here = xasprintf("%s%s%s%s%s%s", chain ? chain : "", chain ? " -> " : "",
			 name, dmname ? " (" : "", dmname ? dmname : "",
			 dmname ? ")" : "");
	if (!here) {
		free(dmname);
		return;
	}
	used = scan_mounts(s, name, dmname, here);
	used |= scan_swaps(s, name, dmname, here);
	dir = sysfs_path("/sys/class/block/%s/holders", name);
	d = dir ? opendir(dir) : NULL;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		stacked = true;
		if (depth < STACK_DEPTH_MAX)
			scan_blk(s, e->d_name, here, depth + 1);
	}
	if (d)
		closedir(d);
	/* a stacked device nothing visible uses may still be open */
	if (chain && !used && !stacked)
		strbuf_addf(next_use(s), "%s (stacked device)", here);
	free(dir);
	free(here);
	free(dmname);
}

int pcidev_storage_users(const char *bdf, struct strbuf *out)
{
	struct storage_scan s = { .out = out };
	struct strbuf devs = STRBUF_INIT;
	char *p, *tok, *save;

	if (!pcidev_blockdevs(bdf, &devs))
		return 0;
	/* without the mount table nothing can be ruled out */
	p = sysfs_path("/proc/self/mountinfo");
	s.mountinfo = p ? read_file(p, NULL) : NULL;
	if (!s.mountinfo)
		strbuf_addf(next_use(&s), "%s unreadable (%s)",
			    p ? p : "/proc/self/mountinfo", strerror(errno));
	free(p);
	/* no /proc/swaps: a kernel without swap */
	p = sysfs_path("/proc/swaps");
	s.swaps = p ? read_file(p, NULL) : NULL;
	free(p);
	for (tok = strtok_r(devs.buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		scan_blk(&s, tok, NULL, 0);
	free(s.mountinfo);
	free(s.swaps);
	strbuf_release(&devs);
	return s.n;
}

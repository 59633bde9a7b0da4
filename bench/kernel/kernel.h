/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A kernel is a directory: vmlinuz, config, lib/modules/<release>/ (with
 * modules.dep), optionally build/ (headers or a build tree for out-of-tree
 * modules), and kernel.json naming it.  Debian packages and kernels built
 * from source land in the same shape under <cache>/kernels/<name>/.
 */
#ifndef IB_KERNEL_H
#define IB_KERNEL_H

#include <stdbool.h>

struct kernel {
	char *name;		/* "debian-6.1" */
	char *dir;		/* absolute directory */
	char *release;		/* uname -r of the kernel */
	char *version;		/* package or source version, when known */
	char *source;		/* "debian", "build" ... */
	char *suite;		/* Debian suite it came from, when known */
	char *vmlinuz;
	char *config;
	char *moddir;		/* <dir>/lib/modules/<release> */
	char *build;		/* <dir>/build, NULL when absent */
};

/*
 * kernel_resolve - turn a --kernel SPEC into a kernel: "debian:<series>"
 * ("debian:6.1", "debian:7.2") or "debian:<suite>" ("debian:sid"), fetched
 * on first use and used from the cache after; the name of a cached kernel;
 * or a kernel directory.  Returns 0, or -1 after printing why.
 */
int kernel_resolve(const char *spec, struct kernel *k);
void kernel_free(struct kernel *k);

/* The series of a "debian:<series>" spec ("6.1"), or NULL for any other. */
const char *kernel_debian_series(const char *spec);
/*
 * The series or suite of a "debian:<series>" or "debian:<suite>" spec
 * ("6.1", "sid"), or NULL for any other.
 */
const char *kernel_debian_spec(const char *spec);

/*
 * kernel_fetch - download a debian:<series> or debian:<suite> kernel into
 * the cache (again with @refresh); -1 after saying why, or -1 with errno
 * EINVAL and nothing said when @spec is not a fetchable spec.
 */
int kernel_fetch(const char *spec, bool refresh);
/* kernel_list - print the cached kernels, one per line; 0 or -1. */
int kernel_list(void);

/* kernel_config - 'y', 'm' or 0 for CONFIG_@opt ("VIRTIO_IOMMU"). */
int kernel_config(const struct kernel *k, const char *opt);

/*
 * kernel_boot_image - the image QEMU should boot: the uncompressed ELF
 * vmlinux (entered through PVH, so TCG does not spend seconds in the
 * decompressor) made once from vmlinuz and cached beside it, else vmlinuz
 * itself: for a kernel without PVH, and for one with KASAN, which faults
 * when entered through PVH.  Caller frees.
 */
char *kernel_boot_image(const struct kernel *k);

#endif /* IB_KERNEL_H */

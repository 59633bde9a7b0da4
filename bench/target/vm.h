/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QEMU target: one boot of a kernel with an emulated IOMMU, a guest
 * userspace in an initramfs, and one command run as root inside it.
 */
#ifndef IB_VM_H
#define IB_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "kernel.h"
#include "policy.h"
#include "spawn.h"

enum vm_iommu {
	VM_IOMMU_NONE,
	VM_IOMMU_INTEL,		/* intel-iommu, caching-mode=off */
	VM_IOMMU_INTEL_CM,	/* intel-iommu, caching-mode=on */
	VM_IOMMU_AMD,		/* amd-iommu (NpCache: strict is forced) */
	VM_IOMMU_VIRTIO,	/* virtio-iommu-pci */
};

enum vm_disk {
	VM_DISK_NONE,
	VM_DISK_NVME,
	VM_DISK_VIRTIO,
};

enum vm_mechanism {
	VM_MECH_AUTO,		/* cmdline, or sysfs where the kernel overrides */
	VM_MECH_CMDLINE,	/* iommu.strict= / iommu.passthrough= */
	VM_MECH_SYSFS,		/* write the group type before the driver binds */
};

enum vm_accel {
	VM_ACCEL_AUTO,
	VM_ACCEL_KVM,
	VM_ACCEL_TCG,
};

/* Fixed guest PCI addresses, so the device under test is known up front. */
#define VM_BDF_DISK	"0000:00:04.0"
#define VM_BDF_TESTDEV	"0000:00:05.0"
#define VM_BDF_EDU	"0000:00:06.0"
#define VM_BDF_SHARE	"0000:00:07.0"
#define VM_BDF_NET	"0000:00:08.0"

struct vm_config {
	struct kernel kernel;
	enum vm_iommu iommu;
	enum iommu_policy policy;	/* POLICY_DEFAULT: leave as booted */
	enum vm_mechanism mechanism;
	enum vm_disk disk;
	bool testdev;
	bool edu;
	const char *dut;		/* BDF whose policy is applied/verified */
	unsigned int cpus;		/* 1 with the icount clock */
	struct ib_clock clock;		/* guest time: host's or instruction count */
	unsigned int mem_mb;
	unsigned int timeout_s;
	const char *append;
	const char *share;		/* host directory seen as /shared */
	/*
	 * An SSH server in the guest (dropbear), reached at 127.0.0.1:ssh_port
	 * through QEMU's user networking, which lets the guest reach nothing;
	 * 0: none.  ssh_keys: the public keys root may log in with.
	 */
	unsigned int ssh_port;
	const char *ssh_keys;
	const char *run_dir;		/* logs; NULL: a fresh one in the cache */
	bool keep;
	enum vm_accel accel;
	char *const *qemu_args;		/* extra QEMU arguments, NULL-terminated */
	char *const *modules;		/* extra guest modules, NULL-terminated */
	char *const *command;		/* argv run in the guest */
	FILE *stream;			/* COMMAND's output goes here; NULL: kept only */
	void (*tick)(void *arg);	/* called every poll while the guest runs */
	void *tick_arg;
};

/*
 * vm_interrupt - make a running vm_run() stop its guest and return
 * (async-signal-safe; for SIGINT handlers and progress callbacks).
 */
void vm_interrupt(void);

/* What a run found out, for callers that tabulate runs. */
struct vm_result {
	char outcome[32];	/* ok, policy-mismatch, panic, timeout ... */
	char group_type[32];	/* DUT's group type read back, "" if none */
	char policy[16];	/* policy read back ("strict" ...) */
	bool verified;		/* read back == requested */
	int64_t boot_to_command_ms;	/* -1 when COMMAND never started */
	char accel[8];
	unsigned int boot_attempts;	/* > 1: benign boot faults were retried */
};

/*
 * vm_run - boot, run @cfg->command, stream its output to stdout.
 * Returns the command's exit status or one of the EXIT_* codes of
 * iommubench.h when it did not complete; fills @res when not NULL.
 */
int vm_run(struct vm_config *cfg, struct vm_result *res);

/* The guest userspace (initramfs.c). */
struct guest_image {
	char **modules_iommu;	/* loaded first: the vIOMMU driver */
	char **modules_devices;	/* loaded after the policy is applied */
};

/*
 * guest_build - write the initramfs for @cfg to @path; @conf is the shell
 * fragment the guest init sources.
 */
int guest_build(const struct vm_config *cfg, const char *path,
		const char *conf);

/* accel.c: whether KVM really runs a guest here (probed once per boot). */
enum vm_accel accel_choose(const struct vm_config *cfg);

/* Names by enum value, NULL-terminated: for options and records. */
extern const char *const vm_iommu_names[];
extern const char *const vm_disk_names[];
extern const char *const vm_mech_names[];
extern const char *const vm_accel_names[];

const char *vm_iommu_name(enum vm_iommu iommu);
int vm_iommu_parse(const char *s, enum vm_iommu *iommu);
/*
 * vm_mechanism - the mechanism a run of @cfg uses for its policy: the one
 * asked for, or for "auto" cmdline, except sysfs where the kernel
 * overrides iommu.strict=0 (caching mode / NpCache).  Says so when it
 * picks sysfs.
 */
enum vm_mechanism vm_mechanism(const struct vm_config *cfg);
const char *vm_mechanism_name(enum vm_mechanism m);
/* 0, or the exit status for a configuration that cannot run, after saying why. */
int vm_check(const struct vm_config *cfg);

#endif /* IB_VM_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * KVM or TCG.  /dev/kvm can exist and accept a guest that then hangs
 * (nested virtualisation on some hosts), and a boot-sector probe passes
 * there, so the probe boots the real kernel with KVM and a tiny command
 * and counts it a success only if the command's exit status comes back.
 * The answer is cached per host boot.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "util.h"
#include "vm.h"

#define ACCEL_PROBE_TIMEOUT_S	30

static char *boot_id(void)
{
	char *id = read_file("/proc/sys/kernel/random/boot_id", NULL);

	if (id)
		strtrim(id);
	return id;
}

/* 1: KVM ran the guest, 0: it did not, -1: the probe itself failed. */
static int probe_kvm(const struct vm_config *cfg)
{
	char *argv[] = { "true", NULL };
	struct vm_config probe = {
		.kernel = cfg->kernel,
		.iommu = VM_IOMMU_NONE,
		.policy = POLICY_DEFAULT,
		.disk = VM_DISK_NONE,
		.cpus = 1,
		.mem_mb = 512,
		.timeout_s = ACCEL_PROBE_TIMEOUT_S,
		.accel = VM_ACCEL_KVM,
		.command = argv,
		.stream = stdout,
	};
	enum log_level level = log_get_level();
	struct vm_result res;
	int ret;

	pr_info("probing KVM: booting %s with -accel kvm (up to %d s, once per host boot)",
		cfg->kernel.name, ACCEL_PROBE_TIMEOUT_S);
	if (level < LOG_DEBUG)
		log_set_level(LOG_NONE);
	ret = vm_run(&probe, &res);
	log_set_level(level);
	if (ret == 0)
		return 1;
	/*
	 * A guest that booted and hung says no, and so does a QEMU that
	 * aborts when it sets up the KVM vCPU (seen on PVM hosts: "failed to
	 * set MSR"); a failed set-up on our side says nothing.
	 */
	if (!strcmp(res.outcome, "timeout") || !strcmp(res.outcome, "panic") ||
	    !strcmp(res.outcome, "guest-died") ||
	    !strcmp(res.outcome, "qemu-failed"))
		return 0;
	pr_warn("KVM probe could not run (%s, status %d): using TCG for now",
		res.outcome, ret);
	return -1;
}

enum vm_accel accel_choose(const struct vm_config *cfg)
{
	char *path, *id;
	struct json_object *o, *cached = NULL;
	enum vm_accel accel = VM_ACCEL_TCG;
	int fd, ret;

	if (cfg->accel != VM_ACCEL_AUTO)
		return cfg->accel;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		pr_debug("/dev/kvm not usable: TCG");
		return VM_ACCEL_TCG;
	}
	close(fd);
	id = boot_id();
	path = xasprintf("%s/accel.json", cache_dir());
	if (path && path_exists(path))
		cached = json_read_file(path);
	if (cached && id && json_get_string(cached, "boot_id") &&
	    !strcmp(json_get_string(cached, "boot_id"), id)) {
		const char *a = json_get_string(cached, "accel");

		accel = a && !strcmp(a, "kvm") ? VM_ACCEL_KVM : VM_ACCEL_TCG;
		goto out;
	}
	ret = probe_kvm(cfg);
	if (ret < 0)
		goto out;
	accel = ret ? VM_ACCEL_KVM : VM_ACCEL_TCG;
	if (accel == VM_ACCEL_TCG)
		pr_info("KVM did not run a guest here: using TCG");
	o = json_object_new_object();
	json_object_object_add(o, "boot_id", json_object_new_string(id ? id : ""));
	json_object_object_add(o, "accel", json_object_new_string(
			       accel == VM_ACCEL_KVM ? "kvm" : "tcg"));
	json_object_object_add(o, "probed_with",
			       json_object_new_string(cfg->kernel.release));
	mkdir_p(cache_dir(), 0755);
	if (json_write_file(path, o))
		pr_warn("%s: cannot cache the probe result", path);
	json_object_put(o);
out:
	if (cached)
		json_object_put(cached);
	free(path);
	free(id);
	return accel;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench vm run|smoke: boot a kernel under QEMU with a vIOMMU and run
 * a command in it (bench/target/vm.c is the engine).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "opt.h"
#include "remote.h"
#include "spawn.h"
#include "util.h"
#include "vm.h"

enum vm_dut { DUT_DEFAULT = -1, DUT_DISK, DUT_TESTDEV, DUT_EDU };

static const char *const dut_names[] = { "disk", "testdev", "edu", NULL };
static const char *const policy_names[] = { "strict", "lazy", "identity", NULL };
static const enum iommu_policy policy_values[] = {
	POLICY_STRICT, POLICY_LAZY, POLICY_IDENTITY,
};

/* What the command line asked for, before it becomes a vm_config. */
static struct vm_args {
	const char *kernel;
	int iommu, policy, mechanism, dut, disk, accel;
	bool testdev, edu, no_share, keep;
	unsigned int cpus, mem_mb, timeout_s, ssh_port;
	const char *append, *share, *run_dir, *clock, *ssh_key;
	/* --target: remote_forward() takes it first; here for --help */
	const char *target;
	struct argv qemu_args, modules;
} args;

static int parse_clock(const struct opt *o, const char *arg)
{
	struct ib_clock c;

	if (ib_clock_parse(arg, &c)) {
		pr_err("--%s: '%s' is not host, icount or icount:SHIFT (SHIFT 0-%d)",
		       o->long_name, arg, IB_ICOUNT_MAX_SHIFT);
		return -1;
	}
	*(const char **)o->value = arg;
	return 0;
}

static const struct opt vm_opts[] = {
	OPT_STRING('k', "kernel", &args.kernel, "SPEC",
		   "debian:6.1 (default), debian:6.12, debian:7.2, debian:sid ..., a cached name or a directory"),
	OPT_CHOICE('i', "iommu", &args.iommu, "IOMMU", "the vIOMMU (default intel)",
		   vm_iommu_names),
	OPT_CHOICE('p', "policy", &args.policy, "POLICY",
		   "the policy of the device under test", policy_names),
	OPT_CHOICE(0, "mechanism", &args.mechanism, "M",
		   "how the policy is applied (default auto)", vm_mech_names),
	OPT_CHOICE(0, "dut", &args.dut, "DEV",
		   "the device under test (default: the disk, else testdev, else edu)",
		   dut_names),
	OPT_STRING('a', "append", &args.append, "ARGS", "extra kernel command line"),
	OPT_GROUP("Machine:"),
	OPT_CHOICE('d', "disk", &args.disk, "DISK", "the disk (default nvme)",
		   vm_disk_names),
	OPT_BOOL(0, "testdev", &args.testdev,
		 "add QEMU's pci-testdev (1b36:0005) at " VM_BDF_TESTDEV),
	OPT_BOOL(0, "edu", &args.edu,
		 "add QEMU's edu device (1234:11e8) at " VM_BDF_EDU),
	OPT_UINT('c', "cpus", &args.cpus, "N",
		 "guest CPUs, 1-64 (default 2; 1 with --clock icount)", 1, 64),
	OPT_UINT(0, "mem", &args.mem_mb, "MB",
		 "guest memory in MiB, >= 256 (default 1024)", 256, 1 << 20),
	OPT_CALLBACK(0, "clock", &args.clock, "C",
		     "host (default) or icount[:SHIFT]: guest time counts instructions",
		     parse_clock),
	OPT_CHOICE(0, "accel", &args.accel, "A",
		   "accelerator (default auto: KVM if it really runs a guest, else TCG)",
		   vm_accel_names),
	OPT_STRINGS(0, "qemu-arg", &args.qemu_args, "ARG", "pass ARG to QEMU"),
	OPT_STRINGS(0, "module", &args.modules, "NAME",
		    "also load kernel module NAME and its dependencies"),
	OPT_GROUP("Run:"),
	OPT_UINT('t', "timeout", &args.timeout_s, "S",
		 "watchdog for the whole run, seconds (default 600)", 1, 86400 * 7),
	OPT_STRING('s', "share", &args.share, "DIR",
		   "host directory mounted at /shared (default: the current one)"),
	OPT_BOOL(0, "no-share", &args.no_share, "no shared directory"),
	OPT_STRING(0, "run-dir", &args.run_dir, "DIR",
		   "keep serial.log, command.out, qemu.log, vm.json there"),
	OPT_BOOL(0, "keep", &args.keep,
		 "keep the run directory and the initramfs even on success"),
	OPT_UINT(0, "ssh-port", &args.ssh_port, "N",
		 "an SSH server (dropbear) in the guest, at 127.0.0.1:N here", 1024, 65535),
	OPT_STRING(0, "ssh-key", &args.ssh_key, "FILE",
		   "the public keys root logs in with (default ~/.ssh/id_*.pub)"),
	OPT_STRING(0, "target", &args.target, "URL",
		   "run this on ssh://[USER@]HOST[:PORT] (the suite is installed there)"),
	OPT_END(),
};

static const char *const run_usage[] = {
	"iommubench vm run [options] -- COMMAND [ARG...]", NULL,
};
static const char *const smoke_usage[] = {
	"iommubench vm smoke [options]", NULL,
};

static const struct opt_cmd vm_run_cmd = {
	.name = "iommubench vm run",
	.usage = run_usage,
	.about = "Boot the kernel with the vIOMMU, apply and verify the policy of the\n"
		 "device under test, run COMMAND as root in the guest and exit with its\n"
		 "status (122-125 when it could not complete: iommubench(1)).",
	.opts = vm_opts,
	.min_args = 1,
	.max_args = OPT_ARGS_ANY,
	.args_name = "COMMAND",
	.stop_at_arg = true,
};

static const struct opt_cmd vm_smoke_cmd = {
	.name = "iommubench vm smoke",
	.usage = smoke_usage,
	.about = "Boot strict, lazy and identity in turn and tabulate what each read back.",
	.opts = vm_opts,
	.max_args = 0,
};

static void args_reset(void)
{
	argv_free(&args.qemu_args);
	argv_free(&args.modules);
	args = (struct vm_args){
		.kernel = "debian:6.1",
		.iommu = VM_IOMMU_INTEL,
		.policy = -1,
		.mechanism = VM_MECH_AUTO,
		.dut = DUT_DEFAULT,
		.disk = VM_DISK_NVME,
		.accel = VM_ACCEL_AUTO,
		.mem_mb = 1024,
		.timeout_s = 600,
	};
}

/* The device under test's address; NULL: none, or the one asked for is absent. */
static const char *choose_dut(const struct vm_config *cfg)
{
	switch (args.dut) {
	case DUT_DISK:
		return cfg->disk != VM_DISK_NONE ? VM_BDF_DISK : NULL;
	case DUT_TESTDEV:
		return cfg->testdev ? VM_BDF_TESTDEV : NULL;
	case DUT_EDU:
		return cfg->edu ? VM_BDF_EDU : NULL;
	default:
		return cfg->disk != VM_DISK_NONE ? VM_BDF_DISK :
		       cfg->testdev ? VM_BDF_TESTDEV :
		       cfg->edu ? VM_BDF_EDU : NULL;
	}
}

/* The user's first ~/.ssh/id_*.pub (static), or NULL. */
static const char *default_ssh_keys(void)
{
	static const char *const names[] = {
		"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub",
	};
	static char path[PATH_MAX];
	const char *home = getenv("HOME");

	for (size_t i = 0; home && i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/.ssh/%s", home, names[i]);
		if (path_exists(path))
			return path;
	}
	return NULL;
}

/* Turn the parsed arguments into @cfg; EXIT_USAGE after saying why. */
static int make_config(const struct opt_cmd *cmd, struct vm_config *cfg,
		       char *share)
{
	*cfg = (struct vm_config){
		.iommu = args.iommu,
		.policy = args.policy < 0 ? POLICY_DEFAULT :
			  policy_values[args.policy],
		.mechanism = args.mechanism,
		.disk = args.disk,
		.testdev = args.testdev,
		.edu = args.edu,
		.mem_mb = args.mem_mb,
		.timeout_s = args.timeout_s,
		.append = args.append,
		.run_dir = args.run_dir,
		.keep = args.keep,
		.accel = args.accel,
		.qemu_args = args.qemu_args.v,
		.modules = args.modules.v,
		.stream = stdout,
	};
	if (args.clock)
		ib_clock_parse(args.clock, &cfg->clock);
	/* icount runs one vCPU: the default follows, an explicit 2 is refused */
	cfg->cpus = args.cpus ? args.cpus : cfg->clock.icount ? 1 : 2;
	cfg->dut = choose_dut(cfg);
	if (!cfg->dut && args.dut != DUT_DEFAULT)
		return opt_usage_error(cmd, "--dut %s: the machine has no such device (%s)",
				       dut_names[args.dut], args.dut == DUT_DISK ?
				       "--disk none" : args.dut == DUT_TESTDEV ?
				       "add --testdev" : "add --edu");
	if (args.share) {
		if (!realpath(args.share, share) || !path_is_dir(share))
			return opt_usage_error(cmd, "--share: %s is not a directory",
					       args.share);
	} else if (!getcwd(share, PATH_MAX)) {
		share[0] = '\0';
	}
	cfg->share = args.no_share || !share[0] ? NULL : share;
	cfg->ssh_port = args.ssh_port;
	cfg->ssh_keys = args.ssh_key;
	if (args.ssh_key && !path_exists(args.ssh_key))
		return opt_usage_error(cmd, "--ssh-key: %s: %s", args.ssh_key,
				       strerror(errno));
	if (args.ssh_key && !args.ssh_port)
		return opt_usage_error(cmd, "--ssh-key needs --ssh-port");
	if (cfg->ssh_port && !cfg->ssh_keys)
		cfg->ssh_keys = default_ssh_keys();
	if (cfg->ssh_port && !cfg->ssh_keys)
		return opt_usage_error(cmd, "--ssh-port: no public key to let in: give --ssh-key FILE (none of ~/.ssh/id_*.pub exists)");
	return 0;
}

static int smoke(struct vm_config *base)
{
	static const enum iommu_policy order[] = {
		POLICY_STRICT, POLICY_LAZY, POLICY_IDENTITY,
	};
	struct vm_result res[ARRAY_SIZE(order)];
	char *argv[] = { "iommubench", "policy", "show", NULL };
	int failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		struct vm_config cfg = *base;

		cfg.policy = order[i];
		cfg.command = argv;
		printf("== %s on %s, %s vIOMMU, %s disk\n", policy_name(order[i]),
		       cfg.kernel.name, vm_iommu_names[cfg.iommu],
		       vm_disk_names[cfg.disk]);
		fflush(stdout);
		if (vm_run(&cfg, &res[i]) || !res[i].verified)
			failed++;
	}
	printf("\n%-9s %-11s %-9s %-9s %s\n", "REQUESTED", "GROUP TYPE",
	       "READ AS", "VERIFIED", "BOOT TO COMMAND");
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		printf("%-9s %-11s %-9s %-9s ", policy_name(order[i]),
		       res[i].group_type[0] ? res[i].group_type : "-",
		       res[i].policy[0] ? res[i].policy : "-",
		       res[i].verified ? "yes" : "NO");
		if (res[i].boot_to_command_ms >= 0)
			printf("%.1f s (%s)\n", res[i].boot_to_command_ms / 1000.0,
			       res[i].accel);
		else
			printf("- (%s)\n", res[i].outcome);
	}
	return failed ? EXIT_ERROR : 0;
}

static int vm_main(const struct opt_cmd *cmd, int argc, char **argv)
{
	char share[PATH_MAX];
	struct vm_config cfg;
	int i, ret;

	args_reset();
	i = opt_parse(cmd, argc, argv);
	if (i < 0)
		return opt_exit(i);
	ret = make_config(cmd, &cfg, share);
	if (ret)
		goto out;
	if (cmd == &vm_smoke_cmd && cfg.iommu == VM_IOMMU_NONE) {
		ret = opt_usage_error(cmd, "smoke needs a vIOMMU, not --iommu none");
		goto out;
	}
	cfg.command = argv + i;
	if (kernel_resolve(args.kernel, &cfg.kernel)) {
		ret = EXIT_VM;
		goto out;
	}
	ret = cmd == &vm_smoke_cmd ? smoke(&cfg) : vm_run(&cfg, NULL);
	kernel_free(&cfg.kernel);
out:
	argv_free(&args.qemu_args);
	argv_free(&args.modules);
	return ret;
}

static int vm_run_main(int argc, char **argv)
{
	return vm_main(&vm_run_cmd, argc, argv);
}

static int vm_smoke_main(int argc, char **argv)
{
	return vm_main(&vm_smoke_cmd, argc, argv);
}

static const struct subcmd vm_subs[] = {
	{ "run", vm_run_main, "boot, verify the policy, run COMMAND in the guest" },
	{ "smoke", vm_smoke_main, "strict, lazy and identity in turn, tabulated" },
};

static const char *const vm_usage[] = { "iommubench vm run|smoke [options]", NULL };

static const struct opt_cmd vm_cmd = {
	.name = "iommubench vm",
	.usage = vm_usage,
	.subs = vm_subs,
	.nsubs = ARRAY_SIZE(vm_subs),
	.footer = "'iommubench vm run --help' lists the options.",
};

int cmd_vm(int argc, char **argv)
{
	int ret;

	/* --target URL: the whole command line runs there */
	if (remote_forward(argc, argv, &ret))
		return ret;
	return subcmd_run(&vm_cmd, argc, argv);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench vm run: boot a kernel under QEMU (q35, split irqchip, an
 * emulated IOMMU), apply and verify the requested DMA policy on the device
 * under test, run one command as root, stream its output and return its
 * exit status.  The host never hangs: a watchdog bounds the whole run, a
 * guest panic powers QEMU off (panic=-1, -no-reboot), and every log of a
 * failed run is kept.
 *
 * Guest consoles: ttyS0 carries the kernel log and the init's
 * "iommubench-guest:" events (serial.log); ttyS1 carries COMMAND's output
 * (command.out), copied to stdout as it grows.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "spawn.h"
#include "util.h"
#include "vm.h"

#define VM_DISK_BYTES		(1ull << 30)
#define VM_BOOT_TIMEOUT_S	180	/* kernel start to init, under TCG */
#define VM_POLL_MS		20
#define VM_BOOT_RETRIES		2	/* boots again after a benign_faults[] one */

const char *const vm_iommu_names[] = {
	[VM_IOMMU_NONE] = "none",
	[VM_IOMMU_INTEL] = "intel",
	[VM_IOMMU_INTEL_CM] = "intel-cm",
	[VM_IOMMU_AMD] = "amd",
	[VM_IOMMU_VIRTIO] = "virtio",
	NULL,
};

const char *const vm_disk_names[] = {
	[VM_DISK_NONE] = "none",
	[VM_DISK_NVME] = "nvme",
	[VM_DISK_VIRTIO] = "virtio",
	NULL,
};

const char *const vm_mech_names[] = {
	[VM_MECH_AUTO] = "auto",
	[VM_MECH_CMDLINE] = "cmdline",
	[VM_MECH_SYSFS] = "sysfs",
	NULL,
};

const char *const vm_accel_names[] = {
	[VM_ACCEL_AUTO] = "auto",
	[VM_ACCEL_KVM] = "kvm",
	[VM_ACCEL_TCG] = "tcg",
	NULL,
};

static volatile sig_atomic_t vm_stop;

void vm_interrupt(void)
{
	vm_stop = 1;
}

const char *vm_iommu_name(enum vm_iommu iommu)
{
	return vm_iommu_names[iommu];
}

/* What the guest init reported on the console. */
struct guest_events {
	bool init;
	bool command_started;
	bool exited;
	int status;
	bool panic;
	char panic_line[256];
	char fault_line[256];	/* the first Oops:/BUG: line */
	char error[512];
	char *policy;		/* JSON from 'policy verify' */
	unsigned int warnings;	/* WARNING:/BUG:/Oops lines */
	char clocksource[32];	/* switched to after our init ran, or "" */
	uint64_t t_init_ms;
	uint64_t t_command_ms;
};

/* A file QEMU appends to, read as it grows. */
struct tail {
	const char *path;
	int fd;
	struct strbuf line;
};

static ssize_t tail_read(struct tail *t, char *buf, size_t len)
{
	ssize_t n;

	if (t->fd < 0) {
		t->fd = open(t->path, O_RDONLY | O_CLOEXEC);
		if (t->fd < 0)
			return 0;
	}
	n = read(t->fd, buf, len);
	return n < 0 ? 0 : n;
}

static void serial_line(const char *line, struct guest_events *ev,
			uint64_t t_ms)
{
	const char *p = strstr(line, "iommubench-guest: ");
	const char *cs = strstr(line, "Switched to clocksource ");

	if (strstr(line, "Kernel panic - not syncing") && !ev->panic) {
		ev->panic = true;
		snprintf(ev->panic_line, sizeof(ev->panic_line), "%s",
			 strstr(line, "Kernel panic"));
	}
	if ((strstr(line, "BUG:") || strstr(line, "Oops:")) &&
	    !ev->fault_line[0])
		snprintf(ev->fault_line, sizeof(ev->fault_line), "%s", line);
	if (strstr(line, "WARNING:") || strstr(line, "BUG:") ||
	    strstr(line, "Oops:"))
		ev->warnings++;
	if (ev->init && cs)
		snprintf(ev->clocksource, sizeof(ev->clocksource), "%s",
			 cs + strlen("Switched to clocksource "));
	if (!p)
		return;
	p += strlen("iommubench-guest: ");
	if (!strcmp(p, "init")) {
		ev->init = true;
		ev->t_init_ms = t_ms;
	} else if (!strcmp(p, "command-start")) {
		ev->command_started = true;
		ev->t_command_ms = t_ms;
	} else if (str_has_prefix(p, "exit ")) {
		ev->exited = true;
		ev->status = atoi(p + 5);
	} else if (str_has_prefix(p, "policy ")) {
		free(ev->policy);
		ev->policy = strdup(p + 7);
	} else if (str_has_prefix(p, "error: ")) {
		snprintf(ev->error, sizeof(ev->error), "%s", p + 7);
	}
}

static void serial_scan(struct tail *t, struct guest_events *ev, uint64_t t_ms)
{
	char buf[8192];
	ssize_t n;

	while ((n = tail_read(t, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				serial_line(t->line.buf ? strtrim(t->line.buf) : "",
					    ev, t_ms);
				strbuf_release(&t->line);
			} else if (buf[i] != '\r') {
				strbuf_addch(&t->line, buf[i]);
			}
		}
	}
}

static void stream_copy(struct tail *t, FILE *out)
{
	char buf[8192];
	ssize_t n;

	if (!out)
		return;
	while ((n = tail_read(t, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != '\r')
				fputc(buf[i], out);
		fflush(out);
	}
}

/* Print the last @lines lines of @path to stderr, indented. */
static void show_tail(const char *path, int lines)
{
	char *text = read_file(path, NULL), *p;
	int seen = 0;

	if (!text)
		return;
	p = text + strlen(text);
	while (p > text && seen <= lines)
		if (*--p == '\n')
			seen++;
	if (*p == '\n')
		p++;
	for (char *line = strtok(p, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "    | %s\n", line);
	free(text);
}

int vm_iommu_parse(const char *s, enum vm_iommu *iommu)
{
	for (int i = 0; vm_iommu_names[i]; i++) {
		if (!strcmp(vm_iommu_names[i], s)) {
			*iommu = i;
			return 0;
		}
	}
	return -1;
}

const char *vm_mechanism_name(enum vm_mechanism m)
{
	return vm_mech_names[m];
}

enum vm_mechanism vm_mechanism(const struct vm_config *cfg)
{
	if (cfg->mechanism != VM_MECH_AUTO || cfg->policy == POLICY_DEFAULT)
		return cfg->mechanism == VM_MECH_AUTO ? VM_MECH_CMDLINE :
		       cfg->mechanism;
	/*
	 * DESIGN §4: with caching mode (intel-cm) or NpCache (amd) the kernel
	 * calls iommu_set_dma_strict() at boot and iommu.strict=0 is lost;
	 * writing DMA-FQ to the group still gives lazy mode.
	 */
	if (cfg->policy == POLICY_LAZY &&
	    (cfg->iommu == VM_IOMMU_INTEL_CM || cfg->iommu == VM_IOMMU_AMD)) {
		pr_info("%s: the kernel forces strict at boot (caching mode / NpCache); applying lazy through sysfs",
			vm_iommu_names[cfg->iommu]);
		return VM_MECH_SYSFS;
	}
	return VM_MECH_CMDLINE;
}

int vm_check(const struct vm_config *cfg)
{
	const struct kernel *k = &cfg->kernel;

	if (cfg->iommu == VM_IOMMU_VIRTIO && !kernel_config(k, "VIRTIO_IOMMU")) {
		pr_err("kernel %s (%s) has no virtio-iommu driver (CONFIG_VIRTIO_IOMMU is not set; Debian builds it from 6.12 on)",
		       k->name, k->release);
		return EXIT_VM;
	}
	if ((cfg->iommu == VM_IOMMU_INTEL || cfg->iommu == VM_IOMMU_INTEL_CM) &&
	    !kernel_config(k, "INTEL_IOMMU")) {
		pr_err("kernel %s has no Intel IOMMU driver (CONFIG_INTEL_IOMMU)",
		       k->name);
		return EXIT_VM;
	}
	if (cfg->iommu == VM_IOMMU_AMD && !kernel_config(k, "AMD_IOMMU")) {
		pr_err("kernel %s has no AMD IOMMU driver (CONFIG_AMD_IOMMU)",
		       k->name);
		return EXIT_VM;
	}
	if (cfg->clock.icount && cfg->cpus > 1) {
		pr_err("--clock icount runs one vCPU only, not %u: with -smp 2 under -icount the guest hangs at SMP bring-up (\"x86: Booting SMP configuration\", QEMU 7.2 TCG)",
		       cfg->cpus);
		return EXIT_USAGE;
	}
	if (cfg->policy != POLICY_DEFAULT && cfg->iommu == VM_IOMMU_NONE) {
		pr_err("--policy %s needs a vIOMMU (--iommu intel|intel-cm|amd|virtio)",
		       policy_name(cfg->policy));
		return EXIT_USAGE;
	}
	if (cfg->policy != POLICY_DEFAULT && !cfg->dut) {
		pr_err("--policy needs a device under test: a disk, --testdev or --edu");
		return EXIT_USAGE;
	}
	return 0;
}

static void build_cmdline(const struct vm_config *cfg,
			  enum vm_mechanism mech, struct strbuf *sb)
{
	/*
	 * A TCG guest on a loaded host runs in bursts: the IO-APIC timer
	 * check (check_timer) then sees too few ticks and panics with "timer
	 * doesn't work through Interrupt-remapped IO-APIC".  The emulated
	 * timer does work; skip the check (docs/vm-target.md).
	 *
	 * In those bursts the clocksource watchdog reads HPET and the TSC at
	 * host times far apart, sees a skew, and marks the TSC unstable mid
	 * run: the guest moves to HPET (every ktime_get_ns() an emulated MMIO
	 * read, a change of what is measured) and flips sched_clock's static
	 * key, whose int3 patching TCG can trip over ("Oops: int3" in the
	 * timer interrupt).  Both count QEMU's one virtual clock: the TSC is
	 * reliable here.
	 */
	strbuf_adds(sb, "console=ttyS0,115200 panic=-1 rdinit=/init no_timer_check tsc=reliable");
	switch (cfg->iommu) {
	case VM_IOMMU_INTEL:
	case VM_IOMMU_INTEL_CM:
		strbuf_adds(sb, " intel_iommu=on");
		break;
	default:
		break;
	}
	if (mech == VM_MECH_CMDLINE) {
		switch (cfg->policy) {
		case POLICY_STRICT:
			strbuf_adds(sb, " iommu.strict=1");
			break;
		case POLICY_LAZY:
			strbuf_adds(sb, " iommu.strict=0");
			break;
		case POLICY_IDENTITY:
			strbuf_adds(sb, " iommu.passthrough=1");
			break;
		default:
			break;
		}
	}
	if (cfg->append)
		strbuf_addf(sb, " %s", cfg->append);
}

static void build_conf(const struct vm_config *cfg, enum vm_mechanism mech,
		       struct strbuf *sb)
{
	strbuf_addf(sb, "RELEASE='%s'\n", cfg->kernel.release);
	strbuf_addf(sb, "DUT='%s'\n", cfg->dut ? cfg->dut : "");
	strbuf_addf(sb, "POLICY='%s'\n", cfg->policy == POLICY_DEFAULT ? "" :
		    policy_name(cfg->policy));
	strbuf_addf(sb, "MECHANISM='%s'\n", cfg->policy == POLICY_DEFAULT ?
		    "" : vm_mech_names[mech]);
	strbuf_addf(sb, "BLOCKDEV='%s'\n", cfg->disk == VM_DISK_NVME ? "nvme0n1" :
		    cfg->disk == VM_DISK_VIRTIO ? "vda" : "");
	strbuf_addf(sb, "SHARE='%s'\n", cfg->share ? "1" : "");
	strbuf_addf(sb, "SSH='%s'\n", cfg->ssh_port ? "1" : "");
}

static void build_qemu(const struct vm_config *cfg, enum vm_accel accel,
		       const char *dir, const char *image, const char *cmdline,
		       struct argv *a)
{
	argv_push(a, "qemu-system-x86_64");
	argv_push(a, "-nodefaults");
	argv_push(a, "-no-user-config");
	argv_push(a, "-display");
	argv_push(a, "none");
	argv_push(a, "-no-reboot");
	argv_push(a, "-machine");
	argv_pushf(a, "q35,kernel-irqchip=split,accel=%s", vm_accel_names[accel]);
	argv_push(a, "-cpu");
	argv_push(a, accel == VM_ACCEL_KVM ? "host" : "max");
	argv_push(a, "-smp");
	argv_pushf(a, "%u", cfg->cpus);
	if (cfg->clock.icount) {
		/*
		 * Guest time advances 2^shift ns per instruction, never with
		 * the host's clock: no sleeping while idle, no pacing.
		 */
		argv_push(a, "-icount");
		argv_pushf(a, "shift=%u,sleep=off,align=off", cfg->clock.shift);
	}
	argv_push(a, "-m");
	argv_pushf(a, "%u", cfg->mem_mb);
	argv_push(a, "-kernel");
	argv_push(a, image);
	argv_push(a, "-initrd");
	argv_pushf(a, "%s/initramfs.cpio", dir);
	argv_push(a, "-append");
	argv_push(a, cmdline);
	argv_push(a, "-chardev");
	argv_pushf(a, "file,id=console,path=%s/serial.log", dir);
	argv_push(a, "-serial");
	argv_push(a, "chardev:console");
	argv_push(a, "-chardev");
	argv_pushf(a, "file,id=command,path=%s/command.out", dir);
	argv_push(a, "-serial");
	argv_push(a, "chardev:command");
	/* The vIOMMU must exist before the PCI devices it translates. */
	switch (cfg->iommu) {
	case VM_IOMMU_INTEL:
		argv_push(a, "-device");
		argv_push(a, "intel-iommu,intremap=on,caching-mode=off");
		break;
	case VM_IOMMU_INTEL_CM:
		argv_push(a, "-device");
		argv_push(a, "intel-iommu,intremap=on,caching-mode=on");
		break;
	case VM_IOMMU_AMD:
		argv_push(a, "-device");
		argv_push(a, "amd-iommu,intremap=on");
		break;
	case VM_IOMMU_VIRTIO:
		argv_push(a, "-device");
		argv_push(a, "virtio-iommu-pci,addr=03.0");
		break;
	case VM_IOMMU_NONE:
		break;
	}
	if (cfg->disk != VM_DISK_NONE) {
		argv_push(a, "-drive");
		argv_pushf(a, "if=none,id=disk0,file=%s/disk.raw,format=raw,cache=none,aio=native",
			   dir);
		argv_push(a, "-device");
		if (cfg->disk == VM_DISK_NVME)
			argv_push(a, "nvme,drive=disk0,serial=iommubench0,addr=04.0");
		else
			argv_push(a, "virtio-blk-pci,drive=disk0,addr=04.0");
	}
	if (cfg->testdev) {
		argv_push(a, "-device");
		argv_push(a, "pci-testdev,addr=05.0");
	}
	if (cfg->edu) {
		argv_push(a, "-device");
		argv_push(a, "edu,addr=06.0");
	}
	if (cfg->share) {
		argv_push(a, "-fsdev");
		argv_pushf(a, "local,id=share,path=%s,security_model=none",
			   cfg->share);
		argv_push(a, "-device");
		argv_push(a, "virtio-9p-pci,fsdev=share,mount_tag=shared,addr=07.0");
	}
	if (cfg->ssh_port) {
		/* restrict=on: the guest reaches nothing; only the forward comes in */
		argv_push(a, "-netdev");
		argv_pushf(a, "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:%u-:22",
			   cfg->ssh_port);
		argv_push(a, "-device");
		argv_push(a, "virtio-net-pci,netdev=net0,addr=08.0");
	}
	for (size_t i = 0; cfg->qemu_args && cfg->qemu_args[i]; i++)
		argv_push(a, cfg->qemu_args[i]);
}

static int make_disk(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0)
		return -1;
	ret = ftruncate(fd, VM_DISK_BYTES);
	close(fd);
	return ret;
}

static char *new_run_dir(void)
{
	static unsigned int seq;
	char *stamp = stamp_now();
	char *dir = xasprintf("%s/runs/vm-%s-%d-%u", cache_dir(), stamp,
			      (int)getpid(), seq++);

	free(stamp);
	return dir;
}

static void write_record(const char *dir, const struct vm_config *cfg,
			 enum vm_accel accel, enum vm_mechanism mech,
			 const char *cmdline, char *const qemu[],
			 const struct guest_events *ev, const char *outcome,
			 int status, unsigned int attempts,
			 const char *const faults[])
{
	struct json_object *o = json_object_new_object(), *pol = NULL;
	struct json_object *faults_json;
	char clk[16];
	char *path = xasprintf("%s/vm.json", dir);
	char *qstr = argv_to_string(qemu), *cstr = argv_to_string(cfg->command);

	json_object_object_add(o, "kernel", json_object_new_string(cfg->kernel.name));
	json_object_object_add(o, "release", json_object_new_string(cfg->kernel.release));
	json_object_object_add(o, "kernel_version", cfg->kernel.version ?
			       json_object_new_string(cfg->kernel.version) : NULL);
	json_object_object_add(o, "iommu", json_object_new_string(vm_iommu_names[cfg->iommu]));
	json_object_object_add(o, "policy_requested", cfg->policy == POLICY_DEFAULT ?
			       NULL : json_object_new_string(policy_name(cfg->policy)));
	json_object_object_add(o, "mechanism", cfg->policy == POLICY_DEFAULT ?
			       NULL : json_object_new_string(vm_mech_names[mech]));
	json_object_object_add(o, "dut", cfg->dut ? json_object_new_string(cfg->dut) : NULL);
	if (ev->policy)
		pol = json_tokener_parse(ev->policy);
	json_object_object_add(o, "policy_verified", pol);
	json_object_object_add(o, "accel", json_object_new_string(vm_accel_names[accel]));
	json_object_object_add(o, "clock", json_object_new_string(
			       ib_clock_name(&cfg->clock, clk, sizeof(clk))));
	json_object_object_add(o, "cmdline", json_object_new_string(cmdline));
	json_object_object_add(o, "qemu", json_object_new_string(qstr ? qstr : ""));
	json_object_object_add(o, "command", json_object_new_string(cstr ? cstr : ""));
	json_object_object_add(o, "boot_to_init_ms", ev->init ?
			       json_object_new_int64(ev->t_init_ms) : NULL);
	json_object_object_add(o, "boot_to_command_ms", ev->command_started ?
			       json_object_new_int64(ev->t_command_ms) : NULL);
	json_object_object_add(o, "kernel_warnings", json_object_new_int(ev->warnings));
	json_object_object_add(o, "clocksource_switched_to", ev->clocksource[0] ?
			       json_object_new_string(ev->clocksource) : NULL);
	json_object_object_add(o, "outcome", json_object_new_string(outcome));
	json_object_object_add(o, "exit_status", json_object_new_int(status));
	json_object_object_add(o, "boot_attempts", json_object_new_int(attempts));
	faults_json = json_object_new_array();
	for (unsigned int i = 0; i + 1 < attempts; i++)
		json_object_array_add(faults_json, json_object_new_string(faults[i]));
	json_object_object_add(o, "boot_faults", faults_json);
	if (!path || json_write_file(path, o))
		pr_warn("%s/vm.json: cannot write the run record", dir);
	json_object_put(o);
	free(path);
	free(qstr);
	free(cstr);
}

static void report_policy(const struct guest_events *ev, bool ok)
{
	struct json_object *o = ev->policy ? json_tokener_parse(ev->policy) : NULL;
	const char *reason = o ? json_get_string(o, "reason") : NULL;

	if (!o) {
		if (!ok)
			pr_err("policy verification failed and reported nothing");
		return;
	}
	if (ok)
		pr_info("policy %s verified: %s group %d type %s",
			json_get_string(o, "policy"), json_get_string(o, "device"),
			json_object_get_int(json_object_object_get(o, "group")),
			json_get_string(o, "type"));
	else
		pr_err("policy not applied: %s", reason ? reason : "(no reason)");
	json_object_put(o);
}

static void fill_result(struct vm_result *res, const struct guest_events *ev,
			const char *outcome, enum vm_accel accel)
{
	struct json_object *o = ev->policy ? json_tokener_parse(ev->policy) : NULL;
	struct json_object *ok;

	memset(res, 0, sizeof(*res));
	snprintf(res->outcome, sizeof(res->outcome), "%s", outcome);
	snprintf(res->accel, sizeof(res->accel), "%s", vm_accel_names[accel]);
	res->boot_to_command_ms = ev->command_started ? (int64_t)ev->t_command_ms : -1;
	if (!o)
		return;
	snprintf(res->group_type, sizeof(res->group_type), "%s",
		 json_get_string(o, "type") ? json_get_string(o, "type") : "");
	snprintf(res->policy, sizeof(res->policy), "%s",
		 json_get_string(o, "policy") ? json_get_string(o, "policy") : "");
	res->verified = json_object_object_get_ex(o, "ok", &ok) &&
			json_object_get_boolean(ok);
	json_object_put(o);
}

/* One boot of QEMU: what the guest said, and how the boot ended. */
struct vm_boot {
	struct guest_events ev;
	struct tail serial;
	struct tail command;
	const char *outcome;
	int status;
	int qstatus;
	bool timed_out;
	uint64_t t0;
	uint64_t boot_deadline;
};

static void vm_boot_release(struct vm_boot *b)
{
	if (b->serial.fd >= 0)
		close(b->serial.fd);
	if (b->command.fd >= 0)
		close(b->command.fd);
	strbuf_release(&b->serial.line);
	strbuf_release(&b->command.line);
	free((char *)b->serial.path);
	free((char *)b->command.path);
	free(b->ev.policy);
	memset(b, 0, sizeof(*b));
	b->serial.fd = -1;
	b->command.fd = -1;
}

/*
 * vm_boot - start QEMU on @qemu and follow the guest until it exits, the
 * watchdog fires or vm_interrupt() is called.  Fills @b; returns -1 only
 * when QEMU could not be started at all.
 */
static int vm_boot(const struct vm_config *cfg, const char *dir,
		   char *const qemu[], int logfd, struct vm_boot *b)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	uint64_t deadline;
	pid_t pid;

	b->serial.path = xasprintf("%s/serial.log", dir);
	b->command.path = xasprintf("%s/command.out", dir);
	/* QEMU appends; stale files from a reused --run-dir must go. */
	unlink(b->serial.path);
	unlink(b->command.path);
	o.out_fd = logfd;
	o.err_fd = logfd;
	o.quiet = true;
	b->t0 = now_ms();
	pid = spawn_start(qemu, &o);
	if (pid < 0)
		return -1;
	deadline = b->t0 + (uint64_t)cfg->timeout_s * 1000;
	b->boot_deadline = b->t0 + (uint64_t)(cfg->timeout_s < VM_BOOT_TIMEOUT_S ?
					      cfg->timeout_s : VM_BOOT_TIMEOUT_S) * 1000;
	for (;;) {
		uint64_t now = now_ms();
		int r = spawn_poll(pid, &b->qstatus);

		serial_scan(&b->serial, &b->ev, now - b->t0);
		stream_copy(&b->command, cfg->stream);
		if (cfg->tick)
			cfg->tick(cfg->tick_arg);
		if (r)
			break;
		if (now >= deadline || (!b->ev.init && now >= b->boot_deadline) ||
		    vm_stop) {
			b->timed_out = !vm_stop;
			b->qstatus = spawn_kill(pid, 1000);
			break;
		}
		sleep_ms(VM_POLL_MS);
	}
	serial_scan(&b->serial, &b->ev, now_ms() - b->t0);
	stream_copy(&b->command, cfg->stream);
	return 0;
}

/*
 * Faults of the guest kernel itself, before our init ran, that a slow or
 * loaded TCG host provokes and that say nothing about the kernel or the
 * configuration under test (docs/vm-target.md).  Such a boot is retried.
 */
static const char *const benign_faults[] = {
	/* text_poke_bp: a CPU still runs the int3 of a finished patch */
	"Oops: int3",
	/* check_timer(), if a user's --append undoes no_timer_check */
	"timer doesn't work through Interrupt-remapped IO-APIC",
	"IO-APIC + timer doesn't work!",
};

static const char *benign_fault(const struct vm_boot *b)
{
	if (b->ev.init || b->ev.exited || vm_stop)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(benign_faults); i++)
		if (strstr(b->ev.fault_line, benign_faults[i]) ||
		    strstr(b->ev.panic_line, benign_faults[i]))
			return benign_faults[i];
	return NULL;
}

/* Decide how @b ended: its outcome, its exit status, and why. */
static void vm_judge(const struct vm_config *cfg, struct vm_boot *b,
		     const char *qlog)
{
	const struct guest_events *ev = &b->ev;

	b->outcome = "ok";
	if (ev->exited) {
		b->status = ev->status;
		if (ev->policy)
			report_policy(ev, b->status != EXIT_POLICY);
		if (b->status == EXIT_POLICY && !ev->command_started) {
			b->outcome = "policy-mismatch";
		} else if (b->status == EXIT_GUEST && !ev->command_started) {
			pr_err("guest set-up failed: %s", ev->error[0] ? ev->error :
			       "see the serial log");
			b->outcome = "guest-failed";
		}
	} else if (vm_stop) {
		pr_err("interrupted: guest stopped");
		b->status = EXIT_GUEST;
		b->outcome = "interrupted";
	} else if (ev->panic) {
		pr_err("guest kernel panicked %s: %s", ev->command_started ?
		       "while COMMAND ran" : "before COMMAND", ev->panic_line);
		b->status = EXIT_GUEST;
		b->outcome = "panic";
	} else if (b->timed_out) {
		if (!ev->init)
			pr_err("guest did not reach userspace within %u s (watchdog)",
			       (unsigned int)((b->boot_deadline - b->t0) / 1000));
		else
			pr_err("guest still running after --timeout %u s %s (watchdog)",
			       cfg->timeout_s, ev->command_started ? "in COMMAND" :
			       "before COMMAND");
		b->status = EXIT_TIMEOUT;
		b->outcome = "timeout";
	} else if (!ev->init) {
		pr_err("qemu exited (status %d) before the guest booted:",
		       b->qstatus);
		show_tail(qlog, 8);
		b->status = EXIT_VM;
		b->outcome = "qemu-failed";
	} else {
		pr_err("guest stopped before COMMAND finished (qemu status %d)",
		       b->qstatus);
		b->status = EXIT_GUEST;
		b->outcome = "guest-died";
	}
	if (ev->warnings)
		pr_warn("the guest kernel logged %u warning/BUG/Oops line(s): see %s",
			ev->warnings, b->serial.path);
	if (ev->clocksource[0])
		pr_warn("the guest switched to clocksource %s while it ran: its times before and after are not comparable (see %s)",
			ev->clocksource, b->serial.path);
}

/* Keep a retried boot's serial log beside the final one. */
static void keep_attempt_log(const char *dir, unsigned int attempt)
{
	char *from = xasprintf("%s/serial.log", dir);
	char *to = xasprintf("%s/serial.attempt%u.log", dir, attempt);

	if (from && to && rename(from, to))
		pr_warn("%s: %s", from, strerror(errno));
	free(from);
	free(to);
}

/* Remove what a boot leaves that is large: the disk always, the image on success. */
static void vm_cleanup(const struct vm_config *cfg, const char *dir, bool ok)
{
	char *p = xasprintf("%s/disk.raw", dir);
	char *q = xasprintf("%s/initramfs.cpio", dir);

	if (p)
		unlink(p);
	if (q && ok && !cfg->keep)
		unlink(q);
	free(p);
	free(q);
}

/* the QEMU command line into DIR/qemu.cmdline, for the record */
static void save_qemu_cmdline(const char *dir, char *const *argv)
{
	char *line = argv_to_string(argv);
	char *cpath = xasprintf("%s/qemu.cmdline", dir);

	if (line && cpath)
		write_file_atomic(cpath, line, strlen(line));
	pr_debug("qemu: %s", line ? line : "");
	free(line);
	free(cpath);
}

/*
 * boot_retrying - boot on a fresh disk until the guest gets past the
 * faults a slow TCG host provokes before init, at most VM_BOOT_RETRIES
 * times again; @faults gets each retried boot's fault, *@attempt the
 * number of boots.  0 once a boot ran (whatever its outcome), -1 with
 * @b->outcome set when none could start.
 */
static int boot_retrying(const struct vm_config *cfg, const char *dir,
			 char *const *qemu, int logfd, struct vm_boot *b,
			 const char **faults, unsigned int *attempt)
{
	char *path = xasprintf("%s/disk.raw", dir);
	const char *fault;
	int ret = -1;

	for (;;) {
		++*attempt;
		if (cfg->disk != VM_DISK_NONE && (!path || make_disk(path))) {
			pr_err("%s: %s", path ? path : dir, strerror(errno));
			b->outcome = "setup-failed";
			goto out;
		}
		if (vm_boot(cfg, dir, qemu, logfd, b)) {
			pr_err("cannot start qemu-system-x86_64: %s (install the Debian package qemu-system-x86)",
			       strerror(errno));
			b->outcome = "qemu-failed";
			goto out;
		}
		fault = benign_fault(b);
		if (!fault || *attempt > VM_BOOT_RETRIES)
			break;
		pr_warn("boot %u: the guest kernel failed before init with '%s' (a fault a slow TCG host provokes, docs/vm-target.md); booting again, log kept as serial.attempt%u.log",
			*attempt, fault, *attempt);
		faults[*attempt - 1] = fault;
		vm_boot_release(b);
		keep_attempt_log(dir, *attempt);
	}
	ret = 0;
out:
	free(path);
	return ret;
}

int vm_run(struct vm_config *cfg, struct vm_result *res)
{
	struct strbuf cmdline = STRBUF_INIT, conf = STRBUF_INIT;
	const char *faults[VM_BOOT_RETRIES] = { 0 };
	struct vm_boot b = { .serial.fd = -1, .command.fd = -1 };
	struct argv qemu = { 0 };
	enum vm_mechanism mech;
	enum vm_accel accel = VM_ACCEL_TCG;
	char *dir, *image = NULL, *path = NULL, *qlog = NULL;
	unsigned int attempt = 0;
	bool keep = cfg->keep || cfg->run_dir;
	int logfd = -1, status;

	if (res) {
		memset(res, 0, sizeof(*res));
		snprintf(res->outcome, sizeof(res->outcome), "config-error");
		res->boot_to_command_ms = -1;
	}
	b.status = vm_check(cfg);
	if (b.status)
		return b.status;
	b.status = EXIT_VM;
	b.outcome = "setup-failed";
	mech = vm_mechanism(cfg);
	dir = cfg->run_dir ? strdup(cfg->run_dir) : new_run_dir();
	if (!dir || mkdir_p(dir, 0755)) {
		pr_err("%s: %s", dir ? dir : "run directory", strerror(errno));
		free(dir);
		return EXIT_VM;
	}
	accel = accel_choose(cfg);
	image = kernel_boot_image(&cfg->kernel);
	build_cmdline(cfg, mech, &cmdline);
	build_conf(cfg, mech, &conf);
	path = xasprintf("%s/initramfs.cpio", dir);
	if (!image || !path || guest_build(cfg, path, conf.buf))
		goto out;
	build_qemu(cfg, accel, dir, image, cmdline.buf, &qemu);
	qlog = xasprintf("%s/qemu.log", dir);
	logfd = open(qlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	save_qemu_cmdline(dir, qemu.v);
	if (boot_retrying(cfg, dir, qemu.v, logfd, &b, faults, &attempt))
		goto out;
	vm_judge(cfg, &b, qlog);
	if (b.ev.command_started)
		pr_debug("boot to COMMAND: %.2f s (%s)",
			 b.ev.t_command_ms / 1000.0, vm_accel_names[accel]);
	write_record(dir, cfg, accel, mech, cmdline.buf, qemu.v, &b.ev,
		     b.outcome, b.status, attempt, faults);
out:
	if (res) {
		fill_result(res, &b.ev, b.outcome, accel);
		res->boot_attempts = attempt;
	}
	if (strcmp(b.outcome, "ok"))
		keep = true;
	if (logfd >= 0)
		close(logfd);
	vm_cleanup(cfg, dir, !strcmp(b.outcome, "ok"));
	if (!keep)
		rm_rf(dir);
	else if (strcmp(b.outcome, "ok") || !cfg->run_dir)
		pr_info("logs kept in %s", dir);
	status = b.status;
	vm_boot_release(&b);
	strbuf_release(&cmdline);
	strbuf_release(&conf);
	argv_free(&qemu);
	free(image);
	free(path);
	free(qlog);
	free(dir);
	return status;
}

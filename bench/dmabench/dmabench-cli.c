// SPDX-License-Identifier: GPL-2.0
/*
 * dmabench - measure dma_map/dma_unmap/dma_sync latency with dmabench.ko
 *
 * Loads the module if asked (--module), binds the PCI device to it through
 * driver_override (--device), runs one benchmark through /dev/dmabench,
 * fetches the histograms and prints a table or JSON (docs/dmabench-json.md).
 *
 * --mode stale runs the stale-DMA probe instead, on QEMU's edu device: per
 * delay of --delays, --trials trials of DMABENCH_IOC_STALE, interleaved,
 * and per delay the outcomes, P(landed) with its Wilson interval, and when
 * the writes came after the unmap (docs/exposure.md).
 *
 * Exit codes: 0 ok, 1 run failed, 2 usage error, 3 environment (no module,
 * no device, cannot bind).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <iommubench/dmabench.h>
#include "hist.h"
#include "json.h"
#include "exitcodes.h"
#include "log.h"
#include "opt.h"
#include "pcidev.h"
#include "stats.h"
#include "util.h"

#define EXIT_RUN_FAILED		EXIT_ERROR

#define DB_STR(x)		#x
#define DB_XSTR(x)		DB_STR(x)

#define CTL_PATH		"/dev/" DMABENCH_DEV_NAME
#define MISC_DEV_ATTR		"/sys/class/misc/" DMABENCH_DEV_NAME "/dev"
#define JSON_SCHEMA		"iommubench.dmabench/1"

_Static_assert(sizeof(struct dmabench_params) == 536, "uapi size");
_Static_assert(sizeof(struct dmabench_info) == 160, "uapi size");
_Static_assert(sizeof(struct dmabench_result) == 9896, "uapi size");
_Static_assert(sizeof(struct dmabench_stale) == 136, "uapi size");

#define STALE_SCHEMA		"iommubench.dmabench-stale/1"
#define STALE_DEFAULT_DELAYS	"0,100us,1ms,5ms,20ms"
#define STALE_DEFAULT_TRIALS	20

static const char *const outcome_names[] = {
	[DMABENCH_STALE_NEITHER] = "neither",
	[DMABENCH_STALE_LANDED] = "landed",
	[DMABENCH_STALE_FAULTED] = "faulted",
	[DMABENCH_STALE_PARTIAL] = "partial",
	[DMABENCH_STALE_LATE] = "late",
};

static const struct {
	uint32_t bit;
	const char *name;
} fault_source_names[] = {
	{ DMABENCH_FAULT_TRACEPOINT, "io_page_fault" },
	{ DMABENCH_FAULT_VTD, "vtd_fault_records" },
	{ DMABENCH_FAULT_IRQ, "iommu_fault_irq" },
};

static const char *const op_names[DMABENCH_NR_OPS] = {
	[DMABENCH_OP_MAP] = "map",
	[DMABENCH_OP_UNMAP] = "unmap",
	[DMABENCH_OP_SYNC] = "sync",
	[DMABENCH_OP_TIMER] = "timer",
};

static const char *const dir_names[] = {
	[DMABENCH_DIR_BIDIRECTIONAL] = "bidirectional",
	[DMABENCH_DIR_TO_DEVICE] = "to-device",
	[DMABENCH_DIR_FROM_DEVICE] = "from-device",
};

static const char *const domain_names[] = {
	[DMABENCH_DOMAIN_NONE] = "none",
	[DMABENCH_DOMAIN_DMA] = "DMA",
	[DMABENCH_DOMAIN_DMA_FQ] = "DMA-FQ",
	[DMABENCH_DOMAIN_IDENTITY] = "identity",
	[DMABENCH_DOMAIN_OTHER] = "other",
};

static struct env {
	char bdf[32];
	const char *module;
	bool json;
	bool per_thread;
	bool unbind_after;
	bool force;
	struct dmabench_params p;
	unsigned int cpus[DMABENCH_MAX_THREADS];
	unsigned int nr_cpus;
	/* --mode stale */
	bool stale;
	uint64_t delays[DMABENCH_STALE_MAX_DELAYS];
	unsigned int nr_delays;
	uint32_t trials;
	const char *not_stale;	/* an option given that --mode stale ignores */
} env = {
	.trials = STALE_DEFAULT_TRIALS,
	.p = {
		.size = sizeof(struct dmabench_params),
		.version = DMABENCH_ABI_VERSION,
		.threads = 1,
		.duration_ns = 1000000000ULL,
		.warmup_ops = 1000,
		.seed = 1,
		.node = DMABENCH_NODE_ANY,
		.dir = DMABENCH_DIR_BIDIRECTIONAL,
		.map_mode = DMABENCH_MAP_SINGLE,
		.batch = 1,
		.nr_sizes = 1,
		.sizes = { { 4096, 1 } },
	},
};

/* results of one run: merged (index 0) and per thread (1 + i) */
struct results {
	struct dmabench_info info;
	unsigned int nr_threads;
	struct dmabench_result *raw;	/* (1 + threads) * DMABENCH_NR_OPS */
	struct hist *hist;		/* same indexing */
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "0,100us,1ms" -> env.delays */
static int parse_delays(const char *arg)
{
	return parse_duration_list(arg, 1, DMABENCH_STALE_MAX_LEAD_NS,
				   env.delays, DMABENCH_STALE_MAX_DELAYS,
				   &env.nr_delays);
}

/* "4096", "4k", "2M", "64KiB" -> bytes */
static int parse_bytes(const char *s, uint32_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (!strcmp(end, "k") || !strcmp(end, "K") || !strcmp(end, "KiB"))
		mult = 1024;
	else if (!strcmp(end, "m") || !strcmp(end, "M") || !strcmp(end, "MiB"))
		mult = 1024 * 1024;
	else if (*end)
		return -1;
	if (!v || v > DMABENCH_MAX_BUF_BYTES / mult)
		return -1;
	*out = (uint32_t)(v * mult);
	return 0;
}

/* "4k:3,64k:1" -> size mix */
static int parse_sizes(const char *arg, struct dmabench_params *p)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	uint32_t n = 0;
	int ret = -1;

	if (!copy)
		return -1;
	memset(p->sizes, 0, sizeof(p->sizes));
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		uint32_t weight = 1;

		if (n == DMABENCH_MAX_SIZES)
			goto out;
		if (colon) {
			*colon = '\0';
			if (parse_u32(colon + 1, 1, DMABENCH_MAX_WEIGHT,
				      &weight))
				goto out;
		}
		if (parse_bytes(tok, &p->sizes[n].bytes))
			goto out;
		p->sizes[n++].weight = weight;
	}
	if (n) {
		p->nr_sizes = n;
		ret = 0;
	}
out:
	free(copy);
	return ret;
}

/* "0-3,6" -> CPU list, in order */
static int parse_cpus(const char *arg)
{
	const char *s = arg;

	env.nr_cpus = 0;
	while (*s) {
		unsigned long lo, hi;
		char *end;

		if (*s < '0' || *s > '9')
			return -1;
		lo = strtoul(s, &end, 10);
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -1;
			hi = strtoul(s, &end, 10);
		}
		if (hi < lo || hi >= DMABENCH_CPU_ANY)
			return -1;
		for (; lo <= hi; lo++) {
			if (env.nr_cpus == DMABENCH_MAX_THREADS)
				return -1;
			env.cpus[env.nr_cpus++] = (unsigned int)lo;
		}
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return env.nr_cpus ? 0 : -1;
}

static int parse_dir(const char *s, uint32_t *dir)
{
	if (!strcmp(s, "to-device") || !strcmp(s, "to"))
		*dir = DMABENCH_DIR_TO_DEVICE;
	else if (!strcmp(s, "from-device") || !strcmp(s, "from"))
		*dir = DMABENCH_DIR_FROM_DEVICE;
	else if (!strcmp(s, "bidirectional") || !strcmp(s, "bidi"))
		*dir = DMABENCH_DIR_BIDIRECTIONAL;
	else
		return -1;
	return 0;
}

/* "00:03.0" or "0000:00:03.0" -> "0000:00:03.0" */
static int parse_bdf(const char *s, char *out, size_t len)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
			return -1;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -1;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* what the options given say, for the rules between them (check_args()) */
static struct seen {
	bool ops, duration, mode, delays, trials, sync;
	int mode_idx;		/* into mode_names[] */
} seen;

enum { MODE_SINGLE, MODE_SG, MODE_STALE };
static const char *const mode_names[] = {
	[MODE_SINGLE] = "single", [MODE_SG] = "sg", [MODE_STALE] = "stale",
	NULL
};

static int bad(const struct opt *o, const char *arg, const char *want)
{
	pr_err("--%s: '%s' is not %s", o->long_name, arg, want);
	return -1;
}

static int cb_bdf(const struct opt *o, const char *arg)
{
	if (parse_bdf(arg, env.bdf, sizeof(env.bdf)))
		return bad(o, arg, "a PCI address (0000:00:03.0 or 00:03.0)");
	return 0;
}

static int cb_duration(const struct opt *o, const char *arg)
{
	uint64_t v;

	if (parse_duration(arg, 1000000000ULL, &v) || !v ||
	    v > DMABENCH_MAX_DURATION_NS)
		return bad(o, arg, "a duration above 0 and at most 1h");
	env.p.duration_ns = v;
	return 0;
}

static int cb_device_time(const struct opt *o, const char *arg)
{
	uint64_t v;

	if (parse_duration(arg, 1, &v) || v > DMABENCH_MAX_DEVICE_NS)
		return bad(o, arg, "a duration of 0 to 10ms");
	env.p.device_ns = v;
	return 0;
}

static int cb_cpus(const struct opt *o, const char *arg)
{
	if (parse_cpus(arg))
		return bad(o, arg, "a list like 0-3,6 (at most 64 CPUs)");
	return 0;
}

static int cb_dir(const struct opt *o, const char *arg)
{
	if (parse_dir(arg, &env.p.dir))
		return bad(o, arg, "to-device, from-device or bidirectional");
	return 0;
}

static int cb_size(const struct opt *o, const char *arg)
{
	if (parse_sizes(arg, &env.p))
		return bad(o, arg, "SIZE[:WEIGHT],... (1 to 4M, at most 8)");
	return 0;
}

/* the whole 64-bit range, which OPT_U64 (a long long) does not reach */
static int cb_seed(const struct opt *o, const char *arg)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || errno)
		return bad(o, arg, "a whole number (0-18446744073709551615)");
	env.p.seed = v;
	return 0;
}

static int cb_delays(const struct opt *o, const char *arg)
{
	if (parse_delays(arg))
		return bad(o, arg, "a list of distinct durations of 0 to 90ms (ns, us, ms; at most "
			   DB_XSTR(DMABENCH_STALE_MAX_DELAYS) ")");
	return 0;
}

/* -v and -q, in the order given: the last one wins */
static int cb_log(const struct opt *o, const char *arg)
{
	(void)arg;
	log_set_level(o->short_name == 'v' ? LOG_DEBUG : LOG_WARN);
	return 0;
}

static const struct opt db_opts[] = {
	OPT_GROUP("Device:"),
	OPT_CALLBACK('d', "device", env.bdf, "BDF",
		     "PCI device (0000:00:03.0); bound through driver_override if not bound to dmabench yet",
		     cb_bdf),
	OPT_BOOL('f', "force", &env.force,
		 "unbind BDF from another driver first"),
	OPT_BOOL('u', "unbind-after", &env.unbind_after,
		 "unbind from dmabench (and clear the override) when done"),
	OPT_STRING(0, "module", &env.module, "PATH",
		   "load this dmabench.ko if not loaded"),
	OPT_GROUP("Workload:"),
	OPT_UINT('t', "threads", &env.p.threads, "N",
		 "kernel threads (1 to 64, default 1)", 1, DMABENCH_MAX_THREADS),
	OPT_CALLBACK('T', "duration", &env.p.duration_ns, "DUR",
		     "measured time (default 1s; ns/us/ms/s, default s; at most 1h)",
		     cb_duration),
	OPT_U64('n', "ops", &env.p.ops, "N",
		"map operations per thread instead of a duration (at most 2^40)",
		1, DMABENCH_MAX_OPS),
	OPT_U64('w', "warmup", &env.p.warmup_ops, "N",
		"unrecorded operations per thread (default 1000; stops after 1s, or the duration if shorter)",
		0, DMABENCH_MAX_WARMUP_OPS),
	OPT_CALLBACK('c', "cpus", env.cpus, "LIST",
		     "CPUs for the threads, round robin (e.g. 0-3,6)", cb_cpus),
	OPT_INT('N', "node", &env.p.node, "N",
		"NUMA node for buffers and unpinned threads", 0, INT32_MAX),
	OPT_CALLBACK('r', "dir", &env.p.dir, "DIR",
		     "to-device, from-device, bidirectional (default)", cb_dir),
	OPT_UINT('M', "mask", &env.p.dma_mask_bits, "BITS",
		 "DMA mask for the run (20 to 64), restored after it",
		 DMABENCH_MIN_MASK_BITS, DMABENCH_MAX_MASK_BITS),
	OPT_CHOICE('m', "mode", &seen.mode_idx, "MODE",
		   "single (dma_map_page, default), sg, or stale (the stale-DMA probe, on QEMU's edu only)",
		   mode_names),
	OPT_UINT('e', "sg-entries", &env.p.sg_entries, "N",
		 "scatterlist entries per map (1 to 128; implies sg)", 1,
		 DMABENCH_MAX_SG_ENTRIES),
	OPT_CALLBACK('s', "size", env.p.sizes, "MIX",
		     "bytes per buffer (per sg entry): SIZE[:WEIGHT],...; k/m suffixes are KiB/MiB (default 4096)",
		     cb_size),
	OPT_CALLBACK('D', "device-time", &env.p.device_ns, "DUR",
		     "busy wait between map and unmap of a batch (ns/us/ms/s, default ns; max 10ms)",
		     cb_device_time),
	OPT_UINT('b', "batch", &env.p.batch, "N",
		 "map N buffers, then unmap them (1 to 1024)", 1, DMABENCH_MAX_BATCH),
	OPT_BOOL('S', "sync", &seen.sync,
		 "also time dma_sync_*_for_cpu + _for_device"),
	OPT_CALLBACK(0, "seed", &env.p.seed, "N",
		     "size-mix seed; with stale, the trial order's (default 1)",
		     cb_seed),
	OPT_GROUP("Stale-DMA probe (--mode stale):"),
	OPT_CALLBACK(0, "delays", env.delays, "LIST",
		     "how long before the device's write is due the unmap returns: durations (ns/us/ms, default ns), 0..90ms, at most 32 (default "
		     STALE_DEFAULT_DELAYS ")",
		     cb_delays),
	OPT_UINT(0, "trials", &env.trials, "N",
		 "trials per delay, interleaved (1 to 10000, default 20)", 1,
		 DMABENCH_STALE_MAX_TRIALS),
	OPT_GROUP("Output:"),
	OPT_BOOL('p', "per-thread", &env.per_thread, "per-thread table"),
	OPT_BOOL('j', "json", &env.json, "JSON (docs/dmabench-json.md)"),
	OPT_CALLBACK_FLAG('v', "verbose", NULL,
			  "say what is done (binding, loading)", cb_log),
	OPT_CALLBACK_FLAG('q', "quiet", NULL, "errors only", cb_log),
	OPT_END(),
};

/* the options a stale probe does not use, by their short names */
#define NOT_STALE	"tTnwcNrMesDbSp"

/* what the rules between options need to know of one given */
static void note_given(const struct opt *o)
{
	if (o->short_name && strchr(NOT_STALE, o->short_name) &&
	    !env.not_stale)
		env.not_stale = o->long_name;
	if (o->value == &env.p.ops)
		seen.ops = true;
	else if (o->value == &env.p.duration_ns)
		seen.duration = true;
	else if (o->value == &seen.mode_idx)
		seen.mode = true;
	else if (o->value == env.delays)
		seen.delays = true;
	else if (o->value == &env.trials)
		seen.trials = true;
}

static const char *const db_usage[] = {
	"dmabench [OPTION]...",
	"dmabench --mode stale [--delays LIST] [--trials N] [OPTION]...",
	NULL,
};

static const struct opt_cmd db_cmd = {
	.name = "dmabench",
	.usage = db_usage,
	.about = "Measure dma_map/dma_unmap/dma_sync latency on a PCI device with dmabench.ko,\n"
		 "or (--mode stale) whether QEMU's edu device can still write into a buffer\n"
		 "after dma_unmap_page() returned.",
	.opts = db_opts,
	.min_args = 0,
	.max_args = 0,
	.footer = "Exit status: 0 ok, 1 run failed, 2 usage error, 3 no module or device\n"
		  "(or, for stale, not an edu device).  dmabench(1).",
	.version_short = 'V',
	.version = "dmabench " PACKAGE_VERSION " (ABI "
		   DB_XSTR(DMABENCH_ABI_VERSION) ")",
	.given = note_given,
};

/* the rules between options, and what follows from them: 0, or 2 */
static int check_args(void)
{
	if (seen.mode && seen.mode_idx == MODE_STALE)
		env.stale = true;
	else if (seen.mode)
		env.p.map_mode = seen.mode_idx == MODE_SG ? DMABENCH_MAP_SG :
				 DMABENCH_MAP_SINGLE;
	if (seen.sync)
		env.p.flags |= DMABENCH_F_SYNC;
	if (env.stale) {
		if (env.not_stale)
			return opt_usage_error(&db_cmd,
					       "--%s does not apply to --mode stale",
					       env.not_stale);
		if (!seen.delays && parse_delays(STALE_DEFAULT_DELAYS))
			return opt_usage_error(&db_cmd, "out of memory");
		return 0;
	}
	if (seen.delays || seen.trials)
		return opt_usage_error(&db_cmd, "--%s needs --mode stale",
				       seen.delays ? "delays" : "trials");
	if (seen.ops && seen.duration)
		return opt_usage_error(&db_cmd,
				       "--ops and --duration exclude each other");
	if (seen.ops)
		env.p.duration_ns = 0;
	if (env.p.sg_entries && !seen.mode)
		env.p.map_mode = DMABENCH_MAP_SG;
	if (env.p.map_mode == DMABENCH_MAP_SG && !env.p.sg_entries)
		env.p.sg_entries = 1;
	if (env.p.map_mode == DMABENCH_MAP_SINGLE && env.p.sg_entries > 1)
		return opt_usage_error(&db_cmd,
				       "--sg-entries > 1 needs --mode sg");
	return 0;
}

/*
 * Fill cpus[] round robin.  What the module checks (CPUs online, the memory
 * the buffers take) it alone checks: it knows the page size and how it
 * allocates, and a second copy of its rules here would drift from them.
 */
static void finish_params(struct dmabench_params *p)
{
	uint32_t i;

	for (i = 0; i < DMABENCH_MAX_THREADS; i++)
		p->cpus[i] = i < p->threads && env.nr_cpus ?
			env.cpus[i % env.nr_cpus] : DMABENCH_CPU_ANY;
}

static int load_module(const char *path)
{
	int fd, ret;

	if (!access("/sys/module/" DMABENCH_DRV_NAME, F_OK))
		return 0;
	if (!path) {
		pr_err("module dmabench is not loaded (insmod dmabench.ko, or pass --module PATH)");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	pr_debug("loading %s", path);
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	if (ret && errno == EEXIST)
		ret = 0;
	if (ret)
		pr_err("loading %s: %s (see dmesg)", path, strerror(errno));
	close(fd);
	return ret ? -1 : 0;
}

/*
 * Bind @bdf to dmabench through driver_override.  @displaced receives the
 * driver it had before ("" if none), for --unbind-after to give it back.
 */
static int bind_device(const char *bdf, bool force, char *displaced,
		       size_t len)
{
	char drv[NAME_MAX + 1];

	displaced[0] = '\0';
	if (pcidev_driver(bdf, drv, sizeof(drv))) {
		if (errno == ENODEV)
			pr_err("no PCI device %s", bdf);
		else
			pr_err("%s: cannot read its driver: %s", bdf,
			       strerror(errno));
		return -1;
	}
	if (!strcmp(drv, DMABENCH_DRV_NAME))
		return 0;
	if (drv[0]) {
		if (!force) {
			pr_err("%s is bound to %s; pass --force to unbind it",
			       bdf, drv);
			return -1;
		}
		pr_debug("unbinding %s from %s", bdf, drv);
		if (pcidev_unbind(bdf)) {
			pr_err("unbinding %s from %s: %s", bdf, drv,
			       strerror(errno));
			return -1;
		}
		snprintf(displaced, len, "%s", drv);
	}
	pr_debug("binding %s to " DMABENCH_DRV_NAME " through driver_override",
		 bdf);
	if (!pcidev_bind_override(bdf, DMABENCH_DRV_NAME))
		return 0;
	if (errno == ENXIO)
		pr_err("binding %s to dmabench failed (see dmesg; one device at a time)",
		       bdf);
	else
		pr_err("binding %s to dmabench: %s", bdf, strerror(errno));
	if (displaced[0] && pcidev_bind(bdf, displaced))
		pr_warn("giving %s back to %s: %s", bdf, displaced,
			strerror(errno));
	return -1;
}

static void unbind_device(const char *bdf, const char *displaced)
{
	pr_debug("unbinding %s from dmabench%s%s", bdf,
		 displaced[0] ? ", back to " : "", displaced);
	if (pcidev_release_override(bdf, DMABENCH_DRV_NAME, displaced))
		pr_warn("releasing %s from dmabench: %s", bdf,
			strerror(errno));
}

/* open /dev/dmabench, creating the node if devtmpfs is missing */
static int open_ctl(void)
{
	unsigned int major, minor;
	char *text;
	int fd, i;

	for (i = 0; i < 20; i++) {
		fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(100000);
	}
	if (fd < 0 && errno == ENOENT) {
		text = read_file(MISC_DEV_ATTR, NULL);
		if (text && sscanf(text, "%u:%u", &major, &minor) == 2) {
			pr_debug("creating %s (%u:%u)", CTL_PATH, major, minor);
			if (!mknod(CTL_PATH, S_IFCHR | 0600,
				   makedev(major, minor)))
				fd = open(CTL_PATH, O_RDWR | O_CLOEXEC);
		}
		free(text);
	}
	if (fd < 0)
		pr_err("%s: %s", CTL_PATH, strerror(errno));
	return fd;
}

static int get_info(int fd, struct dmabench_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->version = DMABENCH_ABI_VERSION;
	if (ioctl(fd, DMABENCH_IOC_INFO, info)) {
		pr_err("DMABENCH_IOC_INFO: %s (module and CLI ABI differ?)",
		       strerror(errno));
		return -1;
	}
	if (info->nr_buckets != IBH_NR_BUCKETS ||
	    info->sub_bits != IBH_SUB_BITS) {
		pr_err("module histograms have %u buckets, CLI expects %u",
		       info->nr_buckets, IBH_NR_BUCKETS);
		return -1;
	}
	return 0;
}

static struct dmabench_result *raw_at(struct results *r, unsigned int slot,
				      unsigned int op)
{
	return &r->raw[slot * DMABENCH_NR_OPS + op];
}

static struct hist *hist_at(struct results *r, unsigned int slot,
			    unsigned int op)
{
	return &r->hist[slot * DMABENCH_NR_OPS + op];
}

static int fetch_results(int fd, struct results *r)
{
	unsigned int slot, op;
	size_t n;

	if (get_info(fd, &r->info))
		return -1;
	r->nr_threads = r->info.threads;
	n = (size_t)(1 + r->nr_threads) * DMABENCH_NR_OPS;
	r->raw = calloc(n, sizeof(*r->raw));
	r->hist = calloc(n, sizeof(*r->hist));
	if (!r->raw || !r->hist) {
		pr_err("out of memory");
		return -1;
	}
	for (slot = 0; slot <= r->nr_threads; slot++) {
		for (op = 0; op < DMABENCH_NR_OPS; op++) {
			struct dmabench_result *res = raw_at(r, slot, op);

			res->size = sizeof(*res);
			res->version = DMABENCH_ABI_VERSION;
			res->thread = slot ? slot - 1 : DMABENCH_THREAD_ALL;
			res->op = op;
			if (ioctl(fd, DMABENCH_IOC_RESULT, res)) {
				pr_err("DMABENCH_IOC_RESULT: %s",
				       strerror(errno));
				return -1;
			}
			if (hist_load(hist_at(r, slot, op), res->buckets,
				      res->nr_buckets, res->count, res->min_ns,
				      res->max_ns, res->sum_ns, res->sum_sq_lo,
				      res->sum_sq_hi)) {
				pr_err("inconsistent %s histogram from the module",
				       op_names[op]);
				return -1;
			}
		}
	}
	return 0;
}

static bool op_shown(unsigned int op)
{
	return op != DMABENCH_OP_TIMER &&
	       (op != DMABENCH_OP_SYNC || env.p.flags & DMABENCH_F_SYNC);
}

static double ops_per_sec(uint64_t count, uint64_t ns)
{
	return ns ? count * 1e9 / ns : 0.0;
}

static const char *domain_name(uint32_t domain)
{
	return domain < ARRAY_SIZE(domain_names) ?
		domain_names[domain] : "?";
}

/* the op column of the latency table: "12/63 unmap" fits */
#define LABEL_WIDTH	14

static void print_table(struct results *r)
{
	const struct dmabench_params *p = &env.p;
	const struct hist *timer;
	unsigned int i, op;
	char label[32], a[32], b[32], c[32], d[32];

	printf("device %s  domain %s  node %d  mask %u bits\n",
	       r->info.bdf, domain_name(r->info.domain), r->info.node,
	       r->info.dma_mask_bits);
	printf("threads %u  mode %s", p->threads,
	       p->map_mode == DMABENCH_MAP_SG ? "sg" : "single");
	if (p->map_mode == DMABENCH_MAP_SG)
		printf(" x %u entries", p->sg_entries);
	printf("  size");
	for (i = 0; i < p->nr_sizes; i++)
		printf("%s%u:%u", i ? "," : " ", p->sizes[i].bytes,
		       p->sizes[i].weight);
	printf("  batch %u  dir %s  device-time %llu ns%s\n", p->batch,
	       dir_names[p->dir], (unsigned long long)p->device_ns,
	       p->flags & DMABENCH_F_SYNC ? "  sync" : "");
	printf("wall %.3f s  bytes mapped %llu  errors %llu\n\n",
	       r->info.wall_ns / 1e9,
	       (unsigned long long)raw_at(r, 0, DMABENCH_OP_MAP)->bytes,
	       (unsigned long long)r->info.errors);

	hist_print_header(stdout, LABEL_WIDTH, "op");
	for (op = 0; op < DMABENCH_NR_OPS; op++)
		if (op_shown(op))
			hist_print_row(stdout, LABEL_WIDTH, op_names[op],
				       hist_at(r, 0, op), r->info.wall_ns);

	if (env.per_thread) {
		printf("\n");
		hist_print_header(stdout, LABEL_WIDTH, "thread/cpu op");
		for (i = 0; i < r->nr_threads; i++) {
			for (op = 0; op < DMABENCH_NR_OPS; op++) {
				const struct dmabench_result *res =
					raw_at(r, i + 1, op);

				if (!op_shown(op))
					continue;
				snprintf(label, sizeof(label), "%u/%d %s", i,
					 res->cpu, op_names[op]);
				hist_print_row(stdout, LABEL_WIDTH, label,
					       hist_at(r, i + 1, op),
					       res->elapsed_ns);
			}
		}
	}

	timer = hist_at(r, 0, DMABENCH_OP_TIMER);
	printf("\ntimer overhead (ktime_get_ns pair): min %s  p50 %s  p99 %s  mean %s  (%llu samples, not subtracted)\n",
	       fmt_unit(a, sizeof(a), hist_count(timer) ?
			(double)hist_min(timer) : NAN, "ns"),
	       fmt_unit(b, sizeof(b), hist_percentile(timer, 50), "ns"),
	       fmt_unit(c, sizeof(c), hist_percentile(timer, 99), "ns"),
	       fmt_unit(d, sizeof(d), hist_mean(timer), "ns"),
	       (unsigned long long)hist_count(timer));
}

/* --- JSON (docs/dmabench-json.md) ---------------------------------------- */

/* a number, or null when it does not exist (NaN, or negative: "none") */
static int json_add_num(struct json_object *obj, const char *key, double v)
{
	if (isnan(v) || v < 0)
		return json_add_or_null(obj, key, NULL);
	return json_add(obj, key, json_object_new_double(v));
}

/*
 * The members every record starts with: "schema", "tool",
 * "kernel_release", and "device" with the address and domain of @bdf
 * (returned in *@device for the caller's further members).  NULL when an
 * allocation failed.
 */
static struct json_object *json_head(const char *schema, const char *bdf,
				     uint32_t domain,
				     struct json_object **device)
{
	struct json_object *root = json_object_new_object(), *tool, *dev;
	struct utsname uts;
	int err = 0;

	if (!root)
		return NULL;
	err |= json_add(root, "schema", json_object_new_string(schema));
	tool = json_object_new_object();
	if (tool) {
		err |= json_add(tool, "name", json_object_new_string("dmabench"));
		err |= json_add(tool, "version",
				json_object_new_string(PACKAGE_VERSION));
		err |= json_add(tool, "abi",
				json_object_new_int64(DMABENCH_ABI_VERSION));
	}
	err |= json_add(root, "tool", tool);
	err |= json_add(root, "kernel_release",
			json_object_new_string(uname(&uts) ? "" : uts.release));
	dev = json_object_new_object();
	if (dev) {
		err |= json_add(dev, "bdf", json_object_new_string(bdf));
		err |= json_add(dev, "iommu_domain",
				json_object_new_string(domain_name(domain)));
	}
	err |= json_add(root, "device", dev);
	if (err) {
		json_object_put(root);
		return NULL;
	}
	*device = dev;
	return root;
}

/* Print @root (NULL, or @err set: an allocation failed) and drop it. */
static int json_finish(struct json_object *root, int err)
{
	int ret = 0;

	if (!root || err) {
		pr_err("out of memory building JSON");
		ret = -1;
	} else if (json_print_compact(stdout, root)) {
		pr_err("writing JSON: %s", strerror(errno));
		ret = -1;
	}
	json_object_put(root);
	return ret;
}

static struct json_object *json_cpus(const struct dmabench_params *p)
{
	struct json_object *a = json_object_new_array();
	int err = 0;

	for (unsigned int i = 0; a && i < p->threads; i++) {
		if (p->cpus[i] == DMABENCH_CPU_ANY)
			err |= json_object_array_add(a, NULL) ? -1 : 0;
		else
			err |= json_push(a, json_object_new_int64(p->cpus[i]));
	}
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* [{"bytes": N, "weight": W}, ...] */
static struct json_object *json_sizes(const struct dmabench_params *p)
{
	struct json_object *a = json_object_new_array(), *s;
	int err = 0;

	for (unsigned int i = 0; a && i < p->nr_sizes; i++) {
		s = json_object_new_object();
		if (s) {
			err |= json_add(s, "bytes",
					json_object_new_int64(p->sizes[i].bytes));
			err |= json_add(s, "weight",
					json_object_new_int64(p->sizes[i].weight));
		}
		err |= json_push(a, s);
	}
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static struct json_object *json_params(void)
{
	const struct dmabench_params *p = &env.p;
	bool sg = p->map_mode == DMABENCH_MAP_SG;
	struct json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= json_add(o, "threads", json_object_new_int64(p->threads));
	err |= json_add(o, "duration_ns", json_object_new_uint64(p->duration_ns));
	err |= json_add(o, "ops_per_thread", json_object_new_uint64(p->ops));
	err |= json_add(o, "warmup_ops", json_object_new_uint64(p->warmup_ops));
	err |= json_add(o, "cpus", json_cpus(p));
	err |= json_add_or_null(o, "node", p->node == DMABENCH_NODE_ANY ? NULL :
				json_object_new_int64(p->node));
	err |= json_add(o, "dir", json_object_new_string(dir_names[p->dir]));
	err |= json_add(o, "dma_mask_bits",
			json_object_new_int64(p->dma_mask_bits));
	err |= json_add(o, "map_mode",
			json_object_new_string(sg ? "sg" : "single"));
	err |= json_add(o, "sg_entries",
			json_object_new_int64(sg ? p->sg_entries : 1));
	err |= json_add(o, "sizes", json_sizes(p));
	err |= json_add(o, "device_time_ns", json_object_new_uint64(p->device_ns));
	err |= json_add(o, "batch", json_object_new_int64(p->batch));
	err |= json_add(o, "sync",
			json_object_new_boolean(p->flags & DMABENCH_F_SYNC));
	err |= json_add(o, "seed", json_object_new_uint64(p->seed));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* {"map": {"ops_per_sec": X, "latency": hist}, "unmap": ..., "sync": ...} */
static struct json_object *json_ops(struct results *r, unsigned int slot,
				    uint64_t elapsed_ns)
{
	struct json_object *o = json_object_new_object(), *e;
	int err = 0;

	if (!o)
		return NULL;
	for (unsigned int op = 0; op < DMABENCH_NR_OPS; op++) {
		const struct hist *h = hist_at(r, slot, op);

		if (!op_shown(op))
			continue;
		e = json_object_new_object();
		if (e) {
			err |= json_add(e, "ops_per_sec",
					json_object_new_double(ops_per_sec(hist_count(h),
									   elapsed_ns)));
			err |= json_add(e, "latency", hist_to_json(h));
		}
		err |= json_add(o, op_names[op], e);
	}
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * What a run counted, over all threads (@slot 0: "result") or one
 * (thread @slot - 1: an element of "threads"): "ops" and
 * "timer_overhead" after the members the caller added to @o.
 */
static int json_add_ops(struct json_object *o, struct results *r,
			unsigned int slot, uint64_t elapsed_ns)
{
	int err = 0;

	err |= json_add(o, "ops", json_ops(r, slot, elapsed_ns));
	err |= json_add(o, "timer_overhead",
			hist_to_json(hist_at(r, slot, DMABENCH_OP_TIMER)));
	return err;
}

static struct json_object *json_result(struct results *r)
{
	const struct dmabench_result *all = raw_at(r, 0, DMABENCH_OP_MAP);
	struct json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= json_add(o, "wall_ns", json_object_new_uint64(r->info.wall_ns));
	err |= json_add(o, "bytes_mapped", json_object_new_uint64(all->bytes));
	err |= json_add(o, "errors", json_object_new_uint64(r->info.errors));
	err |= json_add_ops(o, r, 0, r->info.wall_ns);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_threads(struct results *r)
{
	struct json_object *a = json_object_new_array(), *o;
	int err = 0;

	for (unsigned int i = 0; a && i < r->nr_threads; i++) {
		const struct dmabench_result *res = raw_at(r, i + 1, 0);

		o = json_object_new_object();
		if (o) {
			err |= json_add(o, "thread", json_object_new_int64(i));
			err |= json_add(o, "cpu", json_object_new_int64(res->cpu));
			err |= json_add(o, "node", json_object_new_int64(res->node));
			err |= json_add(o, "elapsed_ns",
					json_object_new_uint64(res->elapsed_ns));
			err |= json_add(o, "bytes_mapped",
					json_object_new_uint64(res->bytes));
			err |= json_add(o, "errors",
					json_object_new_uint64(res->errors));
			err |= json_add_ops(o, r, i + 1, res->elapsed_ns);
		}
		err |= json_push(a, o);
	}
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

static int print_json(struct results *r)
{
	struct json_object *root, *dev = NULL;
	int err = 0;

	root = json_head(JSON_SCHEMA, r->info.bdf, r->info.domain, &dev);
	if (!root)
		return json_finish(NULL, -1);
	err |= json_add(dev, "numa_node", json_object_new_int64(r->info.node));
	err |= json_add(dev, "dma_mask_bits",
			json_object_new_int64(r->info.dma_mask_bits));
	err |= json_add(root, "params", json_params());
	err |= json_add(root, "result", json_result(r));
	err |= json_add(root, "threads", json_threads(r));
	return json_finish(root, err);
}

/* --- --mode stale: the stale-DMA probe ----------------------------------- */

struct stale_trial {
	unsigned int delay;		/* index into env.delays */
	struct dmabench_stale st;
};

struct stale_run {
	struct stale_trial *t;
	size_t n;
	size_t cap;
	uint32_t domain;		/* of the device, read after the trials */
	uint32_t sources;
};

/* one delay's summary */
struct stale_sum {
	unsigned int n[ARRAY_SIZE(outcome_names)];
	unsigned int valid;		/* all but late */
	unsigned int landed;		/* landed + partial */
	struct stats_ci p;		/* P(landed), Wilson 95 % */
	double gap_min, gap_p50, gap_max;	/* of the valid trials, ns */
	double unmap_p50;
	uint32_t reason;		/* the first fault reason seen */
};

static bool stale_landed(const struct dmabench_stale *st)
{
	return st->outcome == DMABENCH_STALE_LANDED ||
	       st->outcome == DMABENCH_STALE_PARTIAL;
}

static void stale_summarize(const struct stale_run *r, unsigned int d,
			    struct stale_sum *s)
{
	double *gap = calloc(r->n ? r->n : 1, sizeof(*gap));
	double *unmap = calloc(r->n ? r->n : 1, sizeof(*unmap));
	size_t k = 0;

	memset(s, 0, sizeof(*s));
	s->gap_min = s->gap_p50 = s->gap_max = s->unmap_p50 = NAN;
	s->p.est = s->p.lo = s->p.hi = NAN;
	for (size_t i = 0; i < r->n; i++) {
		const struct dmabench_stale *st = &r->t[i].st;

		if (r->t[i].delay != d || st->outcome >= ARRAY_SIZE(outcome_names))
			continue;
		s->n[st->outcome]++;
		if (st->outcome == DMABENCH_STALE_LATE)
			continue;
		s->valid++;
		s->landed += stale_landed(st);
		if (st->fault_reason && !s->reason)
			s->reason = st->fault_reason;
		if (gap && unmap) {
			gap[k] = st->gap_ns;
			unmap[k++] = st->unmap_ns;
		}
	}
	if (s->valid)
		stats_binomial_ci(s->landed, s->valid, 0.95, &s->p);
	if (k) {
		s->gap_min = stats_quantile(gap, k, 0);
		s->gap_p50 = stats_median(gap, k);
		s->gap_max = stats_quantile(gap, k, 1);
		s->unmap_p50 = stats_median(unmap, k);
	}
	free(gap);
	free(unmap);
}

/* the latest time after its unmap a write still landed; -1: none landed */
static double stale_last_landed(const struct stale_run *r)
{
	double last = -1;

	for (size_t i = 0; i < r->n; i++)
		if (stale_landed(&r->t[i].st) && r->t[i].st.gap_ns > last)
			last = r->t[i].st.gap_ns;
	return last;
}

/*
 * The smallest delay from which on no write landed (at it and every larger
 * delay); -1 when the largest delay still had one.
 */
static double stale_first_clean(const struct stale_run *r)
{
	double clean = -1;

	for (unsigned int d = 0; d < env.nr_delays; d++) {
		bool later_landed = false;

		for (size_t i = 0; i < r->n; i++)
			later_landed |= stale_landed(&r->t[i].st) &&
					env.delays[r->t[i].delay] >= env.delays[d];
		if (!later_landed && (clean < 0 || env.delays[d] < clean))
			clean = env.delays[d];
	}
	return clean;
}

static int stale_add(struct stale_run *r, unsigned int d,
		     const struct dmabench_stale *st)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct stale_trial *t = realloc(r->t, cap * sizeof(*t));

		if (!t) {
			pr_err("out of memory");
			return -1;
		}
		r->t = t;
		r->cap = cap;
	}
	r->t[r->n].delay = d;
	r->t[r->n++].st = *st;
	return 0;
}

/*
 * The trials: --trials rounds, each visiting every delay once in a seeded
 * random order, so that drift over the run cannot pose as an effect of the
 * delay.  A late trial (the write ran before the unmap returned) says
 * nothing about the unmap: it is kept in the record and repeated, at most
 * --trials times per delay.
 */
static int run_stale(int fd, struct stale_run *r)
{
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned int order[DMABENCH_STALE_MAX_DELAYS], late_left[DMABENCH_STALE_MAX_DELAYS];
	uint64_t rng = env.p.seed * 0x9e3779b97f4a7c15ULL | 1;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (unsigned int d = 0; d < env.nr_delays; d++)
		late_left[d] = env.trials;
	for (uint32_t round = 0; round < env.trials; round++) {
		for (unsigned int d = 0; d < env.nr_delays; d++)
			order[d] = d;
		for (unsigned int d = env.nr_delays; d > 1; d--) {
			unsigned int j, tmp;

			rng ^= rng >> 12;
			rng ^= rng << 25;
			rng ^= rng >> 27;
			j = (rng * 0x2545f4914f6cdd1dULL >> 32) % d;
			tmp = order[d - 1];
			order[d - 1] = order[j];
			order[j] = tmp;
		}
		for (unsigned int k = 0; k < env.nr_delays; k++) {
			unsigned int d = order[k];
			struct dmabench_stale st;

			for (;;) {
				memset(&st, 0, sizeof(st));
				st.size = sizeof(st);
				st.version = DMABENCH_ABI_VERSION;
				st.lead_ns = env.delays[d];
				if (ioctl(fd, DMABENCH_IOC_STALE, &st))
					goto fail;
				if (stale_add(r, d, &st))
					return EXIT_RUN_FAILED;
				r->sources = st.fault_sources;
				pr_debug("round %u, delay %llu ns: %s, write %llu ns after the unmap (%llu ns)",
					 round + 1, (unsigned long long)env.delays[d],
					 outcome_names[st.outcome < ARRAY_SIZE(outcome_names) ?
						       st.outcome : 0],
					 (unsigned long long)st.gap_ns,
					 (unsigned long long)st.unmap_ns);
				if (st.outcome != DMABENCH_STALE_LATE ||
				    !late_left[d])
					break;
				late_left[d]--;
			}
		}
	}
	return 0;

fail:
	switch (errno) {
	case EINVAL:
		pr_err("the module refused the trial's parameters (dmesg names the field)");
		return EXIT_USAGE;
	case EOPNOTSUPP:
		pr_err("%s is not QEMU's edu device (%04x:%04x): the stale-DMA probe needs its DMA engine",
		       env.bdf, DMABENCH_EDU_VENDOR, DMABENCH_EDU_DEVICE);
		return EXIT_ENVIRONMENT;
	case ENOTTY:
		pr_err("the loaded dmabench.ko has no stale-DMA probe (an older module?)");
		return EXIT_ENVIRONMENT;
	case ENODEV:
		pr_err("the device went away during the probe");
		return EXIT_ENVIRONMENT;
	case EINTR:
		pr_err("interrupted%s, no results",
		       interrupted ? " by a signal" : "");
		return EXIT_RUN_FAILED;
	default:
		pr_err("stale-DMA trial failed: %s (see dmesg)", strerror(errno));
		return EXIT_RUN_FAILED;
	}
}

static void print_sources(uint32_t sources)
{
	bool any = false;

	for (size_t i = 0; i < ARRAY_SIZE(fault_source_names); i++) {
		if (!(sources & fault_source_names[i].bit))
			continue;
		printf("%s%s", any ? ", " : "", fault_source_names[i].name);
		any = true;
	}
	printf("%s\n", any ? "" : "none (faults cannot be told from 'neither')");
}

static void print_stale_table(const struct stale_run *r)
{
	char a[32], b[32], c[32], u[32];
	double last = stale_last_landed(r), clean = stale_first_clean(r);

	printf("device %s  domain %s  (QEMU edu)\n", env.bdf,
	       domain_name(r->domain));
	printf("stale-DMA probe: %u trials per delay, %d-byte write, seed %llu\n",
	       env.trials, DMABENCH_STALE_BYTES,
	       (unsigned long long)env.p.seed);
	printf("fault reports watched: ");
	print_sources(r->sources);
	printf("\n%-9s %6s %6s %7s %7s %7s %4s %9s %-16s %s\n", "delay",
	       "trials", "landed", "partial", "faulted", "neither", "late",
	       "P(landed)", "95% CI (Wilson)",
	       "write after unmap min / p50 / max");
	for (unsigned int d = 0; d < env.nr_delays; d++) {
		struct stale_sum s;
		char ci[32];

		stale_summarize(r, d, &s);
		if (s.valid)
			snprintf(ci, sizeof(ci), "[%.3f, %.3f]", s.p.lo, s.p.hi);
		else
			snprintf(ci, sizeof(ci), "-");
		fput_cell(stdout, fmt_unit(u, sizeof(u), env.delays[d], "ns"),
			  -9);
		printf(" %6u %6u %7u %7u %7u %4u %9.3f %-16s %s / %s / %s\n",
		       s.valid,
		       s.n[DMABENCH_STALE_LANDED], s.n[DMABENCH_STALE_PARTIAL],
		       s.n[DMABENCH_STALE_FAULTED], s.n[DMABENCH_STALE_NEITHER],
		       s.n[DMABENCH_STALE_LATE], s.p.est, ci,
		       fmt_unit(a, sizeof(a), s.gap_min, "ns"),
		       fmt_unit(b, sizeof(b), s.gap_p50, "ns"),
		       fmt_unit(c, sizeof(c), s.gap_max, "ns"));
	}
	if (last < 0)
		printf("\nno write landed after its unmap\n");
	else
		printf("\nwrites landed up to %s after the unmap returned; ",
		       fmt_unit(a, sizeof(a), last, "ns"));
	if (last >= 0 && clean < 0)
		printf("they still landed at the largest delay\n");
	else if (last >= 0)
		printf("none at delays of %s and more\n",
		       fmt_unit(b, sizeof(b), clean, "ns"));
}

static struct json_object *json_stale_params(void)
{
	struct json_object *o = json_object_new_object(), *a;
	int err = 0;

	if (!o)
		return NULL;
	a = json_object_new_array();
	for (unsigned int d = 0; a && d < env.nr_delays; d++)
		err |= json_push(a, json_object_new_uint64(env.delays[d]));
	err |= json_add(o, "delays_ns", a);
	err |= json_add(o, "trials", json_object_new_int64(env.trials));
	err |= json_add(o, "seed", json_object_new_uint64(env.p.seed));
	err |= json_add(o, "bytes", json_object_new_int64(DMABENCH_STALE_BYTES));
	err |= json_add(o, "edu_delay_ns",
			json_object_new_uint64(DMABENCH_EDU_DELAY_NS));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* the names of the fault reports the module watched */
static struct json_object *json_fault_sources(uint32_t sources)
{
	struct json_object *a = json_object_new_array();
	int err = 0;

	for (size_t i = 0; a && i < ARRAY_SIZE(fault_source_names); i++)
		if (sources & fault_source_names[i].bit)
			err |= json_push(a, json_object_new_string(
					 fault_source_names[i].name));
	if (err) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* one element of "delays": delay @d's outcomes and P(landed) */
static struct json_object *json_stale_delay(const struct stale_run *r,
					    unsigned int d)
{
	struct json_object *o = json_object_new_object(), *ci, *g;
	struct stale_sum s;
	int err = 0;

	if (!o)
		return NULL;
	stale_summarize(r, d, &s);
	err |= json_add(o, "delay_ns", json_object_new_uint64(env.delays[d]));
	err |= json_add(o, "trials", json_object_new_int64(s.valid));
	for (size_t k = 0; k < ARRAY_SIZE(outcome_names); k++)
		err |= json_add(o, outcome_names[k],
				json_object_new_int64(s.n[k]));
	if (s.valid) {
		err |= json_add(o, "p_landed", json_object_new_double(s.p.est));
		ci = json_object_new_array();
		if (ci) {
			err |= json_push(ci, json_object_new_double(s.p.lo));
			err |= json_push(ci, json_object_new_double(s.p.hi));
		}
		err |= json_add(o, "p_landed_ci95", ci);
	} else {
		err |= json_add_or_null(o, "p_landed", NULL);
		err |= json_add_or_null(o, "p_landed_ci95", NULL);
	}
	g = json_object_new_object();
	if (g) {
		err |= json_add_num(g, "min", s.gap_min);
		err |= json_add_num(g, "p50", s.gap_p50);
		err |= json_add_num(g, "max", s.gap_max);
	}
	err |= json_add(o, "gap_ns", g);
	err |= json_add_num(o, "unmap_ns_p50", s.unmap_p50);
	err |= json_add(o, "fault_reason", json_object_new_int64(s.reason));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* one element of "trials": what the module said of trial @i */
static struct json_object *json_stale_trial(const struct stale_run *r,
					    size_t i)
{
	const struct dmabench_stale *st = &r->t[i].st;
	struct json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= json_add(o, "delay_ns",
			json_object_new_uint64(env.delays[r->t[i].delay]));
	err |= json_add(o, "outcome", json_object_new_string(
				st->outcome < ARRAY_SIZE(outcome_names) ?
				outcome_names[st->outcome] : "?"));
	err |= json_add(o, "domain",
			json_object_new_string(domain_name(st->domain)));
	err |= json_add(o, "iova", json_object_new_uint64(st->iova));
	err |= json_add(o, "unmap_ns", json_object_new_uint64(st->unmap_ns));
	err |= json_add(o, "gap_ns", json_object_new_uint64(st->gap_ns));
	err |= json_add(o, "landed_bytes",
			json_object_new_int64(st->landed_bytes));
	err |= json_add(o, "faults", json_object_new_int64(st->faults));
	err |= json_add(o, "fault_irqs", json_object_new_int64(st->fault_irqs));
	err |= json_add(o, "fault_reason",
			json_object_new_int64(st->fault_reason));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int print_stale_json(const struct stale_run *r)
{
	struct json_object *root, *dev, *a;
	int err = 0;

	root = json_head(STALE_SCHEMA, env.bdf, r->domain, &dev);
	if (!root)
		return json_finish(NULL, -1);
	err |= json_add(root, "params", json_stale_params());
	err |= json_add(root, "fault_sources", json_fault_sources(r->sources));
	a = json_object_new_array();
	for (unsigned int d = 0; a && d < env.nr_delays; d++)
		err |= json_push(a, json_stale_delay(r, d));
	err |= json_add(root, "delays", a);
	err |= json_add_num(root, "last_landed_gap_ns", stale_last_landed(r));
	err |= json_add_num(root, "first_clean_delay_ns",
			    stale_first_clean(r));
	a = json_object_new_array();
	for (size_t i = 0; a && i < r->n; i++)
		err |= json_push(a, json_stale_trial(r, i));
	err |= json_add(root, "trials", a);
	return json_finish(root, err);
}

static int run_benchmark(int fd)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: a signal ends the ioctl with EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!ioctl(fd, DMABENCH_IOC_RUN, &env.p))
		return 0;
	switch (errno) {
	case EINVAL:
		pr_err("the module refused the parameters (dmesg names the field)");
		return EXIT_USAGE;
	case ENODEV:
		pr_err("the device went away during the run");
		return EXIT_ENVIRONMENT;
	case EINTR:
		pr_err("interrupted%s, no results",
		       interrupted ? " by a signal" : "");
		return EXIT_RUN_FAILED;
	default:
		pr_err("run failed: %s (see dmesg)", strerror(errno));
		return EXIT_RUN_FAILED;
	}
}

int main(int argc, char **argv)
{
	struct results r = { 0 };
	struct stale_run sr = { 0 };
	char displaced[NAME_MAX + 1] = "";
	struct dmabench_info info;
	int fd = -1, err, ret;

	log_init("dmabench");
	ret = opt_parse(&db_cmd, argc, argv);
	if (ret < 0)
		return opt_exit(ret);
	if (check_args())
		return EXIT_USAGE;
	if (!env.stale)
		finish_params(&env.p);

	if (load_module(env.module))
		return EXIT_ENVIRONMENT;
	if (env.bdf[0]) {
		if (bind_device(env.bdf, env.force, displaced,
				sizeof(displaced)))
			return EXIT_ENVIRONMENT;
	}

	err = EXIT_ENVIRONMENT;
	fd = open_ctl();
	if (fd < 0 || get_info(fd, &info))
		goto cleanup;
	if (!info.bound) {
		pr_err("no device is bound to dmabench; pass --device BDF");
		goto cleanup;
	}
	if (env.bdf[0] && strcmp(info.bdf, env.bdf)) {
		pr_err("dmabench drives %s, not %s", info.bdf, env.bdf);
		goto cleanup;
	}
	snprintf(env.bdf, sizeof(env.bdf), "%s", info.bdf);

	if (env.stale) {
		err = run_stale(fd, &sr);
		if (err)
			goto cleanup;
		err = EXIT_RUN_FAILED;
		if (get_info(fd, &info))
			goto cleanup;
		sr.domain = info.domain;
		if (env.json ? print_stale_json(&sr) :
		    (print_stale_table(&sr), 0))
			goto cleanup;
		err = EXIT_SUCCESS;
		goto cleanup;
	}
	err = run_benchmark(fd);
	if (err)
		goto cleanup;
	err = EXIT_RUN_FAILED;
	if (fetch_results(fd, &r))
		goto cleanup;
	if (env.json ? print_json(&r) : (print_table(&r), 0))
		goto cleanup;
	if (r.info.errors) {
		pr_err("%llu mapping failures (see dmesg)",
		       (unsigned long long)r.info.errors);
		goto cleanup;
	}
	err = EXIT_SUCCESS;

cleanup:
	if (fd >= 0)
		close(fd);
	if (env.unbind_after && env.bdf[0])
		unbind_device(env.bdf, displaced);
	free(r.raw);
	free(r.hist);
	free(sr.t);
	if (fflush(stdout) && !err)
		err = EXIT_RUN_FAILED;
	return err;
}

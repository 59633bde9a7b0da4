// SPDX-License-Identifier: GPL-2.0
/*
 * dmabench - measure dma_map/dma_unmap/dma_sync latency with dmabench.ko
 *
 * Loads the module if asked (--module), binds the PCI device to it through
 * driver_override (--device), runs one benchmark through /dev/dmabench,
 * fetches the histograms and prints a table or JSON (docs/dmabench-json.md).
 *
 * Exit codes: 0 ok, 1 run failed, 2 usage error, 3 environment (no module,
 * no device, cannot bind).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "log.h"
#include "pcidev.h"
#include "util.h"

#define EXIT_RUN_FAILED		1
#define EXIT_USAGE		2
#define EXIT_ENVIRONMENT	3

#define CTL_PATH		"/dev/" DMABENCH_DEV_NAME
#define MISC_DEV_ATTR		"/sys/class/misc/" DMABENCH_DEV_NAME "/dev"
#define JSON_SCHEMA		"iommubench.dmabench/1"

_Static_assert(sizeof(struct dmabench_params) == 536, "uapi size");
_Static_assert(sizeof(struct dmabench_info) == 160, "uapi size");
_Static_assert(sizeof(struct dmabench_result) == 9896, "uapi size");

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
} env = {
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

enum {
	OPT_SEED = 0x100,
	OPT_MODULE,
};

static const struct option long_opts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "threads", required_argument, NULL, 't' },
	{ "duration", required_argument, NULL, 'T' },
	{ "ops", required_argument, NULL, 'n' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "node", required_argument, NULL, 'N' },
	{ "dir", required_argument, NULL, 'r' },
	{ "mask", required_argument, NULL, 'M' },
	{ "mode", required_argument, NULL, 'm' },
	{ "sg-entries", required_argument, NULL, 'e' },
	{ "size", required_argument, NULL, 's' },
	{ "device-time", required_argument, NULL, 'D' },
	{ "batch", required_argument, NULL, 'b' },
	{ "sync", no_argument, NULL, 'S' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "per-thread", no_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "unbind-after", no_argument, NULL, 'u' },
	{ "force", no_argument, NULL, 'f' },
	{ "module", required_argument, NULL, OPT_MODULE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char short_opts[] = "d:t:T:n:w:c:N:r:M:m:e:s:D:b:SpjufvqhV";

static const char usage_text[] =
"Usage: dmabench [OPTION]...\n"
"Measure dma_map/dma_unmap/dma_sync latency on a PCI device with dmabench.ko.\n"
"\n"
"Device:\n"
"  -d, --device BDF        PCI device (0000:00:03.0); bound through\n"
"                          driver_override if not bound to dmabench yet\n"
"  -f, --force             unbind BDF from another driver first\n"
"  -u, --unbind-after      unbind from dmabench (and clear the override)\n"
"                          when done\n"
"      --module PATH       load this dmabench.ko if not loaded\n"
"Workload:\n"
"  -t, --threads N         kernel threads (1..64, default 1)\n"
"  -T, --duration DUR      measured time (default 1s; ns/us/ms/s, default s)\n"
"  -n, --ops N             map operations per thread instead of a duration\n"
"  -w, --warmup N          unrecorded operations per thread (default 1000;\n"
"                          stops after 1s, or the duration if shorter)\n"
"  -c, --cpus LIST         CPUs for the threads, round robin (e.g. 0-3,6)\n"
"  -N, --node N            NUMA node for buffers and unpinned threads\n"
"  -r, --dir DIR           to-device, from-device, bidirectional (default)\n"
"  -M, --mask BITS         DMA mask for the run (20..64), restored after it\n"
"  -m, --mode MODE         single (dma_map_page, default) or sg\n"
"  -e, --sg-entries N      scatterlist entries per map (1..128; implies sg)\n"
"  -s, --size MIX          bytes per buffer (per sg entry): SIZE[:WEIGHT],...\n"
"                          k/m suffixes are KiB/MiB (default 4096)\n"
"  -D, --device-time DUR   busy wait between map and unmap of a batch\n"
"                          (ns/us/ms/s, default ns; max 10ms)\n"
"  -b, --batch N           map N buffers, then unmap them (1..1024)\n"
"  -S, --sync              also time dma_sync_*_for_cpu + _for_device\n"
"      --seed N            size-mix seed (default 1)\n"
"Output:\n"
"  -p, --per-thread        per-thread table\n"
"  -j, --json              JSON (docs/dmabench-json.md)\n"
"  -v, --verbose           say what is done (binding, loading)\n"
"  -q, --quiet             errors only\n"
"  -h, --help              this text\n"
"  -V, --version           version\n"
"\n"
"Exit status: 0 ok, 1 run failed, 2 usage error, 3 no module or device.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

#define usage_error(fmt, ...) ({					\
	pr_err(fmt "; try 'dmabench --help'", ##__VA_ARGS__);		\
	-1;								\
})

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

/* "1.5ms", "250us", "2" (in @unit_ns) -> ns */
static int parse_duration(const char *s, uint64_t unit_ns, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 },
	};
	double v, ns;
	char *end;
	size_t i;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))
		return -1;
	if (*end) {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == ARRAY_SIZE(units))
			return -1;
		unit_ns = units[i].ns;
	}
	ns = round(v * unit_ns);
	if (ns > (double)UINT64_MAX / 2)
		return -1;
	*out = (uint64_t)ns;
	return 0;
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

/* Return: 0 ok, -1 usage error (message printed), 1 help/version shown */
static int parse_args(int argc, char **argv)
{
	bool have_ops = false, have_duration = false, have_mode = false;
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, short_opts, long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_bdf(optarg, env.bdf, sizeof(env.bdf)))
				return usage_error("invalid PCI address '%s'",
						   optarg);
			break;
		case 't':
			if (parse_u32(optarg, 1, DMABENCH_MAX_THREADS,
				      &env.p.threads))
				return usage_error("--threads '%s': want 1..64",
						   optarg);
			break;
		case 'T':
			if (parse_duration(optarg, 1000000000ULL, &v) || !v ||
			    v > DMABENCH_MAX_DURATION_NS)
				return usage_error("--duration '%s': want >0 and <= 1h",
						   optarg);
			env.p.duration_ns = v;
			have_duration = true;
			break;
		case 'n':
			if (parse_u64(optarg, 1, DMABENCH_MAX_OPS, &v))
				return usage_error("--ops '%s': want 1..2^40",
						   optarg);
			env.p.ops = v;
			have_ops = true;
			break;
		case 'w':
			if (parse_u64(optarg, 0, DMABENCH_MAX_WARMUP_OPS, &v))
				return usage_error("--warmup '%s': want 0..10000000",
						   optarg);
			env.p.warmup_ops = v;
			break;
		case 'c':
			if (parse_cpus(optarg))
				return usage_error("--cpus '%s': want a list like 0-3,6 (at most 64 CPUs)",
						   optarg);
			break;
		case 'N':
			if (parse_u64(optarg, 0, INT32_MAX, &v))
				return usage_error("--node '%s': want a node number",
						   optarg);
			env.p.node = (int32_t)v;
			break;
		case 'r':
			if (parse_dir(optarg, &env.p.dir))
				return usage_error("--dir '%s': want to-device, from-device or bidirectional",
						   optarg);
			break;
		case 'M':
			if (parse_u32(optarg, DMABENCH_MIN_MASK_BITS,
				      DMABENCH_MAX_MASK_BITS,
				      &env.p.dma_mask_bits))
				return usage_error("--mask '%s': want 20..64",
						   optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "single"))
				env.p.map_mode = DMABENCH_MAP_SINGLE;
			else if (!strcmp(optarg, "sg"))
				env.p.map_mode = DMABENCH_MAP_SG;
			else
				return usage_error("--mode '%s': want single or sg",
						   optarg);
			have_mode = true;
			break;
		case 'e':
			if (parse_u32(optarg, 1, DMABENCH_MAX_SG_ENTRIES,
				      &env.p.sg_entries))
				return usage_error("--sg-entries '%s': want 1..128",
						   optarg);
			break;
		case 's':
			if (parse_sizes(optarg, &env.p))
				return usage_error("--size '%s': want SIZE[:WEIGHT],... (1..4M, at most 8)",
						   optarg);
			break;
		case 'D':
			if (parse_duration(optarg, 1, &v) ||
			    v > DMABENCH_MAX_DEVICE_NS)
				return usage_error("--device-time '%s': want 0..10ms",
						   optarg);
			env.p.device_ns = v;
			break;
		case 'b':
			if (parse_u32(optarg, 1, DMABENCH_MAX_BATCH,
				      &env.p.batch))
				return usage_error("--batch '%s': want 1..1024",
						   optarg);
			break;
		case 'S':
			env.p.flags |= DMABENCH_F_SYNC;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &v))
				return usage_error("--seed '%s': want a number",
						   optarg);
			env.p.seed = v;
			break;
		case 'p':
			env.per_thread = true;
			break;
		case 'j':
			env.json = true;
			break;
		case 'u':
			env.unbind_after = true;
			break;
		case 'f':
			env.force = true;
			break;
		case OPT_MODULE:
			env.module = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("dmabench %s (ABI %d)\n", PACKAGE_VERSION,
			       DMABENCH_ABI_VERSION);
			return 1;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'q':
			log_set_level(LOG_WARN);
			break;
		default:
			/* getopt_long() has said what is wrong */
			fprintf(stderr, "Try 'dmabench --help'.\n");
			return -1;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (have_ops && have_duration)
		return usage_error("--ops and --duration exclude each other");
	if (have_ops)
		env.p.duration_ns = 0;
	if (env.p.sg_entries && !have_mode)
		env.p.map_mode = DMABENCH_MAP_SG;
	if (env.p.map_mode == DMABENCH_MAP_SG && !env.p.sg_entries)
		env.p.sg_entries = 1;
	if (env.p.map_mode == DMABENCH_MAP_SINGLE && env.p.sg_entries > 1)
		return usage_error("--sg-entries > 1 needs --mode sg");
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

static void print_hist_row(const char *label, const struct hist *h,
			   uint64_t elapsed_ns)
{
	if (!hist_count(h)) {
		printf("%-14s %10d\n", label, 0);
		return;
	}
	printf("%-14s %10llu %11.0f %7llu %7.0f %7.0f %7.0f %7.0f %8llu %8.1f %8.1f\n",
	       label, (unsigned long long)hist_count(h),
	       ops_per_sec(hist_count(h), elapsed_ns),
	       (unsigned long long)hist_min(h), hist_percentile(h, 50),
	       hist_percentile(h, 90), hist_percentile(h, 99),
	       hist_percentile(h, 99.9), (unsigned long long)hist_max(h),
	       hist_mean(h), hist_stddev(h));
}

static void print_table(struct results *r)
{
	const struct dmabench_params *p = &env.p;
	const char *hdr = "%-14s %10s %11s %7s %7s %7s %7s %7s %8s %8s %8s\n";
	const struct hist *timer;
	unsigned int i, op;
	char label[32];

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

	printf(hdr, "op (ns)", "count", "ops/s", "min", "p50", "p90", "p99",
	       "p99.9", "max", "mean", "stddev");
	for (op = 0; op < DMABENCH_NR_OPS; op++)
		if (op_shown(op))
			print_hist_row(op_names[op], hist_at(r, 0, op),
				       r->info.wall_ns);

	if (env.per_thread) {
		printf("\n");
		printf(hdr, "thread/cpu op", "count", "ops/s", "min", "p50",
		       "p90", "p99", "p99.9", "max", "mean", "stddev");
		for (i = 0; i < r->nr_threads; i++) {
			for (op = 0; op < DMABENCH_NR_OPS; op++) {
				const struct dmabench_result *res =
					raw_at(r, i + 1, op);

				if (!op_shown(op))
					continue;
				snprintf(label, sizeof(label), "%u/%d %s", i,
					 res->cpu, op_names[op]);
				print_hist_row(label, hist_at(r, i + 1, op),
					       res->elapsed_ns);
			}
		}
	}

	timer = hist_at(r, 0, DMABENCH_OP_TIMER);
	printf("\ntimer overhead (ktime_get_ns pair, ns): min %llu  p50 %.0f  p99 %.0f  mean %.1f  (%llu samples, not subtracted)\n",
	       (unsigned long long)hist_min(timer),
	       hist_percentile(timer, 50), hist_percentile(timer, 99),
	       hist_mean(timer), (unsigned long long)hist_count(timer));
}

/* json helpers: any failed allocation makes the whole output fail */
static bool json_failed;

static void jadd(struct json_object *obj, const char *key,
		 struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val)) {
		json_object_put(val);
		json_failed = true;
	}
}

/* json-c represents null as a NULL object */
static void jadd_null(struct json_object *obj, const char *key)
{
	if (json_object_object_add(obj, key, NULL))
		json_failed = true;
}

static void jpush(struct json_object *arr, struct json_object *val)
{
	if (!val || json_object_array_add(arr, val)) {
		json_object_put(val);
		json_failed = true;
	}
}

static struct json_object *json_params(void)
{
	const struct dmabench_params *p = &env.p;
	struct json_object *o = json_object_new_object(), *a;
	unsigned int i;

	if (!o)
		return NULL;
	jadd(o, "threads", json_object_new_int64(p->threads));
	jadd(o, "duration_ns", json_object_new_uint64(p->duration_ns));
	jadd(o, "ops_per_thread", json_object_new_uint64(p->ops));
	jadd(o, "warmup_ops", json_object_new_uint64(p->warmup_ops));
	a = json_object_new_array();
	for (i = 0; a && i < p->threads; i++) {
		if (p->cpus[i] == DMABENCH_CPU_ANY) {
			if (json_object_array_add(a, NULL))
				json_failed = true;
		} else {
			jpush(a, json_object_new_int64(p->cpus[i]));
		}
	}
	jadd(o, "cpus", a);
	if (p->node == DMABENCH_NODE_ANY)
		jadd_null(o, "node");
	else
		jadd(o, "node", json_object_new_int64(p->node));
	jadd(o, "dir", json_object_new_string(dir_names[p->dir]));
	jadd(o, "dma_mask_bits", json_object_new_int64(p->dma_mask_bits));
	jadd(o, "map_mode", json_object_new_string(p->map_mode ==
						   DMABENCH_MAP_SG ?
						   "sg" : "single"));
	jadd(o, "sg_entries", json_object_new_int64(p->map_mode ==
						    DMABENCH_MAP_SG ?
						    p->sg_entries : 1));
	a = json_object_new_array();
	for (i = 0; a && i < p->nr_sizes; i++) {
		struct json_object *s = json_object_new_object();

		if (s) {
			jadd(s, "bytes", json_object_new_int64(p->sizes[i].bytes));
			jadd(s, "weight",
			     json_object_new_int64(p->sizes[i].weight));
		}
		jpush(a, s);
	}
	jadd(o, "sizes", a);
	jadd(o, "device_time_ns", json_object_new_uint64(p->device_ns));
	jadd(o, "batch", json_object_new_int64(p->batch));
	jadd(o, "sync", json_object_new_boolean(p->flags & DMABENCH_F_SYNC));
	jadd(o, "seed", json_object_new_uint64(p->seed));
	return o;
}

/* {"map": {"ops_per_sec": X, "latency": hist}, "unmap": ..., "sync": ...} */
static struct json_object *json_ops(struct results *r, unsigned int slot,
				    uint64_t elapsed_ns)
{
	struct json_object *o = json_object_new_object();
	unsigned int op;

	if (!o)
		return NULL;
	for (op = 0; op < DMABENCH_NR_OPS; op++) {
		const struct hist *h = hist_at(r, slot, op);
		struct json_object *e;

		if (!op_shown(op))
			continue;
		e = json_object_new_object();
		if (e) {
			jadd(e, "ops_per_sec",
			     json_object_new_double(ops_per_sec(hist_count(h),
								elapsed_ns)));
			jadd(e, "latency", hist_to_json(h));
		}
		jadd(o, op_names[op], e);
	}
	return o;
}

static int print_json(struct results *r)
{
	struct json_object *root = json_object_new_object(), *o, *a;
	const struct dmabench_result *all = raw_at(r, 0, DMABENCH_OP_MAP);
	struct utsname uts;
	unsigned int i;

	if (!root)
		goto nomem;
	jadd(root, "schema", json_object_new_string(JSON_SCHEMA));
	o = json_object_new_object();
	if (o) {
		jadd(o, "name", json_object_new_string("dmabench"));
		jadd(o, "version", json_object_new_string(PACKAGE_VERSION));
		jadd(o, "abi", json_object_new_int64(DMABENCH_ABI_VERSION));
	}
	jadd(root, "tool", o);
	jadd(root, "kernel_release",
	     json_object_new_string(uname(&uts) ? "" : uts.release));
	o = json_object_new_object();
	if (o) {
		jadd(o, "bdf", json_object_new_string(r->info.bdf));
		jadd(o, "iommu_domain",
		     json_object_new_string(domain_name(r->info.domain)));
		jadd(o, "numa_node", json_object_new_int64(r->info.node));
		jadd(o, "dma_mask_bits",
		     json_object_new_int64(r->info.dma_mask_bits));
	}
	jadd(root, "device", o);
	jadd(root, "params", json_params());

	o = json_object_new_object();
	if (o) {
		jadd(o, "wall_ns", json_object_new_uint64(r->info.wall_ns));
		jadd(o, "bytes_mapped", json_object_new_uint64(all->bytes));
		jadd(o, "errors", json_object_new_uint64(r->info.errors));
		jadd(o, "ops", json_ops(r, 0, r->info.wall_ns));
		jadd(o, "timer_overhead",
		     hist_to_json(hist_at(r, 0, DMABENCH_OP_TIMER)));
	}
	jadd(root, "result", o);

	a = json_object_new_array();
	for (i = 0; a && i < r->nr_threads; i++) {
		const struct dmabench_result *res = raw_at(r, i + 1, 0);

		o = json_object_new_object();
		if (o) {
			jadd(o, "thread", json_object_new_int64(i));
			jadd(o, "cpu", json_object_new_int64(res->cpu));
			jadd(o, "node", json_object_new_int64(res->node));
			jadd(o, "elapsed_ns",
			     json_object_new_uint64(res->elapsed_ns));
			jadd(o, "bytes_mapped",
			     json_object_new_uint64(res->bytes));
			jadd(o, "errors", json_object_new_uint64(res->errors));
			jadd(o, "ops", json_ops(r, i + 1, res->elapsed_ns));
			jadd(o, "timer_overhead",
			     hist_to_json(hist_at(r, i + 1, DMABENCH_OP_TIMER)));
		}
		jpush(a, o);
	}
	jadd(root, "threads", a);
	if (json_failed)
		goto err_put_root;
	if (json_print_compact(stdout, root)) {
		pr_err("writing JSON: %s", strerror(errno));
		json_object_put(root);
		return -1;
	}
	json_object_put(root);
	return 0;

err_put_root:
	json_object_put(root);
nomem:
	pr_err("out of memory building JSON");
	return -1;
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
	char displaced[NAME_MAX + 1] = "";
	struct dmabench_info info;
	int fd = -1, err, ret;

	log_init("dmabench");
	ret = parse_args(argc, argv);
	if (ret)
		return ret > 0 ? EXIT_SUCCESS : EXIT_USAGE;
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
	if (fflush(stdout) && !err)
		err = EXIT_RUN_FAILED;
	return err;
}

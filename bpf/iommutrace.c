// SPDX-License-Identifier: GPL-2.0
/*
 * iommutrace - where DMA time goes under an IOMMU policy, and how long a
 * lazily unmapped buffer stays reachable
 *
 * Latency histograms and counts of the DMA-API map/unmap, page-table
 * unmap, IOTLB sync, flush-queue and IOVA allocator paths, per device
 * where the path carries one, and the exposure window of each unmap
 * (docs/iommutrace.md).  --tracefs reads the iommu tracepoints instead
 * (iommutrace-tracefs.c), for kernels where BPF is not available.
 *
 * main(): parse → checks → resolve attach points → open → rodata →
 * choose programs → load → attach → loop → report → cleanup.
 *
 * Exit status: the workload's in wrapper mode, else 0; 1 tracing failed,
 * 2 usage, 3 environment (not root, no BTF, no BPF, no IOMMU).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/types.h>

#include "hist.h"
#include "iommutrace.h"
#include "iommutrace-run.h"
#include "iommutrace.skel.h"
#include "json.h"
#include "log.h"
#include "util.h"

/* how a function gets probed */
enum it_mech {
	IT_MECH_NONE,
	IT_MECH_FENTRY,
	IT_MECH_KPROBE,
};

static const char *const mech_names[] = {
	[IT_MECH_NONE] = NULL,
	[IT_MECH_FENTRY] = "fentry",
	[IT_MECH_KPROBE] = "kprobe",
};

/*
 * The attach table.  @prog is the suffix of the four programs in
 * iommutrace.bpf.c; @path groups functions in the report.
 */
struct it_fn_desc {
	const char *func;
	const char *prog;
	const char *path;
};

static const struct it_fn_desc it_fns[IT_NR_FN] = {
	[IT_FN_DMA_UNMAP]    = { "__iommu_dma_unmap", "dma_unmap", "dma_unmap" },
	[IT_FN_DMA_MAP_PAGE] = { "iommu_dma_map_page", "dma_map_page", "dma_map" },
	[IT_FN_DMA_MAP_SG]   = { "iommu_dma_map_sg", "dma_map_sg", "dma_map" },
	[IT_FN_UNMAP_FAST]   = { "iommu_unmap_fast", "unmap_fast", "iommu_unmap_fast" },
	[IT_FN_IOMMU_UNMAP]  = { "__iommu_unmap", "iommu_unmap", "__iommu_unmap" },
	[IT_FN_SYNC_INTEL]   = { "intel_iommu_tlb_sync", "sync_intel", "iotlb_sync" },
	[IT_FN_SYNC_AMD]     = { "amd_iommu_iotlb_sync", "sync_amd", "iotlb_sync" },
	[IT_FN_SYNC_ARM]     = { "arm_smmu_iotlb_sync", "sync_arm", "iotlb_sync" },
	[IT_FN_SYNC_VIRTIO]  = { "viommu_iotlb_sync", "sync_virtio", "iotlb_sync" },
	[IT_FN_FLUSH_INTEL]  = { "intel_flush_iotlb_all", "flush_intel", "flush_all" },
	[IT_FN_FLUSH_AMD]    = { "amd_iommu_flush_iotlb_all", "flush_amd", "flush_all" },
	[IT_FN_FLUSH_ARM]    = { "arm_smmu_flush_iotlb_all", "flush_arm", "flush_all" },
	[IT_FN_FLUSH_VIRTIO] = { "viommu_flush_iotlb_all", "flush_virtio", "flush_all" },
	[IT_FN_FQ_FLUSH]     = { "fq_flush_iotlb", "fq_flush", "fq_flush" },
	[IT_FN_FQ_TIMEOUT]   = { "fq_flush_timeout", "fq_timeout", "fq_flush_timeout" },
	[IT_FN_IOVA_ALLOC]   = { "alloc_iova_fast", "iova_alloc", "iova_alloc" },
	[IT_FN_IOVA_FREE]    = { "free_iova_fast", "iova_free", "iova_free" },
	[IT_FN_QI_SUBMIT]    = { "qi_submit_sync", "qi_submit", "qi_submit" },
};

/* report order of the paths */
static const char *const it_paths[] = {
	"dma_unmap", "dma_map", "iommu_unmap_fast", "__iommu_unmap",
	"iotlb_sync", "flush_all", "fq_flush", "fq_flush_timeout",
	"iova_alloc", "iova_free", "qi_submit",
};

/* where one function stands */
struct it_point {
	bool in_kallsyms;		/* exact name */
	char module[64];		/* "" for vmlinux */
	char clone[128];		/* first .isra/.constprop/... clone */
	bool in_btf;
	bool force_kprobe;		/* fentry failed to attach */
	enum it_mech mech;
	const char *symbol;		/* what was attached */
	const char *status;		/* "attached", "missing", "failed" */
	char reason[160];
	struct bpf_link *links[2];
	struct bpf_program *progs[2];
};

/* sums over the CPUs of everything the BPF side counts */
struct it_snap {
	struct it_hist h[IT_NR_HIST];
	__u64 stats[IT_NR_STAT];
	struct it_dev_counts dev[IT_MAX_DEV];
	__u64 run_time_ns, run_cnt, misses;
};

#define IT_NR_DOMAINS	64
#define IT_FLUSH_HIST	16

struct it_pending {
	__u64 ts;
	__u32 dev;
};

struct it_domain {
	__u64 domain;
	struct it_pending *p;
	size_t n, cap;
	struct { __u64 start, end; } flushes[IT_FLUSH_HIST];
	unsigned int nflush;
};

/* the lazy exposure window, computed from the ring buffer */
struct it_expo {
	struct it_domain dom[IT_NR_DOMAINS];
	struct hist total, interval;
	struct hist dev_total[IT_MAX_DEV], dev_interval[IT_MAX_DEV];
	__u64 late, unmatched;
};

struct it_tracer {
	struct it_opts *o;
	struct iommutrace_bpf *skel;
	struct ring_buffer *rb;
	struct it_point pt[IT_NR_FN];
	struct it_expo expo;
	struct it_snap prev, cur;
	int ncpus;
	int stats_fd;
	void *percpu_buf;
};

static struct it_opts opts = {
	.ringbuf_mb = 8,
};

/* --paths: report paths to probe (default: all) */
static const char *paths_arg;

static bool path_selected(const char *path)
{
	const char *p = paths_arg;
	size_t n = strlen(path);

	if (!p)
		return true;
	while (*p) {
		if (!strncmp(p, path, n) && (p[n] == ',' || !p[n]))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

static const char usage[] =
"Usage: iommutrace [OPTIONS] [-- COMMAND [ARG...]]\n"
"\n"
"Latency of the IOMMU DMA paths (unmap, map, IOTLB sync, flush queue, IOVA\n"
"allocator) and the exposure window of unmapped buffers, with eBPF.\n"
"With COMMAND, trace while it runs and exit with its status.\n"
"\n"
"  -d, --duration SEC     stop after SEC seconds (decimals allowed)\n"
"  -i, --interval SEC     also report every SEC seconds\n"
"  -D, --device BDF       only DMA of this device (e.g. 0000:00:04.0)\n"
"  -j, --json             JSON, one object per line (docs/iommutrace-json.md)\n"
"  -o, --output FILE      write the report to FILE instead of stdout\n"
"  -H, --histograms       print histograms in the text report\n"
"  -p, --paths LIST       probe only these paths (comma-separated, see the\n"
"                         report); the exposure window needs dma_unmap,\n"
"                         iommu_unmap_fast, iotlb_sync, fq_flush, fq_flush_timeout\n"
"  -T, --tracefs          read the iommu tracepoints (no BPF)\n"
"  -l, --list             show the attach points and exit\n"
"      --ringbuf-mb N     ring buffer size for exposure events (default 8)\n"
"  -v, --verbose          debug messages (libbpf's too)\n"
"  -q, --quiet            errors only\n"
"  -h, --help             this help\n";

static int parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e6)
		return -1;
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "device", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "histograms", no_argument, NULL, 'H' },
		{ "tracefs", no_argument, NULL, 'T' },
		{ "paths", required_argument, NULL, 'p' },
		{ "list", no_argument, NULL, 'l' },
		{ "ringbuf-mb", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "+d:i:D:jo:Hp:Tlvqh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_seconds(optarg, &opts.duration_ns))
				goto bad_value;
			break;
		case 'i':
			if (parse_seconds(optarg, &opts.interval_ns))
				goto bad_value;
			break;
		case 'D':
			if (strlen(optarg) >= IT_DEV_NAME_LEN)
				goto bad_value;
			opts.device = optarg;
			break;
		case 'j':
			opts.json = true;
			break;
		case 'o':
			opts.output = optarg;
			break;
		case 'H':
			opts.hists = true;
			break;
		case 'T':
			opts.tracefs = true;
			break;
		case 'p':
			for (const char *q = optarg; q; q = strchr(q, ',') ? strchr(q, ',') + 1 : NULL) {
				size_t k, n = strcspn(q, ",");

				for (k = 0; k < ARRAY_SIZE(it_paths); k++)
					if (strlen(it_paths[k]) == n &&
					    !strncmp(q, it_paths[k], n))
						break;
				if (k == ARRAY_SIZE(it_paths)) {
					pr_err("--paths: unknown path '%.*s'", (int)n, q);
					return -1;
				}
			}
			paths_arg = optarg;
			break;
		case 'l':
			opts.list = true;
			break;
		case 'R':
			opts.ringbuf_mb = strtoul(optarg, NULL, 10);
			if (opts.ringbuf_mb < 1 || opts.ringbuf_mb > 1024 ||
			    (opts.ringbuf_mb & (opts.ringbuf_mb - 1))) {
				pr_err("--ringbuf-mb: a power of two from 1 to 1024");
				return -1;
			}
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'q':
			log_set_level(LOG_ERR);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(IT_EXIT_OK);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--")) {
			pr_err("unexpected argument '%s' (a command goes after --)",
			       argv[optind]);
			return -1;
		}
		opts.cmd = &argv[optind];
	}
	return 0;

bad_value:
	pr_err("bad value for -%c: '%s'", c, optarg);
	return -1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && log_get_level() < LOG_DEBUG)
		return 0;
	if (level != LIBBPF_DEBUG && log_get_level() < LOG_DEBUG)
		return 0;	/* our own messages say what failed */
	return vfprintf(stderr, fmt, ap);
}

/* --- attach points ---------------------------------------------------- */

/* name.isra.0, name.constprop.0, name.part.0, name.cold ... */
static bool is_clone_of(const char *sym, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(sym, name, n) && sym[n] == '.' &&
	       strcmp(sym + n, ".cold");
}

static void read_kallsyms(struct it_point *pt)
{
	char line[512], name[128], mod[128];
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f) {
		pr_warn("cannot read /proc/kallsyms: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char type;

		mod[0] = '\0';
		if (sscanf(line, "%*s %c %127s [%127[^]]]", &type, name, mod) < 2)
			continue;
		if (type != 't' && type != 'T')
			continue;
		for (int i = 0; i < IT_NR_FN; i++) {
			if (!strcmp(name, it_fns[i].func)) {
				pt[i].in_kallsyms = true;
				snprintf(pt[i].module, sizeof(pt[i].module), "%s", mod);
			} else if (!pt[i].clone[0] && is_clone_of(name, it_fns[i].func)) {
				snprintf(pt[i].clone, sizeof(pt[i].clone), "%s", name);
			}
		}
	}
	fclose(f);
}

static bool btf_has_func(struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_FUNC) > 0;
}

/*
 * resolve_points - look every function up in /proc/kallsyms and BTF
 * (vmlinux, or the module's own BTF) and pick fentry, kprobe or nothing.
 */
static void resolve_points(struct it_point *pt, struct btf *vmlinux)
{
	read_kallsyms(pt);
	for (int i = 0; i < IT_NR_FN; i++) {
		struct it_point *p = &pt[i];
		struct btf *mod = NULL;

		p->status = "missing";
		p->mech = IT_MECH_NONE;
		p->symbol = NULL;
		p->reason[0] = '\0';
		if (p->module[0] && vmlinux) {
			mod = btf__load_module_btf(p->module, vmlinux);
			if (libbpf_get_error(mod))
				mod = NULL;
		}
		p->in_btf = p->in_kallsyms &&
			    btf_has_func(mod ? mod : vmlinux, it_fns[i].func);
		btf__free(mod);
		if (!path_selected(it_fns[i].path)) {
			p->status = "not selected";
			snprintf(p->reason, sizeof(p->reason), "not in --paths");
			continue;
		}
		if (p->in_kallsyms && p->in_btf && !p->force_kprobe) {
			p->mech = IT_MECH_FENTRY;
			p->symbol = it_fns[i].func;
		} else if (p->in_kallsyms) {
			p->mech = IT_MECH_KPROBE;
			p->symbol = it_fns[i].func;
			if (!p->force_kprobe)
				snprintf(p->reason, sizeof(p->reason),
					 "not in BTF: kprobe");
		} else if (p->clone[0]) {
			p->mech = IT_MECH_KPROBE;
			p->symbol = p->clone;
			snprintf(p->reason, sizeof(p->reason),
				 "only the compiler clone %s exists: kprobe, arguments not used",
				 p->clone);
		} else {
			snprintf(p->reason, sizeof(p->reason),
				 "not in /proc/kallsyms (inlined, renamed, or its driver is not loaded)");
		}
		if (p->mech != IT_MECH_NONE)
			p->status = "resolved";
	}
}

static void choose_programs(struct it_tracer *t)
{
	struct bpf_object *obj = t->skel->obj;
	struct bpf_program *prog;
	char name[64];
	__u32 args_ok = 0;

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	for (int i = 0; i < IT_NR_FN; i++) {
		struct it_point *p = &t->pt[i];
		const char *kind[2];

		p->progs[0] = p->progs[1] = NULL;
		if (p->mech == IT_MECH_NONE)
			continue;
		kind[0] = p->mech == IT_MECH_FENTRY ? "fentry" : "kprobe";
		kind[1] = p->mech == IT_MECH_FENTRY ? "fexit" : "kretprobe";
		for (int k = 0; k < 2; k++) {
			snprintf(name, sizeof(name), "%s_%s", kind[k], it_fns[i].prog);
			prog = bpf_object__find_program_by_name(obj, name);
			if (!prog) {
				pr_err("internal: no BPF program %s", name);
				continue;
			}
			bpf_program__set_autoload(prog, true);
			if (p->mech == IT_MECH_FENTRY)
				bpf_program__set_attach_target(prog, 0, p->symbol);
			p->progs[k] = prog;
		}
		if (p->symbol == it_fns[i].func)
			args_ok |= 1U << i;
	}
	t->skel->rodata->args_ok = args_ok;
}

/*
 * attach_points - attach the chosen pairs.  A pair attaches fully or not
 * at all.  Returns the number of fentry pairs that failed (retried with
 * kprobes by the caller).
 */
static int attach_points(struct it_tracer *t)
{
	int fentry_failed = 0;

	for (int i = 0; i < IT_NR_FN; i++) {
		struct it_point *p = &t->pt[i];
		int err = 0;

		if (p->mech == IT_MECH_NONE)
			continue;
		for (int k = 0; k < 2 && !err; k++) {
			if (!p->progs[k]) {
				err = -ENOENT;
				break;
			}
			if (p->mech == IT_MECH_FENTRY)
				p->links[k] = bpf_program__attach(p->progs[k]);
			else
				p->links[k] = bpf_program__attach_kprobe(p->progs[k],
									 k == 1, p->symbol);
			err = libbpf_get_error(p->links[k]);
			if (err)
				p->links[k] = NULL;
		}
		if (!err) {
			p->status = "attached";
			continue;
		}
		for (int k = 0; k < 2; k++) {
			bpf_link__destroy(p->links[k]);
			p->links[k] = NULL;
		}
		if (p->mech == IT_MECH_FENTRY) {
			p->force_kprobe = true;
			fentry_failed++;
			snprintf(p->reason, sizeof(p->reason),
				 "fentry failed (%s): kprobe", strerror(-err));
			continue;
		}
		p->status = "failed";
		snprintf(p->reason, sizeof(p->reason), "%s attach failed: %s",
			 mech_names[p->mech], strerror(-err));
	}
	return fentry_failed;
}

static void report_points(const struct it_point *pt, FILE *f)
{
	for (int i = 0; i < IT_NR_FN; i++) {
		const struct it_point *p = &pt[i];

		if (!strcmp(p->status, "attached") || !strcmp(p->status, "resolved"))
			fprintf(f, "  %-26s %-16s %-7s %s%s%s\n", it_fns[i].func,
				it_fns[i].path, mech_names[p->mech],
				p->module[0] ? "[" : "", p->module,
				p->module[0] ? "]" : "");
		else
			fprintf(f, "  %-26s %-16s %-7s %s\n", it_fns[i].func,
				it_fns[i].path, p->status, p->reason);
	}
}

static void destroy_links(struct it_tracer *t)
{
	for (int i = 0; i < IT_NR_FN; i++)
		for (int k = 0; k < 2; k++) {
			bpf_link__destroy(t->pt[i].links[k]);
			t->pt[i].links[k] = NULL;
		}
}

/* --- reading the maps ------------------------------------------------- */

static void hist_sum_into(struct it_hist *dst, const struct it_hist *src)
{
	__u64 lo = dst->sum_sq_lo + src->sum_sq_lo;

	dst->sum_sq_hi += src->sum_sq_hi + (lo < dst->sum_sq_lo);
	dst->sum_sq_lo = lo;
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min_plus1 && (!dst->min_plus1 || src->min_plus1 < dst->min_plus1))
		dst->min_plus1 = src->min_plus1;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned int b = 0; b < IBH_NR_BUCKETS; b++)
		dst->buckets[b] += src->buckets[b];
}

static int read_snapshot(struct it_tracer *t, struct it_snap *s)
{
	struct iommutrace_bpf *skel = t->skel;
	int hfd = bpf_map__fd(skel->maps.hists);
	int sfd = bpf_map__fd(skel->maps.stats);
	int dfd = bpf_map__fd(skel->maps.dev_counts);

	memset(s, 0, sizeof(*s));
	for (__u32 k = 0; k < IT_NR_HIST; k++) {
		struct it_hist *v = t->percpu_buf;

		if (bpf_map_lookup_elem(hfd, &k, v))
			return -1;
		for (int c = 0; c < t->ncpus; c++)
			hist_sum_into(&s->h[k], &v[c]);
	}
	for (__u32 k = 0; k < IT_NR_STAT; k++) {
		__u64 *v = t->percpu_buf;

		if (bpf_map_lookup_elem(sfd, &k, v))
			return -1;
		for (int c = 0; c < t->ncpus; c++)
			s->stats[k] += v[c];
	}
	for (__u32 k = 0; k < IT_MAX_DEV; k++) {
		struct it_dev_counts *v = t->percpu_buf;

		if (bpf_map_lookup_elem(dfd, &k, v))
			return -1;
		for (int c = 0; c < t->ncpus; c++)
			for (int f = 0; f < IT_NR_FN; f++)
				s->dev[k].calls[f] += v[c].calls[f];
	}
	for (int i = 0; i < IT_NR_FN; i++)
		for (int k = 0; k < 2; k++) {
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);

			if (!t->pt[i].links[k])
				continue;
			if (bpf_obj_get_info_by_fd(bpf_program__fd(t->pt[i].progs[k]),
						   &info, &len))
				continue;
			s->run_time_ns += info.run_time_ns;
			s->run_cnt += info.run_cnt;
			s->misses += info.recursion_misses;
		}
	return 0;
}

/*
 * to_hist - struct hist from a BPF histogram, or from the difference of
 * two (@prev non-NULL: an interval).  Interval minimum and maximum are
 * not kept by the BPF side: they are the bounds of the first and last
 * non-empty bucket (within 1/32 of the truth).
 */
static void to_hist(const struct it_hist *cur, const struct it_hist *prev,
		    struct hist *h)
{
	static __u64 b[IBH_NR_BUCKETS];
	__u64 count = 0, sum, lo, hi, min, max;
	int first = -1, last = -1;

	for (int i = 0; i < (int)IBH_NR_BUCKETS; i++) {
		b[i] = cur->buckets[i] - (prev ? prev->buckets[i] : 0);
		if (!b[i])
			continue;
		count += b[i];
		if (first < 0)
			first = i;
		last = i;
	}
	if (!count) {
		hist_init(h);
		return;
	}
	sum = cur->sum - (prev ? prev->sum : 0);
	lo = cur->sum_sq_lo - (prev ? prev->sum_sq_lo : 0);
	hi = cur->sum_sq_hi - (prev ? prev->sum_sq_hi : 0) -
	     (prev && cur->sum_sq_lo < prev->sum_sq_lo);
	min = ibh_lower(first);
	max = ibh_upper(last) - 1;
	if (!prev) {
		/* exact unless an interrupt raced an update on one CPU */
		if (cur->min_plus1 && ibh_bucket(cur->min_plus1 - 1) == (__u32)first)
			min = cur->min_plus1 - 1;
		if (ibh_bucket(cur->max) == (__u32)last)
			max = cur->max;
	}
	if (hist_load(h, b, IBH_NR_BUCKETS, count, min, max, sum, lo, hi))
		pr_warn("inconsistent histogram dropped");
}

/* --- exposure window: pairing lazy unmaps with flushes ------------------ */

static struct it_domain *expo_domain(struct it_expo *e, __u64 domain)
{
	for (int i = 0; i < IT_NR_DOMAINS; i++) {
		if (e->dom[i].domain == domain)
			return &e->dom[i];
		if (!e->dom[i].domain) {
			e->dom[i].domain = domain;
			return &e->dom[i];
		}
	}
	return NULL;
}

static void expo_record(struct it_expo *e, __u32 dev, __u64 ns)
{
	hist_record(&e->total, ns);
	hist_record(&e->interval, ns);
	if (dev < IT_MAX_DEV) {
		hist_record(&e->dev_total[dev], ns);
		hist_record(&e->dev_interval[dev], ns);
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct it_expo *e = ctx;
	const struct it_event *ev = data;
	struct it_domain *d;

	if (size < sizeof(*ev))
		return 0;
	d = expo_domain(e, ev->domain);
	if (!d) {
		e->unmatched++;
		return 0;
	}
	if (ev->type == IT_EV_UNMAP) {
		const typeof(d->flushes[0]) *best = NULL;
		unsigned int n = d->nflush < IT_FLUSH_HIST ? d->nflush : IT_FLUSH_HIST;

		/* arrived after a flush that began after it: that flush covered it */
		for (unsigned int i = 0; i < n; i++)
			if (d->flushes[i].start > ev->ts_ns &&
			    (!best || d->flushes[i].start < best->start))
				best = &d->flushes[i];
		if (best) {
			e->late++;
			expo_record(e, ev->dev, best->end - ev->ts_ns);
			return 0;
		}
		if (d->n == d->cap) {
			size_t cap = d->cap ? 2 * d->cap : 1024;
			void *p = realloc(d->p, cap * sizeof(*d->p));

			if (!p)
				return -ENOMEM;
			d->p = p;
			d->cap = cap;
		}
		d->p[d->n].ts = ev->ts_ns;
		d->p[d->n].dev = ev->dev;
		d->n++;
	} else if (ev->type == IT_EV_FLUSH) {
		size_t kept = 0;

		for (size_t i = 0; i < d->n; i++) {
			if (d->p[i].ts < ev->ts_ns)
				expo_record(e, d->p[i].dev, ev->end_ns - d->p[i].ts);
			else
				d->p[kept++] = d->p[i];
		}
		d->n = kept;
		d->flushes[d->nflush % IT_FLUSH_HIST].start = ev->ts_ns;
		d->flushes[d->nflush % IT_FLUSH_HIST].end = ev->end_ns;
		d->nflush++;
	}
	return 0;
}

static __u64 expo_pending(const struct it_expo *e)
{
	__u64 n = 0;

	for (int i = 0; i < IT_NR_DOMAINS; i++)
		n += e->dom[i].n;
	return n;
}

/* --- reports ------------------------------------------------------------ */

static int jadd(struct json_object *obj, const char *key, struct json_object *v)
{
	if (!v)
		return -1;
	if (json_object_object_add(obj, key, v)) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

static int jadd_u64(struct json_object *obj, const char *key, __u64 v)
{
	return jadd(obj, key, json_object_new_uint64(v));
}

static int jadd_hist(struct json_object *obj, const char *key,
		     const struct hist *h)
{
	return jadd(obj, key, hist_to_json(h));
}

struct it_devname {
	char name[IT_DEV_NAME_LEN];
	unsigned int shared;	/* devices lumped into this slot */
};

static void device_names(struct it_tracer *t, struct it_devname *names)
{
	int fd = bpf_map__fd(t->skel->maps.devices);
	__u64 key, next, *prevp = NULL;
	struct it_devinfo di;

	memset(names, 0, sizeof(*names) * IT_MAX_DEV);
	while (!bpf_map_get_next_key(fd, prevp, &next)) {
		key = next;
		prevp = &key;
		if (bpf_map_lookup_elem(fd, &key, &di) || di.idx >= IT_MAX_DEV)
			continue;
		if (!names[di.idx].shared++)
			snprintf(names[di.idx].name, IT_DEV_NAME_LEN, "%.*s",
				 IT_DEV_NAME_LEN - 1, di.name);
	}
	for (int i = 0; i < IT_MAX_DEV; i++)
		if (names[i].shared > 1)
			snprintf(names[i].name, IT_DEV_NAME_LEN, "(%u others)",
				 names[i].shared);
}

/* histograms of one path: the functions' merged, for each window */
static void path_hist(struct it_tracer *t, const char *path, bool final,
		      struct hist *h, unsigned int *nfn)
{
	struct hist one;

	hist_init(h);
	*nfn = 0;
	for (int i = 0; i < IT_NR_FN; i++) {
		if (strcmp(it_fns[i].path, path))
			continue;
		(*nfn)++;
		to_hist(&t->cur.h[IT_HIST_FN(i)],
			final ? NULL : &t->prev.h[IT_HIST_FN(i)], &one);
		hist_merge(h, &one);
	}
}

static __u64 stat_of(struct it_tracer *t, bool final, enum it_stat s)
{
	return t->cur.stats[s] - (final ? 0 : t->prev.stats[s]);
}

static struct json_object *build_json(struct it_tracer *t, struct it_run *run,
				      bool final, unsigned int index,
				      uint64_t from, uint64_t to)
{
	struct json_object *obj, *attach, *paths, *o, *devs, *x;
	struct it_devname names[IT_MAX_DEV];
	struct hist h, *ex;
	__u64 rt, rc;
	int err = 0;

	obj = it_json_head(t->o, "bpf", final, index, from, to);
	if (!obj)
		return NULL;

	attach = json_object_new_array();
	err |= jadd(obj, "attach", attach);
	for (int i = 0; attach && i < IT_NR_FN; i++) {
		const struct it_point *p = &t->pt[i];

		o = json_object_new_object();
		if (!o || json_object_array_add(attach, o))
			goto fail;
		err |= jadd(o, "function", json_object_new_string(it_fns[i].func));
		err |= jadd(o, "path", json_object_new_string(it_fns[i].path));
		err |= jadd(o, "status", json_object_new_string(p->status));
		err |= json_object_object_add(o, "mechanism", p->links[0] ?
			json_object_new_string(mech_names[p->mech]) : NULL);
		err |= json_object_object_add(o, "symbol", p->links[0] ?
			json_object_new_string(p->symbol) : NULL);
		err |= json_object_object_add(o, "module", p->module[0] ?
			json_object_new_string(p->module) : NULL);
		err |= json_object_object_add(o, "reason", p->reason[0] ?
			json_object_new_string(p->reason) : NULL);
	}

	paths = json_object_new_object();
	err |= jadd(obj, "paths", paths);
	for (size_t k = 0; paths && k < ARRAY_SIZE(it_paths); k++) {
		struct json_object *fns;
		unsigned int nfn;

		path_hist(t, it_paths[k], final, &h, &nfn);
		o = json_object_new_object();
		if (jadd(paths, it_paths[k], o))
			goto fail;
		err |= jadd_u64(o, "calls", hist_count(&h));
		err |= jadd_hist(o, "latency", &h);
		fns = json_object_new_object();
		err |= jadd(o, "functions", fns);
		for (int i = 0; fns && i < IT_NR_FN; i++) {
			struct json_object *f;

			if (strcmp(it_fns[i].path, it_paths[k]) ||
			    !t->pt[i].links[0])
				continue;
			to_hist(&t->cur.h[IT_HIST_FN(i)],
				final ? NULL : &t->prev.h[IT_HIST_FN(i)], &h);
			f = json_object_new_object();
			if (jadd(fns, it_fns[i].func, f))
				goto fail;
			err |= jadd_u64(f, "calls", hist_count(&h));
			err |= jadd_hist(f, "latency", &h);
		}
	}

	o = json_object_new_object();
	err |= jadd(obj, "fq_flush", o);
	if (o) {
		err |= jadd_u64(o, "timer", stat_of(t, final, IT_STAT_FQ_FLUSH_TIMER));
		err |= jadd_u64(o, "queue_full", stat_of(t, final, IT_STAT_FQ_FLUSH_FULL));
	}

	o = json_object_new_object();
	err |= jadd(obj, "exposure_window", o);
	if (o) {
		to_hist(&t->cur.h[IT_HIST_EXPOSURE_SYNC],
			final ? NULL : &t->prev.h[IT_HIST_EXPOSURE_SYNC], &h);
		ex = final ? &t->expo.total : &t->expo.interval;
		err |= jadd_u64(o, "unmaps_synced", stat_of(t, final, IT_STAT_UNMAP_SYNCED));
		err |= jadd_u64(o, "unmaps_queued", stat_of(t, final, IT_STAT_UNMAP_QUEUED));
		err |= jadd_u64(o, "unmaps_sync_not_seen",
				stat_of(t, final, IT_STAT_UNMAP_UNCOVERED));
		err |= jadd_hist(o, "strict", &h);
		err |= jadd_hist(o, "lazy", ex);
		err |= jadd_u64(o, "lazy_pending", expo_pending(&t->expo));
		err |= jadd_u64(o, "lazy_late_events", t->expo.late);
		err |= jadd_u64(o, "lazy_unmatched", t->expo.unmatched);
	}

	device_names(t, names);
	devs = json_object_new_array();
	err |= jadd(obj, "devices", devs);
	for (int d = 0; devs && d < IT_MAX_DEV; d++) {
		struct json_object *dp, *calls;

		if (!names[d].shared)
			continue;
		o = json_object_new_object();
		if (!o || json_object_array_add(devs, o))
			goto fail;
		err |= jadd(o, "device", json_object_new_string(names[d].name));
		err |= jadd_u64(o, "devices_in_slot", names[d].shared);
		dp = json_object_new_object();
		err |= jadd(o, "paths", dp);
		for (int f = 0; dp && f < IT_NR_DEV_FN; f++) {
			if (!t->pt[f].links[0])
				continue;
			to_hist(&t->cur.h[IT_HIST_DEV(d, f)],
				final ? NULL : &t->prev.h[IT_HIST_DEV(d, f)], &h);
			x = json_object_new_object();
			if (jadd(dp, it_fns[f].func, x))
				goto fail;
			err |= jadd_u64(x, "calls", hist_count(&h));
			err |= jadd_hist(x, "latency", &h);
		}
		calls = json_object_new_object();
		err |= jadd(o, "calls", calls);
		for (int f = 0; calls && f < IT_NR_FN; f++)
			if (t->pt[f].links[0])
				err |= jadd_u64(calls, it_fns[f].func,
						t->cur.dev[d].calls[f] -
						(final ? 0 : t->prev.dev[d].calls[f]));
		err |= jadd_hist(o, "exposure_window_lazy",
				 final ? &t->expo.dev_total[d] : &t->expo.dev_interval[d]);
	}

	o = json_object_new_object();
	err |= jadd(obj, "overhead", o);
	if (o) {
		rt = t->cur.run_time_ns - (final ? 0 : t->prev.run_time_ns);
		rc = t->cur.run_cnt - (final ? 0 : t->prev.run_cnt);
		err |= jadd(o, "bpf_stats", json_object_new_boolean(t->stats_fd >= 0));
		err |= jadd_u64(o, "events", rc);
		err |= jadd_u64(o, "run_time_ns", rt);
		err |= json_object_object_add(o, "ns_per_event", rc && t->stats_fd >= 0 ?
			json_object_new_double((double)rt / rc) : NULL);
		err |= jadd_u64(o, "recursion_misses",
				t->cur.misses - (final ? 0 : t->prev.misses));
		err |= jadd_u64(o, "ringbuf_lost", stat_of(t, final, IT_STAT_RB_LOST));
		err |= jadd_u64(o, "no_task_state", stat_of(t, final, IT_STAT_NO_STATE));
		err |= jadd_u64(o, "too_deep", stat_of(t, final, IT_STAT_TOO_DEEP));
		err |= jadd_u64(o, "filtered", stat_of(t, final, IT_STAT_FILTERED));
	}
	err |= it_json_workload(obj, t->o, run, final);
	if (err)
		goto fail;
	return obj;

fail:
	json_object_put(obj);
	return NULL;
}

static void print_row(FILE *f, const char *name, const struct hist *h)
{
	char a[16], b[16], c[16], d[16], e[16];

	fprintf(f, "%-22s %10llu %10s %10s %10s %10s %10s\n", name,
		(unsigned long long)hist_count(h),
		it_fmt_ns(a, sizeof(a), hist_mean(h)),
		it_fmt_ns(b, sizeof(b), hist_percentile(h, 50)),
		it_fmt_ns(c, sizeof(c), hist_percentile(h, 90)),
		it_fmt_ns(d, sizeof(d), hist_percentile(h, 99)),
		it_fmt_ns(e, sizeof(e), hist_count(h) ? (double)hist_max(h) : NAN));
}

static void print_text(struct it_tracer *t, FILE *f, struct it_run *run,
		       bool final, unsigned int index, uint64_t from, uint64_t to)
{
	static struct hist paths[ARRAY_SIZE(it_paths)];
	struct it_devname names[IT_MAX_DEV];
	struct hist h, *ex;
	unsigned int nfn;
	__u64 rt, rc;

	if (final)
		fprintf(f, "\niommutrace: %.2f s%s%s\n", (to - from) / 1e9,
			t->o->device ? ", device " : "",
			t->o->device ? t->o->device : "");
	else
		fprintf(f, "\n--- interval %u (%.2f s) ---\n", index, (to - from) / 1e9);
	fprintf(f, "%-22s %10s %10s %10s %10s %10s %10s\n", "path", "calls",
		"mean", "p50", "p90", "p99", "max");
	for (size_t k = 0; k < ARRAY_SIZE(it_paths); k++) {
		path_hist(t, it_paths[k], final, &paths[k], &nfn);
		print_row(f, it_paths[k], &paths[k]);
	}
	fprintf(f, "fq_flush: %llu timer-driven, %llu queue full\n",
		(unsigned long long)stat_of(t, final, IT_STAT_FQ_FLUSH_TIMER),
		(unsigned long long)stat_of(t, final, IT_STAT_FQ_FLUSH_FULL));

	fprintf(f, "\nexposure window (unmap -> IOTLB invalidation covering it)\n");
	to_hist(&t->cur.h[IT_HIST_EXPOSURE_SYNC],
		final ? NULL : &t->prev.h[IT_HIST_EXPOSURE_SYNC], &h);
	ex = final ? &t->expo.total : &t->expo.interval;
	print_row(f, "strict (iotlb_sync)", &h);
	print_row(f, "lazy (fq flush)", ex);
	if (final && expo_pending(&t->expo))
		fprintf(f, "lazy unmaps not yet flushed at the end: %llu\n",
			(unsigned long long)expo_pending(&t->expo));

	device_names(t, names);
	for (int d = 0; d < IT_MAX_DEV; d++) {
		if (!names[d].shared)
			continue;
		fprintf(f, "\ndevice %s\n", names[d].name);
		for (int fn = 0; fn < IT_NR_DEV_FN; fn++) {
			if (!t->pt[fn].links[0])
				continue;
			to_hist(&t->cur.h[IT_HIST_DEV(d, fn)],
				final ? NULL : &t->prev.h[IT_HIST_DEV(d, fn)], &h);
			print_row(f, it_fns[fn].func, &h);
		}
		print_row(f, "exposure (lazy)",
			  final ? &t->expo.dev_total[d] : &t->expo.dev_interval[d]);
	}

	if (t->o->hists) {
		for (size_t k = 0; k < ARRAY_SIZE(it_paths); k++)
			if (hist_count(&paths[k]))
				it_print_log2(f, &paths[k], it_paths[k]);
		if (hist_count(ex))
			it_print_log2(f, ex, "exposure window (lazy)");
	}

	rt = t->cur.run_time_ns - (final ? 0 : t->prev.run_time_ns);
	rc = t->cur.run_cnt - (final ? 0 : t->prev.run_cnt);
	fprintf(f, "\noverhead: %llu events", (unsigned long long)rc);
	if (t->stats_fd >= 0 && rc)
		fprintf(f, ", %.0f ns per event in BPF (run stats)", (double)rt / rc);
	fprintf(f, ", %llu lost, %llu missed\n",
		(unsigned long long)stat_of(t, final, IT_STAT_RB_LOST),
		(unsigned long long)(t->cur.misses - (final ? 0 : t->prev.misses)));
	if (final && run->child && run->child_status >= 0)
		fprintf(f, "workload %s exited with status %d\n", t->o->cmd[0],
			run->child_status);
}

static int tracer_poll(void *ctx)
{
	struct it_tracer *t = ctx;
	int n = ring_buffer__consume(t->rb);

	if (n < 0 && n != -EINTR) {
		pr_err("ring buffer: %s", strerror(-n));
		return -1;
	}
	return 0;
}

static int tracer_report(void *ctx, struct it_run *run, bool final,
			 unsigned int index, uint64_t from, uint64_t to)
{
	struct it_tracer *t = ctx;
	int err = 0;

	if (read_snapshot(t, &t->cur)) {
		pr_err("reading the BPF maps: %s", strerror(errno));
		return -1;
	}
	if (t->o->json) {
		struct json_object *obj = build_json(t, run, final, index, from, to);

		if (!obj) {
			pr_err("building the JSON report failed");
			return -1;
		}
		err = json_print_compact(run->out, obj);
		json_object_put(obj);
	} else {
		print_text(t, run->out, run, final, index, from, to);
	}
	fflush(run->out);
	if (!final) {
		t->prev = t->cur;
		hist_init(&t->expo.interval);
		for (int d = 0; d < IT_MAX_DEV; d++)
			hist_init(&t->expo.dev_interval[d]);
	}
	return err;
}

/* --- main --------------------------------------------------------------- */

static int open_and_load(struct it_tracer *t)
{
	struct iommutrace_bpf *skel;
	int err;

	skel = iommutrace_bpf__open();
	if (!skel) {
		pr_err("opening the BPF object failed: %s", strerror(errno));
		return -1;
	}
	t->skel = skel;
	skel->rodata->filter_on = t->o->device != NULL;
	if (t->o->device)
		strncpy((char *)skel->rodata->filter_dev, t->o->device,
			IT_DEV_NAME_LEN - 1);
	bpf_map__set_max_entries(skel->maps.events, t->o->ringbuf_mb << 20);
	choose_programs(t);
	err = iommutrace_bpf__load(skel);
	if (err) {
		iommutrace_bpf__destroy(skel);
		t->skel = NULL;
		errno = -err;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct it_tracer tracer;
	struct it_tracer *t = &tracer;
	const struct it_run_ops ops = { tracer_poll, tracer_report };
	struct it_run run = { .out = NULL };
	struct btf *vmlinux = NULL;
	int err = IT_EXIT_FAILED, round;

	log_init(argv[0]);
	if (parse_args(argc, argv))
		return IT_EXIT_USAGE;
	t->o = &opts;
	t->stats_fd = -1;

	if (it_check_root())
		return IT_EXIT_ENVIRONMENT;
	if (opts.tracefs)
		return iommutrace_tracefs_main(&opts);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("no BTF: /sys/kernel/btf/vmlinux is missing (kernel built without CONFIG_DEBUG_INFO_BTF); use --tracefs");
		return IT_EXIT_ENVIRONMENT;
	}
	if (it_check_iommu())
		return IT_EXIT_ENVIRONMENT;
	libbpf_set_print(libbpf_print);

	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux)) {
		pr_err("cannot load the kernel's BTF: %s",
		       strerror(-libbpf_get_error(vmlinux)));
		return IT_EXIT_ENVIRONMENT;
	}
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		pr_err("cannot count the possible CPUs");
		goto cleanup;
	}
	t->percpu_buf = calloc(t->ncpus, sizeof(struct it_hist));
	for (int i = 0; i < IT_MAX_DEV; i++) {
		hist_init(&t->expo.dev_total[i]);
		hist_init(&t->expo.dev_interval[i]);
	}
	hist_init(&t->expo.total);
	hist_init(&t->expo.interval);
	if (!t->percpu_buf)
		goto cleanup;

	/* open, load and attach; fentry that will not attach: kprobe */
	for (round = 0; round < 3; round++) {
		resolve_points(t->pt, vmlinux);
		if (opts.list && round == 0) {
			printf("attach points on this kernel (before loading):\n");
			report_points(t->pt, stdout);
		}
		if (open_and_load(t)) {
			bool retried = false;

			if (errno == EPERM || errno == ENOSYS) {
				pr_err("cannot load BPF programs: %s (no BPF: kernel without CONFIG_BPF_SYSCALL, or kernel.unprivileged_bpf/lockdown forbids it); use --tracefs",
				       strerror(errno));
				err = IT_EXIT_ENVIRONMENT;
				goto cleanup;
			}
			for (int i = 0; i < IT_NR_FN && round == 0; i++)
				if (t->pt[i].mech == IT_MECH_FENTRY) {
					t->pt[i].force_kprobe = true;
					retried = true;
				}
			if (retried) {
				pr_warn("loading with fentry failed (%s): retrying with kprobes",
					strerror(errno));
				continue;
			}
			pr_err("loading the BPF programs failed: %s (-v shows the verifier log)",
			       strerror(errno));
			goto cleanup;
		}
		if (!attach_points(t))
			break;
		destroy_links(t);
		iommutrace_bpf__destroy(t->skel);
		t->skel = NULL;
	}
	if (!t->skel) {
		pr_err("could not attach the probes");
		goto cleanup;
	}
	if (opts.list) {
		printf("attached:\n");
		report_points(t->pt, stdout);
		err = IT_EXIT_OK;
		goto cleanup;
	}
	for (int i = 0; i < IT_NR_FN; i++)
		if (!strcmp(t->pt[i].status, "not selected"))
			continue;
		else if (strcmp(t->pt[i].status, "attached"))
			pr_info("%s (%s): %s, skipped: %s", it_fns[i].func,
				it_fns[i].path, t->pt[i].status, t->pt[i].reason);
		else
			pr_debug("%s: %s %s", it_fns[i].func,
				 mech_names[t->pt[i].mech], t->pt[i].symbol);

	t->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (t->stats_fd < 0)
		pr_warn("BPF run-time statistics unavailable (%s): no ns per event",
			strerror(errno));
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), handle_event,
				 &t->expo, NULL);
	if (!t->rb) {
		pr_err("ring buffer: %s", strerror(errno));
		goto cleanup;
	}

	if (it_run_start(&opts, &run))
		goto cleanup;
	if (opts.cmd)
		pr_info("tracing %s", opts.cmd[0]);
	else if (!opts.duration_ns)
		pr_info("tracing; Ctrl-C to stop");
	if (it_run_loop(&opts, &run, &ops, t))
		goto cleanup;
	err = it_run_exit_status(&run);

cleanup:
	it_run_cleanup(&run);
	ring_buffer__free(t->rb);
	destroy_links(t);
	iommutrace_bpf__destroy(t->skel);
	if (t->stats_fd >= 0)
		close(t->stats_fd);
	for (int i = 0; i < IT_NR_DOMAINS; i++)
		free(t->expo.dom[i].p);
	free(t->percpu_buf);
	btf__free(vmlinux);
	return err;
}

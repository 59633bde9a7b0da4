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
 * What is traced is one table, IT_PATHS/IT_PROBES in iommutrace-probes.h:
 * each path and the kernel functions that may stand for it, in order of
 * preference.  main(): parse → resolve attach points (kallsyms, BTF) →
 * checks → open → rodata → choose programs → load → attach → loop →
 * report → cleanup.  --list stops after resolving.
 *
 * Exit status (lib/exitcodes.h): the workload's in wrapper mode, else 0;
 * 1 tracing failed, 2 usage, 3 environment (not root, no BTF, no BPF, no
 * IOMMU, or a path named in --paths cannot attach on this kernel).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/types.h>

#include "exitcodes.h"
#include "hist.h"
#include "iommutrace.h"
#include "iommutrace-run.h"
#include "iommutrace.skel.h"
#include "json.h"
#include "log.h"
#include "opt.h"
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

static const char *const role_names[] = {
	[IT_ROLE_DMA_UNMAP] = "dma_unmap",
	[IT_ROLE_DMA_MAP] = "dma_map",
	[IT_ROLE_UNMAP_FAST] = "unmap_fast",
	[IT_ROLE_SYNC] = "sync",
	[IT_ROLE_FQ_FLUSH] = "fq_flush",
	[IT_ROLE_FQ_FLUSH_ALL] = "flush_all_in_flush_queue",
	[IT_ROLE_FQ_TIMEOUT] = "fq_timeout",
	[IT_ROLE_COUNT] = "count",
};

/* The table of iommutrace-probes.h, for user space. */
struct it_path_desc {
	const char *name;
	const char *doc;
};

#define IT_P_DESC(id, nm, d)	[IT_PATH_##id] = { .name = nm, .doc = d },
static const struct it_path_desc it_paths[IT_NR_PATH] = {
	IT_PATHS(IT_P_DESC)
};
#undef IT_P_DESC

struct it_fn_desc {
	const char *func;
	enum it_path path;
	int chain, rank;
	enum it_role role;
	enum it_arg arg;
	unsigned int needs;	/* IT_NEED() mask */
};

#define IT_X_DESC(id, p, c, r, sym, rl, a, n)				\
	[IT_FN_##id] = { .func = sym, .path = IT_PATH_##p, .chain = c,	\
			 .rank = r, .role = IT_ROLE_##rl, .arg = IT_ARG_##a, \
			 .needs = (n) },
static const struct it_fn_desc it_fns[IT_NR_FN] = {
	IT_PROBES(IT_X_DESC)
};
#undef IT_X_DESC

/* the four programs of a row in the skeleton */
static void row_progs(struct iommutrace_bpf *skel, int fn,
		      struct bpf_program *p[4])
{
	switch (fn) {
#define IT_X_PROGS(id, p_, c, r, sym, rl, a, n)				\
	case IT_FN_##id:						\
		p[0] = skel->progs.fentry_##id;				\
		p[1] = skel->progs.fexit_##id;				\
		p[2] = skel->progs.kprobe_##id;				\
		p[3] = skel->progs.kretprobe_##id;			\
		break;
	IT_PROBES(IT_X_PROGS)
#undef IT_X_PROGS
	default:
		p[0] = p[1] = p[2] = p[3] = NULL;
	}
}

/*
 * Where one row stands.  @status: "attached", "resolved" (chosen, not
 * attached yet, or --list), "missing" (not on this kernel), "not chosen"
 * (on this kernel, but a preferred candidate of its chain is too),
 * "failed" (chosen, did not attach), "not selected" (its path is not in
 * --paths and no chosen row needs it).
 */
struct it_point {
	bool in_kallsyms;		/* exact name */
	char module[64];		/* "" for vmlinux */
	char clone[128];		/* first .isra/.constprop/... clone */
	bool in_btf;
	bool force_kprobe;		/* fentry failed to attach */
	enum it_mech mech;
	const char *symbol;		/* what was attached */
	const char *status;
	char reason[200];
	struct bpf_link *links[2];
	struct bpf_program *progs[2];
};

/*
 * Where one path stands.  @requested: named in --paths, so that not
 * attaching it is an error; @wanted: selected (--paths, or every path by
 * default) or needed by a chosen row of a selected path; @status:
 * "attached" (at least one row attached), "resolved" (--list: at least
 * one row would be attached), "missing", "failed", "not selected".
 */
struct it_pathst {
	bool requested, wanted;
	bool fallback;			/* a candidate of rank > 0 is used */
	unsigned int needed_by;		/* IT_NEED() mask of the paths */
	const char *status;
	char reason[400];
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
	struct it_pathst ps[IT_NR_PATH];
	struct it_expo expo;
	struct it_snap prev, cur;
	int ncpus;
	int stats_fd;
	void *percpu_buf;
};

/* --- options ------------------------------------------------------------ */

static struct it_opts opts = {
	.ringbuf_mb = 8,
};

/* --paths: the paths named (default: every path, none required) */
static const char *paths_arg;
static bool opt_verbose, opt_quiet;

static int path_index(const char *name, size_t n)
{
	for (int k = 0; k < IT_NR_PATH; k++)
		if (strlen(it_paths[k].name) == n &&
		    !strncmp(name, it_paths[k].name, n))
			return k;
	return -1;
}

static bool path_named(int k)
{
	size_t n = strlen(it_paths[k].name);

	for (const char *p = paths_arg; p && *p; p += strcspn(p, ",")) {
		if (*p == ',')
			p++;
		if (!strncmp(p, it_paths[k].name, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

static int cb_seconds(const struct opt *o, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0) || v > 1e6) {
		fprintf(stderr, "iommutrace: --%s: '%s' is not a number of seconds (above 0, at most 1e6)\n",
			o->long_name, arg);
		return -1;
	}
	*(uint64_t *)o->value = (uint64_t)(v * 1e9);
	return 0;
}

static int cb_device(const struct opt *o, const char *arg)
{
	if (!*arg || strlen(arg) >= IT_DEV_NAME_LEN) {
		fprintf(stderr, "iommutrace: --%s: '%s' is not a device name (1 to %d characters, e.g. 0000:00:04.0)\n",
			o->long_name, arg, IT_DEV_NAME_LEN - 1);
		return -1;
	}
	*(const char **)o->value = arg;
	return 0;
}

static int cb_paths(const struct opt *o, const char *arg)
{
	for (const char *q = arg;; q++) {
		size_t n = strcspn(q, ",");

		if (path_index(q, n) < 0) {
			fprintf(stderr, "iommutrace: --%s: '%.*s' is not a path (--list shows them)\n",
				o->long_name, (int)n, q);
			return -1;
		}
		q += n;
		if (!*q)
			break;
	}
	*(const char **)o->value = arg;
	return 0;
}

static int cb_ringbuf(const struct opt *o, const char *arg)
{
	long long v;

	if (opt_parse_ll("--ringbuf-mb", arg, 1, 1024, &v))
		return -1;
	if (v & (v - 1)) {
		fprintf(stderr, "iommutrace: --%s: %s is not a power of two\n",
			o->long_name, arg);
		return -1;
	}
	*(unsigned int *)o->value = (unsigned int)v;
	return 0;
}

/* --json FILE and --output FILE: one report, in one format, to one place */
static int cb_json(const struct opt *o, const char *arg)
{
	struct it_opts *io = o->value;

	if (io->output && !io->json) {
		pr_err("--json FILE and --output FILE: one report, one place (--json - for standard output)");
		return -1;
	}
	io->json = true;
	io->output = strcmp(arg, "-") ? arg : NULL;
	return 0;
}

static int cb_output(const struct opt *o, const char *arg)
{
	struct it_opts *io = o->value;

	if (io->json) {
		pr_err("--output FILE with --json FILE: the JSON goes to the --json FILE");
		return -1;
	}
	io->output = arg;
	return 0;
}

static const struct opt it_options[] = {
	OPT_CALLBACK('d', "duration", &opts.duration_ns, "SEC",
		     "stop after SEC seconds (decimals allowed)", cb_seconds),
	OPT_CALLBACK('i', "interval", &opts.interval_ns, "SEC",
		     "also report every SEC seconds", cb_seconds),
	OPT_CALLBACK('D', "device", &opts.device, "BDF",
		     "only DMA of this device (e.g. 0000:00:04.0)", cb_device),
	OPT_CALLBACK('j', "json", &opts, "FILE",
		     "write the report as JSON, one object per line, to FILE ('-': standard output; docs/iommutrace-json.md)",
		     cb_json),
	OPT_CALLBACK('o', "output", &opts, "FILE",
		     "write the text report to FILE instead of standard output",
		     cb_output),
	OPT_BOOL('H', "histograms", &opts.hists,
		 "print histograms in the text report"),
	OPT_CALLBACK('p', "paths", &paths_arg, "LIST",
		     "trace only these paths (comma-separated); each must attach",
		     cb_paths),
	OPT_BOOL('T', "tracefs", &opts.tracefs,
		 "read the iommu tracepoints (no BPF)"),
	OPT_BOOL('l', "list", &opts.list,
		 "show what each path would attach to here, and exit"),
	OPT_CALLBACK(0, "ringbuf-mb", &opts.ringbuf_mb, "N",
		     "ring buffer size for exposure events (default 8)",
		     cb_ringbuf),
	OPT_BOOL('v', "verbose", &opt_verbose, "debug messages (libbpf's too)"),
	OPT_BOOL('q', "quiet", &opt_quiet, "errors only"),
	OPT_END(),
};

static const char *const it_usage[] = {
	"iommutrace [OPTIONS] [-- COMMAND [ARG...]]",
	"iommutrace --list [--paths LIST]",
	NULL,
};

static const struct opt_cmd it_cmd = {
	.name = "iommutrace",
	.usage = it_usage,
	.about = "Latency of the IOMMU DMA paths (unmap, map, IOTLB sync, flush queue, IOVA\n"
		 "allocator) and the exposure window of unmapped buffers, with eBPF.\n"
		 "With COMMAND, trace while it runs and exit with its status.",
	.opts = it_options,
	.min_args = 0,
	.max_args = OPT_ARGS_ANY,
	.stop_at_arg = true,
	.footer = "The exposure window needs dma_unmap, iommu_unmap_fast, iotlb_sync,\n"
		  "fq_flush and fq_flush_timeout.  iommutrace(1), docs/iommutrace.md.",
};

/* Returns 0, -1 after --help or --version, or EXIT_USAGE. */
static int parse_args(int argc, char **argv)
{
	int i = opt_parse(&it_cmd, argc, argv);

	if (i == OPT_HELP)
		return -1;
	if (i < 0)
		return EXIT_USAGE;
	if (i < argc) {
		if (strcmp(argv[i - 1], "--"))
			return opt_usage_error(&it_cmd,
					       "unexpected argument '%s' (a command goes after --)",
					       argv[i]);
		opts.cmd = &argv[i];
	}
	if (opt_verbose)
		log_set_level(LOG_DEBUG);
	else if (opt_quiet)
		log_set_level(LOG_ERR);
	if (opts.list && (opts.cmd || opts.tracefs))
		return opt_usage_error(&it_cmd, "--list takes no command and no --tracefs");
	return 0;
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

/*
 * The symbol table: /proc/kallsyms, or the file $IOMMUTRACE_KALLSYMS
 * names (tests use it to stand for a kernel that lacks functions).
 */
static const char *kallsyms_path(void)
{
	const char *p = getenv("IOMMUTRACE_KALLSYMS");

	return p && *p ? p : "/proc/kallsyms";
}

static void read_kallsyms(struct it_point *pt)
{
	const char *path = kallsyms_path();
	char line[512], name[128], mod[128];
	FILE *f = fopen(path, "r");

	if (!f) {
		pr_warn("cannot read %s: %s: every function counts as missing",
			path, strerror(errno));
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

static bool present(const struct it_point *p)
{
	return p->in_kallsyms || p->clone[0];
}

/* pick fentry or kprobe for a row that is on the kernel */
static void choose_mech(struct it_point *p, const struct it_fn_desc *fd,
			const char *why)
{
	p->status = "resolved";
	if (p->in_kallsyms && p->in_btf && !p->force_kprobe) {
		p->mech = IT_MECH_FENTRY;
		p->symbol = fd->func;
		snprintf(p->reason, sizeof(p->reason), "%s", why);
	} else if (p->in_kallsyms) {
		p->mech = IT_MECH_KPROBE;
		p->symbol = fd->func;
		snprintf(p->reason, sizeof(p->reason), "%s%s%s", why,
			 *why ? "; " : "", p->force_kprobe ?
			 "fentry failed: kprobe" : "not in BTF: kprobe");
	} else {
		p->mech = IT_MECH_KPROBE;
		p->symbol = p->clone;
		snprintf(p->reason, sizeof(p->reason),
			 "%s%sonly the compiler clone %s exists: kprobe, arguments not used",
			 why, *why ? "; " : "", p->clone);
	}
}

/*
 * resolve_chain - choose the rows of one chain of path @k: the lowest
 * rank with a function on this kernel, every present row of that rank.
 * Returns the IT_NEED() mask of the chosen rows' needs.
 */
static unsigned int resolve_chain(struct it_tracer *t, int k, int chain)
{
	char preferred[200] = "";
	unsigned int needs = 0;
	int best = -1;

	for (int i = 0; i < IT_NR_FN; i++) {
		const struct it_fn_desc *fd = &it_fns[i];

		if ((int)fd->path != k || fd->chain != chain ||
		    !present(&t->pt[i]))
			continue;
		if (best < 0 || fd->rank < best)
			best = fd->rank;
	}
	for (int i = 0; i < IT_NR_FN; i++) {
		const struct it_fn_desc *fd = &it_fns[i];
		struct it_point *p = &t->pt[i];

		if ((int)fd->path != k || fd->chain != chain)
			continue;
		if (!present(p)) {
			p->status = "missing";
			snprintf(p->reason, sizeof(p->reason),
				 "not in %s (inlined, renamed, or its module is not loaded)",
				 kallsyms_path());
			if (best < 0 || fd->rank < best)
				snprintf(preferred + strlen(preferred),
					 sizeof(preferred) - strlen(preferred),
					 "%s%s", preferred[0] ? ", " : "",
					 fd->func);
		} else if (fd->rank == best) {
			char why[300] = "";

			if (best > 0)
				snprintf(why, sizeof(why),
					 "fallback: %s missing", preferred);
			choose_mech(p, fd, why);
			needs |= fd->needs;
			if (best > 0)
				t->ps[k].fallback = true;
		} else {
			p->status = "not chosen";
			snprintf(p->reason, sizeof(p->reason),
				 "a preferred candidate of its chain is on this kernel");
		}
	}
	return needs;
}

/*
 * resolve_points - look every row up in kallsyms and BTF (vmlinux, or the
 * module's own BTF), then choose per path and chain.  A chosen row may
 * need other paths (a fallback's context): those are resolved too.
 */
static void resolve_points(struct it_tracer *t, struct btf *vmlinux)
{
	unsigned int need = 0, done = 0;

	for (int i = 0; i < IT_NR_FN; i++) {
		struct it_point *p = &t->pt[i];

		p->in_kallsyms = false;
		p->module[0] = p->clone[0] = '\0';
	}
	read_kallsyms(t->pt);
	for (int i = 0; i < IT_NR_FN; i++) {
		struct it_point *p = &t->pt[i];
		struct btf *mod = NULL;

		p->mech = IT_MECH_NONE;
		p->symbol = NULL;
		p->status = "not selected";
		snprintf(p->reason, sizeof(p->reason), "its path is not in --paths");
		if (p->module[0] && vmlinux) {
			mod = btf__load_module_btf(p->module, vmlinux);
			if (libbpf_get_error(mod))
				mod = NULL;
		}
		p->in_btf = p->in_kallsyms &&
			    btf_has_func(mod ? mod : vmlinux, it_fns[i].func);
		btf__free(mod);
	}
	for (int k = 0; k < IT_NR_PATH; k++) {
		struct it_pathst *ps = &t->ps[k];

		ps->requested = paths_arg && path_named(k);
		ps->wanted = !paths_arg || ps->requested;
		ps->fallback = false;
		ps->needed_by = 0;
		if (ps->wanted)
			need |= 1U << k;
	}
	/* each round resolves the paths the previous one found needed */
	while (need & ~done) {
		unsigned int todo = need & ~done;

		for (int k = 0; k < IT_NR_PATH; k++) {
			if (!(todo & (1U << k)))
				continue;
			done |= 1U << k;
			t->ps[k].wanted = true;
			for (int c = 0; c < 8; c++) {
				unsigned int n = resolve_chain(t, k, c);

				for (int j = 0; j < IT_NR_PATH; j++)
					if ((n & (1U << j)) && j != k)
						t->ps[j].needed_by |= 1U << k;
				need |= n;
			}
		}
	}
}

/*
 * path_verdict - a path's status and reason from its rows' (after
 * resolving, or after attaching)
 */
static void path_verdict(struct it_tracer *t, int k)
{
	struct it_pathst *ps = &t->ps[k];
	struct strbuf sb = STRBUF_INIT;
	int used = 0, failed = 0;

	if (!ps->wanted) {
		ps->status = "not selected";
		snprintf(ps->reason, sizeof(ps->reason), "not in --paths");
		return;
	}
	for (int i = 0; i < IT_NR_FN; i++) {
		const struct it_point *p = &t->pt[i];

		if ((int)it_fns[i].path != k)
			continue;
		if (!strcmp(p->status, "attached") || !strcmp(p->status, "resolved"))
			used++;
		if (!strcmp(p->status, "failed")) {
			failed++;
			strbuf_addf(&sb, "%s%s: %s", sb.len ? "; " : "",
				    it_fns[i].func, p->reason);
		}
	}
	if (used) {
		bool attached = false;

		for (int i = 0; i < IT_NR_FN; i++)
			if ((int)it_fns[i].path == k &&
			    !strcmp(t->pt[i].status, "attached"))
				attached = true;
		ps->status = attached ? "attached" : "resolved";
		if (ps->fallback) {
			strbuf_release(&sb);
			for (int i = 0; i < IT_NR_FN; i++)
				if ((int)it_fns[i].path == k && it_fns[i].rank > 0 &&
				    (t->pt[i].mech != IT_MECH_NONE))
					strbuf_addf(&sb, "%s%s", sb.len ? ", " : "using ",
						    it_fns[i].func);
			for (int i = 0; i < IT_NR_FN; i++)
				if ((int)it_fns[i].path == k && it_fns[i].rank == 0 &&
				    !strcmp(t->pt[i].status, "missing"))
					strbuf_addf(&sb, "; %s is not on this kernel",
						    it_fns[i].func);
		}
	} else if (failed) {
		ps->status = "failed";
	} else {
		ps->status = "missing";
		strbuf_release(&sb);
		strbuf_addf(&sb, "no candidate on this kernel:");
		for (int i = 0; i < IT_NR_FN; i++)
			if ((int)it_fns[i].path == k)
				strbuf_addf(&sb, " %s", it_fns[i].func);
		strbuf_addf(&sb, " (none in %s)", kallsyms_path());
	}
	snprintf(ps->reason, sizeof(ps->reason), "%s", sb.len ? sb.buf : "");
	strbuf_release(&sb);
}

static void choose_programs(struct it_tracer *t)
{
	struct bpf_object *obj = t->skel->obj;
	struct bpf_program *prog, *p4[4];
	__u64 args_ok = 0;

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	for (int i = 0; i < IT_NR_FN; i++) {
		struct it_point *p = &t->pt[i];
		int base = p->mech == IT_MECH_FENTRY ? 0 : 2;

		p->progs[0] = p->progs[1] = NULL;
		if (p->mech == IT_MECH_NONE)
			continue;
		row_progs(t->skel, i, p4);
		for (int k = 0; k < 2; k++) {
			p->progs[k] = p4[base + k];
			bpf_program__set_autoload(p->progs[k], true);
			if (p->mech == IT_MECH_FENTRY)
				bpf_program__set_attach_target(p->progs[k], 0,
							       p->symbol);
		}
		if (p->symbol == it_fns[i].func)
			args_ok |= 1ULL << i;
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
			continue;
		}
		p->status = "failed";
		snprintf(p->reason, sizeof(p->reason), "%s attach failed: %s",
			 mech_names[p->mech], strerror(-err));
	}
	return fentry_failed;
}

static void destroy_links(struct it_tracer *t)
{
	for (int i = 0; i < IT_NR_FN; i++)
		for (int k = 0; k < 2; k++) {
			bpf_link__destroy(t->pt[i].links[k]);
			t->pt[i].links[k] = NULL;
		}
}

static bool path_attached(const struct it_tracer *t, int k)
{
	return !strcmp(t->ps[k].status, "attached");
}

/* every path of IT_NEED() mask @need attached */
static bool paths_attached(const struct it_tracer *t, unsigned int need)
{
	for (int k = 0; k < IT_NR_PATH; k++)
		if ((need & (1U << k)) && !path_attached(t, k))
			return false;
	return true;
}

/*
 * --list: per path, what it would attach to on this kernel and why.
 * '+' would be attached, '-' is not on this kernel, '.' is on it but not
 * used (a preferred candidate is, or the path is not selected).
 */
static void print_list(struct it_tracer *t, FILE *f)
{
	struct utsname u;

	uname(&u);
	fprintf(f, "iommutrace: attach points on %s (%s; nothing is loaded by --list)\n",
		u.release, kallsyms_path());
	for (int k = 0; k < IT_NR_PATH; k++) {
		const struct it_pathst *ps = &t->ps[k];
		const char *verdict = !strcmp(ps->status, "resolved") ?
			(ps->fallback ? "would attach (fallback)" : "would attach") :
			ps->status;

		fprintf(f, "\n%s: %s", it_paths[k].name, verdict);
		if (ps->needed_by && !ps->requested && paths_arg)
			fprintf(f, " (needed by a selected path)");
		fprintf(f, "\n    %s\n", it_paths[k].doc);
		if (ps->reason[0] && strcmp(ps->status, "not selected"))
			fprintf(f, "    %s\n", ps->reason);
		for (int i = 0; i < IT_NR_FN; i++) {
			const struct it_point *p = &t->pt[i];
			const struct it_fn_desc *fd = &it_fns[i];
			bool used = p->mech != IT_MECH_NONE;
			char what[64];

			if ((int)fd->path != k)
				continue;
			snprintf(what, sizeof(what), "%s%s%s%s",
				 used ? mech_names[p->mech] : p->status,
				 p->module[0] ? " [" : "", p->module,
				 p->module[0] ? "]" : "");
			fprintf(f, "  %c %-26s %-20s %s\n",
				used ? '+' : present(p) ? '.' : '-', fd->func,
				what, p->reason);
		}
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

static int jadd_u64(struct json_object *obj, const char *key, __u64 v)
{
	return json_add(obj, key, json_object_new_uint64(v));
}

static int jadd_hist(struct json_object *obj, const char *key,
		     const struct hist *h)
{
	return json_add(obj, key, hist_to_json(h));
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


/* histograms of one path: its attached rows' merged, for each window */
static void path_hist(struct it_tracer *t, int k, bool final, struct hist *h)
{
	struct hist one;

	hist_init(h);
	for (int i = 0; i < IT_NR_FN; i++) {
		if ((int)it_fns[i].path != k || !t->pt[i].links[0])
			continue;
		to_hist(&t->cur.h[IT_HIST_FN(i)],
			final ? NULL : &t->prev.h[IT_HIST_FN(i)], &one);
		hist_merge(h, &one);
	}
}

static __u64 stat_of(struct it_tracer *t, bool final, enum it_stat s)
{
	return t->cur.stats[s] - (final ? 0 : t->prev.stats[s]);
}

/* @v as JSON, or null unless every path of @need attached */
static struct json_object *u64_if(struct it_tracer *t, unsigned int need,
				  __u64 v)
{
	return paths_attached(t, need) ? json_object_new_uint64(v) : NULL;
}

/* "attach": one object per row of the table */
static struct json_object *json_attach(struct it_tracer *t)
{
	struct json_object *attach = json_object_new_array(), *o;
	int err = 0;

	for (int i = 0; attach && i < IT_NR_FN; i++) {
		const struct it_point *p = &t->pt[i];
		const struct it_fn_desc *fd = &it_fns[i];

		o = json_object_new_object();
		if (!o || json_object_array_add(attach, o)) {
			json_object_put(o);
			err = -1;
			break;
		}
		err |= json_add(o, "function", json_object_new_string(fd->func));
		err |= json_add(o, "path", json_object_new_string(it_paths[fd->path].name));
		err |= json_add(o, "chain", json_object_new_int(fd->chain));
		err |= json_add(o, "rank", json_object_new_int(fd->rank));
		err |= json_add(o, "role", json_object_new_string(role_names[fd->role]));
		err |= json_add(o, "status", json_object_new_string(p->status));
		err |= json_add_or_null(o, "mechanism", p->links[0] ?
			json_object_new_string(mech_names[p->mech]) : NULL);
		err |= json_add_or_null(o, "symbol", p->links[0] ?
			json_object_new_string(p->symbol) : NULL);
		err |= json_add_or_null(o, "module", p->module[0] ?
			json_object_new_string(p->module) : NULL);
		err |= json_add_or_null(o, "reason", p->reason[0] ?
			json_object_new_string(p->reason) : NULL);
	}
	if (err) {
		json_object_put(attach);
		return NULL;
	}
	return attach;
}

/* "path_status": per path, whether and to what it attached, and why */
static struct json_object *json_path_status(struct it_tracer *t)
{
	struct json_object *all = json_object_new_object(), *o, *fns, *by;
	int err = 0;

	for (int k = 0; all && k < IT_NR_PATH; k++) {
		const struct it_pathst *ps = &t->ps[k];

		o = json_object_new_object();
		if (json_add(all, it_paths[k].name, o)) {
			err = -1;
			break;
		}
		err |= json_add(o, "status", json_object_new_string(ps->status));
		err |= json_add(o, "requested", json_object_new_boolean(ps->requested));
		by = json_object_new_array();
		err |= json_add(o, "needed_by", by);
		for (int j = 0; by && j < IT_NR_PATH; j++)
			if (ps->needed_by & (1U << j))
				err |= json_object_array_add(by,
					json_object_new_string(it_paths[j].name));
		err |= json_add(o, "fallback", json_object_new_boolean(ps->fallback));
		fns = json_object_new_array();
		err |= json_add(o, "functions", fns);
		for (int i = 0; fns && i < IT_NR_FN; i++)
			if ((int)it_fns[i].path == k && t->pt[i].links[0])
				err |= json_object_array_add(fns,
					json_object_new_string(t->pt[i].symbol));
		err |= json_add_or_null(o, "reason", ps->reason[0] ?
			json_object_new_string(ps->reason) : NULL);
	}
	if (err) {
		json_object_put(all);
		return NULL;
	}
	return all;
}

/* the same function in two rows is counted once per device, first row */
static bool first_row_of(const struct it_tracer *t, int fn)
{
	for (int i = 0; i < fn; i++)
		if (t->pt[i].links[0] && !strcmp(it_fns[i].func, it_fns[fn].func))
			return false;
	return true;
}

/* a "calls" and "latency" object for @h, added to @parent as @key */
static int jadd_calls(struct json_object *parent, const char *key,
		      const struct hist *h)
{
	struct json_object *o = json_object_new_object();
	int err = 0;

	if (json_add(parent, key, o))
		return -1;
	err |= jadd_u64(o, "calls", hist_count(h));
	err |= jadd_hist(o, "latency", h);
	return err;
}

/* "paths": per path its merged histogram and its functions' */
static struct json_object *json_paths(struct it_tracer *t, bool final)
{
	struct json_object *paths = json_object_new_object(), *o, *fns;
	struct hist h;
	int err = 0;

	for (int k = 0; paths && !err && k < IT_NR_PATH; k++) {
		if (!path_attached(t, k)) {
			err |= json_add_or_null(paths, it_paths[k].name, NULL);
			continue;
		}
		path_hist(t, k, final, &h);
		o = json_object_new_object();
		if (json_add(paths, it_paths[k].name, o))
			goto fail;
		err |= jadd_u64(o, "calls", hist_count(&h));
		err |= jadd_hist(o, "latency", &h);
		fns = json_object_new_object();
		err |= json_add(o, "functions", fns);
		for (int i = 0; fns && i < IT_NR_FN; i++) {
			if ((int)it_fns[i].path != k || !t->pt[i].links[0])
				continue;
			to_hist(&t->cur.h[IT_HIST_FN(i)],
				final ? NULL : &t->prev.h[IT_HIST_FN(i)], &h);
			if (jadd_calls(fns, it_fns[i].func, &h))
				goto fail;
		}
	}
	if (!err)
		return paths;
fail:
	json_object_put(paths);
	return NULL;
}

static struct json_object *json_fq_flush(struct it_tracer *t, bool final)
{
	struct json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= json_add_or_null(o, "timer", u64_if(t, IT_NEEDS_FQ_COUNTS,
		stat_of(t, final, IT_STAT_FQ_FLUSH_TIMER)));
	err |= json_add_or_null(o, "queue_full", u64_if(t, IT_NEEDS_FQ_COUNTS,
		stat_of(t, final, IT_STAT_FQ_FLUSH_FULL)));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* "exposure_window": strict and lazy windows, null where not traced */
static struct json_object *json_exposure(struct it_tracer *t, bool final)
{
	struct json_object *o = json_object_new_object();
	bool strict_ok = paths_attached(t, IT_NEEDS_STRICT_WINDOW);
	bool lazy_ok = paths_attached(t, IT_NEEDS_LAZY_WINDOW);
	struct hist h, *ex;
	int err = 0;

	if (!o)
		return NULL;
	to_hist(&t->cur.h[IT_HIST_EXPOSURE_SYNC],
		final ? NULL : &t->prev.h[IT_HIST_EXPOSURE_SYNC], &h);
	ex = final ? &t->expo.total : &t->expo.interval;
	err |= json_add_or_null(o, "unmaps_synced", u64_if(t, IT_NEEDS_STRICT_WINDOW,
		stat_of(t, final, IT_STAT_UNMAP_SYNCED)));
	err |= json_add_or_null(o, "unmaps_queued", u64_if(t, IT_NEED(UNMAP_FAST),
		stat_of(t, final, IT_STAT_UNMAP_QUEUED)));
	err |= json_add_or_null(o, "unmaps_sync_not_seen", u64_if(t, IT_NEEDS_STRICT_WINDOW,
		stat_of(t, final, IT_STAT_UNMAP_UNCOVERED)));
	err |= json_add_or_null(o, "strict", strict_ok ? hist_to_json(&h) : NULL);
	err |= json_add_or_null(o, "lazy", lazy_ok ? hist_to_json(ex) : NULL);
	err |= json_add_or_null(o, "lazy_pending", u64_if(t, IT_NEEDS_LAZY_WINDOW,
		expo_pending(&t->expo)));
	err |= json_add_or_null(o, "lazy_late_events", u64_if(t, IT_NEEDS_LAZY_WINDOW,
		t->expo.late));
	err |= json_add_or_null(o, "lazy_unmatched", u64_if(t, IT_NEEDS_LAZY_WINDOW,
		t->expo.unmatched));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* one element of "devices": device slot @d's paths, calls and window */
static struct json_object *json_device(struct it_tracer *t, bool final,
				       int d, const struct it_devname *name)
{
	struct json_object *o = json_object_new_object(), *dp, *calls;
	bool lazy_ok = paths_attached(t, IT_NEEDS_LAZY_WINDOW);
	struct hist h;
	int err = 0;

	if (!o)
		return NULL;
	err |= json_add(o, "device", json_object_new_string(name->name));
	err |= jadd_u64(o, "devices_in_slot", name->shared);
	dp = json_object_new_object();
	err |= json_add(o, "paths", dp);
	for (int f = 0; dp && !err && f < IT_NR_FN; f++) {
		int dfn = it_devfn_of(f);

		if (dfn < 0 || !t->pt[f].links[0])
			continue;
		to_hist(&t->cur.h[IT_HIST_DEV(d, dfn)],
			final ? NULL : &t->prev.h[IT_HIST_DEV(d, dfn)], &h);
		err |= jadd_calls(dp, it_fns[f].func, &h);
	}
	calls = json_object_new_object();
	err |= json_add(o, "calls", calls);
	for (int f = 0; calls && f < IT_NR_FN; f++)
		if (t->pt[f].links[0] && first_row_of(t, f))
			err |= jadd_u64(calls, it_fns[f].func,
					t->cur.dev[d].calls[f] -
					(final ? 0 : t->prev.dev[d].calls[f]));
	err |= json_add_or_null(o, "exposure_window_lazy", lazy_ok ?
				hist_to_json(final ? &t->expo.dev_total[d] :
					     &t->expo.dev_interval[d]) : NULL);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_devices(struct it_tracer *t, bool final)
{
	struct json_object *devs = json_object_new_array();
	struct it_devname names[IT_MAX_DEV];

	device_names(t, names);
	for (int d = 0; devs && d < IT_MAX_DEV; d++) {
		if (!names[d].shared)
			continue;
		if (json_push(devs, json_device(t, final, d, &names[d]))) {
			json_object_put(devs);
			return NULL;
		}
	}
	return devs;
}

/* "overhead": what the tracing cost, and what it lost */
static struct json_object *json_overhead(struct it_tracer *t, bool final)
{
	struct json_object *o = json_object_new_object();
	__u64 rt, rc;
	int err = 0;

	if (!o)
		return NULL;
	rt = t->cur.run_time_ns - (final ? 0 : t->prev.run_time_ns);
	rc = t->cur.run_cnt - (final ? 0 : t->prev.run_cnt);
	err |= json_add(o, "bpf_stats", json_object_new_boolean(t->stats_fd >= 0));
	err |= jadd_u64(o, "events", rc);
	err |= jadd_u64(o, "run_time_ns", rt);
	err |= json_add_or_null(o, "ns_per_event", rc && t->stats_fd >= 0 ?
		json_object_new_double((double)rt / rc) : NULL);
	err |= jadd_u64(o, "recursion_misses",
			t->cur.misses - (final ? 0 : t->prev.misses));
	err |= jadd_u64(o, "ringbuf_lost", stat_of(t, final, IT_STAT_RB_LOST));
	err |= jadd_u64(o, "no_task_state", stat_of(t, final, IT_STAT_NO_STATE));
	err |= jadd_u64(o, "too_deep", stat_of(t, final, IT_STAT_TOO_DEEP));
	err |= jadd_u64(o, "filtered", stat_of(t, final, IT_STAT_FILTERED));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* one record (docs/iommutrace-json.md): the run, or one interval of it */
static struct json_object *build_json(struct it_tracer *t, struct it_run *run,
				      bool final, unsigned int index,
				      uint64_t from, uint64_t to)
{
	struct json_object *obj;
	int err = 0;

	obj = it_json_head(t->o, "bpf", final, index, from, to);
	if (!obj)
		return NULL;
	err |= json_add_or_null(obj, "error", NULL);
	err |= json_add(obj, "attach", json_attach(t));
	err |= json_add(obj, "path_status", json_path_status(t));
	err |= json_add(obj, "paths", json_paths(t, final));
	err |= json_add(obj, "fq_flush", json_fq_flush(t, final));
	err |= json_add(obj, "exposure_window", json_exposure(t, final));
	err |= json_add(obj, "devices", json_devices(t, final));
	err |= json_add(obj, "overhead", json_overhead(t, final));
	err |= it_json_workload(obj, t->o, run, final);
	if (err) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/*
 * write_error_record - with --json, the one record of a run that did not
 * trace: the head, "error", and where the paths stand when they are known.
 * A caller reading the output (iommubench's agent) gets the reason.
 */
static void write_error_record(struct it_tracer *t, const char *msg,
			       bool with_paths)
{
	struct it_run run = { .child_status = -1 };
	struct json_object *obj;
	int err = 0;
	FILE *f;

	if (!t->o->json)
		return;
	obj = it_json_head(t->o, "bpf", true, 0, 0, 0);
	if (!obj)
		return;
	err |= json_add(obj, "error", json_object_new_string(msg));
	if (with_paths) {
		err |= json_add(obj, "attach", json_attach(t));
		err |= json_add(obj, "path_status", json_path_status(t));
	}
	err |= it_json_workload(obj, t->o, &run, true);
	f = t->o->output ? fopen(t->o->output, "w") : stdout;
	if (!f) {
		pr_err("cannot write %s: %s", t->o->output, strerror(errno));
	} else if (!err) {
		json_print_compact(f, obj);
	}
	if (f && f != stdout)
		fclose(f);
	else if (f)
		fflush(f);
	json_object_put(obj);
}

/* pr_err @msg, and write it as the error record */
static void fail_with(struct it_tracer *t, bool with_paths, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_with(struct it_tracer *t, bool with_paths, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	pr_err("%s", msg ? msg : fmt);
	write_error_record(t, msg ? msg : fmt, with_paths);
	free(msg);
}

/*
 * requested_missing - a path named in --paths that is not (about to be)
 * attached; the message names each with its reason.  Returns true and
 * fills @sb if there is one.
 */
static bool requested_missing(struct it_tracer *t, struct strbuf *sb)
{
	for (int k = 0; k < IT_NR_PATH; k++) {
		const struct it_pathst *ps = &t->ps[k];

		if (!ps->requested || !strcmp(ps->status, "attached") ||
		    !strcmp(ps->status, "resolved"))
			continue;
		strbuf_addf(sb, "%spath %s %s: %s", sb->len ? "; " : "",
			    it_paths[k].name, ps->status, ps->reason);
	}
	return sb->len > 0;
}

/* the label column of the latency tables: the longest function name fits */
#define LABEL_WIDTH	22

static void print_absent(FILE *f, const char *name, const char *why)
{
	fprintf(f, "%-*s %10s  (%s)\n", LABEL_WIDTH, name, "-", why);
}

static void print_text(struct it_tracer *t, FILE *f, struct it_run *run,
		       bool final, unsigned int index, uint64_t from, uint64_t to)
{
	static struct hist paths[IT_NR_PATH];
	struct it_devname names[IT_MAX_DEV];
	struct hist h, *ex;
	__u64 rt, rc;

	if (final)
		fprintf(f, "\niommutrace: %.2f s%s%s\n", (to - from) / 1e9,
			t->o->device ? ", device " : "",
			t->o->device ? t->o->device : "");
	else
		fprintf(f, "\n--- interval %u (%.2f s) ---\n", index, (to - from) / 1e9);
	hist_print_header(f, LABEL_WIDTH, "path");
	for (int k = 0; k < IT_NR_PATH; k++) {
		hist_init(&paths[k]);
		if (!path_attached(t, k)) {
			if (t->ps[k].wanted)
				print_absent(f, it_paths[k].name, "not attached");
			continue;
		}
		path_hist(t, k, final, &paths[k]);
		hist_print_row(f, LABEL_WIDTH, it_paths[k].name, &paths[k],
			       to - from);
	}
	if (paths_attached(t, IT_NEEDS_FQ_COUNTS))
		fprintf(f, "fq_flush: %llu timer-driven, %llu queue full\n",
			(unsigned long long)stat_of(t, final, IT_STAT_FQ_FLUSH_TIMER),
			(unsigned long long)stat_of(t, final, IT_STAT_FQ_FLUSH_FULL));

	fprintf(f, "\nexposure window (unmap -> IOTLB invalidation covering it)\n");
	to_hist(&t->cur.h[IT_HIST_EXPOSURE_SYNC],
		final ? NULL : &t->prev.h[IT_HIST_EXPOSURE_SYNC], &h);
	ex = final ? &t->expo.total : &t->expo.interval;
	if (paths_attached(t, IT_NEEDS_STRICT_WINDOW))
		hist_print_row(f, LABEL_WIDTH, "strict (iotlb_sync)", &h,
			       to - from);
	else
		print_absent(f, "strict (iotlb_sync)",
			     "needs dma_unmap, iommu_unmap_fast, iotlb_sync");
	if (paths_attached(t, IT_NEEDS_LAZY_WINDOW))
		hist_print_row(f, LABEL_WIDTH, "lazy (fq flush)", ex, to - from);
	else
		print_absent(f, "lazy (fq flush)", "needs iommu_unmap_fast, fq_flush");
	if (final && expo_pending(&t->expo))
		fprintf(f, "lazy unmaps not yet flushed at the end: %llu\n",
			(unsigned long long)expo_pending(&t->expo));

	device_names(t, names);
	for (int d = 0; d < IT_MAX_DEV; d++) {
		if (!names[d].shared)
			continue;
		fprintf(f, "\ndevice %s\n", names[d].name);
		for (int fn = 0; fn < IT_NR_FN; fn++) {
			int dfn = it_devfn_of(fn);

			if (dfn < 0 || !t->pt[fn].links[0])
				continue;
			to_hist(&t->cur.h[IT_HIST_DEV(d, dfn)],
				final ? NULL : &t->prev.h[IT_HIST_DEV(d, dfn)], &h);
			hist_print_row(f, LABEL_WIDTH, it_fns[fn].func, &h,
				       to - from);
		}
		if (paths_attached(t, IT_NEEDS_LAZY_WINDOW))
			hist_print_row(f, LABEL_WIDTH, "exposure (lazy)",
				       final ? &t->expo.dev_total[d] :
				       &t->expo.dev_interval[d], to - from);
	}

	if (t->o->hists) {
		for (int k = 0; k < IT_NR_PATH; k++)
			if (hist_count(&paths[k]))
				it_print_log2(f, &paths[k], it_paths[k].name);
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
	if (final) {
		for (int k = 0; k < IT_NR_PATH; k++)
			if (t->ps[k].wanted && (!path_attached(t, k) ||
						t->ps[k].fallback))
				fprintf(f, "path %s: %s%s%s\n", it_paths[k].name,
					t->ps[k].status, t->ps[k].reason[0] ?
					": " : "", t->ps[k].reason);
	}
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

static void resolve_all(struct it_tracer *t, struct btf *vmlinux)
{
	resolve_points(t, vmlinux);
	for (int k = 0; k < IT_NR_PATH; k++)
		path_verdict(t, k);
}

/* --list: needs neither root nor an IOMMU nor BPF, only the symbols */
static int list_main(struct it_tracer *t, struct btf *vmlinux)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = EXIT_OK;

	if (!vmlinux)
		pr_warn("no kernel BTF (/sys/kernel/btf/vmlinux): every function would get a kprobe");
	resolve_all(t, vmlinux);
	print_list(t, stdout);
	if (requested_missing(t, &sb)) {
		pr_err("%s", sb.buf);
		ret = EXIT_ENVIRONMENT;
	}
	strbuf_release(&sb);
	return ret;
}

/* say what is not traced, and which fallbacks stand in */
static void report_resolution(struct it_tracer *t)
{
	for (int k = 0; k < IT_NR_PATH; k++) {
		const struct it_pathst *ps = &t->ps[k];

		if (!ps->wanted)
			continue;
		if (!path_attached(t, k))
			pr_info("path %s not traced: %s: %s", it_paths[k].name,
				ps->status, ps->reason);
		else if (ps->fallback)
			pr_info("path %s: %s", it_paths[k].name, ps->reason);
	}
	for (int i = 0; i < IT_NR_FN; i++)
		if (t->pt[i].links[0])
			pr_debug("%s (%s): %s %s", it_fns[i].func,
				 it_paths[it_fns[i].path].name,
				 mech_names[t->pt[i].mech], t->pt[i].symbol);
}

/* What this machine lacks for BPF tracing: 0, or the exit status after saying so. */
static int check_environment(struct it_tracer *t, struct btf *vmlinux)
{
	if (it_check_root()) {
		write_error_record(t, "must be run as root", false);
		return EXIT_ENVIRONMENT;
	}
	if (!vmlinux) {
		fail_with(t, false, "no BTF: /sys/kernel/btf/vmlinux is missing or unreadable (kernel built without CONFIG_DEBUG_INFO_BTF); use --tracefs");
		return EXIT_ENVIRONMENT;
	}
	if (it_check_iommu()) {
		write_error_record(t, "no IOMMU: /sys/kernel/iommu_groups is empty", false);
		return EXIT_ENVIRONMENT;
	}
	return 0;
}

/* The per-CPU read buffer and the exposure histograms; -1 on ENOMEM. */
static int tracer_alloc(struct it_tracer *t)
{
	t->ncpus = libbpf_num_possible_cpus();
	if (t->ncpus <= 0) {
		pr_err("cannot count the possible CPUs");
		return -1;
	}
	t->percpu_buf = calloc(t->ncpus, sizeof(struct it_hist));
	if (!t->percpu_buf)
		return -1;
	for (int i = 0; i < IT_MAX_DEV; i++) {
		hist_init(&t->expo.dev_total[i]);
		hist_init(&t->expo.dev_interval[i]);
	}
	hist_init(&t->expo.total);
	hist_init(&t->expo.interval);
	return 0;
}

/*
 * Open, load and attach the programs for what resolve_all() chose; an
 * fentry that will not load falls back to kprobes once.  0, or the exit
 * status after saying why.
 */
static int load_and_attach(struct it_tracer *t, struct btf *vmlinux)
{
	struct strbuf why = STRBUF_INIT;
	int err = EXIT_ERROR;

	for (int round = 0; round < 3; round++) {
		resolve_all(t, vmlinux);
		if (requested_missing(t, &why)) {
			fail_with(t, true, "%s", why.buf);
			err = EXIT_ENVIRONMENT;
			goto out;
		}
		if (open_and_load(t)) {
			bool retried = false;

			if (errno == EPERM || errno == ENOSYS) {
				fail_with(t, false, "cannot load BPF programs: %s (no BPF: kernel without CONFIG_BPF_SYSCALL, or kernel.unprivileged_bpf/lockdown forbids it); use --tracefs",
					  strerror(errno));
				err = EXIT_ENVIRONMENT;
				goto out;
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
			fail_with(t, false, "loading the BPF programs failed: %s (-v shows the verifier log)",
				  strerror(errno));
			goto out;
		}
		if (!attach_points(t))
			break;
		destroy_links(t);
		iommutrace_bpf__destroy(t->skel);
		t->skel = NULL;
	}
	if (!t->skel) {
		fail_with(t, false, "could not attach the probes");
		goto out;
	}
	for (int k = 0; k < IT_NR_PATH; k++)
		path_verdict(t, k);
	if (requested_missing(t, &why)) {
		fail_with(t, true, "%s", why.buf);
		err = EXIT_ENVIRONMENT;
		goto out;
	}
	report_resolution(t);
	err = 0;
out:
	strbuf_release(&why);
	return err;
}

static struct btf *load_vmlinux_btf(void)
{
	struct btf *vmlinux;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return NULL;
	vmlinux = btf__load_vmlinux_btf();
	if (libbpf_get_error(vmlinux)) {
		pr_warn("cannot load the kernel's BTF: %s",
			strerror(-libbpf_get_error(vmlinux)));
		return NULL;
	}
	return vmlinux;
}

int main(int argc, char **argv)
{
	static struct it_tracer tracer;
	struct it_tracer *t = &tracer;
	const struct it_run_ops ops = { tracer_poll, tracer_report };
	struct it_run run = { .out = NULL };
	struct btf *vmlinux = NULL;
	int err;

	log_init(argv[0]);
	err = parse_args(argc, argv);
	if (err)
		return err < 0 ? EXIT_OK : err;
	t->o = &opts;
	t->stats_fd = -1;

	if (opts.tracefs) {
		if (it_check_root())
			return EXIT_ENVIRONMENT;
		return iommutrace_tracefs_main(&opts);
	}
	libbpf_set_print(libbpf_print);
	vmlinux = load_vmlinux_btf();
	if (opts.list) {
		err = list_main(t, vmlinux);
		goto cleanup;
	}
	err = check_environment(t, vmlinux);
	if (err)
		goto cleanup;
	err = EXIT_ERROR;
	if (tracer_alloc(t))
		goto cleanup;
	err = load_and_attach(t, vmlinux);
	if (err)
		goto cleanup;
	err = EXIT_ERROR;
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

// SPDX-License-Identifier: GPL-2.0
/*
 * iommutrace.bpf.c - latency of the IOMMU DMA paths and the exposure window
 *
 * Every row of IT_PROBES (iommutrace-probes.h: a kernel function in the
 * role it plays for one path) has four programs: fentry/fexit and
 * kprobe/kretprobe.  User space loads one pair per row or none, so the
 * same object serves kernels with and without BTF for a function, and
 * kernels where a function was renamed or inlined (its fallback rows).
 *
 * Entry pushes a timestamp on a per-task stack (one per function, LIFO:
 * an interrupt that runs the same function on the same task returns
 * before the task resumes), exit pops it and records the latency in the
 * function's histogram (<iommubench/hist-bucket.h> buckets, per CPU).
 * DMA-API and flush-queue functions also push a context (device, domain,
 * --device match) that nested functions inherit.
 *
 * Exposure window (docs/iommutrace.md): strict unmaps are measured here,
 * from the return of iommu_unmap_fast() to the return of the driver's
 * iotlb_sync in the same DMA unmap; lazy unmaps and flush-queue flushes
 * go to the ring buffer and user space pairs them per domain.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "iommutrace.h"
#include "iommutrace-core.bpf.h"

/* set by user space before load */
const volatile bool filter_on = false;
const volatile char filter_dev[IT_DEV_NAME_LEN] = {};
/* bit per enum it_fn: the attached symbol has the C arguments (no clone) */
const volatile __u64 args_ok = 0;

/* next free device slot */
__u32 next_dev = 0;

/* powers of two: indexes are masked so that the verifier sees the bound */
#define IT_CTX_DEPTH	8
#define IT_IDX(i, n)	((i) & ((n) - 1))
#define IT_NO_DEV	IT_MAX_DEV

struct it_frame {
	__u64 ts;
	__u64 arg;		/* function-specific: unmap_fast's gather */
	__u64 domain;
	__u32 dev;
	__u32 match;
};

struct it_ctx {
	__u64 domain;
	__u32 dev;
	__u32 match;
};

struct it_task {
	__u8 depth[IT_NR_FN];
	__u8 ctx_depth;
	__u8 unmap_depth;		/* open DMA-unmap frames (any row) */
	__u8 timeout_depth;		/* open fq_flush_timeout() frames */
	__u8 queued[IT_DEPTH];		/* per DMA-unmap frame: gather queued */
	__u64 clear_ts[IT_DEPTH];	/* strict: per DMA-unmap frame */
	struct it_ctx ctx[IT_CTX_DEPTH];
	struct it_frame f[IT_NR_FN][IT_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);	/* tasks that ever ran a probed function */
	__type(key, __u64);
	__type(value, struct it_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IT_NR_HIST);
	__type(key, __u32);
	__type(value, struct it_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IT_NR_STAT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IT_MAX_DEV);
	__type(key, __u32);
	__type(value, struct it_dev_counts);
} dev_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct it_devinfo);
} devices SEC(".maps");

/* domains of the devices that pass --device */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u8);
} filter_domains SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);	/* resized by user space */
} events SEC(".maps");

/* a zeroed it_task to insert; too large for the BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct it_task);
} task_zero SEC(".maps");

static __always_inline void stat_inc(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* add ns * ns to the 128-bit sum (ns is below 2^42, see hist-bucket.h) */
static __always_inline void add_sq(struct it_hist *h, __u64 ns)
{
	__u64 lo, hi, old;

	if (ns > IBH_MAX_VALUE)
		ns = IBH_MAX_VALUE;
	ibh_square(ns, &lo, &hi);
	old = __sync_fetch_and_add(&h->sum_sq_lo, lo);
	if (old + lo < old)
		hi++;
	if (hi)
		__sync_fetch_and_add(&h->sum_sq_hi, hi);
}

static __always_inline void hist_add(__u32 slot, __u64 ns)
{
	struct it_hist *h = bpf_map_lookup_elem(&hists, &slot);
	__u32 b;

	if (!h)
		return;
	b = ibh_bucket(ns);
	if (b >= IBH_NR_BUCKETS)
		b = IBH_NR_BUCKETS - 1;
	__sync_fetch_and_add(&h->buckets[b], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, ns);
	add_sq(h, ns);
	if (!h->min_plus1 || ns + 1 < h->min_plus1)
		h->min_plus1 = ns + 1;
	if (ns > h->max)
		h->max = ns;
}

static __always_inline struct it_task *task_state(void)
{
	__u64 id = bpf_get_current_pid_tgid() & 0xffffffffULL;
	struct it_task *t;
	__u32 zero = 0;

	/* every CPU's idle task is pid 0: key those by CPU */
	if (!id)
		id = (1ULL << 32) | bpf_get_smp_processor_id();
	t = bpf_map_lookup_elem(&tasks, &id);
	if (t)
		return t;
	t = bpf_map_lookup_elem(&task_zero, &zero);
	if (!t)
		return NULL;
	if (bpf_map_update_elem(&tasks, &id, t, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&tasks, &id)) {
		stat_inc(IT_STAT_NO_STATE);
		return NULL;
	}
	return bpf_map_lookup_elem(&tasks, &id);
}

static __always_inline bool name_matches(const char *name)
{
	int i;

	for (i = 0; i < IT_DEV_NAME_LEN; i++) {
		if (name[i] != filter_dev[i])
			return false;
		if (!name[i])
			return true;
	}
	return true;
}

/* slot, domain and --device match of a device, learnt on first sight */
static __always_inline struct it_devinfo *device_info(__u64 dev)
{
	struct it_devinfo *di, info = {};
	__u8 one = 1;

	di = bpf_map_lookup_elem(&devices, &dev);
	if (di)
		return di;
	bpf_probe_read_kernel_str(info.name, sizeof(info.name),
				  dev_name_ptr((struct device *)dev));
	info.match = !filter_on || name_matches(info.name);
	info.domain = dev_dma_domain((struct device *)dev);
	if (info.match) {
		info.idx = __sync_fetch_and_add(&next_dev, 1);
		if (info.idx >= IT_MAX_DEV)
			info.idx = IT_MAX_DEV - 1;	/* "other devices" */
		if (filter_on && info.domain)
			bpf_map_update_elem(&filter_domains, &info.domain,
					    &one, BPF_ANY);
	} else {
		info.idx = IT_NO_DEV;
	}
	bpf_map_update_elem(&devices, &dev, &info, BPF_NOEXIST);
	return bpf_map_lookup_elem(&devices, &dev);
}

static __always_inline bool domain_matches(__u64 domain)
{
	return domain && bpf_map_lookup_elem(&filter_domains, &domain);
}

/* roles that open a context for the functions they call */
static __always_inline bool role_opens_ctx(int role)
{
	return role == IT_ROLE_DMA_UNMAP || role == IT_ROLE_DMA_MAP ||
	       role == IT_ROLE_FQ_FLUSH || role == IT_ROLE_FQ_TIMEOUT;
}

/* the struct iommu_domain a row's first argument names, or 0 */
static __always_inline __u64 arg_domain(int argk, __u64 a0)
{
	switch (argk) {
	case IT_ARG_DOMAIN:
		return a0;
	case IT_ARG_DMAR_DOMAIN:
		return dmar_domain_to_domain((void *)a0);
	case IT_ARG_COOKIE:
		return cookie_fq_domain((void *)a0);
	case IT_ARG_TIMER:
		return fq_timer_domain((void *)a0);
	default:
		return 0;
	}
}

static __always_inline int on_entry(__u32 fn, __u64 a0, __u64 a1)
{
	int role = it_role_of(fn), argk = it_arg_of(fn);
	struct it_ctx top = {};
	bool have_top = false;
	struct it_frame *fr;
	struct it_task *t;
	__u64 domain = 0;
	__u32 dev = IT_NO_DEV, match, d, cd, ud;
	bool args = args_ok & (1ULL << fn);

	if (fn >= IT_NR_FN)
		return 0;
	t = task_state();
	if (!t)
		return 0;
	d = t->depth[fn];
	t->depth[fn] = d + 1;
	if (d >= IT_DEPTH) {
		stat_inc(IT_STAT_TOO_DEEP);
		return 0;
	}
	cd = t->ctx_depth;
	if (cd > 0 && cd <= IT_CTX_DEPTH) {
		/* a copy: the verifier loses a pointer's bounds across branches */
		top = t->ctx[IT_IDX(cd - 1, IT_CTX_DEPTH)];
		have_top = true;
	}

	if (argk == IT_ARG_DEV && args && a0) {
		struct it_devinfo *di = device_info(a0);

		if (di) {
			dev = di->idx;
			domain = di->domain;
		}
		match = !filter_on || (di && di->match);
	} else {
		if (args)
			domain = arg_domain(argk, a0);
		if (have_top) {
			dev = top.dev;
			if (!domain)
				domain = top.domain;
		}
		match = !filter_on || (have_top && top.match) ||
			domain_matches(domain);
	}

	if (role_opens_ctx(role)) {
		if (cd < IT_CTX_DEPTH) {
			struct it_ctx *c = &t->ctx[IT_IDX(cd, IT_CTX_DEPTH)];

			c->domain = domain;
			c->dev = dev;
			c->match = match;
		}
		t->ctx_depth = cd + 1;
	}
	ud = t->unmap_depth;
	if (role == IT_ROLE_DMA_UNMAP) {
		if (ud < IT_DEPTH) {
			t->clear_ts[IT_IDX(ud, IT_DEPTH)] = 0;
			t->queued[IT_IDX(ud, IT_DEPTH)] = 0;
		}
		t->unmap_depth = ud + 1;
	} else if (role == IT_ROLE_FQ_TIMEOUT) {
		t->timeout_depth++;
	}

	fr = &t->f[fn][IT_IDX(d, IT_DEPTH)];
	fr->arg = a1;
	if (role == IT_ROLE_FQ_FLUSH_ALL)
		/* the two callers of the inlined fq_flush_iotlb() */
		fr->arg = t->timeout_depth > 0 ||
			  (ud > 0 && ud <= IT_DEPTH &&
			   t->queued[IT_IDX(ud - 1, IT_DEPTH)]);
	fr->domain = domain;
	fr->dev = dev;
	fr->match = match;
	fr->ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void emit(__u32 type, __u32 dev, __u64 ts, __u64 end,
				 __u64 domain, __u64 iova, __u64 size)
{
	struct it_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(IT_STAT_RB_LOST);
		return;
	}
	e->type = type;
	e->dev = dev;
	e->ts_ns = ts;
	e->end_ns = end;
	e->domain = domain;
	e->iova = iova;
	e->size = size;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

static __always_inline int on_exit(__u32 fn)
{
	__u64 now = bpf_ktime_get_ns(), ts, delta;
	int role = it_role_of(fn), dfn = it_devfn_of(fn);
	struct it_frame *fr;
	struct it_task *t;
	__u32 d, ud;
	bool timer;

	if (fn >= IT_NR_FN)
		return 0;
	t = task_state();
	if (!t)
		return 0;
	d = t->depth[fn];
	if (!d)		/* entered before we attached */
		return 0;
	d--;
	t->depth[fn] = d;
	if (d >= IT_DEPTH)	/* its entry was counted as too deep */
		return 0;
	if (role_opens_ctx(role) && t->ctx_depth)
		t->ctx_depth--;
	ud = t->unmap_depth;
	timer = t->timeout_depth > 0;
	if (role == IT_ROLE_DMA_UNMAP && ud)
		t->unmap_depth = ud - 1;
	else if (role == IT_ROLE_FQ_TIMEOUT && t->timeout_depth)
		t->timeout_depth--;
	fr = &t->f[fn][IT_IDX(d, IT_DEPTH)];
	ts = fr->ts;
	if (!ts)
		return 0;
	fr->ts = 0;
	delta = now - ts;
	if (role == IT_ROLE_FQ_FLUSH_ALL && !fr->arg)
		return 0;	/* a flush_iotlb_all outside the flush queue */
	if (!fr->match) {
		stat_inc(IT_STAT_FILTERED);
		return 0;
	}

	hist_add(IT_HIST_FN(fn), delta);
	if (fr->dev < IT_MAX_DEV) {
		struct it_dev_counts *dc;
		__u32 dev = fr->dev;

		if (dfn >= 0)
			hist_add(IT_HIST_DEV(dev, dfn), delta);
		dc = bpf_map_lookup_elem(&dev_counts, &dev);
		if (dc)
			__sync_fetch_and_add(&dc->calls[fn], 1);
	}

	if (role == IT_ROLE_UNMAP_FAST) {
		if (iotlb_gather_queued((void *)fr->arg)) {
			/* lazy: the flush queue will invalidate it */
			stat_inc(IT_STAT_UNMAP_QUEUED);
			emit(IT_EV_UNMAP, fr->dev, now, 0, fr->domain, 0, 0);
			if (ud > 0 && ud <= IT_DEPTH)
				t->queued[IT_IDX(ud - 1, IT_DEPTH)] = 1;
		} else if (ud > 0 && ud <= IT_DEPTH) {
			t->clear_ts[IT_IDX(ud - 1, IT_DEPTH)] = now;
		}
	} else if (role == IT_ROLE_SYNC) {
		__u64 *clear = &t->clear_ts[IT_IDX(ud - 1, IT_DEPTH)];

		if (ud > 0 && ud <= IT_DEPTH && *clear) {
			hist_add(IT_HIST_EXPOSURE_SYNC, now - *clear);
			*clear = 0;
			stat_inc(IT_STAT_UNMAP_SYNCED);
		}
	} else if (role == IT_ROLE_DMA_UNMAP) {
		__u64 *clear = &t->clear_ts[IT_IDX(ud - 1, IT_DEPTH)];

		if (ud > 0 && ud <= IT_DEPTH && *clear) {
			stat_inc(IT_STAT_UNMAP_UNCOVERED);
			*clear = 0;
		}
	} else if (role == IT_ROLE_FQ_FLUSH || role == IT_ROLE_FQ_FLUSH_ALL) {
		stat_inc(timer ? IT_STAT_FQ_FLUSH_TIMER : IT_STAT_FQ_FLUSH_FULL);
		emit(IT_EV_FLUSH, fr->dev, ts, now, fr->domain, timer, 0);
	}
	return 0;
}

/*
 * One set of programs per row of IT_PROBES.  fentry reads only the
 * arguments the function has (the verifier checks the count against
 * BTF): the first, and the gather (fourth) of iommu_unmap_fast().
 */
#define IT_A1_FENTRY_UNMAP_FAST		ctx[3]
#define IT_A1_KPROBE_UNMAP_FAST		PT_REGS_PARM4(ctx)
#define IT_A1_FENTRY_DMA_UNMAP		0
#define IT_A1_KPROBE_DMA_UNMAP		0
#define IT_A1_FENTRY_DMA_MAP		0
#define IT_A1_KPROBE_DMA_MAP		0
#define IT_A1_FENTRY_SYNC		0
#define IT_A1_KPROBE_SYNC		0
#define IT_A1_FENTRY_FQ_FLUSH		0
#define IT_A1_KPROBE_FQ_FLUSH		0
#define IT_A1_FENTRY_FQ_FLUSH_ALL	0
#define IT_A1_KPROBE_FQ_FLUSH_ALL	0
#define IT_A1_FENTRY_FQ_TIMEOUT		0
#define IT_A1_KPROBE_FQ_TIMEOUT		0
#define IT_A1_FENTRY_COUNT		0
#define IT_A1_KPROBE_COUNT		0

#define IT_X_PROGS(id, path, chain, rank, sym, role, arg, needs)	\
SEC("fentry")								\
int fentry_##id(__u64 *ctx)						\
{									\
	return on_entry(IT_FN_##id, ctx[0], IT_A1_FENTRY_##role);	\
}									\
SEC("fexit")								\
int fexit_##id(__u64 *ctx)						\
{									\
	return on_exit(IT_FN_##id);					\
}									\
SEC("kprobe")								\
int kprobe_##id(struct pt_regs *ctx)					\
{									\
	return on_entry(IT_FN_##id, PT_REGS_PARM1(ctx),			\
			IT_A1_KPROBE_##role);				\
}									\
SEC("kretprobe")							\
int kretprobe_##id(struct pt_regs *ctx)					\
{									\
	return on_exit(IT_FN_##id);					\
}

IT_PROBES(IT_X_PROGS)

char LICENSE[] SEC("license") = "GPL";

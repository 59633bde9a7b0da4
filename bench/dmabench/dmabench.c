// SPDX-License-Identifier: GPL-2.0
/*
 * dmabench - streaming DMA API microbenchmark
 *
 * Binds to one PCI device, only through driver_override (no ID table):
 *
 *	echo dmabench > /sys/bus/pci/devices/$BDF/driver_override
 *	echo $BDF > /sys/bus/pci/drivers_probe
 *
 * and measures, from kernel threads, the latency of dma_map_*(),
 * dma_unmap_*() and dma_sync_*() on that device in log-linear histograms at
 * nanosecond resolution (<iommubench/hist-bucket.h>).  User space drives it
 * through the ioctls of /dev/dmabench described in <iommubench/dmabench.h>.
 *
 * Locking: dmabench.lock serializes all ioctls, probe and remove, and
 * protects the bound device and the stored results.  A run keeps the lock for
 * its whole duration; remove first raises dmabench.unbinding, which the
 * benchmark threads poll, so the run ends within one batch and remove then
 * gets the lock.  The device is therefore never used after remove returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <linux/uaccess.h>

#include <iommubench/dmabench.h>

/* kernel-side histogram; exported field by field in struct dmabench_result */
struct dmabench_hist {
	u64 count;
	u64 min;
	u64 max;
	u64 sum;
	u64 sum_sq_lo;
	u64 sum_sq_hi;
	u64 buckets[IBH_NR_BUCKETS];
};

/* one buffer of a batch: a scatterlist or a single page block */
struct dmabench_slot {
	struct page **pages;
	struct sg_table sgt;
	dma_addr_t addr;
	u32 len;
};

struct dmabench_run;

struct dmabench_thread {
	struct dmabench_run *run;
	struct task_struct *task;
	struct dmabench_slot *slots;
	u32 id;
	u32 cpu;
	int node;
	int started_cpu;
	u64 rng;
	u64 end_ns;
	u64 elapsed_ns;
	u64 bytes;
	u64 errors;
	struct dmabench_hist hist[DMABENCH_NR_OPS];
};

struct dmabench_run {
	struct dmabench_params p;
	struct device *dev;
	enum dma_data_direction dir;
	unsigned int order;
	u32 entries;
	u64 weight_total;
	u64 warmup_ns;
	u64 saved_mask;
	u64 saved_coherent_mask;
	bool mask_saved;
	bool stop;
	atomic_t ready;
	atomic_t running;
	struct completion all_ready;
	struct completion go;
	struct completion all_done;
	u64 start_ns;
	u64 wall_ns;
	u32 nr_threads;
	struct dmabench_thread *threads[DMABENCH_MAX_THREADS];
};

static struct {
	struct mutex lock;	/* serializes ioctls, probe and remove */
	struct pci_dev *pdev;	/* bound device, under lock */
	struct dmabench_run *last;	/* results of the last run, under lock */
	bool unbinding;		/* set by remove without the lock */
} dmabench = {
	.lock = __MUTEX_INITIALIZER(dmabench.lock),
};

static bool dmabench_stopping(struct dmabench_run *run)
{
	return READ_ONCE(run->stop) || READ_ONCE(dmabench.unbinding);
}

static void dmabench_hist_init(struct dmabench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = U64_MAX;
}

/* add v * v to the 128-bit sum of squares */
static void dmabench_add_square(struct dmabench_hist *h, u64 v)
{
	u64 lo, hi;

	ibh_square(v, &lo, &hi);
	h->sum_sq_lo += lo;
	if (h->sum_sq_lo < lo)
		hi++;
	h->sum_sq_hi += hi;
}

static void dmabench_hist_add(struct dmabench_hist *h, u64 ns)
{
	h->count++;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->sum += ns;
	dmabench_add_square(h, ns);
	h->buckets[ibh_bucket(ns)]++;
}

static void dmabench_hist_merge(struct dmabench_hist *dst,
				const struct dmabench_hist *src)
{
	u32 i;

	for (i = 0; i < IBH_NR_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum += src->sum;
	dst->sum_sq_lo += src->sum_sq_lo;
	dst->sum_sq_hi += src->sum_sq_hi + (dst->sum_sq_lo < src->sum_sq_lo);
}

static u32 dmabench_domain_type(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!domain)
		return DMABENCH_DOMAIN_NONE;
	switch (domain->type) {
	case IOMMU_DOMAIN_DMA:
		return DMABENCH_DOMAIN_DMA;
	case IOMMU_DOMAIN_DMA_FQ:
		return DMABENCH_DOMAIN_DMA_FQ;
	case IOMMU_DOMAIN_IDENTITY:
		return DMABENCH_DOMAIN_IDENTITY;
	default:
		return DMABENCH_DOMAIN_OTHER;
	}
}

static u32 dmabench_rand(struct dmabench_thread *t)
{
	/* xorshift64*: cheap, deterministic per seed, no kernel API drift */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return (t->rng * 0x2545f4914f6cdd1dULL) >> 32;
}

static u32 dmabench_pick_size(struct dmabench_thread *t)
{
	const struct dmabench_params *p = &t->run->p;
	u64 r;
	u32 i;

	if (p->nr_sizes == 1)
		return p->sizes[0].bytes;
	r = dmabench_rand(t) % t->run->weight_total;
	for (i = 0; i < p->nr_sizes - 1; i++) {
		if (r < p->sizes[i].weight)
			break;
		r -= p->sizes[i].weight;
	}
	return p->sizes[i].bytes;
}

static int dmabench_map(struct dmabench_run *run, struct dmabench_slot *s)
{
	if (run->p.map_mode == DMABENCH_MAP_SG)
		return dma_map_sgtable(run->dev, &s->sgt, run->dir, 0);
	s->addr = dma_map_page(run->dev, s->pages[0], 0, s->len, run->dir);
	return dma_mapping_error(run->dev, s->addr) ? -ENOMEM : 0;
}

static void dmabench_unmap(struct dmabench_run *run, struct dmabench_slot *s)
{
	if (run->p.map_mode == DMABENCH_MAP_SG)
		dma_unmap_sgtable(run->dev, &s->sgt, run->dir, 0);
	else
		dma_unmap_page(run->dev, s->addr, s->len, run->dir);
}

static void dmabench_sync(struct dmabench_run *run, struct dmabench_slot *s)
{
	if (run->p.map_mode == DMABENCH_MAP_SG) {
		dma_sync_sgtable_for_cpu(run->dev, &s->sgt, run->dir);
		dma_sync_sgtable_for_device(run->dev, &s->sgt, run->dir);
	} else {
		dma_sync_single_for_cpu(run->dev, s->addr, s->len, run->dir);
		dma_sync_single_for_device(run->dev, s->addr, s->len,
					   run->dir);
	}
}

static void dmabench_device_time(u64 ns)
{
	u64 end;

	if (!ns)
		return;
	end = ktime_get_ns() + ns;
	while (ktime_get_ns() < end)
		cpu_relax();
}

/*
 * One batch: map @n buffers, let the "device" work, then (sync and) unmap
 * them in order.  Each call is timed on its own; @record selects whether
 * the samples count (not during warm-up).
 */
static int dmabench_batch(struct dmabench_thread *t, u32 n, bool record)
{
	struct dmabench_run *run = t->run;
	bool sync = run->p.flags & DMABENCH_F_SYNC;
	struct scatterlist *sg;
	u64 t0, t1, bytes = 0;
	u32 i, j;
	int ret;

	for (i = 0; i < n; i++) {
		struct dmabench_slot *s = &t->slots[i];

		s->len = dmabench_pick_size(t);
		if (run->p.map_mode == DMABENCH_MAP_SG) {
			for_each_sgtable_sg(&s->sgt, sg, j)
				sg_set_page(sg, s->pages[j], s->len, 0);
		}
		t0 = ktime_get_ns();
		ret = dmabench_map(run, s);
		t1 = ktime_get_ns();
		if (ret) {
			t->errors++;
			pr_err_ratelimited("thread %u: mapping %u bytes failed: %d\n",
					   t->id, s->len, ret);
			goto err_unmap_mapped;
		}
		if (record)
			dmabench_hist_add(&t->hist[DMABENCH_OP_MAP], t1 - t0);
		bytes += (u64)s->len * run->entries;
	}

	dmabench_device_time(run->p.device_ns);

	for (i = 0; i < n; i++) {
		struct dmabench_slot *s = &t->slots[i];

		if (sync) {
			t0 = ktime_get_ns();
			dmabench_sync(run, s);
			t1 = ktime_get_ns();
			if (record)
				dmabench_hist_add(&t->hist[DMABENCH_OP_SYNC],
						  t1 - t0);
		}
		t0 = ktime_get_ns();
		dmabench_unmap(run, s);
		t1 = ktime_get_ns();
		if (record)
			dmabench_hist_add(&t->hist[DMABENCH_OP_UNMAP],
					  t1 - t0);
	}
	if (record)
		t->bytes += bytes;
	return 0;

err_unmap_mapped:
	while (i--)
		dmabench_unmap(run, &t->slots[i]);
	return ret;
}

/* cost of the clock itself: two back-to-back reads */
static void dmabench_measure_timer(struct dmabench_thread *t)
{
	u64 t0, t1;
	u32 i;

	for (i = 0; i < DMABENCH_TIMER_SAMPLES; i++) {
		t0 = ktime_get_ns();
		t1 = ktime_get_ns();
		dmabench_hist_add(&t->hist[DMABENCH_OP_TIMER], t1 - t0);
		if (!(i % 1024))
			cond_resched();
	}
}

static int dmabench_thread_fn(void *data)
{
	struct dmabench_thread *t = data;
	struct dmabench_run *run = t->run;
	const struct dmabench_params *p = &run->p;
	u64 done = 0, start;
	int ret = 0;
	u32 n;

	t->started_cpu = raw_smp_processor_id();
	dmabench_measure_timer(t);

	/* bounded by operations and by time, checked between batches */
	start = ktime_get_ns();
	while (done < p->warmup_ops && !dmabench_stopping(run) &&
	       ktime_get_ns() - start < run->warmup_ns) {
		n = min_t(u64, p->batch, p->warmup_ops - done);
		ret = dmabench_batch(t, n, false);
		if (ret)
			break;
		done += n;
		cond_resched();
	}
	if (ret)
		WRITE_ONCE(run->stop, true);
	if (atomic_dec_and_test(&run->ready))
		complete(&run->all_ready);
	/*
	 * Sleep interruptibly: a long warm-up of the other threads must not
	 * look like a hung task.  Kernel threads get no signals, but treat
	 * one as a stop request all the same.
	 */
	if (wait_for_completion_interruptible(&run->go))
		WRITE_ONCE(run->stop, true);

	start = ktime_get_ns();
	done = 0;
	while (!ret && !dmabench_stopping(run)) {
		if (p->ops) {
			if (done >= p->ops)
				break;
			n = min_t(u64, p->batch, p->ops - done);
		} else {
			if (ktime_get_ns() - run->start_ns >= p->duration_ns)
				break;
			n = p->batch;
		}
		ret = dmabench_batch(t, n, true);
		if (ret) {
			WRITE_ONCE(run->stop, true);
			break;
		}
		done += n;
		cond_resched();
	}
	t->end_ns = ktime_get_ns();
	t->elapsed_ns = t->end_ns - start;
	if (atomic_dec_and_test(&run->running))
		complete(&run->all_done);

	/* stay until dmabench_run_threads() calls kthread_stop() */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void dmabench_free_slots(struct dmabench_run *run,
				struct dmabench_thread *t)
{
	u32 i, j;

	if (!t->slots)
		return;
	for (i = 0; i < run->p.batch; i++) {
		struct dmabench_slot *s = &t->slots[i];

		if (!s->pages)
			continue;
		for (j = 0; j < run->entries; j++)
			if (s->pages[j])
				__free_pages(s->pages[j], run->order);
		if (run->p.map_mode == DMABENCH_MAP_SG)
			sg_free_table(&s->sgt);
		kfree(s->pages);
	}
	kvfree(t->slots);
	t->slots = NULL;
}

static int dmabench_alloc_slots(struct dmabench_run *run,
				struct dmabench_thread *t)
{
	u32 i, j;

	t->slots = kvcalloc(run->p.batch, sizeof(*t->slots), GFP_KERNEL);
	if (!t->slots)
		return -ENOMEM;
	for (i = 0; i < run->p.batch; i++) {
		struct dmabench_slot *s = &t->slots[i];

		s->pages = kcalloc_node(run->entries, sizeof(*s->pages),
					GFP_KERNEL, t->node);
		if (!s->pages)
			goto err_free_slots;
		for (j = 0; j < run->entries; j++) {
			s->pages[j] = alloc_pages_node(t->node,
						       GFP_KERNEL | __GFP_NOWARN,
						       run->order);
			if (!s->pages[j])
				goto err_free_slots;
		}
		if (run->p.map_mode == DMABENCH_MAP_SG &&
		    sg_alloc_table(&s->sgt, run->entries, GFP_KERNEL)) {
			/* sg_alloc_table() cleans up after itself */
			memset(&s->sgt, 0, sizeof(s->sgt));
			goto err_free_slots;
		}
	}
	return 0;

err_free_slots:
	dmabench_free_slots(run, t);
	return -ENOMEM;
}

static void dmabench_free_run(struct dmabench_run *run)
{
	u32 i;

	if (!run)
		return;
	for (i = 0; i < run->nr_threads; i++) {
		dmabench_free_slots(run, run->threads[i]);
		kvfree(run->threads[i]);
	}
	kfree(run);
}

/*
 * Refuse a parameter with a log line naming it.  Rate limited: a fuzzer
 * sends thousands of bad blocks, and every line on a serial console costs
 * milliseconds.
 */
#define dmabench_bad(field, fmt, ...)					\
	({								\
		pr_info_ratelimited("invalid parameter " field ": " fmt "\n", \
				    ##__VA_ARGS__);			\
		-EINVAL;						\
	})

static int dmabench_check_params(const struct dmabench_params *p)
{
	u64 largest = 0, block, total;
	u32 i, entries;

	if (p->size != sizeof(*p))
		return dmabench_bad("size", "%u, expected %zu", p->size,
				    sizeof(*p));
	if (p->version != DMABENCH_ABI_VERSION)
		return dmabench_bad("version", "%u, this module speaks %u",
				    p->version, DMABENCH_ABI_VERSION);
	if (!p->threads || p->threads > DMABENCH_MAX_THREADS)
		return dmabench_bad("threads", "%u not in 1..%u", p->threads,
				    DMABENCH_MAX_THREADS);
	if (p->flags & ~DMABENCH_F_ALL)
		return dmabench_bad("flags", "unknown bits %#x",
				    p->flags & ~DMABENCH_F_ALL);
	if (!p->duration_ns == !p->ops)
		return dmabench_bad("duration_ns/ops",
				    "exactly one must be non-zero (%llu/%llu)",
				    p->duration_ns, p->ops);
	if (p->duration_ns > DMABENCH_MAX_DURATION_NS)
		return dmabench_bad("duration_ns", "%llu above %llu",
				    p->duration_ns, DMABENCH_MAX_DURATION_NS);
	if (p->ops > DMABENCH_MAX_OPS)
		return dmabench_bad("ops", "%llu above %llu", p->ops,
				    DMABENCH_MAX_OPS);
	if (p->warmup_ops > DMABENCH_MAX_WARMUP_OPS)
		return dmabench_bad("warmup_ops", "%llu above %llu",
				    p->warmup_ops, DMABENCH_MAX_WARMUP_OPS);
	if (p->device_ns > DMABENCH_MAX_DEVICE_NS)
		return dmabench_bad("device_ns", "%llu above %llu",
				    p->device_ns, DMABENCH_MAX_DEVICE_NS);
	if (p->node != DMABENCH_NODE_ANY &&
	    (p->node < 0 || p->node >= MAX_NUMNODES || !node_online(p->node)))
		return dmabench_bad("node", "%d is not an online node",
				    p->node);
	if (p->dir != DMABENCH_DIR_BIDIRECTIONAL &&
	    p->dir != DMABENCH_DIR_TO_DEVICE &&
	    p->dir != DMABENCH_DIR_FROM_DEVICE)
		return dmabench_bad("dir", "%u unknown", p->dir);
	if (p->dma_mask_bits &&
	    (p->dma_mask_bits < DMABENCH_MIN_MASK_BITS ||
	     p->dma_mask_bits > DMABENCH_MAX_MASK_BITS))
		return dmabench_bad("dma_mask_bits", "%u not 0 or in %u..%u",
				    p->dma_mask_bits, DMABENCH_MIN_MASK_BITS,
				    DMABENCH_MAX_MASK_BITS);
	if (p->map_mode == DMABENCH_MAP_SINGLE) {
		if (p->sg_entries > 1)
			return dmabench_bad("sg_entries",
					    "%u, must be 0 or 1 in single mode",
					    p->sg_entries);
	} else if (p->map_mode == DMABENCH_MAP_SG) {
		if (!p->sg_entries || p->sg_entries > DMABENCH_MAX_SG_ENTRIES)
			return dmabench_bad("sg_entries", "%u not in 1..%u",
					    p->sg_entries,
					    DMABENCH_MAX_SG_ENTRIES);
	} else {
		return dmabench_bad("map_mode", "%u unknown", p->map_mode);
	}
	if (!p->batch || p->batch > DMABENCH_MAX_BATCH)
		return dmabench_bad("batch", "%u not in 1..%u", p->batch,
				    DMABENCH_MAX_BATCH);
	if (!p->nr_sizes || p->nr_sizes > DMABENCH_MAX_SIZES)
		return dmabench_bad("nr_sizes", "%u not in 1..%u", p->nr_sizes,
				    DMABENCH_MAX_SIZES);
	if (p->pad0)
		return dmabench_bad("pad0", "must be zero");
	for (i = 0; i < DMABENCH_MAX_THREADS; i++) {
		u32 cpu = p->cpus[i];

		if (i >= p->threads) {
			if (cpu && cpu != DMABENCH_CPU_ANY)
				return dmabench_bad("cpus", "[%u] = %u set for an unused thread",
						    i, cpu);
			continue;
		}
		if (cpu != DMABENCH_CPU_ANY &&
		    (cpu >= nr_cpu_ids || !cpu_online(cpu)))
			return dmabench_bad("cpus", "[%u] = %u is not an online CPU",
					    i, cpu);
	}
	for (i = 0; i < DMABENCH_MAX_SIZES; i++) {
		const struct dmabench_size *s = &p->sizes[i];

		if (i >= p->nr_sizes) {
			if (s->bytes || s->weight)
				return dmabench_bad("sizes", "[%u] set beyond nr_sizes",
						    i);
			continue;
		}
		if (!s->bytes || s->bytes > DMABENCH_MAX_BUF_BYTES)
			return dmabench_bad("sizes", "[%u].bytes = %u not in 1..%u",
					    i, s->bytes,
					    DMABENCH_MAX_BUF_BYTES);
		if (!s->weight || s->weight > DMABENCH_MAX_WEIGHT)
			return dmabench_bad("sizes", "[%u].weight = %u not in 1..%u",
					    i, s->weight, DMABENCH_MAX_WEIGHT);
		largest = max_t(u64, largest, s->bytes);
	}
	for (i = 0; i < ARRAY_SIZE(p->reserved); i++)
		if (p->reserved[i])
			return dmabench_bad("reserved", "[%u] must be zero", i);

	/* what dmabench_alloc_slots() allocates: blocks of 2^order pages */
	entries = p->map_mode == DMABENCH_MAP_SG ? p->sg_entries : 1;
	block = PAGE_SIZE << get_order(largest);
	total = (u64)p->threads * p->batch * entries * block;
	if (total > DMABENCH_MAX_TOTAL_BYTES)
		return dmabench_bad("threads*batch*sg_entries*size",
				    "allocates %llu bytes of buffers (blocks of %llu bytes for %llu-byte buffers), limit %llu",
				    total, block, largest,
				    DMABENCH_MAX_TOTAL_BYTES);
	return 0;
}

/*
 * Without IOMMU translation (identity domain, or no IOMMU) dma-direct can
 * only reach memory above the mask through swiotlb, and WARNs when it
 * cannot; swiotlb's own buffer may lie above a narrow mask too.  A
 * benchmark parameter must not be able to provoke a kernel warning, so a
 * mask narrower than what the memory needs is refused there; through a
 * DMA or DMA-FQ domain any mask works (the IOVA allocator honours it).
 */
static int dmabench_check_mask(struct device *dev, u32 bits)
{
	u32 domain = dmabench_domain_type(dev);
	u64 required;

	if (!bits || domain == DMABENCH_DOMAIN_DMA ||
	    domain == DMABENCH_DOMAIN_DMA_FQ)
		return 0;
	required = dma_get_required_mask(dev);
	if (DMA_BIT_MASK(bits) >= required)
		return 0;
	return dmabench_bad("dma_mask_bits",
			    "%u bits cannot reach all memory (%u bits) without IOMMU translation",
			    bits, fls64(required));
}

static int dmabench_prepare(struct dmabench_run *run)
{
	const struct dmabench_params *p = &run->p;
	u32 i, largest = 0;
	int ret, node;

	for (i = 0; i < p->nr_sizes; i++) {
		largest = max(largest, p->sizes[i].bytes);
		run->weight_total += p->sizes[i].weight;
	}
	run->order = get_order(largest);
	run->entries = p->map_mode == DMABENCH_MAP_SG ? p->sg_entries : 1;
	run->dir = (enum dma_data_direction)p->dir;
	init_completion(&run->all_ready);
	init_completion(&run->go);
	init_completion(&run->all_done);
	atomic_set(&run->ready, p->threads);
	atomic_set(&run->running, p->threads);
	run->warmup_ns = DMABENCH_MAX_WARMUP_NS;
	if (p->duration_ns)
		run->warmup_ns = min(run->warmup_ns, p->duration_ns);

	for (i = 0; i < p->threads; i++) {
		struct dmabench_thread *t;

		if (p->node != DMABENCH_NODE_ANY)
			node = p->node;
		else if (p->cpus[i] != DMABENCH_CPU_ANY)
			node = cpu_to_node(p->cpus[i]);
		else
			node = dev_to_node(run->dev);

		t = kvzalloc_node(sizeof(*t), GFP_KERNEL, node);
		if (!t)
			return -ENOMEM;
		run->threads[i] = t;
		run->nr_threads = i + 1;
		t->run = run;
		t->id = i;
		t->cpu = p->cpus[i];
		t->node = node;
		t->started_cpu = -1;
		/* xorshift must not start at 0 */
		t->rng = (p->seed + i) * 0x9e3779b97f4a7c15ULL | 1;
		dmabench_hist_init(&t->hist[DMABENCH_OP_MAP]);
		dmabench_hist_init(&t->hist[DMABENCH_OP_UNMAP]);
		dmabench_hist_init(&t->hist[DMABENCH_OP_SYNC]);
		dmabench_hist_init(&t->hist[DMABENCH_OP_TIMER]);
		ret = dmabench_alloc_slots(run, t);
		if (ret) {
			pr_err("thread %u: cannot allocate %u x %u buffers of order %u on node %d\n",
			       i, p->batch, run->entries, run->order, node);
			return ret;
		}
	}
	return 0;
}

/* put back the masks dmabench_set_mask() found, if it changed them */
static void dmabench_restore_mask(struct dmabench_run *run)
{
	struct device *dev = run->dev;
	int ret;

	if (!run->mask_saved)
		return;
	run->mask_saved = false;
	ret = dma_set_mask(dev, run->saved_mask);
	if (!ret)
		ret = dma_set_coherent_mask(dev, run->saved_coherent_mask);
	if (ret)
		dev_warn(dev, "cannot restore the DMA masks %#llx/%#llx: %d\n",
			 run->saved_mask, run->saved_coherent_mask, ret);
}

/*
 * A mask asked for is the run's own: the device's masks are saved before
 * and restored when the run ends, however it ends, so that a later run
 * without a mask (and dmabench_check_mask() for it) finds the device as it
 * was.
 */
static int dmabench_set_mask(struct dmabench_run *run)
{
	u32 bits = run->p.dma_mask_bits;
	int ret;

	if (!bits)
		return 0;
	run->saved_mask = dma_get_mask(run->dev);
	run->saved_coherent_mask = run->dev->coherent_dma_mask;
	run->mask_saved = true;
	ret = dma_set_mask_and_coherent(run->dev, DMA_BIT_MASK(bits));
	if (ret) {
		pr_err("dma_mask_bits: device refuses a %u-bit mask: %d\n",
		       bits, ret);
		/* the streaming mask may be set already */
		dmabench_restore_mask(run);
	}
	return ret;
}

static int dmabench_run_threads(struct dmabench_run *run)
{
	bool interrupted = false;
	u64 end = 0;
	u32 i;

	for (i = 0; i < run->nr_threads; i++) {
		struct dmabench_thread *t = run->threads[i];
		struct task_struct *task;

		task = kthread_create_on_node(dmabench_thread_fn, t, t->node,
					      "dmabench/%u", i);
		if (IS_ERR(task)) {
			pr_err("thread %u: cannot create: %ld\n", i,
			       PTR_ERR(task));
			goto err_stop_created;
		}
		t->task = task;
		if (t->cpu != DMABENCH_CPU_ANY)
			kthread_bind(task, t->cpu);
		else if (run->p.node != DMABENCH_NODE_ANY &&
			 !cpumask_empty(cpumask_of_node(run->p.node)))
			set_cpus_allowed_ptr(task,
					     cpumask_of_node(run->p.node));
	}
	for (i = 0; i < run->nr_threads; i++)
		wake_up_process(run->threads[i]->task);

	if (wait_for_completion_interruptible(&run->all_ready)) {
		WRITE_ONCE(run->stop, true);
		interrupted = true;
		wait_for_completion(&run->all_ready);
	}
	run->start_ns = ktime_get_ns();
	complete_all(&run->go);
	if (!interrupted &&
	    wait_for_completion_interruptible(&run->all_done)) {
		WRITE_ONCE(run->stop, true);
		interrupted = true;
		wait_for_completion(&run->all_done);
	} else if (interrupted) {
		wait_for_completion(&run->all_done);
	}

	for (i = 0; i < run->nr_threads; i++) {
		struct dmabench_thread *t = run->threads[i];

		kthread_stop(t->task);
		t->task = NULL;
		end = max(end, t->end_ns);
	}
	run->wall_ns = end - run->start_ns;

	if (READ_ONCE(dmabench.unbinding))
		return -ENODEV;
	return interrupted ? -EINTR : 0;

err_stop_created:
	/* never woken: kthread_stop() makes them exit without running */
	for (i = 0; i < run->nr_threads; i++) {
		struct dmabench_thread *t = run->threads[i];

		if (t->task)
			kthread_stop(t->task);
		t->task = NULL;
	}
	return -ENOMEM;
}

static int dmabench_ioc_run(void __user *uarg)
{
	struct dmabench_run *run;
	u64 errors = 0;
	u32 i;
	int ret;

	if (!dmabench.pdev || READ_ONCE(dmabench.unbinding)) {
		pr_info("run: no device bound\n");
		return -ENODEV;
	}
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	if (copy_from_user(&run->p, uarg, sizeof(run->p))) {
		ret = -EFAULT;
		goto err_free_run;
	}
	run->dev = &dmabench.pdev->dev;
	ret = dmabench_check_params(&run->p);
	if (!ret)
		ret = dmabench_check_mask(run->dev, run->p.dma_mask_bits);
	if (ret)
		goto err_free_run;

	/* the previous results go once a new run is accepted */
	dmabench_free_run(dmabench.last);
	dmabench.last = NULL;

	ret = dmabench_prepare(run);
	if (ret)
		goto err_free_run;
	ret = dmabench_set_mask(run);
	if (ret)
		goto err_free_run;
	ret = dmabench_run_threads(run);
	dmabench_restore_mask(run);
	if (ret)
		goto err_free_run;

	for (i = 0; i < run->nr_threads; i++) {
		dmabench_free_slots(run, run->threads[i]);
		errors += run->threads[i]->errors;
	}
	dev_info_ratelimited(run->dev,
			     "run done: %u threads, %llu ns, %llu errors\n",
			     run->nr_threads, run->wall_ns, errors);
	dmabench.last = run;
	return 0;

err_free_run:
	dmabench_free_run(run);
	return ret;
}

static int dmabench_ioc_info(void __user *uarg)
{
	struct dmabench_run *run = dmabench.last;
	struct dmabench_info info;
	struct device *dev;
	u32 i, size, version;

	if (get_user(size, (u32 __user *)uarg) ||
	    get_user(version, (u32 __user *)uarg + 1))
		return -EFAULT;
	if (size != sizeof(info))
		return dmabench_bad("info.size", "%u, expected %zu", size,
				    sizeof(info));
	if (version != DMABENCH_ABI_VERSION)
		return dmabench_bad("info.version", "%u, this module speaks %u",
				    version, DMABENCH_ABI_VERSION);

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.version = DMABENCH_ABI_VERSION;
	info.node = NUMA_NO_NODE;
	info.nr_buckets = IBH_NR_BUCKETS;
	info.sub_bits = IBH_SUB_BITS;
	info.max_threads = DMABENCH_MAX_THREADS;
	if (dmabench.pdev) {
		dev = &dmabench.pdev->dev;
		info.bound = 1;
		info.domain = dmabench_domain_type(dev);
		strscpy(info.bdf, pci_name(dmabench.pdev), sizeof(info.bdf));
		info.node = dev_to_node(dev);
		info.dma_mask_bits = fls64(dma_get_mask(dev));
	}
	if (run) {
		info.state = DMABENCH_STATE_DONE;
		info.threads = run->nr_threads;
		info.flags = run->p.flags;
		info.wall_ns = run->wall_ns;
		for (i = 0; i < run->nr_threads; i++)
			info.errors += run->threads[i]->errors;
	}
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static void dmabench_fill_hist(struct dmabench_result *res,
			       const struct dmabench_hist *h)
{
	res->count = h->count;
	res->min_ns = h->count ? h->min : 0;
	res->max_ns = h->max;
	res->sum_ns = h->sum;
	res->sum_sq_lo = h->sum_sq_lo;
	res->sum_sq_hi = h->sum_sq_hi;
	res->nr_buckets = IBH_NR_BUCKETS;
	memcpy(res->buckets, h->buckets, sizeof(res->buckets));
}

static int dmabench_ioc_result(void __user *uarg)
{
	struct dmabench_run *run = dmabench.last;
	struct dmabench_result *res;
	struct dmabench_hist *merged;
	u32 i;
	int ret;

	res = kvzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return -ENOMEM;
	if (copy_from_user(res, uarg, offsetof(struct dmabench_result, cpu))) {
		ret = -EFAULT;
		goto out_free_res;
	}
	if (res->size != sizeof(*res)) {
		ret = dmabench_bad("result.size", "%u, expected %zu",
				   res->size, sizeof(*res));
		goto out_free_res;
	}
	if (res->version != DMABENCH_ABI_VERSION) {
		ret = dmabench_bad("result.version",
				   "%u, this module speaks %u", res->version,
				   DMABENCH_ABI_VERSION);
		goto out_free_res;
	}
	if (res->op >= DMABENCH_NR_OPS) {
		ret = dmabench_bad("result.op", "%u not below %u", res->op,
				   DMABENCH_NR_OPS);
		goto out_free_res;
	}
	if (!run) {
		pr_info("result: no results, run the benchmark first\n");
		ret = -ENODATA;
		goto out_free_res;
	}
	if (res->thread != DMABENCH_THREAD_ALL &&
	    res->thread >= run->nr_threads) {
		ret = dmabench_bad("result.thread", "%u, the run had %u threads",
				   res->thread, run->nr_threads);
		goto out_free_res;
	}

	if (res->thread != DMABENCH_THREAD_ALL) {
		struct dmabench_thread *t = run->threads[res->thread];

		res->cpu = t->started_cpu;
		res->node = t->node;
		res->elapsed_ns = t->elapsed_ns;
		res->bytes = t->bytes;
		res->errors = t->errors;
		dmabench_fill_hist(res, &t->hist[res->op]);
	} else {
		merged = kvmalloc(sizeof(*merged), GFP_KERNEL);
		if (!merged) {
			ret = -ENOMEM;
			goto out_free_res;
		}
		dmabench_hist_init(merged);
		res->cpu = -1;
		res->node = NUMA_NO_NODE;
		res->elapsed_ns = run->wall_ns;
		for (i = 0; i < run->nr_threads; i++) {
			struct dmabench_thread *t = run->threads[i];

			res->bytes += t->bytes;
			res->errors += t->errors;
			dmabench_hist_merge(merged, &t->hist[res->op]);
		}
		dmabench_fill_hist(res, merged);
		kvfree(merged);
	}
	ret = copy_to_user(uarg, res, sizeof(*res)) ? -EFAULT : 0;

out_free_res:
	kvfree(res);
	return ret;
}

static long dmabench_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	long ret;

	if (mutex_lock_interruptible(&dmabench.lock))
		return -ERESTARTSYS;
	switch (cmd) {
	case DMABENCH_IOC_INFO:
		ret = dmabench_ioc_info(uarg);
		break;
	case DMABENCH_IOC_RUN:
		ret = dmabench_ioc_run(uarg);
		break;
	case DMABENCH_IOC_RESULT:
		ret = dmabench_ioc_result(uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	mutex_unlock(&dmabench.lock);
	return ret;
}

static const struct file_operations dmabench_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dmabench_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice dmabench_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DMABENCH_DEV_NAME,
	.fops = &dmabench_fops,
	.mode = 0600,
};

static const char *const dmabench_domain_names[] = {
	[DMABENCH_DOMAIN_NONE] = "none",
	[DMABENCH_DOMAIN_DMA] = "DMA",
	[DMABENCH_DOMAIN_DMA_FQ] = "DMA-FQ",
	[DMABENCH_DOMAIN_IDENTITY] = "identity",
	[DMABENCH_DOMAIN_OTHER] = "other",
};

static int dmabench_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret = 0;

	if (pci_is_bridge(pdev)) {
		dev_err(&pdev->dev, "refusing to bind to a bridge\n");
		return -ENODEV;
	}
	mutex_lock(&dmabench.lock);
	if (dmabench.pdev) {
		dev_err(&pdev->dev, "already bound to %s, unbind it first\n",
			pci_name(dmabench.pdev));
		ret = -EBUSY;
		goto out_unlock;
	}
	dmabench.pdev = pci_dev_get(pdev);
	/* scatterlist entries up to DMABENCH_MAX_BUF_BYTES, unsplit */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	WRITE_ONCE(dmabench.unbinding, false);
	dmabench_free_run(dmabench.last);
	dmabench.last = NULL;
	dev_info(&pdev->dev, "bound, IOMMU domain %s\n",
		 dmabench_domain_names[dmabench_domain_type(&pdev->dev)]);

out_unlock:
	mutex_unlock(&dmabench.lock);
	return ret;
}

static void dmabench_remove(struct pci_dev *pdev)
{
	/* make a running benchmark stop, then wait for its ioctl to end */
	WRITE_ONCE(dmabench.unbinding, true);
	mutex_lock(&dmabench.lock);
	dmabench_free_run(dmabench.last);
	dmabench.last = NULL;
	dmabench.pdev = NULL;
	pci_dev_put(pdev);
	mutex_unlock(&dmabench.lock);
	dev_info(&pdev->dev, "unbound\n");
}

/* no id_table: the driver binds only where driver_override names it */
static struct pci_driver dmabench_driver = {
	.name = DMABENCH_DRV_NAME,
	.probe = dmabench_probe,
	.remove = dmabench_remove,
};

static int __init dmabench_init(void)
{
	int ret;

	BUILD_BUG_ON(BIT(IBH_SUB_BITS) != IBH_SUB_COUNT);
	BUILD_BUG_ON(sizeof(struct dmabench_params) != 536);
	BUILD_BUG_ON(sizeof(struct dmabench_info) != 160);
	BUILD_BUG_ON(sizeof(struct dmabench_result) != 9896);
	BUILD_BUG_ON(DMABENCH_DIR_TO_DEVICE != DMA_TO_DEVICE);
	BUILD_BUG_ON(DMABENCH_DIR_FROM_DEVICE != DMA_FROM_DEVICE);
	BUILD_BUG_ON(DMABENCH_DIR_BIDIRECTIONAL != DMA_BIDIRECTIONAL);

	ret = misc_register(&dmabench_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", DMABENCH_DEV_NAME, ret);
		return ret;
	}
	ret = pci_register_driver(&dmabench_driver);
	if (ret) {
		pr_err("cannot register the PCI driver: %d\n", ret);
		goto err_misc_deregister;
	}
	return 0;

err_misc_deregister:
	misc_deregister(&dmabench_misc);
	return ret;
}

static void __exit dmabench_exit(void)
{
	pci_unregister_driver(&dmabench_driver);
	misc_deregister(&dmabench_misc);
	dmabench_free_run(dmabench.last);
}

module_init(dmabench_init);
module_exit(dmabench_exit);

MODULE_DESCRIPTION("Streaming DMA API (map/unmap/sync) latency benchmark");
MODULE_LICENSE("GPL");

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
 *
 * The stale-DMA probe (DMABENCH_IOC_STALE) needs a device with a DMA engine:
 * QEMU's edu.  Each trial enables the device, maps a page of the module's
 * own, has the device read it (the vIOMMU caches the translation), issues a
 * write of a fresh pattern into it, unmaps it just before the write is due,
 * and reads the page once the write has run.  Whether the IOMMU refused the
 * write is taken from the IOMMU drivers' fault reports, watched while the
 * trial runs (see stale_sources_init()).  The page is freed only after the
 * device's last command has run, whatever ends the trial.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acpi.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/topology.h>
#include <linux/uaccess.h>
#include <trace/events/iommu.h>

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

/* --- the stale-DMA probe on QEMU's edu device ----------------------------- */

/* edu's registers and commands (QEMU hw/misc/edu.c) */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_MEM		0x2	/* from the device's buffer to memory */
#define EDU_DMA_IRQ		0x4	/* raise an interrupt when done */
#define EDU_IRQ_DMA		0x100
#define EDU_BUF			0x40000	/* the device's buffer, in its own space */
#define EDU_DMA_BITS		28

/*
 * A command runs 100 ms after it is written; under TCG a loaded host can
 * stretch that, and without icount the guest's clock follows the host's.
 */
#define STALE_DMA_TIMEOUT_MS	5000
/* a command that has run raises its interrupt at once: allow this much */
#define STALE_IRQ_GRACE_MS	100
/*
 * QEMU runs a command at the millisecond tick of its virtual clock 100 ms
 * after the one the command was written in (a millisecond timer).  The
 * ticks are found by watching the priming command end (stale_calibrate());
 * two register reads further apart than this (a descheduled vCPU) make the
 * calibration void, and the trial falls back to the earliest possible time.
 */
#define EDU_TICK_NS		NSEC_PER_MSEC
#define EDU_PERIOD_NS		(100 * NSEC_PER_MSEC)
#define STALE_GRID_SLACK_NS	(20 * NSEC_PER_USEC)
/* the unmap starts this much earlier than lead_ns asks: its own duration */
#define STALE_GUARD_NS		(50 * NSEC_PER_USEC)
/*
 * The write is issued at a random point of this span after the priming
 * read: a tick of the kernel (HZ >= 100) or more, so that the unmap falls
 * at any phase of the timer that flushes lazy mode's queue.  With icount
 * guest time is exact, and without it the phase would follow from the
 * delay: P(landed) would be 0 or 1 per delay, a step at a phase, not the
 * distribution of the exposure window.
 */
#define STALE_JITTER_NS		(10 * NSEC_PER_MSEC)
/*
 * After the write: time for the IOMMU's fault report to reach its driver
 * (a threaded interrupt on AMD) before the watch ends.
 */
#define STALE_SETTLE_MS		10

/*
 * Fault reports, watched during a trial.  The sources are registered at the
 * first trial (stale_sources_init()) and stay until the module goes:
 *  - the iommu:io_page_fault tracepoint (report_iommu_fault()), which names
 *    the device and the IOVA;
 *  - VT-d: a kprobe on the fault interrupt handler dmar_fault() reads the
 *    fault recording registers (requester id, page, reason) before the
 *    handler clears them; the registers are found through the ACPI DMAR
 *    table, not through the driver's structures;
 *  - AMD and virtio-iommu: kprobes on their fault interrupt paths count
 *    calls; what they report is not readable from outside, so a call is
 *    attributed to the trial only because its DMA was the only one the
 *    module had in flight.
 */
static struct {
	raw_spinlock_t lock;
	bool armed;
	struct device *dev;
	u16 rid;		/* requester id: bus << 8 | devfn */
	u64 page;		/* the buffer's IOVA, page aligned */
	u32 faults;
	u32 fault_irqs;
	u32 reason;
	u32 sources;		/* DMABENCH_FAULT_* registered */
	bool tried;
} stale_watch = {
	.lock = __RAW_SPIN_LOCK_UNLOCKED(stale_watch.lock),
};

/* under stale_watch.lock */
static void stale_fault(u32 reason)
{
	if (!stale_watch.faults++)
		stale_watch.reason = reason;
}

#ifdef CONFIG_IOMMU_API
static void stale_io_page_fault(void *data, struct device *dev,
				unsigned long iova, int flags)
{
	unsigned long irqflags;

	raw_spin_lock_irqsave(&stale_watch.lock, irqflags);
	if (stale_watch.armed && dev == stale_watch.dev &&
	    (iova & PAGE_MASK) == stale_watch.page)
		stale_fault(flags);
	raw_spin_unlock_irqrestore(&stale_watch.lock, irqflags);
}
#endif

#ifdef CONFIG_KPROBES
/* VT-d registers (VT-d specification, chapter 11) */
#define VTD_CAP_REG		0x08
#define VTD_FSTS_REG		0x34
#define VTD_FSTS_PPF		BIT(1)	/* primary pending fault */
#define VTD_MAX_UNITS		8

static struct {
	void __iomem *reg[VTD_MAX_UNITS];
	unsigned int n;
	struct kprobe kp;
	bool registered;
} stale_vtd;

/* where a unit's fault recording registers are, if within its first page */
static bool stale_vtd_frcd(void __iomem *reg, u32 *off, u32 *nr)
{
	u64 cap = readq(reg + VTD_CAP_REG);

	*off = ((cap >> 24) & 0x3ff) * 16;	/* FRO, in 16-byte units */
	*nr = ((cap >> 40) & 0xff) + 1;		/* NFR, minus one */
	return *off + *nr * 16 <= PAGE_SIZE;
}

/* under stale_watch.lock: the recorded faults that name the trial's page */
static void stale_vtd_scan(void __iomem *reg)
{
	u32 off, nr, i;

	if (!(readl(reg + VTD_FSTS_REG) & VTD_FSTS_PPF) ||
	    !stale_vtd_frcd(reg, &off, &nr))
		return;
	for (i = 0; i < nr; i++) {
		u64 lo = readq(reg + off + i * 16);
		u64 hi = readq(reg + off + i * 16 + 8);

		/* F (bit 127), SID (bits 79:64), FR (bits 103:96), FI (63:12) */
		if ((hi & BIT_ULL(63)) && (u16)hi == stale_watch.rid &&
		    (lo & PAGE_MASK) == stale_watch.page)
			stale_fault((hi >> 32) & 0xff);
	}
}

static int stale_vtd_pre(struct kprobe *kp, struct pt_regs *regs)
{
	unsigned long flags;
	unsigned int i;

	raw_spin_lock_irqsave(&stale_watch.lock, flags);
	if (stale_watch.armed)
		for (i = 0; i < stale_vtd.n; i++)
			stale_vtd_scan(stale_vtd.reg[i]);
	raw_spin_unlock_irqrestore(&stale_watch.lock, flags);
	return 0;
}

static void stale_vtd_unmap(void)
{
	while (stale_vtd.n)
		iounmap(stale_vtd.reg[--stale_vtd.n]);
}

/* map the register page of every VT-d unit the ACPI DMAR table lists */
static int stale_vtd_map(void)
{
#ifdef CONFIG_ACPI
	struct acpi_table_header *tbl;
	struct acpi_dmar_header *e;
	void *end;
	u32 off, nr;

	if (ACPI_FAILURE(acpi_get_table(ACPI_SIG_DMAR, 0, &tbl)))
		return -ENODEV;
	end = (void *)tbl + tbl->length;
	for (e = (void *)tbl + sizeof(struct acpi_table_dmar);
	     (void *)(e + 1) <= end && e->length >= sizeof(*e) &&
	     (void *)e + e->length <= end;
	     e = (void *)e + e->length) {
		struct acpi_dmar_hardware_unit *u = (void *)e;
		void __iomem *reg;

		if (e->type != ACPI_DMAR_TYPE_HARDWARE_UNIT ||
		    e->length < sizeof(*u) || stale_vtd.n == VTD_MAX_UNITS)
			continue;
		reg = ioremap(u->address, PAGE_SIZE);
		if (!reg)
			continue;
		if (!stale_vtd_frcd(reg, &off, &nr)) {
			pr_info("VT-d unit at %#llx: fault records beyond its first page, not watched\n",
				u->address);
			iounmap(reg);
			continue;
		}
		stale_vtd.reg[stale_vtd.n++] = reg;
	}
	acpi_put_table(tbl);
	return stale_vtd.n ? 0 : -ENODEV;
#else
	return -ENODEV;
#endif
}

static int stale_irq_pre(struct kprobe *kp, struct pt_regs *regs)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&stale_watch.lock, flags);
	if (stale_watch.armed)
		stale_watch.fault_irqs++;
	raw_spin_unlock_irqrestore(&stale_watch.lock, flags);
	return 0;
}

/*
 * Fault paths whose reports cannot be read from outside: AMD's interrupt
 * thread (its event log) and virtio-iommu's event queue callback (its
 * events are faults).  Missing symbols are skipped.
 */
static struct kprobe stale_irq_kps[] = {
	{ .symbol_name = "amd_iommu_int_thread", .pre_handler = stale_irq_pre },
	{ .symbol_name = "viommu_event_handler", .pre_handler = stale_irq_pre },
};
static bool stale_irq_registered[ARRAY_SIZE(stale_irq_kps)];
#endif /* CONFIG_KPROBES */

/* Register what can report faults; once, under dmabench.lock. */
static void stale_sources_init(void)
{
#ifdef CONFIG_KPROBES
	unsigned int i;
#endif

	if (stale_watch.tried)
		return;
	stale_watch.tried = true;
#ifdef CONFIG_IOMMU_API
	if (!register_trace_io_page_fault(stale_io_page_fault, NULL))
		stale_watch.sources |= DMABENCH_FAULT_TRACEPOINT;
#endif
#ifdef CONFIG_KPROBES
	if (!stale_vtd_map()) {
		stale_vtd.kp.symbol_name = "dmar_fault";
		stale_vtd.kp.pre_handler = stale_vtd_pre;
		if (!register_kprobe(&stale_vtd.kp)) {
			stale_vtd.registered = true;
			stale_watch.sources |= DMABENCH_FAULT_VTD;
		} else {
			stale_vtd_unmap();
		}
	}
	for (i = 0; i < ARRAY_SIZE(stale_irq_kps); i++) {
		if (register_kprobe(&stale_irq_kps[i]))
			continue;
		stale_irq_registered[i] = true;
		stale_watch.sources |= DMABENCH_FAULT_IRQ;
	}
#endif
	pr_info("stale-DMA probe: fault sources %#x\n", stale_watch.sources);
}

static void stale_sources_exit(void)
{
#ifdef CONFIG_KPROBES
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(stale_irq_kps); i++)
		if (stale_irq_registered[i])
			unregister_kprobe(&stale_irq_kps[i]);
	if (stale_vtd.registered)
		unregister_kprobe(&stale_vtd.kp);
	stale_vtd_unmap();
#endif
#ifdef CONFIG_IOMMU_API
	if (stale_watch.sources & DMABENCH_FAULT_TRACEPOINT) {
		unregister_trace_io_page_fault(stale_io_page_fault, NULL);
		tracepoint_synchronize_unregister();
	}
#endif
}

static void stale_watch_arm(struct pci_dev *pdev, u64 page)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&stale_watch.lock, flags);
	stale_watch.dev = &pdev->dev;
	stale_watch.rid = pci_dev_id(pdev);
	stale_watch.page = page;
	stale_watch.faults = 0;
	stale_watch.fault_irqs = 0;
	stale_watch.reason = 0;
	stale_watch.armed = true;
	raw_spin_unlock_irqrestore(&stale_watch.lock, flags);
}

static void stale_watch_disarm(struct dmabench_stale *st)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&stale_watch.lock, flags);
	stale_watch.armed = false;
	st->faults = stale_watch.faults;
	st->fault_irqs = stale_watch.fault_irqs;
	st->fault_reason = stale_watch.reason;
	raw_spin_unlock_irqrestore(&stale_watch.lock, flags);
}

/* one trial's device state */
struct stale_ctx {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct completion done;
	u64 done_ns;		/* when the last command's interrupt came */
	bool pending;		/* a command may still run */
};

static irqreturn_t stale_irq(int irq, void *data)
{
	struct stale_ctx *c = data;
	u64 now = ktime_get_ns();

	if (!(readl(c->bar + EDU_REG_IRQ_STATUS) & EDU_IRQ_DMA))
		return IRQ_NONE;
	writel(EDU_IRQ_DMA, c->bar + EDU_REG_IRQ_ACK);
	WRITE_ONCE(c->done_ns, now);
	complete(&c->done);
	return IRQ_HANDLED;
}

static bool edu_busy(struct stale_ctx *c)
{
	return readq(c->bar + EDU_REG_DMA_CMD) & EDU_DMA_RUN;
}

/* Write a command moving DMABENCH_STALE_BYTES; returns when it was written. */
static u64 edu_start(struct stale_ctx *c, u64 src, u64 dst, u64 cmd)
{
	reinit_completion(&c->done);
	WRITE_ONCE(c->done_ns, 0);
	writeq(src, c->bar + EDU_REG_DMA_SRC);
	writeq(dst, c->bar + EDU_REG_DMA_DST);
	writeq(DMABENCH_STALE_BYTES, c->bar + EDU_REG_DMA_CNT);
	c->pending = true;
	writeq(cmd | EDU_DMA_RUN | EDU_DMA_IRQ, c->bar + EDU_REG_DMA_CMD);
	return ktime_get_ns();
}

/*
 * Wait until the device's command has run.  With @intr a signal or an
 * unbind ends the wait (-EINTR, -ENODEV); the caller must then wait again
 * without @intr before the buffer may go.  -ETIMEDOUT: the device did not
 * finish, and c->pending stays set (the buffer must never be freed); -EIO:
 * it finished without its interrupt (no completion time).
 */
static int edu_wait(struct stale_ctx *c, bool intr)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(STALE_DMA_TIMEOUT_MS);
	unsigned long idle = 0;
	long left;

	while (c->pending) {
		left = intr ? wait_for_completion_interruptible_timeout(&c->done,
									 msecs_to_jiffies(10)) :
			      wait_for_completion_timeout(&c->done,
							  msecs_to_jiffies(10));
		if (left > 0) {
			c->pending = false;
			break;
		}
		if (intr && (left < 0 || signal_pending(current)))
			return -EINTR;
		if (intr && READ_ONCE(dmabench.unbinding))
			return -ENODEV;
		if (!edu_busy(c)) {
			if (!idle) {
				idle = jiffies;
			} else if (time_after(jiffies, idle +
					      msecs_to_jiffies(STALE_IRQ_GRACE_MS))) {
				c->pending = false;
				pci_err(c->pdev, "stale: DMA done without its interrupt\n");
				return -EIO;
			}
		}
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
	}
	return 0;
}

/* Sleep, then spin, until ktime_get_ns() reaches @t. */
static int stale_sleep_until(u64 t)
{
	u64 now;

	while ((now = ktime_get_ns()) < t) {
		if (signal_pending(current))
			return -EINTR;
		if (READ_ONCE(dmabench.unbinding))
			return -ENODEV;
		if (t - now > 100 * NSEC_PER_USEC) {
			ktime_t until = ns_to_ktime(t - 50 * NSEC_PER_USEC);

			set_current_state(TASK_INTERRUPTIBLE);
			schedule_hrtimeout_range(&until, 0, HRTIMER_MODE_ABS);
		} else {
			cpu_relax();
		}
	}
	return 0;
}

/*
 * Watch the command written at @issued end, spinning over its last
 * stretch: the end is one of QEMU's millisecond ticks, in our clock.
 * Returns 0 with *@tick set, -EAGAIN when it could not be seen sharply
 * enough, or -EINTR / -ENODEV.
 */
static int stale_calibrate(struct stale_ctx *c, u64 issued, u64 *tick)
{
	u64 end = issued + EDU_PERIOD_NS + 2 * EDU_TICK_NS, prev = 0, now;
	int ret;

	ret = stale_sleep_until(issued + DMABENCH_EDU_DELAY_NS -
				100 * NSEC_PER_USEC);
	if (ret)
		return ret;
	for (;;) {
		now = ktime_get_ns();
		if (!edu_busy(c))
			break;
		if (now > end)
			return -EAGAIN;
		prev = now;
	}
	/* it ended between the read that saw it busy and this one */
	if (!prev || now - prev > STALE_GRID_SLACK_NS)
		return -EAGAIN;
	*tick = now;
	return 0;
}

/* word @i of the pattern of seed @seed; the canary is its complement */
static u64 stale_word(u64 seed, u32 i)
{
	return seed ^ (i * 0x9e3779b97f4a7c15ULL);
}

/* The trial proper, on an enabled device and a page of ours. */
static int stale_probe(struct stale_ctx *c, struct page *page,
		       struct dmabench_stale *st)
{
	struct device *dev = &c->pdev->dev;
	const u32 n = DMABENCH_STALE_BYTES / sizeof(u64);
	u64 *buf = page_address(page), seed = get_random_u64();
	u64 issued, before, due, tick = 0, t0, t1;
	bool after;
	dma_addr_t addr;
	u32 i, match = 0;
	int ret, ret2;

	for (i = 0; i < n; i++)
		buf[i] = stale_word(seed, i);
	addr = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, addr))
		return -ENOMEM;
	st->iova = addr;
	st->domain = dmabench_domain_type(dev);

	/* the device reads the pattern: the IOMMU caches the translation */
	issued = edu_start(c, addr, EDU_BUF, 0);
	ret = stale_calibrate(c, issued, &tick);
	if (ret == -EAGAIN)
		tick = 0;
	else if (ret)
		goto err_unmap;
	ret = edu_wait(c, true);
	if (ret)
		goto err_unmap;

	/* the device holds the pattern; memory now holds the canary */
	dma_sync_single_for_cpu(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	for (i = 0; i < n; i++)
		buf[i] = ~stale_word(seed, i);
	dma_sync_single_for_device(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	ret = stale_sleep_until(ktime_get_ns() +
				get_random_u64() % STALE_JITTER_NS);
	if (ret)
		goto err_unmap;

	stale_watch_arm(c->pdev, addr & PAGE_MASK);
	before = ktime_get_ns();
	issued = edu_start(c, EDU_BUF, addr, EDU_DMA_TO_MEM);
	/*
	 * Due 100 ms after the tick the command was written in; the time read
	 * before the write errs on the early side.  Without a tick: the
	 * earliest it can run.
	 */
	if (tick)
		due = tick + (before - tick) / EDU_TICK_NS * EDU_TICK_NS +
		      EDU_PERIOD_NS;
	else
		due = issued + DMABENCH_EDU_DELAY_NS;
	ret = stale_sleep_until(due - st->lead_ns - STALE_GUARD_NS);
	t0 = ktime_get_ns();
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	t1 = ktime_get_ns();
	/* still pending after the unmap returned: the write comes after it */
	after = edu_busy(c);
	if (!ret)
		ret = edu_wait(c, true);
	if (ret) {
		/* stopped early: the write may still come, into our page */
		ret2 = edu_wait(c, false);
		stale_watch_disarm(st);
		return ret2 ? ret2 : ret;
	}
	msleep(STALE_SETTLE_MS);
	stale_watch_disarm(st);

	for (i = 0; i < n; i++)
		match += buf[i] == stale_word(seed, i);
	st->landed_bytes = match * sizeof(u64);
	st->unmap_ns = t1 - t0;
	if (!after || c->done_ns < t1)
		st->outcome = DMABENCH_STALE_LATE;
	else if (match == n)
		st->outcome = DMABENCH_STALE_LANDED;
	else if (match)
		st->outcome = DMABENCH_STALE_PARTIAL;
	else if (st->faults || st->fault_irqs)
		st->outcome = DMABENCH_STALE_FAULTED;
	else
		st->outcome = DMABENCH_STALE_NEITHER;
	st->gap_ns = st->outcome == DMABENCH_STALE_LATE ? 0 : c->done_ns - t1;
	return 0;

err_unmap:
	/* the device may still be reading: let it finish first */
	ret2 = edu_wait(c, false);
	dma_unmap_page(dev, addr, PAGE_SIZE, DMA_BIDIRECTIONAL);
	return ret2 ? ret2 : ret;
}

/* Enable edu for one trial, run it, and put everything back. */
static int stale_trial(struct pci_dev *pdev, struct dmabench_stale *st)
{
	struct device *dev = &pdev->dev;
	struct stale_ctx c = { .pdev = pdev };
	u64 mask = dma_get_mask(dev), cmask = dev->coherent_dma_mask;
	struct page *page;
	int ret, irq;

	init_completion(&c.done);
	ret = pci_enable_device_mem(pdev);
	if (ret) {
		pci_err(pdev, "stale: cannot enable the device: %d\n", ret);
		return ret;
	}
	ret = pci_request_region(pdev, 0, DMABENCH_DRV_NAME);
	if (ret)
		goto err_disable;
	c.bar = pci_iomap(pdev, 0, 0);
	if (!c.bar) {
		ret = -ENOMEM;
		goto err_release;
	}
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		goto err_iounmap;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI);
	if (ret < 0)
		goto err_mask;
	irq = pci_irq_vector(pdev, 0);
	ret = request_irq(irq, stale_irq, 0, "dmabench-edu", &c);
	if (ret)
		goto err_vectors;
	/* ZONE_DMA (below 16 MiB): in reach of the 28-bit device untranslated */
	page = alloc_page(GFP_KERNEL | GFP_DMA);
	if (!page) {
		ret = -ENOMEM;
		goto err_irq;
	}
	pci_set_master(pdev);
	ret = stale_probe(&c, page, st);
	/* a command that never ran can no longer reach memory */
	pci_clear_master(pdev);
	if (c.pending)
		pci_err(pdev, "stale: the device did not finish its DMA within %d ms: its buffer stays allocated\n",
			STALE_DMA_TIMEOUT_MS);
	else
		__free_page(page);
err_irq:
	free_irq(irq, &c);
err_vectors:
	pci_free_irq_vectors(pdev);
err_mask:
	if (dma_set_mask(dev, mask) || dma_set_coherent_mask(dev, cmask))
		pci_warn(pdev, "stale: cannot restore the DMA masks %#llx/%#llx\n",
			 mask, cmask);
err_iounmap:
	pci_iounmap(pdev, c.bar);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static int dmabench_check_stale(const struct dmabench_stale *st)
{
	u32 i;

	if (st->size != sizeof(*st))
		return dmabench_bad("stale.size", "%u, expected %zu", st->size,
				    sizeof(*st));
	if (st->version != DMABENCH_ABI_VERSION)
		return dmabench_bad("stale.version", "%u, this module speaks %u",
				    st->version, DMABENCH_ABI_VERSION);
	if (st->lead_ns > DMABENCH_STALE_MAX_LEAD_NS)
		return dmabench_bad("stale.lead_ns", "%llu above %llu",
				    st->lead_ns, DMABENCH_STALE_MAX_LEAD_NS);
	if (st->flags)
		return dmabench_bad("stale.flags", "%#x, must be zero",
				    st->flags);
	for (i = 0; i < ARRAY_SIZE(st->reserved); i++)
		if (st->reserved[i])
			return dmabench_bad("stale.reserved", "[%u] must be zero",
					    i);
	return 0;
}

static int dmabench_ioc_stale(void __user *uarg)
{
	struct pci_dev *pdev = dmabench.pdev;
	struct dmabench_stale st;
	u64 lead_ns;
	int ret;

	if (!pdev || READ_ONCE(dmabench.unbinding)) {
		pr_info_ratelimited("stale: no device bound\n");
		return -ENODEV;
	}
	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	ret = dmabench_check_stale(&st);
	if (ret)
		return ret;
	if (pdev->vendor != DMABENCH_EDU_VENDOR ||
	    pdev->device != DMABENCH_EDU_DEVICE) {
		pr_info_ratelimited("stale: %s is %04x:%04x, the probe needs QEMU's edu device (%04x:%04x)\n",
				    pci_name(pdev), pdev->vendor, pdev->device,
				    DMABENCH_EDU_VENDOR, DMABENCH_EDU_DEVICE);
		return -EOPNOTSUPP;
	}
	stale_sources_init();
	lead_ns = st.lead_ns;
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.version = DMABENCH_ABI_VERSION;
	st.lead_ns = lead_ns;
	st.fault_sources = stale_watch.sources;
	ret = stale_trial(pdev, &st);
	if (ret)
		return ret;
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
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
	case DMABENCH_IOC_STALE:
		ret = dmabench_ioc_stale(uarg);
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
	BUILD_BUG_ON(sizeof(struct dmabench_stale) != 136);
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
	stale_sources_exit();
	dmabench_free_run(dmabench.last);
}

module_init(dmabench_init);
module_exit(dmabench_exit);

MODULE_DESCRIPTION("Streaming DMA API (map/unmap/sync) latency benchmark");
MODULE_LICENSE("GPL");

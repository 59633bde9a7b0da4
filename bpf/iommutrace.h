/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommutrace.h - types shared by iommutrace.bpf.c and iommutrace.c
 *
 * Included by the BPF program after vmlinux.h and by user space after
 * <linux/types.h>; fixed-width types only, no pointers.
 */
#ifndef IOMMUTRACE_H
#define IOMMUTRACE_H

#include <iommubench/hist-bucket.h>

/*
 * Probed kernel functions.  Each has its own fentry/fexit and
 * kprobe/kretprobe programs; user space picks one pair or none.  The
 * order is the order of the report and of the attach table in
 * iommutrace.c (it_fns[]).
 */
enum it_fn {
	IT_FN_DMA_UNMAP,	/* __iommu_dma_unmap(dev, addr, size) */
	IT_FN_DMA_MAP_PAGE,	/* iommu_dma_map_page(dev, page, ...) */
	IT_FN_DMA_MAP_SG,	/* iommu_dma_map_sg(dev, sg, ...) */
	IT_FN_UNMAP_FAST,	/* iommu_unmap_fast(domain, iova, size, gather) */
	IT_FN_IOMMU_UNMAP,	/* __iommu_unmap(domain, iova, size, gather) */
	IT_FN_SYNC_INTEL,	/* ops->iotlb_sync(domain, gather) */
	IT_FN_SYNC_AMD,
	IT_FN_SYNC_ARM,
	IT_FN_SYNC_VIRTIO,
	IT_FN_FLUSH_INTEL,	/* ops->flush_iotlb_all(domain) */
	IT_FN_FLUSH_AMD,
	IT_FN_FLUSH_ARM,
	IT_FN_FLUSH_VIRTIO,
	IT_FN_FQ_FLUSH,		/* fq_flush_iotlb(cookie) */
	IT_FN_FQ_TIMEOUT,	/* fq_flush_timeout(timer) */
	IT_FN_IOVA_ALLOC,	/* alloc_iova_fast(iovad, ...) */
	IT_FN_IOVA_FREE,	/* free_iova_fast(iovad, ...) */
	IT_FN_QI_SUBMIT,	/* qi_submit_sync(iommu, desc, count, options) */
	IT_NR_FN,
};

/* devices with their own histograms; later ones share the last slot */
#define IT_MAX_DEV		8
/* device name length kept (PCI BDFs are 12 characters) */
#define IT_DEV_NAME_LEN		32
/* nesting of one function on one task (task, softirq, hardirq); power of 2 */
#define IT_DEPTH		4

/*
 * Histogram slots of the per-CPU "hists" map: one per function, one per
 * (device, device-carrying function), one for the strict exposure window.
 */
#define IT_NR_DEV_FN		3	/* DMA_UNMAP, DMA_MAP_PAGE, DMA_MAP_SG */
#define IT_HIST_FN(fn)		(fn)
#define IT_HIST_DEV(dev, fn)	(IT_NR_FN + (dev) * IT_NR_DEV_FN + (fn))
#define IT_HIST_EXPOSURE_SYNC	(IT_NR_FN + IT_MAX_DEV * IT_NR_DEV_FN)
#define IT_NR_HIST		(IT_HIST_EXPOSURE_SYNC + 1)

/*
 * struct it_hist - one latency histogram as the BPF side keeps it (per CPU)
 *
 * Fields are updated with atomic adds, except min and max, which a
 * concurrent update on the same CPU (an interrupt) can leave slightly off;
 * user space clamps them to the buckets before hist_load().
 */
struct it_hist {
	__u64 count;
	__u64 min_plus1;	/* smallest value + 1; 0 while empty */
	__u64 max;
	__u64 sum;
	__u64 sum_sq_lo;
	__u64 sum_sq_hi;
	__u64 buckets[IBH_NR_BUCKETS];
};

/* Counters of the per-CPU "stats" map. */
enum it_stat {
	IT_STAT_FQ_FLUSH_TIMER,		/* fq_flush_iotlb() under fq_flush_timeout() */
	IT_STAT_FQ_FLUSH_FULL,		/* ... from queue_iova(): a queue was full */
	IT_STAT_UNMAP_QUEUED,		/* DMA unmaps left to the flush queue */
	IT_STAT_UNMAP_SYNCED,		/* DMA unmaps followed by an iotlb_sync */
	IT_STAT_UNMAP_UNCOVERED,	/* strict unmaps with no sync seen */
	IT_STAT_RB_LOST,		/* ring buffer full: event dropped */
	IT_STAT_NO_STATE,		/* per-task state map full */
	IT_STAT_TOO_DEEP,		/* nesting deeper than IT_DEPTH */
	IT_STAT_FILTERED,		/* events left out by --device */
	IT_NR_STAT,
};

/* per-device counters: calls per function */
struct it_dev_counts {
	__u64 calls[IT_NR_FN];
};

/* value of the "devices" map, keyed by struct device pointer */
struct it_devinfo {
	__u32 idx;		/* histogram slot, < IT_MAX_DEV */
	__u32 match;		/* passes the --device filter */
	__u64 domain;		/* dev->iommu_group->default_domain when seen */
	char name[IT_DEV_NAME_LEN];
};

enum it_event_type {
	IT_EV_UNMAP = 1,	/* a queued (lazy) unmap cleared the page table */
	IT_EV_FLUSH = 2,	/* a flush-queue flush of a whole domain */
};

/*
 * struct it_event - ring buffer record for the lazy exposure window
 * @type: enum it_event_type
 * @dev: device slot (IT_MAX_DEV: none)
 * @ts_ns: UNMAP: when iommu_unmap_fast() returned; FLUSH: entry of
 *	fq_flush_iotlb()
 * @end_ns: FLUSH: return of fq_flush_iotlb(); UNMAP: 0
 * @domain: struct iommu_domain pointer, only compared for equality
 * @iova: UNMAP: IOVA unmapped; FLUSH: 1 if timer-driven
 * @size: UNMAP: bytes unmapped
 */
struct it_event {
	__u32 type;
	__u32 dev;
	__u64 ts_ns;
	__u64 end_ns;
	__u64 domain;
	__u64 iova;
	__u64 size;
};

#endif /* IOMMUTRACE_H */

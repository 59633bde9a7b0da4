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

/* paths, probed functions and their roles: the one table */
#include "iommutrace-probes.h"

/* devices with their own histograms; later ones share the last slot */
#define IT_MAX_DEV		8
/* device name length kept (PCI BDFs are 12 characters) */
#define IT_DEV_NAME_LEN		32
/* nesting of one function on one task (task, softirq, hardirq); power of 2 */
#define IT_DEPTH		4

/*
 * Histogram slots of the per-CPU "hists" map: one per function, one per
 * (device, device-carrying function: enum it_devfn), one for the strict
 * exposure window.
 */
#define IT_HIST_FN(fn)		(fn)
#define IT_HIST_DEV(dev, dfn)	(IT_NR_FN + (dev) * IT_NR_DEV_FN + (dfn))
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
	IT_STAT_FQ_FLUSH_TIMER,		/* a flush-queue flush under fq_flush_timeout() */
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
 * @ts_ns: UNMAP: when iommu_unmap_fast() returned; FLUSH: entry of the
 *	fq_flush path's function (fq_flush_iotlb() or its fallback)
 * @end_ns: FLUSH: its return; UNMAP: 0
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

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dmabench.h - user-space ABI of the dmabench module (/dev/dmabench)
 *
 * The module binds (through driver_override only) to one PCI device and
 * measures the cost of the streaming DMA API on it: dma_map_*(),
 * dma_unmap_*() and dma_sync_*(), under whatever IOMMU policy the device's
 * group has (strict, lazy, identity, none).
 *
 * Protocol: DMABENCH_IOC_INFO describes the module, the bound device and the
 * last run.  DMABENCH_IOC_RUN validates a struct dmabench_params (every field,
 * -EINVAL and a kernel log line naming the field on the first bad one), runs
 * the benchmark to completion and keeps the results.  DMABENCH_IOC_RESULT
 * then copies out one histogram at a time: one operation of one thread, or of
 * all threads merged.  Ioctls are serialized: an ioctl issued during a run
 * waits for it.  A signal to the running process stops the run (-EINTR, no
 * results); unbinding the device stops it too (-ENODEV).
 *
 * DMABENCH_IOC_STALE runs one trial of the stale-DMA probe on QEMU's edu
 * device (struct dmabench_stale): can the device still write into a buffer
 * after dma_unmap_page() returned?  It is refused (-EOPNOTSUPP) on any other
 * device.  A signal or an unbind ends the trial (-EINTR, -ENODEV) once the
 * device's pending DMA has run: the buffer it targets is the module's own
 * and is freed only then.
 *
 * ABI evolution: every struct starts with its size and the ABI version the
 * caller was built for; the module refuses what it does not know (-EINVAL)
 * and reserved fields must be zero on input.  Fields are fixed width with
 * explicit padding, so the layout is the same for 32- and 64-bit callers.
 *
 * Histograms use the bucket layout of <iommubench/hist-bucket.h>.
 */
#ifndef _IOMMUBENCH_DMABENCH_H
#define _IOMMUBENCH_DMABENCH_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#include "hist-bucket.h"

#define DMABENCH_ABI_VERSION		1
#define DMABENCH_DEV_NAME		"dmabench"
#define DMABENCH_DRV_NAME		"dmabench"

/* Limits; the module refuses values outside them. */
#define DMABENCH_MAX_THREADS		64
#define DMABENCH_MAX_DURATION_NS	(3600ULL * 1000000000ULL)
#define DMABENCH_MAX_OPS		_BITULL(40)	/* per thread */
#define DMABENCH_MAX_WARMUP_OPS		10000000ULL	/* per thread */
/* warm-up time per thread, and never longer than duration_ns when set */
#define DMABENCH_MAX_WARMUP_NS		1000000000ULL	/* 1 s */
#define DMABENCH_MIN_MASK_BITS		20
#define DMABENCH_MAX_MASK_BITS		64
#define DMABENCH_MAX_SG_ENTRIES		128
#define DMABENCH_MAX_SIZES		8
#define DMABENCH_MAX_BUF_BYTES		(4U << 20)	/* per buffer */
#define DMABENCH_MAX_WEIGHT		1000000
#define DMABENCH_MAX_DEVICE_NS		10000000ULL	/* 10 ms */
#define DMABENCH_MAX_BATCH		1024
/*
 * threads * batch * entries * the block the largest size is allocated in:
 * the size rounded up to a power-of-two number of pages
 */
#define DMABENCH_MAX_TOTAL_BYTES	(256ULL << 20)

/* "no placement" for dmabench_params.cpus[] and .node */
#define DMABENCH_CPU_ANY		0xffffffffU
#define DMABENCH_NODE_ANY		(-1)

/* dmabench_params.dir: values of the kernel's enum dma_data_direction */
#define DMABENCH_DIR_BIDIRECTIONAL	0
#define DMABENCH_DIR_TO_DEVICE		1
#define DMABENCH_DIR_FROM_DEVICE	2

/* dmabench_params.map_mode */
#define DMABENCH_MAP_SINGLE		0	/* dma_map_page() */
#define DMABENCH_MAP_SG			1	/* dma_map_sgtable() */

/* dmabench_params.flags */
#define DMABENCH_F_SYNC			0x1U	/* measure dma_sync_* */
#define DMABENCH_F_ALL			DMABENCH_F_SYNC

/* operations measured, index of dmabench_result.op */
#define DMABENCH_OP_MAP			0
#define DMABENCH_OP_UNMAP		1
#define DMABENCH_OP_SYNC		2
#define DMABENCH_OP_TIMER		3	/* two back-to-back clock reads */
#define DMABENCH_NR_OPS			4

/* dmabench_result.thread: all threads merged */
#define DMABENCH_THREAD_ALL		0xffffffffU

/* IOMMU domain of the device (dmabench_info.domain) */
#define DMABENCH_DOMAIN_NONE		0	/* no IOMMU translation */
#define DMABENCH_DOMAIN_DMA		1	/* strict */
#define DMABENCH_DOMAIN_DMA_FQ		2	/* lazy (flush queue) */
#define DMABENCH_DOMAIN_IDENTITY	3	/* passthrough */
#define DMABENCH_DOMAIN_OTHER		4	/* e.g. blocked, unmanaged */

/* dmabench_info.state */
#define DMABENCH_STATE_NONE		0	/* no results */
#define DMABENCH_STATE_DONE		1	/* results of the last run */

/* number of back-to-back clock read pairs timed per thread */
#define DMABENCH_TIMER_SAMPLES		10000

/*
 * The stale-DMA probe (DMABENCH_IOC_STALE) drives QEMU's "edu" device: its
 * DMA engine copies between a 4 KiB buffer inside the device (at 0x40000 in
 * the device's own address space) and guest memory, through the vIOMMU, and
 * runs a command 100 ms of virtual time after it is written (a QEMU
 * millisecond timer: 99 to 100 ms).  Its DMA addresses are 28 bits wide.
 */
#define DMABENCH_EDU_VENDOR		0x1234
#define DMABENCH_EDU_DEVICE		0x11e8
/* the earliest an edu command runs after it is written */
#define DMABENCH_EDU_DELAY_NS		99000000ULL
/* dmabench_stale.lead_ns: at most this, so that the unmap comes first */
#define DMABENCH_STALE_MAX_LEAD_NS	90000000ULL
/* bytes the device writes; less than the device's buffer (QEMU 7.2 aborts
 * on a transfer that ends exactly at the buffer's end) */
#define DMABENCH_STALE_BYTES		2048

/*
 * Limits of 'dmabench --mode stale', which runs DMABENCH_IOC_STALE per
 * delay and trial; shared with the suite's front-ends that drive it.
 */
#define DMABENCH_STALE_MAX_DELAYS	32
#define DMABENCH_STALE_MAX_TRIALS	10000

/* dmabench_stale.outcome */
#define DMABENCH_STALE_NEITHER		0	/* not in memory, no fault report */
#define DMABENCH_STALE_LANDED		1	/* the whole pattern is in memory */
#define DMABENCH_STALE_FAULTED		2	/* the IOMMU reported a fault for it */
#define DMABENCH_STALE_PARTIAL		3	/* some of the pattern landed */
#define DMABENCH_STALE_LATE		4	/* the DMA ran before the unmap
						 * returned: says nothing */

/* dmabench_stale.fault_sources: what could report a fault in the trial */
#define DMABENCH_FAULT_TRACEPOINT	0x1	/* iommu:io_page_fault: device, IOVA */
#define DMABENCH_FAULT_VTD		0x2	/* VT-d fault records: requester, page */
#define DMABENCH_FAULT_IRQ		0x4	/* an IOMMU fault interrupt, no details */

/**
 * struct dmabench_stale - one trial of the stale-DMA probe
 * @size: in: sizeof(struct dmabench_stale)
 * @version: in: DMABENCH_ABI_VERSION
 * @lead_ns: in: how long before the device's write is due the unmap
 *	should return, 0 .. DMABENCH_STALE_MAX_LEAD_NS.  The module maps a
 *	buffer of its own, lets the device read it once (so that the IOMMU
 *	caches the translation; the end of that read also shows where QEMU's
 *	millisecond ticks fall, hence when the next command is due), waits a
 *	random 0 to 10 ms (so that the unmap falls at any phase of the kernel's
 *	timer tick), issues a
 *	device-to-memory DMA of a fresh pattern into it, calls dma_unmap_page()
 *	@lead_ns + 50 us before the DMA is due (the 50 us for the unmap
 *	itself), waits for the DMA, and then reads the buffer.  @gap_ns is what
 *	really happened
 * @flags: in: must be zero
 * @outcome: out: DMABENCH_STALE_*
 * @domain: out: DMABENCH_DOMAIN_* of the device during the trial
 * @fault_sources: out: DMABENCH_FAULT_* that were watching
 * @iova: out: the buffer's DMA address
 * @unmap_ns: out: how long dma_unmap_page() took
 * @gap_ns: out: from the return of dma_unmap_page() to the device's
 *	completion interrupt, i.e. how long after the unmap the write came (an
 *	upper bound: the interrupt follows the write); 0 for LATE
 * @landed_bytes: out: bytes of the buffer that hold the pattern afterwards
 * @faults: out: fault reports that name this device and the buffer's page
 * @fault_irqs: out: IOMMU fault interrupts that name no device, while this
 *	trial's DMA was the only one the module had in flight
 * @fault_reason: out: the first matching report's reason (VT-d: the fault
 *	reason code; io_page_fault: its flags), else 0
 * @reserved: must be zero on input; zero on output
 *
 * Outcome: LANDED needs every byte of the pattern in the buffer, PARTIAL
 * some; otherwise FAULTED needs a fault report (@faults, or @fault_irqs when
 * no source names devices), else NEITHER.  The device writes only the
 * module's buffer, which stays allocated until the write has run.
 */
struct dmabench_stale {
	__u32 size;
	__u32 version;
	__u64 lead_ns;
	__u32 flags;
	__u32 outcome;
	__u32 domain;
	__u32 fault_sources;
	__u64 iova;
	__u64 unmap_ns;
	__u64 gap_ns;
	__u32 landed_bytes;
	__u32 faults;
	__u32 fault_irqs;
	__u32 fault_reason;
	__u64 reserved[8];
};

/**
 * struct dmabench_size - one entry of the buffer size mix
 * @bytes: bytes per buffer (per scatterlist entry in DMABENCH_MAP_SG mode),
 *	1 .. DMABENCH_MAX_BUF_BYTES
 * @weight: relative frequency, 1 .. DMABENCH_MAX_WEIGHT
 */
struct dmabench_size {
	__u32 bytes;
	__u32 weight;
};

/**
 * struct dmabench_params - what DMABENCH_IOC_RUN measures
 * @size: sizeof(struct dmabench_params)
 * @version: DMABENCH_ABI_VERSION
 * @threads: kernel threads, 1 .. DMABENCH_MAX_THREADS
 * @flags: DMABENCH_F_* bits
 * @duration_ns: measured time, 1 .. DMABENCH_MAX_DURATION_NS; or 0 when
 *	@ops is set (exactly one of the two is non-zero)
 * @ops: map operations per thread, 1 .. DMABENCH_MAX_OPS; or 0
 * @warmup_ops: unrecorded map/unmap rounds per thread before the measured
 *	window, 0 .. DMABENCH_MAX_WARMUP_OPS; the warm-up also ends (between
 *	batches) once it has taken DMABENCH_MAX_WARMUP_NS, or @duration_ns
 *	when that is shorter
 * @device_ns: simulated device time: busy wait after each batch is mapped
 *	and before it is synced and unmapped, 0 .. DMABENCH_MAX_DEVICE_NS
 * @seed: seed of the per-thread size-mix generator (thread i uses seed + i)
 * @node: NUMA node for buffers and (when @cpus[i] is DMABENCH_CPU_ANY)
 *	threads, an online node or DMABENCH_NODE_ANY (the device's node)
 * @dir: DMABENCH_DIR_*
 * @dma_mask_bits: DMA mask to set before the run, DMABENCH_MIN_MASK_BITS ..
 *	DMABENCH_MAX_MASK_BITS, or 0 to keep the device's current mask; the
 *	device's streaming and coherent masks are restored when the run ends
 *	(completed, failed or interrupted).  Without IOMMU translation (identity
 *	domain, no IOMMU) a mask narrower than dma_get_required_mask() is
 *	refused: dma-direct would have to bounce or WARN
 * @map_mode: DMABENCH_MAP_SINGLE or DMABENCH_MAP_SG
 * @sg_entries: entries per scatterlist, 1 .. DMABENCH_MAX_SG_ENTRIES in SG
 *	mode; 0 or 1 in single mode
 * @batch: buffers mapped before the first of them is unmapped,
 *	1 .. DMABENCH_MAX_BATCH
 * @nr_sizes: used entries of @sizes, 1 .. DMABENCH_MAX_SIZES
 * @pad0: must be zero
 * @cpus: CPU of thread i, an online CPU or DMABENCH_CPU_ANY; entries from
 *	@threads on must be DMABENCH_CPU_ANY or 0
 * @sizes: the size mix; each map operation draws a size with probability
 *	weight / sum of weights; unused entries must be zero
 * @reserved: must be zero
 *
 * Memory: buffers are allocated as blocks of 2^order pages, the smallest
 * that holds the largest size (a 2 MiB + 1 byte buffer takes 4 MiB);
 * threads * batch * max(1, sg_entries) * that block must not exceed
 * DMABENCH_MAX_TOTAL_BYTES.
 */
struct dmabench_params {
	__u32 size;
	__u32 version;
	__u32 threads;
	__u32 flags;
	__u64 duration_ns;
	__u64 ops;
	__u64 warmup_ops;
	__u64 device_ns;
	__u64 seed;
	__s32 node;
	__u32 dir;
	__u32 dma_mask_bits;
	__u32 map_mode;
	__u32 sg_entries;
	__u32 batch;
	__u32 nr_sizes;
	__u32 pad0;
	__u32 cpus[DMABENCH_MAX_THREADS];
	struct dmabench_size sizes[DMABENCH_MAX_SIZES];
	__u64 reserved[16];
};

/**
 * struct dmabench_info - module, device and last-run description
 * @size: in: sizeof(struct dmabench_info)
 * @version: in: DMABENCH_ABI_VERSION; out: the module's ABI version
 * @bound: out: 1 if a device is bound, else 0 (the other device fields are
 *	then zero)
 * @domain: out: DMABENCH_DOMAIN_* of the device's IOMMU domain, read now
 * @bdf: out: the device's PCI name, e.g. "0000:00:03.0", NUL terminated
 * @node: out: the device's NUMA node, or -1
 * @dma_mask_bits: out: bits of the device's current DMA mask
 * @nr_buckets: out: IBH_NR_BUCKETS of the module's histograms
 * @sub_bits: out: IBH_SUB_BITS of the module's histograms
 * @max_threads: out: DMABENCH_MAX_THREADS
 * @state: out: DMABENCH_STATE_*
 * @threads: out: threads of the last run
 * @flags: out: flags of the last run
 * @wall_ns: out: measured window of the last run, from the common start of
 *	all threads until the last one finished
 * @errors: out: mapping failures in the last run (each stops its thread)
 * @reserved: out: zero
 */
struct dmabench_info {
	__u32 size;
	__u32 version;
	__u32 bound;
	__u32 domain;
	char bdf[32];
	__s32 node;
	__u32 dma_mask_bits;
	__u32 nr_buckets;
	__u32 sub_bits;
	__u32 max_threads;
	__u32 state;
	__u32 threads;
	__u32 flags;
	__u64 wall_ns;
	__u64 errors;
	__u64 reserved[8];
};

/**
 * struct dmabench_result - one histogram of the last run
 * @size: in: sizeof(struct dmabench_result)
 * @version: in: DMABENCH_ABI_VERSION
 * @thread: in: thread index (< threads of the run) or DMABENCH_THREAD_ALL
 * @op: in: DMABENCH_OP_*
 * @cpu: out: CPU the thread started on (-1 for DMABENCH_THREAD_ALL)
 * @node: out: NUMA node of the thread's buffers
 * @elapsed_ns: out: the thread's measured window (for DMABENCH_THREAD_ALL:
 *	the run's wall_ns)
 * @bytes: out: bytes mapped in the measured window
 * @errors: out: mapping failures
 * @count: out: number of samples
 * @min_ns: out: smallest sample (0 if none)
 * @max_ns: out: largest sample
 * @sum_ns: out: sum of the samples
 * @sum_sq_lo: out: sum of the squared samples, low 64 bits
 * @sum_sq_hi: out: sum of the squared samples, high 64 bits
 * @nr_buckets: out: IBH_NR_BUCKETS
 * @pad0: out: zero
 * @reserved: out: zero
 * @buckets: out: sample counts per bucket of <iommubench/hist-bucket.h>
 */
struct dmabench_result {
	__u32 size;
	__u32 version;
	__u32 thread;
	__u32 op;
	__s32 cpu;
	__s32 node;
	__u64 elapsed_ns;
	__u64 bytes;
	__u64 errors;
	__u64 count;
	__u64 min_ns;
	__u64 max_ns;
	__u64 sum_ns;
	__u64 sum_sq_lo;
	__u64 sum_sq_hi;
	__u32 nr_buckets;
	__u32 pad0;
	__u64 reserved[8];
	__u64 buckets[IBH_NR_BUCKETS];
};

#define DMABENCH_IOC_MAGIC	0xB2

#define DMABENCH_IOC_INFO	_IOWR(DMABENCH_IOC_MAGIC, 1, struct dmabench_info)
#define DMABENCH_IOC_RUN	_IOW(DMABENCH_IOC_MAGIC, 2, struct dmabench_params)
#define DMABENCH_IOC_RESULT	_IOWR(DMABENCH_IOC_MAGIC, 3, struct dmabench_result)
#define DMABENCH_IOC_STALE	_IOWR(DMABENCH_IOC_MAGIC, 4, struct dmabench_stale)

#endif /* _IOMMUBENCH_DMABENCH_H */

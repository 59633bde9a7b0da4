/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommutrace-probes.h - the one table of what iommutrace traces
 *
 * Included by the BPF program (after vmlinux.h) and by user space; only
 * macros.  Every path of the report, every kernel function that may
 * stand for it on some kernel, in order of preference, and what the BPF
 * side does when it runs, live here and nowhere else: the BPF programs,
 * the attach table, the --paths names, the report's keys and --list are
 * all generated from these two lists.  docs/iommutrace.md has the same
 * table with the kernels each candidate exists on.
 *
 * IT_PATHS(P): P(id, name, doc)
 *	@id	IT_PATH_<id>
 *	@name	the name in --paths, the report and the JSON
 *	@doc	what the path measures (--list prints it)
 *
 * IT_PROBES(X): X(id, path, chain, rank, symbol, role, arg, needs)
 *	@id	IT_FN_<id>; one set of BPF programs (fentry/fexit and
 *		kprobe/kretprobe) per row, so one function may have two rows
 *		(a driver's flush_iotlb_all in flush_all and in fq_flush)
 *	@path	the path the row counts for
 *	@chain	rows of one path with different chains are attached
 *		together (each driver's sync, the single and the sg map)
 *	@rank	within a chain the lowest rank with a function on the
 *		running kernel is chosen, and all its rows of that rank:
 *		rank 0 is the function itself, higher ranks are fallbacks for
 *		kernels where it was renamed or inlined
 *	@symbol	the kernel function (kallsyms, BTF)
 *	@role	IT_ROLE_<role>: what on_entry()/on_exit() do for it
 *	@arg	IT_ARG_<arg>: what its first argument is
 *	@needs	IT_NEED(<path>)|...: paths this row cannot work without;
 *		they are attached with it even when not selected
 */
#ifndef IOMMUTRACE_PROBES_H
#define IOMMUTRACE_PROBES_H

#define IT_PATHS(P)							\
	P(DMA_UNMAP, "dma_unmap",					\
	  "every DMA-API unmap, with its device")			\
	P(DMA_MAP, "dma_map",						\
	  "every DMA-API map, with its device")				\
	P(UNMAP_FAST, "iommu_unmap_fast",				\
	  "page-table unmap of a DMA unmap; starts the exposure window") \
	P(IOMMU_UNMAP, "__iommu_unmap",					\
	  "page-table unmap (fires iommu:unmap)")			\
	P(IOTLB_SYNC, "iotlb_sync",					\
	  "strict: the IOTLB invalidation in the unmap; ends its window") \
	P(FLUSH_ALL, "flush_all",					\
	  "the driver's whole-domain IOTLB flush")			\
	P(FQ_FLUSH, "fq_flush",						\
	  "lazy: a flush-queue flush; ends the windows of its domain")	\
	P(FQ_TIMEOUT, "fq_flush_timeout",				\
	  "the flush queue's timer; tells timer flushes from full queues") \
	P(IOVA_ALLOC, "iova_alloc", "IOVA allocation")			\
	P(IOVA_FREE, "iova_free", "IOVA free (strict, or a flushed queue)") \
	P(QI_SUBMIT, "qi_submit", "Intel invalidation-queue submissions")

#define IT_PROBES(X)							\
	X(DMA_UNMAP, DMA_UNMAP, 0, 0, "__iommu_dma_unmap",		\
	  DMA_UNMAP, DEV, 0)						\
	X(DMA_IOVA_UNLINK, DMA_UNMAP, 1, 0, "__iommu_dma_iova_unlink",	\
	  DMA_UNMAP, DEV, 0)						\
	X(DMA_MAP_PAGE, DMA_MAP, 0, 0, "iommu_dma_map_page",		\
	  DMA_MAP, DEV, 0)						\
	X(DMA_MAP_PHYS, DMA_MAP, 0, 1, "iommu_dma_map_phys",		\
	  DMA_MAP, DEV, 0)						\
	X(DMA_MAP_SG, DMA_MAP, 1, 0, "iommu_dma_map_sg",		\
	  DMA_MAP, DEV, 0)						\
	X(DMA_IOVA_LINK, DMA_MAP, 2, 0, "dma_iova_link",		\
	  DMA_MAP, DEV, 0)						\
	X(UNMAP_FAST, UNMAP_FAST, 0, 0, "iommu_unmap_fast",		\
	  UNMAP_FAST, DOMAIN, 0)					\
	X(IOMMU_UNMAP, IOMMU_UNMAP, 0, 0, "__iommu_unmap",		\
	  COUNT, DOMAIN, 0)						\
	X(SYNC_INTEL, IOTLB_SYNC, 0, 0, "intel_iommu_tlb_sync",		\
	  SYNC, DOMAIN, 0)						\
	X(SYNC_INTEL_TAGS, IOTLB_SYNC, 0, 1, "cache_tag_flush_range",	\
	  SYNC, DMAR_DOMAIN, 0)						\
	X(SYNC_AMD, IOTLB_SYNC, 1, 0, "amd_iommu_iotlb_sync",		\
	  SYNC, DOMAIN, 0)						\
	X(SYNC_ARM, IOTLB_SYNC, 2, 0, "arm_smmu_iotlb_sync",		\
	  SYNC, DOMAIN, 0)						\
	X(SYNC_VIRTIO, IOTLB_SYNC, 3, 0, "viommu_iotlb_sync",		\
	  SYNC, DOMAIN, 0)						\
	X(FLUSH_INTEL, FLUSH_ALL, 0, 0, "intel_flush_iotlb_all",	\
	  COUNT, DOMAIN, 0)						\
	X(FLUSH_AMD, FLUSH_ALL, 1, 0, "amd_iommu_flush_iotlb_all",	\
	  COUNT, DOMAIN, 0)						\
	X(FLUSH_ARM, FLUSH_ALL, 2, 0, "arm_smmu_flush_iotlb_all",	\
	  COUNT, DOMAIN, 0)						\
	X(FLUSH_VIRTIO, FLUSH_ALL, 3, 0, "viommu_flush_iotlb_all",	\
	  COUNT, DOMAIN, 0)						\
	X(FQ_FLUSH, FQ_FLUSH, 0, 0, "fq_flush_iotlb",			\
	  FQ_FLUSH, COOKIE, IT_NEED(FQ_TIMEOUT))			\
	X(FQ_FLUSH_INTEL, FQ_FLUSH, 0, 1, "intel_flush_iotlb_all",	\
	  FQ_FLUSH_ALL, DOMAIN, IT_NEED(FQ_TIMEOUT) | IT_NEED(DMA_UNMAP) | \
	  IT_NEED(UNMAP_FAST))						\
	X(FQ_FLUSH_AMD, FQ_FLUSH, 0, 1, "amd_iommu_flush_iotlb_all",	\
	  FQ_FLUSH_ALL, DOMAIN, IT_NEED(FQ_TIMEOUT) | IT_NEED(DMA_UNMAP) | \
	  IT_NEED(UNMAP_FAST))						\
	X(FQ_FLUSH_ARM, FQ_FLUSH, 0, 1, "arm_smmu_flush_iotlb_all",	\
	  FQ_FLUSH_ALL, DOMAIN, IT_NEED(FQ_TIMEOUT) | IT_NEED(DMA_UNMAP) | \
	  IT_NEED(UNMAP_FAST))						\
	X(FQ_FLUSH_VIRTIO, FQ_FLUSH, 0, 1, "viommu_flush_iotlb_all",	\
	  FQ_FLUSH_ALL, DOMAIN, IT_NEED(FQ_TIMEOUT) | IT_NEED(DMA_UNMAP) | \
	  IT_NEED(UNMAP_FAST))						\
	X(FQ_TIMEOUT, FQ_TIMEOUT, 0, 0, "fq_flush_timeout",		\
	  FQ_TIMEOUT, TIMER, 0)						\
	X(IOVA_ALLOC, IOVA_ALLOC, 0, 0, "alloc_iova_fast",		\
	  COUNT, NONE, 0)						\
	X(IOVA_FREE, IOVA_FREE, 0, 0, "free_iova_fast",			\
	  COUNT, NONE, 0)						\
	X(QI_SUBMIT, QI_SUBMIT, 0, 0, "qi_submit_sync",			\
	  COUNT, NONE, 0)

/*
 * Roles: what the BPF side does with a row (iommutrace.bpf.c).
 *
 * DMA_UNMAP	device in arg 0; opens a context the functions it calls
 *		inherit; a strict unmap's window is closed inside it
 * DMA_MAP	device in arg 0; opens a context
 * UNMAP_FAST	domain in arg 0, gather in arg 3: starts an exposure window,
 *		lazy (gather->queued) or strict
 * SYNC		ends the strict window of the enclosing DMA unmap
 * FQ_FLUSH	fq_flush_iotlb(cookie): a flush-queue flush of one domain;
 *		opens a context
 * FQ_FLUSH_ALL	a driver's flush_iotlb_all(domain) standing for
 *		fq_flush_iotlb() where that is inlined: counted only under
 *		fq_flush_timeout() or in a DMA unmap whose gather was queued
 *		(queue_iova() flushing a full queue), the two callers of
 *		fq_flush_iotlb()
 * FQ_TIMEOUT	fq_flush_timeout(timer); opens a context
 * COUNT	calls and latency only
 */
enum it_role {
	IT_ROLE_DMA_UNMAP,
	IT_ROLE_DMA_MAP,
	IT_ROLE_UNMAP_FAST,
	IT_ROLE_SYNC,
	IT_ROLE_FQ_FLUSH,
	IT_ROLE_FQ_FLUSH_ALL,
	IT_ROLE_FQ_TIMEOUT,
	IT_ROLE_COUNT,
};

/* what the first argument of a row's function is */
enum it_arg {
	IT_ARG_NONE,		/* not read: the context gives device/domain */
	IT_ARG_DEV,		/* struct device * */
	IT_ARG_DOMAIN,		/* struct iommu_domain * */
	IT_ARG_DMAR_DOMAIN,	/* struct dmar_domain * (Intel) */
	IT_ARG_COOKIE,		/* struct iommu_dma_cookie * */
	IT_ARG_TIMER,		/* struct timer_list *, in the cookie */
};

#define IT_P_ENUM(id, name, doc)	IT_PATH_##id,
enum it_path {
	IT_PATHS(IT_P_ENUM)
	IT_NR_PATH,
};
#undef IT_P_ENUM

#define IT_NEED(path)		(1U << IT_PATH_##path)

#define IT_X_ENUM(id, path, chain, rank, sym, role, arg, needs)	IT_FN_##id,
enum it_fn {
	IT_PROBES(IT_X_ENUM)
	IT_NR_FN,
};
#undef IT_X_ENUM

/*
 * Rows whose first argument is the device keep per-device histograms:
 * IT_DEVFN_<id> numbers them.
 */
#define IT_DEVFN_ARG_DEV(id)		IT_DEVFN_##id,
#define IT_DEVFN_ARG_DOMAIN(id)
#define IT_DEVFN_ARG_DMAR_DOMAIN(id)
#define IT_DEVFN_ARG_COOKIE(id)
#define IT_DEVFN_ARG_TIMER(id)
#define IT_DEVFN_ARG_NONE(id)
#define IT_X_DEVFN(id, path, chain, rank, sym, role, arg, needs)	\
	IT_DEVFN_ARG_##arg(id)
enum it_devfn {
	IT_PROBES(IT_X_DEVFN)
	IT_NR_DEV_FN,
};
#undef IT_X_DEVFN

/* IT_DEVFN_<id> of a row, or -1: constant-folded where @fn is constant */
#define IT_DEVOF_ARG_DEV(id)		case IT_FN_##id: return IT_DEVFN_##id;
#define IT_DEVOF_ARG_DOMAIN(id)
#define IT_DEVOF_ARG_DMAR_DOMAIN(id)
#define IT_DEVOF_ARG_COOKIE(id)
#define IT_DEVOF_ARG_TIMER(id)
#define IT_DEVOF_ARG_NONE(id)
#define IT_X_DEVOF(id, path, chain, rank, sym, role, arg, needs)	\
	IT_DEVOF_ARG_##arg(id)
static inline __attribute__((always_inline)) int it_devfn_of(unsigned int fn)
{
	switch (fn) {
	IT_PROBES(IT_X_DEVOF)
	default:
		return -1;
	}
}
#undef IT_X_DEVOF

/* the role and argument kind of a row, likewise folded */
#define IT_X_ROLE(id, path, chain, rank, sym, role, arg, needs)	\
	case IT_FN_##id: return IT_ROLE_##role;
static inline __attribute__((always_inline)) int it_role_of(unsigned int fn)
{
	switch (fn) {
	IT_PROBES(IT_X_ROLE)
	default:
		return IT_ROLE_COUNT;
	}
}
#undef IT_X_ROLE

#define IT_X_ARG(id, path, chain, rank, sym, role, arg, needs)	\
	case IT_FN_##id: return IT_ARG_##arg;
static inline __attribute__((always_inline)) int it_arg_of(unsigned int fn)
{
	switch (fn) {
	IT_PROBES(IT_X_ARG)
	default:
		return IT_ARG_NONE;
	}
}
#undef IT_X_ARG

/* what each metric of the report needs attached (else it is null) */
#define IT_NEEDS_STRICT_WINDOW	(IT_NEED(DMA_UNMAP) | IT_NEED(UNMAP_FAST) | \
				 IT_NEED(IOTLB_SYNC))
#define IT_NEEDS_LAZY_WINDOW	(IT_NEED(UNMAP_FAST) | IT_NEED(FQ_FLUSH))
#define IT_NEEDS_FQ_COUNTS	(IT_NEED(FQ_FLUSH))

#endif /* IOMMUTRACE_PROBES_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommutrace-core.bpf.h - every kernel-version difference iommutrace reads
 *
 * The one place where iommutrace.bpf.c touches kernel structures.  Types
 * come from vmlinux.h (Debian 6.1 BTF); CO-RE relocates each access to the
 * running kernel's layout, and bpf_core_field_exists() guards members that
 * older kernels lack.  Each helper cites the commit its member exists for.
 * Checked against the BTF of Debian 6.1.0-50, 6.12.95 and 7.2.13.
 */
#ifndef IOMMUTRACE_CORE_BPF_H
#define IOMMUTRACE_CORE_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * iotlb_gather_queued - will this unmap be invalidated by the flush queue?
 *
 * struct iommu_iotlb_gather::queued was added by commit 7a7c5badf858
 * ("iommu: Indicate queued flushes via gather data", v5.15);
 * __iommu_dma_unmap() sets it from cookie->fq_domain, i.e. lazy mode.
 * Without the member the unmap is treated as strict.
 */
static __always_inline bool iotlb_gather_queued(struct iommu_iotlb_gather *g)
{
	if (!g || !bpf_core_field_exists(g->queued))
		return false;
	return BPF_CORE_READ(g, queued);
}

/*
 * dev_dma_domain - the default domain of a device, as iommu_get_dma_domain()
 * returns it: dev->iommu_group->default_domain (both members since v3.x;
 * unchanged in 6.1 and 6.12).  Used as an identity only, never dereferenced
 * beyond this read.
 */
static __always_inline __u64 dev_dma_domain(struct device *dev)
{
	return (__u64)BPF_CORE_READ(dev, iommu_group, default_domain);
}

/*
 * cookie_fq_domain - the domain a flush-queue cookie flushes.
 *
 * struct iommu_dma_cookie::fq_domain exists since the flush queue became
 * per-cookie state of dma-iommu.c (v5.15, the series ending with "iommu:
 * Allow enabling non-strict mode dynamically"); fq_flush_iotlb() takes the
 * cookie since the flush queue code moved from iova.c into dma-iommu.c
 * (v6.0).  The cookie's other members differ between 6.1 and 6.12 (6.12
 * has the percpu_fq/single_fq union and the options of the single flush
 * queue added for s390 and virtio-iommu in the v6.7 cycle; hash not
 * verified offline), which CO-RE absorbs: only fq_domain is read.
 */
static __always_inline __u64 cookie_fq_domain(struct iommu_dma_cookie *cookie)
{
	if (!cookie || !bpf_core_field_exists(cookie->fq_domain))
		return 0;
	return (__u64)BPF_CORE_READ(cookie, fq_domain);
}

/*
 * fq_timer_domain - the domain behind the timer fq_flush_timeout() gets:
 * container_of(timer, struct iommu_dma_cookie, fq_timer)->fq_domain.
 * fq_timer lives in the cookie since v6.0 (see above); without it the
 * domain is unknown (0).
 */
static __always_inline __u64 fq_timer_domain(void *timer)
{
	struct iommu_dma_cookie *cookie;

	if (!timer || !bpf_core_field_exists(struct iommu_dma_cookie, fq_timer))
		return 0;
	cookie = (void *)((char *)timer -
			  bpf_core_field_offset(struct iommu_dma_cookie, fq_timer));
	return cookie_fq_domain(cookie);
}

/*
 * dmar_domain_to_domain - &dmar_domain->domain, the struct iommu_domain the
 * core passes around, for cache_tag_flush_range(struct dmar_domain *, ...),
 * the IOTLB-sync fallback of Intel kernels (intel_iommu_tlb_sync() calls
 * it since commit a600ccd0a347 "iommu/vt-d: Use cache_tag_flush_range()
 * in tlb_sync", v6.10).
 * struct dmar_domain has embedded its iommu_domain since v3.x; the offset
 * is relocated.  0 where the type does not exist.
 */
static __always_inline __u64 dmar_domain_to_domain(struct dmar_domain *dd)
{
	if (!dd || !bpf_core_field_exists(struct dmar_domain, domain))
		return 0;
	return (__u64)dd + bpf_core_field_offset(struct dmar_domain, domain);
}

/*
 * dev_name_ptr - dev->kobj.name (dev_name()), stable since v2.6.
 */
static __always_inline const char *dev_name_ptr(struct device *dev)
{
	return BPF_CORE_READ(dev, kobj.name);
}

#endif /* IOMMUTRACE_CORE_BPF_H */

#!/bin/sh
# VT-d with caching mode on: the kernel disallows batching at boot.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 5

vm cm-cmdline --kernel debian:6.1 --iommu intel-cm --policy lazy --mechanism cmdline -- "$DUT_TYPE"
check "lazy by cmdline under caching mode fails verification (122)" rc_is cm-cmdline 122
check "the reason quotes 'IOMMU batching disallowed'" \
	err_has cm-cmdline 'IOMMU batching disallowed due to virtualization'

vm cm-sysfs --kernel debian:6.1 --iommu intel-cm --policy lazy --mechanism sysfs -- "$DUT_TYPE"
check "lazy through sysfs under caching mode: exit 0" rc_is cm-sysfs 0
check "lazy through sysfs under caching mode: DMA-FQ" out_is cm-sysfs DMA-FQ

vm cm-strict --kernel debian:6.1 --iommu intel-cm --policy strict -- "$DUT_TYPE"
check "strict under caching mode: DMA" out_is cm-strict DMA
finish

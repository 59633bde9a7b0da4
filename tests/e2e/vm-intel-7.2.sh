#!/bin/sh
# Debian 7.2 (sid): the three policies behind VT-d, VT-d's caching mode,
# AMD-Vi and virtio-iommu, as the 6.1 and 6.12 tests check them.  7.2
# ships the kernel split into linux-binary/-modules/-base packages; the
# policy code is the same as 6.12's (the DMA-FQ default domain, caching
# mode disallowing batching at boot, AMD-Vi forcing strict under NpCache).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 15

K=${IB_KERNEL_72:-debian:7.2}

policy_cases "$K" intel

vm cm-cmdline --kernel "$K" --iommu intel-cm --policy lazy --mechanism cmdline -- "$DUT_TYPE"
check "7.2 caching mode: lazy by cmdline fails verification (122)" rc_is cm-cmdline 122
check "7.2 caching mode: the reason quotes 'IOMMU batching disallowed'" \
	err_has cm-cmdline 'IOMMU batching disallowed due to virtualization'

vm cm-sysfs --kernel "$K" --iommu intel-cm --policy lazy -- "$DUT_TYPE"
check "7.2 caching mode: lazy (auto) goes through sysfs, exit 0" rc_is cm-sysfs 0
check "7.2 caching mode: lazy through sysfs reads DMA-FQ" out_is cm-sysfs DMA-FQ

vm amd-lazy --kernel "$K" --iommu amd --policy lazy -- "$DUT_TYPE"
check "7.2 amd lazy (auto): exit 0" rc_is amd-lazy 0
check "7.2 amd lazy (auto): DMA-FQ" out_is amd-lazy DMA-FQ
check "7.2 amd lazy: the sysfs mechanism is recorded" \
	sh -c "grep -q '\"mechanism\": \"sysfs\"' $TEST_TMP/amd-lazy.run/vm.json"

vm virtio-lazy --kernel "$K" --iommu virtio --policy lazy -- "$DUT_TYPE"
check "7.2 virtio-iommu lazy: exit 0" rc_is virtio-lazy 0
check "7.2 virtio-iommu lazy: DMA-FQ" out_is virtio-lazy DMA-FQ
finish

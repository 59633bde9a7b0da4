#!/bin/sh
# AMD-Vi: QEMU's amd-iommu sets NpCache, so the kernel forces strict at
# boot and iommu.strict=0 is silently lost.  The suite must say so, and
# reach lazy through sysfs instead.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 12

vm amd-strict --kernel debian:6.1 --iommu amd --policy strict -- "$DUT_TYPE"
check "6.1 amd strict: exit 0" rc_is amd-strict 0
check "6.1 amd strict: DMA" out_is amd-strict DMA

vm amd-lazy-cmdline --kernel debian:6.1 --iommu amd --policy lazy --mechanism cmdline -- "$DUT_TYPE"
check "6.1 amd lazy by cmdline fails verification (122)" rc_is amd-lazy-cmdline 122
check "the reason quotes the kernel forcing strict" \
	err_has amd-lazy-cmdline 'forced strict mode at boot (kernel log: ".*AMD-Vi: Using strict mode due to virtualization'
check "COMMAND did not run on an unverified policy" out_is amd-lazy-cmdline ''
check "the run is recorded as a policy mismatch" \
	sh -c "grep -q '\"outcome\": \"policy-mismatch\"' $TEST_TMP/amd-lazy-cmdline.run/vm.json"

vm amd-lazy --kernel debian:6.1 --iommu amd --policy lazy -- "$DUT_TYPE"
check "6.1 amd lazy (auto): the suite says it uses sysfs" err_has amd-lazy 'applying lazy through sysfs'
check "6.1 amd lazy (auto): DMA-FQ" out_is amd-lazy DMA-FQ

vm amd-identity --kernel debian:6.1 --iommu amd --policy identity -- "$DUT_TYPE"
check "6.1 amd identity: identity" out_is amd-identity identity

vm amd612-lazy --kernel debian:6.12 --iommu amd --policy lazy -- "$DUT_TYPE"
check "6.12 amd lazy (auto): exit 0" rc_is amd612-lazy 0
check "6.12 amd lazy (auto): DMA-FQ" out_is amd612-lazy DMA-FQ
check "6.12 amd lazy: the sysfs mechanism is recorded" \
	sh -c "grep -q '\"mechanism\": \"sysfs\"' $TEST_TMP/amd612-lazy.run/vm.json"
finish

#!/bin/sh
# virtio-iommu: a module in Debian 6.12 (lazy-capable since 6.8), absent
# from Debian 6.1.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 12

policy_cases debian:6.12 virtio

vm accept --kernel debian:6.12 --iommu virtio --policy lazy -- \
	cat /sys/kernel/iommu_groups/*/type
check "the issue's acceptance command prints DMA-FQ" out_has accept '^DMA-FQ$'
check "the virtio-iommu driver probed (serial log)" \
	grep -q 'virtio_iommu virtio0: input address' "$TEST_TMP/accept.run/serial.log"

# edu (and pci-testdev) have no driver but dmabench, and virtio-iommu
# attaches an endpoint only when a driver probes it: the guest binds it to
# dmabench so that its group exists when the policy is verified
vm edu --kernel debian:6.12 --iommu virtio --disk none --edu --policy strict -- \
	cat /sys/bus/pci/devices/0000:00:06.0/iommu_group/type
check "edu behind virtio-iommu: its policy is applied and verified (exit 0)" \
	rc_is edu 0
check "and its group reads DMA" out_is edu DMA

vm v61 --kernel debian:6.1 --iommu virtio --policy lazy -- true
check "6.1 + virtio is refused before booting (125)" rc_is v61 125
check "and the reason names CONFIG_VIRTIO_IOMMU" err_has v61 'CONFIG_VIRTIO_IOMMU is not set'
finish

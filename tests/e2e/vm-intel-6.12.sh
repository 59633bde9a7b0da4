#!/bin/sh
# Debian 6.12 (bookworm-backports) behind an emulated VT-d.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 8

policy_cases debian:6.12 intel

vm virtio-disk --kernel debian:6.12 --iommu intel --disk virtio --policy strict \
	-- 'cat /sys/bus/pci/devices/0000:00:04.0/iommu_group/type; ls /sys/block'
check "a virtio-blk disk is the device under test too" out_has virtio-disk '^DMA$'
check "and its block device is up before COMMAND" out_has virtio-disk '^vda$'
finish

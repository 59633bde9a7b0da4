#!/bin/sh
# Host mode, exercised inside a VM (the guest is a machine with an IOMMU):
# the agent switches the NVMe disk's policy through sysfs (unbind, write
# the group type, rebind) for each cell, and refuses to, as policy set
# --rebind does, before unbinding anything, when the disk's storage is in
# use or the device shares its IOMMU group.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 20

share="$TEST_TMP/share"
mkdir -p "$share"
cat > "$share/host.ini" <<'INI'
[global]
policies = strict lazy identity
repetitions = 1
seed = 3

[rr]
type = fio
rw = randread
iodepth = 4
runtime = 2
INI

vm host --kernel debian:6.1 --share "$share" -- \
	iommubench run --target host --device 00:04.0 --results res host.ini
check "host mode in the guest runs the matrix (exit 0)" rc_is host 0
check "it says the kernel and iommu axes are this machine's" out_has host 'host mode:'
q() { sqlite3 "$share/res/index.sqlite" "$1"; }
check "three cells, all ok" test "$(q "select count(*) from cells where status = 'ok'")" = 3
check "each policy was switched through sysfs and read back" \
	test "$(q "select group_concat(policy || '=' || verified_type, ' ') from
		   (select policy, verified_type from cells order by policy)")" = \
	     "identity=identity lazy=DMA-FQ strict=DMA"
check "the mechanism is recorded as sysfs" \
	test "$(q "select group_concat(distinct mechanism) from cells")" = sysfs
check "the guest kernel is recorded as the host kernel" \
	test "$(q "select group_concat(distinct kernel_release) from cells")" != ""

# The disk gets two partitions: swap on one, then a filesystem on the
# other.  Each use must stop both policy set --rebind and the host-mode
# agent before anything is unbound.  The ICH9 functions at 00:1f share one
# IOMMU group: AHCI (00:1f.2) must be refused before its driver is
# unbound, which would show as a second AHCI probe in the kernel log.
vm refuse --kernel debian:6.1 --share "$share" --module ext4 --module ahci -- \
	'printf "n\np\n1\n\n+64M\nn\np\n2\n\n\nw\n" | fdisk /dev/nvme0n1 >/dev/null 2>&1
	 mkswap /dev/nvme0n1p2 >/dev/null && swapon /dev/nvme0n1p2 || echo "no swap"
	 iommubench policy set --device 00:04.0 --rebind identity
	 echo "swap set exit $?"
	 iommubench run --target host --device 00:04.0 --results res2 host.ini
	 echo "swap run exit $?"
	 swapoff /dev/nvme0n1p2
	 mke2fs -q /dev/nvme0n1p1 && mkdir -p /mnt && mount /dev/nvme0n1p1 /mnt ||
		echo "no mount"
	 iommubench policy set --device 00:04.0 --rebind identity
	 echo "mount set exit $?"
	 iommubench run --target host --device 00:04.0 --results res3 host.ini
	 echo "mount run exit $?"
	 d=/sys/bus/pci/devices/0000:00:04.0
	 echo "disk $(basename $(readlink $d/driver)) $(cat $d/iommu_group/type)"
	 iommubench policy set --device 00:1f.2 --rebind identity
	 echo "group set exit $?"
	 echo "ahci probes $(dmesg | grep -c "ahci 0000:00:1f.2: AHCI")"
	 iommubench policy set --device 00:04.0 --rebind --force identity
	 echo "force set exit $? $(cat $d/iommu_group/type)"'
check "the guest set up swap and a mounted filesystem on the disk" \
	sh -c "! grep -q '^no ' $TEST_TMP/refuse.out"
check "policy set --rebind refuses a disk with swap on a partition (exit 1)" \
	out_has refuse '^swap set exit 1$'
check "... naming the partition" \
	out_has refuse 'refusing to unbind 0000:00:04.0 from nvme: its storage is in use: nvme0n1p2 is active swap; --force overrides'
check "host mode refuses it too (exit 1)" out_has refuse '^swap run exit 1$'
check "... and the cells say why" \
	sh -c "grep -q 'its storage is in use: nvme0n1p2 is active swap' $share/res2/*/cells/*strict*.json"
check "policy set --rebind refuses a disk with a mounted partition (exit 1)" \
	out_has refuse '^mount set exit 1$'
check "... naming the partition and the mount point" \
	out_has refuse 'its storage is in use: nvme0n1p1 mounted on /mnt; --force overrides'
check "host mode refuses it too (exit 1)" out_has refuse '^mount run exit 1$'
check "... and the cells say why" \
	sh -c "grep -q 'its storage is in use: nvme0n1p1 mounted on /mnt' $share/res3/*/cells/*strict*.json"
check "the disk stayed bound, its policy untouched" \
	out_has refuse '^disk nvme DMA-FQ$'
check "a device sharing its IOMMU group is refused (exit 1)" \
	out_has refuse '^group set exit 1$'
check "... naming the other devices" \
	out_has refuse 'refusing to unbind 0000:00:1f.2 from ahci: IOMMU group [0-9]* also holds 0000:00:1f.0, 0000:00:1f.3'
check "... before its driver was unbound (AHCI probed once)" \
	out_has refuse '^ahci probes 1$'
check "--force unbinds a disk in use" out_has refuse '^force set exit 0 identity$'
finish

#!/bin/sh
# Host mode, exercised inside a VM (the guest is a machine with an IOMMU):
# the agent switches the NVMe disk's policy through sysfs (unbind, write
# the group type, rebind) for each cell, and refuses to when the disk
# backs a mounted filesystem.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 8

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

vm refuse --kernel debian:6.1 --share "$share" --module ext4 -- \
	'mke2fs -q /dev/nvme0n1 && mkdir -p /mnt && mount /dev/nvme0n1 /mnt &&
	 iommubench run --target host --device 00:04.0 --results res2 host.ini;
	 echo "run exit $?"'
check "a device that backs a mounted filesystem is not rebound (exit 1)" \
	out_has refuse '^run exit 1$'
check "the cells say why" \
	sh -c "grep -q 'refusing to rebind 0000:00:04.0: it backs mounted filesystems (nvme0n1 on /mnt)' $share/res2/*/cells/*strict*.json"
finish

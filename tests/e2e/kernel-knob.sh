#!/bin/sh
# The iommu.policy= series (kernel-patches/): the series of Debian's 6.1,
# 6.12 and 7.2 sources apply (always), and - with IB_CHECK_KERNEL=1, which
# 'make check-kernel' sets - the patched kernels are built with lockdep and
# KASAN (kernel-patches/configs/lockdep-kasan.config) and booted, row by
# row through the precedence table of kernel-patches/7.2's cover letter
# where QEMU can produce the case:
#   b1    NVMe lazy and pci-testdev strict in one boot (group types, the
#         iommu_dma_policy attribute, dmabench), edu on the global default,
#         a sysfs write and "auto" back to the entry;
#   t1    iommutrace: NVMe unmaps without IOTLB syncs, pci-testdev syncs;
#   b2    a lazy entry beating VT-d caching mode (the IOMMU driver's
#         preference for strict) and iommu.strict=1 ... iommu.strict=0
#         alike, a second iommu.policy= combined, two entries matching one
#         device, and a table of malformed entries, each logged with its
#         reason while the boot goes on and KASAN stays quiet;
#   b3    two functions of one multifunction device (one IOMMU group)
#         with conflicting entries: strict, logged;
#   drv   (6.12, 7.2) a VT-d without pass-through: the IOMMU driver
#         requires DMA for every device, entries for lazy and identity are
#         overridden and logged;
#   virtio (6.1) lazy refused where the IOMMU cannot flush a whole domain.
# Hot-plug, hot-unplug and untrusted devices: tests/e2e/kernel-hotplug.sh.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/knob-lib.sh"

# The numbered patches of series VER, as the series file lists them.
patches() {
	grep '^0' "$KP/$1/series"
}

# checkpatch_ok VER PATCH: checkpatch.pl --strict of linux-source-VER and
# (when 7.2 is among the kernels) of 7.2, the closest to what the IOMMU
# list runs, find nothing in PATCH.  The patch comes on stdin: given a
# path that git tracks in the current tree, checkpatch takes the file for
# a source file (git_is_single_file()) and reports every blank context
# line as trailing whitespace.
checkpatch_ok() {
	cps=$1
	case " $KERNELS " in
	*" 7.2 "*) [ "$1" = 7.2 ] || cps="$1 7.2" ;;
	esac
	for s in $cps; do
		"$IB_CACHE/src/linux-source-$s/scripts/checkpatch.pl" --strict \
			--no-tree -q - < "$KP/$1/$2" > "$TEST_TMP/cp.out" 2>&1 || {
			sed "s/^/# checkpatch $s: /" "$TEST_TMP/cp.out"
			return 1
		}
	done
}

# series_ok VER: the series names the numbered patches, not the cover letter
series_ok() {
	s="$KP/$1/series"
	[ -f "$KP/$1/0000-cover-letter.patch" ] &&
	! grep -q cover-letter "$s" &&
	[ "$(grep -c '^0' "$s")" = "$(ls "$KP/$1" | grep -c '^000[1-9].*\.patch$')" ]
}

# The malformed entries of b2, each with the reason the kernel gives.
MALFORMED='lazy@ 00:04.0|not [<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]*
fast@00:05.0|policy is not strict, lazy or identity
LAZY@00:05.0|policy is not strict, lazy or identity
identity00:06.0|no '"'"'@'"'"'
|empty entry
lazy@00:04|not [<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]*
lazy@0x0:04.0|not [<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]*
lazy@-1:04.0|not [<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]*
lazy@00:04.0x|not [<domain>:]<bus>:<dev>.<fn>[/<dev>.<fn>]*
lazy@100000000:05.0|number out of range
lazy@00:20.0|number out of range
lazy@00:05.8|number out of range
lazy@0000:100:05.0|number out of range
lazy@pci:1b36|not pci:<vendor>:<device>[:<subvendor>:<subdevice>]
lazy@pci:1b36:5:1|not pci:<vendor>:<device>[:<subvendor>:<subdevice>]
lazy@pci:0x1b36:5|not pci:<vendor>:<device>[:<subvendor>:<subdevice>]
lazy@pci:10000:5|number out of range
lazy@00:1c.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0/0.0|path too long
strict@0000:00:04.0|names the same device as an earlier entry'
NM=$(echo "$MALFORMED" | wc -l)
NP=$(for v in $KERNELS; do patches "$v"; done | wc -l)

if [ "${IB_CHECK_KERNEL:-0}" = 1 ]; then
	require_vm
	n=0
	for v in $KERNELS; do
		case $v in
		6.1) n=$((n + 2)) ;;	# virtio
		*) n=$((n + 4)) ;;	# drv
		esac
	done
	plan $((NK * 2 + NP + NK * (28 + NM) + n))
else
	[ "$(id -u)" = 0 ] || skip_all "fetching Debian's linux-source uses the private apt view (root)"
	plan $((NK * 2 + NP))
fi

for v in $KERNELS; do
	check "$v: the series file lists the numbered patches" series_ok "$v"
	"$IB" kernel build --source "debian:$v" --series "$KP/$v/series" \
		--check > "$TEST_TMP/apply-$v.out" 2>&1
	echo $? > "$TEST_TMP/apply-$v.rc"
	sed 's/^/# /' "$TEST_TMP/apply-$v.out" | tail -5
	check "$v: the series applies cleanly to Debian's linux-source-$v" \
		rc_is "apply-$v" 0
done
# after the loop above: 7.2's checkpatch is fetched with its source
for v in $KERNELS; do
	for p in $(patches "$v"); do
		check "$v: $p: checkpatch --strict is clean" checkpatch_ok "$v" "$p"
	done
done

[ "${IB_CHECK_KERNEL:-0}" = 1 ] || finish

# One guest command printing "name=value" lines the checks grep: each
# device's group type and attribute, then the kernel's iommu.policy lines.
show='for d in 04.0 05.0 06.0 08.0 08.1; do
	f=/sys/bus/pci/devices/0000:00:$d
	[ -e $f ] || continue
	echo type-$d=$(cat $f/iommu_group/type)
	echo attr-$d=$(cat $f/iommu_dma_policy)
done
dmesg | grep "iommu.policy" | sed "s/^\[[^]]*\] /dmesg: /"
'"
$SPLATS"

FIO="fio --name=r --filename=/dev/nvme0n1 --rw=randread --bs=4k --iodepth=16 --ioengine=libaio --direct=1 --runtime=2 --time_based --output=/dev/null"

# dev_count JSON BDF FUNC: calls of FUNC in the context of device BDF
# (iommutrace's "devices" array: one object per device, "calls" by function)
dev_count() {
	sed 's/{"device":"/\n&/g' "$1" 2>/dev/null | grep "^{\"device\":\"$2\"" |
		grep -o '"calls":{[^}]*}' | head -n 1 |
		grep -o "\"$3\":[0-9]*" | sed 's/.*://'
}

for v in $KERNELS; do
	knob_kernel "$v"

	# b1: NVMe lazy and pci-testdev strict in the same boot, named by
	# PCI ID; edu (not named) keeps the global default (lazy).  A write
	# of DMA-FQ to testdev's group type wins over the entry, "auto"
	# returns to it.  dmabench then sees testdev's domain as DMA.
	tg=/sys/bus/pci/devices/0000:00:05.0
	vm "b1-$v" --kernel "$K" --iommu intel --testdev --edu \
		--append 'iommu.policy=lazy@pci:1b36:0010;strict@pci:1b36:0005' -- \
		"$show; echo DMA-FQ > $tg/iommu_group/type; echo sysfs=\$(cat $tg/iommu_dma_policy); echo auto > $tg/iommu_group/type; echo auto=\$(cat $tg/iommu_dma_policy); dmabench --device 0000:00:05.0 --ops 2000 --json | grep -o '\"iommu_domain\": *\"[^\"]*\"'"
	check "$v b1: boot with the knob runs" rc_is "b1-$v" 0
	check "$v b1: NVMe group is DMA-FQ" line "b1-$v" 'type-04.0=DMA-FQ'
	check "$v b1: NVMe reads 'lazy iommu.policy'" line "b1-$v" 'attr-04.0=lazy iommu.policy'
	check "$v b1: pci-testdev group is DMA" line "b1-$v" 'type-05.0=DMA'
	check "$v b1: pci-testdev reads 'strict iommu.policy'" line "b1-$v" 'attr-05.0=strict iommu.policy'
	check "$v b1: edu keeps the global default (lazy default)" line "b1-$v" 'attr-06.0=lazy default'
	check "$v b1: the kernel logs each entry it applies" \
		sh -c "grep -q 'dmesg: .*0000:00:04.0: iommu.policy: lazy for group' $TEST_TMP/b1-$v.out &&
		       grep -q 'dmesg: .*0000:00:05.0: iommu.policy: strict for group' $TEST_TMP/b1-$v.out"
	check "$v b1: DMA-FQ written to the group type reads 'lazy sysfs'" line "b1-$v" 'sysfs=lazy sysfs'
	check "$v b1: 'auto' returns to the entry" line "b1-$v" 'auto=strict iommu.policy'
	check "$v b1: dmabench maps pci-testdev through a DMA (strict) domain" \
		grep -q '"iommu_domain": *"DMA"' "$TEST_TMP/b1-$v.out"
	check "$v b1: no lockdep or KASAN report" line "b1-$v" 'splats=0'

	# t1: iommutrace's per-device counts.  Strict syncs the IOTLB in
	# every unmap, lazy leaves it to the flush queue.  fio runs for a
	# time, not a count: 2380-5656 NVMe unmaps on an idle host, 561 at
	# a load average of 12, so more than 100 is what is asked of it.
	if [ -x "$top_builddir/iommutrace" ]; then
		mkdir -p "$TEST_TMP/share"
		vm "t1-$v" --kernel "$K" --iommu intel --testdev \
			--share "$TEST_TMP/share" \
			--append 'iommu.policy=lazy@00:04.0;strict@00:05.0' -- \
			"iommutrace --json /shared/t1-$v.json -- sh -c '$FIO; dmabench --device 0000:00:05.0 --ops 3000 -q'"
		j="$TEST_TMP/share/t1-$v.json"
		u4=$(dev_count "$j" 0000:00:04.0 __iommu_dma_unmap)
		s4=$(dev_count "$j" 0000:00:04.0 intel_iommu_tlb_sync)
		u5=$(dev_count "$j" 0000:00:05.0 __iommu_dma_unmap)
		s5=$(dev_count "$j" 0000:00:05.0 intel_iommu_tlb_sync)
		echo "# iommutrace: NVMe $u4 unmaps $s4 syncs; pci-testdev $u5 unmaps $s5 syncs"
		check "$v t1: iommutrace runs in the knob boot" rc_is "t1-$v" 0
		check "$v t1: NVMe (lazy) unmaps without a single IOTLB sync" \
			sh -c "[ '${u4:-0}' -gt 100 ] && [ '$s4' = 0 ]"
		check "$v t1: pci-testdev (strict) syncs in every unmap" \
			sh -c "[ '${u5:-0}' -ge 3000 ] && [ '$s5' = '$u5' ]"
	else
		for n in 1 2 3; do
			skip "$v t1: iommutrace is not built (configure --disable-bpf)"
		done
	fi

	# b2: caching mode makes the IOMMU driver prefer strict
	# (iommu_set_dma_strict()), over iommu.strict=0: pci-testdev, without
	# an entry, is strict; NVMe's lazy entry wins over that preference.
	# A second iommu.policy= is combined with the first (edu identity),
	# NVMe's second entry (by ID) is reported and the first applies, and
	# every malformed entry is logged with its reason.
	param=$(echo "$MALFORMED" | { IFS='|'; while read -r e r; do printf '%s;' "$e"; done; })
	vm "b2-$v" --kernel "$K" --iommu intel-cm --testdev --edu \
		--append "iommu.strict=0 iommu.policy=\"lazy@00:04.0;${param}strict@pci:1b36:0010\" iommu.policy=identity@pci:1234:11e8" -- "$show"
	check "$v b2: boot with malformed entries runs to COMMAND" rc_is "b2-$v" 0
	check "$v b2: caching mode: NVMe's lazy entry wins (lazy iommu.policy)" \
		line "b2-$v" 'attr-04.0=lazy iommu.policy'
	check "$v b2: caching mode: pci-testdev without an entry is strict (strict default)" \
		line "b2-$v" 'attr-05.0=strict default'
	check "$v b2: a second iommu.policy= is reported" has "b2-$v" 'iommu.policy: given more than once, the entries are combined'
	check "$v b2: ... and combined: edu identity through pci:<vendor>:<device>" \
		line "b2-$v" 'attr-06.0=identity iommu.policy'
	check "$v b2: two entries matching NVMe: reported, the first applies" \
		has "b2-$v" "0000:00:04.0: iommu.policy: entries 1 and $((NM + 2)) both match, using entry 1"
	i=1
	echo "$MALFORMED" | while IFS='|' read -r e r; do
		i=$((i + 1))
		echo "ignoring entry $i \"$e\": $r"
	done > "$TEST_TMP/b2-$v.want"
	while read -r w; do
		check "$v b2: logged: $w" has "b2-$v" "iommu.policy: $w"
	done < "$TEST_TMP/b2-$v.want"
	check "$v b2: no lockdep or KASAN report" line "b2-$v" 'splats=0'

	# b3: two functions of one multifunction device share an IOMMU group;
	# their entries differ, so the group is strict and says why.
	vm "b3-$v" --kernel "$K" --iommu intel \
		--qemu-arg -device --qemu-arg pci-testdev,addr=08.0,multifunction=on \
		--qemu-arg -device --qemu-arg pci-testdev,addr=08.1,multifunction=on \
		--append 'iommu.policy=lazy@00:08.0;identity@00:08.1' -- \
		"$show; echo group-08.0=\$(basename \$(readlink /sys/bus/pci/devices/0000:00:08.0/iommu_group)) group-08.1=\$(basename \$(readlink /sys/bus/pci/devices/0000:00:08.1/iommu_group))"
	check "$v b3: boot with two functions of one device runs" rc_is "b3-$v" 0
	check "$v b3: both functions are in one IOMMU group" \
		sh -c "grep -x 'group-08.0=\([0-9]*\) group-08.1=\1' $TEST_TMP/b3-$v.out"
	check "$v b3: the group is strict (DMA)" line "b3-$v" 'type-08.0=DMA'
	check "$v b3: both read 'strict conflict'" \
		sh -c "grep -qx 'attr-08.0=strict conflict' $TEST_TMP/b3-$v.out &&
		       grep -qx 'attr-08.1=strict conflict' $TEST_TMP/b3-$v.out"
	check "$v b3: the conflict is logged" \
		has "b3-$v" '0000:00:08.1: iommu.policy: identity not applied, 0000:00:08.0 in the same group asks for lazy; using strict'
	check "$v b3: no lockdep or KASAN report" line "b3-$v" 'splats=0'

	case $v in
	6.1)
		# 6.1's virtio-iommu cannot flush a whole domain: lazy is
		# refused, the group is strict and says so.
		vm "virtio-$v" --kernel "$K" --iommu virtio \
			--append 'iommu.policy=lazy@00:04.0' -- "$show"
		check "$v virtio-iommu: lazy is refused with a message" \
			has "virtio-$v" 'iommu.policy: lazy not applied, the IOMMU of group'
		check "$v virtio-iommu: NVMe reads 'strict refused'" \
			line "virtio-$v" 'attr-04.0=strict refused'
		;;
	*)
		# drv: a VT-d without pass-through support makes the Intel
		# driver require DMA for every device (def_domain_type): the
		# entries for lazy and identity are overridden, and logged.
		vm "drv-$v" --kernel "$K" --iommu intel --testdev \
			--qemu-arg -global --qemu-arg intel-iommu.pt=off \
			--append 'iommu.policy=lazy@00:04.0;identity@00:05.0' -- "$show"
		check "$v drv: boot on a VT-d without pass-through runs" rc_is "drv-$v" 0
		check "$v drv: NVMe reads 'strict driver'" line "drv-$v" 'attr-04.0=strict driver'
		check "$v drv: pci-testdev reads 'strict driver'" line "drv-$v" 'attr-05.0=strict driver'
		check "$v drv: the overridden entries are logged" \
			sh -c "grep -q '0000:00:04.0: iommu.policy: lazy not applied, the IOMMU driver requires strict' $TEST_TMP/drv-$v.out &&
			       grep -q '0000:00:05.0: iommu.policy: identity not applied, the IOMMU driver requires strict' $TEST_TMP/drv-$v.out"
		;;
	esac
done
finish

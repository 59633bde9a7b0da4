#!/bin/sh
# The iommu.policy= series (kernel-patches/): it applies to Debian's 6.1
# and 6.12 sources (always), and - with IB_CHECK_KERNEL=1, which
# 'make check-kernel' sets - the patched kernels are built and booted:
# NVMe lazy and pci-testdev strict in one boot (group types, the
# iommu_dma_policy attribute, dmabench), the knob beating iommu.strict=1
# and the caching-mode downgrade, malformed entries dropped with a message
# while the boot goes on, a hot-plugged device getting its entry, and (6.1)
# lazy refused on virtio-iommu.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

KP="$top_srcdir/kernel-patches"
# IB_KERNELS narrows the run, e.g. to one kernel while developing.
KERNELS=${IB_KERNELS:-6.1 6.12}
NK=$(echo $KERNELS | wc -w)

# series_ok VER: the series names the numbered patches, not the cover letter
series_ok() {
	s="$KP/$1/series"
	[ -f "$KP/$1/0000-cover-letter.patch" ] &&
	! grep -q cover-letter "$s" &&
	[ "$(grep -c '^0' "$s")" = "$(ls "$KP/$1" | grep -c '^000[1-9].*\.patch$')" ]
}

if [ "${IB_CHECK_KERNEL:-0}" = 1 ]; then
	require_vm
	case " $KERNELS " in *" 6.1 "*) virtio=2 ;; *) virtio=0 ;; esac
	plan $((NK * 2 + NK * 17 + virtio))
else
	[ "$(id -u)" = 0 ] || skip_all "fetching Debian's linux-source uses the private apt view (root)"
	plan $((NK * 2))
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

[ "${IB_CHECK_KERNEL:-0}" = 1 ] || finish

pol() {
	cat "/sys/bus/pci/devices/$1/iommu_dma_policy"
}

# One guest command printing "name=value" lines the checks grep.
show='for d in 04 05 06; do
	f=/sys/bus/pci/devices/0000:00:$d.0
	[ -e $f ] || continue
	echo type-$d=$(cat $f/iommu_group/type)
	echo attr-$d=$(cat $f/iommu_dma_policy)
done
dmesg | grep "iommu.policy" | sed "s/^\[[^]]*\] /dmesg: /"'

line() {
	grep -qx -- "$2" "$TEST_TMP/$1.out"
}

FIO="fio --name=r --filename=/dev/nvme0n1 --rw=randread --bs=4k --iodepth=16 --ioengine=libaio --direct=1 --runtime=2 --time_based --output=/dev/null"

# dev_count JSON BDF FUNC: calls of FUNC in the context of device BDF
# (iommutrace's "devices" array: one object per device, "calls" by function)
dev_count() {
	sed 's/{"device":"/\n&/g' "$1" 2>/dev/null | grep "^{\"device\":\"$2\"" |
		grep -o '"calls":{[^}]*}' | head -n 1 |
		grep -o "\"$3\":[0-9]*" | sed 's/.*://'
}

count_is() {
	[ "$(grep -c -- "$2" "$TEST_TMP/$1.out")" = "$3" ]
}

for v in $KERNELS; do
	if [ "${IB_KNOB_PREBUILT:-0}" = 1 ]; then
		# use the knob-<version> kernel as it is (while developing)
		"$IB" kernel path "knob-$v" > "$TEST_TMP/build-$v.out" 2> "$TEST_TMP/build-$v.err"
	else
		"$IB" kernel build --source "debian:$v" --series "$KP/$v/series" \
			--name "knob-$v" > "$TEST_TMP/build-$v.out" 2> "$TEST_TMP/build-$v.err"
	fi
	echo $? > "$TEST_TMP/build-$v.rc"
	sed 's/^/# /' "$TEST_TMP/build-$v.err" | tail -5
	check "$v: the patched kernel builds" rc_is "build-$v" 0
	K=$(cat "$TEST_TMP/build-$v.out")
	[ -d "$K" ] || bail "no kernel directory for $v"

	# NVMe lazy and pci-testdev strict in the same boot; edu (not named)
	# keeps the global default; dmabench sees testdev's domain as DMA.
	vm "b1-$v" --kernel "$K" --iommu intel --testdev --edu \
		--append 'iommu.policy=lazy@00:04.0;strict@00:05.0' -- \
		"$show; dmabench --device 0000:00:05.0 --ops 2000 --json | grep -o '\"iommu_domain\": *\"[^\"]*\"'"
	check "$v: boot with the knob runs" rc_is "b1-$v" 0
	check "$v: NVMe group is DMA-FQ, from iommu.policy" \
		sh -c "grep -qx 'type-04=DMA-FQ' $TEST_TMP/b1-$v.out &&
		       grep -qx 'attr-04=lazy iommu.policy' $TEST_TMP/b1-$v.out"
	check "$v: pci-testdev group is DMA, from iommu.policy" \
		sh -c "grep -qx 'type-05=DMA' $TEST_TMP/b1-$v.out &&
		       grep -qx 'attr-05=strict iommu.policy' $TEST_TMP/b1-$v.out"
	check "$v: edu keeps the default (lazy default)" line "b1-$v" 'attr-06=lazy default'
	check "$v: dmabench maps pci-testdev through a DMA (strict) domain" \
		grep -q '"iommu_domain": *"DMA"' "$TEST_TMP/b1-$v.out"

	# The third view: iommutrace's per-device counts.  Strict syncs the
	# IOTLB in every unmap, lazy leaves it to the flush queue.
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
		check "$v: iommutrace runs in the knob boot" rc_is "t1-$v" 0
		check "$v: iommutrace: NVMe (lazy) unmaps without a single IOTLB sync" \
			sh -c "[ '${u4:-0}' -gt 1000 ] && [ '$s4' = 0 ]"
		check "$v: iommutrace: pci-testdev (strict) syncs in every unmap" \
			sh -c "[ '${u5:-0}' -ge 3000 ] && [ '$s5' = '$u5' ]"
	else
		for n in 1 2 3; do
			skip "$v: iommutrace is not built (configure --disable-bpf)"
		done
	fi

	# The knob beats iommu.strict=1 and the caching-mode downgrade;
	# malformed entries are dropped with a message, the rest applies.
	vm "b2-$v" --kernel "$K" --iommu intel-cm --testdev --edu \
		--append 'iommu.strict=1 iommu.policy=fast@00:04.0;lazy@00:04;identity00:06.0;lazy@00:04.0;identity@pci:1234:11e8' -- "$show"
	check "$v: boot with malformed entries runs to COMMAND" rc_is "b2-$v" 0
	check "$v: three malformed entries are each reported" \
		count_is "b2-$v" 'ignoring malformed entry' 3
	check "$v: NVMe lazy despite iommu.strict=1 and caching mode" \
		line "b2-$v" 'attr-04=lazy iommu.policy'
	check "$v: edu identity through pci:<vendor>:<device>" \
		line "b2-$v" 'attr-06=identity iommu.policy'
	check "$v: pci-testdev strict by default" line "b2-$v" 'attr-05=strict default'

	# A device hot-plugged behind a PCIe root port gets its entry.
	sock="$TEST_TMP/qmp-$v.sock"
	"$IB" vm run --run-dir "$TEST_TMP/hot-$v.run" --kernel "$K" --iommu intel \
		--append 'iommu.policy=strict@pci:1b36:0005' \
		--qemu-arg -device --qemu-arg pcie-root-port,id=rp1,bus=pcie.0,addr=08.0,chassis=1 \
		--qemu-arg -qmp --qemu-arg "unix:$sock,server=on,wait=off" -- \
		'echo waiting; i=0; while [ ! -e /sys/bus/pci/devices/0000:01:00.0/iommu_dma_policy ] && [ $i -lt 150 ]; do sleep 1; i=$((i+1)); done; sleep 1; echo hot-type=$(cat /sys/bus/pci/devices/0000:01:00.0/iommu_group/type); echo hot-attr=$(cat /sys/bus/pci/devices/0000:01:00.0/iommu_dma_policy); echo attr-04=$(cat /sys/bus/pci/devices/0000:00:04.0/iommu_dma_policy)' \
		> "$TEST_TMP/hot-$v.out" 2> "$TEST_TMP/hot-$v.err" &
	pid=$!
	i=0
	while ! grep -q waiting "$TEST_TMP/hot-$v.out" 2>/dev/null && [ $i -lt 300 ] &&
	      kill -0 $pid 2>/dev/null; do
		sleep 1
		i=$((i + 1))
	done
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "qmp: $!\n";
		sub reply { while (my $l = <$s>) { return $l if $l =~ /"(return|error)"/ } }
		<$s>;
		print $s qq({"execute":"qmp_capabilities"}\n); reply();
		print $s qq({"execute":"device_add","arguments":{"driver":"pci-testdev","bus":"rp1","id":"hot0"}}\n);
		my $r = reply(); print "# qmp: $r"; exit($r =~ /"return"/ ? 0 : 1);' "$sock"
	echo $? > "$TEST_TMP/hot-qmp-$v.rc"
	wait $pid
	echo $? > "$TEST_TMP/hot-$v.rc"
	sed 's/^/# out: /' "$TEST_TMP/hot-$v.out"
	sed 's/^/# err: /' "$TEST_TMP/hot-$v.err" | tail -5
	check "$v: QMP device_add of pci-testdev is accepted" rc_is "hot-qmp-$v" 0
	check "$v: the hot-plugged pci-testdev is strict, from iommu.policy" \
		sh -c "grep -qx 'hot-type=DMA' $TEST_TMP/hot-$v.out &&
		       grep -qx 'hot-attr=strict iommu.policy' $TEST_TMP/hot-$v.out"
	check "$v: NVMe in the same boot keeps the default (lazy)" \
		line "hot-$v" 'attr-04=lazy default'
done

[ "$virtio" = 2 ] || finish

# 6.1's virtio-iommu cannot flush a whole domain: lazy is refused.
vm virtio --kernel "$(cat "$TEST_TMP/build-6.1.out")" --iommu virtio \
	--append 'iommu.policy=lazy@00:04.0' -- "$show"
check "6.1 virtio-iommu: lazy is refused with a message" \
	grep -q 'lazy refused' "$TEST_TMP/virtio.out"
check "6.1 virtio-iommu: NVMe falls back to strict" \
	line virtio 'attr-04=strict iommu.policy'
finish

#!/bin/sh
# iommutrace in the VM, Debian 6.1 and 6.12, fio 4k random reads on NVMe:
# the same binary (one BPF object) loads on both kernels with fentry, and
# what it counts matches what each policy must do:
#  - strict (DMA): every DMA unmap is followed by the driver's iotlb_sync,
#    so IOTLB syncs ~= unmaps, and no flush-queue flush happens;
#  - lazy (DMA-FQ): no iotlb_sync, the flush queue flushes the whole
#    domain (timer every 10 ms or queue full), and the exposure window
#    (unmap -> covering flush) is in the millisecond range;
#  - identity: no translation, no IOMMU unmap at all.
# In each run the tracefs reader wraps the BPF tracer which wraps fio, so
# both see the same workload: BPF's __iommu_unmap calls and tracefs'
# iommu:unmap events (fired once per __iommu_unmap) must agree.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
[ -x "$top_builddir/iommutrace" ] || skip_all "iommutrace is not built (configure --disable-bpf)"
plan 40

share="$TEST_TMP/share"
mkdir -p "$share"
FIO="fio --name=r --filename=/dev/nvme0n1 --rw=randread --bs=4k --iodepth=16 --ioengine=libaio --direct=1 --runtime=2 --time_based --output=/dev/null"

# trace NAME KERNEL IOMMU POLICY: the nested run, JSON in $share/NAME.*.json
trace() {
	vm "$1" --kernel "$2" --iommu "$3" --policy "$4" --share "$share" -- \
		"iommutrace --tracefs --json -o /shared/$1.tf.json -- iommutrace --json -o /shared/$1.bpf.json -- $FIO"
}

# num NAME SRC REGEX-KEY: first integer after "KEY":{"calls": or "count":
calls() {
	grep -o "\"$3\":{\"calls\":[0-9]*" "$share/$1.$2.json" | head -n 1 |
		sed 's/.*://'
}
tf_count() {
	grep -o "\"$2\":{\"count\":[0-9]*" "$share/$1.tf.json" | head -n 1 |
		sed 's/.*://'
}
lazy_p50() {
	grep -o '"lazy":{[^}]*' "$share/$1.bpf.json" | grep -o '"p50":[0-9.]*' |
		sed 's/.*://'
}

# about A B: |A - B| <= 2% of max(A, B) + 20
about() {
	echo "# $3: $1 ~ $2?"
	[ -n "$1" ] && [ -n "$2" ] &&
		awk "BEGIN { d = $1 - $2; if (d < 0) d = -d; m = $1 > $2 ? $1 : $2;
			     exit !(d <= 0.02 * m + 20) }"
}
at_least() {
	echo "# $3: $1 >= $2?"
	[ -n "$1" ] && awk "BEGIN { exit !($1 >= $2) }"
}
at_most() {
	echo "# $3: $1 <= $2?"
	[ -n "$1" ] && awk "BEGIN { exit !($1 <= $2) }"
}
in_ms_range() {
	echo "# exposure p50: $1 ns"
	[ -n "$1" ] && awk "BEGIN { exit !($1 >= 1e5 && $1 <= 1e8) }"
}
fentry() {
	grep -q "\"function\":\"$2\",\"path\":\"[a-z_]*\",\"status\":\"attached\",\"mechanism\":\"fentry\"" \
		"$share/$1.bpf.json"
}

common() {
	check "$1: vm run exits 0 (fio's status through both tracers)" rc_is "$1" 0
	check "$1: __iommu_dma_unmap attached with fentry" fentry "$1" __iommu_dma_unmap
	if [ "$2" != identity ]; then
		check "$1: BPF __iommu_unmap calls ~ tracefs iommu:unmap events" \
			about "$(calls "$1" bpf __iommu_unmap)" "$(tf_count "$1" iommu:unmap)" "$1"
	fi
}

strict() {
	trace "$1" "$2" "$3" strict
	common "$1" strict
	u=$(calls "$1" bpf dma_unmap)
	check "$1: fio's I/O was traced (>= 500 DMA unmaps)" at_least "$u" 500 "$1 unmaps"
	check "$1: IOTLB syncs ~ DMA unmaps" about "$(calls "$1" bpf iotlb_sync)" "$u" "$1"
	check "$1: no flush-queue flush" at_most "$(calls "$1" bpf fq_flush)" 0 "$1 fq_flush"
}

lazy() {
	trace "$1" "$2" "$3" lazy
	common "$1" lazy
	u=$(calls "$1" bpf dma_unmap)
	check "$1: fio's I/O was traced (>= 500 DMA unmaps)" at_least "$u" 500 "$1 unmaps"
	check "$1: IOTLB syncs ~ 0 (<= 1% of unmaps)" \
		at_most "$(calls "$1" bpf iotlb_sync)" "$((u / 100))" "$1 syncs"
	check "$1: flush-alls > 0" at_least "$(calls "$1" bpf flush_all)" 1 "$1 flush_all"
	check "$1: exposure window median in the ms range (0.1 ms .. 100 ms)" \
		in_ms_range "$(lazy_p50 "$1")"
}

strict 61-intel-strict debian:6.1 intel
lazy 61-intel-lazy debian:6.1 intel

trace 61-intel-identity debian:6.1 intel identity
common 61-intel-identity identity
check "61-intel-identity: no DMA-API IOMMU unmap" \
	at_most "$(calls 61-intel-identity bpf dma_unmap)" 0 "unmaps"
check "61-intel-identity: no iommu:unmap event" \
	at_most "$(tf_count 61-intel-identity iommu:unmap)" 0 "iommu:unmap"

strict 612-intel-strict debian:6.12 intel
lazy 612-intel-lazy debian:6.12 intel
lazy 612-virtio-lazy debian:6.12 virtio
check "612-virtio-lazy: viommu_flush_iotlb_all (module) attached with fentry" \
	fentry 612-virtio-lazy viommu_flush_iotlb_all

vm noiommu --kernel debian:6.12 --iommu none -- iommutrace -d 1
check "no IOMMU: exit status 3" rc_is noiommu 3
check "no IOMMU: the error says so" \
	sh -c "grep -q 'no IOMMU' $TEST_TMP/noiommu.out $TEST_TMP/noiommu.err"
finish

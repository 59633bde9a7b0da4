#!/bin/sh
# iommutrace in the VM, Debian 6.1, 6.12 and 7.2, fio 4k random reads on
# NVMe: the same binary (one BPF object) loads on every kernel, each path
# attaches to what that kernel has (bpf/iommutrace-probes.h), and what it
# counts matches what each policy must do:
#  - strict (DMA): every DMA unmap is followed by the driver's iotlb_sync,
#    so IOTLB syncs ~= unmaps, and no flush-queue flush happens;
#  - lazy (DMA-FQ): no iotlb_sync, the flush queue flushes the whole
#    domain (timer every 10 ms or queue full), and the exposure window
#    (unmap -> covering flush) is in the millisecond range, on 7.2 too,
#    where fq_flush_iotlb() is inlined and the driver's flush_iotlb_all
#    stands for it;
#  - identity: no translation, no IOMMU unmap at all.
# In each run the tracefs reader wraps the BPF tracer which wraps fio, so
# both see the same workload: BPF's __iommu_unmap calls and tracefs'
# iommu:unmap events (fired once per __iommu_unmap) must agree.
# Also: the fallback on 6.12 with fq_flush_iotlb hidden from the symbol
# table ($IOMMUTRACE_KALLSYMS), --list without an IOMMU, and a path named
# in --paths (or a matrix's tracer_paths) that cannot attach: reported,
# nothing traced, a failed cell with the reason.
#
# The 7.2 boots use Debian's debian:7.2 (fetched on first use, like the
# others), or the kernel IB_KERNEL_72 names (a spec or a directory).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
[ -x "$top_builddir/iommutrace" ] || skip_all "iommutrace is not built (configure --disable-bpf)"
plan 80

share="$TEST_TMP/share"
mkdir -p "$share"
FIO="fio --name=r --filename=/dev/nvme0n1 --rw=randread --bs=4k --iodepth=16 --ioengine=libaio --direct=1 --runtime=2 --time_based --output=/dev/null"

K72=${IB_KERNEL_72:-debian:7.2}

# trace NAME KERNEL IOMMU POLICY [EXTRA]: the nested run, JSON in
# $share/NAME.*.json; EXTRA runs after it in the same boot
trace() {
	vm "$1" --kernel "$2" --iommu "$3" --policy "$4" --share "$share" -- \
		"iommutrace --tracefs --json /shared/$1.tf.json -- iommutrace --json /shared/$1.bpf.json -- $FIO${5:+; $5}"
}

# calls NAME SRC KEY: first integer after "KEY":{"calls":
calls() {
	grep -o "\"$3\":{\"calls\":[0-9]*" "$share/$1.$2.json" | head -n 1 |
		sed 's/.*://'
}
tf_count() {
	grep -o "\"$2\":{\"count\":[0-9]*" "$share/$1.tf.json" | head -n 1 |
		sed 's/.*://'
}
lazy_p50() {
	grep -o '"lazy":{[^}]*' "$share/$1" | grep -o '"p50":[0-9.]*' |
		sed 's/.*://'
}
# fq_flushes FILE: timer-driven + queue-full flushes
fq_flushes() {
	grep -o '"fq_flush":{"timer":[0-9]*,"queue_full":[0-9]*' "$share/$1" |
		head -n 1 | sed 's/.*"timer":\([0-9]*\),"queue_full":\([0-9]*\)/\1 \2/' |
		awk '{ print $1 + $2 }'
}
# path_st FILE PATH: the path's path_status object
path_st() {
	grep -o "\"$2\":{\"status\":[^}]*" "$share/$1" | head -n 1
}
path_is() {
	echo "# $1 $2: $(path_st "$1" "$2")"
	path_st "$1" "$2" | grep -q "^\"$2\":{\"status\":\"$3\""
}
# via FILE PATH FUNCTION: PATH attached through a fallback, FUNCTION among them
via_fallback() {
	path_st "$1" "$2" | grep -q '"fallback":true,"functions":\[[^]]*"'"$3"'"'
}

# said NAME REGEX: the guest command's stdout or stderr has it
said() {
	grep -q -- "$2" "$TEST_TMP/$1.out" "$TEST_TMP/$1.err"
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
	grep -q "\"function\":\"$2\",\"path\":\"[a-z_]*\",\"chain\":[0-9]*,\"rank\":[0-9]*,\"role\":\"[a-z_]*\",\"status\":\"attached\",\"mechanism\":\"fentry\"" \
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

# lazy NAME KERNEL IOMMU [EXTRA]
lazy() {
	trace "$1" "$2" "$3" lazy "${4:-}"
	common "$1" lazy
	u=$(calls "$1" bpf dma_unmap)
	check "$1: fio's I/O was traced (>= 500 DMA unmaps)" at_least "$u" 500 "$1 unmaps"
	check "$1: IOTLB syncs ~ 0 (<= 1% of unmaps)" \
		at_most "$(calls "$1" bpf iotlb_sync)" "$((u / 100))" "$1 syncs"
	check "$1: flush-alls > 0" at_least "$(calls "$1" bpf flush_all)" 1 "$1 flush_all"
	check "$1: the fq_flush path attached" path_is "$1.bpf.json" fq_flush attached
	check "$1: flush-queue flushes counted (timer + queue full > 0)" \
		at_least "$(fq_flushes "$1.bpf.json")" 1 "$1 fq flushes"
	check "$1: exposure window median in the ms range (0.1 ms .. 100 ms)" \
		in_ms_range "$(lazy_p50 "$1.bpf.json")"
}

strict 61-intel-strict debian:6.1 intel
lazy 61-intel-lazy debian:6.1 intel

trace 61-intel-identity debian:6.1 intel identity
common 61-intel-identity identity
check "61-intel-identity: no DMA-API IOMMU unmap" \
	at_most "$(calls 61-intel-identity bpf dma_unmap)" 0 "unmaps"
check "61-intel-identity: no iommu:unmap event" \
	at_most "$(tf_count 61-intel-identity iommu:unmap)" 0 "iommu:unmap"

# 6.12 strict, and in the same boot a path named in --paths that cannot
# attach (qi_submit_sync hidden from the symbol table), alone and in a
# matrix cell run by the agent (host mode in the guest).
KS_NOQI="grep -v ' qi_submit_sync\$' /proc/kallsyms > /tmp/ks-noqi"
cat > "$share/noqi.ini" <<'INI'
[global]
policies = strict
repetitions = 1
tracer = on
tracer_paths = dma_unmap,qi_submit

[rr]
type = fio
rw = randread
iodepth = 4
runtime = 1
INI
strict 612-intel-strict debian:6.12 intel
vm 612-noqi --kernel debian:6.12 --iommu intel --policy strict --share "$share" -- \
	"$KS_NOQI; IOMMUTRACE_KALLSYMS=/tmp/ks-noqi iommutrace --json /shared/noqi.json --paths dma_unmap,qi_submit -- touch /shared/noqi.ran; echo rc=\$?;
	 IOMMUTRACE_KALLSYMS=/tmp/ks-noqi iommutrace --list --paths qi_submit > /shared/noqi.list; echo list-rc=\$?;
	 IOMMUTRACE_KALLSYMS=/tmp/ks-noqi iommubench run --target host --device 00:04.0 --results /shared/noqi-res /shared/noqi.ini; echo run-rc=\$?"
check "requested path missing: iommutrace exits 3" out_has 612-noqi '^rc=3$'
check "requested path missing: the workload did not run" test ! -e "$share/noqi.ran"
check "requested path missing: stderr names the path and why" \
	said 612-noqi 'path qi_submit missing: no candidate on this kernel: qi_submit_sync'
check "requested path missing: the JSON record carries the error" \
	grep -q '"error":"path qi_submit missing: ' "$share/noqi.json"
check "requested path missing: path_status says missing and requested" \
	grep -q '"qi_submit":{"status":"missing","requested":true' "$share/noqi.json"
check "requested path missing: --list --paths exits 3 too" out_has 612-noqi '^list-rc=3$'
check "requested path missing: --list says so" grep -q '^qi_submit: missing' "$share/noqi.list"
check "tracer_paths missing: the run reports a failed cell (exit != 0)" \
	sh -c "! grep -q '^run-rc=0\$' $TEST_TMP/612-noqi.out && grep -q '^run-rc=' $TEST_TMP/612-noqi.out"
check "tracer_paths missing: the cell failed with iommutrace's reason" \
	sh -c "grep -l '\"error\": *\"iommutrace (status 3): path qi_submit missing' $share/noqi-res/*/cells/*.json"
check "tracer_paths missing: the cell stores no trace metric" \
	sh -c "! grep -l '\"iommutrace\": *{' $share/noqi-res/*/cells/*.json"

# 6.12 lazy; in the same boot the fallback of 7.2 on 6.12: with
# fq_flush_iotlb hidden, the driver's flush_iotlb_all stands for it.
KS_NOFQ="grep -v ' fq_flush_iotlb\$' /proc/kallsyms > /tmp/ks-nofq"
lazy 612-intel-lazy debian:6.12 intel \
	"$KS_NOFQ; IOMMUTRACE_KALLSYMS=/tmp/ks-nofq iommutrace --json /shared/612-fb.json -- $FIO"
check "612 fq_flush_iotlb hidden: fq_flush attached through intel_flush_iotlb_all" \
	via_fallback 612-fb.json fq_flush intel_flush_iotlb_all
check "612 fq_flush_iotlb hidden: flush-queue flushes counted" \
	at_least "$(fq_flushes 612-fb.json)" 1 "fallback fq flushes"
check "612 fq_flush_iotlb hidden: exposure window median in the ms range" \
	in_ms_range "$(lazy_p50 612-fb.json)"

lazy 612-virtio-lazy debian:6.12 virtio
check "612-virtio-lazy: viommu_flush_iotlb_all (module) attached with fentry" \
	fentry 612-virtio-lazy viommu_flush_iotlb_all

# 7.2: fq_flush_iotlb inlined, maps by physical address
strict 72-intel-strict "$K72" intel
lazy 72-intel-lazy "$K72" intel
check "72-intel-lazy: fq_flush through intel_flush_iotlb_all (fq_flush_iotlb inlined)" \
	via_fallback 72-intel-lazy.bpf.json fq_flush intel_flush_iotlb_all
check "72-intel-lazy: dma_map through iommu_dma_map_phys" \
	via_fallback 72-intel-lazy.bpf.json dma_map iommu_dma_map_phys

# No IOMMU: tracing refuses, --list works and says what it would attach.
vm noiommu --kernel debian:6.12 --iommu none --share "$share" -- \
	"iommutrace -d 1; echo rc=\$?; iommutrace --list > /shared/noiommu.list; echo list-rc=\$?"
check "no IOMMU: exit status 3" out_has noiommu '^rc=3$'
check "no IOMMU: the error says so" said noiommu 'no IOMMU'
check "no IOMMU: --list exits 0" out_has noiommu '^list-rc=0$'
check "no IOMMU: --list names every path" \
	test "$(grep -cE '^[a-z_]+: (would attach|missing)' "$share/noiommu.list")" = 11
check "no IOMMU: --list shows fq_flush_iotlb chosen with fentry" \
	grep -q '^  + fq_flush_iotlb  *fentry' "$share/noiommu.list"
check "no IOMMU: --list shows a fallback not needed" \
	grep -q '^  \. intel_flush_iotlb_all  *not chosen' "$share/noiommu.list"
finish

#!/bin/sh
# iommutrace's command line, and what --list chooses for a kernel, without
# a VM: options on lib/opt.h (--help and --version exit 0, a bad word is
# named with the Try line, exit 2), and --list (no root, no IOMMU, no BPF
# needed) on the symbols of Debian's 7.2 (tests/fixtures/kallsyms-7.2.txt,
# read through $IOMMUTRACE_KALLSYMS): fq_flush_iotlb is inlined there, so
# the drivers' flush_iotlb_all stand for it; maps go by physical address.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

IT="$top_builddir/iommutrace"
[ -x "$IT" ] || skip_all "iommutrace is not built (configure --disable-bpf)"
plan 16

# run NAME ARGS...: iommutrace's stdout, stderr and status in $TEST_TMP/NAME.*
run() {
	name=$1
	shift
	"$IT" "$@" > "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	echo $? > "$TEST_TMP/$name.rc"
	sed 's/^/# err: /' "$TEST_TMP/$name.err" | head -5
}

run help --help
check "--help exits 0" rc_is help 0
check "--help prints the usage to stdout" out_has help '^usage: iommutrace'
run version --version
check "--version exits 0 and names the version" \
	sh -c "rc_is() { [ \"\$(cat $TEST_TMP/\$1.rc)\" = \$2 ]; }; rc_is version 0 && grep -q '^iommutrace [0-9]' $TEST_TMP/version.out"
run bogus --bogus
check "an unknown option exits 2" rc_is bogus 2
check "it is named, with the Try line" \
	sh -c "grep -q \"unknown option '--bogus'\" $TEST_TMP/bogus.err && grep -q \"Try 'iommutrace --help'.\" $TEST_TMP/bogus.err"
run badpath --paths dma_unmap,nope --list
check "an unknown path exits 2 and is named" \
	sh -c "[ \"\$(cat $TEST_TMP/badpath.rc)\" = 2 ] && grep -q \"'nope' is not a path\" $TEST_TMP/badpath.err"
run nodash fio
check "a command without -- exits 2 and is named" \
	sh -c "[ \"\$(cat $TEST_TMP/nodash.rc)\" = 2 ] && grep -q \"unexpected argument 'fio'\" $TEST_TMP/nodash.err"

IOMMUTRACE_KALLSYMS="$top_srcdir/tests/fixtures/kallsyms-7.2.txt"
export IOMMUTRACE_KALLSYMS
run list72 --list
sed 's/^/# /' "$TEST_TMP/list72.out" | grep -E '^# [a-z_]+: |^#   [+.-]' | head -60
check "7.2 --list exits 0" rc_is list72 0
check "7.2: fq_flush would attach through a fallback" \
	out_has list72 '^fq_flush: would attach (fallback)$'
check "7.2: fq_flush_iotlb is missing, intel_flush_iotlb_all stands for it" \
	sh -c "grep -q '^  - fq_flush_iotlb  *missing' $TEST_TMP/list72.out &&
	       grep -q '^  + intel_flush_iotlb_all  *[a-z]*  *fallback: fq_flush_iotlb missing' $TEST_TMP/list72.out"
check "7.2: dma_map through iommu_dma_map_phys" \
	sh -c "grep -q '^  + iommu_dma_map_phys ' $TEST_TMP/list72.out &&
	       grep -q '^  - iommu_dma_map_page ' $TEST_TMP/list72.out"
check "7.2: the IOVA-API unmap is a dma_unmap chain" out_has list72 '^  + __iommu_dma_iova_unlink '
check "7.2: intel_iommu_tlb_sync chosen, cache_tag_flush_range not needed" \
	sh -c "grep -q '^  + intel_iommu_tlb_sync ' $TEST_TMP/list72.out &&
	       grep -q '^  \. cache_tag_flush_range  *not chosen' $TEST_TMP/list72.out"
run needs --list --paths fq_flush
check "--paths fq_flush: its fallback's needs are attached with it" \
	sh -c "grep -q '^fq_flush_timeout: would attach (needed by a selected path)' $TEST_TMP/needs.out &&
	       grep -q '^dma_unmap: would attach (needed by a selected path)' $TEST_TMP/needs.out &&
	       grep -q '^qi_submit: not selected' $TEST_TMP/needs.out"
grep -v ' qi_submit_sync$' "$IOMMUTRACE_KALLSYMS" > "$TEST_TMP/noqi.txt"
IOMMUTRACE_KALLSYMS="$TEST_TMP/noqi.txt" run noqi --list --paths qi_submit,dma_unmap
check "a named path that cannot attach: --list exits 3" rc_is noqi 3
check "and says which, and why" \
	err_has noqi 'path qi_submit missing: no candidate on this kernel: qi_submit_sync'
finish

# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the end-to-end tests: TAP output and VM runs.
# Each test sources this file, calls plan N, then ok/not_ok per check.

set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
PATH="$top_builddir:$PATH"
export PATH

IB="$top_builddir/iommubench"
# iommubench's cache directory, as cache_dir() (lib/util.c) finds it
IB_CACHE=${IOMMUBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/iommubench}
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ib-e2e.XXXXXX")
trap 'rm -rf "$TEST_TMP"' EXIT

_tap_n=0
_tap_failed=0

plan() {
	echo "1..$1"
}

# check DESCRIPTION COMMAND...: one TAP line from COMMAND's exit status.
check() {
	desc=$1
	shift
	_tap_n=$((_tap_n + 1))
	if "$@"; then
		echo "ok $_tap_n - $desc"
	else
		echo "not ok $_tap_n - $desc"
		_tap_failed=$((_tap_failed + 1))
	fi
}

# skip REASON: a check that cannot run here, reported as skipped.
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # SKIP $*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail() {
	echo "Bail out! $*"
	exit 1
}

# A machine that cannot run the VM tests at all: say so, do not fail.
require_vm() {
	command -v qemu-system-x86_64 >/dev/null ||
		skip_all "qemu-system-x86_64 is not installed (scripts/setup installs it)"
	[ "$(id -u)" = 0 ] || skip_all "the VM tests need root (9p share, module staging)"
}

# vm OUT_PREFIX ARGS...: run 'iommubench vm run ARGS'; stdout to
# $TEST_TMP/OUT.out, stderr to OUT.err, status to OUT.rc.  The output is
# echoed as TAP comments so a failing test's log shows what happened.
vm() {
	name=$1
	shift
	"$IB" vm run --run-dir "$TEST_TMP/$name.run" "$@" \
		> "$TEST_TMP/$name.out" 2> "$TEST_TMP/$name.err"
	rc=$?
	echo $rc > "$TEST_TMP/$name.rc"
	sed 's/^/# out: /' "$TEST_TMP/$name.out" | head -40
	sed 's/^/# err: /' "$TEST_TMP/$name.err" | head -40
	echo "# status: $(cat "$TEST_TMP/$name.rc")"
}

rc_is() {
	[ "$(cat "$TEST_TMP/$1.rc")" = "$2" ]
}

out_is() {
	[ "$(cat "$TEST_TMP/$1.out")" = "$2" ]
}

out_has() {
	grep -q -- "$2" "$TEST_TMP/$1.out"
}

err_has() {
	grep -q -- "$2" "$TEST_TMP/$1.err"
}

# record NAME KEY: a top-level string or number from the run's vm.json.
record() {
	sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" \
		"$TEST_TMP/$1.run/vm.json"
}

DUT_TYPE="cat /sys/bus/pci/devices/0000:00:04.0/iommu_group/type"

# policy_cases KERNEL IOMMU: strict, lazy and identity, each read back
# from inside the guest and verified by the suite (3 x 2 checks).
policy_cases() {
	for p in strict:DMA lazy:DMA-FQ identity:identity; do
		pol=${p%%:*}
		type=${p#*:}
		vm "$1-$2-$pol" --kernel "$1" --iommu "$2" --policy "$pol" -- "$DUT_TYPE"
		check "$1 $2 $pol: vm run exits 0" rc_is "$1-$2-$pol" 0
		check "$1 $2 $pol: the disk's group reads $type" out_is "$1-$2-$pol" "$type"
	done
}

# A failing test keeps its VM runs (serial logs, vm.json) beside its log,
# in tests/e2e/<test>.failed/, for whoever reads the failure later.
finish() {
	if [ "$_tap_failed" -ne 0 ]; then
		keep="$top_builddir/tests/e2e/$(basename "$0" .sh).failed"
		rm -rf "$keep"
		mkdir -p "$keep"
		for d in "$TEST_TMP"/*.run; do
			[ -d "$d" ] && cp -r "$d" "$keep/"
			rm -f "$keep/$(basename "$d")/initramfs.cpio"
		done
		echo "# VM runs kept in $keep"
	fi
	[ "$_tap_failed" -eq 0 ]
	exit $?
}

#!/bin/sh
# Command-line errors are refused before anything boots or is built.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

plan 11

usage() {
	"$IB" vm run "$@" > /dev/null 2> "$TEST_TMP/err"
	echo $? > "$TEST_TMP/rc"
	sed 's/^/# /' "$TEST_TMP/err"
}

usage --iommu sparc -- true
check "unknown --iommu: usage error (2)" test "$(cat "$TEST_TMP/rc")" = 2
check "and the message lists the choices" grep -q "'sparc' is not one of none, intel, intel-cm, amd, virtio" "$TEST_TMP/err"
usage --policy sloppy -- true
check "unknown --policy: usage error" test "$(cat "$TEST_TMP/rc")" = 2
usage --cpus 0 -- true
check "--cpus 0: usage error" test "$(cat "$TEST_TMP/rc")" = 2
usage --mem 12 -- true
check "--mem below 256: usage error" test "$(cat "$TEST_TMP/rc")" = 2
usage --policy lazy
check "no COMMAND: usage error" test "$(cat "$TEST_TMP/rc")" = 2
usage --dut edu -- true
check "--dut edu without --edu: usage error" test "$(cat "$TEST_TMP/rc")" = 2
usage --share /nonexistent -- true
check "--share of a missing directory: usage error" test "$(cat "$TEST_TMP/rc")" = 2
usage --kernel no-such-kernel -- true
check "an unknown kernel fails before booting (125)" test "$(cat "$TEST_TMP/rc")" = 125

"$IB" kernel build --source "$TEST_TMP/nosuch" --jobs abc > /dev/null 2> "$TEST_TMP/err"
echo $? > "$TEST_TMP/rc"
sed 's/^/# /' "$TEST_TMP/err"
check "kernel build --jobs abc: usage error (2)" test "$(cat "$TEST_TMP/rc")" = 2
check "and the message names the option and the word" grep -q -- "--jobs: 'abc' is not a whole number" "$TEST_TMP/err"
finish

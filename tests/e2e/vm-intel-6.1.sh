#!/bin/sh
# Debian 6.1 behind an emulated VT-d: the three policies read back, the
# issue's own acceptance command, the shared directory and exit status.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 13

policy_cases debian:6.1 intel

vm glob --kernel debian:6.1 --iommu intel --policy lazy -- \
	cat /sys/kernel/iommu_groups/*/type
check "the group glob expands in the guest and shows DMA-FQ" out_has glob '^DMA-FQ$'
check "the suite reports the verified policy" err_has glob 'policy lazy verified: 0000:00:04.0'

share="$TEST_TMP/share"
mkdir -p "$share"
vm share --kernel debian:6.1 --share "$share" -- \
	'uname -r > release.txt; echo to-stdout; exit 7'
check "COMMAND's exit status comes back (7)" rc_is share 7
check "COMMAND's output is streamed" out_is share to-stdout
check "a file written in /shared is on the host" \
	grep -q '^6\.1\.' "$share/release.txt"
check "the run record holds the boot time and the outcome" \
	sh -c "grep -q '\"boot_to_command_ms\": [0-9]' $TEST_TMP/share.run/vm.json &&
	       grep -q '\"outcome\": \"ok\"' $TEST_TMP/share.run/vm.json"
check "without --policy nothing is verified or claimed" \
	sh -c "grep -q '\"policy_verified\": null' $TEST_TMP/share.run/vm.json"
finish

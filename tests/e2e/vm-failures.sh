#!/bin/sh
# The caller never hangs: a hung guest is killed by the watchdog, a
# panicking guest and a failing QEMU end the run with their own status,
# and the logs stay behind.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 10

start=$(date +%s)
vm hang --kernel debian:6.1 --timeout 40 -- sleep 1000
took=$(( $(date +%s) - start ))
check "a hung COMMAND is killed by the watchdog (124)" rc_is hang 124
check "within the timeout and a grace period (${took} s)" test "$took" -lt 70
check "the message says where it hung" err_has hang 'in COMMAND (watchdog)'
check "the serial log is kept" test -s "$TEST_TMP/hang.run/serial.log"

vm panic --kernel debian:6.1 -- 'echo c > /proc/sysrq-trigger'
check "a guest panic ends the run with 123" rc_is panic 123
check "the panic is reported from the serial log" err_has panic 'guest kernel panicked while COMMAND ran'
check "the run is recorded as a panic" \
	sh -c "grep -q '\"outcome\": \"panic\"' $TEST_TMP/panic.run/vm.json"

vm qemu --kernel debian:6.1 --qemu-arg -no-such-option -- true
check "a QEMU that cannot start the machine ends the run with 125" rc_is qemu 125
check "and its own error is shown" err_has qemu 'qemu exited'

vm testdev --kernel debian:6.1 --disk none --testdev --policy strict -- 'cat /sys/bus/pci/devices/0000:00:05.0/iommu_group/type'
check "pci-testdev can be the device under test" out_is testdev DMA
finish

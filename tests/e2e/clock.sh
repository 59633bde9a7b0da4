#!/bin/sh
# The icount clock: guest time follows executed instructions, so two boots
# measure the same dmabench medians whatever the host's load; the clock is
# recorded in vm.json, the manifest, every cell and the index.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

require_vm
plan 15

DB='dmabench -q -d 0000:00:05.0 -T 0.2 --json'
for i in 1 2; do
	vm "ic$i" --kernel debian:6.1 --clock icount --disk none --testdev \
		--policy strict -- "$DB"
done
# p50 of the unmap latency, from dmabench's JSON
p50() {
	grep -o '"unmap":{[^}]*"p50":[0-9.]*' "$TEST_TMP/$1.out" |
		sed 's/.*"p50"://'
}
a=$(p50 ic1)
b=$(p50 ic2)
echo "# unmap p50: $a ns and $b ns"
check "two icount boots run dmabench (exit 0)" sh -c \
	"[ \$(cat $TEST_TMP/ic1.rc) = 0 ] && [ \$(cat $TEST_TMP/ic2.rc) = 0 ]"
check "their unmap medians agree within 0.1 % ($a, $b)" awk -v a="$a" -v b="$b" \
	'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d / a < 0.001) }'
check "QEMU ran with -icount shift=0,sleep=off,align=off on one vCPU" sh -c \
	"grep -q -- '-icount shift=0,sleep=off,align=off' $TEST_TMP/ic1.run/qemu.cmdline &&
	 grep -q -- '-smp 1 ' $TEST_TMP/ic1.run/qemu.cmdline"
check "vm.json records the clock" grep -q '"clock": "icount:0"' "$TEST_TMP/ic1.run/vm.json"

"$IB" vm run --clock icount --cpus 2 -- true > /dev/null 2> "$TEST_TMP/smp.err"
check "icount with two vCPUs is refused (2), naming the reason" sh -c \
	"[ $? = 2 ] && grep -q 'one vCPU only' $TEST_TMP/smp.err"
"$IB" vm run --clock icount:99 -- true > /dev/null 2> "$TEST_TMP/bad.err"
check "a bad --clock is a usage error naming it" sh -c \
	"[ $? = 2 ] && grep -q \"'icount:99'\" $TEST_TMP/bad.err"

# --- a matrix on the icount clock ------------------------------------------
R="$TEST_TMP/results"
cat > "$TEST_TMP/ic.ini" <<'INI'
[global]
kernels = debian:6.1
policies = strict
repetitions = 1
clock = icount
seed = 3

[db]
type = dmabench
args = --duration 0.2
INI
"$IB" run --results "$R" "$TEST_TMP/ic.ini" > "$TEST_TMP/run.out" 2> "$TEST_TMP/run.err"
rc=$?
sed 's/^/# /' "$TEST_TMP/run.err" | tail -5
run=$(ls -d "$R"/*-ic 2>/dev/null | head -1)
check "a matrix with clock = icount runs (exit 0)" test $rc = 0
check "the manifest records the clock and one vCPU" sh -c \
	"grep -q '\"clock\": \"icount:0\"' $run/manifest.json &&
	 grep -q '\"cpus\": 1' $run/manifest.json"
check "every cell records it" sh -c \
	"[ \$(grep -l '\"clock\": \"icount:0\"' $run/cells/*.json | wc -l) = 1 ]"
check "and the index" test "$(sqlite3 "$R/index.sqlite" \
	"select group_concat(distinct clock) from cells")" = icount:0
check "run --clock host overrides the matrix" sh -c \
	"'$IB' run --dry-run --clock host $TEST_TMP/ic.ini > /dev/null"
printf '[global]\npolicies = strict\ncpus = 2\nclock = icount\n[db]\ntype = dmabench\nargs = -n 10\n' \
	> "$TEST_TMP/smp.ini"
"$IB" run --dry-run "$TEST_TMP/smp.ini" > /dev/null 2> "$TEST_TMP/smpm.err"
check "a matrix with cpus = 2 on icount is refused, naming the line" sh -c \
	"[ $? = 2 ] && grep -q 'smp.ini:3: cpus = 2 with clock = icount' $TEST_TMP/smpm.err"

# --- the guest's clocksource stays the TSC -------------------------------------
# On a loaded host the clocksource watchdog marked the TSC unstable in the
# middle of runs, moving the guest's clock to HPET (docs/vm-target.md):
# every boot carries tsc=reliable, and a switch after init is warned about
# and recorded.  The switch here is made by hand, as a user's could be.
CS=/sys/devices/system/clocksource/clocksource0/current_clocksource
vm cs --disk none -- "cat $CS; echo hpet > $CS; sleep 1"
check "every boot carries tsc=reliable, and the guest's clocksource is the TSC" sh -c \
	"grep -q 'tsc=reliable' $TEST_TMP/cs.run/qemu.cmdline && grep -qx tsc $TEST_TMP/cs.out"
check "a switch of clocksource after init is warned about, and in vm.json" sh -c \
	"grep -q 'switched to clocksource hpet while it ran' $TEST_TMP/cs.err &&
	 grep -q '\"clocksource_switched_to\": \"hpet\"' $TEST_TMP/cs.run/vm.json"
check "a boot without a switch records none" \
	grep -q '"clocksource_switched_to": null' "$TEST_TMP/ic1.run/vm.json"
finish
